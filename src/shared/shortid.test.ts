import { describe, expect, it } from 'vitest';
import { HotlineError } from './errors.js';
import { idInput, resolveId, shortIds } from './shortid.js';

const A = '01a2467f-3b2c-7000-8000-000000000001';
const B = '01a2467f-3b2c-7000-8000-000000000002';
const C = '01b00000-0000-7000-8000-000000000003';
const ids = [A, B, C];
const lookup = async (p: string, limit: number): Promise<string[]> => ids.filter((i) => i.startsWith(p)).slice(0, limit);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof HotlineError ? e.code : 'not a HotlineError';
  }
  return 'no error';
}

describe('short ids', () => {
  it('resolves a unique prefix of 8 or more characters, in any case', async () => {
    expect(await resolveId('01B00000', 'message', lookup)).toBe(C);
    expect(await resolveId(A, 'message', lookup)).toBe(A);
  });

  it('refuses a prefix shorter than 8 characters or not hex, naming what it expected', () => {
    expect(() => idInput('01a246', 'a message')).toThrow(/at least its first 8 characters/);
    expect(() => idInput('zzzzzzzzz', 'a message')).toThrow(HotlineError);
  });

  it('an ambiguous prefix is ambiguous_id listing the candidates; none is not_found', async () => {
    await expect(resolveId('01a2467f', 'message', lookup)).rejects.toThrow(new RegExp(`${A}.*${B}`));
    expect(await codeOf(resolveId('01a2467f', 'message', lookup))).toBe('ambiguous_id');
    expect(await codeOf(resolveId('ffffffff', 'message', lookup))).toBe('not_found');
  });

  it('shows each id by its shortest unique prefix of at least 8 characters, never ending on a dash', () => {
    const s = shortIds(ids);
    expect(s.get(C)).toBe('01b00000');
    expect(s.get(A)).toBe(A);
    expect(shortIds(['01a2467f-aaaa', '01a2467f-bbbb']).get('01a2467f-aaaa')).toBe('01a2467f-a');
    for (const [id, short] of s) expect(ids.filter((i) => i.startsWith(short))).toEqual([id]);
  });
});
