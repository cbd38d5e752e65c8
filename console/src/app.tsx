import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Api, type Workspace } from './api';
import { currentSession, finishCognitoSignIn, signInWithToken, signOut, startCognitoSignIn } from './auth';
import { type ConsoleConfig, loadConfig } from './config';
import { isManager } from './ui';
import { AdminView } from './views/admin';
import { BoardView } from './views/board';
import { DashboardView } from './views/dashboard';
import { LeadView } from './views/lead';
import { QueueView } from './views/queue';

/**
 * The console shell: sign-in, navigation and a hash router (`#/queue`, `#/leads/<id>`,
 * `#/board`, `#/dashboard`, `#/admin`). Hash routes keep every view reachable from a plain
 * static host (S3 + CloudFront) without rewrite rules.
 */

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

interface DevUser {
  readonly role: string;
  readonly name: string;
  readonly token: string;
}

function SignIn({ config, onSignedIn }: { config: ConsoleConfig; onSignedIn: () => void }) {
  const [users, setUsers] = useState<DevUser[]>([]);
  const [error, setError] = useState<string>();
  const auth = config.auth;
  useEffect(() => {
    if (auth.kind !== 'local') return;
    fetch(auth.usersUrl)
      .then((r) => r.json() as Promise<DevUser[]>)
      .then(setUsers, (e: Error) => setError(e.message));
  }, [auth]);
  return (
    <main id="main" class="signin">
      <h1>Sign in to the sales console</h1>
      {auth.kind === 'cognito' ? (
        <button type="button" class="primary" onClick={() => void startCognitoSignIn(auth)}>
          Sign in
        </button>
      ) : (
        <>
          <p>Offline runtime: choose a dev user. Each one is a real token the local API checks.</p>
          <ul class="users">
            {users.map((u) => (
              <li key={u.role}>
                <button
                  type="button"
                  class="primary"
                  onClick={() => {
                    signInWithToken(u.token);
                    onSignedIn();
                  }}
                >
                  {u.name} <span class="muted">({u.role})</span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      {error && <p role="alert">{error}</p>}
    </main>
  );
}

function Shell({ config }: { config: ConsoleConfig }) {
  const [session, setSession] = useState(currentSession());
  const [workspace, setWorkspace] = useState<Workspace>();
  const [error, setError] = useState<string>();
  const hash = useHash();
  const api = useMemo(
    () =>
      session
        ? new Api(config.apiUrl, session.token, () => {
            signOut();
            setSession(undefined);
          })
        : undefined,
    [config, session],
  );
  useEffect(() => {
    setWorkspace(undefined);
    api?.workspace().then(setWorkspace, (e: Error) => setError(e.message));
  }, [api]);

  if (!session || !api) return <SignIn config={config} onSignedIn={() => setSession(currentSession())} />;
  if (!workspace)
    return (
      <main id="main">
        <p role="status">{error ?? 'Loading…'}</p>
      </main>
    );

  const manager = isManager(workspace);
  const admin = workspace.me.roles.includes('admin');
  const home = workspace.me.repId && !admin ? '#/queue' : '#/dashboard';
  const route = hash === '#/' ? home : hash;
  const leadMatch = /^#\/leads\/([^/?]+)/.exec(route);
  const links: Array<[string, string, boolean]> = [
    ['#/queue', 'My queue', workspace.me.repId !== undefined],
    ['#/board', 'Pipeline', workspace.me.repId !== undefined || admin],
    ['#/dashboard', 'Dashboard', manager],
    ['#/admin', 'Admin', admin],
  ];
  const view = leadMatch?.[1] ? (
    <LeadView api={api} workspace={workspace} leadId={decodeURIComponent(leadMatch[1])} />
  ) : route.startsWith('#/board') ? (
    <BoardView api={api} workspace={workspace} />
  ) : route.startsWith('#/dashboard') && manager ? (
    <DashboardView api={api} workspace={workspace} />
  ) : route.startsWith('#/admin') && admin ? (
    <AdminView api={api} workspace={workspace} />
  ) : (
    <QueueView api={api} workspace={workspace} />
  );
  return (
    <>
      {/* A button, not a #main link: the hash is the router's. */}
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <span class="brand">{workspace.client.displayName}</span>
        <nav aria-label="Main">
          <ul>
            {links
              .filter(([, , shown]) => shown)
              .map(([href, label]) => (
                <li key={href}>
                  <a href={href} aria-current={route.startsWith(href) ? 'page' : undefined}>
                    {label}
                  </a>
                </li>
              ))}
          </ul>
        </nav>
        <span class="account">
          {workspace.me.name ?? session.email} · {workspace.me.roles.join(', ')}
          <button
            type="button"
            class="link"
            onClick={() => {
              signOut();
              setSession(undefined);
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {view}
      </main>
    </>
  );
}

async function boot(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  try {
    const config = await loadConfig();
    if (config.auth.kind === 'cognito') await finishCognitoSignIn(config.auth);
    render(<Shell config={config} />, root);
  } catch (error) {
    root.textContent = `The console could not start: ${(error as Error).message}`;
  }
}

void boot();
