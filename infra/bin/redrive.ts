/**
 * Replays what the dead-letter queues hold: `npm run redrive -- --client <name>` for the
 * deployed stack (AWS credentials and region from the environment), or add `--offline` for the
 * local runtime started with `npm start` (its dead-letter record). Prints what it replayed and
 * what it left; safe to run twice. Exits 1 when something was left.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultRedriveClients, redriveStack } from '../lib/redrive';
import { stackNames } from '../lib/settings';

const { values } = parseArgs({
  options: {
    client: { type: 'string' },
    offline: { type: 'boolean', default: false },
    'data-dir': { type: 'string', default: '.local' },
  },
});
if (!values.client) {
  console.error('usage: npm run redrive -- --client <name> [--offline [--data-dir .local]]');
  process.exit(2);
}

if (values.offline) {
  const file = join(resolve(values['data-dir'] ?? '.local'), 'endpoints.json');
  if (!existsSync(file)) {
    console.error(`No local runtime found (${file} is missing): start it with \`npm start\` first.`);
    process.exit(2);
  }
  const endpoints = JSON.parse(readFileSync(file, 'utf8')) as { client: string; awsEndpointUrl: string };
  if (endpoints.client !== values.client) {
    console.error(`The local runtime runs client "${endpoints.client}", not "${values.client}".`);
    process.exit(2);
  }
  const answer = await fetch(`${endpoints.awsEndpointUrl}/_local/dead-letters/redrive`, { method: 'POST' });
  const result = (await answer.json()) as {
    replayed: Array<{ rule: string; detailType: string; eventId: string }>;
    failed: Array<{ rule: string; detailType: string; eventId: string; error: string }>;
  };
  for (const r of result.replayed) console.log(`replayed  ${r.rule}  ${r.detailType}  ${r.eventId}`);
  for (const f of result.failed)
    console.log(`left      ${f.rule}  ${f.detailType}  ${f.eventId}: ${f.error}`);
  console.log(`${result.replayed.length} replayed, ${result.failed.length} left in the dead-letter record`);
  process.exit(result.failed.length > 0 ? 1 : 0);
}

const reports = await redriveStack(stackNames(values.client).pipeline, defaultRedriveClients());
let left = 0;
for (const q of reports) {
  console.log(`${q.queue}: ${q.replayed} replayed, ${q.left.length} left`);
  for (const l of q.left) console.log(`  left ${l.messageId}: ${l.reason}`);
  left += q.left.length;
}
console.log(
  `${reports.reduce((n, q) => n + q.replayed, 0)} replayed from ${reports.length} queues, ${left} left`,
);
process.exit(left > 0 ? 1 : 0);
