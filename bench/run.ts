/**
 * `npm run bench [-- --quick]`: the pipeline's benchmark, offline, from the synthesized stacks.
 *
 * Boots the local runtime (fresh data under `.local/bench`, a large time scale, API stage
 * throttling OFF so the pipeline is measured rather than the stage's rate limit), then measures:
 *
 * 1. capture throughput and latency at fixed rates (autocannon, unique leads) and LOST leads:
 *    accepted (2xx with a lead id) but not stored, scored and routed once the pipeline is quiet;
 * 2. speed to lead, from the POST to the Slack alert, idle and under load;
 * 3. DynamoDB operations per lead, and the pipeline's DynamoDB rate as a share of DynamoDB
 *    Local's raw rate on this machine;
 * 4. cold starts of every bundle in a fresh Node 22 process, against an empty handler;
 * 5. AWS calls and cost per 1,000 leads (with and without nurture email), priced with
 *    `bench/pricing.json`.
 *
 * Prints Markdown tables, writes `bench/results/<YYYY-MM-DD>.json`, stops the runtime and exits
 * non-zero when a lead was lost. Not part of `npm test`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SLA_STATES } from '../infra/constructs/sla-ladder';
import { NURTURE_STATES } from '../infra/constructs/workflows';
import { LocalRuntime } from '../local/runtime';
import { loadAssembly } from '../local/template';
import type { ClientConfig } from '../shared/config/schema';
import { isOutOfOffice, isWithinWorkingHours } from '../shared/domain/working-hours';
import { type AslDefinition, countTransitions } from './asl';
import { functionProfiles, stateMachineDefinitions, stateMachineLogLevels, tableIndexes } from './assembly';
import { type ColdStartTarget, measureColdStarts } from './cold-start';
import {
  addUsage,
  emptyUsage,
  type FunctionActivity,
  functionUsage,
  loadPricing,
  priceUsage,
  slaLadderUsage,
  totalUsd,
  type Usage,
} from './cost';
import { rawDynamoOpsPerSecond } from './dynamo-raw';
import { type CapacityCounters, Instrumentation, type LambdaCounters, type Snapshot } from './instrument';
import { benchLead, type LeadKind } from './leads';
import type { LoadConfig, LoadResult } from './load';
import {
  type BenchResult,
  type PhaseResult,
  renderMarkdown,
  type StlStats,
  type SustainStep,
} from './report';
import { attachSmsBench, nurturePath } from './sms';
import { diffCounts, percentile, round, significant, total } from './stats';
import { checkLeads } from './verify';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    client: { type: 'string', default: 'example' },
    rates: { type: 'string', default: '50,200,500' },
    duration: { type: 'string' },
    'time-scale': { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '8' },
    'idle-leads': { type: 'string' },
    'cold-runs': { type: 'string' },
    'no-cold-start': { type: 'boolean', default: false },
    'stl-rate': { type: 'string', default: '200' },
    /** Rates stepped up for the highest sustained rate; `--sustain-rates ''` skips it. */
    'sustain-rates': { type: 'string', default: '5,10,20,30,40,50,75,100' },
    'sustain-duration': { type: 'string' },
  },
});

const quick = values.quick;
const options = {
  quick,
  client: values.client,
  rates: values.rates
    .split(',')
    .map((r) => Number(r.trim()))
    .filter((r) => Number.isFinite(r) && r > 0),
  durationSeconds: Number(values.duration ?? (quick ? 5 : 30)),
  timeScale: Number(values['time-scale']),
  concurrency: Number(values.concurrency),
  idleLeads: Number(values['idle-leads'] ?? (quick ? 10 : 30)),
  coldRuns: Number(values['cold-runs'] ?? (quick ? 3 : 5)),
  coldStart: !values['no-cold-start'],
  stlRate: Number(values['stl-rate']),
  sustainRates: values['sustain-rates']
    .split(',')
    .map((r) => Number(r.trim()))
    .filter((r) => Number.isFinite(r) && r > 0),
  sustainSeconds: Number(values['sustain-duration'] ?? (quick ? 10 : 20)),
  throttle: false as const,
};
for (const [name, value] of Object.entries(options)) {
  if (typeof value === 'number' && !(Number.isFinite(value) && value > 0)) {
    console.error(`--${name} must be a positive number`);
    process.exit(2);
  }
}
if (options.rates.length === 0) {
  console.error('--rates needs at least one positive rate, e.g. --rates 50,200,500');
  process.exit(2);
}

const REPO = fileURLToPath(new URL('..', import.meta.url));
const DATA_DIR = join(REPO, '.local', 'bench');
const RESULTS_DIR = join(REPO, 'bench', 'results');
/** Seconds the pipeline may take to go quiet after a load phase before its backlog counts as lost. */
const DRAIN_TIMEOUT_SECONDS = 900;
/** Idle speed-to-lead: how long to wait for a lead's alert. */
const ALERT_TIMEOUT_MS = 15_000;
/** A rate holds while capture's p99 stays within this… */
const SUSTAIN_P99_LIMIT_MS = 1000;
/** …and the backlog drains within this after the load stops. */
const SUSTAIN_DRAIN_LIMIT_SECONDS = 10;

