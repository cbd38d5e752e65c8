/**
 * `npm run chaos`: hostile input, redelivery and faults under load against the offline runtime,
 * each on a runtime of its own in a temporary data folder on free ports. Prints a table, writes
 * `bench/results/chaos-<date>.json`, and exits 1 when a promise was broken (a 5xx, invalid data
 * stored, an effect done twice, an accepted lead lost, a dead letter left).
 *
 * Options: `--requests 10000` `--leads 20` `--seconds 60` `--rate 2` `--only hostile,redelivery,faults`.
 */
import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../../infra/lib/paths';
import type { LocalRuntime } from '../../local/runtime';
import { bootChaosRuntime } from './boot';
import { type ChaosResults, failures, table, writeResults } from './report';
import { faultsUnderLoad, hostileInput, redelivery } from './scenarios';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    leads: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '60' },
    rate: { type: 'string', default: '2' },
    only: { type: 'string', default: 'hostile,redelivery,faults' },
    client: { type: 'string', default: 'e2e' },
  },
});
const only = new Set((values.only ?? '').split(','));

const results: {
  -readonly [K in keyof ChaosResults]: ChaosResults[K];
} = {
  startedAt: new Date().toISOString(),
  machine: `${cpus().length} cores, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join('/')} at start`,
};

async function withRuntime(inMemory: boolean, work: (runtime: LocalRuntime) => Promise<void>) {
  const { runtime, dir } = await bootChaosRuntime(values.client ?? 'e2e', inMemory);
  try {
    await work(runtime);
  } finally {
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (only.has('hostile') || only.has('redelivery')) {
  await withRuntime(true, async (runtime) => {
    if (only.has('hostile')) {
      console.log(`hostile input: ${values.requests} requests...`);
      results.hostile = await hostileInput(runtime, Number(values.requests));
    }
    if (only.has('redelivery')) {
      console.log(`redelivery: ${values.leads} leads...`);
      results.redelivery = await redelivery(runtime, Number(values.leads));
    }
  });
}
if (only.has('faults')) {
  await withRuntime(false, async (runtime) => {
    console.log(`faults under load: ${values.seconds} s at ${values.rate} leads/s...`);
    results.faults = await faultsUnderLoad(runtime, {
      seconds: Number(values.seconds),
      ratePerSecond: Number(values.rate),
      busOutageSeconds: 10,
      dynamoDownSeconds: 3,
      functionDownSeconds: 5,
    });
  });
}

console.log(`\n${table(results)}\n`);
const file = writeResults(join(REPO_ROOT, 'bench', 'results'), results);
console.log(`written to ${file}`);
const broken = failures(results);
for (const line of broken) console.log(`FAIL ${line}`);
if (results.hostile?.serverErrors.length) {
  for (const s of results.hostile.serverErrors.slice(0, 10))
    console.log(`  5xx ${s.status} ${s.route} (${s.kind}): ${s.answer}`);
  for (const [cause, n] of Object.entries(results.hostile.functionFailures))
    console.log(`  function failure ×${n}: ${cause}`);
}
for (const line of [
  ...(results.hostile?.invalidStored ?? []),
  ...(results.hostile?.authBypasses ?? []),
  ...(results.hostile?.unescapedSlack ?? []),
  ...(results.hostile?.unescapedHtml ?? []),
  ...(results.faults?.lost ?? []),
].slice(0, 20))
  console.log(`  ${line}`);
process.exit(broken.length ? 1 : 0);
