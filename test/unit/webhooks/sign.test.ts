import { describe, expect, it } from 'vitest';
import { WEBHOOK_ADAPTERS, WEBHOOK_PROVIDERS } from '../../../shared/webhooks';
import type { WebhookRequest } from '../../../shared/webhooks/common';
import { WEBHOOK_SIGNERS } from '../../../shared/webhooks/sign';

const NOW = new Date('2026-12-03T12:00:00Z');
/** Providers that authenticate with a shared key or token rather than a signature over the body. */
const TOKEN_ONLY = new Set(['google_ads', 'unbounce', 'generic']);
const BODY = JSON.stringify({ email: 'jane@example.com', first_name: 'Jane' });

function request(delivery: { body: string; headers: Readonly<Record<string, string>> }): WebhookRequest {
  return {
    method: 'POST',
    headers: Object.fromEntries(Object.entries(delivery.headers).map(([k, v]) => [k.toLowerCase(), v])),
    query: {},
    body: Buffer.from(delivery.body, 'utf8'),
    contentType: 'application/json',
  };
}

describe.each(WEBHOOK_PROVIDERS)('signing a %s delivery', (provider) => {
  const adapter = WEBHOOK_ADAPTERS[provider];
  const sign = WEBHOOK_SIGNERS[provider];

  it('is accepted by the adapter with the same secret', () => {
    expect(adapter.verify(request(sign(BODY, 'the-secret', NOW)), 'the-secret', NOW)).toEqual({ ok: true });
  });

  it('is refused with another secret', () => {
    expect(adapter.verify(request(sign(BODY, 'another-secret', NOW)), 'the-secret', NOW).ok).toBe(false);
  });

  it('binds the body exactly when the vendor signs it', () => {
    const delivery = sign(BODY, 'the-secret', NOW);
    const tampered = { ...delivery, body: delivery.body.replace('Jane', 'Mallory') };
    // Google Ads sends a key inside the body; Unbounce and generic senders present a shared token.
    expect(adapter.verify(request(tampered), 'the-secret', NOW).ok).toBe(TOKEN_ONLY.has(provider));
  });
});
