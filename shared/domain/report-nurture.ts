import { type Activity, type Lead, LIFECYCLE_STAGES } from './lead';
import { rate } from './report-stats';
/** Nurture email performance: sends, opens, clicks, bounces per sequence and step. */

// ------------------------------------------------------------------------------------ nurture (email)

/** A nurture or auto-response send record (`SEND#<sequence>#<step>`). */
export interface SendRecord {
  readonly sequenceId: string;
  readonly stepId: string;
  readonly at?: string;
  /** `sms` for a text message; email otherwise. */
  readonly channel?: 'email' | 'sms';
  /** The branch (`<sequence>/<step>/<branch>`) that led the lead to this step. */
  readonly via?: string;
}

/** A lead's email history: its activities and its send records. */
export interface LeadEmailHistory {
  readonly activities: readonly Activity[];
  readonly sends: readonly SendRecord[];
  /** When the lead's score reached each stage (its score history), for conversions after a send. */
  readonly stages?: ReadonlyArray<{ readonly at: string; readonly stage: string }>;
}

/**
 * One row of nurture performance: a step reached one way (by its sequence's default path, or
 * by a branch), with what the sends did. A conversion or unsubscribe counts for the last send
 * before it (the touch that preceded it).
 */
export interface NurtureStepCounts {
  readonly sequenceId: string;
  readonly stepId: string;
  /** The branch that led here (`<sequence>/<step>/<branch>`), or null for the default path. */
  readonly branch: string | null;
  readonly channel: 'email' | 'sms';
  readonly sent: number;
  /** Opened by a person (machine opens excluded), once per message. */
  readonly opened: number;
  /** Clicked by a person (scanners excluded), once per message. */
  readonly clicked: number;
  /** Reached MQL after this send and before the next one. */
  readonly convertedMql: number;
  /** Reached SQL after this send and before the next one. */
  readonly convertedSql: number;
  readonly unsubscribed: number;
}

export interface EmailCounts {
  readonly sent: number;
  readonly delivered: number;
  /** Messages opened by a person (machine opens by privacy proxies and scanners excluded). */
  readonly opened: number;
  readonly clicked: number;
  readonly bounced: number;
  readonly complained: number;
  readonly deliveryRate: number | null;
  readonly openRate: number | null;
  readonly clickRate: number | null;
  readonly bounceRate: number | null;
}

export interface NurtureReport extends EmailCounts {
  /** Leads with at least one send. */
  readonly emailedLeads: number;
  /** Leads that unsubscribed (activity or flag). */
  readonly unsubscribed: number;
  readonly unsubscribeRate: number | null;
  readonly complaintRate: number | null;
  readonly clickToOpenRate: number | null;
  readonly machineOpens: number;
  readonly machineClicks: number;
  /** Per sequence (`auto-response` for the acknowledgement email). */
  readonly bySequence: ReadonlyArray<EmailCounts & { readonly sequenceId: string }>;
  /** Per nurture step and the branch that led to it (auto-responses and reminders excluded). */
  readonly bySteps: readonly NurtureStepCounts[];
}

/** A stored stage's rank; an unknown value ranks below every stage. */
const LIFECYCLE_RANK = (stage: string) =>
  LIFECYCLE_STAGES.indexOf(stage as (typeof LIFECYCLE_STAGES)[number]);

/** Send records that are not nurture steps: the acknowledgement email and SMS meeting reminders. */
const NOT_NURTURE = new Set(['auto-response', 'sms-reminder']);

/** Nurture performance by step and branch (see {@link NurtureStepCounts}). */
export function nurtureStepCounts(
  leads: readonly Lead[],
  history: ReadonlyMap<string, LeadEmailHistory>,
): NurtureStepCounts[] {
  const rows = new Map<string, { -readonly [K in keyof NurtureStepCounts]: NurtureStepCounts[K] }>();
  for (const lead of leads) {
    const h = history.get(lead.id);
    if (!h) continue;
    const sends = h.sends
      .filter((s) => !NOT_NURTURE.has(s.sequenceId))
      .slice()
      .sort((a, b) => (a.at ?? '').localeCompare(b.at ?? ''));
    // When the lead first reached each stage (or a later one): a conversion happens once.
    const firstAt = (stage: 'MQL' | 'SQL') =>
      (h.stages ?? [])
        .filter((q) => LIFECYCLE_RANK(q.stage) >= LIFECYCLE_RANK(stage))
        .map((q) => q.at)
        .sort()[0];
    const mqlAt = firstAt('MQL');
    const sqlAt = firstAt('SQL');
    sends.forEach((send, i) => {
      const branch = send.via ?? null;
      const key = `${send.sequenceId}\u0000${send.stepId}\u0000${branch ?? ''}`;
      let row = rows.get(key);
      if (!row) {
        row = {
          sequenceId: send.sequenceId,
          stepId: send.stepId,
          branch,
          channel: send.channel ?? 'email',
          sent: 0,
          opened: 0,
          clicked: 0,
          convertedMql: 0,
          convertedSql: 0,
          unsubscribed: 0,
        };
        rows.set(key, row);
      }
      row.sent++;
      const ofThisSend = (a: Activity) =>
        a.data.machine !== true && a.data.sequence === send.sequenceId && a.data.step === send.stepId;
      if (h.activities.some((a) => a.type === 'email_opened' && ofThisSend(a))) row.opened++;
      if (h.activities.some((a) => a.type === 'email_clicked' && ofThisSend(a))) row.clicked++;
      const from = send.at ?? '';
      const until = sends[i + 1]?.at ?? '\uffff';
      const inWindow = (at: string) => at > from && at <= until;
      if (mqlAt !== undefined && inWindow(mqlAt)) row.convertedMql++;
      if (sqlAt !== undefined && inWindow(sqlAt)) row.convertedSql++;
      if (h.activities.some((a) => a.type === 'unsubscribed' && inWindow(a.at))) row.unsubscribed++;
    });
  }
  return [...rows.values()].sort(
    (a, b) =>
      a.sequenceId.localeCompare(b.sequenceId) ||
      a.stepId.localeCompare(b.stepId) ||
      (a.branch ?? '').localeCompare(b.branch ?? ''),
  );
}

