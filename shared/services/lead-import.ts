import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { type Caller, requireAdmin } from '../domain/access';
import { InvalidInputError } from '../domain/errors';
import { parseInput } from '../domain/input';
import { normaliseSubmission } from '../domain/normalise';
import { type IntakeDeps, intakeLead } from './intake';
import { mapLimit } from './map-limit';

/**
 * Bulk import of lead lists (event and trade-show badge scans, webinar exports): a CSV whose
 * header row names the fields the way forms do (`email`, `First Name`, `company`, `phone`,
 * `country`...; anything else lands in `extra`). Each row goes through the same intake as a
 * form post, so it is normalised, deduplicated against existing leads (a known person's lead
 * is updated, never duplicated), stored and published as `Lead Captured`, then scored, routed
 * and alerted like any lead. Imported leads carry `source.provider = "import"` and the list's
 * name as `source.formId`.
 *
 * A dry run checks every row and says what would happen (`would-create` / `would-update`)
 * without writing anything. Errors name the row (its line in the file, header = line 1) and
 * the field. A file may hold at most {@link MAX_IMPORT_ROWS} rows; the import command sends
 * larger files in batches.
 *
 * csv-parse (the node-csv project) reads the file: RFC 4180 quoting, line breaks inside
 * quoted values, a byte-order mark, and the line number of every record, which a split on
 * commas gets wrong for exactly the exports spreadsheets produce.
 */

/** Most rows in one import request: one request stays well inside the function's 10 s timeout. */
export const MAX_IMPORT_ROWS = 250;
/** Rows taken in at once (each is a few DynamoDB writes and one event). */
const CONCURRENCY = 4;
/** The provider imported leads are marked with. */
export const IMPORT_PROVIDER = 'import';

/** `POST /admin/imports` body. */
export const ImportRequestSchema = z.strictObject({
  /** The CSV text, header row first. */
  csv: z.string({ error: 'the CSV file as text' }).min(1, 'the CSV file is empty'),
  /** Check every row and report, without writing. @default false */
  dryRun: z.boolean().default(false),
  /** Name of the list ("SaaStr Annual 2026 badge scans"), kept as the leads' `source.formId`. */
  list: z.string().trim().min(1).max(100).optional(),
});

/** What happened to one row. */
export type ImportRowResult =
  | {
      readonly row: number;
      readonly outcome: 'created' | 'updated' | 'would-create' | 'would-update';
      readonly leadId?: string;
    }
  | { readonly row: number; readonly outcome: 'duplicate-in-file'; readonly sameAsRow: number }
  | {
      readonly row: number;
      readonly outcome: 'invalid';
      readonly errors: ReadonlyArray<{ field: string; reason: string }>;
    };

/** The import's report. */
export interface ImportReport {
  readonly dryRun: boolean;
  readonly rows: number;
  readonly counts: Readonly<Record<ImportRowResult['outcome'], number>>;
  readonly results: readonly ImportRowResult[];
}

/** One data row with the line it starts on. */
interface CsvRow {
  readonly line: number;
  readonly fields: Record<string, string>;
}

/** Line breaks inside a raw record (a quoted value spanning lines), its own end excluded. */
export function innerLineBreaks(raw: string): number {
  return (raw.replace(/\r?\n$/, '').match(/\n/g) ?? []).length;
}

/**
 * Parses the CSV; each row carries the line it starts on (header = line 1).
 * @throws InvalidInputError naming `csv` and the line for a malformed file.
 */
export function readCsv(text: string): CsvRow[] {
  let records: Array<{ record: Record<string, string>; info: { lines: number }; raw: string }>;
  try {
    records = parse(text, {
      bom: true,
      columns: (header: string[]) => header.map((h) => h.trim()),
      skip_empty_lines: true,
      trim: true,
      info: true,
      raw: true,
    });
  } catch (error) {
    throw new InvalidInputError([{ field: 'csv', reason: (error as Error).message }]);
  }
  return records.map(({ record, info, raw }) => ({
    // `info.lines` is where the record ends.
    line: info.lines - innerLineBreaks(raw),
    fields: Object.fromEntries(Object.entries(record).filter(([key, value]) => key !== '' && value !== '')),
  }));
}

/**
 * Imports a lead list (admins only).
 * @throws NotAllowedError for a non-admin; InvalidInputError naming the field for a bad request or file.
 */
export async function importLeads(caller: Caller, input: unknown, deps: IntakeDeps): Promise<ImportReport> {
  requireAdmin(caller, 'import leads');
  const request = parseInput(ImportRequestSchema, input);
  const rows = readCsv(request.csv);
  if (rows.length === 0)
    throw new InvalidInputError([{ field: 'csv', reason: 'no rows below the header row' }]);
  if (rows.length > MAX_IMPORT_ROWS) {
    throw new InvalidInputError([
      {
        field: 'csv',
        reason: `${rows.length} rows; at most ${MAX_IMPORT_ROWS} per request (the import command sends batches)`,
      },
    ]);
  }
  const now = (deps.now ?? (() => new Date()))();
  const source = request.list ? { formId: request.list } : {};

  // Validate every row first and find duplicates inside the file: a file with errors is still
  // imported row by row, but the report names each bad row and field.
  const firstRowOf = new Map<string, number>();
  const plan: Array<{ row: CsvRow; result?: ImportRowResult; dedupeKey?: string }> = rows.map((row) => {
    const normalised = normaliseSubmission(row.fields, {
      defaultCountry: deps.config.client.defaultCountry,
      maxExtraFields: deps.config.capture.maxExtraFields,
      now,
      provider: IMPORT_PROVIDER,
    });
    if (!normalised.ok)
      return { row, result: { row: row.line, outcome: 'invalid', errors: normalised.errors } };
    const key = normalised.profile.dedupeKey;
    const first = firstRowOf.get(key);
    if (first !== undefined)
      return { row, result: { row: row.line, outcome: 'duplicate-in-file', sameAsRow: first } };
    firstRowOf.set(key, row.line);
    return { row, dedupeKey: key };
  });

  const results = await mapLimit(plan, CONCURRENCY, async (item): Promise<ImportRowResult> => {
    if (item.result) return item.result;
    if (request.dryRun) {
      const existing = item.dedupeKey ? await deps.store.findLeadIdByDedupeKey(item.dedupeKey) : undefined;
      return existing
        ? { row: item.row.line, outcome: 'would-update', leadId: existing }
        : { row: item.row.line, outcome: 'would-create' };
    }
    try {
      const taken = await intakeLead({ fields: item.row.fields, provider: IMPORT_PROVIDER, source }, deps);
      return {
        row: item.row.line,
        outcome: taken.outcome === 'created' ? 'created' : 'updated',
        leadId: taken.leadId,
      };
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      return { row: item.row.line, outcome: 'invalid', errors: [...error.problems] };
    }
  });

  const counts = {
    created: 0,
    updated: 0,
    'would-create': 0,
    'would-update': 0,
    'duplicate-in-file': 0,
    invalid: 0,
  } satisfies Record<ImportRowResult['outcome'], number>;
  for (const r of results) counts[r.outcome] += 1;
  return { dryRun: request.dryRun, rows: rows.length, counts, results };
}
