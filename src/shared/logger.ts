import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** A structured JSON logger; modules receive a child with `{ module }` bound. */
export function createLogger(opts: { level?: string; party?: string; destination?: DestinationStream } = {}): Logger {
  const base = opts.party === undefined ? {} : { party: opts.party };
  return pino({ level: opts.level ?? 'info', base, timestamp: pino.stdTimeFunctions.isoTime }, opts.destination);
}

export const silentLogger: Logger = pino({ level: 'silent' });
