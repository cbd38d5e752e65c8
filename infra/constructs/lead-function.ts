import { join } from 'node:path';
import { ArnFormat, type Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Grant, type IGrantable, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IConfigurationSet, IEmailIdentity } from 'aws-cdk-lib/aws-ses';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { configDigest } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { ENV } from '../../shared/contracts/function-env';
import { type IntegrationName, integrationSecretEnv } from '../../shared/contracts/integration-secrets';
import { acknowledgeGrantWildcards } from '../lib/nag';
import { REPO_ROOT } from '../lib/paths';

/**
 * What a function may touch. Each entry sets the matching environment variable AND makes the
 * matching `grant*` call, so a function can never see a resource name it has no permission for
 * (or hold a permission it cannot find the resource for).
 */
export interface LeadFunctionAccess {
  /** The lead table: `TABLE_NAME`, read-only or read-write data access. @default - no table access */
  readonly table?: {
    readonly table: ITable;
    readonly mode: 'read' | 'readWrite';
    /**
     * For a function that touches only its own items: the partition keys (`dynamodb:LeadingKeys`
     * patterns, `*` allowed) it may read, and those it may write (`readWrite` only). The grant
     * then covers the base table alone, item operations only, no indexes and no scans.
     * @default - the whole table
     */
    readonly partitions?: { readonly read: readonly string[]; readonly write: readonly string[] };
  };
  /** The pipeline bus: `EVENT_BUS_NAME`, `events:PutEvents`. @default - cannot publish events */
  readonly eventBus?: IEventBus;
  /**
   * Integration secrets by name: `<NAME>_SECRET_ARN` and `GetSecretValue` on each one only.
   * @default - cannot read any secret
   */
  readonly secrets?: Readonly<Partial<Record<IntegrationName, ISecret>>>;
  /** The rep-alert topic: `ALERT_TOPIC_ARN`, `sns:Publish` (plus its KMS key). @default - cannot publish alerts */
  readonly alertTopic?: ITopic;
  /**
   * Sending email: `CONFIGURATION_SET_NAME`; `ses:SendEmail`/`ses:SendRawEmail` on the identity
   * and `ses:SendEmail` on the configuration set (SES v2 authorizes both ARNs).
   * @default - cannot send email
   */
  readonly email?: { readonly identity: IEmailIdentity; readonly configurationSet: IConfigurationSet };
  /** The nurture state machine: `NURTURE_STATE_MACHINE_ARN` and `states:StopExecution` on its executions. @default - no access */
  readonly nurtureStateMachine?: IStateMachine;
  /**
   * Starting nurture executions by name: `NURTURE_STATE_MACHINE_ARN` and `states:StartExecution`
   * on the nurture state machine (the `nurture-trigger` function). @default - no access
   */
  readonly nurtureStart?: IStateMachine;
  /** Public base URL of the HTTP API without a trailing slash: `API_URL` (links in emails and scripts). @default - not set */
  readonly apiUrl?: string;
  /** Base URL of the sales console without a trailing slash: `CONSOLE_URL` (links in alerts). @default - not set */
  readonly consoleUrl?: string;
  /**
   * Sending SMS: `sms-voice:SendTextMessage` from the client's origination identity (and with
   * its configuration set). The identity and set come from the baked-in client file, so no
   * environment variable is set. @default - cannot send SMS
   */
  readonly sms?: ClientConfig['sms'];
}

