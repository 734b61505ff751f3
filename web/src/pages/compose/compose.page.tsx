/**
 * Compose and reply (`/compose`, `/compose?reply=<message id>[&kind=<kind>]`): a form generated
 * from the template data (GET /api/v1/templates), every problem at once beside its field (checked
 * here with the templates' rules, and the node's own refusal placed beside the same fields), a
 * preview in the peer officer's language, TLP:RED recipients from the peer's directory. Reply mode
 * fixes the peer, the channel and the case, offers the kinds the case's machine allows next, and
 * acknowledges the answered message (as the API's reply does) unless unticked.
 */
import { useQuery } from '@tanstack/react-query';
import { get } from '../../api';
import { useLang } from '../../i18n/i18n';
import { useRoute } from '../../router';
import { ErrorBox, Loading } from '../../ui/ui';
import type { PageProps } from '../registry';
import { ComposeForm, type Peer, type ReplyContext } from './compose.form';
import type { TemplatesView } from './templates';
import './compose.css';

interface Shown { message: { id: string; direction: 'in' | 'out'; from: string; to: string; channel: string; case: string; priority: string; tlp: string; sender: string | null } }
interface CaseShown { case: { id: string; subject: string | null }; next: { kind: string; via: string }[]; messages: { id: string; summary: string | null }[] }

export default function ComposePage(_props: PageProps) {
  const { search } = useRoute();
  const { lang } = useLang();
  const replyId = search.get('reply');
  const presetKind = search.get('kind');
  const catalog = useQuery({ queryKey: ['templates'], queryFn: () => get<TemplatesView>('/api/v1/templates'), staleTime: 60_000 });
  const peers = useQuery({ queryKey: ['peers'], queryFn: () => get<{ peers: Peer[] }>('/api/v1/peers'), staleTime: 60_000 });
  const original = useQuery({ queryKey: ['message', replyId, lang], queryFn: () => get<Shown>(`/api/v1/messages/${encodeURIComponent(replyId ?? '')}`, { lang }), enabled: replyId !== null });
  const caseId = original.data?.message.case;
  const kase = useQuery({ queryKey: ['case', caseId, lang], queryFn: () => get<CaseShown>(`/api/v1/cases/${caseId ?? ''}`, { lang }), enabled: caseId !== undefined });

  const error = catalog.error ?? peers.error ?? original.error ?? kase.error;
  if (error !== null) return <ErrorBox error={error} retry={() => { void catalog.refetch(); void peers.refetch(); void original.refetch(); void kase.refetch(); }} />;
  if (catalog.data === undefined || peers.data === undefined || (replyId !== null && kase.data === undefined)) return <Loading />;

  let reply: ReplyContext | null = null;
  if (replyId !== null && original.data !== undefined && kase.data !== undefined) {
    const m = original.data.message;
    reply = {
      id: m.id, case: m.case, channel: m.channel, peer: m.direction === 'in' ? m.from : m.to, priority: m.priority, tlp: m.tlp,
      sender: m.direction === 'in' ? m.sender : null,
      summary: kase.data.messages.find((x) => x.id === m.id)?.summary ?? null,
      kinds: kase.data.next.filter((s) => s.via === 'reply').map((s) => s.kind),
    };
  }
  return <ComposeForm key={replyId ?? 'new'} catalog={catalog.data} peers={peers.data.peers} reply={reply} presetKind={presetKind} />;
}
