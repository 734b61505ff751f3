import type { Kysely, Migration } from 'kysely';

/**
 * The console's sign-in (issue 11, modules/users: users.passwords.ts, users.sessions.ts,
 * users.totp.ts): a user's password hash (scrypt, with its parameters and salt) and TOTP secret;
 * the sessions (only the SHA-256 of a session id is stored); the sign-in throttle (failures and
 * locks per user name and per source address).
 */
export const migration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('users').addColumn('password_hash', 'text').execute();
    await db.schema.alterTable('users').addColumn('password_set_at', 'bigint').execute();
    await db.schema.alterTable('users').addColumn('totp_secret', 'text').execute();
    await db.schema.alterTable('users').addColumn('totp_pending', 'text').execute();
    await db.schema.alterTable('users').addColumn('totp_last_step', 'bigint').execute();
    await db.schema.createTable('sessions')
      .addColumn('id_sha256', 'text', (c) => c.primaryKey())
      .addColumn('user_name', 'text', (c) => c.notNull().references('users.name'))
      .addColumn('csrf_token', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('address', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sessions_user').on('sessions').column('user_name').execute();
    await db.schema.createTable('signin_throttle')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('failures', 'integer', (c) => c.notNull())
      .addColumn('first_at', 'bigint', (c) => c.notNull())
      .addColumn('locked_until', 'bigint')
      .execute();
  },
};
