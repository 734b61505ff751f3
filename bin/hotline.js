#!/usr/bin/env node
import { run } from '../dist/src/adapters/cli/main.js';

process.exitCode = await run(process.argv.slice(2), process.env);
