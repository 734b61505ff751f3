/** Alert sinks (GET /api/v1/sinks) and "Send a test alert" (POST /api/v1/sinks/:name/test): the outcome as the node saw it. */
import { useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { get, post } from '../../api';
import { useT } from '../../i18n/i18n';
import { Instant } from '../../i18n/time';
import { ErrorBox, Loading } from '../../ui/ui';
import { adminMessages } from './admin.messages';
import type { Sink } from './admin.types';

interface TestResult { id: string; outcome: 'delivered' | 'failed'; error_code: string | null; error: string | null }

export function SinksTab() {
  const t = useT(adminMessages);
  const sinks = useQuery({ queryKey: ['admin', 'sinks'], queryFn: () => get<{ sinks: Sink[] }>('/api/v1/sinks') });
  const [results, setResults] = useState<Record<string, TestResult>>({});
  const test = useMutation({
    mutationFn: (name: string) => post<TestResult>(`/api/v1/sinks/${encodeURIComponent(name)}/test`),
    onSuccess: (r, name) => setResults((x) => ({ ...x, [name]: r })),
  });
  return (
    <section aria-labelledby="sinks-h">
      <h2 id="sinks-h">{t('sinksTitle')}</h2>
      {test.error !== null && <ErrorBox error={test.error} />}
      {sinks.isPending ? <Loading /> : sinks.error !== null ? <ErrorBox error={sinks.error} retry={() => void sinks.refetch()} /> : sinks.data.sinks.length === 0 ? <p className="muted">{t('sinksNone')}</p> : (
        <table>
          <thead><tr><th scope="col">{t('sinkName')}</th><th scope="col">{t('type')}</th><th scope="col">{t('target')}</th><th scope="col">{t('format')}</th><th scope="col">{t('signed')}</th><th scope="col">{t('created')}</th><th scope="col">{t('testCol')}</th></tr></thead>
          <tbody>
            {sinks.data.sinks.map((s) => {
              const r = results[s.name];
              return (
                <tr key={s.name} data-sink={s.name}>
                  <th scope="row">{s.name}</th><td>{s.type}</td><td><span className="details">{s.target}</span></td><td>{s.format}</td><td>{s.signed ? t('yes') : t('no')}</td><td><Instant at={s.created_at} /></td>
                  <td>
                    <button type="button" aria-label={t('testSink', { name: s.name })} disabled={test.isPending} onClick={() => test.mutate(s.name)}>{t('test')}</button>
                    <div role="status" aria-live="polite">
                      {r !== undefined && (r.outcome === 'delivered'
                        ? <span className="state-ok"><span aria-hidden="true">✔ </span>{t('delivered')}</span>
                        : <span className="state-bad"><span aria-hidden="true">✖ </span>{t('failedWith', { error: `${r.error ?? ''} (${r.error_code ?? '?'})` })}</span>)}
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
