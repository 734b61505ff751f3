/**
 * The alerts module's table, as Kysely sees it: the alert sinks an administrator added with
 * `hotline sink add` (migration 0014_sinks). Reached only through alerts.sinks.ts.
 */
export interface SinksTable {
  /** What a person calls it (`hotline sink test NAME`); unique. */
  name: string;
  /** webhook | email */
  type: string;
  /** The webhook's URL or the e-mail address. */
  target: string;
  /** A webhook's signing secret, `whsec_<base64>` (Standard Webhooks); never shown or logged. */
  secret: string | null;
  /** standard (Standard Webhooks JSON) | slack ({"text"} for Slack, Mattermost, Rocket.Chat) | email */
  format: string;
  created_at: number;
}

/** A type alias, not an interface, so that it fits Kysely's `withTables<T>()` constraint. */
export type AlertsTables = {
  sinks: SinksTable;
};
