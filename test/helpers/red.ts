import type { RunningNode } from '../../src/main.js';
import { addContact } from '../../src/modules/directory/directory.service.js';
import { publishDirectory } from '../../src/modules/directory/directory.publish.js';
import { delivered } from './cases.js';

/**
 * `publisher` publishes, in its directory, that these users (which it holds) may receive TLP:RED
 * on `channel` (a contact linked to each), and the directory-update is delivered to `reader`:
 * from then on `reader` may send TLP:RED to them (else `unknown_recipient`).
 */
export async function publishRedRecipients(publisher: RunningNode, reader: RunningNode, channel: string, users: readonly string[]): Promise<void> {
  for (const user of users) await addContact(publisher.ctx, { channel, function: 'Officer (TLP:RED recipient)', name: user, user });
  const r = await publishDirectory(publisher.ctx);
  const sent = r.sent.find((s) => s.to === reader.ctx.self.party);
  if (sent === undefined) throw new Error(`the directory was not sent to ${reader.ctx.self.party}: ${JSON.stringify(r.failed)}`);
  await delivered(publisher, sent.id);
}
