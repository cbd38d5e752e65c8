/**
 * `npm run bench [-- --quick]`: the pipeline's benchmark, offline, from the synthesized stacks.
 *
 * Boots the local runtime (fresh data under `.local/bench`, a large time scale, API stage
 * throttling OFF so the pipeline is measured rather than the stage's rate limit), then measures:
 *
 * 1. capture throughput and latency at fixed rates (open-loop load, unique leads) and LOST leads:
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
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { LocalRuntime } from '../local/runtime';
import { type ColdStartTarget, measureColdStarts } from './cold-start';
import { rawDynamoOpsPerSecond } from './dynamo-raw';
import {
  captureFunction,
  functionLogBytes,
  pickOnShiftCountry,
  postJson,
  postLead,
  runLoad,
  stageThrottle,
  startUsage,
  stlStats,
  touchApiFunctions,
  waitForAlert,
  waitQuiet,
} from './harness';
import { Instrumentation } from './instrument';
import { benchLead } from './leads';
import {
  DATA_DIR,
  DRAIN_TIMEOUT_SECONDS,
  log,
  options,
  quick,
  REPO,
  RESULTS_DIR,
  runId,
  SUSTAIN_DRAIN_LIMIT_SECONDS,
  SUSTAIN_P99_LIMIT_MS,
  type Submitted,
} from './options';
import {
  type BenchResult,
  type PhaseResult,
  renderMarkdown,
  type StlStats,
  type SustainStep,
} from './report';
import { costModel, countBy, diffMap, isoDate, perLead, pick, shortName } from './run';
import { attachSmsBench } from './sms';
import { diffCounts, round, total } from './stats';
import { checkLeads } from './verify';

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

    /** Capture at `rate` for `seconds` (open loop); every accepted lead is recorded under `phase`. */
    const loadAt = async (rate: number, seconds: number, seqStart: number, phase: string) => {
      const load = await runLoad({
        captureUrl: endpoints.captureUrl,
        rate,
        durationSeconds: seconds,
        runId,
        seqStart,
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
          phase,
        });
      }
      return { load, loadEnded };
    };

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
      const { load, loadEnded } = await loadAt(
        rate,
        options.durationSeconds,
        seq + 1_000_000 * (phases.length + 1),
        `${rate}/s`,
      );
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
      const { load, loadEnded } = await loadAt(
        rate,
        options.sustainSeconds,
        seq + 10_000_000 * (sustained.length + 1),
        `sustain ${rate}/s`,
      );
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
      eventsPerLeadByType: perLead(diffCounts(end.customEventsByType, start.customEventsByType), leads),
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

process.exitCode = await main();
// Worker threads and sockets are closed by runtime.stop(); exit explicitly in case a library
// keeps a timer alive.
setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
