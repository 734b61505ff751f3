import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';

/**
 * A node home holds its key, its admin token, its store and what it exports: only the account
 * that runs the node reads them. The home and the directories in it are 0700, files 0600.
 */
export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/** Creates `dir` (and its parents) if needed and makes it 0700. */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  chmodSync(dir, PRIVATE_DIR);
}

/**
 * Makes existing files 0600 and creates (empty) the first one if it is missing, so that what
 * opens it next (SQLite, which gives its -wal and -shm files the database file's mode) starts
 * private. Files that do not exist are skipped.
 */
export function makePrivateFiles(create: string, ...others: string[]): void {
  if (!existsSync(create)) closeSync(openSync(create, 'a', PRIVATE_FILE));
  for (const f of [create, ...others]) if (existsSync(f)) chmodSync(f, PRIVATE_FILE);
}

/**
 * Closes a home that an older version, a restore or a hand-made copy left open: the directory
 * back to 0700 and each of `files` that exists to 0600, when group or others had any access. What
 * another account opens (it cannot chmod what is not its own) is left as it is.
 */
export function closeHome(home: string, files: readonly string[]): void {
  const close = (path: string, mode: number): void => {
    try {
      if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, mode);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EPERM' && code !== 'EACCES') throw e;
    }
  };
  close(home, PRIVATE_DIR);
  for (const f of files) close(f, PRIVATE_FILE);
}
