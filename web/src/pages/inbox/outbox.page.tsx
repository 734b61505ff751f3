/** The outbox (/outbox): what went out, with its delivery state (queued, retrying, receipted) and who acknowledged it. */
import type { PageProps } from '../registry';
import { MessageList } from './message-list';

export default function OutboxPage(_props: PageProps) {
  return <MessageList direction="out" />;
}
