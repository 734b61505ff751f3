import type { MessageHook } from '../federation/federation.hooks.js';
import { checkRedRecipients } from '../messaging/messaging.visibility.js';

/**
 * TLP:RED names its recipients. Refuses, inbound and outbound, a red envelope whose
 * `body.recipients` is missing, empty or not a list of user names (`tlp_red_needs_recipients`),
 * so that whatever path writes a message (send, reply, templates, import) cannot store a red
 * message nobody is named to read. docs/protocol.md section 5.6.
 */
export const tlpRedHook: MessageHook = {
  name: 'tlp-red',
  check(_trx, env) {
    checkRedRecipients(env.tlp, env.body);
    return Promise.resolve();
  },
};