const log = (line: string) => console.error(line);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const runId = Date.now().toString(36);

/** One lead the harness submitted and got a lead id for. */
interface Submitted {
  readonly leadId: string;
  readonly kind: LeadKind;
  readonly marketingConsent: boolean;
  readonly sentAt: number;
  readonly phase: string;
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const loadAtStart = round(loadavg()[0], 1) ?? 0;
  const runtime = new LocalRuntime({
    client: options.client,
    dataDir: DATA_DIR,
    fresh: true,
    // Nothing needs to survive the run, and DynamoDB Local's disk store is several times slower.
    inMemory: true,
    timeScale: options.timeScale,
    apiPort: 0,
    throttle: options.throttle,
    maxConcurrency: options.concurrency,
    log: () => undefined,
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await runtime.stop();
  };
  process.once('SIGINT', () => {
    log('\nSIGINT: stopping the runtime…');
    void stop().then(() => process.exit(130));
  });

  try {
    log(`Booting the local pipeline for "${options.client}" (synth, DynamoDB Local, functions)…`);
    const endpoints = await runtime.start();
    const inst = new Instrumentation(runtime);
    inst.install();
    const config = runtime.config;
    const stageLimit = stageThrottle(runtime);
    log(
      `Up. API stage throttling is OFF for the benchmark (the stage allows ${stageLimit}); ` +
        `time scale ×${options.timeScale}; up to ${options.concurrency} environments per function.`,
    );

    const submitted: Submitted[] = [];
    const apiRequests = { count: 0 };
    const start = inst.snapshot();
    const logBytesAtStart = functionLogBytes(runtime);

    // Warm-up: one lead of each kind and one SQL lead, so the first environments are up.
    log('Warm-up…');
    let seq = 0;
    for (const kind of ['enterprise', 'mql', 'nurture', 'nurture'] as const) {
      seq += 1;
      const lead = benchLead(seq, runId, { kind });
      const answer = await postLead(endpoints.captureUrl, lead.body, apiRequests);
      if (answer.leadId)
        submitted.push({ ...lead.sent, leadId: answer.leadId, sentAt: answer.sentAt, phase: 'warm-up' });
    }
    await waitQuiet(runtime, inst, { timeoutMs: 120_000 });

    // 2a. Speed to lead at idle.
    const onShift = pickOnShiftCountry(config, new Date());
    log(
      `Speed to lead at idle: ${options.idleLeads} sequential SQL leads from ${onShift.country} ` +
        `(${onShift.onShift.length ? `team ${onShift.team} on shift: ${onShift.onShift.join(', ')}` : 'no team on shift now'})…`,
    );
    const idle: Array<{ leadId: string; sentAt: number }> = [];
    const idleStart = inst.snapshot();
    for (let i = 0; i < options.idleLeads; i++) {
      seq += 1;
      const visitorId = `bench${runId}v${seq}`;
      await postJson(
        `${endpoints.apiUrl}/events`,
        { type: 'demo_request', visitorId, path: '/demo', consent: { analytics: true } },
        apiRequests,
      );
      const lead = benchLead(seq, runId, { kind: 'enterprise', country: onShift.country, visitorId });
      const answer = await postLead(endpoints.captureUrl, lead.body, apiRequests);
      if (!answer.leadId) continue;
      submitted.push({ ...lead.sent, leadId: answer.leadId, sentAt: answer.sentAt, phase: 'idle' });
      idle.push({ leadId: answer.leadId, sentAt: answer.sentAt });
      await waitForAlert(inst, runtime, answer.leadId);
      await waitQuiet(runtime, inst, { timeoutMs: 60_000 });
    }
    const idleEnd = inst.snapshot();
    const idleStl = stlStats(
      idle.map((l) => ({ sentAt: l.sentAt, trace: inst.leads.get(l.leadId) })),
      runtime,
    );
    const idleStages = countBy(idle.map((l) => inst.leads.get(l.leadId)?.stage ?? 'not scored'));

    // 1. Capture at fixed rates.
    const phases: PhaseResult[] = [];
    const windows: Array<{ from: number; to: number }> = [];
    let loadStl: (StlStats & { rate: number }) | undefined;
    const stlRate = options.rates.includes(options.stlRate)
      ? options.stlRate
      : (options.rates[Math.floor(options.rates.length / 2)] ?? options.rates[0] ?? 0);
    for (const rate of options.rates) {
      log(`Capture at ${rate} requests/s for ${options.durationSeconds} s…`);
      const before = inst.snapshot();
      inst.takeMeanDynamoInFlight();
      const usage = startUsage();
      const load = await runLoad({
        captureUrl: endpoints.captureUrl,
        rate,
        durationSeconds: options.durationSeconds,
        runId,
        seqStart: seq + 1_000_000 * (phases.length + 1),
        timeoutSeconds: 30,
        out: '',
      });
      apiRequests.count += load.sent;
      const loadEnded = Date.now();
      for (const a of load.accepted) {
        submitted.push({
          leadId: a.leadId,
          kind: a.kind,
          marketingConsent: a.marketingConsent,
          sentAt: a.sentAt,
          phase: `${rate}/s`,
        });
      }
      log(
        `  sent ${load.sent}, 2xx ${load.status2xx}, p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms; draining the pipeline…`,
      );
      const drained = await waitQuiet(runtime, inst, {
        timeoutMs: DRAIN_TIMEOUT_SECONDS * 1000,
        onProgress: (pending) => log(`  …${pending} deliveries in flight`),
      });
      const quietAt = Date.now();
      const meanInFlight = inst.takeMeanDynamoInFlight();
      const busy = usage.stop();
      const after = inst.snapshot();
      windows.push({ from: before.at, to: quietAt });
      const dynamoOps = total(pick(diffCounts(after.awsCalls, before.awsCalls), 'DynamoDB.'));
      const busySeconds = (quietAt - load.startedAt) / 1000;
      const created = after.capturedLeads - before.capturedLeads;
      phases.push({
        rate,
        durationSeconds: load.durationSeconds,
        elapsedSeconds: round(load.elapsedSeconds, 1) ?? 0,
        sent: load.sent,
        achievedRate: round(load.achievedRate, 1) ?? 0,
        accepted: load.accepted.length,
        created,
        non2xx: load.non2xx,
        timeouts: load.timeouts,
        unanswered: load.unanswered,
        socketErrors: load.errors,
        acceptedWithoutLeadId: load.acceptedWithoutLeadId,
        statusCounts: load.statusCounts,
        latencyMs: {
          p50: load.latency.p50,
          p90: load.latency.p90,
          p99: load.latency.p99,
          max: load.latency.max,
        },
        drainSeconds: round((quietAt - loadEnded) / 1000, 1) ?? 0,
        drained,
        pipelineLeadsPerSecond: round(created / busySeconds, 2) ?? 0,
        dynamoOpsPerSecond: round(dynamoOps / busySeconds, 0) ?? 0,
        meanDynamoInFlight: round(meanInFlight, 1) ?? 0,
        mainThreadBusy: round(busy.mainThread, 2) ?? 0,
        machineCpuBusy: round(busy.machine, 2) ?? 0,
        lost: 0,
      });
      if (rate === stlRate) {
        loadStl = {
          rate,
          ...stlStats(
            load.accepted.map((a) => ({ sentAt: a.sentAt, trace: inst.leads.get(a.leadId) })),
            runtime,
          ),
        };
      }
      if (!drained) log(`  the pipeline did not go quiet within ${DRAIN_TIMEOUT_SECONDS} s`);
    }

    // 1b. Highest sustained rate: step the rate up until capture p99 exceeds the limit or the
    // backlog needs longer than the limit to drain after the load stops; the last rate that held.
    const sustained: SustainStep[] = [];
    for (const rate of options.sustainRates) {
      log(`Sustained rate: ${rate} requests/s for ${options.sustainSeconds} s…`);
      const before = inst.snapshot();
      const load = await runLoad({
        captureUrl: endpoints.captureUrl,
        rate,
        durationSeconds: options.sustainSeconds,
        runId,
        seqStart: seq + 10_000_000 * (sustained.length + 1),
        timeoutSeconds: 30,
        out: '',
      });
      apiRequests.count += load.sent;
      const loadEnded = Date.now();
      for (const a of load.accepted) {
        submitted.push({ ...a, leadId: a.leadId, sentAt: a.sentAt, phase: `sustain ${rate}/s` });
      }
      const drained = await waitQuiet(runtime, inst, { timeoutMs: DRAIN_TIMEOUT_SECONDS * 1000 });
      const drainSeconds = round((Date.now() - loadEnded) / 1000, 1) ?? 0;
      const after = inst.snapshot();
      const step: SustainStep = {
        rate,
        seconds: options.sustainSeconds,
        achievedRate: round(load.achievedRate, 1) ?? 0,
        created: after.capturedLeads - before.capturedLeads,
        non2xx: load.non2xx + load.timeouts + load.unanswered,
        p99Ms: load.latency.p99,
        drainSeconds,
        held:
          drained &&
          load.latency.p99 <= SUSTAIN_P99_LIMIT_MS &&
          drainSeconds <= SUSTAIN_DRAIN_LIMIT_SECONDS &&
          load.non2xx + load.timeouts + load.unanswered === 0,
      };
      sustained.push(step);
      log(`  p99 ${step.p99Ms} ms, drain ${drainSeconds} s: ${step.held ? 'held' : 'did not hold'}`);
      if (!step.held) break;
    }

    // Let the workflows started by the benchmark finish (SLA ladders, nurture sequences), bounded.
    const workflowWaitSeconds = quick ? 15 : 60;
    log(`Letting running workflows finish (at most ${workflowWaitSeconds} s)…`);
    await waitQuiet(runtime, inst, { includeExecutions: true, timeoutMs: workflowWaitSeconds * 1000 });
    await waitQuiet(runtime, inst, { timeoutMs: 120_000 });
    const end = inst.snapshot();
    const logBytesAtEnd = functionLogBytes(runtime);
    const executions = [...runtime.stepFunctions.executions.values()];

    // LOST: every lead answered 2xx, and every lead created by a request whose answer came too
    // late for the load generator (known from its Lead Captured event), must be stored, scored
    // and routed.
    const accepted = new Set([...submitted.map((s) => s.leadId), ...inst.leads.keys()]);
    log(`Checking ${accepted.size} accepted leads in DynamoDB…`);
    const table = runtime.functions.get(captureFunction(runtime))?.spec.environment.TABLE_NAME ?? '';
    const check = await checkLeads(endpoints.dynamoDbUrl, table, [...accepted]);
    const lostIds = new Set(check.lostIds);
    // A lost lead belongs to the phase whose window holds its POST (or, for one whose answer came
    // too late to be recorded, its Lead Captured); windows are index-aligned with the phases.
    const sentAt = new Map(submitted.map((s) => [s.leadId, s.sentAt]));
    for (const id of lostIds) {
      const at = sentAt.get(id) ?? inst.leads.get(id)?.capturedAt;
      const i = at === undefined ? -1 : windows.findIndex((w) => at >= w.from && at <= w.to);
      const phase = phases[i];
      if (phase) phase.lost += 1;
    }

    // 3. DynamoDB Local's raw rate, at the concurrency the pipeline reached.
    const rawConcurrency = Math.min(64, Math.max(1, inst.dynamoInFlightPeak));
    log(`DynamoDB Local raw rate (PutItem + GetItem, ${rawConcurrency} concurrent)…`);
    const raw = await rawDynamoOpsPerSecond(endpoints.dynamoDbUrl, {
      concurrency: rawConcurrency,
      seconds: quick ? 3 : 10,
    });

    // Touch the API functions the load did not use, so each has a real event to replay cold.
    await touchApiFunctions(endpoints.apiUrl, endpoints.tokens.admin, runtime, inst);

    // 4. Cold starts.
    let coldStart: BenchResult['coldStart'];
    if (options.coldStart) {
      log(`Cold starts: ${runtime.functions.size} bundles × ${options.coldRuns} fresh Node processes…`);
      const targets: ColdStartTarget[] = [...runtime.functions.entries()].map(([name, pool]) => ({
        name,
        file: pool.spec.file,
        exportName: pool.spec.exportName,
        environment: pool.spec.environment,
        event: inst.firstEvents.get(name) ?? {},
      }));
      const measured = await measureColdStarts(targets, options.coldRuns, { onProgress: log });
      coldStart = {
        node: measured.node,
        runs: options.coldRuns,
        emptyHandlerMs: round(measured.empty.totalMs, 1) ?? 0,
        functions: measured.functions.map((f) => ({
          name: shortName(f.name, options.client),
          bundleKb: round(f.bundleBytes / 1024, 0) ?? 0,
          sourceMapKb: round(f.sourceMapBytes / 1024, 0) ?? 0,
          dataKb: round(f.dataBytes / 1024, 0) ?? 0,
          importMs: round(f.importMs, 1) ?? 0,
          firstInvokeMs: round(f.firstInvokeMs, 1) ?? 0,
          totalMs: round(f.totalMs, 1) ?? 0,
          ratio: round(f.ratio, 1) ?? 0,
          outcome: f.outcome,
        })),
      };
    }

    // 5. Cost.
    const leads = end.capturedLeads - start.capturedLeads;
    const cost = costModel({
      leads,
      marketingConsent: check.marketingConsent,
      durations: { start: idleStart, end: idleEnd },
      runtime,
      config,
      inst,
      start,
      end,
      logBytes: diffCounts(logBytesAtEnd, logBytesAtStart),
      apiRequests: apiRequests.count,
      executions,
    });

    const allCalls = diffCounts(end.awsCalls, start.awsCalls);
    const dynamoCalls = pick(allCalls, 'DynamoDB.');
    const opsPerLead = total(dynamoCalls) / Math.max(1, leads);
    const finishedAt = new Date();
    const result: BenchResult = {
      date: isoDate(startedAt),
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      wallSeconds: round((finishedAt.getTime() - startedAt.getTime()) / 1000, 0) ?? 0,
      options: { ...options, stageThrottle: stageLimit },
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryGb: round(totalmem() / 2 ** 30, 0) ?? 0,
        platform: `${process.platform} ${process.arch}`,
        node: process.version,
        loadAverage: { atStart: loadAtStart, atEnd: round(loadavg()[0], 1) ?? 0 },
      },
      warnings: [...inst.warnings, ...cost.warnings],
      leads: {
        created: leads,
        answered2xx: submitted.length,
        byPhase: countBy(submitted.map((s) => s.phase)),
        byKind: countBy(submitted.map((s) => s.kind)),
      },
      capture: phases,
      lost: {
        checked: check.checked,
        lost: check.lost,
        byReason: check.byReason,
        examples: check.examples,
        statuses: check.statuses,
      },
      deadLetters: end.deadLetters - start.deadLetters,
      speedToLead: {
        onShift,
        idle: { ...idleStl, stages: idleStages },
        ...(loadStl ? { load: loadStl } : {}),
      },
      efficiency: {
        dynamoOpsPerLead: round(opsPerLead, 1) ?? 0,
        dynamoOpsByOperation: perLead(dynamoCalls, leads),
        rawOpsPerSecond: round(raw.opsPerSecond, 0) ?? 0,
        rawConcurrency: raw.concurrency,
        rawErrors: raw.errors,
        peakDynamoInFlight: inst.dynamoInFlightPeak,
        phases: phases.map((p) => ({
          rate: p.rate,
          pipelineLeadsPerSecond: p.pipelineLeadsPerSecond,
          demandedOpsPerSecond: round(p.pipelineLeadsPerSecond * opsPerLead, 0) ?? 0,
          shareOfRaw: round((p.pipelineLeadsPerSecond * opsPerLead) / Math.max(1, raw.opsPerSecond), 3) ?? 0,
          measuredOpsPerSecond: p.dynamoOpsPerSecond,
        })),
      },
      ...(coldStart ? { coldStart } : {}),
      awsCallsPerLead: perLead(allCalls, leads),
      sustained: {
        p99LimitMs: SUSTAIN_P99_LIMIT_MS,
        drainLimitSeconds: SUSTAIN_DRAIN_LIMIT_SECONDS,
        steps: sustained,
        highestHeld: sustained.filter((st) => st.held).at(-1)?.rate ?? 0,
      },
      awsCallsPerLeadByFunction: Object.fromEntries(
        Object.entries(diffMap(end.awsByFunction, start.awsByFunction)).map(([fn, calls]) => [
          shortName(fn, options.client),
          perLead(calls, leads),
        ]),
      ),
      cost: cost.result,
    };

    attachSmsBench(result, config, console.log);
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `${result.date}${quick ? '-quick' : ''}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(renderMarkdown(result));
    log(`\nResults written to ${file.replace(`${REPO}`, '')}`);
    await stop();
    if (result.lost.lost > 0) {
      log(`\nLOST ${result.lost.lost} accepted lead(s): see "lost" in the results file.`);
      return 1;
    }
    return 0;
  } catch (error) {
    log(`\nThe benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await stop();
    return 2;
  }
}

