/** Message templates: the typed, coded, labelled shape of each kind's body (templates/README.md). */

/** The value types a template field can have. */
export const FIELD_TYPES = [
  'text', 'code', 'codes', 'datetime', 'time_window', 'indicators', 'integer', 'boolean', 'party', 'message_id',
] as const;

export type FieldType = (typeof FIELD_TYPES)[number];

/** Labels of one thing, by language tag (`en` and `ru` always present). */
export type Labels = Readonly<Record<string, string>>;

/** One field of a template, as declared in `templates/<kind>.json`. */
export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  readonly required: boolean;
  /** Required only when another (code) field of the same body has one of these codes. */
  readonly requiredIf?: { readonly field: string; readonly in: readonly string[] };
  /** For `code` and `codes`: the closed vocabulary the values come from. */
  readonly vocabulary?: string;
  /** For `integer`: inclusive bounds. */
  readonly min?: number;
  readonly max?: number;
  /** For `text`: the most characters (UTF-16 code units) allowed. */
  readonly maxLength?: number;
  /** For `boolean`: the only value allowed (e.g. an undertaking that must be given). */
  readonly const?: boolean;
  readonly labels: Labels;
}

/** A kind's template: its version, title, whether free text is required, and its fields in display order. */
export interface Template {
  readonly kind: string;
  readonly version: number;
  /** `<kind>@<version>`, the value of a body's `template` member. */
  readonly id: string;
  readonly labels: Labels;
  readonly text: 'required' | 'optional';
  readonly fields: readonly FieldSpec[];
}

/** A closed vocabulary: its codes, each with labels. */
export interface Vocabulary {
  readonly name: string;
  readonly labels: Labels;
  readonly codes: ReadonlyMap<string, Labels>;
}

/** Everything loaded from the templates directory, validated. */
export interface TemplateCatalog {
  /** The directory the files were read from. */
  readonly dir: string;
  /** Languages labels may be given in; `en` first (the fallback). */
  readonly languages: readonly string[];
  /** Labels of the words a rendering needs besides the templates': message, text, yes, no. */
  readonly terms: ReadonlyMap<string, Labels>;
  readonly vocabularies: ReadonlyMap<string, Vocabulary>;
  /** By kind. A kind without a template (e.g. `indicators`) carries a body the templates do not check. */
  readonly templates: ReadonlyMap<string, Template>;
  /** By kind (every kind): whether it waits for a person's acknowledgement (`ack-policy.json`). */
  readonly ackPolicy: ReadonlyMap<string, AckPolicy>;
}

/**
 * `person`: a person acknowledges it (deadline, escalation, overdue alert, the queue);
 * `none`: machine traffic, never waits for anyone and never pages.
 */
export const ACK_POLICIES = ['person', 'none'] as const;
export type AckPolicy = (typeof ACK_POLICIES)[number];

/**
 * A message body as the templates define it:
 * `{ "template": "<kind>@<version>", "fields": {...}, "text": "...", "lang": "en" }`.
 */
export interface TemplatedBody {
  template?: string;
  fields?: Record<string, unknown>;
  text?: string;
  lang?: string;
}

/** One line of a rendered message: a label in the reader's language and the value. */
export interface RenderedLine {
  /** The field's name (`template` for the title line, `text` for the free text). */
  readonly field: string;
  readonly label: string;
  readonly value: string;
  /** For code fields: the codes the value was rendered from. */
  readonly codes?: readonly string[];
  /** For the free text: the language the writer said it is in. */
  readonly lang?: string;
}
