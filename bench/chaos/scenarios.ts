import type { BusEvent, Endpoints, LocalRuntime } from '../../local/runtime';
import {
  invalidLeads,
  pendingOutboxEntries,
  recorder,
  storedLeads,
  unescapedHtml,
  unescapedSlack,
} from './checks';
import { type HostileRequest, hostileRequests } from './hostile';

/**
 * The three chaos scenarios. Each drives the running pipeline only from outside (HTTP, the
 * bus's delivery, the fault API) and returns counts; `report.ts` turns them into the table.
 */

/** Answers counted by route and status. */
export type Counts = Record<string, Record<string, number>>;

function bump(counts: Counts, key: string, status: string | number): void {
  const row = counts[key] ?? {};
  counts[key] = row;
  row[String(status)] = (row[String(status)] ?? 0) + 1;
}

async function send(
  endpoints: Endpoints,
  r: HostileRequest,
): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(`${endpoints.apiUrl}${r.path}`, {
    method: r.method,
    headers: r.headers,
    redirect: 'manual',
    // A request the API never answers is a failure to report, not a reason to stall the run.
    signal: AbortSignal.timeout(60_000),
    ...(r.body !== undefined ? { body: r.body as RequestInit['body'] } : {}),
  });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

/** Runs `work` over `items`, `concurrency` at a time. */
async function pool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

let serial = 0;
/** A plain, valid lead as a landing page sends it. */
export function normalLead(tag: string): Record<string, string> {
  serial += 1;
  const n = `${Date.now().toString(36)}${serial}`;
  return {
    first_name: 'Nora',
    last_name: `Normal ${tag}`,
    email: `nora.${tag}.${n}@northwind-example.com`,
    company: 'Northwind Traders',
    job_title: 'Head of Operations',
    company_size: '200-999',
    industry: 'Software',
    country: 'GB',
    message: 'Please show me a demo',
    marketing_consent: 'yes',
  };
}

/** The last answer {@link submitLead} did not accept, for diagnostics. */
export const lastRefusal = '';

/** Posts a lead as JSON, retrying 429 and 5xx like a page's script; the lead id once accepted. */
export async function submitLead(
  endpoints: Endpoints,
  lead: Record<string, string>,
  attempts = 1,
  statuses?: Counts,
): Promise<string | undefined> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const response = await fetch(endpoints.captureUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(lead),
    });
    const text = await response.text();
    if (statuses) bump(statuses, 'POST /leads', response.status);
    if (response.status === 200 || response.status === 201)
      return (JSON.parse(text) as { leadId: string }).leadId;
    if (response.status < 500 && response.status !== 429) return undefined;
    await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
  }
  return undefined;
}

/** Waits until `check` holds, polling. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** Identical records counted more than once (the same Slack post, SNS message or email twice). */
function duplicates(records: ReadonlyArray<unknown>, key: (r: never) => string): number {
  const seen = new Map<string, number>();
  for (const r of records) seen.set(key(r as never), (seen.get(key(r as never)) ?? 0) + 1);
  return [...seen.values()].reduce((n, c) => n + (c - 1), 0);
}

/** Doubled effects visible in the recorders and on the bus. */
async function doubleEffects(runtime: LocalRuntime, events: ReadonlyArray<BusEvent>) {
  const e = runtime.endpoints;
  const slack = await recorder<{ body: unknown }>(e, 'slack');
  const sns = await recorder<{ topicArn: string; message: string }>(e, 'sns');
  const emails = await recorder<{ to: string[]; subject: string }>(e, 'emails');
  // An assignment is the effect, not the event: the relay may publish a stored Lead Assigned
  // again when the writer published it but could not clear its outbox entry (DynamoDB down), and
  // that copy (same lead, rep and assignedAt) assigns nobody twice; a second, different first
  // assignment would.
  const firstAssignments = new Map<string, Set<string>>();
  for (const ev of events) {
    const d = ev.detail as { leadId?: string; previousOwner?: string; repId?: string; assignedAt?: string };
    if (ev['detail-type'] !== 'Lead Assigned' || d.previousOwner || !d.leadId) continue;
    const assignments = firstAssignments.get(d.leadId) ?? new Set<string>();
    assignments.add(`${d.repId}|${d.assignedAt}`);
    firstAssignments.set(d.leadId, assignments);
  }
  return {
    slackAlerts: duplicates(slack, (r: { body: unknown }) => JSON.stringify(r.body)),
    snsAlerts: duplicates(sns, (r: { topicArn: string; message: string }) => `${r.topicArn}|${r.message}`),
    emails: duplicates(emails, (r: { to: string[]; subject: string }) => `${r.to.join(',')}|${r.subject}`),
    assignments: [...firstAssignments.values()].reduce((n, ids) => n + ids.size - 1, 0),
  };
}

