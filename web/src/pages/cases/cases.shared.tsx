/** What the Cases pages share: the API's case shape, and a state shown as an icon and a word (never colour alone). */
import { useT } from '../../i18n/i18n';
import { casesMessages } from './cases.messages';

export interface CaseView {
  id: string;
  channel: string;
  peer: string;
  kind: string;
  priority: string;
  state: 'open' | 'acknowledged' | 'answered' | 'closed';
  states: CaseView['state'][];
  opened_by: 'in' | 'out';
  opened_at: string;
  updated_at: string;
  subject: string | null;
  last_message_id: string;
  closed_by: string | null;
  closed_at: string | null;
}

export const CASE_STATES = ['open', 'acknowledged', 'answered', 'closed'] as const;

const ICONS: Record<CaseView['state'], string> = { open: '○', acknowledged: '✓', answered: '↩', closed: '■' };

export function StateBadge({ state }: { state: CaseView['state'] }) {
  const t = useT(casesMessages);
  return <span className={`state state-${state}`}><span aria-hidden="true">{ICONS[state]} </span>{t(`st_${state}`)}</span>;
}
