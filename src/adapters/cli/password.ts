/**
 * Reading a password for `hotline user passwd` and `user add --password-stdin`: on a terminal, a
 * prompt without echo, asked twice; otherwise the first line of standard input (a script, a pipe).
 */
import { fail } from '../../shared/errors.js';

async function firstLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if ((c as Buffer).includes(10)) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line === '') fail('invalid_argument', 'No password on standard input: give it as one line, e.g. printf "%s\\n" "$PASSWORD" | hotline user passwd NAME');
  return line;
}

/** Asks on the terminal without echoing what is typed. */
async function ask(prompt: string): Promise<string> {
  const { createInterface } = await import('node:readline');
  const { Writable } = await import('node:stream');
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      rl.question(prompt, (a) => resolve(a));
      muted = true;
    });
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

/** The new password, from the terminal (twice, must match) or from standard input's first line. */
export async function readNewPassword(forUser: string): Promise<string> {
  if (process.stdin.isTTY !== true) return firstLine();
  const a = await ask(`New console password for ${forUser} (at least 12 characters): `);
  const b = await ask('The same again: ');
  if (a !== b) fail('invalid_argument', 'The two passwords differ; nothing was changed. Run the command again');
  return a;
}
