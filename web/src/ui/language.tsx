/** The language picker (header and sign-in page); the choice is kept in this browser. */
import { LANGUAGES, LANGUAGE_NAMES, useLang, useT, type Lang } from '../i18n/i18n';
import { shellMessages } from '../shell.messages';

export function LanguagePicker() {
  const { lang, setLang } = useLang();
  const t = useT(shellMessages);
  return (
    <label className="lang">
      {t('language')}{' '}
      <select value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
        {LANGUAGES.map((l) => <option key={l} value={l} lang={l}>{LANGUAGE_NAMES[l]}</option>)}
      </select>
    </label>
  );
}

