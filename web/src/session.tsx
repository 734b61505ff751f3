/** Who is signed in: GET /api/v1/session on load; the sign-in page replaces it. */
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, ApiError, setCsrfToken, setOnUnauthorized, type Session } from './api';

interface SessionState {
  /** undefined while loading, null when signed out. */
  session: Session | null | undefined;
  signedIn(s: Session): void;
  signOut(): Promise<void>;
}
const SessionContext = createContext<SessionState>({ session: undefined, signedIn: () => undefined, signOut: async () => undefined });

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const qc = useQueryClient();
  const signedIn = useCallback((s: Session) => { setCsrfToken(s.csrf_token); setSession(s); }, []);
  const signedOut = useCallback(() => { setCsrfToken(null); setSession(null); qc.clear(); }, [qc]);
  useEffect(() => {
    setOnUnauthorized(signedOut);
    api<Session>('GET', '/api/v1/session').then(signedIn, (e: unknown) => {
      if (e instanceof ApiError && e.status === 401) signedOut(); else setSession(null);
    });
    return () => setOnUnauthorized(null);
  }, [signedIn, signedOut]);
  const signOut = useCallback(async () => {
    try { await api('DELETE', '/api/v1/session'); } finally { signedOut(); }
  }, [signedOut]);
  return <SessionContext.Provider value={{ session, signedIn, signOut }}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  return useContext(SessionContext);
}

/** The signed-in session (pages render only inside the shell, which requires one). */
export function useMe(): Session {
  const { session } = useSession();
  if (session === null || session === undefined) throw new Error('useMe outside a session');
  return session;
}