/** Failures by `function: errorType: message` (the message's first line, ids cut), for the report. */
function countFailures(failures: LocalRuntime['functionFailures']): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of failures) {
    const cause = (f.errorMessage.split('\n')[0] ?? '').replace(/[0-9a-f-]{36}/g, '<id>').slice(0, 120);
    const key = `${f.function}: ${f.errorType}: ${cause}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

function sum(record: Record<string, number>): number {
  return Object.values(record).reduce((a, b) => a + b, 0);
}

// ---------------------------------------------------------------------------------- scenario 1

export interface HostileResult {
  readonly requests: number;
  readonly byKind: Record<string, number>;
  readonly byRoute: Counts;
  readonly byStatus: Record<string, number>;
  readonly serverErrors: Array<{ kind: string; route: string; status: number; answer: string }>;
  /** Why functions failed during the run (errors, timeouts), counted by function and cause. */
  readonly functionFailures: Record<string, number>;
  readonly authBypasses: string[];
  readonly unescapedHtml: string[];
  readonly unescapedSlack: string[];
  readonly invalidStored: string[];
  readonly deadLetters: number;
  readonly normalLeadReachedSlack: boolean;
}

const REFUSED_IDENTITIES = new Set([
  'jwt no token',
  'jwt alg none',
  'jwt other key',
  'jwt expired',
  'jwt garbage',
]);

export async function hostileInput(
  runtime: LocalRuntime,
  total: number,
  concurrency = 16,
): Promise<HostileResult> {
  const e = runtime.endpoints;
  const failuresBefore = runtime.functionFailures.length;
  const otherLeadId = await submitLead(e, normalLead('owned-by-someone'), 5);
  if (!otherLeadId)
    throw new Error(`the pipeline refused a normal lead before the hostile run: ${lastRefusal}`);
  await runtime.quiesce({ timeoutMs: 120_000 });
  const repId = String(
    (
      JSON.parse(Buffer.from(e.tokens.rep.split('.')[1] ?? '', 'base64url').toString()) as Record<
        string,
        unknown
      >
    )['cognito:username'],
  );
  const owner = await fetch(`${e.apiUrl}/leads/${otherLeadId}`, {
    headers: { authorization: `Bearer ${e.tokens.admin}` },
  })
    .then((r) => r.json() as Promise<{ lead?: { owner?: string } }>)
    .then((b) => b.lead?.owner);

  const requests = await hostileRequests(e, total, otherLeadId, runtime.api.routes);
  const byKind: Record<string, number> = {};
  const byRoute: Counts = {};
  const byStatus: Record<string, number> = {};
  const serverErrors: HostileResult['serverErrors'] = [];
  const authBypasses: string[] = [];
  const html: string[] = [];
  await pool(requests, concurrency, async (r) => {
    byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
    let answer: Awaited<ReturnType<typeof send>>;
    try {
      answer = await send(e, r);
    } catch (error) {
      answer = { status: 599, type: null, text: `no answer: ${(error as Error).message}` };
    }
    bump(byRoute, r.route, answer.status);
    byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1;
    if (answer.status >= 500)
      serverErrors.push({
        kind: r.kind,
        route: r.route,
        status: answer.status,
        answer: answer.text.slice(0, 200),
      });
    const ok = answer.status >= 200 && answer.status < 300;
    if (ok && REFUSED_IDENTITIES.has(r.kind))
      authBypasses.push(`${r.kind} got ${answer.status} on ${r.method} ${r.path.slice(0, 80)}`);
    if (ok && r.kind === 'jwt rep' && owner !== repId && r.path.includes(otherLeadId))
      authBypasses.push(`a rep got ${answer.status} on another rep's lead: ${r.method} ${r.route}`);
    if (ok && (r.kind === 'jwt rep' || r.kind === 'jwt manager') && r.route.includes('/admin/'))
      authBypasses.push(`${r.kind} got ${answer.status} on ${r.method} ${r.route}`);
    const marker = unescapedHtml(answer.type, answer.text);
    if (marker) html.push(`${r.route} (${r.kind}) renders ${marker}`);
  });
  await runtime.quiesce({ timeoutMs: 600_000 });

  const normal = normalLead('after-hostile');
  const normalId = await submitLead(e, normal, 5);
  const reached =
    !!normalId &&
    (await eventually(async () => {
      const slack = await recorder<{ body: unknown }>(e, 'slack');
      return slack.some(
        (m) =>
          JSON.stringify(m.body).includes(normalId) || JSON.stringify(m.body).includes(normal.email ?? ''),
      );
    }, 120_000));
  await runtime.quiesce({ timeoutMs: 120_000 });
  return {
    requests: requests.length,
    byKind,
    byRoute,
    byStatus,
    serverErrors,
    functionFailures: countFailures(runtime.functionFailures.slice(failuresBefore)),
    authBypasses,
    unescapedHtml: [...new Set(html)],
    unescapedSlack: [...new Set(unescapedSlack(await recorder<{ body: unknown }>(e, 'slack')))],
    invalidStored: invalidLeads(await storedLeads(e)),
    deadLetters: (await recorder(e, 'dead-letters')).length,
    normalLeadReachedSlack: reached,
  };
}

