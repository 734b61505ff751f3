import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/** docs/alerts.schema.json, compiled once (strict: a schema mistake fails here). */
const SCHEMA = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'alerts.schema.json'), 'utf8')) as object;
const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormatsModule.default(ajv);
const validate = ajv.compile(SCHEMA);

/** What is wrong with a webhook payload by docs/alerts.schema.json (`<path> <message>` each); [] when it fits. */
export function alertSchemaErrors(payload: unknown): string[] {
  return validate(payload) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}
