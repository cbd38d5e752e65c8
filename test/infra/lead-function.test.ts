import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV, LeadFunction } from '../../infra/constructs/lead-function';
import { CLIENTS_DIR } from '../../infra/lib/paths';
import { bundleFunctions, esbuildOptions } from '../../local/bundle';
import { loadClientConfig } from '../../shared/config/load';
import type { ClientConfig } from '../../shared/config/schema';

/** A scratch stack with one LeadFunction bundling `fixtures/config-probe.ts` for real. */
describe('LeadFunction', () => {
  let config: ClientConfig;
  let template: Template;
  let bundlePath: string;
  let app: App;

  beforeAll(() => {
    config = loadClientConfig('example', CLIENTS_DIR);
    app = new App({ outdir: mkdtempSync(join(tmpdir(), 'lead-function-')) });
    const stack = new Stack(app, 'Probe', { env: { region: 'eu-west-1' } });
    const table = new Table(stack, 'Table', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    const bus = new EventBus(stack, 'Bus');
    new LeadFunction(stack, 'Probe', {
      name: 'config-probe',
      entry: join(import.meta.dirname, 'fixtures', 'config-probe.ts'),
      config,
      logRetention: RetentionDays.ONE_WEEK,
      timeout: Duration.seconds(5),
      access: { table: { table, mode: 'read' }, eventBus: bus },
    });
    const assembly = app.synth();
    const json = assembly.getStackByName('Probe').template as {
      Resources: Record<string, { Type: string; Properties: { Code?: { S3Key: string } } }>;
    };
    template = Template.fromJSON(json);
    const fn = Object.values(json.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
    const key = fn?.Properties.Code?.S3Key as string;
    bundlePath = join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs');
  });

  it('bakes the validated client config into the ESM bundle, with a working require shim', async () => {
    const mod = (await import(pathToFileURL(bundlePath).href)) as {
      handler: () => Promise<{
        config: string;
        requireWorks: boolean;
        disposable: boolean | undefined;
        phone: string | undefined;
        zodMessage: string;
      }>;
    };
    const result = await mod.handler();
    expect(JSON.parse(result.config)).toEqual(config);
    expect(result.requireWorks).toBe(true);
    // The data files next to the bundle and zod's English messages work in the bundle.
    expect(result.disposable).toBe(true);
    expect(result.phone).toBe('+442079460958');
    expect(result.zodMessage).toMatch(/expected number/i);
  });

  it('is bundled by the offline runtime byte for byte as CDK bundles it', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'lead-function-local-'));
    expect(await bundleFunctions(app, outdir)).toBe(1);
    const [assetDir] = readdirSync(outdir);
    const local = readFileSync(join(outdir, assetDir as string, 'index.mjs'));
    expect(local.length).toBeGreaterThan(1000);
    expect(local.equals(readFileSync(bundlePath))).toBe(true);
    // The step after esbuild too: the same data files, byte for byte.
    const files = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
    const cdkDir = dirname(bundlePath);
    expect(files(join(outdir, assetDir as string))).toEqual(files(cdkDir));
    for (const file of files(cdkDir).filter((f) => f.startsWith('data/')))
      expect(
        readFileSync(join(outdir, assetDir as string, file)).equals(readFileSync(join(cdkDir, file))),
      ).toBe(true);
  });

  it('ships the data files the bundle reads and the source map, without zod locales', () => {
    const dir = dirname(bundlePath);
    // The probe normalises an email and a phone number: both lists and the phone metadata.
    expect(readdirSync(join(dir, 'data')).sort()).toEqual([
      'disposable-domains.txt.br',
      'free-mail-domains.txt.br',
      'phone-metadata.json.br',
    ]);
    expect(readdirSync(dir)).toContain('index.mjs.map');
    const code = readFileSync(bundlePath, 'utf8');
    // The German locale's "Ungültige Eingabe" is one of the translations the alias leaves out.
    expect(code).not.toContain('Ung\u00FCltige');
    expect(code).not.toContain('Ungültige');
    // The client file's JSON is in the bundle once (the digest check and the parse share it).
    expect(code.split(JSON.stringify(config.client)).length - 1).toBe(1);
  });

  it('refuses to bundle locally with a bundling option it does not know', () => {
    expect(() => esbuildOptions({ minify: true, keepNames: true })).toThrow(/keepNames/);
  });

  it('defaults to 512 MB and sets runtime, architecture, tracing and the base environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 512,
      Timeout: 5,
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON', SystemLogLevel: 'WARN', ApplicationLogLevel: 'TRACE' },
      Environment: {
        Variables: {
          [ENV.serviceName]: 'config-probe',
          [ENV.metricsNamespace]: 'LeadPipeline',
          [ENV.logLevel]: 'INFO',
          [ENV.nodeOptions]: Match.absent(),
          [ENV.clientName]: config.client.name,
          [ENV.tableName]: { Ref: Match.stringLikeRegexp('^Table') },
          [ENV.eventBusName]: { Ref: Match.stringLikeRegexp('^Bus') },
        },
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it('grants exactly the access it was given (read-only table, put events, own log group)', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const actions = Object.values(policies).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((s) =>
        [s.Action].flat(),
      ),
    );
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'events:PutEvents', 'logs:PutLogEvents']),
    );
    expect(actions).not.toContain('dynamodb:PutItem');
    expect(actions).not.toContain('secretsmanager:GetSecretValue');
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });
});
