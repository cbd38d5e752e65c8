/**
 * `npm run build:data`: rebuilds `shared/domain/data/` from the pinned packages (run it after
 * upgrading mailchecker, email-providers or libphonenumber-js).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDomainData } from '../lib/domain-data';
import { REPO_ROOT } from '../lib/paths';

for (const [file, bytes] of Object.entries(buildDomainData())) {
  writeFileSync(join(REPO_ROOT, 'shared', 'domain', 'data', file), bytes);
  console.log(`shared/domain/data/${file}: ${(bytes.length / 1024).toFixed(0)} KB`);
}
