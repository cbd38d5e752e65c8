import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * The AWS SDK's default credential chain, as a Lambda function needs it: Lambda always puts the
 * execution role's credentials in `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`
 * (and the offline runtime does the same), so the chain's other links (shared ini files, SSO,
 * web identity, process, instance metadata) never answer there. They cost every bundle about
 * 85 KB minified (the STS, SSO and sign-in clients they embed) and their module setup at cold
 * start. The functions' bundles alias `@aws-sdk/credential-provider-node` to this module (see
 * `infra/constructs/lead-function.ts`); tests and tools keep the full chain.
 */
type CredentialProvider = ReturnType<typeof fromEnv>;

export function defaultProvider(init?: Parameters<typeof fromEnv>[0]): CredentialProvider {
  const fromEnvironment = fromEnv(init);
  let resolved: ReturnType<CredentialProvider> | undefined;
  // Lambda's credentials do not change during an instance's life: read them once.
  return () => {
    resolved ??= fromEnvironment().catch((error: unknown) => {
      resolved = undefined;
      throw error;
    });
    return resolved;
  };
}
