import { beforeAll, describe, expect, it } from 'vitest';
import { referencedIds, resourcesOfType, type SynthesizedClient, synthClient } from './helpers';

/**
 * The sales console as deployed: a private bucket behind CloudFront with origin access control
 * and a strict CSP, Cognito managed login with the authorization code flow (PKCE, no secret),
 * and `config.json` written at deploy from the stack's own API and sign-in ids.
 */

let s: SynthesizedClient;
beforeAll(() => {
  s = synthClient('example', { bundle: false });
});

const one = (type: string) => {
  const found = resourcesOfType(s.pipelineJson, type);
  expect(found, type).toHaveLength(1);
  return found[0] as (typeof found)[number];
};

describe('console', () => {
  it('serves private files through CloudFront with origin access control, HTTPS only', () => {
    const [bucketId, bucket] = one('AWS::S3::Bucket');
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const [oacId] = one('AWS::CloudFront::OriginAccessControl');
    const [, distribution] = one('AWS::CloudFront::Distribution');
    const config = distribution.Properties.DistributionConfig as {
      DefaultRootObject: string;
      Origins: Array<{ OriginAccessControlId: unknown; S3OriginConfig?: { OriginAccessIdentity?: string } }>;
      DefaultCacheBehavior: { ViewerProtocolPolicy: string; ResponseHeadersPolicyId: unknown };
    };
    expect(config.DefaultRootObject).toBe('index.html');
    expect(referencedIds(config.Origins[0]?.OriginAccessControlId)).toEqual(new Set([oacId]));
    expect(config.Origins[0]?.S3OriginConfig?.OriginAccessIdentity ?? '').toBe('');
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    // Only CloudFront (this distribution) may read the bucket.
    const [, policy] = one('AWS::S3::BucketPolicy');
    expect(referencedIds(policy.Properties.Bucket)).toEqual(new Set([bucketId]));
    expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('cloudfront.amazonaws.com');
  });

  it('answers with a strict CSP and security headers', () => {
    const [, headers] = one('AWS::CloudFront::ResponseHeadersPolicy');
    const security = (
      headers.Properties.ResponseHeadersPolicyConfig as {
        SecurityHeadersConfig: Record<string, Record<string, unknown>>;
      }
    ).SecurityHeadersConfig;
    const csp = String(security.ContentSecurityPolicy?.ContentSecurityPolicy);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    expect(security.FrameOptions).toMatchObject({ FrameOption: 'DENY' });
    expect(security.ContentTypeOptions).toMatchObject({ Override: true });
    expect(security.StrictTransportSecurity).toMatchObject({ IncludeSubdomains: true });
  });

  it('signs in with Cognito managed login: authorization code, no client secret, back to the console', () => {
    const [, domain] = one('AWS::Cognito::UserPoolDomain');
    expect(domain.Properties.ManagedLoginVersion).toBe(2);
    one('AWS::Cognito::ManagedLoginBranding');
    const [clientId, client] = one('AWS::Cognito::UserPoolClient');
    expect(client.Properties.AllowedOAuthFlows).toEqual(['code']);
    expect(client.Properties.GenerateSecret ?? false).toBe(false);
    const [distributionId] = one('AWS::CloudFront::Distribution');
    expect(referencedIds(client.Properties.CallbackURLs)).toEqual(new Set([distributionId]));
    // The API accepts the console's tokens and its origin.
    const [, authorizer] = one('AWS::ApiGatewayV2::Authorizer');
    expect(referencedIds(authorizer.Properties.JwtConfiguration)).toContain(clientId);
    const [, api] = one('AWS::ApiGatewayV2::Api');
    expect(referencedIds(api.Properties.CorsConfiguration)).toContain(distributionId);
  });

  it('writes config.json at deploy from the stack: API URL, sign-in domain and client', () => {
    const [, upload] = one('Custom::CDKBucketDeployment');
    const sources = upload.Properties.SourceObjectKeys as unknown[];
    expect(sources).toHaveLength(2); // the bundle and config.json
    const [apiId] = one('AWS::ApiGatewayV2::Api');
    const [clientId] = one('AWS::Cognito::UserPoolClient');
    const [domainId] = one('AWS::Cognito::UserPoolDomain');
    const refs = referencedIds(upload.Properties.SourceMarkers);
    for (const id of [apiId, clientId, domainId]) expect(refs).toContain(id);
    expect(s.pipelineJson.Outputs?.ConsoleUrl).toBeDefined();
  });
});
