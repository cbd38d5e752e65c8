import { readdirSync } from 'node:fs';
import { extname } from 'node:path';
import { App, type AppProps, type Environment, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import { loadClientConfig } from '../../shared/config/load';
import type { ClientConfig } from '../../shared/config/schema';
import { DataStack } from './data-stack';
import { EDGE_REGION, EdgeStack } from './edge-stack';
import { CLIENTS_DIR } from './paths';
import { PipelineStack } from './pipeline-stack';
import { APP_TAG, checkInfraLimits, stackNames } from './settings';

/**
 * Context every app gets. Cross-stack references stay "strong" (CloudFormation exports): the
 * data stack cannot lose a table or user pool the pipeline stack still uses.
 */
export const APP_CONTEXT: Readonly<Record<string, string>> = {
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
};

/** The two stacks of one client. */
export interface ClientStacks {
  readonly data: DataStack;
  readonly pipeline: PipelineStack;
  /** The WAF web ACL stack (us-east-1), only with `stack.waf.enabled`. */
  readonly edge?: EdgeStack;
}

/** Options of {@link createClientStacks}. */
export interface ClientStackOptions {
  /**
   * Account to deploy to when the client file names none.
   * @default - `stack.account` from the client file, else environment-agnostic
   */
  readonly account?: string;
}

/**
 * Adds one client's data and pipeline stacks to `scope`, tagged `client=<name>` and
 * `app=lead-pipeline`. Throws {@link ClientConfigError} for limits only the infrastructure knows.
 */
export function createClientStacks(
  scope: Construct,
  config: ClientConfig,
  options: ClientStackOptions = {},
): ClientStacks {
  checkInfraLimits(config);
  const name = config.client.name;
  const names = stackNames(name);
  const account = config.stack.account ?? options.account;
  const env: Environment = account
    ? { account, region: config.stack.region }
    : { region: config.stack.region };

  const data = new DataStack(scope, names.data, {
    stackName: names.data,
    env,
    config,
    description: `Lead pipeline for ${config.client.displayName}: stateful resources (table, user pool, secret, email identity)`,
  });
  // The optional WAF's web ACL lives in us-east-1 (CloudFront's rule); the pipeline stack reads
  // its ARN through CDK's cross-region references when the client's region is another one.
  const edge = config.stack.waf.enabled
    ? new EdgeStack(scope, names.edge, {
        stackName: names.edge,
        env: { ...env, region: EDGE_REGION },
        config,
        description: `Lead pipeline for ${config.client.displayName}: WAF web ACL for the public routes`,
      })
    : undefined;
  const pipeline = new PipelineStack(scope, names.pipeline, {
    stackName: names.pipeline,
    env,
    config,
    ...(edge
      ? { webAclArn: edge.webAcl.attrArn, crossRegionReferences: config.stack.region !== EDGE_REGION }
      : {}),
    data: {
      table: data.table,
      userPool: data.userPool,
      userPoolClient: data.userPoolClient,
      emailIdentity: data.emailIdentity,
      secrets: data.secrets,
    },
    description: `Lead pipeline for ${config.client.displayName}: API, events, functions and workflows`,
  });
  pipeline.addStackDependency(data);
  if (edge) pipeline.addStackDependency(edge);

  for (const stack of [data, pipeline, ...(edge ? [edge] : [])]) {
    Tags.of(stack).add('client', name);
    Tags.of(stack).add('app', APP_TAG);
  }
  return { data, pipeline, ...(edge ? { edge } : {}) };
}

/** Registers the cdk-nag rule packs (v3: CDK policy-validation plugins) on an app. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
}

/** Options of {@link buildApp}. */
export interface BuildAppOptions {
  /** The client to synthesize (`-c client=<name>`). */
  readonly clientName: string;
  /** Folder holding the client files. @default the repository's `clients/` */
  readonly clientsDir?: string;
  /** An existing app to add the stacks to (the CLI entry point reads its context first). @default - a new App */
  readonly app?: App;
  /** Passed to `new App()` when no `app` is given, e.g. `outdir` in tests. @default - CDK defaults */
  readonly appProps?: AppProps;
  /** See {@link ClientStackOptions}. */
  readonly stackOptions?: ClientStackOptions;
  /**
   * Run cdk-nag and CDK's built-in CloudFormation validation at synth. Together they take about
   * 6 s; the offline runtime turns them off because they guard deployments, and every
   * `cdk synth` and the infra tests still run them.
   * @default true
   */
  readonly checks?: boolean;
}

/** An app with one client's stacks and the nag checks registered. */
export interface BuiltApp {
  readonly app: App;
  readonly config: ClientConfig;
  readonly stacks: ClientStacks;
}

/**
 * Builds the CDK app for one client: loads and validates `clients/<name>.*` (a bad file throws
 * `ClientConfigError` naming the field), adds both stacks and registers cdk-nag. Used by
 * `infra/bin/app.ts` and by the tests, which call `app.synth()` themselves.
 */
export function buildApp(options: BuildAppOptions): BuiltApp {
  const config = loadClientConfig(options.clientName, options.clientsDir ?? CLIENTS_DIR);
  const checks = options.checks ?? true;
  const app =
    options.app ??
    new App({
      ...(checks ? {} : { builtinCloudFormationValidation: false }),
      ...options.appProps,
      context: { ...APP_CONTEXT, ...options.appProps?.context },
    });
  if (checks) addNagChecks(app);
  const stacks = createClientStacks(app, config, options.stackOptions);
  return { app, config, stacks };
}

/** Client names available in a clients folder (`<name>.yaml|.yml|.json`), sorted. */
export function listClients(dir: string = CLIENTS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f)) && !f.endsWith('.schema.json'))
    .map((f) => f.slice(0, -extname(f).length))
    .sort();
}
