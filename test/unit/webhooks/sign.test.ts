import { describe, expect, it } from 'vitest';
import { WEBHOOK_ADAPTERS, WEBHOOK_PROVIDERS, WEBHOOK_REGISTRY } from '../../../shared/webhooks';
import type { WebhookRequest } from '../../../shared/webhooks/common';
import { WEBHOOK_SIGNERS } from '../../../shared/webhooks/sign';

const NOW = new Date('2026-12-03T12:00:00Z');
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

  it(`${adapter.bindsBody ? 'binds' : 'does not bind'} the body, as the adapter declares`, () => {
    const delivery = sign(BODY, 'the-secret', NOW);
    const tampered = { ...delivery, body: delivery.body.replace('Jane', 'Mallory') };
    expect(tampered.body).not.toBe(delivery.body);
    // A signature over the bytes fails on a changed body; a shared key or token (Google Ads sends
    // its key inside the body, Unbounce and generic senders a derived token) still passes.
    expect(adapter.verify(request(tampered), 'the-secret', NOW).ok).toBe(!adapter.bindsBody);
  });
});

describe('the adapters declaring bindsBody', () => {
  it('include both kinds, so the check above exercises each', () => {
    const kinds = new Set(WEBHOOK_REGISTRY.map((a) => a.bindsBody));
    expect(kinds).toEqual(new Set([true, false]));
  });
});
