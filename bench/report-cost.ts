import type { BenchResult, CostBreakdown } from './report';
import { num, table, usd } from './report-format';

/**
 * Section 5 of the bench report: cost per 1,000 leads with and without nurture, line by line, then
 * what drives the dominant cost. Lines of Markdown, for `renderMarkdown` to append.
 */
export function renderCost(r: BenchResult): string[] {
  const out: string[] = [];
  const cost = r.cost;
  out.push(
    `### 5. Cost per 1,000 leads (${cost.pricing.region} list prices, ${cost.pricing.asOf}; check before relying on them)`,
    '',
  );
  const labels = [...new Set([...cost.withNurture.lines, ...cost.withoutNurture.lines].map((l) => l.label))];
  const line = (b: CostBreakdown, label: string) => b.lines.find((l) => l.label === label);
  out.push(
    table(
      ['Service', 'Quantity per lead (with nurture, if different)', 'Without nurture', 'With nurture'],
      [
        ...labels.map((label) => {
          const w = line(cost.withNurture, label);
          const wo = line(cost.withoutNurture, label);
          if (label.includes('(GB)')) {
            // Per lead, kilobytes read better than gigabytes.
            return [
              label.replace('(GB)', '(KB per lead)'),
              `${num((wo?.quantityPerLead ?? 0) * 1e6, 1)}${w && wo && w.quantityPerLead !== wo.quantityPerLead ? ` (${num(w.quantityPerLead * 1e6, 1)})` : ''}`,
              usd(wo?.usdPer1000Leads ?? 0),
              usd(w?.usdPer1000Leads ?? 0),
            ];
          }
          return [
            label,
            `${num(wo?.quantityPerLead ?? 0, 3)}${w && wo && w.quantityPerLead !== wo.quantityPerLead ? ` (${num(w.quantityPerLead, 3)})` : ''}`,
            usd(wo?.usdPer1000Leads ?? 0),
            usd(w?.usdPer1000Leads ?? 0),
          ];
        }),
        [
          '**Total**',
          '',
          `**${usd(cost.withoutNurture.usdPer1000Leads)}**`,
          `**${usd(cost.withNurture.usdPer1000Leads)}**`,
        ],
      ],
    ),
    '',
  );
  out.push(
    `AWS calls per lead at the local endpoints: ${Object.entries(r.awsCallsPerLead)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
  );
  const sf = cost.stepFunctions;
  const d = cost.dynamo;
  out.push(
    `**Dominant cost: ${cost.dominant?.label ?? '–'}** (${usd(cost.dominant?.usdPer1000Leads ?? 0)} per 1,000 leads with nurture). What drives it:`,
    '',
    `- **SLA ladder on EventBridge Scheduler**: no Standard transition; per assigned lead nobody answers (priced: bench leads are never contacted) ${sf.slaLadder?.schedulesPerLadder ?? '–'} one-time schedules and ${sf.slaLadder?.expressExecutionsPerLadder ?? '–'} Express rung executions (${sf.slaLadder?.expressGbSecondsPerLadder ?? '–'} GB-s); a lead contacted before its first deadline costs one Express execution and a deleted schedule. Per lead of the mix: Standard transitions ${sf.slaLadder?.standardTransitionsPerLead ?? '–'} (${sf.slaLadder?.standardTransitionsPerLeadWithNurture ?? '–'} with nurture), Express executions ${sf.slaLadder?.expressExecutionsPerLead ?? '–'}, schedules ${sf.slaLadder?.schedulesPerLead ?? '–'}.`,
    `- **DynamoDB**: ${d.writeUnitsPerLead} write units per lead, ${d.indexWriteUnitsPerLead} of them in the table's global secondary indexes (${d.indexes.join(', ')}: with ALL, every write of a lead item is written again, in full, to each index whose key it carries; with KEYS_ONLY, only writes that change an index key touch that index); ${d.transactWriteItemsPerLead} TransactWriteItems per lead (2 units per KB per item); ${d.failedWritesPerLead} refused conditional writes per lead (billed too); ${d.readUnitsPerLead} read units.`,
    `- **EventBridge**: ${cost.eventsPerLead} custom events per lead, one PutEvents per hop (capture → score → route → alert/SLA/nurture).`,
    `- **Lambda**: ${cost.lambdaByFunction
      .slice(0, 4)
      .map((f) => `${f.name} ${f.invocationsPerLead}×${num(f.pricedDurationMs, 0)} ms`)
      .join(
        ', ',
      )} (invocations per lead × mean warm handler time measured at idle on this machine, at the template's memory and architecture). By function, all its AWS calls included (USD per 1,000 leads): ${cost.lambdaByFunction
      .slice(0, 6)
      .map((f) => `${f.name} ${usd(f.usdPer1000Leads)}`)
      .join(', ')}.`,
    `- **Nurture**: ${cost.nurture.nurturedLeads} leads nurtured, ${cost.nurture.modeledEmailsPerNurturedLead} emails each over the whole sequence (${cost.nurture.consentMode}: only leads with marketing consent are emailed); modeled from the definitions and the measured cost of one nurture step.`,
    `- **Logs**: ${cost.logKbPerLead} KB of CloudWatch Logs per lead (Powertools JSON lines; Lambda platform lines and Step Functions execution data only at the levels the client file sets).`,
    '',
    `Not priced: ${cost.pricing.notPriced.join('; ')}.`,
  );

  return out;
}
