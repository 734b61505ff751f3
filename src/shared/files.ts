import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';

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
