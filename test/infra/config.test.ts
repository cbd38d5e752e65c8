import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { addNagChecks, buildApp, listClients } from '../../infra/lib/build-app';
import { CLIENTS_DIR } from '../../infra/lib/paths';
import { VALID_RETENTION_DAYS } from '../../infra/lib/settings';
import { ClientConfigError } from '../../shared/config/load';

/** Writes a variant of clients/example.yaml named `name` into a fresh folder. */
function clientsDirWith(name: string, change: (doc: Record<string, unknown>) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'lead-pipeline-clients-'));
  const doc = parse(readFileSync(join(CLIENTS_DIR, 'example.yaml'), 'utf8')) as Record<string, unknown>;
  (doc.client as Record<string, unknown>).name = name;
  change(doc);
  writeFileSync(join(dir, `${name}.yaml`), stringify(doc));
  return dir;
}

/** Runs `fn` and returns the ClientConfigError it throws. */
function configError(fn: () => unknown): ClientConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ClientConfigError);
    return error as ClientConfigError;
  }
  throw new Error('expected a ClientConfigError');
}

describe('client config at synth', () => {
  it('fails with the bad field named when a rep lives on Mars', () => {
    const dir = clientsDirWith('mars', (doc) => {
      ((doc.reps as Record<string, unknown>[])[0] as Record<string, unknown>).timezone = 'Mars/Olympus';
    });
    const error = configError(() => buildApp({ clientName: 'mars', clientsDir: dir }));
    expect(error.message).toContain('reps[0].timezone');
    expect(error.message).toContain('IANA time zone');
  });

  it('fails when the file is missing, naming the file to create', () => {
    const error = configError(() => buildApp({ clientName: 'nobody', clientsDir: CLIENTS_DIR }));
    expect(error.message).toContain('clients/nobody.yaml');
  });

  it('fails on a log retention CloudWatch does not offer', () => {
    const dir = clientsDirWith('tendays', (doc) => {
      (doc.stack as Record<string, unknown>).logRetentionDays = 10;
    });
    const error = configError(() => buildApp({ clientName: 'tendays', clientsDir: dir }));
    expect(error.problems).toEqual([
      `stack.logRetentionDays: CloudWatch Logs accepts only ${VALID_RETENTION_DAYS.join(', ')} days; got 10`,
    ]);
    expect(VALID_RETENTION_DAYS).toContain(30);
    expect(VALID_RETENTION_DAYS).not.toContain(10);
  });

  it('fails on a nurture sequence longer than a Step Functions execution may run', () => {
    let index = -1;
    const dir = clientsDirWith('slowburn', (doc) => {
      const sequences = (doc.nurture as { sequences: { steps: { waitHours: number }[] }[] }).sequences;
      // The sequence with the most steps: its longest path now waits far more than a year.
      index = sequences.reduce(
        (best, s, i) => (s.steps.length > (sequences[best]?.steps.length ?? 0) ? i : best),
        0,
      );
      for (const step of sequences[index]?.steps ?? []) step.waitHours = 24 * 200;
    });
    const error = configError(() => buildApp({ clientName: 'slowburn', clientsDir: dir }));
    expect(error.problems).toHaveLength(1);
    const [problem] = error.problems;
    const match = new RegExp(
      `^nurture\\.sequences\\[${index}\\]\\.steps: waits add up to (\\d+) hours; a sequence must finish within one year \\(8760 hours\\)$`,
    ).exec(problem ?? '');
    expect(match, problem).not.toBeNull();
    expect(Number(match?.[1])).toBeGreaterThan(8760);
  });

  it('lists the client files for the "no client selected" message', () => {
    expect(listClients()).toContain('example');
    const dir = clientsDirWith('acme', () => {});
    writeFileSync(join(dir, 'client.schema.json'), '{}');
    expect(listClients(dir)).toEqual(['acme']);
  });
});

describe('cdk-nag registration', () => {
  it('fails synth on an unacknowledged finding', () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'nag-')) });
    addNagChecks(app);
    new Queue(new Stack(app, 'Bare'), 'Plain');
    expect(() => app.synth()).toThrow(
      /AwsSolutions-SQS3[\s\S]*Serverless-SQSRedrivePolicy|Serverless-SQSRedrivePolicy[\s\S]*AwsSolutions-SQS3/,
    );
  });
});
