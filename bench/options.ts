/**
 * The benchmark's command line (`npm run bench -- --quick --rates 20,50 …`) and the limits its
 * phases hold to.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { LeadKind } from './leads';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    client: { type: 'string', default: 'example' },
    rates: { type: 'string', default: '50,200,500' },
    duration: { type: 'string' },
    'time-scale': { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '3' },
    'idle-leads': { type: 'string' },
    'cold-runs': { type: 'string' },
    'no-cold-start': { type: 'boolean', default: false },
    'stl-rate': { type: 'string', default: '200' },
    /** Rates stepped up for the highest sustained rate; `--sustain-rates ''` skips it. */
    'sustain-rates': { type: 'string', default: '5,10,20,30,40,50,75,100' },
    'sustain-duration': { type: 'string' },
  },
});

export const quick = values.quick;
export const options = {
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

export const REPO = fileURLToPath(new URL('..', import.meta.url));
export const DATA_DIR = join(REPO, '.local', 'bench');
export const RESULTS_DIR = join(REPO, 'bench', 'results');
/** Seconds the pipeline may take to go quiet after a load phase before its backlog counts as lost. */
export const DRAIN_TIMEOUT_SECONDS = 900;
/** Idle speed-to-lead: how long to wait for a lead's alert. */
export const ALERT_TIMEOUT_MS = 15_000;
/** A rate holds while capture's p99 stays within this… */
export const SUSTAIN_P99_LIMIT_MS = 1000;
/** …and the backlog drains within this after the load stops. */
export const SUSTAIN_DRAIN_LIMIT_SECONDS = 10;

export const log = (line: string) => console.error(line);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const runId = Date.now().toString(36);

/** One lead the harness submitted and got a lead id for. */
export interface Submitted {
  readonly leadId: string;
  readonly kind: LeadKind;
  readonly marketingConsent: boolean;
  readonly sentAt: number;
  readonly phase: string;
}
