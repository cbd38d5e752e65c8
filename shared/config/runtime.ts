import { createHash } from 'node:crypto';
import type { ClientConfig } from './schema';

/**
 * The client config inside a running function.
 *
 * At synth time the stack validates `clients/<name>.yaml` and esbuild bakes the result into each
 * bundle as `__CLIENT_CONFIG__`, with its SHA-256 as `__CLIENT_CONFIG_SHA256__`, so a function
 * never reads config over the network and always runs the exact file that was reviewed and
 * deployed. It is trusted as it is: validating it again with zod on the first invocation cost
 * 17-26 ms of every cold start and kept the whole schema in every bundle, to re-check what the
 * synth already checked. The hash proves the JSON is the one the synth produced (an edited or
 * truncated bundle fails loudly instead of running half a config). Outside a bundle (unit
 * tests, tools), the already-validated JSON may come from the `CLIENT_CONFIG` environment
 * variable instead.
 */
declare const __CLIENT_CONFIG__: string | undefined;
declare const __CLIENT_CONFIG_SHA256__: string | undefined;

/**
 * The baked-in JSON, named once: esbuild's `define` pastes the literal at every mention of
 * `__CLIENT_CONFIG__`, and the digest check and the parse each mentioning it put the client
 * file's JSON (15 KB and more) into every bundle twice.
 */
const BAKED_CONFIG: string | undefined =
  typeof __CLIENT_CONFIG__ === 'string' ? __CLIENT_CONFIG__ : undefined;

let cached: ClientConfig | undefined;

/** The SHA-256 (hex) baked in next to a config's JSON. */
export function configDigest(json: string): string {
  return createHash('sha256').update(json).digest('hex');
}

/** Returns the client config for this deployment, as validated at synth. */
export function clientConfig(): ClientConfig {
  if (cached) return cached;
  if (BAKED_CONFIG !== undefined) {
    const expected = typeof __CLIENT_CONFIG_SHA256__ === 'string' ? __CLIENT_CONFIG_SHA256__ : undefined;
    if (configDigest(BAKED_CONFIG) !== expected) {
      throw new Error('The bundled client config does not match the digest the synth baked in with it');
    }
    cached = JSON.parse(BAKED_CONFIG) as ClientConfig;
    return cached;
  }
  const raw = process.env.CLIENT_CONFIG;
  if (!raw) {
    throw new Error(
      'No client config: the bundle was built without __CLIENT_CONFIG__ and CLIENT_CONFIG is unset',
    );
  }
  cached = JSON.parse(raw) as ClientConfig;
  return cached;
}
