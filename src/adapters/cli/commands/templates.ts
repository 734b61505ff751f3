import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fail } from '../../../shared/errors.js';
import type { RenderedLine, Template, TemplateCatalog } from '../../../modules/templates/templates.types.js';
import { table } from '../output.js';
import type { Cli } from '../main.js';

/** Commander collector for a repeatable option (`--field a=1 --field b=2`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * The fields of `hotline send`: those in `--template-file FILE` (a JSON object of fields), then
 * each `--field key=value` over them, typed by the kind's template. Undefined when neither is given.
 */
export async function fieldsFromOptions(kind: string, args: readonly string[] = [], file?: string): Promise<Record<string, unknown> | undefined> {
  if (args.length === 0 && file === undefined) return undefined;
  let base: Record<string, unknown> = {};
  if (file !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      fail('invalid_argument', `--template-file ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON (${(e as Error).message})`}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('invalid_argument', `--template-file ${file} must hold a JSON object of fields, e.g. {"confidence": "high"}`);
    base = raw as Record<string, unknown>;
  }
  const { fieldsFromArgs } = await import('../../../modules/templates/templates.service.js');
  return fieldsFromArgs(kind, args, base);
}

/** Rendered lines as a person reads them: labels aligned, then the free text under its own label. */
export function formatRendered(lines: readonly RenderedLine[]): string[] {
  const fields = lines.filter((l) => l.field !== 'text');
  const width = Math.max(0, ...fields.map((l) => l.label.length));
  const out = fields.map((l) => `${l.label.padEnd(width)}  ${l.value}`);
  for (const t of lines.filter((l) => l.field === 'text')) out.push('', `${t.label}${t.lang === undefined ? '' : ` (${t.lang})`}:`, t.value);
  return out;
}

function describeTemplate(catalog: TemplateCatalog, t: Template, lang: string, describeType: (type: Template['fields'][number]['type']) => string): string {
  const label = (l: Readonly<Record<string, string>>): string => l[lang] ?? l.en!;
  const rows = t.fields.map((f) => {
    const required = f.required ? 'yes' : f.requiredIf === undefined ? 'no' : `if ${f.requiredIf.field} is ${f.requiredIf.in.join('|')}`;
    const codes = f.vocabulary === undefined ? '' : ` from ${f.vocabulary}`;
    return [f.name, `${f.type}${codes}`, required, label(f.labels)];
  });
  const lines = [`${t.id}  ${label(t.labels)}`, `free text (--text): ${t.text}`, '', table(['FIELD', 'TYPE', 'REQUIRED', 'LABEL'], rows)];
  for (const f of t.fields) {
    if (f.vocabulary === undefined) continue;
    const v = catalog.vocabularies.get(f.vocabulary)!;
    lines.push('', `${f.vocabulary} (${label(v.labels)}):`, ...[...v.codes].map(([code, l]) => `  ${code.padEnd(24)} ${label(l)}`));
  }
  const types = [...new Set(t.fields.map((f) => f.type))];
  if (types.length > 0) lines.push('', 'Types:', ...types.map((ty) => `  ${ty.padEnd(12)} ${describeType(ty)}`));
  lines.push('', 'On the command line: --field key=value; lists as key=a,b; a time window as key=FROM/TO.');
  return lines.join('\n');
}

/** `hotline templates [KIND]`: which kinds have templates, and one template's fields and codes. */
export function register(program: Command, cli: Cli): void {
  program.command('templates')
    .description('the message templates: list them, or show one kind\'s fields, types and codes')
    .argument('[kind]', 'a kind, e.g. crisis-alert')
    .option('--lang <lang>', 'language of the labels (default en)', 'en')
    .action(async (kind: string | undefined, o: { lang: string }) => {
      const [{ requireLanguage, templateCatalog }, { describeType }] = await Promise.all([
        import('../../../modules/templates/templates.service.js'), import('../../../modules/templates/templates.values.js'),
      ]);
      const catalog = templateCatalog();
      const lang = requireLanguage(o.lang, catalog);
      if (kind === undefined) {
        const all = [...catalog.templates.values()];
        cli.out.print(() => table(['KIND', 'TEMPLATE', 'TEXT', 'LABEL'], all.map((t) => [t.kind, t.id, t.text, t.labels[lang] ?? t.labels.en!])), {
          languages: catalog.languages, templates: all.map((t) => ({ kind: t.kind, template: t.id, text: t.text, labels: t.labels })),
        });
        return;
      }
      const t = catalog.templates.get(kind);
      if (t === undefined) fail('not_found', `No template for kind "${kind}"; templates exist for: ${[...catalog.templates.keys()].join(', ')}`);
      const vocabularies = Object.fromEntries(t.fields.flatMap((f) => (f.vocabulary === undefined ? [] : [[f.vocabulary, Object.fromEntries(catalog.vocabularies.get(f.vocabulary)!.codes)]])));
      cli.out.print(() => describeTemplate(catalog, t, lang, describeType), { ...t, vocabularies });
    });
}
