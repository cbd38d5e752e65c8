import type { IntegrationsSecret } from '../contracts/integration-secrets';

/** Reads the integration credentials. Injectable for tests. */
export interface IntegrationsSecretReader {
  read(): Promise<IntegrationsSecret>;
}
