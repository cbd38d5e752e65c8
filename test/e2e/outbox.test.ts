import { afterAll, beforeAll, expect, test } from 'vitest';
import { eventually, normalLead, submitLead } from '../../bench/chaos/scenarios';
import type { BusEvent } from '../../local/runtime';
import { type E2eRuntime, startE2eRuntime } from './support';

/**
 * The transactional outbox end to end: the local bus refuses PutEvents for 10 s while leads are
 * captured. Capture still answers 201 (each lead is stored with its `Lead Captured` in the
 * outbox), and once the bus is back the relay (the stack's scheduled `relay` function, run from
 * the synthesized template) announces every lead: each is scored and routed, none twice.
 */

let rt: E2eRuntime;

beforeAll(async () => {
  rt = await startE2eRuntime('outbox');
}, 240_000);

afterAll(async () => {
  await rt?.dispose();
});

test('the bus refuses PutEvents for 10 s while leads are captured: every lead is processed once the bus is back, none twice', async () => {
  const events: BusEvent[] = [];
  const unsubscribe = rt.runtime.bus.subscribe((event) => events.push(event));
  const of = (type: string, leadId: string) =>
    events.filter((e) => e['detail-type'] === type && (e.detail as { leadId?: string }).leadId === leadId);
  // Routing's own decision; an assigned lead nobody works is later reassigned by the SLA ladder
  // (`Lead Assigned` via `escalation`), which is not a second routing.
  const routed = (leadId: string) =>
    ['Lead Assigned', 'Lead Held', 'Lead Nurtured']
      .flatMap((type) => of(type, leadId))
      .filter((e) => (e.detail as { via?: string }).via !== 'escalation');

  rt.runtime.faults.refuseEvents(10);
  const outageEnds = Date.now() + 10_000;
  const accepted: string[] = [];
  let answeredDuringOutage = 0;
  for (let i = 0; i < 5; i++) {
    const leadId = await submitLead(rt.endpoints, normalLead('outbox'));
    // A 2xx while the bus is down: the lead is stored with its announcement, not yet published.
    expect(leadId, `lead ${i} accepted`).toBeDefined();
    accepted.push(leadId as string);
    if (Date.now() < outageEnds - 500) {
      answeredDuringOutage++;
      expect(of('Lead Captured', leadId as string), 'not announced while the bus refuses').toEqual([]);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(answeredDuringOutage).toBeGreaterThan(0);
  expect(rt.runtime.faults.injected().putEventsRefused).toBeGreaterThan(0);

  // The relay takes entries a minute old (younger ones may still be their writer's to publish).
  const processed = await eventually(async () => accepted.every((id) => routed(id).length > 0), 180_000);
  expect(processed, 'every lead scored and routed once the bus is back').toBe(true);
  await rt.runtime.quiesce({ timeoutMs: 120_000 });
  unsubscribe();

  for (const leadId of accepted) {
    expect(of('Lead Captured', leadId), leadId).toHaveLength(1);
    expect(routed(leadId), leadId).toHaveLength(1);
  }
  expect(rt.runtime.bus.deadLetters).toEqual([]);
}, 360_000);

test("a leads API command while the bus refuses answers 200, and the relay announces it once: an admin's reassignment", async () => {
  const events: BusEvent[] = [];
  const unsubscribe = rt.runtime.bus.subscribe((event) => events.push(event));
  const manualAssignments = (leadId: string) =>
    events.filter(
      (e) =>
        e['detail-type'] === 'Lead Assigned' &&
        (e.detail as { leadId?: string; via?: string }).leadId === leadId &&
        (e.detail as { via?: string }).via === 'manual',
    );

  const leadId = await submitLead(rt.endpoints, normalLead('outbox-command'));
  expect(leadId).toBeDefined();
  // Routing first, so that the reassignment is the only change to the lead's owner.
  const routed = await eventually(
    async () =>
      events.some(
        (e) =>
          ['Lead Assigned', 'Lead Held', 'Lead Nurtured'].includes(e['detail-type']) &&
          (e.detail as { leadId?: string }).leadId === leadId,
      ),
    60_000,
  );
  expect(routed).toBe(true);
  const before = await rt.api.get<{ lead: { owner?: string } }>(`/leads/${leadId}`);
  const { reps } = await rt.api.get<{ reps: Array<{ id: string }> }>('/me');
  const rep = reps.find((r) => r.id !== before.lead.owner);
  expect(rep).toBeDefined();

  rt.runtime.faults.refuseEvents(10);
  const answer = await rt.api.post<{ unchanged: boolean }>(`/leads/${leadId}/reassign`, {
    repId: rep?.id,
    force: true,
  });
  // The change and its `Lead Assigned` are one write; the refused publish is left to the relay.
  expect(answer.status).toBe(200);
  expect(manualAssignments(leadId as string), 'not announced while the bus refuses').toEqual([]);
  const detail = await rt.api.get<{ lead: { owner?: string } }>(`/leads/${leadId}`);
  expect(detail.lead.owner).toBe(rep?.id);

  const announced = await eventually(async () => manualAssignments(leadId as string).length > 0, 180_000);
  expect(announced, 'the relay publishes the reassignment once the bus is back').toBe(true);
  await rt.runtime.quiesce({ timeoutMs: 120_000 });
  unsubscribe();
  expect(manualAssignments(leadId as string)).toHaveLength(1);
}, 360_000);
