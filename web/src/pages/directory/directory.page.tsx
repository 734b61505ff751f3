/**
 * Directory and rota (/directory): who is on duty now and next on each channel (GET /api/v1/rota),
 * "Take duty" (POST /api/v1/rota/:channel/take) and "Hand over" (POST .../hand-over); then every
 * party's points of contact per channel with when they were last confirmed (GET /api/v1/directory).
 */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { get, post } from '../../api';
import { useT } from '../../i18n/i18n';
import { Instant } from '../../i18n/time';
import { useMe } from '../../session';
import { ErrorBox, Loading, PageTitle } from '../../ui/ui';
import type { PageProps } from '../registry';
import { directoryMessages } from './directory.messages';
import './directory.css';

interface Contact { id: string; party: string; channel: string; function: string; name: string; languages: string[]; hours: string | null; phone: string | null; email: string | null; user: string | null }
interface Step { position: 'primary' | 'backup' | 'supervisor'; contact: Contact; source?: 'rota' | 'shift' | 'override'; until?: string }
interface Duty { channel: string; time_zone: string; now: Step[]; next: { at: string; contact: Contact | null } | null }
interface ChannelView { channel: string; contacts: Contact[]; rota: Record<'primary' | 'backup' | 'supervisor', string | null>; last_pong_at: string | null }
interface PartyView { party: string; name: string | null; own: boolean; updated_at: string | null; channels: ChannelView[] }
interface Override { id: string; contact: Contact; until: string }

const HOURS = [1, 2, 4, 8, 12, 24] as const;
type T = ReturnType<typeof useT<keyof (typeof directoryMessages)['en']>>;
const channelName = (t: T, c: string) => (c === 'crisis' || c === 'cert' || c === 'law' ? t(c) : c);

function Why({ step }: { step: Step }) {
  const t = useT(directoryMessages);
  if (step.source === 'override') return <>{t('override')} <Instant at={step.until} /></>;
  return <>{t(step.source === 'shift' ? 'shift' : 'rota')}</>;
}

/** "Take duty" and, for the one on duty (or an administrator), "Hand over" on one channel. */
function DutyActions({ duty }: { duty: Duty }) {
  const t = useT(directoryMessages);
  const me = useMe();
  const qc = useQueryClient();
  const [hours, setHours] = useState<number>(8);
  const [to, setTo] = useState('');
  const [done, setDone] = useState<{ text: string; until: string } | null>(null);
  const primary = duty.now.find((s) => s.position === 'primary');
  const mine = primary?.contact.user === me.user;
  const contacts = useQuery({
    queryKey: ['contacts', duty.channel],
    queryFn: () => get<{ contacts: Contact[] }>('/api/v1/contacts', { channel: duty.channel }),
    enabled: mine || me.role === 'admin',
  });
  const until = () => new Date(Date.now() + hours * 3_600_000).toISOString();
  const after = (o: Override, text: string) => { setDone({ text, until: o.until }); void qc.invalidateQueries({ queryKey: ['rota'] }); void qc.invalidateQueries({ queryKey: ['directory'] }); };
  const take = useMutation({
    mutationFn: () => post<Override>(`/api/v1/rota/${duty.channel}/take`, { until: until() }),
    onSuccess: (o) => after(o, t('took', { channel: channelName(t, duty.channel) })),
  });
  const hand = useMutation({
    mutationFn: () => post<Override>(`/api/v1/rota/${duty.channel}/hand-over`, { to, until: until() }),
    onSuccess: (o) => after(o, t('handed', { name: o.contact.name })),
  });
  const id = (k: string) => `duty-${duty.channel}-${k}`;
  const onTake = (e: FormEvent) => { e.preventDefault(); setDone(null); take.mutate(); };
  const onHand = (e: FormEvent) => { e.preventDefault(); setDone(null); hand.mutate(); };
  const others = (contacts.data?.contacts ?? []).filter((c) => c.id !== primary?.contact.id);
  return (
    <div className="duty-actions">
      <form onSubmit={onTake} aria-label={`${t('takeDuty')}: ${channelName(t, duty.channel)}`}>
        <label htmlFor={id('hours')}>{t('forHow')}</label>
        <select id={id('hours')} value={hours} onChange={(e) => setHours(Number(e.target.value))}>
          {HOURS.map((h) => <option key={h} value={h}>{t('hours', { n: h })}</option>)}
        </select>
        {!mine && <button type="submit" disabled={take.isPending}>{t('takeDuty')}</button>}
        {(mine || me.role === 'admin') && others.length > 0 && (<>
          <label htmlFor={id('to')}>{t('handTo')}</label>
          <select id={id('to')} value={to} onChange={(e) => setTo(e.target.value)}>
            <option value="">{t('choose')}</option>
            {others.map((c) => <option key={c.id} value={c.id}>{c.name} — {c.function}</option>)}
          </select>
          <button type="button" className="secondary" disabled={to === '' || hand.isPending} onClick={onHand}>{t('handOver')}</button>
        </>)}
      </form>
      {take.isError && <ErrorBox error={take.error} />}
      {hand.isError && <ErrorBox error={hand.error} />}
      {done !== null && <p role="status" className="ok"><span aria-hidden="true">✓ </span>{done.text} <Instant at={done.until} /></p>}
    </div>
  );
}

