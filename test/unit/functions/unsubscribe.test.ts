import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { confirmPage, createHandler } from '../../../functions/unsubscribe/handler';
import { loadClientConfig } from '../../../shared/config/load';
import type { Activity, Lead } from '../../../shared/domain/lead';
import { signToken } from '../../../shared/domain/tokens';
import type { ApiEvent, ApiResult } from '../../../shared/http/api';
import { EmailHarness, SIGNING_KEY } from './email-kit';
import { activity, makeLead, throttling } from './pipeline-kit';

const example = loadClientConfig('example', 'clients');
const NOW = new Date('2026-03-02T10:00:00.000Z');
const TOKEN = signToken('unsubscribe', 'lead-1', SIGNING_KEY, new Date('2025-01-01T00:00:00Z'));

let h: EmailHarness;
beforeEach(() => {
  h = new EmailHarness();
});
afterEach(() => h.restore());

function unsubscribe() {
  let ids = 0;
  return createHandler({
    repository: h.repository,
    publisher: h.publisher,
    secrets: h.secrets,
    config: example,
    now: () => NOW,
    newId: () => `unsub-${++ids}`,
  });
}

function request(
  method: string,
  options: { token?: string; body?: string; contentType?: string; base64?: boolean } = {},
): ApiEvent {
  const query = options.token === undefined ? '' : `token=${encodeURIComponent(options.token)}`;
  return {
    version: '2.0',
    routeKey: `${method} /unsubscribe`,
    rawPath: '/unsubscribe',
    rawQueryString: query,
    ...(options.token === undefined ? {} : { queryStringParameters: { token: options.token } }),
    headers: options.contentType ? { 'content-type': options.contentType } : {},
    requestContext: { http: { method, path: '/unsubscribe' }, stage: '$default' },
    ...(options.body === undefined
      ? {}
      : {
          body: options.base64 ? Buffer.from(options.body).toString('base64') : options.body,
          isBase64Encoded: options.base64 ?? false,
        }),
  } as unknown as ApiEvent;
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const nurtured = (overrides: Partial<Lead> = {}) =>
  makeLead({
    status: 'nurturing',
    consent: { marketing: true, at: '2026-03-01T09:00:00.000Z', via: 'form' },
    version: 3,
    ...overrides,
  });

function expectSafePage(result: ApiResult) {
  const body = String(result.body);
  expect(result.headers?.['content-type']).toBe('text/html; charset=utf-8');
  expect(result.headers?.['referrer-policy']).toBe('no-referrer');
  expect(result.headers?.['cache-control']).toBe('no-store');
  expect(body).not.toMatch(/<script|<link|<img|<iframe|src=|url\(/i);
}

describe('unsubscribe GET', () => {
  it('shows a confirmation form and changes nothing', async () => {
    h.table.putLead(nurtured());
    const result = await unsubscribe()(request('GET', { token: TOKEN }));
    expect(result.statusCode).toBe(200);
    expectSafePage(result);
    expect(String(result.body)).toContain('<form method="post" action="">');
    expect(String(result.body)).toContain(`<input type="hidden" name="token" value="${TOKEN}">`);
    expect(String(result.body)).toContain('Northwind Analytics');
    expect(h.table.calls).toEqual([]);
    expect(h.published).toEqual([]);
    expect(h.table.lead('lead-1').unsubscribed).toBe(false);
  });

  it('escapes the token it echoes', () => {
    expect(confirmPage('"><script>x</script>', example)).toContain(
      'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"',
    );
  });

  it('answers 400 with the same page for a missing, tampered, foreign or wrong-purpose token', async () => {
    const [payload, signature] = TOKEN.split('.');
    const otherLead = Buffer.from(JSON.stringify({ p: 'unsubscribe', l: 'lead-2' })).toString('base64url');
    const tokens = [
      undefined,
      '',
      'garbage',
      `${otherLead}.${signature}`,
      `${payload}.${signature?.slice(0, -2)}AA`,
      signToken('unsubscribe', 'lead-1', 'another-key-0123456789abcdef', NOW),
      signToken('visitor', 'lead-1', SIGNING_KEY, NOW),
    ];
    const bodies = new Set<string>();
    for (const token of tokens) {
      const result = await unsubscribe()(request('GET', token === undefined ? {} : { token }));
      expect(result.statusCode).toBe(400);
      expectSafePage(result);
      bodies.add(String(result.body));
    }
    expect(bodies.size).toBe(1);
    expect([...bodies][0]).toContain('This link is not valid');
  });
});

describe('unsubscribe POST', () => {
  it('unsubscribes from the form button: lead, consent, suppression, activity, events', async () => {
    h.table.putLead(nurtured());
    const result = await unsubscribe()(
      request('POST', {
        token: TOKEN,
        body: form({ token: TOKEN }),
        contentType: 'application/x-www-form-urlencoded',
      }),
    );
    expect(result.statusCode).toBe(200);
    expectSafePage(result);
    expect(String(result.body)).toContain('You are unsubscribed');

    const lead = h.table.lead('lead-1');
    expect(lead.unsubscribed).toBe(true);
    expect(lead.consent).toEqual({ marketing: false, at: NOW.toISOString(), via: 'unsubscribe:link' });
    expect(lead.version).toBe(4);
    expect(h.suppression('jane.doe@acme-software.example')).toMatchObject({ reason: 'unsubscribe' });
    expect(h.table.activities('lead-1')).toMatchObject([
      { id: 'unsub-1', type: 'unsubscribed', at: NOW.toISOString(), data: { via: 'link', announced: true } },
    ]);
    expect(h.published).toEqual([
      {
        detailType: 'Lead Unsubscribed',
        detail: { leadId: 'lead-1', occurredAt: NOW.toISOString(), isTest: false, via: 'link' },
      },
      {
        detailType: 'Activity Recorded',
        detail: {
          leadId: 'lead-1',
          occurredAt: NOW.toISOString(),
          isTest: false,
          activityId: 'unsub-1',
          type: 'unsubscribed',
        },
      },
    ]);
  });

  it('accepts the token from the form field alone', async () => {
    h.table.putLead(nurtured());
    const result = await unsubscribe()(
      request('POST', { body: form({ token: TOKEN }), contentType: 'application/x-www-form-urlencoded' }),
    );
    expect(result.statusCode).toBe(200);
    expect(h.table.lead('lead-1').unsubscribed).toBe(true);
  });

  it('handles the RFC 8058 one-click POST from a mailbox provider', async () => {
    h.table.putLead(nurtured());
    const result = await unsubscribe()(
      request('POST', {
        token: TOKEN,
        body: 'List-Unsubscribe=One-Click',
        contentType: 'application/x-www-form-urlencoded',
        base64: true,
      }),
    );
    expect(result.statusCode).toBe(200);
    expect(h.ofType('Lead Unsubscribed').map((e) => e.detail.via)).toEqual(['one-click']);
    expect(h.table.lead('lead-1').consent?.via).toBe('unsubscribe:one-click');
  });

  it('reads a multipart one-click body too', async () => {
    h.table.putLead(nurtured());
    const body =
      '--xyz\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--xyz--\r\n';
    const result = await unsubscribe()(
      request('POST', { token: TOKEN, body, contentType: 'multipart/form-data; boundary=xyz' }),
    );
    expect(result.statusCode).toBe(200);
    expect(h.ofType('Lead Unsubscribed').map((e) => e.detail.via)).toEqual(['one-click']);
  });

  it('is idempotent: a second POST shows the same page and publishes nothing', async () => {
    h.table.putLead(nurtured());
    const post = () =>
      unsubscribe()(
        request('POST', {
          token: TOKEN,
          body: form({ token: TOKEN }),
          contentType: 'application/x-www-form-urlencoded',
        }),
      );
    const first = await post();
    const version = h.table.lead('lead-1').version;
    const second = await post();
    expect(second).toEqual(first);
    expect(h.published).toHaveLength(2);
    expect(h.table.lead('lead-1').version).toBe(version);
    expect(h.table.activities('lead-1')).toHaveLength(1);
  });

  it('confirms while the bus refuses (the events wait in the outbox) and a repeat visit announces them, exactly once', async () => {
    h.table.putLead(nurtured());
    h.failNextPublish(throttling());
    const refused = await unsubscribe()(request('POST', { token: TOKEN }));
    // The unsubscribe is in effect and its events are stored with it: the relay would publish them.
    expect(refused.statusCode).toBe(200);
    expect(h.table.lead('lead-1').unsubscribed).toBe(true);
    expect(h.published).toEqual([]);
    expect(h.table.byPk('OUTBOX')).toHaveLength(1);

    const retried = await unsubscribe()(request('POST', { token: TOKEN }));
    expect(retried.statusCode).toBe(200);
    expect(h.published.map((e) => e.detailType)).toEqual(['Lead Unsubscribed', 'Activity Recorded']);
    expect(h.published[1]?.detail.activityId).toBe('unsub-1');

    await unsubscribe()(request('POST', { token: TOKEN }));
    expect(h.published).toHaveLength(2);
    // Announced from the outbox entry, which is gone: the relay has nothing left to publish.
    expect(h.table.byPk('OUTBOX')).toEqual([]);
  });

  it('does not announce a lead unsubscribed another way, and keeps the first suppression reason', async () => {
    const complained: Activity = activity('lead-1', 'email_complained', '2026-03-01T12:00:00.000Z');
    h.table.putLead(nurtured({ unsubscribed: true }));
    h.table.putActivities([complained]);
    h.suppressAddress('jane.doe@acme-software.example', 'complaint');
    const result = await unsubscribe()(request('POST', { token: TOKEN }));
    expect(result.statusCode).toBe(200);
    expect(h.published).toEqual([]);
    expect(h.suppression('jane.doe@acme-software.example')).toMatchObject({ reason: 'complaint' });
  });

  it('confirms for a valid token of an erased lead without writing anything', async () => {
    const result = await unsubscribe()(request('POST', { token: TOKEN }));
    expect(result.statusCode).toBe(200);
    expect(String(result.body)).toContain('You are unsubscribed');
    expect(h.table.items.size).toBe(0);
  });

  it('refuses a tampered token on POST and changes nothing', async () => {
    h.table.putLead(nurtured());
    const [payload, signature] = TOKEN.split('.');
    const forged = `${Buffer.from(JSON.stringify({ p: 'unsubscribe', l: 'lead-1', x: 1 })).toString('base64url')}.${signature}`;
    for (const token of [forged, `${payload}.${'A'.repeat(43)}`]) {
      const result = await unsubscribe()(
        request('POST', {
          token,
          body: 'List-Unsubscribe=One-Click',
          contentType: 'application/x-www-form-urlencoded',
        }),
      );
      expect(result.statusCode).toBe(400);
    }
    expect(h.table.lead('lead-1').unsubscribed).toBe(false);
    expect(h.published).toEqual([]);
  });

  it('answers 503 when DynamoDB throttles, and the retry works', async () => {
    h.table.putLead(nurtured());
    h.table.failNext('TransactWriteCommand', throttling());
    expect((await unsubscribe()(request('POST', { token: TOKEN }))).statusCode).toBe(503);
    expect(h.table.lead('lead-1').unsubscribed).toBe(false);
    expect((await unsubscribe()(request('POST', { token: TOKEN }))).statusCode).toBe(200);
    expect(h.table.lead('lead-1').unsubscribed).toBe(true);
  });

  it('survives a concurrent write to the lead (optimistic concurrency retry)', async () => {
    h.table.putLead(nurtured());
    h.table.beforeNext('TransactWriteCommand', () =>
      h.table.putLead(nurtured({ version: 4, priority: 'high' })),
    );
    expect((await unsubscribe()(request('POST', { token: TOKEN }))).statusCode).toBe(200);
    expect(h.table.lead('lead-1')).toMatchObject({ unsubscribed: true, priority: 'high', version: 5 });
  });

  it('answers 503 when the signing key cannot be read', async () => {
    h.secretsMock
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('down'), { name: 'InternalServiceError' }));
    const result = await unsubscribe()(request('GET', { token: TOKEN }));
    expect(result.statusCode).toBe(503);
    expectSafePage(result);
  });

  it('refuses other methods and oversized bodies', async () => {
    expect((await unsubscribe()(request('DELETE', { token: TOKEN }))).statusCode).toBe(405);
    const big = await unsubscribe()(
      request('POST', {
        token: TOKEN,
        body: 'x'.repeat(20_000),
        contentType: 'application/x-www-form-urlencoded',
      }),
    );
    expect(big.statusCode).toBe(413);
  });
});