// ---------------------------------------------------------------------------------- scenario 2

export interface RedeliveryResult {
  readonly leads: number;
  readonly eventsRedelivered: number;
  readonly byDetailType: Record<string, number>;
  readonly doubleEffects: Record<string, number>;
  readonly newEventsFromReplay: number;
  /** What those new events were (detail-type and detail), to tell a double effect from a timer. */
  readonly newEvents: ReadonlyArray<{ readonly detailType: string; readonly detail: unknown }>;
  readonly timelineEntriesAdded: number;
  readonly deadLetters: number;
}

/**
 * Every event a consumer handles is delivered twice more: first concurrently with its original
 * delivery (as soon as it is published, before its effects are visible), then, once all is quiet,
 * twice again in reverse order (`Lead Scored` before `Lead Captured`). Nothing may happen twice.
 */
export async function redelivery(runtime: LocalRuntime, leads: number): Promise<RedeliveryResult> {
  const e = runtime.endpoints;
  const bus = runtime.bus;
  const seen: Array<{ event: BusEvent; busName: string }> = [];
  const ids = new Set<string>();
  const byDetailType: Record<string, number> = {};
  let redelivered = 0;
  const echo = (event: BusEvent, busName: string) => {
    if (ids.has(event.id) || event.source === 'aws.events') return;
    ids.add(event.id);
    seen.push({ event, busName });
    byDetailType[event['detail-type']] = (byDetailType[event['detail-type']] ?? 0) + 2;
    redelivered += 2;
    // Twice more, concurrently with the original delivery.
    setImmediate(() => {
      bus.publish(event, busName);
      bus.publish(event, busName);
    });
  };
  const unsubscribe = bus.subscribe(echo);
  const leadIds: string[] = [];
  for (let i = 0; i < leads; i++) {
    const id = await submitLead(e, normalLead('redelivery'), 5);
    if (id) leadIds.push(id);
  }
  await runtime.quiesce({ timeoutMs: 300_000 });
  unsubscribe();

  const timeline = async () => {
    let n = 0;
    for (const id of leadIds) {
      const detail = (await fetch(`${e.apiUrl}/leads/${id}`, {
        headers: { authorization: `Bearer ${e.tokens.admin}` },
      }).then((r) => r.json())) as { timeline?: unknown[] };
      n += detail.timeline?.length ?? 0;
    }
    return n;
  };
  const before = { timeline: await timeline(), events: seen.length };
  const all: BusEvent[] = [];
  const after = bus.subscribe((event) => all.push(event));
  // Then out of order: newest first, each twice at once.
  for (const { event, busName } of [...seen].reverse()) {
    bus.publish(event, busName);
    bus.publish(event, busName);
    redelivered += 2;
    byDetailType[event['detail-type']] = (byDetailType[event['detail-type']] ?? 0) + 2;
  }
  await runtime.quiesce({ timeoutMs: 300_000 });
  after();
  const newEvents = all.filter((ev) => !ids.has(ev.id) && ev.source !== 'aws.events');
  return {
    leads: leadIds.length,
    eventsRedelivered: redelivered,
    byDetailType,
    doubleEffects: await doubleEffects(
      runtime,
      seen.map((s) => s.event),
    ),
    newEventsFromReplay: newEvents.length,
    newEvents: newEvents.map((ev) => ({ detailType: ev['detail-type'], detail: ev.detail })),
    timelineEntriesAdded: (await timeline()) - before.timeline,
    deadLetters: (await recorder(e, 'dead-letters')).length,
  };
}

// ---------------------------------------------------------------------------------- scenario 3

