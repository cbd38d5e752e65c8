import { CfnOutput, Fn, RemovalPolicy, type Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CfnStage,
  type HttpApi,
  HttpMethod,
  type HttpRoute,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
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
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ClientConfig } from '../../shared/config/schema';
import type { ApiRouteGroup } from '../../shared/config/schema-stack';
import type { LeadFunction } from '../constructs/lead-function';
import { pascal } from './names';

/**
 * The HTTP API's routes and stage (per-route throttles, access logs) and the optional CloudFront
 * edge with the WAF, for the {@link PipelineStack}. Resources are created in the stack's own
 * scope, so their logical ids are the ones they had when this lived in the stack's constructor.
 */

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

/** The functions behind the routes, by public route group, and the two JWT-protected APIs. */
export interface ApiRoutesProps {
  readonly api: HttpApi;
  readonly config: ClientConfig;
  readonly retention: RetentionDays;
  readonly authorizer: IHttpRouteAuthorizer;
  readonly publicFunctions: Readonly<Record<keyof typeof PUBLIC_ROUTES, LeadFunction>>;
  readonly leadsApi: LeadFunction;
  readonly reportsApi: LeadFunction;
}

/** Adds the stage and every route (public ones by {@link PUBLIC_ROUTES}, the rest behind the JWT authorizer). */
export function addApiRoutes(stack: Stack, props: ApiRoutesProps): void {
  const { config } = props;
  const stageLogs = new LogGroup(stack, 'ApiAccessLogs', {
    retention: props.retention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const stage = new HttpStage(stack, 'DefaultStage', {
    httpApi: props.api,
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
    created.push(...route(props.api, fn, routes, authorizer, publicBecause));
  };
  const publicRoute = (fn: LeadFunction, group: ApiRouteGroup, routes: RouteSpec[], why: string) =>
    addRoutes(fn, group, routes, undefined, why);
  const { publicFunctions, authorizer, leadsApi, reportsApi } = props;
  for (const [group, { routes, why }] of Object.entries(PUBLIC_ROUTES) as Array<
    [keyof typeof PUBLIC_ROUTES, (typeof PUBLIC_ROUTES)[keyof typeof PUBLIC_ROUTES]]
  >) {
    publicRoute(publicFunctions[group], group, [...routes], why);
  }

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
}

/**
 * The CloudFront distribution in front of the API, with the WAF web ACL: nothing is cached
 * (every request reaches the API with its headers, query string and body) and the API's own
 * per-route throttles still apply behind it.
 * @returns its https URL.
 */
export function publicEdge(stack: Stack, api: HttpApi, config: ClientConfig, webAclArn: string): string {
  const apiDomain = Fn.select(2, Fn.split('/', api.apiEndpoint));
  const distribution = new Distribution(stack, 'PublicEdge', {
    comment: `lead-pipeline ${config.client.name}: public routes behind AWS WAF`,
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
  new CfnOutput(stack, 'PublicUrl', {
    value: `https://${distribution.distributionDomainName}`,
    description: 'Public URL behind AWS WAF: forms, the tracking script and email links use it',
  });
  return `https://${distribution.distributionDomainName}`;
}

function route(
  api: HttpApi,
  fn: LeadFunction,
  routes: RouteSpec[],
  authorizer?: IHttpRouteAuthorizer,
  publicBecause?: string,
): HttpRoute[] {
  const integration = new HttpLambdaIntegration(`${pascal(fn.functionName)}Integration`, fn.fn);
  const created: HttpRoute[] = [];
  for (const r of routes) {
    const [route] = api.addRoutes({
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
