import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import {
  emptySecret,
  INTEGRATION_NAMES,
  type IntegrationName,
  type IntegrationsSecret,
  IntegrationsSecretSchema,
  integrationSecretEnv,
  parseIntegration,
} from '../contracts/integration-secrets';
import type { IntegrationsSecretReader } from '../ports/integrations-secret';

/** Secret ARNs by integration: the ones this function was granted. */
export type IntegrationSecretArns = Readonly<Partial<Record<IntegrationName, string>>>;

/** Cache lifetime: rotated values are picked up within this many seconds. */
const MAX_AGE_SECONDS = 300;

/**
 * Reads the integration secrets through Powertools Parameters (cached, with the SDK's retries).
 * Built from the function's environment ({@link fromEnvironment}) it reads exactly the secrets
 * the stack granted, in parallel; a single ARN reads one secret holding any of the keys.
 */
export class SecretsManagerIntegrations implements IntegrationsSecretReader {
  private readonly provider: SecretsProvider;

  constructor(
    private readonly source: string | IntegrationSecretArns,
    provider?: SecretsProvider,
  ) {
    this.provider = provider ?? new SecretsProvider();
  }

  /**
   * The secrets whose `<NAME>_SECRET_ARN` variables the stack set on this function.
   * @throws Error when the function was granted no secret at all (a wiring mistake).
   */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): SecretsManagerIntegrations {
    const arns: Partial<Record<IntegrationName, string>> = {};
    for (const name of INTEGRATION_NAMES) {
      const arn = env[integrationSecretEnv(name)];
      if (arn) arns[name] = arn;
    }
    if (Object.keys(arns).length === 0) {
      throw new Error(
        `No integration secret is configured: expected one of ${INTEGRATION_NAMES.map(integrationSecretEnv).join(', ')}`,
      );
    }
    return new SecretsManagerIntegrations(arns);
  }

  async read(): Promise<IntegrationsSecret> {
    if (typeof this.source === 'string') {
      return { ...emptySecret(), ...IntegrationsSecretSchema.parse(await this.get(this.source)) };
    }
    const entries = Object.entries(this.source) as Array<[IntegrationName, string]>;
    const values = await Promise.all(
      entries.map(async ([name, arn]) => parseIntegration(name, await this.get(arn))),
    );
    return Object.assign(emptySecret(), ...values);
  }

  private get(arn: string): Promise<unknown> {
    return this.provider.get(arn, { maxAge: MAX_AGE_SECONDS, transform: 'json' });
  }
}
