/**
 * Users and API tokens (administrators): list, add a user, disable one; tokens: create (the secret
 * is shown once, here), revoke. GET/POST /api/v1/users, POST /users/:name/disable, GET/POST
 * /api/v1/tokens, DELETE /api/v1/tokens/:id.
 */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { del, get, post } from '../../api';
import { useT } from '../../i18n/i18n';
import { Instant } from '../../i18n/time';
import { ErrorBox, Loading } from '../../ui/ui';
import { adminMessages } from './admin.messages';
import { CHANNELS, type Token, type User } from './admin.types';

export function UsersTab() {
  const t = useT(adminMessages);
  const qc = useQueryClient();
  const users = useQuery({ queryKey: ['admin', 'users'], queryFn: () => get<{ users: User[] }>('/api/v1/users') });
  const [said, setSaid] = useState<string | null>(null);
  const disable = useMutation({
    mutationFn: (name: string) => post<User>(`/api/v1/users/${encodeURIComponent(name)}/disable`),
    onSuccess: (u) => { setSaid(t('disabledUser', { name: u.name })); void qc.invalidateQueries({ queryKey: ['admin'] }); },
  });
  const roleName = (r: User['role']) => t(r === 'admin' ? 'roleAdmin' : r === 'peer' ? 'rolePeer' : 'roleOfficer');
  return (
    <section aria-labelledby="users-h">
      <h2 id="users-h">{t('usersTitle')}</h2>
      <p role="status" aria-live="polite">{said}</p>
      {disable.error !== null && <ErrorBox error={disable.error} />}
      {users.isPending ? <Loading /> : users.error !== null ? <ErrorBox error={users.error} retry={() => void users.refetch()} /> : (
        <table>
          <thead><tr><th scope="col">{t('userName')}</th><th scope="col">{t('displayName')}</th><th scope="col">{t('role')}</th><th scope="col">{t('channels')}</th><th scope="col">{t('created')}</th><th scope="col">{t('state')}</th><th scope="col"><span className="visually-hidden">{t('disable')}</span></th></tr></thead>
          <tbody>
            {users.data.users.map((u) => (
              <tr key={u.name} data-user={u.name}>
                <th scope="row">{u.name}</th><td>{u.display_name ?? '—'}</td><td>{roleName(u.role)}{u.peer !== undefined && ` (${u.peer})`}</td><td>{u.channels.join(', ')}</td>
                <td><Instant at={u.created_at} /></td>
                <td>{u.disabled_at === null ? <span className="state-ok"><span aria-hidden="true">✔ </span>{t('active')}</span> : <span className="state-bad"><span aria-hidden="true">⛔ </span>{t('disabled')} <Instant at={u.disabled_at} /></span>}</td>
                <td>{u.disabled_at === null && (
                  <button type="button" className="secondary" aria-label={t('disableUser', { name: u.name })} disabled={disable.isPending}
                    onClick={() => { if (window.confirm(t('confirmDisable', { name: u.name }))) disable.mutate(u.name); }}>{t('disable')}</button>
                )}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <AddUser onAdded={(name) => setSaid(t('added', { name }))} />
      <Tokens users={users.data?.users ?? []} />
    </section>
  );
}

function AddUser({ onAdded }: { onAdded(name: string): void }) {
  const t = useT(adminMessages);
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [display, setDisplay] = useState('');
  const [role, setRole] = useState<'officer' | 'admin' | 'peer'>('officer');
  const [channels, setChannels] = useState<string[]>([]);
  const [peer, setPeer] = useState('');
  const [password, setPassword] = useState('');
  const add = useMutation({
    mutationFn: async () => {
      const u = await post<User>('/api/v1/users', {
        name, role, ...(display.trim() === '' ? {} : { display_name: display.trim() }),
        ...(role === 'peer' ? { peer } : channels.length === 0 && role === 'admin' ? {} : { channels }),
      });
      // The first console password (a peer's account has none: it uses TAXII with a token).
      if (role !== 'peer' && password !== '') {
        try {
          await post(`/api/v1/users/${encodeURIComponent(u.name)}/password`, { password });
        } finally {
          void qc.invalidateQueries({ queryKey: ['admin', 'users'] });
        }
      }
      return u;
    },
    onSuccess: (u) => { onAdded(u.name); setName(''); setDisplay(''); setChannels([]); setPassword(''); void qc.invalidateQueries({ queryKey: ['admin', 'users'] }); },
  });
  const submit = (e: FormEvent) => { e.preventDefault(); add.mutate(); };
  const toggle = (c: string) => setChannels((cs) => (cs.includes(c) ? cs.filter((x) => x !== c) : [...cs, c]));
  return (
    <>
      <h3>{t('addUserTitle')}</h3>
      <form className="admin-form" onSubmit={submit}>
        <div><label htmlFor="user-name">{t('userName')}</label><input id="user-name" required value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" /></div>
        <div><label htmlFor="user-display">{t('displayName')}</label><input id="user-display" value={display} onChange={(e) => setDisplay(e.target.value)} /></div>
        <div>
          <label htmlFor="user-role">{t('role')}</label>
          <select id="user-role" value={role} onChange={(e) => setRole(e.target.value as typeof role)}>
            <option value="officer">{t('roleOfficer')}</option><option value="admin">{t('roleAdmin')}</option><option value="peer">{t('rolePeer')}</option>
          </select>
        </div>
        {role === 'peer' ? (
          <div><label htmlFor="user-peer">{t('peerParty')}</label><input id="user-peer" required value={peer} onChange={(e) => setPeer(e.target.value)} /></div>
        ) : (
          <fieldset>
            <legend>{t('channels')}</legend>
            {CHANNELS.map((c) => (
              <label key={c}><input type="checkbox" checked={channels.includes(c)} onChange={() => toggle(c)} /> {c}</label>
            ))}
          </fieldset>
        )}
        {role !== 'peer' && (
          <div><label htmlFor="user-password">{t('password')}</label><input id="user-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} aria-describedby="user-password-help" />
            <div id="user-password-help" className="muted">{t('passwordHelp')}</div></div>
        )}
        <div><button type="submit" disabled={add.isPending}>{t('addUser')}</button></div>
      </form>
      {add.error !== null && <ErrorBox error={add.error} />}
    </>
  );
}

function Tokens({ users }: { users: User[] }) {
  const t = useT(adminMessages);
  const qc = useQueryClient();
  const tokens = useQuery({ queryKey: ['admin', 'tokens'], queryFn: () => get<{ tokens: Token[] }>('/api/v1/tokens') });
  const [user, setUser] = useState('');
  const [secret, setSecret] = useState<{ user: string; secret: string } | null>(null);
  const [said, setSaid] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (u: string) => post<Token & { secret: string }>('/api/v1/tokens', { user: u }),
    onSuccess: (tk) => { setSecret({ user: tk.user, secret: tk.secret }); void qc.invalidateQueries({ queryKey: ['admin', 'tokens'] }); },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => del<Token>(`/api/v1/tokens/${encodeURIComponent(id)}`),
    onSuccess: (tk) => { setSaid(t('revokedToken', { id: tk.id })); void qc.invalidateQueries({ queryKey: ['admin', 'tokens'] }); },
  });
  const active = users.filter((u) => u.disabled_at === null);
  const chosen = user !== '' ? user : active[0]?.name ?? '';
  return (
    <>
      <h3 id="tokens-h">{t('tokensTitle')}</h3>
      <p role="status" aria-live="polite">{said}</p>
      {revoke.error !== null && <ErrorBox error={revoke.error} />}
      {tokens.isPending ? <Loading /> : tokens.error !== null ? <ErrorBox error={tokens.error} /> : (
        <table aria-labelledby="tokens-h">
          <thead><tr><th scope="col">{t('tokenId')}</th><th scope="col">{t('user')}</th><th scope="col">{t('created')}</th><th scope="col">{t('lastUsed')}</th><th scope="col">{t('state')}</th><th scope="col"><span className="visually-hidden">{t('revoke')}</span></th></tr></thead>
          <tbody>
            {tokens.data.tokens.map((tk) => (
              <tr key={tk.id}>
                <th scope="row"><code>{tk.id}</code></th><td>{tk.user}</td><td><Instant at={tk.created_at} /></td><td><Instant at={tk.last_used_at} /></td>
                <td>{tk.revoked_at === null ? <span className="state-ok"><span aria-hidden="true">✔ </span>{t('active')}</span> : <span className="state-bad"><span aria-hidden="true">⛔ </span>{t('revoked')} <Instant at={tk.revoked_at} /></span>}</td>
                <td>{tk.revoked_at === null && <button type="button" className="secondary" aria-label={t('revokeToken', { id: tk.id, user: tk.user })} disabled={revoke.isPending} onClick={() => revoke.mutate(tk.id)}>{t('revoke')}</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>{t('createTokenTitle')}</h3>
      <form className="admin-form" onSubmit={(e) => { e.preventDefault(); setSecret(null); if (chosen !== '') create.mutate(chosen); }}>
        <div>
          <label htmlFor="token-user">{t('user')}</label>
          <select id="token-user" value={chosen} onChange={(e) => setUser(e.target.value)}>
            {active.map((u) => <option key={u.name} value={u.name}>{u.name}</option>)}
          </select>
        </div>
        <div><button type="submit" disabled={create.isPending || chosen === ''}>{t('createToken')}</button></div>
      </form>
      {create.error !== null && <ErrorBox error={create.error} />}
      {secret !== null && (
        <div role="status" className="secret-box">
          <p><span aria-hidden="true">⚠ </span>{t('secretOnce', { user: secret.user })}</p>
          <p className="secret" data-testid="token-secret">{secret.secret}</p>
        </div>
      )}
    </>
  );
}
