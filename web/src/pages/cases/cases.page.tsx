/** Cases (`/cases`): the cases on my channels, most recently active first, filtered by state, channel and peer; live. */
import { useCallback, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { get } from '../../api';
import { useNodeEvent } from '../../events';
import { useLang, useT } from '../../i18n/i18n';
import { Instant } from '../../i18n/time';
import { Link, useRoute } from '../../router';
import { useMe } from '../../session';
import { ErrorBox, Loading, PageTitle } from '../../ui/ui';
import type { PageProps } from '../registry';
import { label, type TemplatesView } from '../compose/templates';
import { casesMessages } from './cases.messages';
import { CASE_STATES, StateBadge, type CaseView } from './cases.shared';
import './cases.css';

export default function CasesPage(_props: PageProps) {
  const t = useT(casesMessages);
  const { lang } = useLang();
  const me = useMe();
  const { search, navigate } = useRoute();
  const qc = useQueryClient();
  const [state, setState] = useState(search.get('state') ?? '');
  const [channel, setChannel] = useState(search.get('channel') ?? '');
  const [peer, setPeer] = useState(search.get('peer') ?? '');
  const filters = { state, channel, peer };
  const cases = useQuery({ queryKey: ['cases', filters], queryFn: () => get<{ cases: CaseView[] }>('/api/v1/cases', { ...filters, limit: 200 }) });
  const peers = useQuery({ queryKey: ['peers'], queryFn: () => get<{ peers: { party: string; name: string }[] }>('/api/v1/peers'), staleTime: 60_000 });
  const catalog = useQuery({ queryKey: ['templates'], queryFn: () => get<TemplatesView>('/api/v1/templates'), staleTime: 60_000 });
  useNodeEvent('message', useCallback(() => { void qc.invalidateQueries({ queryKey: ['cases'] }); }, [qc]));

  const change = (k: 'state' | 'channel' | 'peer', v: string) => {
    const next = { ...filters, [k]: v };
    ({ state: setState, channel: setChannel, peer: setPeer })[k](v);
    const q = new URLSearchParams(Object.entries(next).filter(([, x]) => x !== ''));
    navigate(`/cases${q.size > 0 ? `?${q.toString()}` : ''}`, { replace: true });
  };

  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <fieldset className="filters">
        <legend>{t('filters')}</legend>
        <div>
          <label htmlFor="cases-state">{t('state')}</label>
          <select id="cases-state" value={state} onChange={(e) => change('state', e.target.value)}>
            <option value="">{t('any')}</option>
            {CASE_STATES.map((s) => <option key={s} value={s}>{t(`st_${s}`)}</option>)}
          </select>
        </div>
        <div>
          <label htmlFor="cases-channel">{t('channel')}</label>
          <select id="cases-channel" value={channel} onChange={(e) => change('channel', e.target.value)}>
            <option value="">{t('any')}</option>
            {me.channels.map((c) => <option key={c} value={c}>{t(`chan_${c}` as 'chan_crisis')}</option>)}
          </select>
        </div>
        <div>
          <label htmlFor="cases-peer">{t('peer')}</label>
          <select id="cases-peer" value={peer} onChange={(e) => change('peer', e.target.value)}>
            <option value="">{t('any')}</option>
            {(peers.data?.peers ?? []).map((p) => <option key={p.party} value={p.party}>{`${p.party} — ${p.name}`}</option>)}
          </select>
        </div>
      </fieldset>
      {cases.error !== null ? <ErrorBox error={cases.error} retry={() => void cases.refetch()} />
        : cases.data === undefined ? <Loading />
          : cases.data.cases.length === 0 ? <p role="status">{t('none')}</p>
            : (
              <table>
                <caption className="muted">{t('shown', { n: cases.data.cases.length })}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('subject')}</th><th scope="col">{t('state')}</th><th scope="col">{t('peer')}</th><th scope="col">{t('channel')}</th>
                    <th scope="col">{t('kind')}</th><th scope="col">{t('priority')}</th><th scope="col">{t('opened')}</th><th scope="col">{t('updated')}</th>
                  </tr>
                </thead>
                <tbody>
                  {cases.data.cases.map((c) => (
                    <tr key={c.id}>
                      <th scope="row"><Link to={`/cases/${c.id}`}>{c.subject ?? t('noSubject')}</Link></th>
                      <td><StateBadge state={c.state} /></td>
                      <td>{c.peer}</td>
                      <td>{t(`chan_${c.channel}` as 'chan_crisis')}</td>
                      <td>{label(catalog.data?.kind_labels[c.kind], lang, c.kind)}</td>
                      <td className={c.priority === 'flash' ? 'flash' : c.priority === 'immediate' ? 'immediate' : undefined}>{t(`prio_${c.priority}` as 'prio_flash')}</td>
                      <td><Instant at={c.opened_at} /></td>
                      <td><Instant at={c.updated_at} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
    </>
  );
}
