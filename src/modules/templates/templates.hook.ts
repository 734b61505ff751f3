import type { MessageHook } from '../federation/federation.hooks.js';
import { templateCatalog, validateBody } from './templates.service.js';
import type { TemplateCatalog } from './templates.types.js';

/**
 * Checks every message's body against its kind's template, both ways: an outbound message that
 * does not fit is not queued (the send fails with `template_mismatch`), an inbound one is refused
 * with `template_mismatch` and nothing is stored. Writes nothing.
 */
export function templatesHook(catalog: TemplateCatalog = templateCatalog()): MessageHook {
  return {
    name: 'templates',
    check(_trx, env) {
      validateBody(env.kind, env.body, catalog);
      return Promise.resolve();
    },
  };
}
