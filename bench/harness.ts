/**
 * What the benchmark's phases share: posting leads and events, running a load phase in its own
 * process, waiting for the pipeline to go quiet or for an alert, and reading CPU use and speed to
 * lead.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalRuntime } from '../local/runtime';
import type { ClientConfig } from '../shared/config/schema';
import { isOutOfOffice, isWithinWorkingHours } from '../shared/domain/working-hours';
import type { Instrumentation, LeadTrace } from './instrument';
import type { LoadConfig, LoadResult } from './load';
import { ALERT_TIMEOUT_MS, REPO, sleep } from './options';
import type { StlStats } from './report';
import { percentile } from './stats';

// ---------------------------------------------------------------------------------------------
// Traffic

export async function postLead(
  url: string,
  body: Record<string, string>,
  requests: { count: number },
): Promise<{ leadId?: string; sentAt: number; status: number }> {
  const sentAt = Date.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'https://www.northwind.example' },
    body: JSON.stringify(body),
  });
  requests.count += 1;
  const text = await response.text();
  let leadId: string | undefined;
  try {
    leadId = (JSON.parse(text) as { leadId?: string }).leadId;
  } catch {
    leadId = undefined;
  }
  return { ...(response.ok && leadId ? { leadId } : {}), sentAt, status: response.status };
}

export async function postJson(url: string, body: unknown, requests: { count: number }): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'https://www.northwind.example' },
    body: JSON.stringify(body),
  });
  requests.count += 1;
  await response.arrayBuffer();
  return response.status;
}

/** Runs one load phase in a child process (see `load.ts`). */
export async function runLoad(config: LoadConfig): Promise<LoadResult> {
  const work = mkdtempSync(join(tmpdir(), 'lead-bench-load-'));
  try {
    const out = join(work, 'result.json');
    const configFile = join(work, 'config.json');
    writeFileSync(configFile, JSON.stringify({ ...config, out }));
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(new URL('./load.ts', import.meta.url)), configFile],
        { stdio: ['ignore', 'ignore', 'inherit'], cwd: REPO },
      );
      child.on('exit', resolve);
    });
    if (code !== 0 || !existsSync(out)) throw new Error(`the load generator failed (exit ${code})`);
    return JSON.parse(readFileSync(out, 'utf8')) as LoadResult;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Waits until no event delivery and no function invocation (API requests queued for an
 * environment included) is in flight, and with `includeExecutions` no workflow runs or waits on a schedule, for a moment, or the timeout passes. Polls, so the deadline holds even while the bus never
 * empties. @returns whether the pipeline went quiet
 */
export async function waitQuiet(
  runtime: LocalRuntime,
  inst: Instrumentation,
  options: { timeoutMs: number; includeExecutions?: boolean; onProgress?: (pending: number) => void },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  let quietSince: number | undefined;
  let lastProgress = Date.now();
  while (Date.now() < deadline) {
    const busy =
      runtime.bus.pending > 0 ||
      runtime.sesEventsPending > 0 ||
      inst.invocationsInFlight > 0 ||
      (options.includeExecutions === true && runtime.workflowsInFlight > 0);
    if (busy) quietSince = undefined;
    else if (quietSince === undefined) quietSince = Date.now();
    else if (Date.now() - quietSince >= 200) return true;
    if (options.onProgress && Date.now() - lastProgress > 15_000) {
      options.onProgress(runtime.bus.pending);
      lastProgress = Date.now();
    }
    await sleep(25);
  }
  return false;
}

/** Waits for a lead's first Slack alert (or its SNS alert when Slack posts fail), bounded. */
export async function waitForAlert(
  inst: Instrumentation,
  runtime: LocalRuntime,
  leadId: string,
): Promise<void> {
  const deadline = Date.now() + ALERT_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const trace = inst.leads.get(leadId);
    if (trace?.slackAt) return;
    // Slack not working at all (nothing recorded yet): settle for SNS after a grace period.
    if (trace?.snsAt && runtime.aws.slack.length === 0 && Date.now() - trace.snsAt > 1500) return;
    if (trace?.routedAs && trace.routedAs !== 'Lead Assigned') return;
    await sleep(5);
  }
}

/** Calls the API routes the benchmark's traffic does not reach (their first event is replayed cold). */
export async function touchApiFunctions(
  apiUrl: string,
  adminToken: string,
  runtime: LocalRuntime,
  inst: Instrumentation,
): Promise<void> {
  const auth = { authorization: `Bearer ${adminToken}` };
  const calls: Array<[string, RequestInit]> = [
    ['/t.js', {}],
    ['/leads?limit=5', { headers: auth }],
    ['/reports/funnel', { headers: auth }],
    ['/unsubscribe', {}],
    ['/webhooks/meta?hub.mode=subscribe&hub.verify_token=bench&hub.challenge=1', {}],
  ];
  for (const [path, init] of calls) {
    await fetch(`${apiUrl}${path}`, init)
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
  }
  await waitQuiet(runtime, inst, { timeoutMs: 30_000 });
}

