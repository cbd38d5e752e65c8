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
