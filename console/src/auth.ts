import type { AuthConfig } from './config';

/**
 * The signed-in session: an ID token kept in sessionStorage (gone when the tab closes). Offline
 * the dev tokens come from the runtime; deployed, from Cognito's managed login with the
 * authorization code flow and PKCE (RFC 7636), so no client secret lives in the browser.
 */

const TOKEN_KEY = 'console.idToken';
const VERIFIER_KEY = 'console.pkceVerifier';
const STATE_KEY = 'console.oauthState';

export interface Session {
  readonly token: string;
  readonly email?: string;
  readonly groups: readonly string[];
  readonly expiresAt: number;
}

export function currentSession(): Session | undefined {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return undefined;
  const session = decode(token);
  if (!session || session.expiresAt < Date.now()) {
    sessionStorage.removeItem(TOKEN_KEY);
    return undefined;
  }
  return session;
}

export function signInWithToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Claims the UI uses for display only; the API verifies the token itself. */
function decode(token: string): Session | undefined {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    const groups = json['cognito:groups'];
    return {
      token,
      ...(typeof json.email === 'string' ? { email: json.email } : {}),
      groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [],
      expiresAt: typeof json.exp === 'number' ? json.exp * 1000 : 0,
    };
  } catch {
    return undefined;
  }
}

function base64Url(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function redirectUri(): string {
  return `${location.origin}/`;
}

/** Sends the browser to Cognito's managed login with a fresh PKCE challenge. */
export async function startCognitoSignIn(auth: Extract<AuthConfig, { kind: 'cognito' }>): Promise<void> {
  const verifier = base64Url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64Url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64Url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );
  sessionStorage.setItem(VERIFIER_KEY, verifier);
  sessionStorage.setItem(STATE_KEY, state);
  const url = new URL('/oauth2/authorize', auth.domain);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: auth.clientId,
    redirect_uri: redirectUri(),
    scope: 'openid email profile',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

/**
 * Completes the managed login when the page was opened with `?code=…&state=…`: checks the
 * state, exchanges the code with the PKCE verifier and keeps the ID token.
 * @returns true when a code was exchanged.
 */
export async function finishCognitoSignIn(auth: Extract<AuthConfig, { kind: 'cognito' }>): Promise<boolean> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  if (!code) return false;
  const verifier = sessionStorage.getItem(VERIFIER_KEY);
  const state = sessionStorage.getItem(STATE_KEY);
  sessionStorage.removeItem(VERIFIER_KEY);
  sessionStorage.removeItem(STATE_KEY);
  history.replaceState(null, '', `/${location.hash}`);
  if (!verifier || params.get('state') !== state)
    throw new Error('The sign-in answer does not match this tab: sign in again');
  const response = await fetch(new URL('/oauth2/token', auth.domain), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: auth.clientId,
      code,
      redirect_uri: redirectUri(),
      code_verifier: verifier,
    }),
  });
  if (!response.ok) throw new Error(`Sign-in failed (${response.status}): sign in again`);
  const tokens = (await response.json()) as { id_token?: string };
  if (!tokens.id_token) throw new Error('Cognito returned no ID token');
  signInWithToken(tokens.id_token);
  return true;
}