// ---------------------------------------------------------------------------------------------
// Measures

/**
 * How busy the harness's main thread (HTTP API, bus, AWS endpoints, Step Functions and SES
 * emulators) and the whole machine were between `startUsage()` and `stop()`, as fractions.
 */
export function startUsage(): { stop: () => { mainThread: number; machine: number } } {
  const elu = performance.eventLoopUtilization();
  const cpu = machineCpuTimes();
  return {
    stop: () => {
      const after = machineCpuTimes();
      const totalMs = after.total - cpu.total;
      return {
        mainThread: performance.eventLoopUtilization(elu).utilization,
        machine: totalMs > 0 ? 1 - (after.idle - cpu.idle) / totalMs : 0,
      };
    },
  };
}

export function machineCpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let sum = 0;
  for (const cpu of cpus()) {
    idle += cpu.times.idle;
    sum += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.idle + cpu.times.irq;
  }
  return { idle, total: sum };
}

export function stlStats(
  leads: ReadonlyArray<{
    sentAt: number;
    trace: LeadTrace | undefined;
  }>,
  runtime: LocalRuntime,
): StlStats {
  const assigned = leads.filter((l) => l.trace?.routedAs === 'Lead Assigned');
  const slack = assigned.flatMap((l) => (l.trace?.slackAt ? [l.trace.slackAt - l.sentAt] : []));
  const sns = assigned.flatMap((l) => (l.trace?.snsAt ? [l.trace.snsAt - l.sentAt] : []));
  return {
    leads: leads.length,
    assigned: assigned.length,
    slack: { alerted: slack.length, p50Ms: percentile(slack, 50), p99Ms: percentile(slack, 99) },
    sns: { alerted: sns.length, p50Ms: percentile(sns, 50), p99Ms: percentile(sns, 99) },
    slackPostsRecorded: runtime.aws.slack.length,
    hopsP50Ms: {
      capture: hop(assigned, (l) => [l.sentAt, l.trace?.capturedAt]),
      score: hop(assigned, (l) => [l.trace?.capturedAt, l.trace?.scoredAt]),
      route: hop(assigned, (l) => [l.trace?.scoredAt, l.trace?.assignedAt]),
      alert: hop(assigned, (l) => [l.trace?.assignedAt, l.trace?.slackAt]),
    },
  };
}

/** The median of one hop's durations, over the leads that passed both of its ends. */
function hop<T>(
  leads: readonly T[],
  ends: (lead: T) => [number | undefined, number | undefined],
): number | undefined {
  const durations = leads.flatMap((l) => {
    const [from, to] = ends(l);
    return from !== undefined && to !== undefined ? [to - from] : [];
  });
  return percentile(durations, 50);
}

/** A country whose territory team has a rep on shift now (so SQL leads are alerted at once). */
export function pickOnShiftCountry(
  config: ClientConfig,
  now: Date,
): { country: string; team: string; onShift: string[] } {
  for (const territory of config.territories) {
    if (territory.countries === '*') continue;
    const onShift = config.reps
      .filter(
        (r) =>
          r.team === territory.team &&
          !isOutOfOffice(r, now) &&
          isWithinWorkingHours(r.workingHours, r.timezone, now),
      )
      .map((r) => r.id);
    const country = territory.countries[0];
    if (onShift.length > 0 && country) return { country, team: territory.team, onShift };
  }
  const first = config.territories.find((t) => t.countries !== '*');
  const country = first && first.countries !== '*' ? (first.countries[0] ?? 'GB') : 'GB';
  return { country, team: first?.team ?? '', onShift: [] };
}

export function stageThrottle(runtime: LocalRuntime): string {
  const t = runtime.config.stack.throttling;
  return t ? `${t.rateLimit} requests/s, burst ${t.burstLimit}` : 'no stage limit';
}

export function captureFunction(runtime: LocalRuntime): string {
  for (const [name, pool] of runtime.functions) if (pool.spec.logicalId.startsWith('Capture')) return name;
  return '';
}

export function functionLogBytes(runtime: LocalRuntime): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of runtime.functions.keys()) {
    const file = join(runtime.dataDir, runtime.options.client, 'logs', `${name}.log`);
    out[name] = existsSync(file) ? statSync(file).size : 0;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Cost
