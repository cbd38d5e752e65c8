/**
 * One fixed-rate load run against the capture endpoint, in its own process so the load generator
 * does not share an event loop with the pipeline it measures:
 * `node --import tsx bench/load.ts <config.json>`.
 *
 * It posts a new, unique lead per request (see `leads.ts`) at `rate` requests/s for
 * `durationSeconds`, evenly spaced (request i is due at start + i / rate), remembers when each
 * request was due and which lead id its 2xx answer carried, waits for every answer (up to
 * `timeoutSeconds` each), and writes a {@link LoadResult} to `config.out`.
 *
 * Open loop, on purpose: a request is sent when it is due whether or not earlier ones have been
 * answered, as independent visitors do, and its latency counts from when it was due, so a
 * generator that falls behind cannot hide the pipeline's delay (coordinated omission). An
 * earlier version used autocannon with one connection per request/s; its rate limiter lets every
 * connection send at the same instant once per second (50/s arrived as a burst of 50 every
 * second), and its coordinated-omission correction assumed a 1 ms interval, which recorded a
 * 1.4 s answer about 1,400 times; its duration also cut off requests still being answered.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { benchLead, type LeadKind } from './leads';
import { percentile } from './stats';

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
  /** Most requests in flight at once (sockets the generator needed). */
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
  /** Requests left without an answer (the generator waits for every answer, so 0 unless it was stopped). */
  readonly unanswered: number;
  readonly statusCounts: Record<string, number>;
  /** Latency of the 2xx answers (ms, from when each request was due). */
  readonly latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Answers per second, from the first request to the last answer. */
  readonly achievedRate: number;
  /** 2xx answers that carried no lead id (counted as errors by the harness). */
  readonly acceptedWithoutLeadId: number;
  readonly accepted: AcceptedLead[];
}

/** One answer (or failure) of one request. */
interface Outcome {
  readonly status: number;
  readonly body: string;
  readonly error?: 'timeout' | 'socket';
}

async function main(): Promise<void> {
  const configFile = process.argv[2];
  if (!configFile) throw new Error('usage: bench/load.ts <config.json>');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as LoadConfig;
  const url = new URL(config.captureUrl);
  // Keep-alive sockets, as many as the requests in flight need (browsers of different visitors
  // would each have their own; reusing them keeps TCP set-up out of the figure).
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const total = Math.max(1, Math.round(config.rate * config.durationSeconds));
  const accepted: AcceptedLead[] = [];
  const statusCounts: Record<string, number> = {};
  const latencies: number[] = [];
  let acceptedWithoutLeadId = 0;
  let responses = 0;
  let errors = 0;
  let timeouts = 0;
  let inFlight = 0;
  let peakInFlight = 0;

  const post = (body: string): Promise<Outcome> =>
    new Promise((resolve) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            origin: 'https://www.northwind.example',
          },
          timeout: config.timeoutSeconds * 1000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
          );
          res.on('error', () => resolve({ status: 0, body: '', error: 'socket' }));
        },
      );
      req.on('timeout', () => {
        req.destroy();
        resolve({ status: 0, body: '', error: 'timeout' });
      });
      req.on('error', () => resolve({ status: 0, body: '', error: 'socket' }));
      req.end(body);
    });

  const send = async (seq: number, dueAt: number): Promise<void> => {
    const lead = benchLead(seq, config.runId);
    inFlight += 1;
    peakInFlight = Math.max(peakInFlight, inFlight);
    const outcome = await post(JSON.stringify(lead.body));
    inFlight -= 1;
    const answeredAt = Date.now();
    if (outcome.error === 'timeout') timeouts += 1;
    if (outcome.error === 'socket') errors += 1;
    if (outcome.error) return;
    responses += 1;
    statusCounts[outcome.status] = (statusCounts[outcome.status] ?? 0) + 1;
    if (outcome.status < 200 || outcome.status >= 300) return;
    latencies.push(answeredAt - dueAt);
    let leadId: string | undefined;
    try {
      leadId = (JSON.parse(outcome.body) as { leadId?: unknown }).leadId as string | undefined;
    } catch {
      leadId = undefined;
    }
    if (typeof leadId !== 'string' || leadId === '') {
      acceptedWithoutLeadId += 1;
      return;
    }
    accepted.push({
      leadId,
      kind: lead.sent.kind,
      marketingConsent: lead.sent.marketingConsent,
      sentAt: dueAt,
      answeredAt,
      status: outcome.status,
    });
  };

  const startedAt = Date.now();
  const requests: Array<Promise<void>> = [];
  for (let i = 0; i < total; i++) {
    const dueAt = startedAt + (i * 1000) / config.rate;
    const wait = dueAt - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    requests.push(send(config.seqStart + i + 1, dueAt));
  }
  await Promise.all(requests);
  const finishedAt = Date.now();
  agent.destroy();

  const at = (p: number) => Math.round(percentile(latencies, p) ?? 0);
  const elapsedSeconds = (finishedAt - startedAt) / 1000;
  const status2xx = Object.entries(statusCounts)
    .filter(([status]) => status.startsWith('2'))
    .reduce((n, [, count]) => n + count, 0);
  const out: LoadResult = {
    rate: config.rate,
    durationSeconds: config.durationSeconds,
    connections: peakInFlight,
    startedAt,
    finishedAt,
    elapsedSeconds,
    sent: total,
    responses,
    status2xx,
    non2xx: responses - status2xx,
    errors,
    timeouts,
    unanswered: total - responses - errors - timeouts,
    statusCounts,
    latency: {
      p50: at(50),
      p90: at(90),
      p99: at(99),
      max: Math.round(Math.max(0, ...latencies)),
      mean: Math.round(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)),
    },
    achievedRate: responses / Math.max(elapsedSeconds, 0.001),
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
