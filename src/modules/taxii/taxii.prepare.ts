import { canonicalTlpMarking, tlpOf } from '../stix/stix.tlp.js';
import { validateObject } from '../stix/stix.validate.js';
import type { Tlp } from '../federation/federation.types.js';
import type { Incoming, StatusDetail } from './taxii.store.js';
import { stricter } from './taxii.visibility.js';

// Its own file so that taxii.service.ts (opened by every CLI verb) does not load the STIX validator.
/**
 * Splits objects into the valid (with the TLP the node will enforce: the most restrictive of the
 * object's own TLP marking, the collection's default when it has none, and `floor`) and failures
 * with their reasons (TAXII status-details). `offset`: the index of `values[0]` in the envelope, for
 * the `objects[i]` that names a failure without an id.
 */
export function prepare(values: readonly unknown[], defaultTlp: Tlp, floor: Tlp = 'clear', offset = 0): { valid: Incoming[]; failures: StatusDetail[] } {
  const valid: Incoming[] = [];
  const failures: StatusDetail[] = [];
  values.forEach((value, i) => {
    const v = validateObject(value);
    if (!v.ok) {
      const o = value as { id?: unknown; modified?: unknown; created?: unknown };
      const version = typeof o?.modified === 'string' ? o.modified : typeof o?.created === 'string' ? o.created : 'unknown';
      failures.push({
        id: v.id ?? `objects[${offset + i}]`, version,
        message: v.problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('; '),
      });
      return;
    }
    const o = v.object;
    const own = canonicalTlpMarking(o.id) !== undefined ? 'clear' : tlpOf(o);
    valid.push({ object: o, text: JSON.stringify(o), tlp: stricter(own ?? defaultTlp, floor) });
  });
  return { valid, failures };
}
