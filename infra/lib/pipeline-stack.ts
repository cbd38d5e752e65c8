import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CfnStage,
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  type HttpRoute,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  PriceClass,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import { type ITable, Table } from 'aws-cdk-lib/aws-dynamodb';
import {
  EventBus,
  EventField,
  type EventPattern,
  type IEventBus,
  type IRuleTarget,
  Match,
  Rule,
  RuleTargetInput,
  Schedule,
} from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import {
  ConfigurationSet,
  ConfigurationSetTlsPolicy,
  EmailSendingEvent,
  EventDestination,
  type IEmailIdentity,
  SuppressionReasons,
} from 'aws-cdk-lib/aws-ses';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription, LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { LogLevel, type StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import {
  INTEGRATION_NAMES,
  INTEGRATION_SECRETS,
  type IntegrationName,
  integrationsReadBy,
} from '../../shared/adapters/integrations-secret';
import { INDEXES, keys } from '../../shared/adapters/table-design';
import type { ApiRouteGroup, ClientConfig } from '../../shared/config/schema';
import { ALERT_EVENT_TYPES } from '../../shared/domain/alerts';
import { type DetailType, EVENT_SOURCE } from '../../shared/events/catalogue';
import { ConsoleSite } from '../constructs/console-site';
import { DeadLetterQueue } from '../constructs/dead-letter-queue';
import { LeadFunction, type LeadFunctionAccess } from '../constructs/lead-function';
import { Monitoring } from '../constructs/monitoring';
import { SlaLadder } from '../constructs/sla-ladder';
import { NurtureWorkflow, SmsReminderWorkflow } from '../constructs/workflows';
import { logRetention } from './settings';

/** Retry policy of every EventBridge target: transient delivery failures retry, then the DLQ. */
export const TARGET_RETRY = { maxEventAge: Duration.hours(4), retryAttempts: 10 } as const;

/** SES event types published for the nurture and auto-response emails. */
export const SES_EVENT_TYPES = [
  EmailSendingEvent.SEND,
  EmailSendingEvent.DELIVERY,
  EmailSendingEvent.OPEN,
  EmailSendingEvent.CLICK,
  EmailSendingEvent.BOUNCE,
  EmailSendingEvent.COMPLAINT,
  EmailSendingEvent.REJECT,
] as const;

/** EventBridge `detail-type` values SES uses for {@link SES_EVENT_TYPES}. */
export const SES_DETAIL_TYPES = [
  'Email Sent',
  'Email Delivered',
  'Email Opened',
  'Email Clicked',
  'Email Bounced',
  'Email Complaint Received',
  'Email Rejected',
] as const;

/** Daily stale-deal sweep, 07:00 UTC (before the working day in EMEA, overnight in the Americas). */
export const STALE_DEALS_SCHEDULE = { minute: '0', hour: '7' } as const;

/** How often held leads are checked; a held lead waits at most this long past its hour. */
export const HELD_LEADS_SWEEP = Duration.minutes(5);
/**
 * How often the relay publishes outbox entries their writers left behind (the bus refused them):
 * the longest a lead accepted while the bus is down waits once the bus is back.
 */
export const OUTBOX_RELAY_SWEEP = Duration.minutes(1);

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

/** A public or JWT-protected HTTP route. */
interface RouteSpec {
  readonly method: HttpMethod;
  readonly path: string;
}

/**
 * The public routes (no JWT), by throttle group, and why each is public. The optional WAF
 * (edge-stack.ts) rate-limits exactly these paths.
 */
export const PUBLIC_ROUTES = {
  capture: { routes: [{ method: HttpMethod.POST, path: '/leads' }], why: 'landing-page forms post leads' },
  tracking: {
    routes: [
      { method: HttpMethod.POST, path: '/events' },
      { method: HttpMethod.GET, path: '/t.js' },
    ],
    why: "visitors' browsers load the tracking script and post page events",
  },
  webhooks: {
    routes: [
      { method: HttpMethod.POST, path: '/webhooks/{provider}' },
      { method: HttpMethod.GET, path: '/webhooks/{provider}' },
    ],
    why: 'lead providers call it and are verified by their own signatures in the handler',
  },
  unsubscribe: {
    routes: [
      { method: HttpMethod.GET, path: '/unsubscribe' },
      { method: HttpMethod.POST, path: '/unsubscribe' },
    ],
    why: 'email recipients follow HMAC-signed links (RFC 8058 one-click)',
  },
  booking: {
    routes: [{ method: HttpMethod.GET, path: '/next/{token}' }],
    why: "the visitor's thank-you page follows the short-lived HMAC-signed next-step URL capture issued",
  },
  slack: {
    routes: [{ method: HttpMethod.POST, path: '/slack/actions' }],
    why: "Slack posts the alert buttons' presses, verified by the Slack app's signing secret in the handler",
  },
} as const satisfies Partial<Record<ApiRouteGroup, { routes: readonly RouteSpec[]; why: string }>>;

/**
 * Each route's throttle: its group's limits from `stack.throttling.routes`, else the stage
 * default. Set per route key on the stage, so every route has its own token bucket.
 */
export function routeThrottle(config: ClientConfig, group: ApiRouteGroup) {
  const limits = config.stack.throttling.routes[group] ?? config.stack.throttling;
  // CloudFormation's own casing: RouteSettings is a JSON map that CDK passes through unchanged.
  return { ThrottlingRateLimit: limits.rateLimit, ThrottlingBurstLimit: limits.burstLimit };
}

const API_TIMEOUT = Duration.seconds(10);
const ASYNC_TIMEOUT = Duration.seconds(30);

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

    // ── Email: configuration set → default bus (the only bus SES can publish to) ─────────────
    // No SES templates (CfnTemplate) are created: functions render the client's templates
    // from the bundled config and send Simple content, so a copy edit is one deploy and the
    // rendered HTML is unit-tested instead of living in a second place.
    this.configurationSet = new ConfigurationSet(this, 'Email', {
      reputationMetrics: true,
      sendingEnabled: true,
      suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS,
      tlsPolicy: ConfigurationSetTlsPolicy.REQUIRE,
    });
    const defaultBus = EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.configurationSet.addEventDestination('ToEventBridge', {
      destination: EventDestination.eventBus(defaultBus),
      events: [...SES_EVENT_TYPES],
    });

    // ── Topics ─────────────────────────────────────────────────────────────────────────────────
    const topicKey = new Key(this, 'TopicKey', {
      description: `lead-pipeline ${config.client.name}: SNS alert and alarm topics`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch alarms publish to the encrypted alarm topic, so CloudWatch must use the key.
    topicKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    /*
     * Rep alerts. The `alert` function publishes one message per alert with two message
     * attributes, so each rep subscribes (email, SMS or mobile push) with a filter policy:
     *   owner    (String) the rep id the alert is about, e.g. {"owner": ["ana"]}
     *   priority (String) low | normal | high,          e.g. {"priority": ["high"]} for an on-call phone
     * e.g. aws sns subscribe --topic-arn <AlertTopicArn> --protocol email \
     *        --notification-endpoint ana@example.com --attributes '{"FilterPolicy":"{\"owner\":[\"ana\"]}"}'
     * Subscriptions are left to the reps (they confirm by email) rather than created here.
     */
    this.alertTopic = new Topic(this, 'RepAlerts', { masterKey: topicKey, enforceSSL: true });
    this.alarmTopic = new Topic(this, 'Alarms', { masterKey: topicKey, enforceSSL: true });
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
    this.publicUrl = props.webAclArn ? this.edge(props.webAclArn) : this.apiUrl;

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
    if (sms) this.smsChannel(table('readWrite'), topicKey, sms, workflowLogging);
    // Behaviour-started sequences (nurture.triggers): read page views, start a sequence by name.
    const nurtureTrigger =
      config.nurture.triggers.length > 0
        ? this.asyncFn('nurture-trigger', ASYNC_TIMEOUT, {
            table: table('readWrite'),
            nurtureStart: this.nurtureStateMachine,
          })
        : undefined;

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

    // Built-in enrichment runs inside capture and webhooks; this function exists only to ask a
    // configured third-party provider, beside scoring rather than in front of it.
    const enrich = config.enrichment.provider?.enabled
      ? this.asyncFn('enrich', ASYNC_TIMEOUT, { table: table('readWrite'), eventBus: bus })
      : undefined;
    // Publishes what capture, webhooks, the leads API and unsubscribe stored but could not publish.
    const relay = this.asyncFn('relay', ASYNC_TIMEOUT, {
      // Reads and deletes outbox entries only: it cannot read or change a lead.
      table: {
        table: leadsTable,
        mode: 'readWrite',
        partitions: { read: [keys.outboxPartition], write: [keys.outboxPartition] },
      },
      eventBus: bus,
    });
    const score = this.asyncFn('score', ASYNC_TIMEOUT, { table: table('readWrite'), eventBus: bus });
    const route = this.asyncFn('route', ASYNC_TIMEOUT, { table: table('readWrite'), eventBus: bus });
    const alert = this.asyncFn('alert', ASYNC_TIMEOUT, {
      // Reads the lead it alerts about; writes its own idempotency records only (one send per
      // event and channel), so a compromised alert function cannot change or delete a lead.
      table: {
        table: leadsTable,
        mode: 'readWrite',
        partitions: { read: [keys.leadPartition('*')], write: [keys.idempotencyPartition('alert')] },
      },
      alertTopic: this.alertTopic,
      consoleUrl: this.console.url,
    });
    const autoRespond = this.asyncFn('auto-respond', ASYNC_TIMEOUT, {
      table: table('readWrite'),
      email,
      apiUrl: this.publicUrl,
    });
    // Follows up a booking from Calendly or Cal.com: first touch (stops the SLA ladder), Meeting Booked.
    const meetings = this.asyncFn('meetings', ASYNC_TIMEOUT, {
      table: table('readWrite'),
      eventBus: bus,
    });
    this.slaLadder.grantCancel(meetings);
    const sesEvents = this.asyncFn('ses-events', ASYNC_TIMEOUT, { table: table('readWrite'), eventBus: bus });
    // Reads the whole table (Scan) to find every item of the person: minutes, not an API call.
    const erase = this.asyncFn('erase', Duration.minutes(15), { table: table('readWrite') }, 1024);
    // Writes tasks under the lead it is told about and reads that lead: item operations in lead
    // partitions only (no index, no scan, no routing state or idempotency records).
    const followUp = this.asyncFn('follow-up', ASYNC_TIMEOUT, {
      table: {
        table: leadsTable,
        mode: 'readWrite',
        partitions: { read: [], write: [keys.leadPartition('*')] },
      },
    });
    const staleDeals = this.asyncFn(
      'stale-deals',
      Duration.minutes(5),
      // Writes one marker per deal per day, so a re-run of the sweep alerts each deal once.
      { table: table('readWrite'), eventBus: bus },
      1024,
    );

    // ── Routes ─────────────────────────────────────────────────────────────────────────────────
    const stageLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: this.retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: {
        rateLimit: config.stack.throttling.rateLimit,
        burstLimit: config.stack.throttling.burstLimit,
      },
      accessLogSettings: {
        destination: new LogGroupLogDestination(stageLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            method: '$context.httpMethod',
            routeKey: '$context.routeKey',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });

    const routeSettings: Record<string, ReturnType<typeof routeThrottle>> = {};
    const created: HttpRoute[] = [];
    const addRoutes = (
      fn: LeadFunction,
      group: ApiRouteGroup,
      routes: RouteSpec[],
      authorizer?: IHttpRouteAuthorizer,
      publicBecause?: string,
    ) => {
      for (const r of routes) routeSettings[`${r.method} ${r.path}`] = routeThrottle(config, group);
      created.push(...this.route(fn, routes, authorizer, publicBecause));
    };
    const publicRoute = (fn: LeadFunction, group: ApiRouteGroup, routes: RouteSpec[], why: string) =>
      addRoutes(fn, group, routes, undefined, why);
    const publicFunctions = {
      capture,
      tracking: track,
      webhooks,
      unsubscribe,
      booking: nextStep,
      slack: slackActions,
    } as const;
    for (const [group, { routes, why }] of Object.entries(PUBLIC_ROUTES) as Array<
      [keyof typeof PUBLIC_ROUTES, (typeof PUBLIC_ROUTES)[keyof typeof PUBLIC_ROUTES]]
    >) {
      publicRoute(publicFunctions[group], group, [...routes], why);
    }

    const authorizer = new HttpUserPoolAuthorizer('RepsAuthorizer', data.userPool, {
      userPoolClients: [data.userPoolClient, this.console.client],
    });
    addRoutes(
      leadsApi,
      'reps',
      [
        { method: HttpMethod.GET, path: '/me' },
        { method: HttpMethod.GET, path: '/leads' },
        { method: HttpMethod.GET, path: '/leads/{id}' },
        { method: HttpMethod.POST, path: '/leads/{id}/contacted' },
        { method: HttpMethod.PATCH, path: '/leads/{id}' },
        { method: HttpMethod.POST, path: '/leads/{id}/reassign' },
        { method: HttpMethod.POST, path: '/leads/{id}/notes' },
        { method: HttpMethod.POST, path: '/leads/{id}/tasks' },
        { method: HttpMethod.PATCH, path: '/leads/{id}/tasks/{taskId}' },
        { method: HttpMethod.POST, path: '/leads/{id}/details/{activityId}/accept' },
        { method: HttpMethod.GET, path: '/admin/people/{email}' },
        { method: HttpMethod.DELETE, path: '/admin/people/{email}' },
        { method: HttpMethod.POST, path: '/admin/imports' },
        { method: HttpMethod.GET, path: '/admin/erasures/{id}' },
      ],
      authorizer,
    );
    addRoutes(reportsApi, 'reports', [{ method: HttpMethod.GET, path: '/reports/{report}' }], authorizer);
    // Route settings name routes by key, so the stage must be created after them.
    (stage.node.defaultChild as CfnStage).routeSettings = routeSettings;
    for (const r of created) stage.node.addDependency(r);

    // ── Rules: one per consumer, each with an explicit pattern, a retry policy and a DLQ ──────
    const pipelineEvents = (detailTypes: DetailType[], detail?: Record<string, unknown>): EventPattern => ({
      source: [EVENT_SOURCE],
      detailType: detailTypes,
      ...(detail ? { detail } : {}),
    });
    if (enrich) {
      this.consumeWithFunction(
        'enrich',
        enrich,
        pipelineEvents(['Lead Captured'], { pending: [false] }),
        'Ask the third-party provider about captured leads whose fields are complete',
      );
    }
    // Two rules, as EventBridge patterns cannot make a detail filter depend on the detail-type.
    this.consumeWithFunction(
      'score',
      score,
      pipelineEvents(['Lead Captured'], { pending: [false] }),
      'Score complete leads as they are captured (already enriched by the built-in rules)',
    );
    this.consumeWithFunction(
      'rescore',
      score,
      pipelineEvents(['Lead Enriched', 'Activity Recorded']),
      "Re-score a lead after a provider's enrichment or new activity",
    );
    this.consumeWithFunction(
      'route',
      route,
      pipelineEvents(['Lead Scored'], { routable: [true] }),
      'Route leads whose score made them routable',
    );
    this.consumeWithFunction(
      'alert',
      alert,
      pipelineEvents([...ALERT_EVENT_TYPES], { isTest: [false] }),
      'Alert reps and managers (never for test leads)',
    );
    this.consumeWithFunction(
      'auto-respond',
      autoRespond,
      pipelineEvents(['Lead Captured'], { isTest: [false], pending: [false] }),
      'Send the auto-response to real, complete leads',
    );
    this.consumeWithFunction(
      'erase',
      erase,
      pipelineEvents(['Erasure Requested']),
      'Run the erasure job an admin started',
    );
    this.consumeWithStateMachine(
      'sla-start',
      this.slaStateMachine,
      pipelineEvents(['Lead Assigned'], { via: Match.anythingBut('escalation'), isTest: [false] }),
      'Start the SLA clock (rung 0 of the ladder) for every new (non-escalation) assignment of a real lead',
      RuleTargetInput.fromObject({ rung: 0, assignment: EventField.fromPath('$.detail') }),
    );
    this.consumeWithFunction(
      'meetings',
      meetings,
      // A cancellation is recorded as a note; the function tells bookings from other notes.
      pipelineEvents(['Activity Recorded'], { type: ['meeting_booked', 'note'] }),
      'Treat a meeting booked through a scheduling tool as first contact, and announce it',
    );
    this.consumeWithFunction(
      'follow-up',
      followUp,
      pipelineEvents(['Lead Assigned', 'Lead Contacted', 'Lead Stage Changed'], { isTest: [false] }),
      "Create and close reps' follow-up tasks and stages' required actions (real leads)",
    );
    if (nurtureTrigger)
      this.consumeWithFunction(
        'nurture-trigger',
        nurtureTrigger,
        pipelineEvents(['Activity Recorded'], { type: ['page_view'], isTest: [false] }),
        "Start a nurture trigger's sequence when a lead's page views fire it",
      );
    this.consumeWithStateMachine(
      'nurture',
      this.nurtureStateMachine,
      pipelineEvents(['Lead Nurtured']),
      'Run the nurture sequence a lead was enrolled in',
    );
    this.consumeWithFunction(
      'ses-events',
      sesEvents,
      {
        source: ['aws.ses'],
        detailType: [...SES_DETAIL_TYPES],
        detail: { mail: { tags: { 'ses:configuration-set': [this.configurationSet.configurationSetName] } } },
      },
      "Record SES sending events for this client's configuration set",
      defaultBus,
    );
    this.consumeWithFunction(
      'stale-deals',
      staleDeals,
      undefined,
      'Daily sweep for opportunities stuck in a stage',
      undefined,
      Schedule.cron(STALE_DEALS_SCHEDULE),
    );
    this.consumeWithFunction(
      'relay',
      relay,
      undefined,
      'Publish the outbox entries a writer left behind (the bus refused them)',
      undefined,
      Schedule.rate(OUTBOX_RELAY_SWEEP),
    );
    this.consumeWithFunction(
      'release-held',
      route,
      undefined,
      'Route held leads once their team is back on shift',
      undefined,
      Schedule.rate(HELD_LEADS_SWEEP),
    );

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

  /**
   * The CloudFront distribution in front of the API, with the WAF web ACL: nothing is cached
   * (every request reaches the API with its headers, query string and body) and the API's own
   * per-route throttles still apply behind it.
   * @returns its https URL.
   */
  private edge(webAclArn: string): string {
    const apiDomain = Fn.select(2, Fn.split('/', this.api.apiEndpoint));
    const distribution = new Distribution(this, 'PublicEdge', {
      comment: `lead-pipeline ${this.config.client.name}: public routes behind AWS WAF`,
      defaultBehavior: {
        origin: new HttpOrigin(apiDomain, { protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY }),
        allowedMethods: AllowedMethods.ALLOW_ALL,
        cachePolicy: CachePolicy.CACHING_DISABLED,
        originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
      },
      webAclId: webAclArn,
      priceClass: PriceClass.PRICE_CLASS_100,
      minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
    });
    const v = Validations.of(distribution);
    v.acknowledge({
      id: 'AwsSolutions-CFR1',
      reason:
        'Leads come from any country the client sells to; the client file has no geo list to restrict to.',
    });
    v.acknowledge({
      id: 'AwsSolutions-CFR3',
      reason:
        'The API access logs behind the distribution already record every request; CloudFront standard logs would need an S3 bucket holding client IPs for no added use.',
    });
    v.acknowledge({
      id: 'AwsSolutions-CFR4',
      reason:
        'The default cloudfront.net certificate is used (no client domain is configured), for which CloudFront cannot enforce a minimum TLS version; viewers are HTTPS only.',
    });
    new CfnOutput(this, 'PublicUrl', {
      value: `https://${distribution.distributionDomainName}`,
      description: 'Public URL behind AWS WAF: forms, the tracking script and email links use it',
    });
    return `https://${distribution.distributionDomainName}`;
  }

  /**
   * SMS (client file `sms.enabled`): the `sms` function, the two-way channel's inbound topic
   * (End User Messaging SMS publishes replies to it; the function opts numbers out on STOP) and
   * the meeting-reminder workflow started by `Meeting Booked`.
   */
  private smsChannel(
    table: LeadFunctionAccess['table'],
    topicKey: Key,
    sms: ClientConfig['sms'],
    logging: { level: LogLevel; includeExecutionData: boolean },
  ): void {
    const fn = this.asyncFn('sms', ASYNC_TIMEOUT, { table, sms }, 256);
    this.smsInboundTopic = new Topic(this, 'SmsInbound', { masterKey: topicKey, enforceSSL: true });
    // End User Messaging SMS publishes the replies of the two-way channel (set the topic on the
    // phone number's two-way settings); it needs the topic's key to do so.
    const smsService = new ServicePrincipal('sms-voice.amazonaws.com');
    this.smsInboundTopic.grantPublish(smsService);
    topicKey.grant(smsService, 'kms:GenerateDataKey*', 'kms:Decrypt');
    this.smsInboundTopic.addSubscription(
      new LambdaSubscription(fn.fn, { deadLetterQueue: this.deadLetterQueue('sms-inbound').queue }),
    );
    this.smsReminderStateMachine = new SmsReminderWorkflow(this, 'SmsReminderWorkflow', {
      handler: fn.fn,
      logRetention: this.retention,
      logging,
    }).stateMachine;
    this.consumeWithStateMachine(
      'sms-reminder',
      this.smsReminderStateMachine,
      { source: [EVENT_SOURCE], detailType: ['Meeting Booked'], detail: { isTest: [false] } },
      'Text the lead a reminder of a booked meeting',
    );
    new CfnOutput(this, 'SmsInboundTopicArn', {
      value: this.smsInboundTopic.topicArn,
      description: "SNS topic for the two-way SMS channel's replies (STOP opts the number out)",
    });
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

  private route(
    fn: LeadFunction,
    routes: RouteSpec[],
    authorizer?: IHttpRouteAuthorizer,
    publicBecause?: string,
  ): HttpRoute[] {
    const integration = new HttpLambdaIntegration(`${pascal(fn.functionName)}Integration`, fn.fn);
    const created: HttpRoute[] = [];
    for (const r of routes) {
      const [route] = this.api.addRoutes({
        path: r.path,
        methods: [r.method],
        integration,
        authorizer,
      }) as [HttpRoute];
      created.push(route);
      if (!authorizer) {
        Validations.of(route).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${r.method} ${r.path} is public by design: ${publicBecause ?? 'it serves anonymous callers'}.`,
        });
      }
    }
    return created;
  }

  private consumeWithFunction(
    consumer: string,
    fn: LeadFunction,
    eventPattern: EventPattern | undefined,
    description: string,
    eventBus: IEventBus = this.eventBus,
    schedule?: Schedule,
  ): Rule {
    // The function's own async DLQ is the queue named after it; a second rule on the same
    // function (the held-lead schedule) gets a queue that only the rule target uses.
    const dlq = this.deadLetterQueue(consumer, consumer === fn.functionName);
    return this.rule(
      consumer,
      new LambdaFunction(fn.fn, { deadLetterQueue: dlq.queue, ...TARGET_RETRY }),
      eventPattern,
      description,
      eventBus,
      schedule,
    );
  }

  private consumeWithStateMachine(
    consumer: string,
    machine: StateMachine,
    eventPattern: EventPattern,
    description: string,
    // The execution input is the event's detail unless said otherwise; see infra/CONTRACTS.md.
    input: RuleTargetInput = RuleTargetInput.fromEventPath('$.detail'),
  ): Rule {
    const dlq = this.deadLetterQueue(consumer);
    return this.rule(
      consumer,
      new SfnStateMachine(machine, {
        input,
        deadLetterQueue: dlq.queue,
        ...TARGET_RETRY,
      }),
      eventPattern,
      description,
    );
  }

  private rule(
    consumer: string,
    target: IRuleTarget,
    eventPattern: EventPattern | undefined,
    description: string,
    eventBus: IEventBus = this.eventBus,
    schedule?: Schedule,
  ): Rule {
    return new Rule(this, `${pascal(consumer)}Rule`, {
      description,
      ...(schedule ? { schedule } : { eventBus, eventPattern }),
      targets: [target],
    });
  }
}

/** `auto-respond` → `AutoRespond`, for construct ids. */
function pascal(name: string): string {
  return name
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}
