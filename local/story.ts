import type { ClientConfig } from '../shared/config/schema';
import type { SnsRecord } from './aws-endpoints';
import type { BusEvent } from './event-bus';
import type { SlackRecord } from './slack-recorder';
import type { ExecutionRecord } from './step-functions';

/**
 * The terminal's view of the pipeline: one readable line per lead event, each showing the
 * lead's story so far, e.g.
 * `10:42:07 lead 3f2a1b  captured (form) → scored 72 SQL → assigned to Ana Schmidt (EMEA, round-robin) → alerted`.
 */
export class LeadStory {
  private readonly stories = new Map<string, string[]>();

  constructor(
    private readonly config: ClientConfig,
    private readonly print: (line: string) => void,
  ) {}

  /** Feeds a bus event; prints a line when it is a step of a lead's story. */
  onEvent(event: BusEvent): void {
    const d = (event.detail ?? {}) as Record<string, unknown>;
    const leadId = typeof d.leadId === 'string' ? d.leadId : undefined;
    if (event.source === 'aws.ses') {
      this.onSes(event);
      return;
    }
    if (!leadId) return;
    const step = this.describe(event['detail-type'], d);
    if (step) this.add(leadId, step, d.isTest === true);
  }

  /** Feeds what the Slack and SNS recorders received. */
  onAlert(kind: 'sns' | 'slack', record: SnsRecord | SlackRecord): void {
    const text =
      kind === 'sns' ? (record as SnsRecord).message : JSON.stringify((record as SlackRecord).body);
    for (const leadId of this.stories.keys()) {
      if (text.includes(leadId)) {
        this.add(leadId, kind === 'slack' ? 'alerted on Slack' : 'alerted on SNS');
        return;
      }
    }
  }

  /**
   * Feeds a finished Step Functions execution: a failed one is a step of the lead's story (its
   * SLA ladder or nurture sequence stopped), printed with the error AWS would report. One
   * without a lead is printed on its own line, so no failure goes unseen.
   */
  onExecution(execution: ExecutionRecord): void {
    if (execution.status !== 'FAILED') return;
    const machine = execution.stateMachineArn.split(':').pop() ?? 'state machine';
    const what = /sla/i.test(machine) ? 'SLA ladder' : /nurture/i.test(machine) ? 'nurture' : machine;
    const cause = execution.cause ? `: ${execution.cause.slice(0, 160)}` : '';
    const step = `${what} FAILED (${execution.error ?? 'Error'}${cause})`;
    const input = execution.input as { leadId?: unknown } | undefined;
    if (typeof input?.leadId === 'string') {
      this.add(input.leadId, step);
      return;
    }
    const time = new Date().toISOString().slice(11, 19);
    this.print(`${time} execution ${execution.name}  ${step}`);
  }

  private onSes(event: BusEvent): void {
    const d = event.detail as { mail?: { tags?: Record<string, string[] | undefined> } };
    const leadId = d.mail?.tags?.lead_id?.[0];
    if (!leadId) return;
    // The story shows what matters to sales: an email reached (or failed to reach) the person.
    const kind = event['detail-type'].replace(/^Email /, '').toLowerCase();
    const shown: Record<string, string> = {
      delivered: `emailed (${d.mail?.tags?.kind?.[0] ?? 'email'})`,
      bounced: 'email bounced',
      'complaint received': 'complained about an email',
    };
    const step = shown[kind];
    if (step) this.add(leadId, step);
  }

  private describe(type: string, d: Record<string, unknown>): string | undefined {
    const rep = (id: unknown) => this.config.reps.find((r) => r.id === id)?.name ?? String(id);
    const team = (id: unknown) => this.config.teams.find((t) => t.id === id)?.name ?? String(id);
    switch (type) {
      case 'Lead Captured':
        return `captured (${d.provider}${d.channel ? `, ${d.channel}` : ''})${d.isTest ? ' [test]' : ''}`;
      case 'Lead Enriched':
        return undefined;
      case 'Lead Scored':
        return `scored ${d.total} ${d.stage === 'lead' ? 'lead' : d.stage}`;
      case 'Lead Assigned':
        return d.via === 'escalation'
          ? `reassigned to ${rep(d.repId)} (SLA step ${d.ladderStep})`
          : `assigned to ${rep(d.repId)} (${team(d.teamId)} ${d.via})`;
      case 'Lead Held':
        return `held for ${team(d.teamId)} until ${String(d.until).slice(11, 16)} UTC`;
      case 'Lead Nurtured':
        return `nurtured (${d.sequenceId})`;
      case 'Lead Contacted':
        return `contacted after ${duration(Number(d.secondsToFirstTouch))}`;
      case 'Lead Escalated':
        return `SLA missed by ${rep(d.fromRepId)}, escalated to ${d.to}`;
      case 'Lead Unworked':
        return `unworked, manager ${rep(d.managerId)} alerted`;
      case 'Lead Stage Changed':
        return `stage ${d.from ?? '-'} → ${d.to}`;
      case 'Lead Unsubscribed':
        return `unsubscribed (${d.via})`;
      case 'Stale Deal Found':
        return `stale deal (${d.daysInStage} days in ${d.pipelineStage})`;
      case 'Meeting Booked':
        return `meeting booked (${d.provider}, ${d.via === 'instant-offer' ? 'instant offer' : 'rep outreach'})`;
      case 'Meeting Canceled':
        return `meeting cancelled (${d.provider})`;
      case 'Activity Recorded':
        // Email activities mirror SES events, already shown; the rest is the lead's behaviour.
        if (typeof d.type === 'string' && d.type.startsWith('email_')) return undefined;
        return d.type === 'resubmitted'
          ? 'resubmitted (merged, still one lead)'
          : String(d.type).replace(/_/g, ' ');
      default:
        return undefined;
    }
  }

  private add(leadId: string, step: string, isTest = false): void {
    const story = this.stories.get(leadId) ?? [];
    story.push(step);
    this.stories.set(leadId, story);
    // Keep the line readable: the first step and the latest few.
    const shown = story.length > 6 ? [story[0], '…', ...story.slice(-4)] : story;
    const time = new Date().toISOString().slice(11, 19);
    this.print(`${time} lead ${leadId.slice(0, 8)}${isTest ? ' (test)' : ''}  ${shown.join(' → ')}`);
  }
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m >= 60) return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
  return m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}
