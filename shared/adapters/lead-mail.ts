import { clientConfig } from '../config/runtime';
import { env } from '../contracts/function-env';
import { SecretsManagerIntegrations } from './integrations-secret';
import { LeadRepository } from './lead-repository';
import { SesMailer } from './mailer';

/**
 * The adapters of a function that emails leads (auto-respond, nurture), from the environment the
 * stack sets: the lead table, SES through the configuration set, the integrations secret (the
 * unsubscribe signing key) and the public API URL for unsubscribe links.
 */
export function leadMailAdapters() {
  return {
    repository: new LeadRepository(env.tableName),
    mailer: new SesMailer(env.configurationSetName),
    secrets: SecretsManagerIntegrations.fromEnvironment(),
    config: clientConfig(),
    apiUrl: env.apiUrl,
    now: () => new Date(),
  };
}
