import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HotlineError } from '../../shared/errors.js';
import { defaultPresetsDir, presetCatalog, readPresets, resolveLayout, type Layout } from './feeds.presets.js';
import { FEED_FIELDS, type FeedField } from './feeds.types.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A copy of presets/ with `edit` applied to one file (or a file removed with `null`). */
function brokenCopy(file: string, edit: ((j: Record<string, unknown>) => unknown) | string | null): string {
  const dir = mkdtempSync(join(tmpdir(), 'hotline-presets-'));
  dirs.push(dir);
  cpSync(defaultPresetsDir(), dir, { recursive: true });
  const full = join(dir, file);
  if (edit === null) rmSync(full);
  else if (typeof edit === 'string') writeFileSync(full, edit);
  else writeFileSync(full, JSON.stringify(edit(JSON.parse(readFileSync(full, 'utf8')) as Record<string, unknown>)));
  return dir;
}

function error(fn: () => unknown): HotlineError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HotlineError);
    return e as HotlineError;
  }
  throw new Error('expected an error');
}

function column(l: Layout, f: FeedField): string | null {
  const i = l.index[FEED_FIELDS.indexOf(f)] ?? -1;
  return i < 0 ? null : (l.header[i] ?? null);
}

const SHADOWSERVER = ['timestamp', 'ip', 'port', 'asn', 'geo', 'region', 'city', 'hostname', 'type', 'infection', 'agent', 'cc', 'cc_port', 'protocol', 'tag'];
const SHADOWSERVER_NEW = ['timestamp', 'protocol', 'src_ip', 'src_port', 'src_asn', 'src_geo', 'src_region', 'src_city', 'src_hostname', 'dst_ip', 'dst_port', 'infection', 'family', 'tag'];
const FEODO = ['first_seen_utc', 'dst_ip', 'dst_port', 'c2_status', 'last_online', 'malware'];
const FEODO_OLD = ['Firstseen', 'DstIP', 'DstPort', 'LastOnline', 'Malware'];

