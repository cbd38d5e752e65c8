/**
 * Test kit for the email functions (nurture, auto-respond, unsubscribe, ses-events): the
 * pipeline kit's in-memory table and bus, plus SES v2 and Secrets Manager behind mocked clients,
 * so the REAL `SesMailer` and `SecretsManagerIntegrations` (Powertools SecretsProvider) run.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client, SendEmailCommand, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretsManagerIntegrations } from '../../../shared/adapters/integrations-secret';
import { SesMailer } from '../../../shared/adapters/mailer';
import type { ClientConfig } from '../../../shared/config/schema';
import { keys } from '../../../shared/contracts/table-design';
import { canonicalEmail } from '../../../shared/domain/email';
import { emailHash } from '../../../shared/domain/tokens';
import { Harness } from './pipeline-kit';

export const SIGNING_KEY = 'email-test-signing-key-0123456789abcdef';
export const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:integrations';
export const API_URL = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
export const CONFIGURATION_SET = 'lead-pipeline-example';

/** When the test message was sent, and delivered. */
export const SENT = '2026-03-02T10:00:00.000Z';
export const DELIVERED = '2026-03-02T10:00:01.500Z';

/** An SES event as EventBridge delivers it from a configuration set (shape of the SES docs' examples). */
export function sesEvent(
  detailType: string,
  eventType: string,
  extra: Record<string, unknown>,
  id = 'b5d1c6f8-0c3a-4c0e-9d62-0a1b2c3d4e5f',
  tags: Record<string, string[]> = {
    'ses:configuration-set': ['lead-pipeline-example'],
    lead_id: ['lead-1'],
    sequence: ['education'],
    step: ['welcome-guide'],
    kind: ['nurture'],
  },
) {
  return {
    version: '0',
    id,
    'detail-type': detailType,
    source: 'aws.ses',
    account: '123456789012',
    time: '2026-03-02T10:05:00Z',
    region: 'eu-west-1',
    resources: ['arn:aws:ses:eu-west-1:123456789012:configuration-set/lead-pipeline-example'],
    detail: {
      eventType,
      mail: {
        timestamp: SENT,
        source: '"Northwind Analytics" <hello@northwind.example>',
        sendingAccountId: '123456789012',
        messageId: 'msg-1',
        destination: ['jane.doe@acme-software.example'],
        headersTruncated: false,
        tags,
      },
      ...extra,
    },
  };
}

/** An SES service error as the SDK throws it (it got an HTTP answer). */
export function sesError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} from SES`), {
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: status },
  });
}

/** A network failure without an answer: SES may or may not have accepted the request. */
export function socketTimeout(): Error {
  return Object.assign(new Error('socket hang up'), {
    name: 'TimeoutError',
    code: 'ECONNRESET',
    $metadata: {},
  });
}

/** {@link Harness} plus mocked SES and Secrets Manager clients and the real adapters on them. */
export class EmailHarness extends Harness {
  readonly sesClient = new SESv2Client({ region: 'eu-west-1' });
  readonly sesMock = mockClient(this.sesClient);
  readonly secretsClient = new SecretsManagerClient({ region: 'eu-west-1' });
  readonly secretsMock = mockClient(this.secretsClient);
  readonly mailer = new SesMailer(CONFIGURATION_SET, this.sesClient, async () => {});
  readonly secrets = new SecretsManagerIntegrations(
    SECRET_ARN,
    new SecretsProvider({ awsSdkV3Client: this.secretsClient }),
  );
  private messages = 0;

  /**
   * What a function that emails leads (auto-respond, nurture) gets in production from
   * `leadMailAdapters()`, on this harness's mocks, at a fixed time.
   */
  mailDeps(config: ClientConfig, now: Date) {
    return {
      repository: this.repository,
      mailer: this.mailer,
      secrets: this.secrets,
      config,
      apiUrl: API_URL,
      now: () => now,
    };
  }

  constructor() {
    super();
    // The pipeline kit's table applies flat `SET #a = :v` updates; the activity outbox marks
    // `data.announced` with a nested path. Apply that one as a conditional put of the whole item.
    this.docMock.on(UpdateCommand).callsFake(async (input: Record<string, unknown>) => {
      const expression = String(input.UpdateExpression);
      const nested = /^SET (#\w+)\.(#\w+) = (:\w+)$/.exec(expression);
      if (!nested) return this.table.handleDoc('UpdateCommand', input);
      const names = input.ExpressionAttributeNames as Record<string, string>;
      const values = input.ExpressionAttributeValues as Record<string, unknown>;
      const [, outer = '', inner = '', value = ''] = nested;
      const existing = this.table.get(input.Key as Record<string, unknown>);
      const map = { ...((existing?.[names[outer] ?? ''] as Record<string, unknown> | undefined) ?? {}) };
      map[names[inner] ?? ''] = values[value];
      return this.table.handleDoc('PutCommand', {
        Item: { ...(existing ?? (input.Key as Record<string, unknown>)), [names[outer] ?? '']: map },
        ConditionExpression: input.ConditionExpression,
      });
    });
    this.sesMock
      .on(SendEmailCommand)
      .callsFake(async () => ({ MessageId: `ses-message-${++this.messages}` }));
    this.secretsMock
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ signingKey: SIGNING_KEY, slackWebhookUrl: '' }) });
  }

  /** Every SendEmail request, in order. */
  sent(): SendEmailCommandInput[] {
    return this.sesMock.commandCalls(SendEmailCommand).map((c) => c.args[0].input);
  }

  /** The send claim of a lead's step, if any. */
  claim(leadId: string, sequenceId: string, stepId: string): Record<string, unknown> | undefined {
    return this.table.get(keys.send(leadId, sequenceId, stepId));
  }

  /** Puts an address on the suppression list. */
  suppressAddress(address: string, reason = 'bounce'): void {
    this.table.put({
      ...keys.suppression(emailHash(canonicalEmail(address))),
      entity: 'suppression',
      reason,
    });
  }

  /** The suppression entry of an address, if any. */
  suppression(address: string): Record<string, unknown> | undefined {
    return this.table.get(keys.suppression(emailHash(canonicalEmail(address))));
  }

  override restore(): void {
    super.restore();
    this.sesMock.restore();
    this.secretsMock.restore();
  }
}
