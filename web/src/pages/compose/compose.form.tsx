/** The Compose form itself: addressing, the template's fields, free text, TLP:RED recipients, preview, Send. */
import { useMemo, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, get, post } from '../../api';
import { LANGUAGE_NAMES, useLang, useT, type Lang } from '../../i18n/i18n';
import { Link, useRoute } from '../../router';
import { PageTitle } from '../../ui/ui';
import { composeMessages } from './compose.messages';
import { ErrorLine, errorId, fieldId, FieldInput, problemText, requiredNow } from './compose.fields';
import { Preview } from './compose.preview';
import { fieldsOf, label, problemsOf, serverProblems, type FieldError, type Raw, type RawValues, type TemplatesView } from './templates';

export interface Peer { party: string; name: string; channels: string[] }

export interface ReplyContext {
  id: string;
  case: string;
  channel: string;
  peer: string;
  priority: string;
  tlp: string;
  /** Who wrote the answered message at the peer (a TLP:RED reply's default reader). */
  sender: string | null;
  summary: string | null;
  /** The kinds the case's machine allows next that a person sends by replying. */
  kinds: string[];
}

interface DirectoryAnswer { parties: { party: string; channels: { channel: string; contacts: { languages: string[] }[]; red_recipients: string[] }[] }[] }

const PRIORITIES = ['flash', 'immediate', 'priority', 'routine'] as const;
const TLPS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;

interface Props { catalog: TemplatesView; peers: Peer[]; reply: ReplyContext | null; presetKind: string | null }

