import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultsResult, HostileResult, RedeliveryResult } from './scenarios';

/** The chaos run's outcome: the README table, the JSON file and the pass/fail verdict. */
export interface ChaosResults {
  readonly startedAt: string;
  readonly machine: string;
  readonly hostile?: HostileResult;
  readonly redelivery?: RedeliveryResult;
  readonly faults?: FaultsResult;
}

const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/** Each failed promise, as a line; empty when the run passed. */
export function failures(r: ChaosResults): string[] {
  const out: string[] = [];
  const h = r.hostile;
  if (h) {
    if (h.serverErrors.length) out.push(`${h.serverErrors.length} answers were 5xx`);
    if (h.invalidStored.length) out.push(`${h.invalidStored.length} stored leads hold invalid data`);
    if (h.unescapedHtml.length + h.unescapedSlack.length) out.push('lead input rendered unescaped');
    if (h.authBypasses.length)
      out.push(`${h.authBypasses.length} requests passed an authorization check they should fail`);
    if (h.deadLetters) out.push(`${h.deadLetters} dead letters after the hostile run`);
    if (!h.normalLeadReachedSlack) out.push('a normal lead did not reach Slack after the hostile run');
  }
  const d = r.redelivery;
  if (d) {
    const doubles = total(d.doubleEffects) + d.newEventsFromReplay + d.timelineEntriesAdded;
    if (doubles) out.push(`redelivery caused ${doubles} double effects`);
    if (d.deadLetters) out.push(`${d.deadLetters} dead letters after redelivery`);
  }
  const f = r.faults;
  if (f) {
    if (f.lost.length) out.push(`${f.lost.length} accepted leads lost under faults`);
    if (total(f.doubleEffects)) out.push(`faults caused ${total(f.doubleEffects)} double effects`);
    if (f.redriveFailed || f.deadLettersAfter)
      out.push(`${f.deadLettersAfter} dead letters left after redrive`);
    if (f.secondRedrive) out.push(`a second redrive replayed ${f.secondRedrive} letters`);
  }
  return out;
}

/** The table printed and put in the README. */
export function table(r: ChaosResults): string {
  const rows: Array<[string, string]> = [];
  const h = r.hostile;
  if (h) {
    const kinds = Object.entries(h.byKind)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    rows.push(['Hostile requests sent', `${h.requests} (${kinds})`]);
    rows.push([
      'Answers by status',
      Object.entries(h.byStatus)
        .sort()
        .map(([s, n]) => `${s}: ${n}`)
        .join(', '),
    ]);
    rows.push(['5xx answers', String(h.serverErrors.length)]);
    rows.push(['Invalid data stored (bad email, CR/LF)', String(h.invalidStored.length)]);
    rows.push([
      'Lead input rendered unescaped (Slack, HTML)',
      String(h.unescapedSlack.length + h.unescapedHtml.length),
    ]);
    rows.push(['Authorization bypasses', String(h.authBypasses.length)]);
    rows.push(['Normal lead reached Slack afterwards', h.normalLeadReachedSlack ? 'yes' : 'NO']);
  }
  const d = r.redelivery;
  if (d) {
    rows.push([
      'Events redelivered (twice concurrently, twice reversed)',
      `${d.eventsRedelivered} for ${d.leads} leads`,
    ]);
    rows.push([
      'Double effects on redelivery',
      `${total(d.doubleEffects) + d.newEventsFromReplay + d.timelineEntriesAdded} (assignments ${d.doubleEffects.assignments}, Slack ${d.doubleEffects.slackAlerts}, SNS ${d.doubleEffects.snsAlerts}, emails ${d.doubleEffects.emails}, timeline ${d.timelineEntriesAdded}, new events ${d.newEventsFromReplay})`,
    ]);
  }
  const f = r.faults;
  if (f) {
    rows.push([
      'Faults injected',
      Object.entries(f.faultsInjected)
        .map(([k, n]) => `${k} ${n}`)
        .join(', '),
    ]);
    rows.push([
      'Leads under faults',
      `${f.submitted} sent at ${f.ratePerSecond}/s, ${f.accepted} accepted, ${f.refused} refused (answered 5xx/429 after retries)`,
    ]);
    rows.push(['Accepted leads lost', String(f.lost.length)]);
    rows.push(['Double effects under faults', String(total(f.doubleEffects))]);
    rows.push([
      'DLQ entries redriven',
      `${f.redriven} of ${f.deadLettersBeforeRedrive} (second run: ${f.secondRedrive}; left: ${f.deadLettersAfter})`,
    ]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    `| ${'Measure'.padEnd(width)} | Result |`,
    `| ${'-'.repeat(width)} | ------ |`,
    ...rows.map(([k, v]) => `| ${k.padEnd(width)} | ${v} |`),
  ].join('\n');
}

/** Writes `bench/results/chaos-<date>.json`; returns its path. */
export function writeResults(dir: string, r: ChaosResults): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `chaos-${r.startedAt.slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify({ ...r, failures: failures(r) }, null, 2)}\n`);
  return file;
}
