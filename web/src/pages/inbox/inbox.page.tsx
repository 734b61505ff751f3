/** The inbox (/inbox): what came in, filtered and searched; `?search=` prefilled from the URL. */
import type { PageProps } from '../registry';
import { MessageList } from './message-list';

export default function InboxPage(_props: PageProps) {
  return <MessageList direction="in" />;
}
