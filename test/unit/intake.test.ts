import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadClientConfig } from '../../shared/config/load';
import { InvalidInputError } from '../../shared/domain/errors';
import { intakeLead } from '../../shared/services/intake';
import { Harness } from './functions/pipeline-kit';

const config = loadClientConfig('example', 'clients');
const now = new Date('2026-03-02T10:00:00.000Z');

let h: Harness;
let ids: number;
beforeEach(() => {
  h = new Harness();
  ids = 0;
});
afterEach(() => h.restore());

const deps = () => ({
  store: h.repository,
  publisher: h.publisher,
  config,
  now: () => now,
  newId: () => `id-${++ids}`,
});

const elena = { first_name: 'Elena', email: 'elena.vogel@kontor-software.de', job_title: 'VP Engineering' };

describe('intakeLead', () => {
  it('creates one lead and publishes Lead Captured', async () => {
    const result = await intakeLead({ fields: elena, provider: 'form' }, deps());
    expect(result).toMatchObject({ outcome: 'created', leadId: 'id-1' });
    expect(h.ofType('Lead Captured').map((e) => e.detail.leadId)).toEqual(['id-1']);
    const lead = await h.repository.getLead('id-1');
    expect(lead?.profile.email).toBe('elena.vogel@kontor-software.de');
    expect((await h.repository.listActivities('id-1')).map((a) => a.type)).toEqual(['captured']);
  });

  it('stores the lead already enriched (phone country, country, time zone), so Lead Captured can be scored at once', async () => {
    await intakeLead({ fields: { ...elena, phone: '+49 30 901820' }, provider: 'form' }, deps());
    const lead = await h.repository.getLead('id-1');
    expect(lead?.profile).toMatchObject({
      companyDomain: 'kontor-software.de',
      isFreeMail: false,
      isDisposable: false,
      phoneCountry: 'DE',
      country: 'DE',
      timezone: 'Europe/Berlin',
    });
  });

  it('enriches a resubmission after the merge: a phone given later sets the country', async () => {
    await intakeLead({ fields: elena, provider: 'form' }, deps());
    expect((await h.repository.getLead('id-1'))?.profile.country).toBeUndefined();
    await intakeLead({ fields: { ...elena, phone: '+49 30 901820' }, provider: 'form' }, deps());
    expect((await h.repository.getLead('id-1'))?.profile).toMatchObject({
      phoneCountry: 'DE',
      country: 'DE',
    });
  });

  it('merges a resubmission of the same person into the existing lead', async () => {
    await intakeLead({ fields: elena, provider: 'form' }, deps());
    const again = await intakeLead(
      { fields: { ...elena, email: 'Elena.Vogel@Kontor-Software.de', company: 'Kontor' }, provider: 'api' },
      deps(),
    );
    expect(again).toMatchObject({ outcome: 'updated', leadId: 'id-1' });
    expect((await h.repository.getLead('id-1'))?.profile.company).toBe('Kontor');
    expect(h.ofType('Activity Recorded').map((e) => e.detail.type)).toEqual(['resubmitted']);
  });

  it('a resubmission fills blanks and keeps conflicting values on the timeline, unapplied', async () => {
    await intakeLead({ fields: { ...elena, phone: '+49 30 901820' }, provider: 'form' }, deps());
    // Anyone who knows Elena's address can post the form: her details must not change.
    await intakeLead(
      {
        fields: { ...elena, first_name: 'Mallory', phone: '+44 20 7946 0000', company: 'Kontor' },
        provider: 'form',
      },
      deps(),
    );
    const lead = await h.repository.getLead('id-1');
    expect(lead?.profile).toMatchObject({
      firstName: 'Elena',
      phone: '+4930901820',
      phoneCountry: 'DE',
      company: 'Kontor',
    });
    const activities = await h.repository.listActivities('id-1');
    expect(activities.find((a) => a.type === 'resubmitted')?.data.changed).toEqual(['company']);
    expect(activities.find((a) => a.type === 'details_submitted')?.data).toEqual({
      provider: 'form',
      details: {
        firstName: 'Mallory',
        phone: '+442079460000',
        phoneValid: true,
        phoneCountry: 'GB',
        // The number as typed travels with it (it differs from the E.164 form).
        phoneRaw: '+44 20 7946 0000',
      },
    });
  });

  it('records an opt-in with its wording and time, and lets a later opt-out win at once', async () => {
    const consentText = 'I agree to receive product news from Northwind by email.';
    const withText = { ...config, client: { ...config.client, consentText } };
    const at = (iso: string) => ({ ...deps(), config: withText, now: () => new Date(iso) });
    await intakeLead({ fields: elena, provider: 'form' }, at('2026-03-02T10:00:00.000Z'));
    expect((await h.repository.getLead('id-1'))?.consent).toBeUndefined();
    // A later opt-in (a Typeform answer merging into the lead) is recorded, wording included.
    await intakeLead(
      { fields: { ...elena, marketing_consent: 'yes' }, provider: 'typeform', externalId: 't-1' },
      at('2026-03-03T10:00:00.000Z'),
    );
    expect((await h.repository.getLead('id-1'))?.consent).toEqual({
      marketing: true,
      at: '2026-03-03T10:00:00.000Z',
      via: 'typeform:marketing_consent',
      text: consentText,
    });
    // Then the form again with "no": withdrawn with this very write.
    await intakeLead(
      { fields: { ...elena, marketing_consent: 'no' }, provider: 'form' },
      at('2026-03-04T10:00:00.000Z'),
    );
    expect((await h.repository.getLead('id-1'))?.consent).toEqual({
      marketing: false,
      at: '2026-03-04T10:00:00.000Z',
      via: 'form:marketing_consent',
    });
    // A submission that says nothing about consent leaves the opt-out as it is.
    await intakeLead({ fields: elena, provider: 'api' }, at('2026-03-05T10:00:00.000Z'));
    expect((await h.repository.getLead('id-1'))?.consent?.marketing).toBe(false);
  });

  it('recognises a redelivered webhook record even after it was merged into an existing person', async () => {
    await intakeLead({ fields: elena, provider: 'form' }, deps());
    const merged = await intakeLead({ fields: elena, provider: 'google_ads', externalId: 'g-1' }, deps());
    expect(merged.outcome).toBe('updated');
    const redelivered = await intakeLead(
      { fields: elena, provider: 'google_ads', externalId: 'g-1' },
      deps(),
    );
    expect(redelivered).toEqual({ outcome: 'already-received', leadId: 'id-1', warnings: [] });
    expect(h.ofType('Activity Recorded')).toHaveLength(1);
  });

  it('keeps a provider test lead apart from the real person with the same email', async () => {
    await intakeLead({ fields: elena, provider: 'form' }, deps());
    const test = await intakeLead(
      { fields: elena, provider: 'google_ads', externalId: 'g-test', isTest: true },
      deps(),
    );
    expect(test).toMatchObject({ outcome: 'created', leadId: 'id-2' });
    expect((await h.repository.getLead('id-2'))?.isTest).toBe(true);
    expect((await h.repository.getLead('id-1'))?.version).toBe(0);
    expect(h.ofType('Lead Captured').map((e) => [e.detail.leadId, e.detail.isTest])).toEqual([
      ['id-1', false],
      ['id-2', true],
    ]);
  });

  it('rejects a submission with neither email nor phone, naming both fields', async () => {
    const error = await intakeLead({ fields: { first_name: 'Nobody' }, provider: 'form' }, deps()).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems.map((p) => p.field).sort()).toEqual(['email', 'phone']);
    expect(h.published).toEqual([]);
  });
  it('writes a new lead’s visitor history in the lead’s own transaction, read beside the dedupe check', async () => {
    const visit = (id: string, path: string) => ({
      id,
      type: 'page_view' as const,
      at: '2026-03-02T09:58:00.000Z',
      data: { path },
    });
    await h.repository.putVisitorEvent('v-1', visit('pv-1', '/pricing'), 1_900_000_000);
    await h.repository.putVisitorEvent('v-1', visit('pv-2', '/demo'), 1_900_000_000);
    h.table.calls.length = 0;

    const result = await intakeLead({ fields: elena, provider: 'form', visitorId: 'v-1' }, deps());

    expect(result).toMatchObject({ outcome: 'created', leadId: 'id-1' });
    // One transaction stores the lead with its history: no separate put per visitor event.
    expect(h.table.calls.filter((c) => c === 'TransactWriteCommand')).toHaveLength(1);
    expect(h.table.calls).not.toContain('PutCommand');
    const timeline = await h.repository.listActivities('id-1');
    expect(timeline.map((a) => a.id).sort()).toEqual(['id-1-captured', 'pv-1', 'pv-2']);
    expect(timeline.every((a) => a.leadId === 'id-1')).toBe(true);
    expect(h.ofType('Lead Captured').map((e) => e.detail.leadId)).toEqual(['id-1']);
  });
});