export function ComposeForm({ catalog, peers, reply, presetKind }: Props) {
  const t = useT(composeMessages);
  const { lang } = useLang();
  const { navigate } = useRoute();
  const qc = useQueryClient();
  const [channel, setChannel] = useState(reply?.channel ?? catalog.channels[0]?.channel ?? '');
  const kindsHere = useMemo(() => {
    const onChannel = catalog.channels.find((c) => c.channel === channel)?.kinds ?? [];
    const withTemplate = onChannel.filter((k) => catalog.templates.some((x) => x.kind === k));
    return reply !== null
      ? withTemplate.filter((k) => reply.kinds.includes(k))
      : withTemplate.filter((k) => catalog.templates.find((x) => x.kind === k)?.opens_case === true);
  }, [catalog, channel, reply]);
  const initialKind = presetKind !== null && kindsHere.includes(presetKind) ? presetKind
    : reply !== null && kindsHere.includes('response') ? 'response' : kindsHere[0] ?? '';
  const [kind, setKind] = useState(initialKind);
  const peersHere = peers.filter((p) => p.channels.includes(channel));
  const [peer, setPeer] = useState(reply?.peer ?? (peersHere.length === 1 ? peersHere[0]!.party : ''));
  const [priority, setPriority] = useState(reply?.priority ?? 'immediate');
  const [tlp, setTlp] = useState(reply?.tlp ?? 'amber');
  const [values, setValues] = useState<RawValues>({});
  const [text, setText] = useState('');
  const [textLang, setTextLang] = useState<string>(lang);
  const [recipients, setRecipients] = useState<string[]>(reply?.sender != null ? [reply.sender] : []);
  const [ack, setAck] = useState(true);
  const [errors, setErrors] = useState<Record<string, FieldError>>({});
  const [refused, setRefused] = useState<string | null>(null);
  const summaryRef = useRef<HTMLDivElement>(null);

  const template = catalog.templates.find((x) => x.kind === kind);
  const directory = useQuery({
    queryKey: ['directory', peer, channel],
    queryFn: () => get<DirectoryAnswer>('/api/v1/directory', { party: peer, channel }),
    enabled: peer !== '' && channel !== '',
    retry: false,
  });
  const entry = directory.data?.parties[0]?.channels.find((c) => c.channel === channel);
  const peerLang = entry?.contacts.flatMap((c) => c.languages).map((l) => l.split('-')[0]!).find((l) => catalog.languages.includes(l)) ?? null;
  const redChoices = entry?.red_recipients ?? [];

  const fields = template === undefined ? {} : fieldsOf(template, values);
  const body = { fields, ...(text.trim() === '' ? {} : { text, lang: textLang }) };
  const fieldLabel = (name: string): string => {
    if (name === 'text') return label(catalog.terms.text, lang, 'text');
    if (name === 'peer') return t('peer');
    if (name === 'recipients') return t('recipients', { peer });
    return label(template?.fields.find((f) => f.name === name)?.labels, lang, name);
  };

  const send = useMutation({
    mutationFn: () => {
      const common = { kind, priority, tlp, fields, ...(text.trim() === '' ? {} : { text, lang: textLang }) };
      const who = tlp === 'red' && recipients.length > 0 ? { recipients } : {};
      return reply !== null
        ? post<{ id: string }>(`/api/v1/messages/${reply.id}/reply`, { ...common, ...who, ack })
        : post<{ id: string }>('/api/v1/messages', { ...common, ...who, to: peer, channel });
    },
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: ['cases'] });
      void qc.invalidateQueries({ queryKey: ['case'] });
      navigate(`/messages/${r.id}`);
    },
    onError: (e) => {
      const server = e instanceof ApiError ? serverProblems(e.details) : null;
      if (server !== null && Object.keys(server).length > 0) { setErrors(server); setRefused(null); } else {
        setRefused(e instanceof ApiError ? `${e.message} (${e.code})` : String(e));
      }
      setTimeout(() => summaryRef.current?.focus(), 0);
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (template === undefined) return;
    const found: Record<string, FieldError> = {};
    if (reply === null && peer === '') found.peer = { key: 'required' };
    if (tlp === 'red' && reply === null && recipients.length === 0) found.recipients = { key: 'recipientsNeeded' };
    Object.assign(found, problemsOf(template, values, text));
    setErrors(found);
    setRefused(null);
    if (Object.keys(found).length > 0) { setTimeout(() => summaryRef.current?.focus(), 0); return; }
    send.mutate();
  };

  const setValue = (name: string, r: Raw) => {
    setValues((v) => ({ ...v, [name]: r }));
    if (errors[name] !== undefined) setErrors((x) => { const { [name]: _gone, ...rest } = x; return rest; });
  };
  const errorOf = (name: string): string | undefined => {
    const e = errors[name];
    return e === undefined ? undefined : problemText(t, e, fieldLabel, template?.fields.find((f) => f.name === name));
  };
  const entries = Object.keys(errors);
  const anchor = (name: string) => (name === 'recipients' ? 'f-recipients' : name === 'text' ? 'f-text' : fieldId(name));

  if (catalog.channels.length === 0) return (<><PageTitle>{t('titleNew')}</PageTitle><p>{t('noChannels')}</p></>);
  return (
    <>
      <PageTitle>{reply === null ? t('titleNew') : t('titleReply')}</PageTitle>
      {reply !== null && (
        <section className="reply-to" aria-label={t('inReplyTo')}>
          <p><strong>{t('inReplyTo')}:</strong> {reply.summary ?? reply.id} · <Link to={`/messages/${reply.id}`}>{t('openMessage')}</Link></p>
          <p><strong>{t('caseLabel')}:</strong> <Link to={`/cases/${reply.case}`}>{reply.case.slice(0, 8)}</Link> · {t('peer')}: {reply.peer} · {t('channel')}: {t(`chan_${reply.channel}` as 'chan_crisis')}</p>
        </section>
      )}
      <div ref={summaryRef} tabIndex={-1} role={entries.length > 0 || refused !== null ? 'alert' : undefined} className="error-summary" hidden={entries.length === 0 && refused === null}>
        {refused !== null && <p>{t('refused', { message: refused })}</p>}
        {entries.length > 0 && (<>
          <p>{t('errorsSummary', { n: entries.length })}</p>
          <ul>{entries.map((n) => <li key={n}><a href={`#${anchor(n)}`}>{fieldLabel(n)}</a>: {errorOf(n)}</li>)}</ul>
        </>)}
      </div>
      {reply !== null && kindsHere.length === 0 ? <p>{t('noKinds')}</p> : (
        <form className="compose" noValidate onSubmit={submit}>
          <fieldset className="addressing">
            <legend>{t('addressing')}</legend>
            {reply === null && (<>
              <div className="field">
                <label htmlFor="f-channel">{t('channel')}</label>
                <select id="f-channel" value={channel} onChange={(e) => {
                  const next = e.target.value;
                  const kinds = catalog.channels.find((c) => c.channel === next)?.kinds ?? [];
                  setChannel(next);
                  setKind(kinds.includes(kind) ? kind : kinds.find((k) => catalog.templates.find((x) => x.kind === k)?.opens_case === true) ?? '');
                  const here = peers.filter((p) => p.channels.includes(next));
                  setPeer(here.length === 1 ? here[0]!.party : '');
                }}>
                  {catalog.channels.map((c) => <option key={c.channel} value={c.channel}>{t(`chan_${c.channel}` as 'chan_crisis')}</option>)}
                </select>
              </div>
              <div className="field">
                <label htmlFor={fieldId('peer')}>{t('peer')}<span className="req" aria-hidden="true"> *</span></label>
                <select id={fieldId('peer')} value={peer} aria-required="true" aria-invalid={errors.peer !== undefined || undefined}
                  aria-describedby={errors.peer !== undefined ? errorId('peer') : undefined} onChange={(e) => { setPeer(e.target.value); setErrors(({ peer: _p, ...rest }) => rest); }}>
                  <option value="">{t('choose')}</option>
                  {peersHere.map((p) => <option key={p.party} value={p.party}>{`${p.party} — ${p.name}`}</option>)}
                </select>
                {peersHere.length === 0 && <p className="hint">{t('noPeers')}</p>}
                <ErrorLine name="peer" text={errorOf('peer')} />
              </div>
            </>)}
            <div className="field">
              <label htmlFor="f-kind">{t('kind')}</label>
              <select id="f-kind" value={kind} onChange={(e) => { setKind(e.target.value); setValues({}); setErrors({}); }}>
                {kind === '' && <option value="">{t('choose')}</option>}
                {kindsHere.map((k) => <option key={k} value={k}>{label(catalog.kind_labels[k], lang, k)}</option>)}
              </select>
            </div>
            <div className="field">
              <label htmlFor="f-priority">{t('priority')}</label>
              <select id="f-priority" value={priority} onChange={(e) => setPriority(e.target.value)}>
                {PRIORITIES.map((p) => <option key={p} value={p}>{t(`prio_${p}`)}</option>)}
              </select>
            </div>
            <div className="field">
              <label htmlFor="f-tlp">{t('tlp')}</label>
              <select id="f-tlp" value={tlp} onChange={(e) => setTlp(e.target.value)}>
                {TLPS.map((x) => <option key={x} value={x}>{`TLP:${x.toUpperCase()}`}</option>)}
              </select>
            </div>
          </fieldset>

          {tlp === 'red' && (
            <fieldset className="field recipients" id="f-recipients" tabIndex={-1} aria-describedby={['f-recipients-help', errors.recipients !== undefined ? errorId('recipients') : ''].filter(Boolean).join(' ')}>
              <legend>{t('recipients', { peer: peer || '…' })}</legend>
              <p id="f-recipients-help" className="hint">{redChoices.length === 0 ? t('noRecipients', { peer: peer || '…' }) : t('recipientsHelp', { peer })}{reply !== null ? ` ${t('recipientsReplyDefault')}` : ''}</p>
              {redChoices.map((u) => (
                <label key={u} className="check">
                  <input type="checkbox" checked={recipients.includes(u)} aria-invalid={errors.recipients !== undefined || undefined}
                    onChange={(e) => setRecipients((r) => (e.target.checked ? [...r, u] : r.filter((x) => x !== u)))} /> {u}
                </label>
              ))}
              <ErrorLine name="recipients" text={errorOf('recipients')} />
            </fieldset>
          )}

          {template !== undefined && (
            <fieldset className="content">
              <legend>{label(template.labels, lang, template.kind)}</legend>
              {template.fields.map((f) => (
                <FieldInput key={`${kind}.${f.name}`} field={f} raw={values[f.name]} onChange={(r) => setValue(f.name, r)} error={errorOf(f.name)}
                  required={requiredNow(f, values)} catalog={catalog} lang={lang} />
              ))}
              <div className="field">
                <label htmlFor="f-text">{label(catalog.terms.text, lang, 'text')}{template.text === 'required' && <span className="req" aria-hidden="true"> *</span>}</label>
                <textarea id="f-text" rows={5} value={text} lang={textLang} dir="auto" aria-required={template.text === 'required' || undefined}
                  aria-invalid={errors.text !== undefined || undefined} aria-describedby={errors.text !== undefined ? errorId('text') : undefined}
                  onChange={(e) => { setText(e.target.value); setErrors(({ text: _x, ...rest }) => rest); }} />
                <ErrorLine name="text" text={errorOf('text')} />
                <label htmlFor="f-text-lang">{t('textLang')}</label>
                <select id="f-text-lang" value={textLang} onChange={(e) => setTextLang(e.target.value)}>
                  {catalog.languages.map((l) => <option key={l} value={l} lang={l}>{LANGUAGE_NAMES[l as Lang] ?? l}</option>)}
                </select>
              </div>
            </fieldset>
          )}

          {reply !== null && (
            <label className="check ack">
              <input type="checkbox" checked={ack} onChange={(e) => setAck(e.target.checked)} /> {t('ackReply')}
            </label>
          )}

          {template !== undefined && (peer !== '' || reply !== null) && (
            <Preview kind={kind} body={body} peer={reply?.peer ?? peer} peerLang={peerLang} languages={catalog.languages} />
          )}

          <button type="submit" disabled={send.isPending || template === undefined}>{send.isPending ? t('sending') : t('send')}</button>
        </form>
      )}
    </>
  );
}
