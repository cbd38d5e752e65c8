import { renderCost } from './report-cost';
import { ms, num, table } from './report-format';
import type { LeadCheck } from './verify';

/** The benchmark's results, as written to `bench/results/<date>.json`. */

export interface PhaseResult {
  readonly rate: number;
  readonly durationSeconds: number;
  /** Seconds from the first request to the last answer (longer than planned when answers are slow). */
  readonly elapsedSeconds: number;
  readonly sent: number;
  readonly achievedRate: number;
  /** Leads answered 2xx with a lead id. */
  readonly accepted: number;
  /** Leads the pipeline created during the phase (including answers the generator never saw). */
  readonly created: number;
  readonly non2xx: number;
  readonly timeouts: number;
  /** Requests without an answer when the load stopped (they may still have created leads). */
  readonly unanswered: number;
  readonly socketErrors: number;
  readonly acceptedWithoutLeadId: number;
  readonly statusCounts: Record<string, number>;
  readonly latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Seconds from the end of the load to the bus going quiet. */
  readonly drainSeconds: number;
  readonly drained: boolean;
  /** Accepted leads ÷ seconds from the first request to the bus going quiet. */
  readonly pipelineLeadsPerSecond: number;
  readonly dynamoOpsPerSecond: number;
  readonly meanDynamoInFlight: number;
  /** Event-loop utilisation of the runtime's main thread (API, bus, emulators), 0–1. */
  readonly mainThreadBusy: number;
  /** Share of the machine's CPU time in use (all processes), 0–1. */
  readonly machineCpuBusy: number;
  lost: number;
}

export interface Percentiles {
  readonly alerted: number;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
}

export interface StlStats {
  readonly leads: number;
  /** Leads routed to a rep (alerts are sent for those). */
  readonly assigned: number;
  readonly slack: Percentiles;
  readonly sns: Percentiles;
  readonly slackPostsRecorded: number;
  /**
   * Median time of each hop of the assigned leads (ms): POST → `Lead Captured` on the bus
   * (capture), → `Lead Scored` (score), → `Lead Assigned` (route), → Slack post (alert).
   */
  readonly hopsP50Ms?: {
    readonly capture?: number;
    readonly score?: number;
    readonly route?: number;
    readonly alert?: number;
  };
}

export interface CostBreakdown {
  readonly lines: Array<{ label: string; quantityPerLead: number; usdPer1000Leads: number }>;
  readonly usdPer1000Leads: number;
}

/** One step of the sustained-rate search. */
export interface SustainStep {
  readonly rate: number;
  readonly seconds: number;
  readonly achievedRate: number;
  readonly created: number;
  /** Non-2xx answers, timeouts and requests unanswered at the end. */
  readonly non2xx: number;
  readonly p99Ms: number;
  readonly drainSeconds: number;
  /** p99 and drain within the limits, and every request answered 2xx. */
  readonly held: boolean;
}

