import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { CLIENTS_DIR } from '../../infra/lib/paths';
import { type CfnResource, resourcesOfType, type SynthesizedClient, synthClient } from './helpers';

/**
 * The optional WAF (`stack.waf.enabled`), synthesized from the example client with the switch on:
 * a us-east-1 edge stack with the web ACL, and a CloudFront distribution in front of the API.
 */
describe('stack.waf.enabled', () => {
  let s: SynthesizedClient;
  let edge: { Resources: Record<string, CfnResource> };
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'lead-pipeline-waf-'));
    const example = parse(readFileSync(join(CLIENTS_DIR, 'example.yaml'), 'utf8')) as {
      client: { name: string };
      stack: Record<string, unknown>;
    };
    example.client.name = 'waf';
    example.stack.waf = { enabled: true, requestsPer5Minutes: 500 };
    writeFileSync(join(dir, 'waf.yaml'), stringify(example));
    s = synthClient('waf', { clientsDir: dir, bundle: false });
    const edgeStack = s.stacks.edge;
    if (!edgeStack) throw new Error('no edge stack');
    edge = JSON.parse(readFileSync(join(s.outdir, `${edgeStack.stackName}.template.json`), 'utf8'));
  });

  it('keeps the web ACL in us-east-1, as CloudFront requires', () => {
    expect(s.stacks.edge?.region).toBe('us-east-1');
    expect(s.stacks.pipeline.dependencies).toContain(s.stacks.edge);
  });

  it('blocks an IP above the limit on exactly the public routes', () => {
    const [, acl] = resourcesOfType(edge as never, 'AWS::WAFv2::WebACL')[0] as [string, CfnResource];
    expect(acl.Properties.Scope).toBe('CLOUDFRONT');
    expect(acl.Properties.DefaultAction).toEqual({ Allow: {} });
    type Match = { ByteMatchStatement: { SearchString: string; PositionalConstraint: string } };
    const [rule] = acl.Properties.Rules as Array<{
      Action: unknown;
      Statement: {
        RateBasedStatement: {
          Limit: number;
          AggregateKeyType: string;
          ScopeDownStatement: {
            OrStatement: { Statements: Array<{ AndStatement: { Statements: Match[] } }> };
          };
        };
      };
    }>;
    expect(rule?.Action).toEqual({ Block: {} });
    const rate = rule?.Statement.RateBasedStatement;
    expect(rate?.Limit).toBe(500);
    expect(rate?.AggregateKeyType).toBe('IP');
    const matched = rate?.ScopeDownStatement.OrStatement.Statements.map((st) =>
      st.AndStatement.Statements.map(
        (m) => `${m.ByteMatchStatement.PositionalConstraint} ${m.ByteMatchStatement.SearchString}`,
      ).join(' + '),
    );
    expect(matched?.sort()).toEqual(
      [
        'EXACTLY POST + EXACTLY /leads',
        'EXACTLY POST + EXACTLY /events',
        'EXACTLY GET + EXACTLY /t.js',
        'EXACTLY POST + STARTS_WITH /webhooks/',
        'EXACTLY GET + STARTS_WITH /webhooks/',
        'EXACTLY GET + EXACTLY /unsubscribe',
        'EXACTLY POST + EXACTLY /unsubscribe',
        'EXACTLY GET + STARTS_WITH /next/',
        'EXACTLY POST + EXACTLY /slack/actions',
      ].sort(),
    );
  });

  it('fronts the API with a non-caching CloudFront distribution carrying the ACL, and publishes its URL', () => {
    const [[, distribution]] = apiDistributions(s.pipelineJson) as [[string, CfnResource]];
    const config = distribution.Properties.DistributionConfig as {
      WebACLId: unknown;
      DefaultCacheBehavior: { CachePolicyId: string; AllowedMethods: string[]; ViewerProtocolPolicy: string };
    };
    expect(JSON.stringify(config.WebACLId)).toMatch(/PublicRoutesAcl|WebAcl|Edge/i);
    // AWS's managed CachingDisabled policy: every request reaches the API.
    expect(config.DefaultCacheBehavior.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad');
    expect(config.DefaultCacheBehavior.AllowedMethods).toContain('POST');
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('https-only');
    // Forms, the tracking script and email links use the distribution, not the bare API.
    const capture = resourcesOfType(s.pipelineJson, 'AWS::Lambda::Function').find(
      ([, fn]) =>
        (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables
          .POWERTOOLS_SERVICE_NAME === 'capture',
    )?.[1];
    const env = capture?.Properties.Environment as { Variables: Record<string, unknown> } | undefined;
    const apiUrl = env?.Variables.API_URL;
    expect(JSON.stringify(apiUrl)).toContain('PublicEdge');
    expect(Object.keys(s.pipelineJson.Outputs ?? {})).toContain('PublicUrl');
  });

  it('passes cdk-nag with no unacknowledged finding', () => {
    const report = JSON.parse(readFileSync(join(s.outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: unknown[] }[];
    };
    expect(report.pluginReports.flatMap((p) => p.violations)).toEqual([]);
  });
});

/** CloudFront distributions in front of the API (the console's own distribution is not one). */
function apiDistributions(template: Parameters<typeof resourcesOfType>[0]) {
  return resourcesOfType(template, 'AWS::CloudFront::Distribution').filter(([id]) =>
    id.startsWith('PublicEdge'),
  );
}

describe('stack.waf off (the default)', () => {
  it('creates no edge stack and no distribution', () => {
    const s = synthClient('example', { bundle: false });
    expect(s.stacks.edge).toBeUndefined();
    expect(apiDistributions(s.pipelineJson)).toEqual([]);
  });
});
