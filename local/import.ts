/**
 * `npm run import -- --client <name> leads.csv`: imports a lead list (event or trade-show badge
 * scans, a webinar export) through `POST /admin/imports`, in batches, and prints what happened
 * to every row that did not simply go in.
 *
 * Offline (after `npm start`), the API URL and an admin token come from `.local/endpoints.json`.
 * Against a deployed stack, pass `--api <ApiUrl>` and an admin's Cognito id token in
 * `--token` or the `LEAD_PIPELINE_TOKEN` environment variable.
 *
 *   npm run import -- --client acme badge-scans.csv --list "SaaStr 2026" --dry-run
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import type { ImportReport } from '../shared/services/lead-import';
import { innerLineBreaks, MAX_IMPORT_ROWS } from '../shared/services/lead-import';
import type { Endpoints } from './runtime';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    client: { type: 'string' },
    api: { type: 'string' },
    token: { type: 'string' },
    endpoints: { type: 'string', default: '.local/endpoints.json' },
    list: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    batch: { type: 'string', default: '100' },
  },
});

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

const file =
  positionals[0] ?? fail('Usage: npm run import -- --client <name> [--dry-run] [--list <name>] <leads.csv>');
if (!existsSync(file)) fail(`No file ${file}`);

let apiUrl = values.api;
let token = values.token ?? process.env.LEAD_PIPELINE_TOKEN;
if (!apiUrl) {
  if (!existsSync(values.endpoints))
    fail(`No ${values.endpoints}: start the pipeline with \`npm start\`, or pass --api and --token.`);
  const endpoints = JSON.parse(readFileSync(values.endpoints, 'utf8')) as Endpoints;
  if (values.client && endpoints.client !== values.client) {
    fail(`The running pipeline is for client "${endpoints.client}", not "${values.client}".`);
  }
  apiUrl = endpoints.apiUrl;
  token ??= endpoints.tokens.admin;
}
if (!token) fail('An admin token is needed: --token or LEAD_PIPELINE_TOKEN.');
const batchSize = Math.min(Math.max(Number(values.batch) || 100, 1), MAX_IMPORT_ROWS);

// Batches are cut on records, not lines (quoted values may hold line breaks), and each batch
// repeats the header; row numbers are shifted back to lines of the whole file.
const records = parse(readFileSync(file, 'utf8'), {
  bom: true,
  skip_empty_lines: true,
  info: true,
  raw: true,
}) as unknown as Array<{ raw: string; info: { lines: number } }>;
const [header, ...rows] = records;
if (!header || rows.length === 0) fail(`${file} has no rows below its header row.`);

const totals: Record<string, number> = {};
const problems: string[] = [];
for (let start = 0; start < rows.length; start += batchSize) {
  const batch = rows.slice(start, start + batchSize);
  const csv = [header, ...batch].map((r) => r.raw.replace(/\r?\n$/, '')).join('\n');
  const response = await fetch(`${apiUrl.replace(/\/$/, '')}/admin/imports`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json',
    },
    body: JSON.stringify({ csv, dryRun: values['dry-run'], ...(values.list ? { list: values.list } : {}) }),
  });
  const text = await response.text();
  if (!response.ok) fail(`POST /admin/imports answered ${response.status}: ${text.slice(0, 1000)}`);
  const report = JSON.parse(text) as ImportReport;
  // Line in the whole file of a row the server reports by its line in this batch's CSV.
  const fileLine = new Map<number, number>();
  let batchLine = 2;
  for (const row of batch) {
    fileLine.set(batchLine, row.info.lines - innerLineBreaks(row.raw));
    batchLine += innerLineBreaks(row.raw) + 1;
  }
  const lineOf = (n: number) => fileLine.get(n) ?? n;
  for (const [outcome, count] of Object.entries(report.counts))
    totals[outcome] = (totals[outcome] ?? 0) + count;
  for (const result of report.results) {
    if (result.outcome === 'invalid') {
      for (const e of result.errors) problems.push(`line ${lineOf(result.row)}: ${e.field}: ${e.reason}`);
    } else if (result.outcome === 'duplicate-in-file') {
      problems.push(
        `line ${lineOf(result.row)}: the same person as line ${lineOf(result.sameAsRow)}; skipped`,
      );
    }
  }
}

const summary = Object.entries(totals)
  .filter(([, n]) => n > 0)
  .map(([outcome, n]) => `${n} ${outcome}`)
  .join(', ');
console.log(`${values['dry-run'] ? 'Dry run: ' : ''}${rows.length} rows from ${file}: ${summary}`);
for (const p of problems) console.log(`  ${p}`);
