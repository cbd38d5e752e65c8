import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { listClients } from '../../infra/lib/build-app';
import { DATA_LOGICAL_IDS, integrationSecretLogicalId, USER_GROUPS } from '../../infra/lib/data-stack';
import {
  HELD_LEADS_SWEEP,
  OUTBOX_RELAY_SWEEP,
  PENDING_LEADS_SWEEP,
  SES_DETAIL_TYPES,
  STALE_DEALS_SCHEDULE,
  TARGET_RETRY,
} from '../../infra/lib/pipeline-stack';
import { APP_TAG, stackNames } from '../../infra/lib/settings';
import {
  INTEGRATION_NAMES,
  INTEGRATION_SECRETS,
  integrationSecretEnv,
} from '../../shared/contracts/integration-secrets';
import { INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../../shared/contracts/table-design';
import { EVENT_SOURCE } from '../../shared/events/catalogue';
import { REP_ID_ATTRIBUTE, REP_ID_CLAIM } from '../../shared/http/auth';
import { WEBHOOK_REGISTRY } from '../../shared/webhooks';
import {
  type CfnResource,
  findCycle,
  resourcesOfType,
  type SynthesizedClient,
  stateMachineDefinition,
  synthClient,
} from './helpers';

/** The environment contract: exactly these variables per function (see infra/CONTRACTS.md). */
const BASE_ENV = [
  'CLIENT_NAME',
  'POWERTOOLS_LOG_LEVEL',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_SERVICE_NAME',
];
/**
 * The integrations the webhooks function must read: those holding the secret key of each
 * provider in the webhook registry. Derived from the two registries, so a new provider needs no
 * edit here, and the checks below fail if the stack's secrets or grants stop following them.
 */
const WEBHOOK_INTEGRATIONS = [
  ...new Set(
    WEBHOOK_REGISTRY.map((adapter) => {
      const name = INTEGRATION_NAMES.find((n) => adapter.secret in INTEGRATION_SECRETS[n].keys);
      if (!name) throw new Error(`No integration secret holds ${adapter.secret} (${adapter.provider})`);
      return name;
    }),
  ),
];
const WEBHOOK_SECRETS = WEBHOOK_INTEGRATIONS.map(integrationSecretEnv);
const FUNCTION_ENV: Record<string, string[]> = {
  capture: ['TABLE_NAME', 'EVENT_BUS_NAME', 'SIGNING_SECRET_ARN', 'API_URL'],
  webhooks: ['TABLE_NAME', 'EVENT_BUS_NAME', ...WEBHOOK_SECRETS],
  track: ['TABLE_NAME', 'EVENT_BUS_NAME', 'SIGNING_SECRET_ARN', 'API_URL'],
  unsubscribe: ['TABLE_NAME', 'EVENT_BUS_NAME', 'SIGNING_SECRET_ARN', 'API_URL'],
  enrich: ['TABLE_NAME', 'EVENT_BUS_NAME', 'ENRICHMENT_SECRET_ARN'],
  score: ['TABLE_NAME', 'EVENT_BUS_NAME'],
  route: ['TABLE_NAME', 'EVENT_BUS_NAME'],
  alert: ['TABLE_NAME', 'ALERT_TOPIC_ARN', 'SLACK_SECRET_ARN', 'CONSOLE_URL'],
  'slack-actions': ['TABLE_NAME', 'EVENT_BUS_NAME', 'SLA_SCHEDULE_GROUP', 'SLACK_INTERACTIVITY_SECRET_ARN'],
  sla: ['TABLE_NAME', 'EVENT_BUS_NAME'],
  nurture: ['TABLE_NAME', 'EVENT_BUS_NAME', 'SIGNING_SECRET_ARN', 'CONFIGURATION_SET_NAME', 'API_URL'],
  'auto-respond': ['TABLE_NAME', 'SIGNING_SECRET_ARN', 'CONFIGURATION_SET_NAME', 'API_URL'],
  'sla-start': ['SLA_SCHEDULE_GROUP', 'SLA_SCHEDULER_ROLE_ARN', 'SLA_SCHEDULE_DLQ_ARN'],
  'ses-events': ['TABLE_NAME', 'EVENT_BUS_NAME'],
  'leads-api': ['TABLE_NAME', 'EVENT_BUS_NAME', 'SLA_SCHEDULE_GROUP'],
  'reports-api': ['TABLE_NAME'],
  'stale-deals': ['TABLE_NAME', 'EVENT_BUS_NAME'],
  erase: ['TABLE_NAME'],
  'next-step': ['TABLE_NAME', 'SIGNING_SECRET_ARN', 'API_URL'],
  meetings: ['TABLE_NAME', 'EVENT_BUS_NAME', 'SLA_SCHEDULE_GROUP'],
  'follow-up': ['TABLE_NAME'],
  // Only with `sms.enabled`: the origination identity is in the baked-in client file.
  sms: ['TABLE_NAME'],
  // Only with `nurture.triggers`.
  'nurture-trigger': ['TABLE_NAME', 'NURTURE_STATE_MACHINE_ARN'],
  relay: ['TABLE_NAME', 'EVENT_BUS_NAME'],
  // Reads Meta and LinkedIn leads stored pending again.
  'pending-leads': ['TABLE_NAME', 'EVENT_BUS_NAME', 'META_SECRET_ARN', 'LINKEDIN_SECRET_ARN'],
};

/** Integration secrets (data stack logical id) and the keys each one holds, from the registry. */
const SECRETS: Record<string, string[]> = Object.fromEntries(
  INTEGRATION_NAMES.map((name) => [
    integrationSecretLogicalId(name),
    Object.keys(INTEGRATION_SECRETS[name].keys),
  ]),
);
/** Which secrets each function may read; every other function reads none. */
const SECRET_READERS: Record<string, string[]> = {
  capture: ['SigningSecret'],
  track: ['SigningSecret'],
  unsubscribe: ['SigningSecret'],
  nurture: ['SigningSecret'],
  'auto-respond': ['SigningSecret'],
  'next-step': ['SigningSecret'],
  webhooks: WEBHOOK_INTEGRATIONS.map(integrationSecretLogicalId),
  alert: ['SlackSecret'],
  enrich: ['EnrichmentSecret'],
  'slack-actions': ['SlackInteractivitySecret'],
  'pending-leads': ['MetaSecret', 'LinkedinSecret'],
};

const PUBLIC_ROUTES = [
  'POST /leads',
  'POST /events',
  'GET /t.js',
  'POST /webhooks/{provider}',
  'GET /webhooks/{provider}',
  'GET /unsubscribe',
  'POST /unsubscribe',
  'GET /next/{token}',
  'POST /slack/actions',
];
const JWT_ROUTES = [
  'GET /me',
  'GET /leads',
  'GET /leads/{id}',
  'POST /leads/{id}/contacted',
  'PATCH /leads/{id}',
  'POST /leads/{id}/reassign',
  'POST /leads/{id}/notes',
  'POST /leads/{id}/tasks',
  'PATCH /leads/{id}/tasks/{taskId}',
  'POST /leads/{id}/details/{activityId}/accept',
  'GET /reports/{report}',
  'GET /admin/people/{email}',
  'DELETE /admin/people/{email}',
  'POST /admin/imports',
  'GET /admin/erasures/{id}',
];

type Statement = {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
/** The pipeline's own functions: without CDK's deploy-time upload of the console (BucketDeployment). */
function pipelineFunctions(s: SynthesizedClient): [string, CfnResource][] {
  return resourcesOfType(s.pipelineJson, 'AWS::Lambda::Function').filter(
    ([id]) => !id.startsWith('CustomCDKBucketDeployment'),
  );
}

/** Function logical id → `POWERTOOLS_SERVICE_NAME`, i.e. its folder under functions/. */
function functionsByName(s: SynthesizedClient): Map<string, [string, CfnResource]> {
  return new Map(
    pipelineFunctions(s).map(([id, r]) => {
      const env = (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      return [env.POWERTOOLS_SERVICE_NAME as string, [id, r]];
    }),
  );
}

/** The event-pattern rule (or, with `scheduled`, the schedule rule) targeting `logicalId`. */
/** The functions a client's stack has: `enrich` only when a third-party provider is configured. */
function expectedFunctions(s: SynthesizedClient): string[] {
  return Object.keys(FUNCTION_ENV).filter(
    (name) => name !== 'enrich' || s.config.enrichment.provider?.enabled === true,
  );
}

function ruleTargeting(s: SynthesizedClient, logicalId: string, { scheduled = false } = {}): CfnResource {
  const rules = resourcesOfType(s.pipelineJson, 'AWS::Events::Rule').filter(
    ([, r]) =>
      JSON.stringify(r.Properties.Targets).includes(`"${logicalId}"`) &&
      Boolean(r.Properties.ScheduleExpression) === scheduled,
  );
  expect(rules, `one ${scheduled ? 'schedule' : 'pattern'} rule targets ${logicalId}`).toHaveLength(1);
  return (rules[0] as [string, CfnResource])[1];
}

const clients = listClients();

describe.each(clients)('client %s', (clientName) => {
  let s: SynthesizedClient;
  beforeAll(() => {
    s = synthClient(clientName);
  });
  /** The functions this client has (`sms` only with `sms.enabled`). */
  const functionNames = () =>
    Object.keys(FUNCTION_ENV).filter(
      (n) =>
        (n !== 'sms' || s.config.sms.enabled) &&
        (n !== 'nurture-trigger' || s.config.nurture.triggers.length > 0) &&
        (n !== 'enrich' || s.config.enrichment.provider?.enabled === true),
    );
  const smsOn = () => (s.config.sms.enabled ? 1 : 0);
  const triggersOn = () => (s.config.nurture.triggers.length > 0 ? 1 : 0);

  describe('stacks', () => {
    it('are named after the client, in the configured region, tagged for cost allocation', () => {
      const names = stackNames(clientName);
      expect(s.stacks.data.stackName).toBe(names.data);
      expect(s.stacks.pipeline.stackName).toBe(names.pipeline);
      expect(names.data).toBe(`LeadPipeline-${clientName}-Data`);
      for (const stack of [s.stacks.data, s.stacks.pipeline]) {
        expect(stack.region).toBe(s.config.stack.region);
        expect(stack.tags.tagValues()).toEqual({ client: clientName, app: APP_TAG });
      }
      expect(s.stacks.data.terminationProtection).toBe(s.config.stack.terminationProtection);
      expect(s.stacks.pipeline.dependencies).toContain(s.stacks.data);
    });

    it('tags every taggable resource with client and app', () => {
      for (const template of [s.dataJson, s.pipelineJson]) {
        for (const [id, r] of Object.entries(template.Resources)) {
          const tags = r.Properties.Tags;
          if (!Array.isArray(tags)) continue;
          expect(tags, id).toEqual(
            expect.arrayContaining([
              { Key: 'client', Value: clientName },
              { Key: 'app', Value: APP_TAG },
            ]),
          );
        }
      }
      const fn = resourcesOfType(s.pipelineJson, 'AWS::Lambda::Function')[0]?.[1];
      expect(fn?.Properties.Tags).toEqual(expect.arrayContaining([{ Key: 'client', Value: clientName }]));
    });

    it('set no fixed physical names', () => {
      const nameKeys = [
        'FunctionName',
        'TableName',
        'QueueName',
        'TopicName',
        'RoleName',
        'LogGroupName',
        'StateMachineName',
        'DashboardName',
        'AlarmName',
        'UserPoolName',
        'ClientName',
        'ArchiveName',
        'RuleName',
      ];
      // Names that are not unique physical ids: API display names, group names the API checks.
      const allowedName = new Set([
        'AWS::ApiGatewayV2::Api',
        'AWS::ApiGatewayV2::Authorizer',
        'AWS::Events::EventBus',
        'AWS::Cognito::UserPoolGroup',
      ]);
      for (const template of [s.dataJson, s.pipelineJson]) {
        for (const [id, r] of Object.entries(template.Resources)) {
          // A reference to another resource's name is fine; a literal string is a fixed name.
          for (const key of nameKeys) expect(typeof r.Properties[key], `${id}.${key}`).not.toBe('string');
          if (!allowedName.has(r.Type) && r.Type !== 'AWS::Events::Rule') {
            expect(typeof r.Properties.Name, `${id}.Name`).not.toBe('string');
          }
        }
      }
      s.pipeline.hasResourceProperties('AWS::ApiGatewayV2::Api', { Name: `LeadPipeline-${clientName}` });
      // The bus name CDK generates is unique per client stack.
      const [, bus] = resourcesOfType(s.pipelineJson, 'AWS::Events::EventBus')[0] as [string, CfnResource];
      expect(bus.Properties.Name).toContain(clientName);
    });

    it('have no dependency cycle', () => {
      expect(findCycle(s.dataJson)).toBeUndefined();
      expect(findCycle(s.pipelineJson)).toBeUndefined();
    });

    it('pass cdk-nag (AwsSolutions + Serverless) with no unacknowledged finding', () => {
      // app.synth() throws on nag errors; warnings would still be listed in the report.
      const report = JSON.parse(readFileSync(join(s.outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: { pluginName: string; violations: unknown[] }[];
      };
      const violations = report.pluginReports.flatMap((p) =>
        p.violations.map((v) => `${p.pluginName}: ${JSON.stringify(v).slice(0, 300)}`),
      );
      expect(violations).toEqual([]);
    });

    it('acknowledge every nag finding with a reason sentence', () => {
      const metadata = [s.stacks.data, s.stacks.pipeline].flatMap((stack) =>
        Object.values(
          JSON.parse(readFileSync(join(s.outdir, `${stack.stackName}.metadata.json`), 'utf8')) as Record<
            string,
            { type: string; data: unknown }[]
          >,
        ).flat(),
      );
      const acks = metadata
        .filter((m) => m.type === 'aws:cdk:acknowledged-rules')
        .flatMap((m) => Object.entries(m.data as Record<string, string>));
      expect(acks.length).toBeGreaterThan(0);
      for (const [id, reason] of acks) {
        expect(id).toMatch(/^Annotation::(AwsSolutions|Serverless)-/);
        expect(reason, id).toMatch(/^[A-Z0-9"].{20,}\.$/);
      }
      // No blanket IAM5 acknowledgement: every one names its finding.
      expect(acks.filter(([id]) => id.endsWith('AwsSolutions-IAM5'))).toEqual([]);
    });
  });

  describe('data stack', () => {
    it('pins the logical ids of stateful resources and retains them', () => {
      const expected: Record<string, string> = {
        [DATA_LOGICAL_IDS.table]: 'AWS::DynamoDB::Table',
        [DATA_LOGICAL_IDS.userPool]: 'AWS::Cognito::UserPool',
        [DATA_LOGICAL_IDS.userPoolClient]: 'AWS::Cognito::UserPoolClient',
        [DATA_LOGICAL_IDS.repGroup]: 'AWS::Cognito::UserPoolGroup',
        [DATA_LOGICAL_IDS.managerGroup]: 'AWS::Cognito::UserPoolGroup',
        [DATA_LOGICAL_IDS.adminGroup]: 'AWS::Cognito::UserPoolGroup',
        [DATA_LOGICAL_IDS.emailIdentity]: 'AWS::SES::EmailIdentity',
      };
      expect(DATA_LOGICAL_IDS).toEqual({
        table: 'LeadsTable',
        userPool: 'RepsUserPool',
        userPoolClient: 'RepsUiClient',
        repGroup: 'RepGroup',
        managerGroup: 'ManagerGroup',
        adminGroup: 'AdminGroup',
        emailIdentity: 'EmailIdentity',
      });
      for (const [id, type] of Object.entries(expected)) {
        const r = s.dataJson.Resources[id];
        expect(r?.Type, id).toBe(type);
      }
      for (const id of [
        DATA_LOGICAL_IDS.table,
        DATA_LOGICAL_IDS.userPool,
        ...Object.keys(SECRETS),
        DATA_LOGICAL_IDS.emailIdentity,
      ]) {
        expect(s.dataJson.Resources[id]?.DeletionPolicy, id).toBe('Retain');
        expect(s.dataJson.Resources[id]?.UpdateReplacePolicy, id).toBe('Retain');
      }
    });

    it('builds the table from table-design.ts: keys, GSIs, TTL, on-demand, PITR, SSE', () => {
      const attributeNames = [
        TABLE_KEYS.partitionKey,
        TABLE_KEYS.sortKey,
        ...Object.values(INDEXES).flatMap((i) => [i.partitionKey, i.sortKey]),
      ];
      s.data.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith(
          attributeNames.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        ),
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true }, // AWS-managed KMS key (aws/dynamodb)
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        DeletionProtectionEnabled: true,
        StreamSpecification: Match.absent(),
      });
      const table = s.dataJson.Resources[DATA_LOGICAL_IDS.table];
      const gsis = table?.Properties.GlobalSecondaryIndexes as {
        IndexName: string;
        KeySchema: { AttributeName: string; KeyType: string }[];
        Projection: { ProjectionType: string };
      }[];
      expect(Object.fromEntries(gsis.map((g) => [g.IndexName, g.KeySchema]))).toEqual(
        Object.fromEntries(
          Object.entries(INDEXES).map(([name, i]) => [
            name,
            [
              { AttributeName: i.partitionKey, KeyType: 'HASH' },
              { AttributeName: i.sortKey, KeyType: 'RANGE' },
            ],
          ]),
        ),
      );
      expect(gsis.every((g) => g.Projection.ProjectionType === 'KEYS_ONLY')).toBe(true);
    });

    it('has a closed user pool: no self sign-up, strong passwords, MFA, threat protection', () => {
      s.data.hasResourceProperties('AWS::Cognito::UserPool', {
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        Policies: {
          PasswordPolicy: Match.objectLike({
            MinimumLength: 14,
            RequireLowercase: true,
            RequireUppercase: true,
            RequireNumbers: true,
            RequireSymbols: true,
          }),
        },
        MfaConfiguration: 'ON',
        EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
        UserPoolTier: 'PLUS',
        UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
        DeletionProtection: 'ACTIVE',
      });
      const groups = resourcesOfType(s.dataJson, 'AWS::Cognito::UserPoolGroup').map(
        ([, g]) => g.Properties.GroupName,
      );
      expect(groups.sort()).toEqual([...USER_GROUPS].sort());
      s.data.hasResourceProperties('AWS::Cognito::UserPoolClient', {
        GenerateSecret: false,
        ExplicitAuthFlows: Match.arrayWith(['ALLOW_USER_SRP_AUTH']),
        PreventUserExistenceErrors: 'ENABLED',
      });
    });

    it("keeps identity out of the users' hands: original email until verified, rep id admin-written", () => {
      s.data.hasResourceProperties('AWS::Cognito::UserPool', {
        UserAttributeUpdateSettings: { AttributesRequireVerificationBeforeUpdate: ['email'] },
        Schema: Match.arrayWith([Match.objectLike({ Name: REP_ID_ATTRIBUTE, Mutable: true })]),
      });
      const [, client] = resourcesOfType(s.dataJson, 'AWS::Cognito::UserPoolClient')[0] as [
        string,
        CfnResource,
      ];
      const writable = client.Properties.WriteAttributes as string[];
      expect(writable.length).toBeGreaterThan(0);
      expect(writable).not.toContain('email');
      expect(writable).not.toContain(REP_ID_CLAIM);
    });

    it('creates the SES identity from email.identity', () => {
      s.data.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: s.config.email.identity });
    });

    it('keeps one retained secret per integration with exactly its keys, the signing key generated', () => {
      const secrets = resourcesOfType(s.dataJson, 'AWS::SecretsManager::Secret');
      expect(secrets.map(([id]) => id).sort()).toEqual(Object.keys(SECRETS).sort());
      for (const [id, secret] of secrets) {
        const generate = secret.Properties.GenerateSecretString as
          | { SecretStringTemplate: string; GenerateStringKey: string; PasswordLength: number }
          | undefined;
        const keys = generate
          ? [...Object.keys(JSON.parse(generate.SecretStringTemplate)), generate.GenerateStringKey]
          : Object.keys(JSON.parse(secret.Properties.SecretString as string));
        expect(keys.sort(), id).toEqual([...(SECRETS[id] ?? [])].sort());
        if (id === 'SigningSecret') {
          expect(generate?.GenerateStringKey).toBe('signingKey');
          expect(generate?.PasswordLength).toBeGreaterThanOrEqual(64);
        } else {
          // Operator-filled: the template holds empty placeholders only, never a credential.
          expect(Object.values(JSON.parse(secret.Properties.SecretString as string))).toEqual(
            keys.map(() => ''),
          );
        }
      }
    });
  });

  describe('HTTP API', () => {
    it('has exactly the public and JWT-authorized routes', () => {
      const routes = resourcesOfType(s.pipelineJson, 'AWS::ApiGatewayV2::Route').map(([, r]) => ({
        key: r.Properties.RouteKey as string,
        auth: r.Properties.AuthorizationType as string,
        authorizer: r.Properties.AuthorizerId,
      }));
      expect(routes.map((r) => r.key).sort()).toEqual([...PUBLIC_ROUTES, ...JWT_ROUTES].sort());
      for (const r of routes) {
        if (PUBLIC_ROUTES.includes(r.key)) {
          expect(r.auth, r.key).toBe('NONE');
          expect(r.authorizer, r.key).toBeUndefined();
        } else {
          expect(r.auth, r.key).toBe('JWT');
          expect(r.authorizer, r.key).toEqual({ Ref: expect.stringMatching(/RepsAuthorizer/) });
        }
      }
      s.pipeline.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: {
          // The reps' app client and the console's (managed login).
          Audience: [
            { 'Fn::ImportValue': Match.stringLikeRegexp('RepsUiClient') },
            { Ref: Match.stringLikeRegexp('ConsoleClient') },
          ],
          Issuer: Match.anyValue(),
        },
      });
    });

    it('sends each route to the right function', () => {
      const fnByLogicalId = new Map(
        [...functionsByName(s).entries()].map(([name, [id]]) => [id, name] as const),
      );
      const integrationFn = new Map(
        resourcesOfType(s.pipelineJson, 'AWS::ApiGatewayV2::Integration').map(([id, r]) => {
          const uri = r.Properties.IntegrationUri as { 'Fn::GetAtt': [string, string] };
          return [id, fnByLogicalId.get(uri['Fn::GetAtt'][0])];
        }),
      );
      const target = Object.fromEntries(
        resourcesOfType(s.pipelineJson, 'AWS::ApiGatewayV2::Route').map(([, r]) => {
          const t = r.Properties.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
          return [r.Properties.RouteKey as string, integrationFn.get(t['Fn::Join'][1][1].Ref)];
        }),
      );
      expect(target).toEqual({
        'POST /leads': 'capture',
        'POST /events': 'track',
        'GET /t.js': 'track',
        'POST /webhooks/{provider}': 'webhooks',
        'GET /webhooks/{provider}': 'webhooks',
        'GET /unsubscribe': 'unsubscribe',
        'POST /unsubscribe': 'unsubscribe',
        'GET /next/{token}': 'next-step',
        'POST /slack/actions': 'slack-actions',
        'GET /reports/{report}': 'reports-api',
        ...Object.fromEntries(
          JWT_ROUTES.filter((r) => !r.includes('/reports/')).map((r) => [r, 'leads-api']),
        ),
      });
    });

    it('allows CORS from capture.allowedOrigins and the console only', () => {
      s.pipeline.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'HTTP',
        CorsConfiguration: Match.objectLike({
          AllowOrigins: [
            ...s.config.capture.allowedOrigins,
            {
              'Fn::Join': [
                '',
                ['https://', { 'Fn::GetAtt': [Match.stringLikeRegexp('ConsoleCdn'), 'DomainName'] }],
              ],
            },
          ],
          AllowMethods: Match.arrayWith(['GET', 'POST', 'PATCH', 'DELETE']),
          AllowHeaders: Match.arrayWith(['authorization', 'content-type']),
        }),
      });
    });

    it('throttles each route on its own and writes JSON access logs to a retained log group', () => {
      const stages = resourcesOfType(s.pipelineJson, 'AWS::ApiGatewayV2::Stage');
      expect(stages).toHaveLength(1);
      const stage = (stages[0] as [string, CfnResource])[1].Properties as {
        StageName: string;
        AutoDeploy: boolean;
        DefaultRouteSettings: { ThrottlingRateLimit: number; ThrottlingBurstLimit: number };
        AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [string, string] }; Format: string };
      };
      expect(stage.StageName).toBe('$default');
      expect(stage.AutoDeploy).toBe(true);
      expect(stage.DefaultRouteSettings).toEqual({
        ThrottlingRateLimit: s.config.stack.throttling.rateLimit,
        ThrottlingBurstLimit: s.config.stack.throttling.burstLimit,
      });
      // Every route has its own bucket; a group's override applies to each of its routes.
      const routeSettings = (stages[0] as [string, CfnResource])[1].Properties.RouteSettings as Record<
        string,
        { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }
      >;
      expect(Object.keys(routeSettings).sort()).toEqual([...PUBLIC_ROUTES, ...JWT_ROUTES].sort());
      const overrides = s.config.stack.throttling.routes;
      const limitsOf = (group: keyof typeof overrides) => {
        const l = overrides[group] ?? s.config.stack.throttling;
        return { ThrottlingRateLimit: l.rateLimit, ThrottlingBurstLimit: l.burstLimit };
      };
      expect(routeSettings['POST /events']).toEqual(limitsOf('tracking'));
      expect(routeSettings['POST /leads']).toEqual(limitsOf('capture'));
      expect(routeSettings['POST /webhooks/{provider}']).toEqual(limitsOf('webhooks'));
      expect(routeSettings['GET /leads']).toEqual(limitsOf('reps'));
      expect(routeSettings['GET /reports/{report}']).toEqual(limitsOf('reports'));
      expect(routeSettings['GET /next/{token}']).toEqual(limitsOf('booking'));
      if (clientName === 'example') {
        expect(routeSettings['POST /events']).toEqual({ ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 });
        expect(routeSettings['GET /leads']).toEqual({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
      }
      const format = JSON.parse(stage.AccessLogSettings.Format) as Record<string, string>;
      expect(format.requestId).toBe('$context.requestId');
      const logGroup = s.pipelineJson.Resources[stage.AccessLogSettings.DestinationArn['Fn::GetAtt'][0]];
      expect(logGroup?.Properties.RetentionInDays).toBe(s.config.stack.logRetentionDays);
    });
  });

  describe('events', () => {
    it('has a custom bus with an archive of every pipeline event', () => {
      s.pipeline.resourceCountIs('AWS::Events::EventBus', 1);
      s.pipeline.hasResourceProperties('AWS::Events::Archive', {
        SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Bus'), 'Arn'] },
        EventPattern: { source: [EVENT_SOURCE] },
        RetentionDays: s.config.stack.eventArchiveDays,
      });
    });

    it('has one rule per consumer with an explicit pattern', () => {
      const fns = functionsByName(s);
      const fnId = (name: string) => (fns.get(name) as [string, CfnResource])[0];
      const pattern = (r: CfnResource) => r.Properties.EventPattern;
      const onPipelineBus = (r: CfnResource) =>
        expect(r.Properties.EventBusName).toEqual({ Ref: expect.stringMatching(/^Bus/) });

      const providerEnabled = s.config.enrichment.provider?.enabled === true;
      const expectations: Record<string, unknown> = {
        ...(providerEnabled
          ? {
              enrich: {
                source: [EVENT_SOURCE],
                'detail-type': ['Lead Captured'],
                detail: { pending: [false] },
              },
            }
          : {}),
        route: { source: [EVENT_SOURCE], 'detail-type': ['Lead Scored'], detail: { routable: [true] } },
        alert: {
          source: [EVENT_SOURCE],
          'detail-type': [
            'Lead Assigned',
            'Lead Escalated',
            'Lead Unworked',
            'Stale Deal Found',
            'Tasks Overdue',
          ],
          detail: { isTest: [false] },
        },
        'auto-respond': {
          source: [EVENT_SOURCE],
          'detail-type': ['Lead Captured'],
          detail: { isTest: [false], pending: [false] },
        },
        erase: { source: [EVENT_SOURCE], 'detail-type': ['Erasure Requested'] },
        meetings: {
          source: [EVENT_SOURCE],
          'detail-type': ['Activity Recorded'],
          detail: { type: ['meeting_booked', 'note'] },
        },
        'follow-up': {
          source: [EVENT_SOURCE],
          'detail-type': ['Lead Assigned', 'Lead Contacted', 'Lead Stage Changed'],
          detail: { isTest: [false] },
        },
      };
      for (const [name, expected] of Object.entries(expectations)) {
        const rule = ruleTargeting(s, fnId(name));
        expect(pattern(rule), name).toEqual(expected);
        onPipelineBus(rule);
      }
      // Built-in enrichment runs at intake: captured leads go straight to scoring, and the
      // enrich function exists only to ask a configured third-party provider.
      expect(fns.has('enrich'), 'enrich function').toBe(providerEnabled);
      const scoreRules = resourcesOfType(s.pipelineJson, 'AWS::Events::Rule')
        .filter(([, r]) => JSON.stringify(r.Properties.Targets).includes(`"${fnId('score')}"`))
        .map(([, r]) => pattern(r));
      expect(scoreRules).toEqual(
        expect.arrayContaining([
          { source: [EVENT_SOURCE], 'detail-type': ['Lead Captured'], detail: { pending: [false] } },
          { source: [EVENT_SOURCE], 'detail-type': ['Lead Enriched', 'Activity Recorded'] },
        ]),
      );
      expect(scoreRules).toHaveLength(2);

      const machines = resourcesOfType(s.pipelineJson, 'AWS::StepFunctions::StateMachine');
      const machineId = (prefix: string) =>
        (machines.find(([id]) => id.startsWith(prefix)) as [string, CfnResource])[0];
      // The SLA ladder starts as rung 0 of its EXPRESS workflow, which schedules rung 1 by name.
      const slaStart = ruleTargeting(s, machineId('SlaWorkflow'));
      expect(pattern(slaStart)).toEqual({
        source: [EVENT_SOURCE],
        'detail-type': ['Lead Assigned'],
        detail: { via: [{ 'anything-but': ['escalation'] }], isTest: [false] },
      });
      onPipelineBus(slaStart);
      const [slaTarget] = slaStart.Properties.Targets as { InputTransformer: { InputTemplate: string } }[];
      expect(slaTarget?.InputTransformer.InputTemplate).toBe('{"rung":0,"assignment":<detail>}');
      expect(() => ruleTargeting(s, fnId('sla-start'))).toThrow();
      const nurture = ruleTargeting(s, machineId('NurtureWorkflow'));
      expect(pattern(nurture)).toEqual({ source: [EVENT_SOURCE], 'detail-type': ['Lead Nurtured'] });
      onPipelineBus(nurture);
      const [target] = nurture.Properties.Targets as { InputPath: string }[];
      expect(target?.InputPath).toBe('$.detail');

      // SES can only publish to the default bus: that rule lives there, filtered to our set.
      const ses = ruleTargeting(s, fnId('ses-events'));
      expect(ses.Properties.EventBusName).toBe('default');
      expect(pattern(ses)).toEqual({
        source: ['aws.ses'],
        'detail-type': [...SES_DETAIL_TYPES],
        detail: {
          mail: { tags: { 'ses:configuration-set': [{ Ref: expect.stringMatching(/^Email/) }] } },
        },
      });

      const stale = ruleTargeting(s, fnId('stale-deals'), { scheduled: true });
      expect(stale.Properties.ScheduleExpression).toBe(
        `cron(${STALE_DEALS_SCHEDULE.minute} ${STALE_DEALS_SCHEDULE.hour} * * ? *)`,
      );
      // Held leads are released by a schedule on the route function, next to its event rule.
      const routeRules = resourcesOfType(s.pipelineJson, 'AWS::Events::Rule').filter(([, r]) =>
        JSON.stringify(r.Properties.Targets).includes(`"${fnId('route')}"`),
      );
      expect(routeRules.map(([, r]) => r.Properties.ScheduleExpression ?? 'pattern').sort()).toEqual([
        'pattern',
        `rate(${HELD_LEADS_SWEEP.toMinutes()} minutes)`,
      ]);
      // The relay publishes outbox leftovers on a schedule.
      const relay = ruleTargeting(s, fnId('relay'), { scheduled: true });
      expect(relay.Properties.ScheduleExpression).toBe(`rate(${OUTBOX_RELAY_SWEEP.toMinutes()} minute)`);
      // Leads stored pending are read again on a schedule too.
      const pendingLeads = ruleTargeting(s, fnId('pending-leads'), { scheduled: true });
      expect(pendingLeads.Properties.ScheduleExpression).toBe(
        `rate(${PENDING_LEADS_SWEEP.toMinutes()} minutes)`,
      );
      if (triggersOn()) {
        const trigger = ruleTargeting(s, fnId('nurture-trigger'));
        expect(pattern(trigger)).toEqual({
          source: [EVENT_SOURCE],
          'detail-type': ['Activity Recorded'],
          detail: { type: ['page_view'], isTest: [false] },
        });
      }
      // One rule per consumer row of this client, and no other (the rows are pinned one by one
      // above); the client file turns the optional rows on and off.
      s.pipeline.resourceCountIs('AWS::Events::Rule', s.stacks.pipeline.consumers.length);
      const rows = new Set(s.stacks.pipeline.consumers.map((row) => row.consumer));
      expect(rows.has('enrich')).toBe(providerEnabled);
      expect(rows.has('sms-reminder')).toBe(smsOn() === 1);
      expect(rows.has('nurture-trigger')).toBe(triggersOn() === 1);
    });

    it('gives every rule target a retry policy and its own encrypted, TLS-only DLQ', () => {
      const dlqs = new Set<string>();
      for (const [id, rule] of resourcesOfType(s.pipelineJson, 'AWS::Events::Rule')) {
        const targets = rule.Properties.Targets as {
          DeadLetterConfig?: { Arn: { 'Fn::GetAtt': [string, string] } };
          RetryPolicy?: unknown;
        }[];
        expect(targets, id).toHaveLength(1);
        for (const t of targets) {
          expect(t.RetryPolicy, id).toEqual({
            MaximumEventAgeInSeconds: TARGET_RETRY.maxEventAge.toSeconds(),
            MaximumRetryAttempts: TARGET_RETRY.retryAttempts,
          });
          const queueId = t.DeadLetterConfig?.Arn['Fn::GetAtt'][0] as string;
          expect(s.pipelineJson.Resources[queueId]?.Type, id).toBe('AWS::SQS::Queue');
          expect(dlqs.has(queueId), `${id} shares a DLQ`).toBe(false);
          dlqs.add(queueId);
        }
      }
      for (const [id, q] of resourcesOfType(s.pipelineJson, 'AWS::SQS::Queue')) {
        expect(q.Properties.SqsManagedSseEnabled, id).toBe(true);
        const policy = resourcesOfType(s.pipelineJson, 'AWS::SQS::QueuePolicy').find(([, p]) =>
          JSON.stringify(p.Properties.Queues).includes(`"${id}"`),
        );
        expect(JSON.stringify(policy?.[1].Properties.PolicyDocument), id).toContain(
          '"aws:SecureTransport":"false"',
        );
      }
    });

    it('sends every SES sending event of the configuration set to the default bus', () => {
      s.pipeline.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
        EventDestination: {
          Enabled: true,
          MatchingEventTypes: ['send', 'delivery', 'open', 'click', 'bounce', 'complaint', 'reject'],
          EventBridgeDestination: {
            EventBusArn: {
              'Fn::Join': ['', Match.arrayWith([':event-bus/default'])],
            },
          },
        },
      });
    });
  });

  describe('functions', () => {
    it('are Node 22 on arm64 with active tracing, ESM bundles and retained logs', () => {
      const fns = pipelineFunctions(s);
      expect(fns).toHaveLength(functionNames().length);
      for (const [id, fn] of fns) {
        const p = fn.Properties as Record<string, unknown>;
        expect(p.Runtime, id).toBe('nodejs22.x');
        expect(p.Architectures, id).toEqual(['arm64']);
        expect(p.TracingConfig, id).toEqual({ Mode: 'Active' });
        expect(p.Handler, id).toBe('index.handler');
        expect(p.ReservedConcurrentExecutions, id).toBeUndefined();
        expect(typeof p.MemorySize, id).toBe('number');
        const logGroupId = (p.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
        expect(s.pipelineJson.Resources[logGroupId]?.Properties.RetentionInDays, id).toBe(
          s.config.stack.logRetentionDays,
        );
      }
    });

    it('get exactly the environment variables of the contract', () => {
      const fns = functionsByName(s);
      expect([...fns.keys()].sort()).toEqual(functionNames().sort());
      for (const [name, [, fn]] of fns) {
        const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
        expect(Object.keys(env).sort(), name).toEqual([...BASE_ENV, ...(FUNCTION_ENV[name] ?? [])].sort());
        expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe('LeadPipeline');
        // Source maps ship in the asset but are not loaded unless the client file asks.
        expect(env.NODE_OPTIONS).toBeUndefined();
        expect(env.CLIENT_NAME).toBe(clientName);
      }
    });

    it('take failed asynchronous invocations to their DLQ, and only the async ones', () => {
      // The functions the consumer rows declare, and the SMS channel's (SNS invokes it).
      const asyncFns = [
        ...s.stacks.pipeline.consumers.filter((row) => row.access).map((row) => row.consumer),
        'sms',
      ];
      expect(asyncFns).toEqual(expect.arrayContaining(['score', 'route', 'alert', 'relay', 'erase']));
      for (const [name, [, fn]] of functionsByName(s)) {
        const dlq = fn.Properties.DeadLetterConfig as { TargetArn: unknown } | undefined;
        if (asyncFns.includes(name)) expect(dlq?.TargetArn, name).toBeDefined();
        else expect(dlq, name).toBeUndefined();
      }
    });

    it('are bundled locally as minified ESM with source maps and the require shim', () => {
      for (const [id, fn] of pipelineFunctions(s)) {
        const key = (fn.Properties.Code as { S3Key: string }).S3Key;
        const dir = join(s.outdir, `asset.${key.replace(/\.zip$/, '')}`);
        const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
        expect(
          bundle.startsWith("import { createRequire as __leadPipelineCreateRequire } from 'node:module';"),
          id,
        ).toBe(true);
        expect(readFileSync(join(dir, 'index.mjs.map'), 'utf8'), id).toContain('"mappings"');
      }
    });
  });

  describe('IAM', () => {
    const policies = () =>
      [
        ...resourcesOfType(s.pipelineJson, 'AWS::IAM::Policy'),
        ...resourcesOfType(s.pipelineJson, 'AWS::IAM::Role'),
        ...resourcesOfType(s.dataJson, 'AWS::IAM::Policy'),
        ...resourcesOfType(s.dataJson, 'AWS::IAM::Role'),
      ].flatMap(([id, r]) => {
        const docs =
          r.Type === 'AWS::IAM::Policy'
            ? [r.Properties.PolicyDocument]
            : ((r.Properties.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map(
                (p) => p.PolicyDocument,
              );
        return docs.map(
          (d) => [id, d as { Statement: { Action: string | string[]; Resource: unknown }[] }] as const,
        );
      });

    it('has no wildcard actions and no managed policies', () => {
      const all = policies();
      expect(all.length).toBeGreaterThan(15);
      for (const [id, doc] of all) {
        for (const st of doc.Statement) {
          for (const action of [st.Action].flat()) {
            expect(action, id).not.toBe('*');
            expect(action, id).not.toMatch(/^[a-z0-9-]+:\*$/);
          }
        }
      }
      for (const [id, role] of resourcesOfType(s.pipelineJson, 'AWS::IAM::Role')) {
        // CDK's own deploy-time upload of the console (BucketDeployment) brings the basic
        // execution role; its findings are acknowledged one by one in ConsoleSite.
        if (id.startsWith('CustomCDKBucketDeployment')) continue;
        expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
      }
    });

    it('grants each function only what it uses', () => {
      const fns = functionsByName(s);
      const actionsOf = (name: string) => {
        const [, fn] = fns.get(name) as [string, CfnResource];
        const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
        const policy = resourcesOfType(s.pipelineJson, 'AWS::IAM::Policy').find(([, p]) =>
          JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`),
        );
        const doc = policy?.[1].Properties.PolicyDocument as { Statement: { Action: string | string[] }[] };
        return new Set(doc.Statement.flatMap((st) => [st.Action].flat()));
      };
      expect(actionsOf('reports-api').has('dynamodb:PutItem')).toBe(false);
      expect(actionsOf('reports-api').has('dynamodb:Query')).toBe(true);
      expect(actionsOf('reports-api').has('events:PutEvents')).toBe(false);
      expect(actionsOf('alert').has('sns:Publish')).toBe(true);
      // alert writes only its idempotency records (one Slack/SNS send per event).
      expect(actionsOf('alert').has('dynamodb:PutItem')).toBe(true);
      expect(actionsOf('alert').has('events:PutEvents')).toBe(false);
      expect(actionsOf('nurture').has('ses:SendEmail')).toBe(true);
      expect(actionsOf('capture').has('ses:SendEmail')).toBe(false);
      // Contact cancels the SLA ladder: its rung schedules are deleted by name.
      expect(actionsOf('leads-api').has('scheduler:DeleteSchedule')).toBe(true);
      expect(actionsOf('leads-api').has('scheduler:CreateSchedule')).toBe(false);
      expect(actionsOf('sla').has('scheduler:DeleteSchedule')).toBe(false);
      expect(actionsOf('sla-start').has('scheduler:CreateSchedule')).toBe(true);
      expect(actionsOf('sla-start').has('iam:PassRole')).toBe(true);
      expect(actionsOf('sla-start').has('states:StartExecution')).toBe(false);
      expect(actionsOf('sla-start').has('dynamodb:GetItem')).toBe(false);
      expect(actionsOf('auto-respond').has('events:PutEvents')).toBe(false);
      // A booking stops the SLA ladder as the console's "Contacted" does.
      expect(actionsOf('meetings').has('scheduler:DeleteSchedule')).toBe(true);
      expect(actionsOf('meetings').has('events:PutEvents')).toBe(true);
      expect(actionsOf('follow-up').has('events:PutEvents')).toBe(false);
      expect(actionsOf('follow-up').has('dynamodb:Scan')).toBe(false);
      if (triggersOn()) expect(actionsOf('nurture-trigger').has('states:StartExecution')).toBe(true);
      expect(actionsOf('nurture').has('states:StartExecution')).toBe(false);
    });

    it('lets next-step only read leads: GetItem on LEAD#* partitions, no write, no index, no bus', () => {
      const [, fn] = functionsByName(s).get('next-step') as [string, CfnResource];
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const statements = resourcesOfType(s.pipelineJson, 'AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
        .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
      const actions = statements.flatMap((st) => [st.Action].flat());
      expect(actions).toContain('dynamodb:GetItem');
      for (const write of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Scan'])
        expect(actions).not.toContain(write);
      expect(actions.some((a) => a.startsWith('events:') || a.startsWith('states:'))).toBe(false);
      for (const st of statements.filter((x) => [x.Action].flat().some((a) => a.startsWith('dynamodb:')))) {
        expect(JSON.stringify(st.Resource)).not.toContain('index');
        expect(st.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']).toEqual(['LEAD#*']);
      }
    });

    it('limits slack-actions to item operations on leads, rep counters and its replay log', () => {
      const [, fn] = functionsByName(s).get('slack-actions') as [string, CfnResource];
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const statements = resourcesOfType(s.pipelineJson, 'AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
        .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
      const dynamo = statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:')));
      expect(dynamo.length).toBeGreaterThan(0);
      for (const st of dynamo) {
        expect(JSON.stringify(st.Resource)).not.toContain('index');
        expect([st.Action].flat()).not.toContain('dynamodb:Scan');
        expect(st.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']).toEqual([
          'LEAD#*',
          'REP#*',
          'SLACKREQ#*',
        ]);
      }
      const actions = new Set(statements.flatMap((st) => [st.Action].flat()));
      expect(actions.has('scheduler:DeleteSchedule')).toBe(true);
      expect(actions.has('states:StartExecution')).toBe(false);
      expect(actions.has('events:PutEvents')).toBe(true);
    });

    it('limits follow-up to item operations in lead partitions (dynamodb:LeadingKeys)', () => {
      const [, fn] = functionsByName(s).get('follow-up') as [string, CfnResource];
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const dynamo = resourcesOfType(s.pipelineJson, 'AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
        .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
        .filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:')));
      expect(dynamo.length).toBeGreaterThan(0);
      for (const st of dynamo) {
        expect(JSON.stringify(st.Resource)).not.toContain('index');
        expect(st.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys']).toEqual(['LEAD#*']);
      }
    });

    it('limits the relay to the outbox, and pending-leads to markers, lead partitions and their pointers (dynamodb:LeadingKeys)', () => {
      const dynamoOf = (name: string) => {
        const [, fn] = functionsByName(s).get(name) as [string, CfnResource];
        const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
        return resourcesOfType(s.pipelineJson, 'AWS::IAM::Policy')
          .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
          .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
          .filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:')));
      };
      const expected: Record<string, string[]> = {
        relay: ['OUTBOX'],
        // Never the rep counters, cursors, suppression list or idempotency records.
        'pending-leads': ['PENDING', 'OUTBOX', 'LEAD#*', 'DEDUPE#*', 'EXT#*#*'],
      };
      for (const [name, leadingKeys] of Object.entries(expected)) {
        const dynamo = dynamoOf(name);
        expect(dynamo.length, name).toBeGreaterThan(0);
        for (const st of dynamo) {
          expect(JSON.stringify(st.Resource), name).not.toContain('index');
          expect([st.Action].flat(), name).not.toContain('dynamodb:Scan');
          expect(st.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'], name).toEqual(
            leadingKeys,
          );
        }
      }
    });

    it('limits alert to reading leads and writing its own idempotency records (dynamodb:LeadingKeys)', () => {
      const [, fn] = functionsByName(s).get('alert') as [string, CfnResource];
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const dynamo = resourcesOfType(s.pipelineJson, 'AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
        .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
        .filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:')));
      const leadingKeys = (st: Statement) =>
        (st.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? []) as string[];
      expect(dynamo.length).toBeGreaterThan(0);
      for (const st of dynamo) {
        // Base table only: no index, no Scan, and never without a partition condition.
        expect(JSON.stringify(st.Resource)).not.toContain('index');
        expect([st.Action].flat()).not.toContain('dynamodb:Scan');
        expect(leadingKeys(st).length, JSON.stringify(st.Action)).toBeGreaterThan(0);
      }
      const writes = dynamo.filter((st) => [st.Action].flat().includes('dynamodb:PutItem'));
      expect(writes.map(leadingKeys)).toEqual([['IDEMPOTENCY#alert']]);
      expect(writes.flatMap((st) => [st.Action].flat()).sort()).toEqual(
        ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'].sort(),
      );
      const reads = dynamo.filter((st) => [st.Action].flat().includes('dynamodb:GetItem'));
      expect(reads.map(leadingKeys)).toEqual([['LEAD#*', 'IDEMPOTENCY#alert']]);
    });

    it('lets each function read only the integration secrets it uses', () => {
      const fns = functionsByName(s);
      for (const [name, [, fn]] of fns) {
        const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
        const statements = resourcesOfType(s.pipelineJson, 'AWS::IAM::Policy')
          .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
          .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
          .filter((st) => [st.Action].flat().includes('secretsmanager:GetSecretValue'));
        const readable = statements
          .flatMap((st) => [st.Resource].flat())
          .map((r) => {
            const text = JSON.stringify(r);
            return Object.keys(SECRETS).find((id) => text.includes(`Ref${id}`)) ?? text;
          });
        expect(readable.sort(), name).toEqual([...(SECRET_READERS[name] ?? [])].sort());
      }
    });
  });

  describe('workflows', () => {
    const machines = () => resourcesOfType(s.pipelineJson, 'AWS::StepFunctions::StateMachine');

    it('are STANDARD (the SLA rung EXPRESS), JSONPath, logging errors only (the client file default) and X-Ray tracing', () => {
      expect(machines()).toHaveLength(2 + smsOn());
      for (const [id, m] of machines()) {
        const p = m.Properties as Record<string, unknown>;
        expect(p.StateMachineType, id).toBe(id.startsWith('SlaWorkflow') ? 'EXPRESS' : 'STANDARD');
        expect(p.TracingConfiguration, id).toEqual({ Enabled: true });
        const logging = p.LoggingConfiguration as {
          Level: string;
          IncludeExecutionData: boolean;
          Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [string, string] } } }[];
        };
        expect(logging.Level, id).toBe(s.config.observability.stateMachineLogLevel);
        expect(logging.Level, id).toBe('ERROR');
        expect(logging.IncludeExecutionData, id).toBe(false);
        const logGroup = logging.Destinations[0]?.CloudWatchLogsLogGroup.LogGroupArn[
          'Fn::GetAtt'
        ][0] as string;
        expect(s.pipelineJson.Resources[logGroup]?.Properties.RetentionInDays).toBe(
          s.config.stack.logRetentionDays,
        );
        const definition = stateMachineDefinition(s.pipelineJson, id);
        expect(definition.QueryLanguage, id).toBe('JSONPath');
        for (const [name, state] of Object.entries(definition.States)) {
          if (state.Type !== 'Task') continue;
          // payloadResponseOnly: the function ARN itself, not arn:aws:states:::lambda:invoke.
          expect(state.Resource, name).toMatch(/^arn:aws:lambda:/);
          expect(JSON.stringify(state.Retry), name).toContain('Lambda.ServiceException');
          expect(JSON.stringify(state.Retry), name).toMatch(/"(Sla|Nurture|Sms)RetryableError"/);
        }
      }
    });
  });

  describe('SLA ladder on EventBridge Scheduler', () => {
    it('has a schedule group without a fixed name and a role only Scheduler of this account assumes', () => {
      const groups = resourcesOfType(s.pipelineJson, 'AWS::Scheduler::ScheduleGroup');
      expect(groups).toHaveLength(1);
      expect(groups[0]?.[1].Properties?.Name).toBeUndefined();
      const roles = resourcesOfType(s.pipelineJson, 'AWS::IAM::Role').filter(([, r]) =>
        JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
      );
      expect(roles).toHaveLength(1);
      const [roleId, role] = roles[0] as [string, CfnResource];
      expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('aws:SourceAccount');
      const statements = resourcesOfType(s.pipelineJson, 'AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
        .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
      const actions = statements.flatMap((st) => [st.Action].flat()).sort();
      expect(actions).toEqual([
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
        'states:StartExecution',
      ]);
      const start = statements.find((st) => [st.Action].flat().includes('states:StartExecution'));
      expect(JSON.stringify(start?.Resource)).toContain('SlaWorkflowStateMachine');
    });

    it('lets sla-start create schedules only in that group, and pass only that role', () => {
      const [, fn] = functionsByName(s).get('sla-start') as [string, CfnResource];
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const statements = resourcesOfType(s.pipelineJson, 'AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
        .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
      const create = statements.find((st) => [st.Action].flat().includes('scheduler:CreateSchedule'));
      expect(JSON.stringify(create?.Resource)).toMatch(
        /schedule\/",\{"Ref":"SlaWorkflowRungs[0-9A-F]+"\},"\/\*/,
      );
      const pass = statements.find((st) => [st.Action].flat().includes('iam:PassRole'));
      expect(JSON.stringify(pass?.Resource)).toContain('SlaWorkflowSchedulerRole');
    });
  });

  describe('monitoring', () => {
    it('alarms on every DLQ, function error, failed execution and SES reputation', () => {
      const alarms = resourcesOfType(s.pipelineJson, 'AWS::CloudWatch::Alarm').map(
        ([, a]) => a.Properties ?? {},
      );
      const count = (metric: string) => alarms.filter((a) => a.MetricName === metric).length;
      expect(count('ApproximateNumberOfMessagesVisible')).toBe(
        resourcesOfType(s.pipelineJson, 'AWS::SQS::Queue').length,
      );
      expect(count('Errors')).toBe(functionNames().length);
      expect(count('ExecutionsFailed')).toBe(2 + smsOn());
      const ses = (metric: string) => alarms.find((a) => a.MetricName === metric);
      expect(ses('Reputation.BounceRate')).toMatchObject({
        Namespace: 'AWS/SES',
        Threshold: 0.05,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      expect(ses('Reputation.ComplaintRate')).toMatchObject({
        Namespace: 'AWS/SES',
        Threshold: 0.001,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      for (const a of alarms) {
        expect(a.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
      }
      s.pipeline.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    });

    it('encrypts every topic with a rotating KMS key and subscribes alarmEmail', () => {
      s.pipeline.resourceCountIs('AWS::SNS::Topic', 2 + smsOn());
      s.pipeline.allResourcesProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      s.pipeline.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      if (s.config.stack.alarmEmail) {
        s.pipeline.hasResourceProperties('AWS::SNS::Subscription', {
          Protocol: 'email',
          Endpoint: s.config.stack.alarmEmail,
          RedrivePolicy: { deadLetterTargetArn: Match.anyValue() },
        });
      } else {
        s.pipeline.resourceCountIs('AWS::SNS::Subscription', smsOn());
      }
    });
  });

  describe('SMS (sms.enabled)', () => {
    it('subscribes the sms function to the inbound topic End User Messaging SMS may publish to', () => {
      if (!s.config.sms.enabled) {
        expect(functionsByName(s).has('sms')).toBe(false);
        return;
      }
      const [fnId] = functionsByName(s).get('sms') as [string, CfnResource];
      const topics = resourcesOfType(s.pipelineJson, 'AWS::SNS::Topic').filter(([id]) =>
        id.startsWith('SmsInbound'),
      );
      expect(topics).toHaveLength(1);
      const [topicId] = topics[0] as [string, CfnResource];
      s.pipeline.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'lambda',
        TopicArn: { Ref: topicId },
        Endpoint: { 'Fn::GetAtt': [fnId, 'Arn'] },
        RedrivePolicy: { deadLetterTargetArn: Match.anyValue() },
      });
      s.pipeline.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: Match.objectLike({
          Statement: Match.arrayWith([
            Match.objectLike({ Action: 'sns:Publish', Principal: { Service: 'sms-voice.amazonaws.com' } }),
          ]),
        }),
      });
      expect(Object.keys(s.pipelineJson.Outputs ?? {})).toContain('SmsInboundTopicArn');
    });

    it('lets nurture and sms send texts, and nothing else', () => {
      for (const [name, [, fn]] of functionsByName(s)) {
        const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
        const policy = resourcesOfType(s.pipelineJson, 'AWS::IAM::Policy').find(([, p]) =>
          JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`),
        );
        const sends = JSON.stringify(policy?.[1].Properties.PolicyDocument ?? {}).includes(
          'sms-voice:SendTextMessage',
        );
        expect(sends, name).toBe(s.config.sms.enabled && (name === 'nurture' || name === 'sms'));
      }
    });

    it('starts the reminder workflow on Meeting Booked of real leads', () => {
      if (!s.config.sms.enabled) return;
      const machines = resourcesOfType(s.pipelineJson, 'AWS::StepFunctions::StateMachine');
      const [id] = machines.find(([m]) => m.startsWith('SmsReminderWorkflow')) as [string, CfnResource];
      const rule = ruleTargeting(s, id);
      expect(rule.Properties.EventPattern).toEqual({
        source: [EVENT_SOURCE],
        'detail-type': ['Meeting Booked'],
        detail: { isTest: [false] },
      });
    });
  });

  it('outputs the endpoints and resource names', () => {
    const outputs = Object.keys(s.pipelineJson.Outputs ?? {});
    expect(outputs).toEqual(
      expect.arrayContaining([
        'ApiUrl',
        'CaptureEndpoint',
        'UserPoolId',
        'UserPoolClientId',
        'DashboardUrl',
        'EventBusName',
        'TableName',
        ...Object.keys(SECRETS).map((id) => `${id}Arn`),
      ]),
    );
  });

  it('outputs the three DKIM records of a sending domain, ready for DNS', () => {
    const dkim = Object.entries(s.dataJson.Outputs ?? {}).filter(([id]) => id.startsWith('DkimRecord'));
    expect(dkim.map(([id]) => id)).toEqual(['DkimRecord1', 'DkimRecord2', 'DkimRecord3']);
    const value = JSON.stringify(dkim[0]?.[1]);
    expect(value).toContain('CNAME');
    expect(value).toContain('DkimDNSTokenName1');
    expect(value).toContain('DkimDNSTokenValue1');
  });
});
