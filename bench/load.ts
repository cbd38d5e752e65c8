/**
 * One fixed-rate load run against the capture endpoint, in its own process so the load generator
 * does not share an event loop with the pipeline it measures:
 * `node --import tsx bench/load.ts <config.json>`.
 *
 * It posts a new, unique lead per request (see `leads.ts`) with autocannon at `rate` requests/s
 * for `durationSeconds`, remembers when each request was sent and which lead id its 2xx answer
 * carried, and writes a {@link LoadResult} to `config.out`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { benchLead, type LeadKind } from './leads';

/** What the harness asks for. */
export interface LoadConfig {
  readonly captureUrl: string;
  readonly rate: number;
  readonly durationSeconds: number;
  /** Prefix of the email local parts (unique per run). */
  readonly runId: string;
  /** First sequence number (unique across the run's phases). */
  readonly seqStart: number;
  /** Seconds before a request counts as timed out (API Gateway's integration limit is 30). */
  readonly timeoutSeconds: number;
  readonly out: string;
}

/** One accepted submission: a 2xx answer with a lead id. */
export interface AcceptedLead {
  readonly leadId: string;
  readonly kind: LeadKind;
  readonly marketingConsent: boolean;
  /** Epoch ms when the request was written. */
  readonly sentAt: number;
  /** Epoch ms when the answer arrived. */
  readonly answeredAt: number;
  readonly status: number;
}

/** What a load run reports back. */
export interface LoadResult {
  readonly rate: number;
  readonly durationSeconds: number;
  readonly connections: number;
  readonly startedAt: number;
  readonly finishedAt: number;
  /** Seconds from the first request to the last answer. */
  readonly elapsedSeconds: number;
  /** Requests written. */
  readonly sent: number;
  readonly responses: number;
  readonly status2xx: number;
  readonly non2xx: number;
  /** Socket errors other than timeouts. */
  readonly errors: number;
  readonly timeouts: number;
  /** Requests still waiting for an answer when the run ended (they may still create leads). */
  readonly unanswered: number;
  readonly statusCounts: Record<string, number>;
  /** Autocannon's latency distribution (ms, corrected for coordinated omission). */
  readonly latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Achieved requests/s (autocannon's average). */
  readonly achievedRate: number;
  /** 2xx answers that carried no lead id (counted as errors by the harness). */
  readonly acceptedWithoutLeadId: number;
  readonly accepted: AcceptedLead[];
}

interface Context {
  seq?: number;
  sentAt?: number;
  kind?: LeadKind;
  consent?: boolean;
}

async function main(): Promise<void> {
  const configFile = process.argv[2];
  if (!configFile) throw new Error('usage: bench/load.ts <config.json>');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as LoadConfig;
  const url = new URL(config.captureUrl);
  let seq = config.seqStart;
  const accepted: AcceptedLead[] = [];
  const statusCounts: Record<string, number> = {};
  let acceptedWithoutLeadId = 0;
  // One connection per request/s: each sends at most one request per second, so answers slower
  // than 1 s make the achieved rate fall below the target (reported), as with a real client pool.
  const connections = Math.max(1, config.rate);

  const startedAt = Date.now();
  const result = await autocannon({
    url: url.origin,
    connections,
    overallRate: config.rate,
    // A duration, not a number of requests: each connection waits for its answer before the
    // next request, so a saturated pipeline lowers the achieved rate instead of piling up an
    // unbounded backlog. Answers still in flight at the end are reported as unanswered.
    duration: config.durationSeconds,
    timeout: config.timeoutSeconds,
    requests: [
      {
        method: 'POST',
        path: url.pathname,
        headers: { 'content-type': 'application/json', origin: 'https://www.northwind.example' },
        setupRequest: (request, context: Context) => {
          seq += 1;
          const lead = benchLead(seq, config.runId);
          context.seq = seq;
          context.sentAt = Date.now();
          context.kind = lead.sent.kind;
          context.consent = lead.sent.marketingConsent;
          return { ...request, body: JSON.stringify(lead.body) };
        },
        onResponse: (status, body, context: Context) => {
          statusCounts[status] = (statusCounts[status] ?? 0) + 1;
          if (status < 200 || status >= 300) return;
          let leadId: string | undefined;
          try {
            leadId = (JSON.parse(body) as { leadId?: unknown }).leadId as string | undefined;
          } catch {
            leadId = undefined;
          }
          if (typeof leadId !== 'string' || leadId === '') {
            acceptedWithoutLeadId += 1;
            return;
          }
          accepted.push({
            leadId,
            kind: context.kind ?? 'nurture',
            marketingConsent: context.consent ?? false,
            sentAt: context.sentAt ?? Date.now(),
            answeredAt: Date.now(),
            status,
          });
        },
      },
    ],
  });
  const finishedAt = Date.now();

  const out: LoadResult = {
    rate: config.rate,
    durationSeconds: config.durationSeconds,
    connections,
    startedAt,
    finishedAt,
    elapsedSeconds: (finishedAt - startedAt) / 1000,
    sent: result.requests.sent,
    responses: result.requests.total,
    status2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors - result.timeouts,
    timeouts: result.timeouts,
    unanswered: Math.max(0, result.requests.sent - result.requests.total - result.timeouts),
    statusCounts,
    latency: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.average,
    },
    achievedRate: result.requests.average,
    acceptedWithoutLeadId,
    accepted,
  };
  writeFileSync(config.out, JSON.stringify(out));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
