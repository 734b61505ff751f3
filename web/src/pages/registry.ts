/**
 * The console's pages: a path pattern, the page's module (loaded when first visited, so the first
 * load is the shell and the queue), and its place in the navigation. One line per page.
 */
import { lazy, type ComponentType, type LazyExoticComponent } from 'react';

export interface PageProps { params: Record<string, string> }
export type NavKey = 'queue' | 'inbox' | 'outbox' | 'compose' | 'cases' | 'directory' | 'reachability' | 'law' | 'feeds' | 'taxii' | 'admin' | 'account';

export interface PageEntry {
  path: string;
  page: LazyExoticComponent<ComponentType<PageProps>> | ComponentType<PageProps>;
  /** Shown in the navigation under this label. */
  nav?: NavKey;
  /** Administrators only (the API refuses the rest anyway; this hides the link). */
  admin?: boolean;
  /** A user needs one of these channels to see the link. */
  channels?: readonly string[];
}

import QueuePage from './queue/queue.page';

export const PAGES: readonly PageEntry[] = [
  { path: '/', page: QueuePage, nav: 'queue' },
  { path: '/messages/:id', page: lazy(() => import('./message/message.page')) },
  { path: '/inbox', page: lazy(() => import('./inbox/inbox.page')), nav: 'inbox' },
  { path: '/outbox', page: lazy(() => import('./inbox/outbox.page')), nav: 'outbox' },
  { path: '/compose', page: lazy(() => import('./compose/compose.page')), nav: 'compose' },
  { path: '/cases', page: lazy(() => import('./cases/cases.page')), nav: 'cases' },
  { path: '/cases/:id', page: lazy(() => import('./cases/case.page')) },
  { path: '/directory', page: lazy(() => import('./directory/directory.page')), nav: 'directory' },
  { path: '/reachability', page: lazy(() => import('./reachability/reachability.page')), nav: 'reachability' },
  { path: '/law', page: lazy(() => import('./law/law.page')), nav: 'law', channels: ['law'] },
  { path: '/feeds', page: lazy(() => import('./feeds/feeds.page')), nav: 'feeds', channels: ['cert'] },
  { path: '/taxii', page: lazy(() => import('./feeds/taxii.page')), nav: 'taxii', channels: ['cert'] },
  { path: '/admin', page: lazy(() => import('./admin/admin.page')), nav: 'admin', admin: true },
  { path: '/account', page: lazy(() => import('./account/account.page')), nav: 'account' },
];
