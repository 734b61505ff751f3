/**
 * Paths are real URLs (/messages/0193..., /cases): a link in an alert e-mail opens the page, and
 * the node answers every console path with the page (src/adapters/http/web.ts). No library: the
 * History API and one context.
 */
import { createContext, useContext, useEffect, useState, type AnchorHTMLAttributes, type MouseEvent, type ReactNode } from 'react';

interface RouteState { path: string; search: URLSearchParams; navigate(to: string, opts?: { replace?: boolean }): void }
const RouteContext = createContext<RouteState>({ path: '/', search: new URLSearchParams(), navigate: () => undefined });

export function Router({ children }: { children: ReactNode }) {
  const [loc, setLoc] = useState(() => ({ path: location.pathname, search: location.search }));
  useEffect(() => {
    const on = () => setLoc({ path: location.pathname, search: location.search });
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  const navigate = (to: string, opts?: { replace?: boolean }) => {
    if (opts?.replace === true) history.replaceState(null, '', to); else history.pushState(null, '', to);
    setLoc({ path: location.pathname, search: location.search });
    window.scrollTo(0, 0);
  };
  return <RouteContext.Provider value={{ path: loc.path, search: new URLSearchParams(loc.search), navigate }}>{children}</RouteContext.Provider>;
}

export function useRoute(): RouteState {
  return useContext(RouteContext);
}

/** `/cases/:id` against a path: the parameters, or null when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const ps = pattern.split('/').filter(Boolean), xs = path.split('/').filter(Boolean);
  if (ps.length !== xs.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i]!, x = xs[i]!;
    if (p.startsWith(':')) out[p.slice(1)] = decodeURIComponent(x);
    else if (p !== x) return null;
  }
  return out;
}

/** An <a> that navigates without reloading (a middle click or ctrl-click still opens a tab). */
export function Link({ to, children, ...rest }: { to: string; children: ReactNode } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const { navigate } = useRoute();
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={onClick} {...rest}>{children}</a>;
}
