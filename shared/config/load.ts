import { existsSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ClientConfig } from './schema';
import { ClientConfigError, parseClientConfig } from './validate';

export { ClientConfigError, formatIssues, formatPath, parseClientConfig } from './validate';

const EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

/** Finds `clients/<name>.yaml|.yml|.json` under `dir`. */
export function resolveClientFile(name: string, dir: string): string {
  if (!/^[a-z0-9-]+$/.test(name)) {
    throw new ClientConfigError(name, [
      `client name "${name}" must be lower-case letters, digits and dashes`,
    ]);
  }
  for (const ext of EXTENSIONS) {
    const file = join(dir, `${name}${ext}`);
    if (existsSync(file)) return file;
  }
  throw new ClientConfigError(join(dir, `${name}.yaml`), [
    `no client file: create clients/${name}.yaml (see clients/example.yaml)`,
  ]);
}

/**
 * Loads and validates a client file (YAML or JSON). The file's base name must equal
 * `client.name`, so `-c client=acme` can never deploy another client's settings.
 */
export function loadClientConfigFile(file: string): ClientConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ClientConfigError(file, [`cannot read file: ${(e as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ClientConfigError(file, [
      `not valid ${extname(file).slice(1).toUpperCase()}: ${(e as Error).message}`,
    ]);
  }
  const config = parseClientConfig(raw, file);
  const expected = basename(file, extname(file));
  if (config.client.name !== expected) {
    throw new ClientConfigError(file, [
      `client.name: "${config.client.name}" must match the file name "${expected}"`,
    ]);
  }
  return config;
}

/** Loads `clients/<name>.*` relative to `dir` (the `clients/` folder). */
export function loadClientConfig(name: string, dir: string): ClientConfig {
  return loadClientConfigFile(resolveClientFile(name, dir));
}