// ---------------------------------------------------------------------------------------------
// Traffic

async function postLead(
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

async function postJson(url: string, body: unknown, requests: { count: number }): Promise<number> {
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
async function runLoad(config: LoadConfig): Promise<LoadResult> {
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
 * environment included) is in flight, and with `includeExecutions` no workflow runs, for a moment, or the timeout passes. Polls, so the deadline holds even while the bus never
 * empties. @returns whether the pipeline went quiet
 */
async function waitQuiet(
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
      inst.invocationsInFlight > 0 ||
      (options.includeExecutions === true && runtime.stepFunctions.running > 0);
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
async function waitForAlert(inst: Instrumentation, runtime: LocalRuntime, leadId: string): Promise<void> {
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
async function touchApiFunctions(
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
function startUsage(): { stop: () => { mainThread: number; machine: number } } {
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

function machineCpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let sum = 0;
  for (const cpu of cpus()) {
    idle += cpu.times.idle;
    sum += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.idle + cpu.times.irq;
  }
  return { idle, total: sum };
}

function stlStats(
  leads: ReadonlyArray<{
    sentAt: number;
    trace: { slackAt?: number; snsAt?: number; routedAs?: string } | undefined;
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
  };
}

/** A country whose territory team has a rep on shift now (so SQL leads are alerted at once). */
function pickOnShiftCountry(
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

function stageThrottle(runtime: LocalRuntime): string {
  const t = runtime.config.stack.throttling;
  return t ? `${t.rateLimit} requests/s, burst ${t.burstLimit}` : 'no stage limit';
}

function captureFunction(runtime: LocalRuntime): string {
  for (const [name, pool] of runtime.functions) if (pool.spec.logicalId.startsWith('Capture')) return name;
  return '';
}

function functionLogBytes(runtime: LocalRuntime): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of runtime.functions.keys()) {
    const file = join(runtime.dataDir, runtime.options.client, 'logs', `${name}.log`);
    out[name] = existsSync(file) ? statSync(file).size : 0;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Cost

interface CostInputs {
  /** Leads created in the measured window (the denominator of every per-lead figure). */
  readonly leads: number;
  /** Marketing consent per lead, as stored. */
  readonly marketingConsent: ReadonlyMap<string, boolean>;
  /** The quietest window (idle phase): its mean handler time per function prices Lambda duration. */
  readonly durations: { start: Snapshot; end: Snapshot };
  readonly runtime: LocalRuntime;
  readonly config: ClientConfig;
  readonly inst: Instrumentation;
  readonly start: Snapshot;
  readonly end: Snapshot;
  readonly logBytes: Record<string, number>;
  readonly apiRequests: number;
  readonly executions: ReadonlyArray<{ stateMachineArn: string; status: string }>;
}

function costModel(input: CostInputs): { result: BenchResult['cost']; warnings: string[] } {
  const { runtime, config, inst, start, end } = input;
  const warnings: string[] = [];
  const pricing = loadPricing(fileURLToPath(new URL('./pricing.json', import.meta.url)));
  const stacks = loadAssembly(join(runtime.dataDir, runtime.options.client, 'cdk.out'));
  const profiles = functionProfiles(stacks);
  const definitions = stateMachineDefinitions(stacks);
  const machineLogLevels = stateMachineLogLevels(stacks);
  const leads = Math.max(1, input.leads);

  // Which machine is which, by its states.
  let sla: { name: string; definition: AslDefinition } | undefined;
  let nurture: { name: string; definition: AslDefinition } | undefined;
  const logsEveryState = new Set<string>();
  for (const [logicalId, definition] of definitions) {
    const arn = runtime.endpoints.stateMachines[logicalId] ?? logicalId;
    const name = arn.split(':').pop() ?? arn;
    if (SLA_STATES.unworked in definition.States) sla = { name, definition };
    if (NURTURE_STATES.sequence in definition.States) nurture = { name, definition };
    if (machineLogLevels.get(logicalId) === 'ALL') logsEveryState.add(name);
  }

  // Measured usage per function.
  const calls = diffMap(end.awsByFunction, start.awsByFunction);
  const eventsPerPutEvents =
    (end.customEvents - start.customEvents) /
    Math.max(1, total(pick(diffCounts(end.awsCalls, start.awsCalls), 'EventBridge.PutEvents')));
  const platformLogBytes = pricing.assumptions.lambdaPlatformLogBytesPerInvocation;
  const perFunction = new Map<string, { usage: Usage; invocations: number }>();
  const pricedDurations: Record<string, number> = {};
  const names = new Set([...runtime.functions.keys(), ...Object.keys(calls)]);
  for (const name of names) {
    const pool = runtime.functions.get(name);
    const profile = pool ? profiles.get(pool.spec.logicalId) : undefined;
    const counters = diffLambda(end.lambda[name], start.lambda[name]);
    // Handler time under load is mostly waiting for a CPU on this machine: price the mean warm
    // invocation of the idle phase (else of the whole run), as a warm Lambda environment runs it.
    const quiet = diffLambda(input.durations.end.lambda[name], input.durations.start.lambda[name]);
    const meanMs =
      quiet.warmInvocations >= 3
        ? quiet.warmDurationMs / quiet.warmInvocations
        : counters.warmInvocations > 0
          ? counters.warmDurationMs / counters.warmInvocations
          : counters.durationMs / Math.max(1, counters.invocations);
    pricedDurations[shortName(name, runtime.options.client)] = round(meanMs, 1) ?? 0;
    const activity: FunctionActivity = {
      invocations: counters.invocations,
      durationMs: meanMs * counters.invocations,
      memoryMb: profile?.memoryMb ?? pool?.spec.memoryMb ?? 128,
      architecture: profile?.architecture ?? 'x86_64',
      calls: calls[name] ?? {},
      ...(inst.warnings.some((w) => w.includes('DynamoDB capacity'))
        ? {}
        : { capacity: diffCapacity(end.capacity[name], start.capacity[name]) }),
      logBytes: input.logBytes[name] ?? 0,
    };
    perFunction.set(name, {
      usage: functionUsage(
        activity,
        eventsPerPutEvents,
        profile?.platformLines === false ? 0 : platformLogBytes,
      ),
      invocations: counters.invocations,
    });
  }
  const nurtureFn = [...runtime.functions.entries()].find(([, p]) =>
    p.spec.logicalId.startsWith('Nurture'),
  )?.[0];
  const sesEventsFn = [...runtime.functions.entries()].find(([, p]) =>
    p.spec.logicalId.startsWith('SesEvents'),
  )?.[0];

  // The SLA ladder: one-time schedules starting an Express rung workflow, priced per ladder from
  // the client's ladder and the measured task times (the measured rung counts are shown alongside).
  // Every assigned bench lead starts one ladder, and none is ever contacted.
  const ladders = [...inst.leads.values()].filter((t) => t.routedAs === 'Lead Assigned').length;
  const meanMs = (logicalPrefix: string) => {
    const name = [...runtime.functions.entries()].find(([, p]) =>
      p.spec.logicalId.startsWith(logicalPrefix),
    )?.[0];
    return (name && pricedDurations[shortName(name, runtime.options.client)]) || 0;
  };
  const ladderModel = {
    ladderSteps: config.sla.ladder.length,
    slaTaskMs: meanMs('SlaFunction') || meanMs('Sla'),
    schedulerTaskMs: meanMs('SlaStart'),
  };
  const perLadder = slaLadderUsage(ladderModel);
  if (!sla) warnings.push('no SLA rung workflow in the template: the SLA ladder is not priced');
  // No Standard machine is left in the SLA ladder: no transitions, contacted or not.
  const slaPaths = { contacted: 0, unworked: 0 };
  const slaExecutions = ladders;
  const measuredMachines = Object.fromEntries(
    Object.keys(end.machines).map((name) => {
      const e = end.machines[name];
      const s = start.machines[name];
      const executions = (e?.executions ?? 0) - (s?.executions ?? 0);
      const transitions = (e?.transitions ?? 0) - (s?.transitions ?? 0);
      const bytes = (e?.logBytes ?? 0) - (s?.logBytes ?? 0);
      const finished = input.executions.filter(
        (x) => x.stateMachineArn.endsWith(`:${name}`) && x.status !== 'RUNNING',
      ).length;
      return [
        name,
        {
          executions,
          finished,
          transitions,
          transitionsPerExecution: round(transitions / Math.max(1, executions), 1) ?? 0,
          logBytesPerTransition: round(bytes / Math.max(1, transitions), 0) ?? 0,
        },
      ];
    }),
  );
  // Below `ALL`, Step Functions logs failed executions only (none in a healthy run).
  const logBytesPerTransition = (name: string | undefined) =>
    name && !logsEveryState.has(name) ? 0 : (name && measuredMachines[name]?.logBytesPerTransition) || 1500;

  // Total measured usage.
  let measured = emptyUsage();
  for (const { usage } of perFunction.values()) measured = addUsage(measured, usage);
  measured.apiRequests = input.apiRequests;
  // Express execution logs: ERROR level by default, nothing in a healthy run.
  if (sla) measured = addUsage(measured, perLadder, ladders);

  // Without nurture: remove the nurture function and the SES-event handling of its emails.
  const nurtureUsage = nurtureFn ? perFunction.get(nurtureFn) : undefined;
  const sesEvents = sesEventsFn ? perFunction.get(sesEventsFn) : undefined;
  const emailsMeasured = measured.emails;
  const nurtureEmailsMeasured = nurtureUsage?.usage.emails ?? 0;
  const sesEventsPerEmail = emailsMeasured > 0 && sesEvents ? 1 / emailsMeasured : 0;
  let withoutNurture = measured;
  if (nurtureUsage) withoutNurture = addUsage(withoutNurture, nurtureUsage.usage, -1);
  if (sesEvents && emailsMeasured > 0)
    withoutNurture = addUsage(withoutNurture, sesEvents.usage, -nurtureEmailsMeasured / emailsMeasured);

  // With nurture: every nurtured lead's full sequence (or its stop for lack of consent), from
  // the definition and the measured cost of one nurture invocation and of one email's events.
  const perInvocation = emptyUsage();
  if (nurtureUsage && nurtureUsage.invocations > 0) {
    const u = addUsage(emptyUsage(), nurtureUsage.usage, 1 / nurtureUsage.invocations);
    u.emails = 0;
    Object.assign(perInvocation, u);
  } else {
    warnings.push('no nurture invocation was measured: the nurture model prices transitions and emails only');
  }
  const perEmail = emptyUsage();
  perEmail.emails = 1;
  const emailEvents = sesEvents ? addUsage(emptyUsage(), sesEvents.usage, sesEventsPerEmail) : emptyUsage();
  const consentRequired = config.client.consentMode === 'consent-required';
  let nurtured = 0;
  let nurtureModel = emptyUsage();
  let modeledEmails = 0;
  for (const [leadId, trace] of inst.leads) {
    if (trace.routedAs !== 'Lead Nurtured') continue;
    nurtured += 1;
    const sequence = config.nurture.sequences.find((s) => s.id === trace.sequenceId);
    const steps = sequence?.steps.length ?? 0;
    const consent = !consentRequired || (input.marketingConsent.get(leadId) ?? false);
    const full = consent && steps > 0;
    const invocations = full ? steps : 1;
    const emails = full ? steps : 0;
    modeledEmails += emails;
    // A consenting lead gets every step; one without consent stops at the first send.
    const transitions = nurture
      ? countTransitions(nurture.definition, nurturePath(nurture.definition, sequence, full))
      : 0;
    nurtureModel = addUsage(nurtureModel, perInvocation, invocations);
    nurtureModel = addUsage(nurtureModel, perEmail, emails);
    nurtureModel = addUsage(nurtureModel, emailEvents, emails);
    nurtureModel.transitions += transitions;
    nurtureModel.logBytes += transitions * logBytesPerTransition(nurture?.name);
  }
  const withNurture = addUsage(withoutNurture, nurtureModel);

  const per1k = (usage: Usage) => {
    const lines = priceUsage(usage, pricing).map((l) => ({
      label: l.label,
      quantityPerLead: significant(l.quantity / leads),
      usdPer1000Leads: round((l.usd / leads) * 1000, 4) ?? 0,
    }));
    return { lines, usdPer1000Leads: round((totalUsd(priceUsage(usage, pricing)) / leads) * 1000, 3) ?? 0 };
  };
  const priced = { withNurture: per1k(withNurture), withoutNurture: per1k(withoutNurture) };
  const dominant = [...priced.withNurture.lines].sort((a, b) => b.usdPer1000Leads - a.usdPer1000Leads)[0];

  const lambdaByFunction = [...perFunction.entries()]
    .filter(([, f]) => f.invocations > 0)
    .map(([name, f]) => ({
      name: shortName(name, runtime.options.client),
      invocationsPerLead: round(f.invocations / leads, 2) ?? 0,
      meanDurationMs:
        round(
          ((end.lambda[name]?.durationMs ?? 0) - (start.lambda[name]?.durationMs ?? 0)) /
            Math.max(1, f.invocations),
          1,
        ) ?? 0,
      pricedDurationMs: pricedDurations[shortName(name, runtime.options.client)] ?? 0,
      usdPer1000Leads: round((totalUsd(priceUsage(f.usage, pricing)) / leads) * 1000, 4) ?? 0,
    }))
    .sort((a, b) => b.usdPer1000Leads - a.usdPer1000Leads);

  const capacity = Object.values(diffCapacityMap(end.capacity, start.capacity));
  const sum = (f: (c: CapacityCounters) => number) => capacity.reduce((s, c) => s + f(c), 0);
  const dynamo = {
    writeUnitsPerLead: round(sum((c) => c.writeUnits) / leads, 1) ?? 0,
    indexWriteUnitsPerLead: round(sum((c) => c.indexWriteUnits) / leads, 1) ?? 0,
    readUnitsPerLead: round(sum((c) => c.readUnits) / leads, 1) ?? 0,
    failedWritesPerLead: round(sum((c) => c.failedWrites) / leads, 2) ?? 0,
    indexes: tableIndexes(stacks),
    transactWriteItemsPerLead:
      round(
        total(pick(diffCounts(end.awsCalls, start.awsCalls), 'DynamoDB.TransactWriteItems')) / leads,
        2,
      ) ?? 0,
  };

  return {
    warnings,
    result: {
      pricing: {
        region: pricing.region,
        asOf: pricing.asOf,
        status: pricing.status,
        notPriced: pricing.assumptions.notPriced,
      },
      leads: input.leads,
      withNurture: priced.withNurture,
      withoutNurture: priced.withoutNurture,
      dominant: dominant ? { label: dominant.label, usdPer1000Leads: dominant.usdPer1000Leads } : undefined,
      nurture: {
        nurturedLeads: nurtured,
        consentMode: config.client.consentMode,
        modeledEmailsPerNurturedLead: round(modeledEmails / Math.max(1, nurtured), 2) ?? 0,
        emailsSentDuringRun: { total: emailsMeasured, nurture: nurtureEmailsMeasured },
        actions: pick(diffCounts(end.actions, start.actions), nurtureFn ?? '~'),
      },
      stepFunctions: {
        slaExecutions,
        slaTransitionsContacted: slaPaths.contacted,
        slaTransitionsUnworked: slaPaths.unworked,
        pricedSlaPath:
          'unworked (benchmark leads are never contacted: every assigned lead climbs the whole ladder)',
        slaLadder: {
          ladders,
          expressExecutionsPerLadder: perLadder.expressRequests,
          schedulesPerLadder: perLadder.schedulerInvocations,
          expressGbSecondsPerLadder: round(perLadder.expressGbSeconds, 4) ?? 0,
          standardTransitionsPerLead: round(withoutNurture.transitions / leads, 2) ?? 0,
          standardTransitionsPerLeadWithNurture: round(withNurture.transitions / leads, 2) ?? 0,
          expressExecutionsPerLead: round(withoutNurture.expressRequests / leads, 2) ?? 0,
          schedulesPerLead: round(withoutNurture.schedulerInvocations / leads, 2) ?? 0,
          taskMs: { sla: ladderModel.slaTaskMs, slaStart: ladderModel.schedulerTaskMs },
        },
        measured: measuredMachines,
      },
      eventsPerLead: round((end.customEvents - start.customEvents) / leads, 2) ?? 0,
      eventsPerPutEvents: round(eventsPerPutEvents, 2) ?? 0,
      dynamo,
      lambdaByFunction,
      logKbPerLead: round(measured.logBytes / leads / 1024, 1) ?? 0,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

function pick(counts: Record<string, number>, prefix: string): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([k]) => k.startsWith(prefix)));
}

function perLead(counts: Record<string, number>, leads: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, round(v / Math.max(1, leads), 2) ?? 0]),
  );
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

function diffMap(
  after: Record<string, Record<string, number>>,
  before: Record<string, Record<string, number>>,
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const key of Object.keys(after)) out[key] = diffCounts(after[key] ?? {}, before[key] ?? {});
  return out;
}

function diffLambda(after: LambdaCounters | undefined, before: LambdaCounters | undefined) {
  const d = (k: keyof LambdaCounters) => (after?.[k] ?? 0) - (before?.[k] ?? 0);
  return {
    invocations: d('invocations'),
    durationMs: d('durationMs'),
    warmInvocations: d('warmInvocations'),
    warmDurationMs: d('warmDurationMs'),
  };
}

function diffCapacity(
  after: CapacityCounters | undefined,
  before: CapacityCounters | undefined,
): CapacityCounters {
  const keys = [
    'readUnits',
    'writeUnits',
    'indexWriteUnits',
    'failedWrites',
    'failedTransactions',
    'failedTransactionItems',
  ] as const;
  const out = {} as CapacityCounters;
  for (const k of keys) out[k] = (after?.[k] ?? 0) - (before?.[k] ?? 0);
  return out;
}

function diffCapacityMap(
  after: Record<string, CapacityCounters>,
  before: Record<string, CapacityCounters>,
): Record<string, CapacityCounters> {
  return Object.fromEntries(Object.keys(after).map((k) => [k, diffCapacity(after[k], before[k])]));
}

function shortName(name: string, client: string): string {
  return name.startsWith(`${client}-`) ? name.slice(client.length + 1).replace(/Function$/, '') : name;
}

function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

process.exitCode = await main();
// Worker threads and sockets are closed by runtime.stop(); exit explicitly in case a library
// keeps a timer alive.
setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
