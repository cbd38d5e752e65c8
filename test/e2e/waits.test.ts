import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';
import { CLIENTS_DIR, REPO_ROOT } from '../../infra/lib/paths';
import { LocalRuntime } from '../../local/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { clearOfShiftGaps, emailsTo, eventually, PipelineClient } from './support';

/**
 * The state machines' real waits, offline. `clients/e2e.yaml` shortens its waits so the main
 * suite runs fast; here the same client runs with waits like a real client's:
 *
 * - the SLA ladder at the default time scale (×60): an hour and a minute to the first touch
 *   (61 s of real time, past the 60 s the Step Functions emulator gives a Task by default), then
 *   `example.yaml`'s ladder (5 minutes for the team backup, 10 for the manager);
 * - `example.yaml`'s nurture path of a lead who does nothing (1 h, 72 h and 168 h waits, then the
 *   re-engagement sequence's 24 h and 120 h, each send in the lead's morning) at ×36,000, so 72
 *   hours pass in 7.2 s. (At ×60 it takes four hours; that a wait of more than 60 s of real time does
 *   not time out is proven for every Wait form in `test/unit/local/step-functions.test.ts`.)
 */

const example = parse(readFileSync(join(CLIENTS_DIR, 'example.yaml'), 'utf8')) as ClientConfig;
const e2e = parse(readFileSync(join(CLIENTS_DIR, 'e2e.yaml'), 'utf8')) as ClientConfig;
const FIRST_TOUCH_MINUTES = 61;

/** `clients/e2e.yaml` with a real SLA ladder and `example.yaml`'s nurture sequences. */
function realWaitsClient(): { dir: string; config: ClientConfig } {
  const config: ClientConfig = {
    ...e2e,
    sla: { ...e2e.sla, firstTouchMinutes: FIRST_TOUCH_MINUTES, ladder: example.sla.ladder },
    nurture: example.nurture,
    // The example's sequences have an SMS step, which needs SMS on.
    sms: example.sms,
  };
  const dir = mkdtempSync(join(tmpdir(), 'lead-pipeline-waits-clients-'));
  writeFileSync(join(dir, 'e2e.yaml'), stringify(config));
  return { dir, config };
}

const { dir: clientsDir, config } = realWaitsClient();
const dataRoot = mkdtempSync(join(tmpdir(), 'lead-pipeline-waits-'));
const synthDir = join(REPO_ROOT, '.local', 'e2e-real-waits-cdk.out');

async function boot(timeScale: number): Promise<{ runtime: LocalRuntime; api: PipelineClient }> {
  const dataDir = join(dataRoot, `x${timeScale}`);
  mkdirSync(dataDir, { recursive: true });
  const runtime = new LocalRuntime({
    client: 'e2e',
    clientsDir,
    dataDir,
    fresh: true,
    apiPort: 0,
    timeScale,
    synthDir,
    inMemory: true,
    log: () => {},
  });
  return { runtime, api: new PipelineClient(await runtime.start()) };
}

afterAll(() => {
  rmSync(clientsDir, { recursive: true, force: true });
  rmSync(dataRoot, { recursive: true, force: true });
});

describe('the SLA ladder at the default time scale (×60)', () => {
  let runtime: LocalRuntime;
  let api: PipelineClient;
  beforeAll(async () => {
    ({ runtime, api } = await boot(60));
  }, 420_000);
  afterAll(() => runtime?.stop());

  test('waits out the first touch (over an hour), escalates twice and ends unworked, without a timeout', async () => {
    await clearOfShiftGaps(config.reps, 120);
    const started = Date.now();
    const { leadId } = await api.submitForm({
      first_name: 'Laddie',
      last_name: 'Long',
      email: 'laddie.long@long-software.example',
      company: 'Long Software',
      job_title: 'VP Engineering',
      company_size: '200-999',
      industry: 'Software',
      country: 'GB',
    });
    // One EXPRESS execution per rung; the last rung is the unworked check.
    const execution = await eventually(
      'the SLA ladder to end',
      async () => {
        const found = (await api.executionsFor('Sla', leadId)).find(
          (e) => e.input.rung === config.sla.ladder.length + 1,
        );
        return found && found.status !== 'RUNNING' ? found : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 1000 },
    );
    expect(execution.error).toBeUndefined();
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toHaveProperty('unworked');
    // Every wait was waited: 61 + 5 + 10 minutes of ladder time are 76 s at ×60.
    const ladderMinutes = FIRST_TOUCH_MINUTES + config.sla.ladder.reduce((n, s) => n + s.afterMinutes, 0);
    expect(Date.now() - started).toBeGreaterThanOrEqual((ladderMinutes * 60_000) / 60);
    const { lead, timeline } = await api.lead(leadId);
    expect(lead.status).toBe('unworked');
    expect(timeline.filter((t) => t.activity?.type === 'sla_escalated')).toHaveLength(
      config.sla.ladder.length,
    );
    expect((await api.executions()).filter((e) => e.status === 'FAILED')).toEqual([]);
  }, 300_000);
});

describe('the whole nurture sequence with its real waits (×36,000)', () => {
  let runtime: LocalRuntime;
  let api: PipelineClient;
  beforeAll(async () => {
    ({ runtime, api } = await boot(36_000));
  }, 420_000);
  afterAll(() => runtime?.stop());

  test('walks the 1 h / 72 h / 168 h path of a lead who does nothing, into the re-engagement sequence, then ends', async () => {
    const sequence = config.nurture.sequences.find((s) => s.id === config.nurture.defaultSequence);
    expect(sequence?.steps.slice(0, 3).map((s) => s.waitHours)).toEqual([1, 72, 168]);
    // A week of silence before the webinar invite switches to re-engagement (24 h, 120 h).
    expect(sequence?.steps[2]?.branches).toEqual([
      { id: 'went-quiet', when: { nothing: true }, sequence: 're-engage' },
    ]);
    const email = 'nora.nurture@nurture-stores.example';
    const { leadId } = await api.submitForm({
      first_name: 'Nora',
      last_name: 'Nurture',
      email,
      company: 'Nurture Stores',
      job_title: 'Analyst',
      company_size: '1-49',
      industry: 'Retail',
      country: 'GB',
      marketing_consent: 'yes',
    });
    const execution = await eventually(
      'the nurture execution to finish',
      async () => {
        const [found] = await api.executionsFor('Nurture', leadId);
        return found && found.status !== 'RUNNING' ? found : undefined;
      },
      { timeoutMs: 200_000, intervalMs: 500 },
    );
    expect(execution.error).toBeUndefined();
    expect(execution.status).toBe('SUCCEEDED');
    const sent = emailsTo(await api.emails(), email, 'nurture');
    expect(sent.map((e) => `${e.tags.sequence?.[0]}/${e.tags.step?.[0]}`)).toEqual([
      'education/welcome-guide',
      'education/case-study',
      're-engage/work-email',
      're-engage/templates',
    ]);
  }, 240_000);
});