/** Properties of a {@link LeadFunction}. */
export interface LeadFunctionProps {
  /** Folder under `functions/` holding `handler.ts`; also the Powertools service name. */
  readonly name: string;
  /** The validated client config, baked into the bundle as `__CLIENT_CONFIG__`. */
  readonly config: ClientConfig;
  /** Retention of the function's own log group. */
  readonly logRetention: RetentionDays;
  /** Longest run before Lambda stops the function. */
  readonly timeout: Duration;
  /** Memory in MB; CPU scales with it. @default 512 */
  readonly memorySize?: number;
  /** Resources the function uses; see {@link LeadFunctionAccess}. @default - none */
  readonly access?: LeadFunctionAccess;
  /**
   * Queue for failed asynchronous invocations (EventBridge and schedule consumers). Leave unset
   * for functions invoked synchronously (API Gateway, Step Functions), where the caller sees the
   * error and a dead-letter queue would never receive anything.
   * @default - none (synchronous function)
   */
  readonly deadLetterQueue?: IQueue;
  /** Handler file, for tests and tools. @default `functions/<name>/handler.ts` */
  readonly entry?: string;
  /** Powertools log level. @default - the client file's `observability.logLevel` */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/** Environment variable names every function may receive: the function environment's schema. */
export { ENV };

/** CloudWatch metrics namespace shared by every function (Powertools Metrics). */
export const METRICS_NAMESPACE = 'LeadPipeline';

/**
 * ESM bundles still meet CommonJS dependencies that call `require` (parts of the AWS SDK and
 * Powertools do); this banner gives them one. The alias avoids clashing with a bundled import.
 */
const ESM_REQUIRE_SHIM =
  "import { createRequire as __leadPipelineCreateRequire } from 'node:module';" +
  'const require = __leadPipelineCreateRequire(import.meta.url);';

/**
 * Modules the bundles take in place of a package (esbuild `--alias`), each the same API with
 * less in it: zod without its locales and JSON-Schema tooling (see `shared/runtime/zod/`),
 * and the SDK's credential chain reduced to the environment variables Lambda sets (see
 * `shared/runtime/lambda-credentials.ts`). Tests and tools use the real packages.
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  zod: join(REPO_ROOT, 'shared', 'runtime', 'zod', 'index.ts'),
  '@aws-sdk/credential-provider-node': join(REPO_ROOT, 'shared', 'runtime', 'lambda-credentials.ts'),
};

/**
 * Modules the AWS SDK imports only with a dynamic `import()` on a path our functions never take,
 * left out of the bundles (esbuild `--external`). If one were ever reached, the import would
 * fail loudly with the module's name rather than misbehave.
 */
export const LAZY_SDK_MODULES: readonly string[] = ['@smithy/core/event-streams'];

/** The step after esbuild that adds the data files a bundle reads (`shared/domain/data/`). */
const COPY_BUNDLED_DATA = join('infra', 'lib', 'copy-bundled-data.mjs');

/**
 * One pipeline Lambda function with everything that belongs to it in one place: the bundle
 * (`functions/<name>/handler.ts`, ESM, Node 22, arm64, X-Ray), its log group and retention, its
 * environment, and least-privilege grants derived from {@link LeadFunctionAccess}.
 *
 * The AWS SDK is bundled (all but {@link LAZY_SDK_MODULES}) rather than taken from the runtime, so the SDK
 * version is the one pinned in `package-lock.json` and tested, not whatever Lambda ships that day.
 */
export class LeadFunction extends Construct {
  /** The underlying function. */
  readonly fn: NodejsFunction;
  /** The function's log group. */
  readonly logGroup: LogGroup;
  /** Folder name under `functions/`. */
  readonly functionName: string;
  /** The handler's source file. */
  readonly entry: string;
  /**
   * The esbuild options the bundle is built with. Exposed so the offline runtime can build the
   * same bundle itself (in parallel, and without a `npx esbuild` per function) from this one
   * definition instead of a copy.
   */
  readonly bundling: BundlingOptions;

  constructor(scope: Construct, id: string, props: LeadFunctionProps) {
    super(scope, id);
    this.functionName = props.name;

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // An explicit role instead of the default AWSLambdaBasicExecutionRole managed policy: the
    // function may write to its own log group only (no managed policy, no `*` log resource).
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `lead-pipeline ${props.config.client.name} ${props.name} function`,
    });
    this.logGroup.grantWrite(role);

    const observability = props.config.observability;
    const environment: Record<string, string> = {
      [ENV.serviceName]: props.name,
      [ENV.metricsNamespace]: METRICS_NAMESPACE,
      [ENV.logLevel]: props.logLevel ?? observability.logLevel,
      [ENV.clientName]: props.config.client.name,
    };
    if (observability.debugSampleRate > 0)
      environment[ENV.debugSampleRate] = String(observability.debugSampleRate);
    // The source map ships in the asset either way; loading it costs every cold start a parse.
    if (observability.sourceMaps) environment[ENV.nodeOptions] = '--enable-source-maps';

