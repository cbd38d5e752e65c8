import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerIntegrations } from '../../shared/adapters/integrations-secret';
import {
  INTEGRATION_SECRETS,
  integrationSecretEnv,
  integrationsReadBy,
} from '../../shared/contracts/integration-secrets';

const sm = mockClient(SecretsManagerClient);
const ARN = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}`;
const VALUES: Record<string, Record<string, string>> = {
  [ARN('signing')]: { signingKey: 's'.repeat(64) },
  [ARN('slack')]: { slackWebhookUrl: 'https://hooks.slack.com/services/T/B/x' },
  [ARN('meta')]: { metaAppSecret: 'app', metaVerifyToken: 'verify', metaAccessToken: 'page-token' },
};

beforeEach(() => {
  sm.reset();
  sm.on(GetSecretValueCommand).callsFake(async (input: { SecretId: string }) => ({
    SecretString: JSON.stringify(VALUES[input.SecretId] ?? {}),
  }));
});

const fresh = (env: NodeJS.ProcessEnv) => {
  const reader = SecretsManagerIntegrations.fromEnvironment(env);
  // A fresh provider per test: Powertools caches values per instance.
  Reflect.set(reader, 'provider', new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({}) }));
  return reader;
};

describe('integration secrets: one per integration, read only where granted', () => {
  it('names each secret ARN variable after its integration', () => {
    expect(integrationSecretEnv('signing')).toBe('SIGNING_SECRET_ARN');
    expect(integrationSecretEnv('googleAds')).toBe('GOOGLE_ADS_SECRET_ARN');
  });

  it('keeps the Slack webhook and vendor keys away from the public functions', () => {
    for (const fn of ['track', 'capture', 'unsubscribe']) expect(integrationsReadBy(fn)).toEqual(['signing']);
    expect(integrationsReadBy('alert')).toEqual(['slack']);
    expect(INTEGRATION_SECRETS.slack.readers).toEqual(['alert']);
  });

  it('reads only the secrets in the environment; the others read as "not configured"', async () => {
    const secret = await fresh({ SIGNING_SECRET_ARN: ARN('signing') }).read();
    expect(secret.signingKey).toBe('s'.repeat(64));
    expect(secret.slackWebhookUrl).toBe('');
    expect(secret.metaAccessToken).toBe('');
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([
      ARN('signing'),
    ]);
  });

  it('merges several granted secrets', async () => {
    const secret = await fresh({ SIGNING_SECRET_ARN: ARN('signing'), META_SECRET_ARN: ARN('meta') }).read();
    expect(secret).toMatchObject({ signingKey: 's'.repeat(64), metaAccessToken: 'page-token' });
    expect(secret.slackWebhookUrl).toBe('');
  });

  it('rejects a signing secret whose key is too short, naming the key', async () => {
    VALUES[ARN('short')] = { signingKey: 'short' };
    await expect(fresh({ SIGNING_SECRET_ARN: ARN('short') }).read()).rejects.toThrow(/signingKey/);
  });

  it('refuses to start without any secret variable (a wiring mistake)', () => {
    expect(() => SecretsManagerIntegrations.fromEnvironment({ SECRET_ARN: ARN('signing') })).toThrow(
      /SIGNING_SECRET_ARN/,
    );
  });
});
