import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { LOCAL_CREDENTIALS } from './emulators';
import type { LocalRule, RuleTarget } from './event-bus';
import type { ApiOptions, ApiRoute } from './http-api';
import { FunctionPool, type InvokeResult } from './lambda-runner';
import { LOCAL_SLACK_RESPONSE_BASE, LOCAL_SLACK_WEBHOOK_BASE } from './local-secrets';
import { LocalSmsChannel } from './sms';
import {
  type CfnResource,
  handlerFile,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  type LoadedStack,
  type LocalResource,
  localName,
  type TemplateResolver,
} from './template';

/**
 * What the synthesized template declares, read into the local pieces' terms: local names and
 * ARNs of every resource, the bus's rules, the API's routes, the SMS channel's subscribers.
 */

/** The EventBridge rules of the template, enabled ones only, with their targets' retry policies. */
export function readRules(resolver: TemplateResolver): LocalRule[] {
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

/** The HTTP API's routes with their function and JWT authorizer, most specific path first. */
export function readRoutes(resolver: TemplateResolver): ApiRoute[] {
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
    const [method = 'ANY', path = '/'] = routeKey === '$default' ? ['ANY', '/{proxy+}'] : routeKey.split(' ');
    routes.push({ method, path, routeKey, functionArn, ...(jwt ? { jwt } : {}) });
  }
  // Literal paths win over parameterised ones, as in API Gateway.
  return routes.sort((a, b) => specificity(b.path) - specificity(a.path));
}

function specificity(path: string): number {
  return path.split('/').reduce((n, s) => n + (s.startsWith('{') ? (s.endsWith('+}') ? 0 : 1) : 3), 0);
}

/**
 * End User Messaging SMS: SendTextMessage is recorded, and a reply goes to the Lambda
 * subscribers of the stack's SMS inbound topic (its `AWS::SNS::Subscription`s), as an SNS event.
 */
export function smsChannel(
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

/** Local names for every resource type the stacks use; `Ref` and `GetAtt` read these. */
export function localResource(
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
export function withLocalConsole(env: unknown, consoleUrl: string): unknown {
  if (!env || typeof env !== 'object') return env;
  const asHttps = `https://${new URL(consoleUrl).host}`;
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      typeof v === 'string' && v.startsWith(asHttps) ? `${consoleUrl}${v.slice(asHttps.length)}` : v,
    ]),
  );
}

/**
 * One pool of execution environments per Node.js function of the template, with the function's
 * environment resolved to local names and every AWS endpoint pointed at the runtime.
 */
export function functionPools(
  resolver: TemplateResolver,
  options: {
    readonly assemblyDir: string;
    readonly awsUrl: string;
    readonly consoleUrl: string;
    /** One log file per function goes here. */
    readonly logDir: string;
    readonly maxConcurrency: number;
  },
): Array<{ arn: string; pool: FunctionPool }> {
  const pools: Array<{ arn: string; pool: FunctionPool }> = [];
  const baseEnv = {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    // Through the counting proxy, which forwards to DynamoDB Local.
    AWS_ENDPOINT_URL_DYNAMODB: options.awsUrl,
    AWS_ENDPOINT_URL_EVENTBRIDGE: options.awsUrl,
    AWS_ENDPOINT_URL_SFN: options.awsUrl,
    AWS_ENDPOINT_URL_SCHEDULER: options.awsUrl,
    AWS_ENDPOINT_URL_SNS: options.awsUrl,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: options.awsUrl,
    AWS_ENDPOINT_URL_SESV2: options.awsUrl,
    AWS_ENDPOINT_URL_SES: options.awsUrl,
    AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: options.awsUrl,
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
      options.consoleUrl,
    );
    const { file, exportName } = handlerFile(options.assemblyDir, resource);
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
        maxConcurrency: options.maxConcurrency,
        logFile: join(options.logDir, `${local.ref}.log`),
        fetchRedirects: [
          [LOCAL_SLACK_WEBHOOK_BASE, `${options.awsUrl}/slack/`],
          [LOCAL_SLACK_RESPONSE_BASE, `${options.awsUrl}/slack-responses/`],
        ],
      },
    );
    pools.push({ arn: local.attributes.Arn ?? '', pool });
  }
  return pools;
}

/**
 * The HTTP API as deployed: its id, routes (each with its own stage throttle), CORS and the
 * stage's default throttle. `throttle: false` leaves every limit off (benchmarks); the console's
 * origin joins the CORS list, since it is another origin than the API, as deployed.
 */
export function readHttpApi(
  resolver: TemplateResolver,
  options: { readonly throttle: boolean; readonly consoleUrl: string },
): Pick<ApiOptions, 'apiId' | 'routes' | 'cors' | 'throttle'> {
  const apiResources = resolver.resourcesOfType('AWS::ApiGatewayV2::Api');
  const apiResource = apiResources[0];
  if (!apiResource) throw new Error('the synthesized stack has no HTTP API');
  const stageProps = resolver.resourcesOfType('AWS::ApiGatewayV2::Stage')[0]?.resource.Properties ?? {};
  const perRoute = (stageProps.RouteSettings ?? {}) as Record<
    string,
    { ThrottlingRateLimit?: number; ThrottlingBurstLimit?: number }
  >;
  // Each route's own throttle from the stage's route settings, as deployed.
  const routes = readRoutes(resolver).map((route) => {
    const own = perRoute[route.routeKey];
    if (!options.throttle || !own?.ThrottlingRateLimit) return route;
    const rateLimit = own.ThrottlingRateLimit;
    return { ...route, throttle: { rateLimit, burstLimit: own.ThrottlingBurstLimit ?? rateLimit } };
  });
  const apiProps = apiResource.resource.Properties ?? {};
  const cors = apiProps.CorsConfiguration as Record<string, unknown> | undefined;
  const routeSettings = (stageProps.DefaultRouteSettings ?? {}) as {
    ThrottlingRateLimit?: number;
    ThrottlingBurstLimit?: number;
  };

  return {
    apiId: resolver.local(apiResource.stack, apiResource.logicalId).ref,
    routes,
    ...(cors
      ? {
          cors: {
            allowOrigins: [...((cors.AllowOrigins as string[]) ?? []), options.consoleUrl],
            allowMethods: (cors.AllowMethods as string[]) ?? [],
            allowHeaders: (cors.AllowHeaders as string[]) ?? [],
            exposeHeaders: (cors.ExposeHeaders as string[]) ?? [],
            ...(cors.MaxAge !== undefined ? { maxAge: Number(cors.MaxAge) } : {}),
            ...(cors.AllowCredentials ? { allowCredentials: true } : {}),
          },
        }
      : {}),
    ...(options.throttle && routeSettings.ThrottlingRateLimit
      ? {
          throttle: {
            rateLimit: routeSettings.ThrottlingRateLimit,
            burstLimit: routeSettings.ThrottlingBurstLimit ?? routeSettings.ThrottlingRateLimit,
          },
        }
      : {}),
  };
}