    this.entry = props.entry ?? join(REPO_ROOT, 'functions', props.name, 'handler.ts');
    const configJson = JSON.stringify(props.config);
    this.bundling = {
      format: OutputFormat.ESM,
      minify: true,
      // Written next to the bundle as an artifact; loaded only when `observability.sourceMaps`.
      sourceMap: true,
      target: 'node22',
      mainFields: ['module', 'main'],
      banner: ESM_REQUIRE_SHIM,
      // esbuild `define` takes a JS expression: a string literal holding the config's JSON, and
      // its digest, so the function can trust the config the synth validated (shared/config/runtime.ts).
      define: {
        __CLIENT_CONFIG__: JSON.stringify(configJson),
        __CLIENT_CONFIG_SHA256__: JSON.stringify(configDigest(configJson)),
      },
      esbuildArgs: Object.fromEntries(
        Object.entries(BUNDLE_ALIASES).map(([from, to]) => [`--alias:${from}`, to]),
      ),
      // Bundle everything, the AWS SDK included, for a pinned and tested SDK version; except
      // the SDK's event-stream codec, which the SDK loads with a dynamic `import()` only for an
      // operation that streams events (none of the clients the functions use has one), so
      // bundling it added 15 KB to every function for code that never runs.
      externalModules: [...LAZY_SDK_MODULES],
      forceDockerBundling: false,
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (inputDir, outputDir) => [
          `node "${join(inputDir, COPY_BUNDLED_DATA)}" "${outputDir}"`,
        ],
      },
    };

    this.fn = new NodejsFunction(this, 'Function', {
      entry: this.entry,
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      role,
      logGroup: this.logGroup,
      // JSON platform lines, at the client's level (WARN drops START/END/REPORT); the application
      // level stays open (TRACE) so Powertools alone decides, debug sampling included.
      loggingFormat: LoggingFormat.JSON,
      systemLogLevelV2: SystemLogLevel[observability.platformLogLevel],
      applicationLogLevelV2: ApplicationLogLevel.TRACE,
      environment,
      deadLetterQueue: props.deadLetterQueue,
      description: `lead-pipeline ${props.config.client.name}: ${props.name}`,
      bundling: this.bundling,
    });

    this.applyAccess(props.access ?? {});
    this.acknowledgeFindings(props);
  }

  /** Sets the environment variable and grants the permission for each resource in `access`. */
  private applyAccess(access: LeadFunctionAccess): void {
    const fn = this.fn;
    if (access.table?.partitions) {
      const { table, mode, partitions } = access.table;
      fn.addEnvironment(ENV.tableName, table.tableName);
      // What a function may write it may read (a condition, a transaction): each key once.
      grantPartitions(fn, table, PARTITION_READ_ACTIONS, [
        ...new Set([...partitions.read, ...partitions.write]),
      ]);
      if (mode === 'readWrite') grantPartitions(fn, table, PARTITION_WRITE_ACTIONS, partitions.write);
    } else if (access.table) {
      const { table, mode } = access.table;
      fn.addEnvironment(ENV.tableName, table.tableName);
      acknowledgeGrantWildcards(
        this,
        mode === 'readWrite' ? table.grantReadWriteData(fn) : table.grantReadData(fn),
        'The function queries the lead table GSIs (byOwner, byTeam, byStage, byDay); "index/*" covers the indexes of this one table only.',
      );
    }
    if (access.eventBus) {
      fn.addEnvironment(ENV.eventBusName, access.eventBus.eventBusName);
      access.eventBus.grantPutEventsTo(fn);
    }
    for (const [name, secret] of Object.entries(access.secrets ?? {}) as Array<[IntegrationName, ISecret]>) {
      fn.addEnvironment(integrationSecretEnv(name), secret.secretArn);
      secret.grantRead(fn);
    }
    if (access.alertTopic) {
      fn.addEnvironment(ENV.alertTopicArn, access.alertTopic.topicArn);
      access.alertTopic.grantPublish(fn);
      if (access.alertTopic.masterKey) {
        // grantPublish also grants kms:Decrypt + kms:GenerateDataKey* on the topic's key (a
        // separate grant that is not part of the returned one).
        Validations.of(this).acknowledge({
          id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
          reason:
            "Publishing to the SSE-KMS alert topic needs GenerateDataKey* on that topic's own key, exactly as SNS grantPublish grants it.",
        });
      }
    }
    if (access.email) {
      fn.addEnvironment(ENV.configurationSetName, access.email.configurationSet.configurationSetName);
      access.email.identity.grantSendEmail(fn);
      grantSendWithConfigurationSet(fn, access.email.configurationSet);
    }
    const stopReason =
      'StopExecution targets the executions of this one state machine, named per assignment at run time, so the grant covers its executions.';
    if (access.nurtureStateMachine) {
      fn.addEnvironment(ENV.nurtureStateMachineArn, access.nurtureStateMachine.stateMachineArn);
      acknowledgeGrantWildcards(
        this,
        access.nurtureStateMachine.grantExecution(fn, 'states:StopExecution'),
        stopReason,
      );
    }
    if (access.nurtureStart) {
      fn.addEnvironment(ENV.nurtureStateMachineArn, access.nurtureStart.stateMachineArn);
      access.nurtureStart.grantStartExecution(fn);
    }
    if (access.apiUrl !== undefined) fn.addEnvironment(ENV.apiUrl, access.apiUrl);
    if (access.consoleUrl !== undefined) fn.addEnvironment(ENV.consoleUrl, access.consoleUrl);
    if (access.sms) grantSendTextMessage(this, fn, access.sms);
  }

  /** cdk-nag findings every pipeline function has, acknowledged on this construct only. */
  private acknowledgeFindings(props: LeadFunctionProps): void {
    const v = Validations.of(this);
    v.acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions, so active tracing needs Resource "*".',
    });
    const runtimeReason =
      'The project pins nodejs22.x (package.json engines, esbuild target node22, local toolchain); moving to a newer runtime is a deliberate upgrade with its own test run.';
    v.acknowledge({ id: 'AwsSolutions-L1', reason: runtimeReason });
    v.acknowledge({ id: 'Serverless-LambdaLatestVersion', reason: runtimeReason });
    if (!props.deadLetterQueue) {
      v.acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'This function is invoked synchronously (API Gateway or Step Functions), so errors return to the caller and a dead-letter queue would never receive a message.',
      });
    }
  }
}

