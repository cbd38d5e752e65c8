import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IntegrationsSecret } from '../shared/contracts/integration-secrets';
import type { LocalSecret } from './aws-endpoints';
import type { TemplateResolver } from './template';

/**
 * The stack's secrets offline: generated like `GenerateSecretString`, filled with values that make
 * the local pipeline work end to end (Slack pointed at the recorder), and kept in the data folder
 * so tokens and signed links survive restarts.
 */
export function localSecrets(resolver: TemplateResolver, clientDir: string): Map<string, LocalSecret> {
  const file = join(clientDir, 'secrets.json');
  const stored: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const secrets = new Map<string, LocalSecret>();
  for (const { stack, logicalId, resource } of resolver.resourcesOfType('AWS::SecretsManager::Secret')) {
    const local = resolver.local(stack, logicalId);
    const props = resource.Properties ?? {};
    const generate = props.GenerateSecretString as
      | { SecretStringTemplate?: string; GenerateStringKey?: string; PasswordLength?: number }
      | undefined;
    let value = stored[logicalId] ?? fromCombinedSecret(stored, props);
    // Secrets stored by earlier versions pointed Slack at the recorder's port of that boot.
    if (value?.includes('"slackWebhookUrl":"http://127.0.0.1')) {
      const parsed = JSON.parse(value) as Record<string, string>;
      parsed.slackWebhookUrl = `${LOCAL_SLACK_WEBHOOK_BASE}T000LOCAL/B000LOCAL/local`;
      value = JSON.stringify(parsed);
      stored[logicalId] = value;
    }
    if (!value) {
      const template = generate?.SecretStringTemplate ?? (props.SecretString as string | undefined);
      const base = template ? JSON.parse(template) : {};
      if (generate?.GenerateStringKey) {
        base[generate.GenerateStringKey] = randomBytes(24).toString('base64url');
      }
      value = JSON.stringify(localIntegrationValues(base));
      stored[logicalId] = value;
    }
    const secret: LocalSecret = {
      arn: local.ref,
      name: local.attributes.Name ?? logicalId,
      secretString: value,
    };
    secrets.set(secret.arn, secret);
    secrets.set(secret.name, secret);
  }
  writeFileSync(file, JSON.stringify(stored, null, 2));
  return secrets;
}

/** The Slack signing secret the local secrets hold (the operator may have changed it). */
export function localSlackSigningSecret(secrets: ReadonlyMap<string, LocalSecret>): string {
  for (const secret of secrets.values()) {
    let value: Record<string, unknown> = {};
    try {
      value = JSON.parse(secret.secretString) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof value.slackSigningSecret === 'string' && value.slackSigningSecret !== '')
      return value.slackSigningSecret;
  }
  return LOCAL_SLACK_SIGNING_SECRET;
}

/**
 * The Slack webhook URL the local secret holds. Slack calls from the functions' workers to it are
 * redirected to the recorder (`POST /slack/...` on the AWS endpoint, whose port changes per
 * boot), so the secret stays valid across restarts and the alert function's https check holds.
 */
export const LOCAL_SLACK_WEBHOOK_BASE = 'https://hooks.slack.com/services/';

/** Where Slack's `response_url`s live; offline they lead to the recorder, which updates the message. */
export const LOCAL_SLACK_RESPONSE_BASE = 'https://hooks.slack.com/actions/';

/** The Slack app signing secret offline: the recorder signs its button presses with it, as Slack does. */
const LOCAL_SLACK_SIGNING_SECRET = 'local-slack-signing-secret';

/**
 * Values for the integration secrets that make the local pipeline work end to end: every key of
 * `INTEGRATION_SECRETS` gets `local-<key in kebab case>` (so a new provider's secret needs no
 * edit here), except these. Empty means "not configured" offline too: no Meta page token (leads
 * stay pending), no LinkedIn token and no enrichment key.
 */
const LOCAL_INTEGRATION_OVERRIDES: Partial<IntegrationsSecret> = {
  slackWebhookUrl: `${LOCAL_SLACK_WEBHOOK_BASE}T000LOCAL/B000LOCAL/local`,
  slackSigningSecret: LOCAL_SLACK_SIGNING_SECRET,
  metaAccessToken: '',
  linkedinAccessToken: '',
  enrichmentApiKey: '',
};

/** Fills a secret's empty keys with their local values. */
function localIntegrationValues(base: Record<string, string>): Record<string, string> {
  const overrides: Record<string, string | undefined> = LOCAL_INTEGRATION_OVERRIDES;
  const out: Record<string, string> = { ...base };
  for (const k of Object.keys(base))
    out[k] = out[k] || (overrides[k] ?? `local-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  return out;
}

/**
 * A data folder from before the per-integration secrets kept every key in one stored secret:
 * carry its values (the signing key above all, so issued links and visitor tokens stay valid)
 * into each new secret with the same keys.
 */
function fromCombinedSecret(
  stored: Record<string, string>,
  props: Record<string, unknown>,
): string | undefined {
  const combined = stored.IntegrationsSecret;
  if (!combined) return undefined;
  const generate = props.GenerateSecretString as
    | { SecretStringTemplate?: string; GenerateStringKey?: string }
    | undefined;
  const template = generate?.SecretStringTemplate ?? (props.SecretString as string | undefined);
  const wanted = [
    ...Object.keys(template ? JSON.parse(template) : {}),
    ...(generate?.GenerateStringKey ? [generate.GenerateStringKey] : []),
  ];
  const old = JSON.parse(combined) as Record<string, string>;
  if (!wanted.every((k) => k in old)) return undefined;
  return JSON.stringify(Object.fromEntries(wanted.map((k) => [k, old[k] ?? ''])));
}
