import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import type { Client as PgClient } from 'pg';
import type { Notice } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import { noticeChannel } from './postgres.js';
import type { PostgresLocation } from './store.js';

const requireCjs = createRequire(import.meta.url);

/** How long to wait before connecting again after the LISTEN connection was lost (ms). */
const RECONNECT_MS = 1_000;

export interface NoticeListener {
  /** Resolves once the first LISTEN is in place: a notice sent after it is heard. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Listens for the store's notices (LISTEN on its channel, postgres.ts noticeChannel) on a connection
 * of its own, outside the pool: live events for the consoles and wake-ups for the background work
 * sent by every process of the node (issue 13). A lost connection (a server restart, a failover) is
 * made again every second; since notices sent meanwhile are lost, `onConnected` is told after every
 * (re)connection so the caller looks for work at once.
 */
export function listenNotices(location: PostgresLocation, handlers: {
  onNotice: (n: Notice) => void;
  onConnected?: () => void;
  log: Logger;
}): NoticeListener {
  const { Client } = requireCjs('pg') as typeof import('pg');
  const channel = noticeChannel(location);
  let client: PgClient | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((r) => { resolveReady = r; });

  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new Client({
      connectionString: location.url,
      ...(location.passwordFile === null ? {} : { password: readFileSync(location.passwordFile, 'utf8').split(/\r?\n/)[0] ?? '' }),
    });
    client = c;
    const lost = (e?: unknown): void => {
      if (client !== c) return;
      client = undefined;
      c.removeAllListeners('notification');
      c.end().catch(() => {});
      if (closed) return;
      handlers.log.warn({ err: e }, 'lost the connection that listens for the other processes\' notices; connecting again');
      timer = setTimeout(() => { void connect(); }, RECONNECT_MS);
    };
    c.on('error', lost);
    c.on('end', () => lost());
    c.on('notification', (m) => {
      if (m.channel !== channel || m.payload === undefined) return;
      let n: Notice;
      try {
        n = JSON.parse(m.payload) as Notice;
      } catch {
        return;
      }
      try {
        handlers.onNotice(n);
      } catch (e) {
        handlers.log.error({ err: e }, 'a notice could not be handled');
      }
    });
    try {
      await c.connect();
      await c.query(`listen "${channel}"`);
    } catch (e) {
      lost(e);
      return;
    }
    resolveReady();
    handlers.onConnected?.();
  };
  void connect();
  return {
    ready,
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      const c = client;
      client = undefined;
      resolveReady();
      await c?.end().catch(() => {});
    },
  };
}
