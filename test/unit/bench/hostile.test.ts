import { describe, expect, it } from 'vitest';
import { hostileRequests } from '../../../bench/chaos/hostile';
import type { Endpoints } from '../../../local/runtime';
import { WEBHOOK_PROVIDERS } from '../../../shared/webhooks';

const claims = Buffer.from(
  JSON.stringify({ iss: 'local', aud: 'console', 'cognito:username': 'admin' }),
).toString('base64url');
const token = `e30.${claims}.sig`;
const endpoints = {
  tokens: { rep: token, manager: token, admin: token },
  devSecrets: { signingKey: 'k', typeformSecret: 't', googleAdsKey: 'g' },
} as unknown as Endpoints;

const ROUTES = [
  { method: 'POST', path: '/leads' },
  { method: 'POST', path: '/webhooks/{provider}' },
  { method: 'GET', path: '/unsubscribe' },
  { method: 'POST', path: '/brand-new/{id}' },
  { method: 'GET', path: '/leads', jwt: {} },
  { method: 'POST', path: '/leads/{id}/contacted', jwt: {} },
  { method: 'GET', path: '/reports/{report}', jwt: {} },
];

describe('hostile requests', () => {
  it('probe every route of the API, including public routes no generator knows', async () => {
    const requests = await hostileRequests(endpoints, 2_000, 'lead-1', ROUTES);
    const routes = new Set(requests.map((r) => r.route));
    for (const r of ROUTES) expect(routes, `${r.method} ${r.path}`).toContain(`${r.method} ${r.path}`);
  });

  it('send every webhook provider missing, bad and good signatures, and a provider that does not exist', async () => {
    const requests = await hostileRequests(endpoints, 4_000, 'lead-1', ROUTES);
    const webhooks = requests.filter((r) => r.route === 'POST /webhooks/{provider}');
    for (const provider of [...WEBHOOK_PROVIDERS, 'nope']) {
      const kinds = new Set(webhooks.filter((r) => r.path === `/webhooks/${provider}`).map((r) => r.kind));
      expect([...kinds].sort(), provider).toEqual(
        ['webhook bad signature', 'webhook good signature', 'webhook missing signature'].sort(),
      );
    }
  });
});
