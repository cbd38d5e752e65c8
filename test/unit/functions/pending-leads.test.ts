import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../../functions/pending-leads/handler';
import { createHandler as createRelayHandler } from '../../../functions/relay/handler';
import { DynamoOutbox } from '../../../shared/adapters/outbox-store';
import { loadClientConfig } from '../../../shared/config/load';
import { emptySecret, type IntegrationsSecret } from '../../../shared/contracts/integration-secrets';
import { keys } from '../../../shared/contracts/table-design';
import { MetaGraphError, type MetaLeadFetcher } from '../../../shared/ports/lead-sources';
import { intakeLead } from '../../../shared/services/intake';
import { FIRST_PAUSE_MS, GIVE_UP_AFTER_MS } from '../../../shared/services/pending-leads';
import { takeInLinkedInLead, takeInMetaLead } from '../../../shared/services/webhook-intake';
import type { MetaLeadChange } from '../../../shared/webhooks/common';
import type { MetaGraphLead } from '../../../shared/webhooks/meta';
import { Harness, TABLE, throttling } from './pipeline-kit';

const config = loadClientConfig('example', 'clients');
const STORED_AT = new Date('2026-03-02T10:00:00.000Z');
const storedPlus = (ms: number) => new Date(STORED_AT.getTime() + ms);

let h: Harness;
let ids: number;
beforeEach(() => {
  h = new Harness();
  ids = 0;
});
afterEach(() => h.restore());

const CHANGE: MetaLeadChange = { leadgenId: '900002', formId: '129595594131704', pageId: '230076207144371' };

function graphLead(id: string, email: string): MetaGraphLead {
  return {
    id,
    created_time: '2026-03-02T09:59:59+0000',
    field_data: [
      { name: 'email', values: [email] },
      { name: 'full_name', values: ['Nadia Okafor'] },
      { name: 'company_name', values: ['Initech'] },
    ],
  } as MetaGraphLead;
}

/** Graph as a fetcher: the given leads by leadgen id; anything else is refused (400). */
function graph(leads: Record<string, MetaGraphLead>, calls: string[] = []): MetaLeadFetcher {
  return {
    fetchLead: async (leadgenId) => {
      calls.push(leadgenId);
      const lead = leads[leadgenId];
      if (!lead) throw new MetaGraphError('Unsupported get request', 400, 100);
      return lead;
    },
  };
}

const intakeDeps = (now: Date) => ({
  store: h.repository,
  publisher: h.publisher,
  config,
  now: () => now,
  newId: () => `id-${++ids}`,
});

/** Meta delivers a leadgen change while the page token is missing: the lead is stored pending. */
async function deliverWithoutToken(change: MetaLeadChange = CHANGE) {
  return takeInMetaLead(
    change,
    { fetcher: graph({}), accessToken: '', appSecret: '' },
    intakeDeps(STORED_AT),
  );
}

/** One scheduled run of the pending-leads function (and of the outbox relay, as in production). */
async function relay(
  now: Date,
  options: { secret?: Partial<IntegrationsSecret>; meta?: MetaLeadFetcher } = {},
) {
  const secret = { ...emptySecret(), ...options.secret };
  await createRelayHandler({
    outbox: new DynamoOutbox(TABLE, h.docClient),
    publisher: h.publisher,
    now: () => now,
  })();
  return createHandler({
    store: h.repository,
    publisher: h.publisher,
    config,
    secrets: { read: async () => secret },
    metaFetcher: options.meta ?? graph({}),
    linkedinFetcher: {
      fetchLead: async () => {
        throw new Error('LinkedIn is not called in this test');
      },
    },
    now: () => now,
  })();
}

const markers = () => h.table.byPk(keys.pendingPartition);

