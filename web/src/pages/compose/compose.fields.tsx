/** One form control per template field, generated from its type; its error beside it (aria-describedby, aria-invalid). */
import type { ReactNode } from 'react';
import { useT } from '../../i18n/i18n';
import { composeMessages } from './compose.messages';
import { label, type FieldError, type FieldView, type Raw, type RawValues, type TemplatesView } from './templates';

type T = ReturnType<typeof useT<keyof (typeof composeMessages)['en']>>;

/** The sentence of a field's problem in the writer's language (the node's own sentence when it refused). */
export function problemText(t: T, e: FieldError, fieldLabel: (name: string) => string, f?: FieldView): string {
  if (e.server !== undefined) return e.server;
  if (e.key === 'requiredIf' && f?.required_if !== undefined) return t('requiredIf', { field: fieldLabel(f.required_if.field) });
  return e.key === undefined ? '' : t(e.key, e.values);
}

export const fieldId = (name: string) => `f-${name}`;
export const errorId = (name: string) => `f-${name}-error`;

function Required({ on }: { on: boolean }) {
  return on ? <span className="req" aria-hidden="true"> *</span> : null;
}

export function ErrorLine({ name, text }: { name: string; text: string | undefined }) {
  return <p id={errorId(name)} className="field-error" hidden={text === undefined}>{text === undefined ? '' : `⚠ ${text}`}</p>;
}

interface Props {
  field: FieldView;
  raw: Raw | undefined;
  onChange(r: Raw): void;
  error: string | undefined;
  required: boolean;
  catalog: TemplatesView;
  lang: string;
}

/** A control for `field`: select, checkboxes, date and time, number, text or text area. */
export function FieldInput({ field: f, raw, onChange, error, required, catalog, lang }: Props) {
  const t = useT(composeMessages);
  const id = fieldId(f.name);
  const invalid = error !== undefined ? true : undefined;
  const described = error !== undefined ? errorId(f.name) : undefined;
  const s = typeof raw === 'string' ? raw : '';
  const title = label(f.labels, lang, f.name);
  const common = { id, 'aria-invalid': invalid, 'aria-describedby': described, 'aria-required': required || undefined } as const;
  const vocab = f.vocabulary === undefined ? undefined : catalog.vocabularies[f.vocabulary];
  const hint = (text: string): ReactNode => <span id={`${id}-hint`} className="hint">{text}</span>;

  if (f.type === 'codes' || f.type === 'time_window') {
    const list = Array.isArray(raw) ? raw : [];
    const w = typeof raw === 'object' && !Array.isArray(raw) ? raw : { from: '', to: '' };
    return (
      <fieldset className="field" id={id} aria-describedby={described} tabIndex={-1}>
        <legend>{title}<Required on={required} /></legend>
        {f.type === 'codes' && vocab !== undefined && (
          <div className="codes">
            {vocab.codes.map((c) => (
              <label key={c.code} className="check">
                <input type="checkbox" aria-invalid={invalid} checked={list.includes(c.code)}
                  onChange={(e) => onChange(e.target.checked ? [...list, c.code] : list.filter((x) => x !== c.code))} />
                {' '}{label(c.labels, lang, c.code)}
              </label>
            ))}
          </div>
        )}
        {f.type === 'time_window' && (
          <div className="window">
            <label htmlFor={`${id}-from`}>{t('from')}</label>
            <input id={`${id}-from`} type="datetime-local" aria-invalid={invalid} aria-describedby={described} value={w.from} onChange={(e) => onChange({ ...w, from: e.target.value })} />
            <label htmlFor={`${id}-to`}>{t('to')}</label>
            <input id={`${id}-to`} type="datetime-local" aria-invalid={invalid} aria-describedby={described} value={w.to} onChange={(e) => onChange({ ...w, to: e.target.value })} />
          </div>
        )}
        <ErrorLine name={f.name} text={error} />
      </fieldset>
    );
  }

  if (f.type === 'boolean' && f.const !== undefined) {
    return (
      <div className="field">
        <label className="check">
          <input type="checkbox" {...common} checked={s === String(f.const)} onChange={(e) => onChange(e.target.checked ? String(f.const) : '')} />
          {' '}{title}<Required on={required} />
        </label>
        <ErrorLine name={f.name} text={error} />
      </div>
    );
  }

  let control: ReactNode;
  switch (f.type) {
    case 'code':
      control = (
        <select {...common} value={s} onChange={(e) => onChange(e.target.value)}>
          <option value="">{t('choose')}</option>
          {vocab?.codes.map((c) => <option key={c.code} value={c.code}>{label(c.labels, lang, c.code)}</option>)}
        </select>
      );
      break;
    case 'boolean':
      control = (
        <select {...common} value={s} onChange={(e) => onChange(e.target.value)}>
          <option value="">{t('notSaid')}</option>
          <option value="true">{label(catalog.terms.yes, lang, 'yes')}</option>
          <option value="false">{label(catalog.terms.no, lang, 'no')}</option>
        </select>
      );
      break;
    case 'integer':
      control = <input {...common} type="number" inputMode="numeric" step={1} min={f.min} max={f.max} value={s} onChange={(e) => onChange(e.target.value)} />;
      break;
    case 'datetime':
      control = (<>
        <input {...common} type="datetime-local" aria-describedby={[described, `${id}-hint`].filter(Boolean).join(' ')} value={s} onChange={(e) => onChange(e.target.value)} />
        {hint(t('utcHint'))}
      </>);
      break;
    case 'indicators':
      control = (<>
        <textarea {...common} rows={3} aria-describedby={[described, `${id}-hint`].filter(Boolean).join(' ')} value={s} onChange={(e) => onChange(e.target.value)} />
        {hint(t('indicatorsHint'))}
      </>);
      break;
    case 'text':
      control = f.max_length !== undefined && f.max_length <= 200
        ? <input {...common} type="text" maxLength={f.max_length} value={s} onChange={(e) => onChange(e.target.value)} />
        : <textarea {...common} rows={3} value={s} onChange={(e) => onChange(e.target.value)} />;
      break;
    default:
      control = <input {...common} type="text" spellCheck={false} value={s} onChange={(e) => onChange(e.target.value)} />;
  }
  return (
    <div className="field">
      <label htmlFor={id}>{title}<Required on={required} /></label>
      {control}
      <ErrorLine name={f.name} text={error} />
    </div>
  );
}

/** Whether a field must have a value now (always, or because of another field's code). */
export function requiredNow(f: FieldView, values: RawValues): boolean {
  if (f.required) return true;
  const r = f.required_if;
  return r !== undefined && typeof values[r.field] === 'string' && r.in.includes(values[r.field] as string);
}