describe('presets/', () => {
  it('loads and checks every preset file once', () => {
    const c = presetCatalog();
    expect(presetCatalog()).toBe(c);
    expect([...c.presets.keys()]).toEqual(['feodo-c2', 'generic', 'shadowserver-infected']);
    for (const p of c.presets.values()) {
      expect(p.description.length).toBeGreaterThan(20);
      expect(p.required).toContain('ip');
    }
  });

  const broken: [string, string, ((j: Record<string, unknown>) => unknown) | string | null, RegExp][] = [
    ['not JSON', 'feodo-c2.json', '{"name": ', /feodo-c2\.json: is not valid JSON/],
    ['an unknown member', 'feodo-c2.json', (j) => ({ ...j, colums: {} }), /feodo-c2\.json: colums: is not a known member; use name, description/],
    ['a name other than the file', 'feodo-c2.json', (j) => ({ ...j, name: 'feodo' }), /feodo-c2\.json: name: must equal the file's name \(feodo-c2\)/],
    ['no description', 'generic.json', (j) => ({ ...j, description: ' ' }), /generic\.json: description: must be a non-empty string/],
    ['a bad type', 'feodo-c2.json', (j) => ({ ...j, type: { const: 'c2' } }), /feodo-c2\.json: type\.const: must be one of infected-host, c2-server, other/],
    ['a bad type map', 'generic.json', (j) => ({ ...j, type: { column: ['type'], map: { c2: 'server' } } }), /generic\.json: type\.map\.c2: must be one of/],
    ['a type given as a column', 'generic.json', (j) => ({ ...j, columns: { ...(j.columns as object), type: ['type'] } }), /generic\.json: columns\.type: is not a known member/],
    ['an empty column list', 'generic.json', (j) => ({ ...j, columns: { ...(j.columns as object), port: [] } }), /generic\.json: columns\.port: must be a list of at least one non-empty string/],
    ['a required field without columns', 'feodo-c2.json', (j) => ({ ...j, required: ['ip', 'protocol'] }), /feodo-c2\.json: required\[1\]: names protocol, which has no entry in columns/],
    ['an unknown timestamp form', 'feodo-c2.json', (j) => ({ ...j, timestamp: ['iso8601', 'rfc2822'] }), /feodo-c2\.json: timestamp\[1\]: must be one of iso8601, epoch, epoch_s, epoch_ms/],
    ['a bad regular expression', 'families.json', (j) => ({ ...j, strip: ['(unclosed'] }), /families\.json: strip\[0\]: is not a regular expression/],
    ['a bad alias', 'shadowserver-infected.json', (j) => ({ ...j, family: { aliases: { x: 3 } } }), /shadowserver-infected\.json: family\.aliases\.x: must be a non-empty string/],
    ['no detect.all', 'generic.json', (j) => ({ ...j, detect: { any: ['ip'] } }), /generic\.json: detect\.all: must be a list/],
    ['no families.json', 'families.json', null, /families\.json: cannot be read/],
    ['no generic.json', 'generic.json', null, /has no generic\.json/],
  ];
  for (const [what, file, edit, message] of broken) {
    it(`refuses ${what}, naming the file and the member`, () => {
      const e = error(() => readPresets(brokenCopy(file, edit)));
      expect(e.code).toBe('preset_invalid');
      expect(e.message).toMatch(message);
    });
  }
});

describe('resolveLayout', () => {
  it('recognises each layout by its header, case and blanks aside', () => {
    expect(resolveLayout({ header: SHADOWSERVER }).preset).toBe('shadowserver-infected');
    const n = resolveLayout({ header: SHADOWSERVER_NEW });
    expect(n.preset).toBe('shadowserver-infected');
    expect([column(n, 'ip'), column(n, 'port'), column(n, 'country'), column(n, 'c2_ip'), column(n, 'family')]).toEqual(['src_ip', 'src_port', 'src_geo', 'dst_ip', 'infection']);
    expect(resolveLayout({ header: FEODO }).preset).toBe('feodo-c2');
    const old = resolveLayout({ header: FEODO_OLD.map((h) => ` ${h} `) });
    expect(old.preset).toBe('feodo-c2');
    expect([column(old, 'ip'), column(old, 'timestamp'), column(old, 'family')]).toEqual(['DstIP', 'Firstseen', 'Malware']);
    expect(old.typeConst).toBe('c2-server');
    const g = resolveLayout({ header: ['ip', 'port', 'timestamp', 'type', 'family', 'asn', 'country'] });
    expect(g.preset).toBe('generic');
    expect(g.typeConst).toBeNull();
    expect(g.columns).toBe(7);
  });

  it('refuses a header no preset fits, listing the header and the presets', () => {
    const e = error(() => resolveLayout({ header: ['Zeitpunkt', 'Quell-IP'] }));
    expect(e.message).toBe('No preset fits the header (Zeitpunkt, Quell-IP); name one with --preset (feodo-c2, generic, shadowserver-infected) or map the columns, e.g. --map ip=COLUMN,timestamp=COLUMN');
  });

  it('refuses an unknown preset, listing the known ones', () => {
    const e = error(() => resolveLayout({ header: FEODO, preset: 'shadowserver' }));
    expect(e.message).toBe("Unknown preset 'shadowserver'; the presets are: feodo-c2, generic, shadowserver-infected");
    expect(e.code).toBe('unknown_preset');
    expect(e.details).toMatchObject({ presets: ['feodo-c2', 'generic', 'shadowserver-infected'] });
  });

  it('refuses a named preset whose required column the header lacks, listing both', () => {
    const e = error(() => resolveLayout({ header: ['dst_ip', 'malware'], preset: 'feodo-c2' }));
    expect(e.message).toBe("The header does not fit preset 'feodo-c2': no column for timestamp (one of: first_seen_utc, firstseen, first_seen); the header has: dst_ip, malware");
  });

  it('refuses a tie between presets', () => {
    const dir = brokenCopy('generic.json', (j) => j);
    const twin = JSON.parse(readFileSync(join(dir, 'generic.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'generic-twin.json'), JSON.stringify({ ...twin, name: 'generic-twin' }));
    const e = error(() => resolveLayout({ header: ['ip', 'port'], catalog: readPresets(dir) }));
    expect(e.message).toBe("The header fits presets 'generic' and 'generic-twin' equally; name one with --preset");
  });

  it('builds a layout from a mapping on generic, or on a named preset', () => {
    const header = ['Zeitpunkt', 'Quell-IP', 'Quellport', 'Schadsoftware', 'Land', 'Art', 'country'];
    const l = resolveLayout({ header, mapping: ' ip=quell-ip , port=Quellport,timestamp=Zeitpunkt,family=Schadsoftware,type=Art' });
    expect(l.preset).toBe('map+generic');
    expect([column(l, 'ip'), column(l, 'port'), column(l, 'timestamp'), column(l, 'family'), column(l, 'type'), column(l, 'country')]).toEqual(['Quell-IP', 'Quellport', 'Zeitpunkt', 'Schadsoftware', 'Art', 'country']);
    expect(l.typeConst).toBeNull();
    expect(l.types.type('C2')).toBe('c2-server');
    expect(l.types.type('bot')).toBe('infected-host');
    expect(l.types.type('scanner')).toBe('other');
    expect(l.keys[FEED_FIELDS.indexOf('ip')]).toEqual(['Quell-IP']);
    const c = resolveLayout({ header: ['src', 'seen'], mapping: 'ip=src,timestamp=seen,type=c2' });
    expect(c.typeConst).toBe('c2-server');
    const f = resolveLayout({ header: ['first_seen_utc', 'dst_ip', 'kind'], preset: 'feodo-c2', mapping: 'type=kind' });
    expect([f.preset, column(f, 'ip'), f.typeConst, f.types.type('bot')]).toEqual(['map+feodo-c2', 'dst_ip', null, 'infected-host']);
  });

  it('refuses a bad mapping before any row, saying what there is', () => {
    const header = ['src', 'time', 'malware'];
    const cases: [string, string][] = [
      ['ip=src,port=sport', "--map: port=sport: there is no column 'sport'; the header has: src, time, malware"],
      ['ip=src,colour=malware', "--map: 'colour' is not a record field; use ip, port, timestamp, type, family, asn, country, c2_ip, c2_port, protocol, hostname"],
      ['ip', "--map: 'ip' is not field=column"],
      ['ip=src,,port=time', "--map: '' is not field=column"],
      ['ip=src,ip=time', "--map: 'ip' is mapped twice"],
      ['ip=src,type=server', "--map: type=server: there is no column 'server' and it is not a type (infected-host, c2-server, other, c2, cc, infected, bot); the header has: src, time, malware"],
      ['timestamp=time', '--map: no column for ip: map one (ip=COLUMN); the header has: src, time, malware'],
    ];
    for (const [mapping, message] of cases) {
      const e = error(() => resolveLayout({ header, mapping }));
      expect(e.message, mapping).toBe(message);
      expect(e.code).toBe('feed_mapping');
    }
  });
});