/** Item reads a partition-scoped function may make (no Scan: it cannot be scoped by key). */
const PARTITION_READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
];
/** Item writes a partition-scoped function may make. */
const PARTITION_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

/**
 * Item access to the base table limited to partitions whose key matches one of `patterns`
 * (`ForAllValues:StringLike` on `dynamodb:LeadingKeys`: every key a request touches must match).
 */
/**
 * `sms-voice:SendTextMessage` on the origination identity: exactly its ARN when the client file
 * gives one, otherwise this account's phone numbers, sender ids and pools in the region (a bare
 * number or sender id has no ARN until it is looked up), plus the configuration set when set.
 */
function grantSendTextMessage(scope: Construct, grantee: IGrantable, sms: ClientConfig['sms']): Grant {
  const stack = Stack.of(scope);
  const arn = (resource: string) =>
    stack.formatArn({ service: 'sms-voice', resource, arnFormat: ArnFormat.NO_RESOURCE_NAME });
  const identity = sms.originationIdentity ?? '';
  const resources = identity.startsWith('arn:')
    ? [identity]
    : [arn('phone-number/*'), arn('sender-id/*'), arn('pool/*')];
  if (sms.configurationSet)
    resources.push(
      sms.configurationSet.startsWith('arn:')
        ? sms.configurationSet
        : arn(`configuration-set/${sms.configurationSet}`),
    );
  const grant = Grant.addToPrincipal({
    grantee,
    actions: ['sms-voice:SendTextMessage'],
    resourceArns: resources,
  });
  acknowledgeGrantWildcards(
    scope,
    grant,
    'The client file gives sms.originationIdentity as a number or sender id, not an ARN; SendTextMessage is limited to this account and region. Give the ARN in the client file for an exact grant.',
  );
  return grant;
}

function grantPartitions(
  grantee: IGrantable,
  table: ITable,
  actions: string[],
  patterns: readonly string[],
): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions,
    resourceArns: [table.tableArn],
    conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...patterns] } },
  });
}

/**
 * SES v2 `SendEmail` authorizes the identity AND the configuration set named in the request.
 * The identity side comes from `EmailIdentity.grantSendEmail`; this grants the other half.
 */
function grantSendWithConfigurationSet(grantee: IGrantable, configurationSet: IConfigurationSet): Grant {
  const stack = Stack.of(configurationSet);
  return Grant.addToPrincipal({
    grantee,
    actions: ['ses:SendEmail'],
    resourceArns: [
      stack.formatArn({
        service: 'ses',
        resource: 'configuration-set',
        resourceName: configurationSet.configurationSetName,
      }),
    ],
  });
}