export interface BenchResult {
  readonly date: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly wallSeconds: number;
  readonly options: {
    readonly quick: boolean;
    readonly client: string;
    readonly rates: number[];
    readonly durationSeconds: number;
    readonly timeScale: number;
    readonly concurrency: number;
    readonly idleLeads: number;
    readonly coldRuns: number;
    readonly throttle: false;
    readonly stageThrottle: string;
  };
  readonly machine: {
    cpus: number;
    cpuModel: string;
    memoryGb: number;
    platform: string;
    node: string;
    /** 1-minute load average: other work on the machine skews every number. */
    loadAverage: { atStart: number; atEnd: number };
  };
  readonly warnings: string[];
  readonly leads: {
    /** Leads the pipeline created (every per-lead figure divides by this). */
    created: number;
    /** Of which the harness saw the 2xx answer. */
    answered2xx: number;
    byPhase: Record<string, number>;
    byKind: Record<string, number>;
  };
  readonly capture: PhaseResult[];
  readonly lost: Omit<LeadCheck, 'lostIds' | 'marketingConsent'>;
  readonly deadLetters: number;
  readonly speedToLead: {
    readonly onShift: { country: string; team: string; onShift: string[] };
    readonly idle: StlStats & { stages: Record<string, number> };
    readonly load?: StlStats & { rate: number };
  };
  readonly efficiency: {
    readonly dynamoOpsPerLead: number;
    readonly dynamoOpsByOperation: Record<string, number>;
    readonly rawOpsPerSecond: number;
    readonly rawConcurrency: number;
    readonly rawErrors: number;
    readonly peakDynamoInFlight: number;
    readonly phases: Array<{
      rate: number;
      pipelineLeadsPerSecond: number;
      demandedOpsPerSecond: number;
      shareOfRaw: number;
      measuredOpsPerSecond: number;
    }>;
  };
  readonly coldStart?: {
    readonly node: string;
    readonly runs: number;
    readonly emptyHandlerMs: number;
    readonly functions: Array<{
      name: string;
      bundleKb: number;
      sourceMapKb: number;
      /** Data files shipped next to the bundle (absent in results written before they existed). */
      dataKb?: number;
      importMs: number;
      firstInvokeMs: number;
      totalMs: number;
      ratio: number;
      outcome: string;
    }>;
  };
  readonly awsCallsPerLead: Record<string, number>;
  /** The same, by the function that made the calls. */
  readonly awsCallsPerLeadByFunction: Record<string, Record<string, number>>;
  /** Custom EventBridge events per lead by detail-type (absent in results written before it existed). */
  readonly eventsPerLeadByType?: Record<string, number>;
  /** The highest sustained rate (absent in results written before it existed). */
  readonly sustained?: {
    readonly p99LimitMs: number;
    readonly drainLimitSeconds: number;
    readonly steps: SustainStep[];
    /** The last rate that held (0: none did). */
    readonly highestHeld: number;
  };
  readonly cost: {
    readonly pricing: { region: string; asOf: string; status: string; notPriced: string[] };
    readonly leads: number;
    readonly withNurture: CostBreakdown;
    readonly withoutNurture: CostBreakdown;
    readonly dominant: { label: string; usdPer1000Leads: number } | undefined;
    readonly nurture: {
      nurturedLeads: number;
      consentMode: string;
      modeledEmailsPerNurturedLead: number;
      emailsSentDuringRun: { total: number; nurture: number };
      actions: Record<string, number>;
    };
    readonly stepFunctions: {
      slaExecutions: number;
      slaTransitionsContacted: number;
      slaTransitionsUnworked: number;
      pricedSlaPath: string;
      /** The SLA ladder on EventBridge Scheduler and Express rungs (see `slaLadderUsage`). */
      slaLadder?: {
        ladders: number;
        expressExecutionsPerLadder: number;
        schedulesPerLadder: number;
        expressGbSecondsPerLadder: number;
        standardTransitionsPerLead: number;
        standardTransitionsPerLeadWithNurture: number;
        expressExecutionsPerLead: number;
        schedulesPerLead: number;
        taskMs: { sla: number; slaStart: number };
      };
      measured: Record<
        string,
        {
          executions: number;
          finished: number;
          transitions: number;
          transitionsPerExecution: number;
          logBytesPerTransition: number;
        }
      >;
    };
    readonly eventsPerLead: number;
    readonly eventsPerPutEvents: number;
    readonly dynamo: {
      writeUnitsPerLead: number;
      indexWriteUnitsPerLead: number;
      readUnitsPerLead: number;
      failedWritesPerLead: number;
      /** The table's global secondary indexes, `name (projection)`. */
      indexes: string[];
      transactWriteItemsPerLead: number;
    };
    readonly lambdaByFunction: Array<{
      name: string;
      invocationsPerLead: number;
      meanDurationMs: number;
      /** The handler time priced (idle-phase mean). */
      pricedDurationMs: number;
      usdPer1000Leads: number;
    }>;
    readonly logKbPerLead: number;
  };
}

