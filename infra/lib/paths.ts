import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding `package.json`, `functions/` and `clients/`). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where client files live: `clients/<name>.yaml`. */
export const CLIENTS_DIR = resolve(REPO_ROOT, 'clients');
