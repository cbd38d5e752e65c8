/**
 * What the console reads from `/config.json` at start: written by `npm start` offline and by
 * the deploy (the stack's API URL and Cognito ids), so one bundle serves every client.
 */
export type AuthConfig =
  | {
      /** Offline: a sign-in page listing the runtime's dev users. */
      readonly kind: 'local';
      /** Returns the dev users and their tokens (only served by the offline runtime). */
      readonly usersUrl: string;
    }
  | {
      /** Deployed: Cognito managed login, authorization code with PKCE. */
      readonly kind: 'cognito';
      /** `https://<prefix>.auth.<region>.amazoncognito.com` */
      readonly domain: string;
      readonly clientId: string;
      readonly userPoolId: string;
      readonly region: string;
    };

export interface ConsoleConfig {
  readonly apiUrl: string;
  readonly auth: AuthConfig;
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json answered ${response.status}`);
  return (await response.json()) as ConsoleConfig;
}
