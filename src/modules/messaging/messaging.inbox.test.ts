import { afterEach, expect, it } from 'vitest';
import { describeEachStore } from '../../../test/helpers/pg.js';
import type { Store } from '../../adapters/storage/schema.js';
import type { MessagesTable } from '../federation/federation.tables.js';
import type { Principal } from '../users/users.types.js';
import { listMessages, type InboxQuery } from './messaging.inbox.js';

const T0 = Date.UTC(2026, 11, 5);

function message(i: number, over: Partial<MessagesTable> & { text?: string } = {}): MessagesTable {
  const { text, ...rest } = over;
  const id = `019aef00-0000-7000-8000-${String(i).padStart(12, '0')}`;
  return {
    id, direction: 'in', from_party: 'us', to_party: 'ru', seq: i, hash: 'h', kind: 'notification', channel: 'crisis', case_id: id,
    in_reply_to: null, priority: 'routine', tlp: 'green', sent_at: new Date(T0 + i).toISOString(), envelope: JSON.stringify({ body: { text: text ?? `message ${i}` } }),
    stored_at: T0 + Math.floor(i / 2), receipt: null, receipted_at: null, ...rest,
  };
}

const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.destroy()));
});

describeEachStore('the inbox', (open) => {
  async function filled(): Promise<Store> {
    const db = await open();
    stores.push(db);
    await db.insertInto('messages').values([
      ...Array.from({ length: 9 }, (_, i) => message(i + 1)),
      message(10, { priority: 'flash', text: 'Grid operator under attack' }),
      message(11, { channel: 'law', text: 'Preserve the grid logs' }),
      message(12, { direction: 'out', from_party: 'ru', to_party: 'us', kind: 'response', in_reply_to: message(10).id, text: 'Mitigating the grid attack' }),
      message(13, { tlp: 'red', text: 'Grid mole', envelope: JSON.stringify({ body: { text: 'Grid mole', recipients: ['alice'] } }) }),
    ]).execute();
    return db;
  }
  const read = (db: Store, q: Partial<InboxQuery>): Promise<string[]> => listMessages(db, T0 + 1000, { direction: 'in', lang: 'en', ...q }).then((p) => p.messages.map((m) => m.id.slice(-2)));

  it('lists newest first (stored time, then id) and pages with the cursor: every message once', async () => {
    const db = await filled();
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await listMessages(db, T0 + 1000, { direction: 'in', lang: 'en', limit: 4, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.messages.map((m) => m.id.slice(-2)));
      if (page.next === null) break;
      cursor = page.next;
    }
    expect(seen).toEqual(['13', '11', '10', '09', '08', '07', '06', '05', '04', '03', '02', '01']);
  });

  it('filters, answered, and a search that never matches a TLP:RED body its reader may not read', async () => {
    const db = await filled();
    expect(await read(db, { priority: 'flash' })).toEqual(['10']);
    expect(await read(db, { channel: 'law' })).toEqual(['11']);
    expect(await read(db, { state: 'answered' })).toEqual(['10']);
    expect(await read(db, { search: 'GRID' })).toEqual(['13', '11', '10']);
    expect(await read(db, { search: 'grid', direction: 'out' })).toEqual(['12']);
    const bob: Principal = { user: 'bob', role: 'officer', channels: ['crisis'] };
    expect(await read(db, { search: 'grid', as: bob })).toEqual(['10']);
    expect(await read(db, { search: 'mole', as: { ...bob, user: 'alice' } })).toEqual(['13']);
    expect(await read(db, { search: 'grid', limit: 1, as: bob })).toEqual(['10']);
  });
});
