import { HotlineError, type ErrorCode } from '../../shared/errors.js';

/** Exit codes: 0 ok, 1 the operation failed, 2 bad usage (arguments, config, home), 130 stopped by Ctrl-C (128 + SIGINT, as shells report it). */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'invalid_argument', 'config_invalid', 'home_missing', 'home_exists', 'unknown_kind', 'unknown_channel',
  'unknown_priority', 'unknown_tlp', 'body_too_large', 'carriage_invalid',
  'tlp_red_needs_recipients',
  'template_mismatch',
  'unknown_preset', 'feed_mapping',
  'reserved_kind',
  'ambiguous_id',
  'fingerprint_required',
  // a console password shorter than the minimum (hotline user passwd / add --password-stdin)
  'password_too_short',
]);

export function exitCodeFor(e: unknown): number {
  if (e instanceof HotlineError && e.code === 'interrupted') return EXIT.interrupted;
  return e instanceof HotlineError && USAGE_CODES.has(e.code) ? EXIT.usage : EXIT.failure;
}

/** Where a command writes: human text by default, one JSON document with --json. */
export interface Output {
  json: boolean;
  print(human: string | (() => string), value: unknown): void;
}

export function output(json: boolean, write: (s: string) => void = (s) => process.stdout.write(s)): Output {
  return {
    json,
    print(human, value) {
      write(json ? `${JSON.stringify(value, null, 2)}\n` : `${typeof human === 'function' ? human() : human}\n`);
    },
  };
}

/** A plain text table with a header row; columns sized to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '(none)';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function describeError(e: unknown): string {
  if (e instanceof HotlineError) return `error [${e.code}]: ${e.message}`;
  return `error: ${e instanceof Error ? e.message : String(e)}`;
}
