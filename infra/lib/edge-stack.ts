import { Stack, type StackProps } from 'aws-cdk-lib';
import { CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import type { ClientConfig } from '../../shared/config/schema';
import { PUBLIC_ROUTES } from './pipeline-stack';

/** Region of every CloudFront-scoped WAF web ACL (a CloudFront requirement). */
export const EDGE_REGION = 'us-east-1';

/** Properties of the {@link EdgeStack}. */
export interface EdgeStackProps extends StackProps {
  /** The validated client config (`stack.waf`). */
  readonly config: ClientConfig;
}

/**
 * The optional WAF (`stack.waf.enabled`): a CloudFront-scoped web ACL, which AWS only accepts in
 * us-east-1, hence its own small stack. AWS WAF cannot be associated with an API Gateway HTTP
 * API; the pipeline stack puts a CloudFront distribution in front of the API and attaches this
 * ACL to it. One rate-based rule blocks an IP address that sends more than
 * `stack.waf.requestsPer5Minutes` requests to the public routes (`PUBLIC_ROUTES`) in any five
 * minutes; everything else (the reps' JWT routes) is only counted.
 */
export class EdgeStack extends Stack {
  /** The web ACL for the pipeline's CloudFront distribution. */
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, props);
    const { config } = props;
    // One match per public route: its method and its path (a `{param}` segment matches any
    // value), so `GET /leads` (the reps' JWT list) is not counted with `POST /leads`.
    const routes: ReadonlyArray<{ method: string; path: string }> = Object.values(PUBLIC_ROUTES).flatMap(
      (group): ReadonlyArray<{ method: string; path: string }> => group.routes,
    );
    const routeMatch = (route: { method: string; path: string }): CfnWebACL.StatementProperty => {
      const brace = route.path.indexOf('{');
      return {
        andStatement: {
          statements: [
            {
              byteMatchStatement: {
                fieldToMatch: { method: {} },
                positionalConstraint: 'EXACTLY',
                searchString: route.method,
                textTransformations: [{ priority: 0, type: 'NONE' }],
              },
            },
            {
              byteMatchStatement: {
                fieldToMatch: { uriPath: {} },
                positionalConstraint: brace === -1 ? 'EXACTLY' : 'STARTS_WITH',
                searchString: brace === -1 ? route.path : route.path.slice(0, brace),
                // Decoded first, so /%6ceads cannot slip past the rule while API Gateway serves /leads.
                textTransformations: [{ priority: 0, type: 'URL_DECODE' }],
              },
            },
          ],
        },
      };
    };
    const visibility = (metricName: string): CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });

    this.webAcl = new CfnWebACL(this, 'PublicRoutesAcl', {
      scope: 'CLOUDFRONT',
      description: `lead-pipeline ${config.client.name}: per-IP rate limit on the public routes`,
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`lead-pipeline-${config.client.name}-edge`),
      rules: [
        {
          name: 'PublicRoutesPerIp',
          priority: 0,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              aggregateKeyType: 'IP',
              limit: config.stack.waf.requestsPer5Minutes,
              evaluationWindowSec: 300,
              scopeDownStatement: { orStatement: { statements: routes.map(routeMatch) } },
            },
          },
          visibilityConfig: visibility('PublicRoutesPerIp'),
        },
      ],
    });
  }
}