describe('pending-leads: ad-platform leads stored pending are read again', () => {
  it('completes a Meta lead once the page token is configured and announces it like a new lead, once', async () => {
    const stored = await deliverWithoutToken();
    expect(stored).toMatchObject({ outcome: 'created', leadId: 'id-1', pending: true });
    expect(markers()).toEqual([
      expect.objectContaining({ provider: 'meta', externalId: '900002', leadId: 'id-1', attempts: 0 }),
    ]);

    const calls: string[] = [];
    const meta = graph({ '900002': graphLead('900002', 'nadia.okafor@initech.example') }, calls);
    await relay(storedPlus(60_000), { secret: { metaAccessToken: 'EAAG-page-token' }, meta });

    expect(calls).toEqual(['900002']);
    expect(h.table.lead('id-1')).toMatchObject({
      status: 'new',
      profile: { email: 'nadia.okafor@initech.example', dedupeKey: 'nadia.okafor@initech.example' },
      source: { provider: 'meta', externalId: '900002' },
    });
    const captured = h.ofType('Lead Captured').map((e) => e.detail);
    expect(captured).toEqual([
      expect.objectContaining({ leadId: 'id-1', pending: true }),
      expect.objectContaining({ leadId: 'id-1', pending: false, provider: 'meta' }),
    ]);
    expect(markers()).toEqual([]);
    expect(h.table.byPk(keys.outboxPartition)).toEqual([]);

    // The next runs find nothing to do, and the same address from a form merges into this lead.
    await relay(storedPlus(120_000), { secret: { metaAccessToken: 'EAAG-page-token' }, meta });
    expect(calls).toEqual(['900002']);
    expect(h.ofType('Lead Captured')).toHaveLength(2);
    const form = await intakeLead(
      { fields: { email: 'Nadia.Okafor@initech.example' }, provider: 'form' },
      intakeDeps(storedPlus(180_000)),
    );
    expect(form).toMatchObject({ outcome: 'updated', leadId: 'id-1' });
  });

  it('waits with a growing pause while the lead cannot be read, without reading it early', async () => {
    await deliverWithoutToken();
    const calls: string[] = [];
    const refusing = graph({}, calls);

    await relay(storedPlus(0), { secret: { metaAccessToken: 'EAAG-expired' }, meta: refusing });
    expect(calls).toHaveLength(1);
    expect(markers()[0]).toMatchObject({
      attempts: 1,
      nextAttemptAt: storedPlus(FIRST_PAUSE_MS).toISOString(),
      lastProblem: expect.stringContaining('Unsupported get request'),
    });

    await relay(storedPlus(FIRST_PAUSE_MS - 1000), {
      secret: { metaAccessToken: 'EAAG-expired' },
      meta: refusing,
    });
    expect(calls).toHaveLength(1);

    await relay(storedPlus(FIRST_PAUSE_MS), { secret: { metaAccessToken: 'EAAG-expired' }, meta: refusing });
    expect(calls).toHaveLength(2);
    expect(markers()[0]).toMatchObject({
      attempts: 2,
      nextAttemptAt: storedPlus(FIRST_PAUSE_MS + 2 * FIRST_PAUSE_MS).toISOString(),
    });
    expect(h.table.lead('id-1')).toMatchObject({ status: 'pending' });
    expect(h.ofType('Lead Captured').map((e) => e.detail.pending)).toEqual([true]);
  });

  it('with no token yet, keeps the lead waiting and does not call Meta', async () => {
    await deliverWithoutToken();
    const calls: string[] = [];
    await relay(storedPlus(0), {
      meta: graph({ '900002': graphLead('900002', 'x@initech.example') }, calls),
    });
    expect(calls).toEqual([]);
    expect(markers()[0]).toMatchObject({
      attempts: 1,
      lastProblem: expect.stringContaining('metaAccessToken'),
    });
  });

  it("merges the answers into the person's existing lead and removes the stub", async () => {
    const known = await intakeLead(
      { fields: { email: 'nadia.okafor@initech.example', first_name: 'Nadia' }, provider: 'form' },
      intakeDeps(STORED_AT),
    );
    await deliverWithoutToken();
    expect(h.table.lead('id-2')).toMatchObject({ status: 'pending' });

    const meta = graph({ '900002': graphLead('900002', 'nadia.okafor@initech.example') });
    await relay(storedPlus(60_000), { secret: { metaAccessToken: 'EAAG-page-token' }, meta });

    expect(h.table.get(keys.lead('id-2'))).toBeUndefined();
    expect(h.table.byPk(keys.dedupe('ext:meta:900002').pk)).toEqual([]);
    expect(h.table.byPk(keys.external('meta', '900002').pk)).toEqual([
      expect.objectContaining({ leadId: known.leadId }),
    ]);
    expect(h.table.lead(known.leadId)).toMatchObject({ profile: { company: 'Initech' } });
    expect(markers()).toEqual([]);

    // A redelivery by Meta now lands on the person's lead.
    const again = await deliverWithoutToken();
    expect(again).toMatchObject({ outcome: 'already-received', leadId: known.leadId });
    expect(markers()).toEqual([]);
  });

  it('announces a completed lead later when the bus refuses at that moment', async () => {
    await deliverWithoutToken();
    const meta = graph({ '900002': graphLead('900002', 'nadia.okafor@initech.example') });
    h.failNextPublish(throttling());
    await relay(storedPlus(0), { secret: { metaAccessToken: 'EAAG-page-token' }, meta });
    expect(h.table.lead('id-1')).toMatchObject({ status: 'new' });
    expect(h.ofType('Lead Captured').filter((e) => e.detail.pending === false)).toEqual([]);

    // The outbox sweep of a later run publishes it, once.
    await relay(storedPlus(10 * 60_000), { secret: { metaAccessToken: 'EAAG-page-token' }, meta });
    await relay(storedPlus(20 * 60_000), { secret: { metaAccessToken: 'EAAG-page-token' }, meta });
    expect(h.ofType('Lead Captured').filter((e) => e.detail.pending === false)).toHaveLength(1);
  });

  it('drops the marker of an erased lead instead of reading the person back in', async () => {
    await deliverWithoutToken();
    h.table.delete(keys.lead('id-1'));
    const calls: string[] = [];
    await relay(storedPlus(0), {
      secret: { metaAccessToken: 'EAAG-page-token' },
      meta: graph({ '900002': graphLead('900002', 'nadia.okafor@initech.example') }, calls),
    });
    expect(calls).toEqual([]);
    expect(markers()).toEqual([]);
  });

  it('leaves unusable answers and leads past the retention window to a person, and stops reading them', async () => {
    await deliverWithoutToken();
    await deliverWithoutToken({ ...CHANGE, leadgenId: '900003' });
    const calls: string[] = [];
    const noContact = {
      id: '900002',
      field_data: [{ name: 'full_name', values: ['No Contact'] }],
    } as MetaGraphLead;
    await relay(storedPlus(0), {
      secret: { metaAccessToken: 'EAAG-page-token' },
      meta: graph({ '900002': noContact }, calls),
    });
    expect(markers().map((m) => m.externalId)).toEqual(['900003']);
    expect(h.table.lead('id-1')).toMatchObject({ status: 'pending' });

    await relay(storedPlus(GIVE_UP_AFTER_MS), {
      secret: { metaAccessToken: 'EAAG-page-token' },
      meta: graph({}, calls),
    });
    expect(markers()).toEqual([]);
    expect(h.table.lead('id-2')).toMatchObject({ status: 'pending' });
  });

  it("a platform's redelivery of a lead still pending leaves the marker again (a crash lost it)", async () => {
    await deliverWithoutToken();
    h.table.delete(keys.pendingLead('meta', '900002'));
    const again = await deliverWithoutToken();
    expect(again).toMatchObject({ outcome: 'already-received', leadId: 'id-1', pending: true });
    expect(markers()).toEqual([expect.objectContaining({ externalId: '900002', leadId: 'id-1' })]);
  });

  it('stores a LinkedIn lead pending without a token, with its marker', async () => {
    const result = await takeInLinkedInLead(
      { responseId: 'urn:li:leadGenFormResponse:abc', formId: '123' },
      {
        fetcher: {
          fetchLead: async () => {
            throw new Error('not called');
          },
        },
        accessToken: '',
      },
      intakeDeps(STORED_AT),
    );
    expect(result).toMatchObject({ outcome: 'created', pending: true });
    expect(markers()).toEqual([
      expect.objectContaining({ provider: 'linkedin', externalId: 'urn:li:leadGenFormResponse:abc' }),
    ]);
  });
});