/** The results as Markdown (what `npm run bench` prints; paste into the README). */
export function renderMarkdown(r: BenchResult): string {
  const out: string[] = [];
  const o = r.options;
  out.push(
    `## Benchmark (${r.date}${o.quick ? ', --quick' : ''})`,
    '',
    `Client \`${o.client}\`, offline runtime, ${r.machine.cpus} CPU (${r.machine.cpuModel}), ${r.machine.memoryGb} GB, ` +
      `Node ${r.machine.node}, load average ${r.machine.loadAverage.atStart} at the start. **API stage throttling OFF** (the deployed stage allows ${o.stageThrottle}): ` +
      `this measures the pipeline, not the stage limit. Time scale ×${o.timeScale}, up to ${o.concurrency} ` +
      `environments per function, ${r.leads.created.toLocaleString('en-US')} leads in ${r.wallSeconds} s.`,
    '',
  );

  const lost = r.lost.lost;
  out.push(
    lost === 0
      ? `**LOST: 0** of ${num(r.lost.checked)} accepted leads: every one stored, scored and routed (${num(r.leads.answered2xx)} answered 2xx with a lead id, the others created by requests answered after the load generator stopped); ${r.deadLetters} dead letters.`
      : `**LOST: ${lost}** of ${num(r.lost.checked)} accepted leads (${Object.entries(r.lost.byReason)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${n} ${k}`)
          .join(', ')}; ${r.deadLetters} dead letters).`,
    '',
  );

  out.push('### 1. Capture throughput and latency', '');
  out.push(
    table(
      [
        'Target rate',
        'Sent (achieved rate)',
        '2xx (leads created)',
        'p50',
        'p99',
        'Errors (non-2xx / timeouts)',
        'Lost',
        'Drain',
        'Pipeline leads/s',
        'CPU: machine / main thread',
      ],
      r.capture.map((p) => [
        `${p.rate}/s × ${p.durationSeconds} s`,
        `${num(p.sent)} in ${p.elapsedSeconds} s (${num(p.sent / Math.max(0.001, p.elapsedSeconds))}/s)`,
        `${num(p.accepted)} (${num(p.created)})`,
        ms(p.latencyMs.p50),
        ms(p.latencyMs.p99),
        `${num(p.non2xx)} / ${num(p.timeouts)}${p.socketErrors ? ` (+${p.socketErrors} socket)` : ''}${p.unanswered ? ` (+${num(p.unanswered)} unanswered at the end)` : ''}`,
        `**${p.lost}**`,
        `${p.drainSeconds} s${p.drained ? '' : ' (not quiet)'}`,
        num(p.pipelineLeadsPerSecond, 1),
        `${num(p.machineCpuBusy * 100)}% / ${num(p.mainThreadBusy * 100)}%`,
      ]),
    ),
    '',
    'Latency runs from when each request was due (requests evenly spaced at the target rate, sent whether or not earlier ones were answered, so a slow answer cannot delay the next request and hide itself); every answer is awaited. Achieved rate: answers per second from the first request to the last answer, so a saturated pipeline shows as an achieved rate below the target. Leads created includes leads whose answer came after a failure was counted. Drain: time after the load until no event delivery was in flight; pipeline leads/s: leads created ÷ (load + drain). CPU: share of the machine busy (every process) and event-loop use of the runtime’s main thread (HTTP API, bus, AWS endpoints, Step Functions and SES emulators), over load + drain.',
    '',
  );

  const s = r.speedToLead;
  const stlRow = (label: string, st: StlStats) => {
    const useSlack = st.slack.alerted > 0;
    const p = useSlack ? st.slack : st.sns;
    return [
      label,
      `${p.alerted} of ${st.assigned} assigned (${st.leads} leads)`,
      ms(p.p50Ms),
      ms(p.p99Ms),
      useSlack ? 'Slack' : p.alerted > 0 ? 'SNS (no Slack post was recorded)' : '–',
    ];
  };
  out.push('### 2. Speed to lead (POST → alert delivered)', '');
  out.push(
    table(
      ['Condition', 'Alerted', 'p50', 'p99', 'Channel'],
      [
        stlRow(`Idle, sequential SQL leads from ${s.onShift.country}`, s.idle),
        ...(s.load ? [stlRow(`Under load (${s.load.rate} requests/s)`, s.load)] : []),
      ],
    ),
    '',
    `Idle leads: a tracked demo request, then the form (${Object.entries(s.idle.stages)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')}); country chosen so its team has a rep on shift now (${
      s.onShift.onShift.length ? `${s.onShift.team}: ${s.onShift.onShift.join(', ')}` : 'none on shift'
    }). Under load only assigned leads are alerted (held MQLs wait for working hours; nurtured leads get no alert).`,
    '',
  );
  const hops = s.idle.hopsP50Ms;
  if (hops) {
    const ms = (v: number | undefined) => (v === undefined ? '–' : `${num(v)} ms`);
    out.push(
      `Idle, median per hop: capture (POST → Lead Captured) ${ms(hops.capture)}, score ${ms(hops.score)}, route ${ms(hops.route)}, alert (Lead Assigned → Slack) ${ms(hops.alert)}.`,
      '',
    );
  }

  const e = r.efficiency;
  out.push('### 3. Pipeline efficiency (DynamoDB)', '');
  out.push(
    table(
      ['Measure', 'Value'],
      [
        ['DynamoDB operations per lead', num(e.dynamoOpsPerLead, 1)],
        [
          'by operation',
          Object.entries(e.dynamoOpsByOperation)
            .map(([k, v]) => `${k.replace('DynamoDB.', '')} ${v}`)
            .join(', '),
        ],
        [
          `DynamoDB Local raw rate (PutItem+GetItem, ${e.rawConcurrency} concurrent)`,
          `${num(e.rawOpsPerSecond)} ops/s`,
        ],
        ...e.phases.map((p) => [
          `At ${p.rate}/s: ${num(p.pipelineLeadsPerSecond, 1)} leads/s × ${num(e.dynamoOpsPerLead, 1)} ops`,
          `${num(p.demandedOpsPerSecond)} ops/s = **${num(p.shareOfRaw * 100, 0)}%** of raw (measured ${num(p.measuredOpsPerSecond)} ops/s)`,
        ]),
      ],
    ),
    '',
  );

  out.push('#### DynamoDB operations and events per lead, by function', '');
  const byFunction = Object.entries(r.awsCallsPerLeadByFunction)
    .map(([fn, calls]) => {
      const dynamo = Object.entries(calls).filter(([k]) => k.startsWith('DynamoDB.'));
      return {
        fn,
        ops: dynamo.reduce((n, [, v]) => n + v, 0),
        detail: dynamo
          .sort(([, a], [, b]) => b - a)
          .map(([k, v]) => `${k.replace('DynamoDB.', '')} ${num(v, 2)}`)
          .join(', '),
        putEvents: calls['EventBridge.PutEvents'] ?? 0,
      };
    })
    .filter((f) => f.ops > 0 || f.putEvents > 0)
    .sort((a, b) => b.ops - a.ops);
  out.push(
    table(
      ['Function', 'DynamoDB ops per lead', 'by operation', 'PutEvents calls per lead'],
      [
        ...byFunction.map((f) => [f.fn, num(f.ops, 2), f.detail, num(f.putEvents, 2)]),
        [
          '**Total**',
          `**${num(
            byFunction.reduce((n, f) => n + f.ops, 0),
            1,
          )}**`,
          '',
          `**${num(
            byFunction.reduce((n, f) => n + f.putEvents, 0),
            2,
          )}** calls; **${num(r.cost.eventsPerLead, 2)}** custom events per lead`,
        ],
      ],
    ),
    '',
  );
  if (r.eventsPerLeadByType) {
    out.push(
      table(
        ['Custom event (detail-type)', 'Per lead'],
        Object.entries(r.eventsPerLeadByType)
          .sort(([, a], [, b]) => b - a)
          .map(([type, n]) => [type, num(n, 2)]),
      ),
      '',
    );
  }

  if (r.sustained) {
    const st = r.sustained;
    out.push(
      `### Highest sustained rate: **${st.highestHeld > 0 ? `${st.highestHeld} leads/s` : 'none of the rates held'}**`,
      '',
      `Stepped up until capture's p99 exceeded ${num(st.p99LimitMs)} ms, a request failed, or the backlog needed more than ${st.drainLimitSeconds} s to drain after the load stopped.`,
      '',
      table(
        ['Rate', 'Achieved', 'Leads created', 'Non-2xx', 'Capture p99', 'Drain', 'Held'],
        st.steps.map((x) => [
          `${x.rate}/s × ${x.seconds} s`,
          `${num(x.achievedRate, 1)}/s`,
          num(x.created),
          num(x.non2xx),
          ms(x.p99Ms),
          `${x.drainSeconds} s`,
          x.held ? 'yes' : '**no**',
        ]),
      ),
      '',
    );
  }

  if (r.coldStart) {
    const c = r.coldStart;
    out.push(`### 4. Cold start (fresh Node ${c.node} process, median of ${c.runs})`, '');
    out.push(
      table(
        ['Function', 'Bundle', 'Import', 'First invoke', 'Start → first invoke', '× empty handler'],
        [...c.functions]
          .sort((a, b) => b.totalMs - a.totalMs)
          .map((f) => [
            f.name,
            `${num(f.bundleKb)} KB (+${num(f.sourceMapKb)} KB map${f.dataKb ? `, +${num(f.dataKb)} KB data` : ''})`,
            ms(f.importMs),
            ms(f.firstInvokeMs),
            ms(f.totalMs),
            `${num(f.ratio, 1)}×`,
          ]),
      ),
      '',
      `Empty handler, measured the same way: ${num(c.emptyHandlerMs, 1)} ms (Node boot included). Invocations replay each function's first real event against the running local endpoints.`,
      '',
    );
  }

  out.push(...renderCost(r));

  if (r.warnings.length > 0) out.push('', '**Warnings**', '', ...r.warnings.map((w) => `- ${w}`));
  return out.join('\n');
}
