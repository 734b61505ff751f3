import { describe, expect, it } from 'vitest';
import { HotlineError } from './errors.js';
import { idInput, prefixBounds, resolveId, resolveUuid, shortIds, shortIdsAmong } from './shortid.js';

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

  it('a prefix is a range on the primary key: every id that starts with it, nothing else', () => {
    const { lo, hi } = prefixBounds('01a2467f');
    const all = [...ids, '01a2467e-ffff-7000-8000-000000000000', '01a24680-0000-7000-8000-000000000000'];
    expect(all.filter((i) => i >= lo && i < hi).sort()).toEqual([A, B]);
  });

  it('a whole UUID is taken as it is, without asking the store', async () => {
    let asked = 0;
    const counting = async (p: string, n: number): Promise<string[]> => {
      asked++;
      return lookup(p, n);
    };
    expect(await resolveUuid(` ${C.toUpperCase()} `, 'message', counting)).toBe(C);
    expect(asked).toBe(0);
    expect(await resolveUuid('01b00000', 'message', counting)).toBe(C);
    expect(asked).toBe(1);
  });

  it('a listing\'s short ids are unique among the table\'s ids, not only the listing\'s', async () => {
    const neighbours = async (id: string): Promise<string[]> => ids.filter((i) => i !== id);
    // Listed alone, A would show as 8 characters, which B shares.
    expect(shortIds([A]).get(A)).toBe('01a2467f');
    const s = await shortIdsAmong([A], neighbours);
    expect([...s.keys()]).toEqual([A]);
    expect(ids.filter((i) => i.startsWith(s.get(A)!))).toEqual([A]);
  });
});
