/**
 * The console's words. Each page keeps its own catalog beside it (`messages.ts`, made with
 * {@link defineMessages}): ICU MessageFormat strings (plurals, selects, numbers) in the six
 * languages of the node. The type makes every language carry every key that English has, so a
 * missing translation is a compile error, not a blank on a screen at 3 a.m.
 *
 *   const m = defineMessages({ en: { overdue: '{n, plural, one {# message} other {# messages}} overdue' }, ru: {...}, ... });
 *   const t = useT(m);  t('overdue', { n: 3 })
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { IntlMessageFormat } from 'intl-messageformat';

export const LANGUAGES = ['en', 'ru', 'fr', 'es', 'zh', 'ar'] as const;
export type Lang = (typeof LANGUAGES)[number];

/** Each language's name in itself, for the language picker. */
export const LANGUAGE_NAMES: Record<Lang, string> = { en: 'English', ru: 'Русский', fr: 'Français', es: 'Español', zh: '中文', ar: 'العربية' };

export type Catalog<K extends string> = Readonly<Record<K, string>>;
export type Messages<K extends string> = Readonly<Record<Lang, Catalog<K>>>;

/** A page's catalog: every language has exactly English's keys (checked by the compiler). */
export function defineMessages<K extends string>(m: { en: Catalog<K> } & Record<Exclude<Lang, 'en'>, Catalog<K>>): Messages<K> {
  return m;
}

const STORAGE_KEY = 'hotline.lang';

/** The language a new visitor gets: the browser's first one we have, else English. */
export function browserLanguage(): Lang {
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0] as Lang;
    if ((LANGUAGES as readonly string[]).includes(base)) return base;
  }
  return 'en';
}

function savedLanguage(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  return saved !== null && (LANGUAGES as readonly string[]).includes(saved) ? (saved as Lang) : browserLanguage();
}

interface LangState { lang: Lang; setLang(l: Lang): void; timeZone: string }
const LangContext = createContext<LangState>({ lang: 'en', setLang: () => undefined, timeZone: 'UTC' });

export function LanguageProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(savedLanguage);
  const setLang = useCallback((l: Lang) => { localStorage.setItem(STORAGE_KEY, l); setLangState(l); }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.documentElement.dir = lang === 'ar' ? 'rtl' : 'ltr';
  }, [lang]);
  const timeZone = useMemo(() => Intl.DateTimeFormat().resolvedOptions().timeZone, []);
  const value = useMemo(() => ({ lang, setLang, timeZone }), [lang, setLang, timeZone]);
  return <LangContext.Provider value={value}>{children}</LangContext.Provider>;
}

export function useLang(): LangState {
  return useContext(LangContext);
}

const formats = new Map<string, IntlMessageFormat>();

/** Formats `key` of a catalog in a language; an unknown key shows itself (never throws on screen). */
export function format<K extends string>(m: Messages<K>, lang: Lang, key: K, values?: Record<string, string | number>): string {
  const text = m[lang][key] ?? m.en[key] ?? key;
  const id = `${lang}\u0000${text}`;
  let f = formats.get(id);
  if (f === undefined) { f = new IntlMessageFormat(text, lang); formats.set(id, f); }
  return String(f.format(values));
}

/** `t(key, values)` in the user's language, for a page's catalog. */
export function useT<K extends string>(m: Messages<K>): (key: K, values?: Record<string, string | number>) => string {
  const { lang } = useLang();
  return useCallback((key: K, values?: Record<string, string | number>) => format(m, lang, key, values), [m, lang]);
}
