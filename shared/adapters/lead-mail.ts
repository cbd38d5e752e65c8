import { clientConfig } from '../config/runtime';
import { requireEnv } from './clients';
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
    repository: new LeadRepository(requireEnv('TABLE_NAME')),
    mailer: new SesMailer(requireEnv('CONFIGURATION_SET_NAME')),
    secrets: SecretsManagerIntegrations.fromEnvironment(),
    config: clientConfig(),
    apiUrl: requireEnv('API_URL'),
    now: () => new Date(),
  };
}
