// `node --import ./register.mjs ...`: records every module the process loads in $HOTLINE_LOAD_TRACE.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url, { data: { out: process.env.HOTLINE_LOAD_TRACE } });