export interface FaultsResult {
  readonly seconds: number;
  readonly ratePerSecond: number;
  readonly submitted: number;
  readonly accepted: number;
  readonly refused: number;
  readonly answers: Counts;
  readonly faultsInjected: Record<string, number>;
  readonly lost: string[];
  readonly doubleEffects: Record<string, number>;
  readonly deadLettersBeforeRedrive: number;
  readonly redriven: number;
  readonly redriveFailed: number;
  readonly secondRedrive: number;
  readonly deadLettersAfter: number;
}

/**
 * A steady load while every fault hits once: the bus refuses PutEvents, SES fails a share of
 * sends, Slack rate-limits then fails, two functions throw for a share of invocations, and
 * DynamoDB Local is killed and restarted, and `score` goes down long enough for its events to
 * exhaust their retries. Then the faults stop, the pipeline drains, the
 * dead-letter record is redriven (twice: the second run must find nothing), and every accepted
 * lead is checked.
 */
export async function faultsUnderLoad(
  runtime: LocalRuntime,
  options: {
    seconds: number;
    ratePerSecond: number;
    busOutageSeconds: number;
    dynamoDownSeconds: number;
    /** How long `score` is down with its retries exhausted, so events reach the dead-letter record. */
    functionDownSeconds: number;
  },
): Promise<FaultsResult> {
  const e = runtime.endpoints;
  const faults = runtime.faults;
  const events: BusEvent[] = [];
  const unsubscribe = runtime.bus.subscribe((event) => events.push(event));
  const answers: Counts = {};
  const accepted: string[] = [];
  let submitted = 0;
  const total = Math.round(options.seconds * options.ratePerSecond);
  const started = Date.now();
  const plan: Array<[number, () => unknown]> = [
    [0.1, () => faults.failSesSends(0.3)],
    [0.1, () => faults.failInvocations('Score', 0.2)],
    [0.1, () => faults.failInvocations('Alert', 0.2)],
    [0.15, () => faults.slackOutage({ rateLimited: 3, retryAfterSeconds: 1, serverErrors: 3 })],
    [0.25, () => faults.refuseEvents(options.busOutageSeconds)],
    [0.55, () => faults.restartDynamoDb(options.dynamoDownSeconds)],
    [0.75, () => faults.functionDown('Score', options.functionDownSeconds)],
  ];
  const timers = plan.map(([at, inject]) =>
    setTimeout(
      () => void Promise.resolve(inject()).catch((error) => console.error(`fault failed: ${error}`)),
      at * options.seconds * 1000,
    ),
  );
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / options.ratePerSecond;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    submitted++;
    inFlight.push(
      submitLead(e, normalLead('faults'), 6, answers).then((id) => {
        if (id) accepted.push(id);
      }),
    );
  }
  await Promise.all(inFlight);
  for (const t of timers) clearTimeout(t);
  // Recovery: faults off (the restart, if still under way, completes), then drain.
  await new Promise((r) => setTimeout(r, options.dynamoDownSeconds * 1000 + 2000));
  faults.clear();
  const injected = faults.injected();
  await runtime.quiesce({ timeoutMs: 900_000 });
  // What the bus refused is in the outbox: the scheduled relay publishes it once a minute old.
  await eventually(async () => (await pendingOutboxEntries(e)) === 0, 300_000);
  await runtime.quiesce({ timeoutMs: 900_000 });
  const deadLettersBefore = runtime.bus.deadLetters.length;
  const first = await runtime.bus.redrive();
  await runtime.quiesce({ timeoutMs: 300_000 });
  const second = await runtime.bus.redrive();
  await runtime.quiesce({ timeoutMs: 300_000 });
  unsubscribe();

  const stored = new Set(
    (await storedLeads(e)).map((l) => String(l.id ?? String(l.pk).slice('LEAD#'.length))),
  );
  const scored = new Set(
    events
      .filter((ev) => ev['detail-type'] === 'Lead Scored')
      .map((ev) => (ev.detail as { leadId: string }).leadId),
  );
  const lost = accepted
    .filter((id) => !stored.has(id) || !scored.has(id))
    .map((id) => `${id}${stored.has(id) ? ' (never scored)' : ' (not stored)'}`);
  return {
    seconds: options.seconds,
    ratePerSecond: options.ratePerSecond,
    submitted,
    accepted: accepted.length,
    refused: submitted - accepted.length,
    answers,
    faultsInjected: injected,
    lost,
    doubleEffects: await doubleEffects(runtime, events),
    deadLettersBeforeRedrive: deadLettersBefore,
    redriven: first.replayed.length,
    redriveFailed: first.failed.length,
    secondRedrive: second.replayed.length,
    deadLettersAfter: runtime.bus.deadLetters.length,
  };
}

export { sum };