const EMAIL_TYPES = {
  email_delivered: 'delivered',
  email_opened: 'opened',
  email_clicked: 'clicked',
  email_bounced: 'bounced',
  email_complained: 'complained',
} as const;
type EmailMetric = (typeof EMAIL_TYPES)[keyof typeof EMAIL_TYPES];

function emailCounts(sent: number, messages: Record<EmailMetric, Set<string>>): EmailCounts {
  const delivered = messages.delivered.size;
  return {
    sent,
    delivered,
    opened: messages.opened.size,
    clicked: messages.clicked.size,
    bounced: messages.bounced.size,
    complained: messages.complained.size,
    deliveryRate: rate(delivered, sent),
    openRate: rate(messages.opened.size, delivered),
    clickRate: rate(messages.clicked.size, delivered),
    bounceRate: rate(messages.bounced.size, sent),
  };
}

function emptyMessages(): Record<EmailMetric, Set<string>> {
  return {
    delivered: new Set(),
    opened: new Set(),
    clicked: new Set(),
    bounced: new Set(),
    complained: new Set(),
  };
}

/**
 * Email stats: sends from the send records; deliveries, opens, clicks, bounces and complaints
 * from SES activities, counted once per message (several opens of one email are one open) and
 * without machine opens/clicks; unsubscribes per lead.
 */
export function nurtureReport(
  leads: readonly Lead[],
  history: ReadonlyMap<string, LeadEmailHistory>,
): NurtureReport {
  const overall = emptyMessages();
  const perSequence = new Map<string, { sent: number; messages: Record<EmailMetric, Set<string>> }>();
  const sequence = (id: string) => {
    let entry = perSequence.get(id);
    if (!entry) {
      entry = { sent: 0, messages: emptyMessages() };
      perSequence.set(id, entry);
    }
    return entry;
  };
  let sent = 0;
  let emailedLeads = 0;
  let unsubscribed = 0;
  let machineOpens = 0;
  let machineClicks = 0;
  for (const lead of leads) {
    const h = history.get(lead.id) ?? { activities: [], sends: [] };
    sent += h.sends.length;
    if (h.sends.length > 0) emailedLeads++;
    for (const send of h.sends) sequence(send.sequenceId).sent++;
    if (lead.unsubscribed || h.activities.some((a) => a.type === 'unsubscribed')) unsubscribed++;
    for (const a of h.activities) {
      const metric = EMAIL_TYPES[a.type as keyof typeof EMAIL_TYPES] as EmailMetric | undefined;
      if (!metric) continue;
      if (a.data.machine === true) {
        if (metric === 'opened') machineOpens++;
        if (metric === 'clicked') machineClicks++;
        continue;
      }
      const message = `${lead.id}\u0000${typeof a.data.messageId === 'string' ? a.data.messageId : a.id}`;
      overall[metric].add(message);
      const seq = typeof a.data.sequence === 'string' ? a.data.sequence : undefined;
      if (seq !== undefined) sequence(seq).messages[metric].add(message);
    }
  }
  const counts = emailCounts(sent, overall);
  return {
    ...counts,
    emailedLeads,
    unsubscribed,
    unsubscribeRate: rate(unsubscribed, emailedLeads),
    complaintRate: rate(counts.complained, counts.delivered),
    clickToOpenRate: rate(counts.clicked, counts.opened),
    machineOpens,
    machineClicks,
    bySequence: [...perSequence]
      .map(([sequenceId, s]) => ({ sequenceId, ...emailCounts(s.sent, s.messages) }))
      .sort((a, b) => b.sent - a.sent || a.sequenceId.localeCompare(b.sequenceId)),
    bySteps: nurtureStepCounts(leads, history),
  };
}
