/**
 * Validates client files without synthesizing: `npm run validate -- clients/acme.yaml`
 * (no argument: every file in clients/). Exits 1 and prints every bad field on failure.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ClientConfigError, loadClientConfigFile } from '../../shared/config/load';

const files =
  process.argv.length > 2
    ? process.argv.slice(2)
    : readdirSync('clients')
        .filter((f) => /\.(ya?ml|json)$/.test(f))
        .map((f) => join('clients', f));

let failed = false;
for (const file of files) {
  try {
    const config = loadClientConfigFile(file);
    console.log(
      `ok  ${file} (${config.client.displayName}: ${config.reps.length} reps, ${config.teams.length} teams)`,
    );
  } catch (error) {
    failed = true;
    console.error(error instanceof ClientConfigError ? error.message : error);
  }
}
process.exit(failed ? 1 : 0);
