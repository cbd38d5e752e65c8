import type { ClientConfig } from './schema';
import { parseClientConfig } from './validate';

/**
 * The client config inside a running function.
 *
 * At synth time the stack validates `clients/<name>.yaml` and esbuild bakes the result into each
 * bundle as `__CLIENT_CONFIG__`, so a function never reads config over the network and always
 * runs the exact file that was reviewed and deployed. Outside a bundle (unit tests, tools), the
 * JSON may come from the `CLIENT_CONFIG` environment variable instead.
 */
declare const __CLIENT_CONFIG__: string | undefined;

let cached: ClientConfig | undefined;

/** Returns the validated client config for this deployment. */
export function clientConfig(): ClientConfig {
  if (cached) return cached;
  const raw = typeof __CLIENT_CONFIG__ === 'string' ? __CLIENT_CONFIG__ : process.env.CLIENT_CONFIG;
  if (!raw) {
    throw new Error(
      'No client config: the bundle was built without __CLIENT_CONFIG__ and CLIENT_CONFIG is unset',
    );
  }
  cached = parseClientConfig(JSON.parse(raw), 'bundled client config');
  return cached;
}