function OnDuty() {
  const t = useT(directoryMessages);
  const me = useMe();
  const q = useQuery({ queryKey: ['rota'], queryFn: () => get<{ duty: Duty[] }>('/api/v1/rota'), refetchInterval: 60_000 });
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} retry={() => void q.refetch()} />;
  if (q.data.duty.length === 0) return <p>{t('noRota')}</p>;
  return (<>
    <p className="muted">{t('timeZone', { tz: q.data.duty[0]!.time_zone })}</p>
    <div className="duty-grid">{q.data.duty.map((d) => (
      <section key={d.channel} className="duty" aria-labelledby={`duty-${d.channel}`}>
        <h3 id={`duty-${d.channel}`}>{channelName(t, d.channel)}</h3>
        <table>
          <thead><tr><th scope="col">{t('position')}</th><th scope="col">{t('who')}</th><th scope="col">{t('why')}</th></tr></thead>
          <tbody>
            {(['primary', 'backup', 'supervisor'] as const).map((p) => {
              const s = d.now.find((x) => x.position === p);
              return (
                <tr key={p}>
                  <th scope="row">{t(p)}</th>
                  <td>{s === undefined ? <span className="muted">{t('nobody')}</span> : <>{s.contact.name}{s.contact.user === me.user && <strong> ({t('you')})</strong>} <span className="muted">— {s.contact.function}</span></>}</td>
                  <td>{s === undefined ? '' : <Why step={s} />}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <p><strong>{t('next')}:</strong>{' '}
          {d.next === null ? <span className="muted">{t('nextNone')}</span> : <>{t('nextAt', { name: d.next.contact?.name ?? t('nobody') })} <Instant at={d.next.at} /></>}
        </p>
        <DutyActions duty={d} />
      </section>
    ))}</div>
  </>);
}

function Party({ p }: { p: PartyView }) {
  const t = useT(directoryMessages);
  const head = p.own ? t('thisNode', { name: p.name ?? p.party, party: p.party }) : t('peer', { name: p.name ?? p.party, party: p.party });
  return (
    <section className="party" aria-labelledby={`party-${p.party}`}>
      <h3 id={`party-${p.party}`}>{head}</h3>
      <p>{p.own ? t('published') : t('confirmed')}{' '}
        {p.updated_at === null ? <span className="muted">{t(p.own ? 'neverPublished' : 'noDirectory')}</span> : <Instant at={p.updated_at} />}
      </p>
      {p.channels.map((c) => {
        const positionOf = (id: string) => (['primary', 'backup', 'supervisor'] as const).find((k) => c.rota[k] === id);
        return (
          <div key={c.channel} className="party-channel">
            <h4>{t('contactsOn', { channel: channelName(t, c.channel) })}</h4>
            {!p.own && (
              <p>{t('lastPong')} {c.last_pong_at === null ? <span className="muted">{t('neverPonged')}</span> : <Instant at={c.last_pong_at} />}</p>
            )}
            {c.contacts.length === 0 ? <p className="muted">{t('noContacts')}</p> : (
              <div className="table-wrap">
                <table>
                  <thead><tr>
                    <th scope="col">{t('name')}</th><th scope="col">{t('function')}</th><th scope="col">{t('inRota')}</th><th scope="col">{t('languages')}</th>
                    <th scope="col">{t('hours_')}</th><th scope="col">{t('phone')}</th><th scope="col">{t('email')}</th>
                  </tr></thead>
                  <tbody>
                    {c.contacts.map((x) => {
                      const pos = positionOf(x.id);
                      return (
                        <tr key={x.id}>
                          <th scope="row">{x.name}</th><td>{x.function}</td><td>{pos === undefined ? '' : t(pos)}</td><td>{x.languages.join(', ')}</td>
                          <td>{x.hours ?? ''}</td><td>{x.phone === null ? '' : <a href={`tel:${x.phone}`}>{x.phone}</a>}</td>
                          <td>{x.email === null ? '' : <a href={`mailto:${x.email}`}>{x.email}</a>}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            )}
          </div>
        );
      })}
    </section>
  );
}

export default function DirectoryPage(_props: PageProps) {
  const t = useT(directoryMessages);
  const dir = useQuery({ queryKey: ['directory'], queryFn: () => get<{ parties: PartyView[] }>('/api/v1/directory') });
  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <h2>{t('onDuty')}</h2>
      <OnDuty />
      <h2>{t('directory')}</h2>
      {dir.isPending ? <Loading /> : dir.isError ? <ErrorBox error={dir.error} retry={() => void dir.refetch()} /> : dir.data.parties.map((p) => <Party key={p.party} p={p} />)}
    </>
  );
}
