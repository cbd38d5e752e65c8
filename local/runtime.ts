import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLIENTS_DIR } from '../infra/lib/paths';
import { loadClientConfig } from '../shared/config/load';
import type { ClientConfig } from '../shared/config/schema';
import { LocalAwsEndpoints } from './aws-endpoints';
import { ConsoleServer, type DevUser } from './console-server';
import { devRep, devToken, jwtKeys } from './dev-auth';
import {
  createTables,
  freePort,
  requireJava,
  startDynamoDbLocal,
  startSesLocal,
  stopSesLocal,
  waitForDynamo,
} from './emulators';
import { type BusEvent, LocalEventBus, type LocalRule } from './event-bus';
import { type RuntimeFaults, runtimeFaults } from './faults';
import { LocalHttpApi } from './http-api';
import type { FunctionPool, InvokeResult } from './lambda-runner';
import { LOCAL_SLACK_RESPONSE_BASE, localSecrets, localSlackSigningSecret } from './local-secrets';
import { fetchNextStep, LOCAL_THANK_YOU_PATH, landingPage, localRedirect, thankYouPage } from './pages';
import { functionPools, localResource, readHttpApi, readRules, smsChannel } from './resources';
import { LocalScheduler } from './scheduler';
import { SesEventSimulator } from './ses-events';
import { LocalStepFunctions } from './step-functions';
import { synthesize } from './synth-cache';
import { loadAssembly, TemplateResolver } from './template';

export type { RuntimeFaults } from './faults';
export { sourceFingerprint } from './synth-cache';

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
  /**
   * Lambda environments per function (Lambda scales out; locally bounded by cores). Each
   * environment is a V8 isolate that compiles and optimises the bundle on its own: on 2 cores, 8
   * per function spent twice the CPU per lead of 3 (cold starts under load, code that stays
   * unoptimised when invocations are spread thin), and sustained half the rate. @default 3
   */
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
  private faultInjector: RuntimeFaults | undefined;

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
    const synthesized = synthesize(
      this.options.client,
      this.clientsDir,
      resolve(this.options.synthDir ?? join(clientDir, 'cdk.out')),
      this.children,
    );
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
    const secrets = localSecrets(resolver, clientDir);

    // Functions.
    const functionsByArn = new Map<string, FunctionPool>();
    for (const { arn, pool } of functionPools(resolver, {
      assemblyDir,
      awsUrl,
      consoleUrl,
      logDir: join(clientDir, 'logs'),
      maxConcurrency: this.options.maxConcurrency ?? 3,
    })) {
      this.functions.set(pool.spec.name, pool);
      functionsByArn.set(arn, pool);
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
    const rules = readRules(resolver);
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
    this.aws.smsChannel = smsChannel(resolver, invoke);
    this.aws.dynamoDbUrl = dynamoUrl;
    await this.aws.listen(awsPort);

    await waitForDynamo(dynamoUrl);
    const tables = await createTables(resolver, dynamoUrl);

    // HTTP API and dev tokens.
    const { key, publicKey } = await jwtKeys(clientDir);
    const httpApi = readHttpApi(resolver, { throttle: this.options.throttle !== false, consoleUrl });
    this.api = new LocalHttpApi({
      ...httpApi,
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

    const jwt = httpApi.routes.find((r) => r.jwt)?.jwt;
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
   * Fault injection, for the chaos harness and tests (see `faults.ts`). Faults are off until
   * set; {@link RuntimeFaults.clear} turns them all off.
   */
  get faults(): RuntimeFaults {
    this.faultInjector ??= runtimeFaults({
      bus: () => this.bus,
      aws: () => this.aws,
      functions: this.functions,
      restartDynamoDb: (downSeconds) => this.restartDynamoDb(downSeconds),
      dynamoDbRestarts: () => this.dynamoRestarts,
    });
    return this.faultInjector;
  }

  /** Kills DynamoDB Local (SIGKILL, no clean shutdown), waits, and starts it again on the same port and data. */
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

  /**
   * Timed follow-up still under way: running workflow executions, and schedules waiting to start
   * one (the SLA ladder's next rung is a pending schedule between its executions).
   */
  get workflowsInFlight(): number {
    return this.stepFunctions.running + (this.scheduler?.pending.length ?? 0);
  }

  /** SES events the simulator has yet to publish for emails already sent. */
  get sesEventsPending(): number {
    return this.ses?.pending ?? 0;
  }

  /** Waits until no event delivery, SES event or running execution is left (tests, benchmarks). */
  async quiesce(options: { includeExecutions?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      await this.bus.idle();
      // An email's delivery (or bounce) event comes a moment after the send, like SES's.
      const busy =
        this.bus.pending > 0 ||
        this.sesEventsPending > 0 ||
        (options.includeExecutions && this.workflowsInFlight > 0);
      if (!busy) {
        await new Promise((r) => setTimeout(r, 50));
        if (this.bus.pending === 0 && this.sesEventsPending === 0) return;
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
}

/** How long `stop()` lets event deliveries under way finish before it ends them. */
const STOP_DRAIN_MS = 5000;

export type { BusEvent };
