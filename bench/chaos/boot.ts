import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../infra/lib/paths';
import { LocalRuntime } from '../../local/runtime';

/** Boots a runtime in a fresh temporary folder; `inMemory: false` when DynamoDB must survive a restart. */
export async function bootChaosRuntime(
  client: string,
  inMemory: boolean,
): Promise<{ runtime: LocalRuntime; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lead-pipeline-chaos-'));
  const runtime = new LocalRuntime({
    client,
    dataDir: dir,
    fresh: true,
    apiPort: 0,
    inMemory,
    // Real time: SLA and nurture waits stay out of the run, retries back off as in AWS.
    timeScale: 1,
    throttle: false,
    synthDir: join(REPO_ROOT, '.local', `${client}-cdk.out`),
    log: () => {},
  });
  try {
    await runtime.start();
  } catch (error) {
    // A boot that failed half-way (DynamoDB Local too slow on a loaded machine) leaves no process behind.
    await runtime.stop();
    throw error;
  }
  return { runtime, dir };
}
