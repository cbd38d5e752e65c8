/**
 * The bundling step after esbuild (`LeadFunction`'s `afterBundling` hook): copies each data file
 * of `shared/domain/data/` that a bundle names into `<bundle>/data/`, where
 * `shared/domain/bundled-data.ts` reads it. esbuild has already dropped every loader a function
 * cannot reach, so a bundle names a file exactly when it can read it, and a function that never
 * looks up a domain or a phone number ships no list.
 *
 * Usage: node infra/lib/copy-bundled-data.mjs <bundle output folder>
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DATA_DIR = fileURLToPath(new URL('../../shared/domain/data/', import.meta.url));

/** Copies the data files `<outputDir>/index.mjs` names; returns their names. */
export function copyBundledData(outputDir) {
  const bundle = readFileSync(join(outputDir, 'index.mjs'), 'utf8');
  const needed = readdirSync(DATA_DIR)
    .filter((file) => bundle.includes(file))
    .sort();
  if (needed.length > 0) mkdirSync(join(outputDir, 'data'), { recursive: true });
  for (const file of needed) copyFileSync(join(DATA_DIR, file), join(outputDir, 'data', file));
  return needed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outputDir = process.argv[2];
  if (!outputDir) throw new Error('usage: copy-bundled-data.mjs <bundle output folder>');
  copyBundledData(outputDir);
}
