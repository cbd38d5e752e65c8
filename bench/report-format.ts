/** Number, money, latency and table formatting shared by the bench's Markdown reports. */

/** A latency in whole milliseconds, or a dash when not measured. */
export const ms = (v: number | undefined) => (v === undefined ? '–' : `${Math.round(v)} ms`);
/** A number with a fixed count of decimals and thousands separators (en-US). */
export const num = (v: number, digits = 0) =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
/** Dollars: four decimals below one cent, so per-lead prices do not round to zero. */
export const usd = (v: number) => `$${v < 0.01 ? v.toFixed(4) : v.toFixed(3)}`;

/** A Markdown table. */
export function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}
