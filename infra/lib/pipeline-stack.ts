import { CfnOutput, Duration, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import { CorsHttpMethod, HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import { type ITable, Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ConfigurationSet, IEmailIdentity } from 'aws-cdk-lib/aws-ses';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { LogLevel, type StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { ClientConfig } from '../../shared/config/schema';
import type { ApiRouteGroup } from '../../shared/config/schema-stack';
import {
  INTEGRATION_NAMES,
  INTEGRATION_SECRETS,
  type IntegrationName,
  integrationsReadBy,
} from '../../shared/contracts/integration-secrets';
import { INDEXES, keys } from '../../shared/contracts/table-design';
import { EVENT_SOURCE } from '../../shared/events/catalogue';
import { ConsoleSite } from '../constructs/console-site';
import { DeadLetterQueue } from '../constructs/dead-letter-queue';
import { LeadFunction, type LeadFunctionAccess } from '../constructs/lead-function';
import { Monitoring } from '../constructs/monitoring';
import { PipelineConsumer } from '../constructs/pipeline-consumer';
import { SlaLadder } from '../constructs/sla-ladder';
import { NurtureWorkflow } from '../constructs/workflows';
import { pascal } from './names';
import { CONSUMER_TIMEOUT, type ConsumerRow, consumerTarget, pipelineConsumers } from './pipeline-consumers';
import { addSmsChannel, pipelineMessaging } from './pipeline-messaging';
import { addApiRoutes, publicEdge } from './pipeline-routes';
import { logRetention } from './settings';

export { TARGET_RETRY } from '../constructs/pipeline-consumer';
export {
  HELD_LEADS_SWEEP,
  OUTBOX_RELAY_SWEEP,
  PENDING_LEADS_SWEEP,
  SES_DETAIL_TYPES,
  SES_EVENT_TYPES,
  STALE_DEALS_SCHEDULE,
} from './pipeline-consumers';
export { PUBLIC_ROUTES, routeThrottle } from './pipeline-routes';

/** Everything the pipeline needs from the data stack. */
export interface PipelineData {
  readonly table: ITable;
  readonly userPool: IUserPool;
  readonly userPoolClient: IUserPoolClient;
  readonly emailIdentity: IEmailIdentity;
  /** One secret per integration; each function is granted only those it reads. */
  readonly secrets: Readonly<Record<IntegrationName, ISecret>>;
}

/** Properties of the {@link PipelineStack}. */
export interface PipelineStackProps extends StackProps {
  /** The validated client config. */
  readonly config: ClientConfig;
  /** Stateful resources from the client's data stack. */
  readonly data: PipelineData;
  /**
   * ARN of the CloudFront-scoped WAF web ACL (the edge stack, us-east-1). When set, a CloudFront
   * distribution with this ACL fronts the API and becomes the public URL.
   * @default - no WAF, no distribution
   */
  readonly webAclArn?: string;
}

const API_TIMEOUT = Duration.seconds(10);
/** Workflow steps and the SMS function get what an event consumer gets. */
const ASYNC_TIMEOUT = CONSUMER_TIMEOUT;

/**
 * The stateless pipeline for one client: HTTP API, event bus and rules, functions, the SLA and
 * nurture workflows, SES configuration set, alert topics, alarms and the dashboard. It can be
 * destroyed and redeployed at will; state lives in the {@link DataStack}.
 */
export class PipelineStack extends Stack {
  /** The pipeline's custom bus. */
  readonly eventBus: EventBus;
  /** The HTTP API. */
  readonly api: HttpApi;
  /** Public base URL of the API, no trailing slash. */
  readonly apiUrl: string;
  /**
   * Where forms, the tracking script and email links point: the CloudFront distribution when the
   * WAF is on (`stack.waf.enabled`), else the API itself. No trailing slash.
   */
  readonly publicUrl: string;
  /** Every function, by folder name under `functions/`. */
  readonly functions: Readonly<Record<string, LeadFunction>>;
  /** The SLA ladder: rung schedules and the rung workflow (EXPRESS). */
  readonly slaLadder: SlaLadder;
  /** The SLA ladder's rung workflow. */
  readonly slaStateMachine: StateMachine;
  /** The nurture workflow. */
  readonly nurtureStateMachine: StateMachine;
  /** The consumer rows of this client (those the client file turned on), one rule each. */
  readonly consumers: readonly ConsumerRow[];
  /** Every dead-letter queue, by consumer. */
  readonly deadLetterQueues: Readonly<Record<string, DeadLetterQueue>>;
  /** SNS topic the two-way SMS channel publishes replies to (when `sms.enabled`). */
  smsInboundTopic?: Topic;
  /** The SMS meeting-reminder workflow (when `sms.enabled`). */
  smsReminderStateMachine?: StateMachine;
  /** SNS topic for rep alerts. */
  readonly alertTopic: Topic;
  /** The sales console (S3 + CloudFront, Cognito managed login). */
  readonly console: ConsoleSite;
  /** SNS topic for CloudWatch alarms. */
  readonly alarmTopic: Topic;
  /** SES configuration set every pipeline email is sent with. */
  readonly configurationSet: ConfigurationSet;

  private readonly config: ClientConfig;
  private readonly secrets: Readonly<Record<IntegrationName, ISecret>>;
  private readonly retention: RetentionDays;
  private readonly fns: Record<string, LeadFunction> = {};
  private readonly dlqs: Record<string, DeadLetterQueue> = {};

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config, data } = props;
    this.config = config;
    this.secrets = data.secrets;
    this.retention = logRetention(config);
    this.functions = this.fns;
    this.deadLetterQueues = this.dlqs;

    // ── Event bus and archive ────────────────────────────────────────────────────────────────
    this.eventBus = new EventBus(this, 'Bus', {
      description: `lead-pipeline ${config.client.name}: pipeline events`,
    });
    this.eventBus.archive('Archive', {
      description: 'Every pipeline event, for replay after a fix',
      eventPattern: { source: [EVENT_SOURCE] },
      retention: Duration.days(config.stack.eventArchiveDays),
    });

    // ── Email: configuration set → default bus; topics ──────────────────────────────────────────
    const messaging = pipelineMessaging(this, config.client.name);
    this.configurationSet = messaging.configurationSet;
    const { defaultBus, topicKey } = messaging;
    this.alertTopic = messaging.alertTopic;
    this.alarmTopic = messaging.alarmTopic;
    if (config.stack.alarmEmail) {
      const dlq = this.deadLetterQueue('alarm-email');
      this.alarmTopic.addSubscription(
        new EmailSubscription(config.stack.alarmEmail, { deadLetterQueue: dlq.queue }),
      );
    }

    // ── Sales console (its origin joins the API's CORS list; its files are published below) ────
    this.console = new ConsoleSite(this, 'Console', {
      userPool: data.userPool,
      region: config.stack.region,
      clientName: config.client.name,
    });

    // ── HTTP API shell (routes are added below, once the functions exist) ──────────────────────
    this.api = new HttpApi(this, 'Api', {
      // A display name only (API names need not be unique); the client makes it findable.
      apiName: `LeadPipeline-${config.client.name}`,
      description: `lead-pipeline ${config.client.name}: lead capture, tracking, webhooks and the reps' API`,
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: [...config.capture.allowedOrigins, this.console.url],
        allowMethods: [
          CorsHttpMethod.GET,
          CorsHttpMethod.POST,
          CorsHttpMethod.PATCH,
          CorsHttpMethod.DELETE,
          CorsHttpMethod.OPTIONS,
        ],
        allowHeaders: ['authorization', 'content-type', 'idempotency-key', 'if-match'],
        maxAge: Duration.days(1),
      },
    });
    // Computed from the API id (not from a stage or route), so functions behind the API can
    // receive it without a dependency cycle.
    this.apiUrl = this.api.apiEndpoint;
    this.publicUrl = props.webAclArn ? publicEdge(this, this.api, config, props.webAclArn) : this.apiUrl;

    // ── Functions ──────────────────────────────────────────────────────────────────────────────
    // The table is referenced through an explicit export of its name (the same export CDK would
    // create automatically), so grant resources resolve to the import here and the one
    // `index/*` wildcard per function can be acknowledged by its exact cdk-nag finding id.
    const leadsTable = Table.fromTableAttributes(this, 'LeadsTable', {
      tableName: Stack.of(data.table).exportValue(data.table.tableName),
      globalIndexes: Object.keys(INDEXES),
    });
    const table = (mode: 'read' | 'readWrite') => ({ table: leadsTable, mode });
    const bus = this.eventBus;
    const email = { identity: data.emailIdentity, configurationSet: this.configurationSet };

    const sla = this.fn('sla', ASYNC_TIMEOUT, { table: table('readWrite'), eventBus: bus });
    const sms = config.sms.enabled ? config.sms : undefined;
    const nurture = this.fn('nurture', ASYNC_TIMEOUT, {
      table: table('readWrite'),
      eventBus: bus,
      email,
      apiUrl: this.publicUrl,
      ...(sms ? { sms } : {}),
    });
    const { observability } = this.config;
    const workflowLogging = {
      level: LogLevel[observability.stateMachineLogLevel],
      includeExecutionData: observability.stateMachineExecutionData,
    };
    // Schedules each rung of the SLA ladders (EventBridge Scheduler), named after the assignment
    // so leads-api cancels a ladder by name once the lead is contacted.
    const slaStart = this.fn('sla-start', ASYNC_TIMEOUT, {}, 256);
    this.slaLadder = new SlaLadder(this, 'SlaWorkflow', {
      handler: sla.fn,
      scheduler: slaStart.fn,
      logRetention: this.retention,
      ladderSteps: this.config.sla.ladder.length,
      logging: workflowLogging,
      deadLetterQueue: this.deadLetterQueue('sla-rungs').queue,
    });
    this.slaLadder.grantSchedule(slaStart);
    this.slaStateMachine = this.slaLadder.stateMachine;
    this.nurtureStateMachine = new NurtureWorkflow(this, 'NurtureWorkflow', {
      handler: nurture.fn,
      logRetention: this.retention,
      sequences: this.config.nurture.sequences,
      logging: workflowLogging,
    }).stateMachine;
    if (sms) {
      const channel = addSmsChannel(this, {
        fn: this.asyncFn('sms', ASYNC_TIMEOUT, { table: table('readWrite'), sms }, 256),
        topicKey,
        logRetention: this.retention,
        logging: workflowLogging,
        inboundDeadLetterQueue: this.deadLetterQueue('sms-inbound').queue,
      });
      this.smsInboundTopic = channel.inboundTopic;
      this.smsReminderStateMachine = channel.reminders;
    }
    const capture = this.fn('capture', API_TIMEOUT, {
      table: table('readWrite'),
      eventBus: bus,
      apiUrl: this.publicUrl,
    });
    const webhooks = this.fn('webhooks', API_TIMEOUT, {
      table: table('readWrite'),
      eventBus: bus,
    });
    const track = this.fn('track', API_TIMEOUT, {
      table: table('readWrite'),
      eventBus: bus,
      apiUrl: this.publicUrl,
    });
    const unsubscribe = this.fn('unsubscribe', API_TIMEOUT, {
      table: table('readWrite'),
      eventBus: bus,
      apiUrl: this.publicUrl,
    });
    const leadsApi = this.fn('leads-api', API_TIMEOUT, {
      table: table('readWrite'),
      eventBus: bus,
    });
    // The thank-you page's status URL: reads the lead it is signed for and nothing else.
    const nextStep = this.fn('next-step', API_TIMEOUT, {
      table: { table: leadsTable, mode: 'read', partitions: { read: [keys.leadPartition('*')], write: [] } },
      apiUrl: this.publicUrl,
    });
    // The alert's "Mark contacted" button: the leads API's contact command, reached from Slack.
    // Item operations only, in the partitions that command writes (the lead, its owner's
    // counters) and its own replay log; no index, no scan.
    const slackActions = this.fn('slack-actions', API_TIMEOUT, {
      table: {
        table: leadsTable,
        mode: 'readWrite',
        partitions: {
          read: [],
          write: [keys.leadPartition('*'), keys.repPartition('*'), keys.slackRequestPartition('*')],
        },
      },
      eventBus: bus,
    });
    for (const canceller of [leadsApi, slackActions]) this.slaLadder.grantCancel(canceller);
    const reportsApi = this.fn('reports-api', Duration.seconds(25), { table: table('read') }, 1024);

    // ── Routes ─────────────────────────────────────────────────────────────────────────────────
    addApiRoutes(this, {
      api: this.api,
      config,
      retention: this.retention,
      authorizer: new HttpUserPoolAuthorizer('RepsAuthorizer', data.userPool, {
        userPoolClients: [data.userPoolClient, this.console.client],
      }),
      publicFunctions: {
        capture,
        tracking: track,
        webhooks,
        unsubscribe,
        booking: nextStep,
        slack: slackActions,
      },
      leadsApi,
      reportsApi,
    });

    // ── Consumers: one row each, with an explicit pattern, a retry policy and a DLQ ───────────
    this.consumers = pipelineConsumers({
      config,
      table: leadsTable,
      bus,
      email,
      publicUrl: this.publicUrl,
      consoleUrl: this.console.url,
      alertTopic: this.alertTopic,
      slaLadder: this.slaLadder,
      nurture: this.nurtureStateMachine,
      smsReminders: this.smsReminderStateMachine,
      configurationSetName: this.configurationSet.configurationSetName,
      defaultBus,
    }).filter((row) => row !== undefined);
    // Every row's own function first, so a row may run another row's function wherever it is.
    for (const row of this.consumers) {
      if (!row.access) continue;
      const fn = this.asyncFn(row.consumer, row.timeout ?? CONSUMER_TIMEOUT, row.access, row.memorySize);
      row.grant?.(fn);
    }
    for (const row of this.consumers) this.consume(row);

    // ── Monitoring ─────────────────────────────────────────────────────────────────────────────
    const monitoring = new Monitoring(this, 'Monitoring', {
      clientName: config.client.name,
      alarmTopic: this.alarmTopic,
      api: this.api,
      functions: Object.values(this.fns),
      stateMachines: {
        sla: this.slaStateMachine,
        nurture: this.nurtureStateMachine,
        ...(this.smsReminderStateMachine ? { smsReminder: this.smsReminderStateMachine } : {}),
      },
      deadLetterQueues: Object.values(this.dlqs),
    });

    // ── Outputs ────────────────────────────────────────────────────────────────────────────────
    this.console.publish(this.apiUrl);
    new CfnOutput(this, 'ApiUrl', { value: this.apiUrl, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'ConsoleUrl', { value: this.console.url, description: 'The sales console' });
    new CfnOutput(this, 'CaptureEndpoint', {
      value: Fn.join('', [this.publicUrl, '/leads']),
      description: 'Form action for landing pages',
    });
    new CfnOutput(this, 'UserPoolId', { value: data.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: data.userPoolClient.userPoolClientId });
    new CfnOutput(this, 'DashboardUrl', { value: monitoring.dashboardUrl });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.eventBusName });
    new CfnOutput(this, 'TableName', { value: leadsTable.tableName });
    for (const name of INTEGRATION_NAMES) {
      new CfnOutput(this, `${pascal(name)}SecretArn`, {
        value: data.secrets[name].secretArn,
        description: `Integration secret: ${INTEGRATION_SECRETS[name].description}`,
      });
    }
  }

  /** A synchronously invoked function (API or Step Functions). */
  private fn(name: string, timeout: Duration, access: LeadFunctionAccess, memorySize?: number): LeadFunction {
    const fn = new LeadFunction(this, pascal(name), {
      name,
      config: this.config,
      logRetention: this.retention,
      timeout,
      memorySize,
      access: this.withSecrets(name, access),
    });
    this.fns[name] = fn;
    return fn;
  }

  /**
   * An asynchronously invoked function (EventBridge). Its DLQ also receives the rule target's
   * undeliverable events; Lambda's own async retries (2, the default) come first.
   */
  private asyncFn(
    name: string,
    timeout: Duration,
    access: LeadFunctionAccess,
    memorySize?: number,
  ): LeadFunction {
    const dlq = this.deadLetterQueue(name, true);
    const fn = new LeadFunction(this, pascal(name), {
      name,
      config: this.config,
      logRetention: this.retention,
      timeout,
      memorySize,
      access: this.withSecrets(name, access),
      deadLetterQueue: dlq.queue,
    });
    this.fns[name] = fn;
    return fn;
  }

  /** Adds the integration secrets `INTEGRATION_SECRETS` lets this function read, and no others. */
  private withSecrets(name: string, access: LeadFunctionAccess): LeadFunctionAccess {
    const readable = integrationsReadBy(name);
    if (readable.length === 0) return access;
    return { ...access, secrets: Object.fromEntries(readable.map((n) => [n, this.secrets[n]])) };
  }

  private deadLetterQueue(consumer: string, usedByLambda = false): DeadLetterQueue {
    const existing = this.dlqs[consumer];
    if (existing) return existing;
    const dlq = new DeadLetterQueue(this, `${pascal(consumer)}Dlq`, { consumer, usedByLambda });
    this.dlqs[consumer] = dlq;
    return dlq;
  }

  /**
   * The rule of a {@link ConsumerRow}, once the rows' functions exist. A function's own async DLQ
   * is the queue named after it; a second rule on the same function (the held-lead schedule) and
   * a state machine's rule get a queue only the rule uses.
   */
  private consume(row: ConsumerRow): PipelineConsumer {
    const { consumer, bus, access, runs, workflow, timeout, memorySize, grant, ...trigger } = row;
    const target = consumerTarget(row, this.fns);
    return new PipelineConsumer(this, `${pascal(consumer)}Rule`, {
      ...trigger,
      target,
      bus: bus ?? this.eventBus,
      deadLetterQueue: this.deadLetterQueue(consumer, access !== undefined).queue,
    });
  }
}
