/**
 * The cost model of `npm run bench` (AWS calls and cost per 1,000 leads, priced with
 * `bench/pricing.json`) and the counter helpers it shares with the harness (`main.ts`).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SLA_STATES } from '../infra/constructs/sla-ladder';
import { NURTURE_STATES } from '../infra/constructs/workflows';
import type { LocalRuntime } from '../local/runtime';
import { loadAssembly } from '../local/template';
import type { ClientConfig } from '../shared/config/schema';
import { type AslDefinition, countTransitions } from './asl';
import { functionProfiles, stateMachineDefinitions, stateMachineLogLevels, tableIndexes } from './assembly';
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
import type { CapacityCounters, Instrumentation, LambdaCounters, Snapshot } from './instrument';
import type { BenchResult } from './report';
import { nurturePath } from './sms';
import { diffCounts, round, significant, total } from './stats';

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

export function costModel(input: CostInputs): { result: BenchResult['cost']; warnings: string[] } {
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

export function pick(counts: Record<string, number>, prefix: string): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([k]) => k.startsWith(prefix)));
}

export function perLead(counts: Record<string, number>, leads: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, round(v / Math.max(1, leads), 2) ?? 0]),
  );
}

export function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

export function diffMap(
  after: Record<string, Record<string, number>>,
  before: Record<string, Record<string, number>>,
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const key of Object.keys(after)) out[key] = diffCounts(after[key] ?? {}, before[key] ?? {});
  return out;
}

export function diffLambda(after: LambdaCounters | undefined, before: LambdaCounters | undefined) {
  const d = (k: keyof LambdaCounters) => (after?.[k] ?? 0) - (before?.[k] ?? 0);
  return {
    invocations: d('invocations'),
    durationMs: d('durationMs'),
    warmInvocations: d('warmInvocations'),
    warmDurationMs: d('warmDurationMs'),
  };
}

export function diffCapacity(
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

export function diffCapacityMap(
  after: Record<string, CapacityCounters>,
  before: Record<string, CapacityCounters>,
): Record<string, CapacityCounters> {
  return Object.fromEntries(Object.keys(after).map((k) => [k, diffCapacity(after[k], before[k])]));
}

export function shortName(name: string, client: string): string {
  return name.startsWith(`${client}-`) ? name.slice(client.length + 1).replace(/Function$/, '') : name;
}

export function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}
