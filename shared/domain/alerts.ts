import type { ClientConfig, Priority, Rep } from '../config/schema';
import { earnsBookingOffer } from './booking';
import type { Lead } from './lead';
import type {
  AssignmentFacts,
  EscalationFacts,
  StaleDealFacts,
  TasksOverdueFacts,
  UnworkedFacts,
} from './lead-events';
import { topReasons } from './scoring';
import { assignmentDeadline } from './sla';

/**
 * Rep alerts, as pure message building: a Slack Block Kit message for the sales channel and a
 * short SNS notification whose attributes let each rep's subscription filter select their own.
 *
 * Everything a visitor typed (name, title, company, UTM values...) is untrusted: it is cut to a
 * bounded length and escaped for Slack mrkdwn, so a lead called `<!channel>` cannot ping the
 * whole channel and `<https://evil|click>` cannot become a link. Links carry only the
 * URL-encoded lead id inside the client's own template.
 */

/** Event types the alert function reacts to. */
export const ALERT_EVENT_TYPES = [
  'Lead Assigned',
  'Lead Escalated',
  'Lead Unworked',
  'Stale Deal Found',
  'Tasks Overdue',
] as const;
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];

/** One alertable event, with its parsed detail. */
export type AlertEvent =
  | { readonly type: 'Lead Assigned'; readonly detail: AssignmentFacts }
  | { readonly type: 'Lead Escalated'; readonly detail: EscalationFacts }
  | { readonly type: 'Lead Unworked'; readonly detail: UnworkedFacts }
  | { readonly type: 'Stale Deal Found'; readonly detail: StaleDealFacts }
  | { readonly type: 'Tasks Overdue'; readonly detail: TasksOverdueFacts };

/** The parts of the client configuration alerts read. */
export type AlertConfig = Pick<ClientConfig, 'client' | 'reps' | 'alerts' | 'sla' | 'pipeline'>;

/**
 * A Slack text object. User text inside `mrkdwn` must go through {@link mrkdwn}, and `mrkdwn`
 * objects are always `verbatim` (see {@link mrkdwnText}): Slack then turns no bare URL, channel
 * name or mention in a lead's fields into a link; only the links alerts write themselves
 * (`<url|label>`) are links.
 */
export type SlackText =
  | { readonly type: 'mrkdwn'; readonly text: string; readonly verbatim: true }
  | { readonly type: 'plain_text'; readonly text: string };

/** A verbatim `mrkdwn` text object. */
export function mrkdwnText(text: string): SlackText {
  return { type: 'mrkdwn', text, verbatim: true };
}

/** A Block Kit button: an action Slack posts to the interactivity endpoint, or a link (`url`). */
export interface SlackButton {
  readonly type: 'button';
  readonly text: Extract<SlackText, { readonly type: 'plain_text' }>;
  readonly action_id: string;
  readonly value?: string;
  readonly url?: string;
  readonly style?: 'primary' | 'danger';
}

/** The Block Kit blocks alerts use. */
export type SlackBlock =
  | { readonly type: 'header'; readonly text: Extract<SlackText, { readonly type: 'plain_text' }> }
  | { readonly type: 'section'; readonly text?: SlackText; readonly fields?: readonly SlackText[] }
  | { readonly type: 'context'; readonly elements: readonly SlackText[] }
  | { readonly type: 'actions'; readonly block_id?: string; readonly elements: readonly SlackButton[] }
  | { readonly type: 'divider' };

/** `action_id` of the alert's buttons; the `slack-actions` function answers `contacted`. */
export const ALERT_BUTTONS = { contacted: 'lead.contacted', open: 'lead.open' } as const;

/** Where an alert's links point, from the function's environment. */
export interface AlertLinks {
  /** The console's base URL (no trailing slash): the default target of "Open". @default - no console link */
  readonly consoleUrl?: string;
}

/** The lead's page in the console (its hash route). */
export function consoleLeadUrl(consoleUrl: string, leadId: string): string {
  return `${consoleUrl.replace(/\/+$/, '')}/#/leads/${encodeURIComponent(leadId)}`;
}

/** An incoming-webhook message: `text` is the notification fallback, `blocks` the layout. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

/** SNS message attributes; rep subscriptions filter on them. */
export interface TopicAttributes {
  /** The rep who should act (new owner, escalation recipient, manager). */
  readonly owner: string;
  readonly priority: Priority;
  readonly eventType: AlertEventType;
}

/** An SNS notification: ASCII subject (< 100 characters), text then JSON body, attributes. */
export interface TopicMessage {
  readonly subject: string;
  readonly message: string;
  readonly attributes: TopicAttributes;
}

/** A ready-to-send alert. */
export interface Alert {
  readonly eventType: AlertEventType;
  readonly leadId: string;
  /** The rep who should act. */
  readonly recipientId: string;
  readonly priority: Priority;
  readonly slack: SlackMessage;
  readonly topic: TopicMessage;
}

/** Either an alert to send or the reason there is none. */
export type AlertPlan =
  | { readonly send: true; readonly alert: Alert }
  | { readonly send: false; readonly reason: string };

/** Longest user-supplied value shown in an alert, in characters. */
export const MAX_USER_TEXT = 150;
/** Slack refuses section texts above 3000 characters; stay well below. */
const MAX_SECTION = 2900;
/** SNS subjects must be under 100 characters. */
const MAX_SUBJECT = 99;

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g;

/** Trims, folds control characters and runs of whitespace to one space, and bounds the length. */
export function cleanText(value: string | undefined, maxLength = MAX_USER_TEXT): string {
  if (value === undefined) return '';
  const flat = value.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  if (chars.length <= maxLength) return flat;
  return `${chars
    .slice(0, Math.max(0, maxLength - 1))
    .join('')
    .trimEnd()}…`;
}

/**
 * Makes untrusted text safe inside Slack mrkdwn: cleaned and bounded ({@link cleanText}), then
 * `&`, `<` and `>` escaped (so no link, mention or `<!channel>` can be formed), and the plain
 * `@here` / `@channel` / `@everyone` words broken with a zero-width space so they never notify.
 * Truncation happens before escaping, so an entity is never cut in half.
 */
export function mrkdwn(value: string | undefined, maxLength = MAX_USER_TEXT): string {
  return cleanText(value, maxLength)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(here|channel|everyone)\b/gi, '@\u200b$1');
}

/** The lead's page in the client's UI: the template with the URL-encoded id. */
export function leadUrl(template: string, leadId: string): string {
  return template.replaceAll('{leadId}', encodeURIComponent(leadId));
}

/**
 * An SNS-safe subject: accents folded to ASCII, anything else non-printable replaced, starting
 * with a letter, digit or punctuation mark, and under 100 characters.
 */
export function asciiSubject(value: string): string {
  const ascii = cleanText(value, 1000)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[‘’]/g, "'")
    .replace(/[“”]/g, '"')
    .replace(/[–—]/g, '-')
    .replace(/…/g, '...')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  const subject = ascii.length > MAX_SUBJECT ? `${ascii.slice(0, MAX_SUBJECT - 3).trimEnd()}...` : ascii;
  return subject === '' ? 'Lead alert' : subject;
}

/** "45 min", "2 h 5 min", "3 days". */
export function formatMinutes(minutes: number): string {
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 48) return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
  return `${Math.floor(hours / 24)} days`;
}

function formatPoints(points: number): string {
  return points > 0 ? `+${points}` : String(points);
}

const PRIORITY_LABEL: Readonly<Record<Priority, string>> = {
  high: ':red_circle: High',
  normal: ':large_blue_circle: Normal',
  low: ':white_circle: Low',
};

/** Wall-clock reading in a zone, `YYYY-MM-DD HH:mm Zone`, for fallbacks and email text. */
function localTime(at: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(at);
  const get = (t: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${timezone}`;
}

/** A Slack date token: every reader sees it in their own zone; the fallback is the rep's zone. */
function slackDate(at: Date, timezone: string): string {
  const epoch = Math.floor(at.getTime() / 1000);
  return `<!date^${epoch}^{date_short_pretty} at {time}|${localTime(at, timezone)}>`;
}

/** Builds alerts for one client configuration. */
class AlertBuilder {
  constructor(
    private readonly config: AlertConfig,
    readonly lead: Lead,
    private readonly links: AlertLinks = {},
  ) {}

  rep(id: string): Rep | undefined {
    return this.config.reps.find((r) => r.id === id);
  }

  /** `<@U…>` when the rep has a Slack id, else their (escaped) name or id. */
  mention(id: string): string {
    const rep = this.rep(id);
    if (rep?.slackUserId) return `<@${rep.slackUserId}>`;
    return `*${mrkdwn(rep?.name ?? id)}*`;
  }

  /** The rep's name as plain text (SNS). */
  name(id: string): string {
    return cleanText(this.rep(id)?.name ?? id);
  }

  personName(): string {
    const p = this.lead.profile;
    const name = [p.firstName, p.lastName].filter((s) => s !== undefined && s.trim() !== '').join(' ');
    return name || p.email || 'Unnamed lead';
  }

  /** "Jane Doe, VP Sales at Acme" in plain text. */
  whoPlain(): string {
    const p = this.lead.profile;
    const role = [cleanText(p.jobTitle), cleanText(p.company)].filter(Boolean).join(' at ');
    return role ? `${cleanText(this.personName())}, ${role}` : cleanText(this.personName());
  }

  whoMrkdwn(): string {
    const p = this.lead.profile;
    const role = [mrkdwn(p.jobTitle), mrkdwn(p.company)].filter(Boolean).join(' at ');
    return `*${mrkdwn(this.personName())}*${role ? `\n${role}` : ''}`;
  }

  scoreLine(): string {
    const s = this.lead.score;
    return s ? `*${s.total}* (${s.stage}; fit ${s.fit}, engagement ${s.engagement})` : '_not scored yet_';
  }

  reasonLines(): string[] {
    const s = this.lead.score;
    if (!s) return [];
    return topReasons(s, this.config.alerts.slack.topReasons).map(
      (r) => `• ${formatPoints(r.points)} ${mrkdwn(r.label, 120)}`,
    );
  }

  sourceLine(): string {
    const src = this.lead.source;
    const parts = [`${mrkdwn(src.channel, 60)} via ${mrkdwn(src.provider, 60)}`];
    if (src.utm.campaign) parts.push(`campaign _${mrkdwn(src.utm.campaign, 100)}_`);
    return parts.join(' · ');
  }

  sourcePlain(): string {
    const src = this.lead.source;
    const base = `${cleanText(src.channel, 60)} via ${cleanText(src.provider, 60)}`;
    return src.utm.campaign ? `${base}, campaign ${cleanText(src.utm.campaign, 100)}` : base;
  }

  /**
   * The lead's page: the client's own `leadUrlTemplate` when set (an outside CRM), else the
   * console. Undefined when there is neither.
   */
  url(): string | undefined {
    const template = this.config.client.leadUrlTemplate;
    if (template !== undefined) return leadUrl(template, this.lead.id);
    return this.links.consoleUrl ? consoleLeadUrl(this.links.consoleUrl, this.lead.id) : undefined;
  }

  /** The link in Slack syntax; the URL's own `&<>` escaped as Slack requires. */
  link(): string | undefined {
    const url = this.url()?.replace(/&/g, '&amp;').replace(/</g, '%3C').replace(/>/g, '%3E');
    return url === undefined ? undefined : `<${url}|Open the lead>`;
  }

  /** "Mark contacted" (when asked) and "Open" (when there is a page to open). */
  buttons(contact: boolean): SlackBlock | undefined {
    const url = this.url();
    const elements: SlackButton[] = [
      ...(contact
        ? [
            {
              type: 'button' as const,
              text: { type: 'plain_text' as const, text: 'Mark contacted' },
              action_id: ALERT_BUTTONS.contacted,
              value: this.lead.id,
              style: 'primary' as const,
            },
          ]
        : []),
      ...(url !== undefined
        ? [
            {
              type: 'button' as const,
              text: { type: 'plain_text' as const, text: 'Open' },
              action_id: ALERT_BUTTONS.open,
              value: this.lead.id,
              url,
            },
          ]
        : []),
    ];
    return elements.length > 0 ? { type: 'actions', block_id: 'lead-actions', elements } : undefined;
  }

  /** Header, intro, the lead's who/score/source, extra fields, reasons and the link. */
  slack(
    header: string,
    intro: string,
    fields: readonly string[],
    fallback: string,
    note?: string,
  ): SlackMessage {
    // Until someone made contact, the alert offers to record it.
    const contact = this.lead.firstTouchAt === undefined && this.lead.pipelineStage === undefined;
    const reasons = this.reasonLines();
    const blocks: SlackBlock[] = [
      { type: 'header', text: { type: 'plain_text', text: header } },
      { type: 'section', text: mrkdwnText(intro.slice(0, MAX_SECTION)) },
      {
        type: 'section',
        fields: [
          `*Lead*\n${this.whoMrkdwn()}`,
          `*Score*\n${this.scoreLine()}`,
          `*Source*\n${this.sourceLine()}`,
          ...fields,
        ]
          .slice(0, 10)
          .map(mrkdwnText),
      },
    ];
    if (reasons.length > 0)
      blocks.push({
        type: 'section',
        text: mrkdwnText(`*Why this score*\n${reasons.join('\n')}`.slice(0, MAX_SECTION)),
      });
    const link = this.link();
    if (link !== undefined) blocks.push({ type: 'section', text: mrkdwnText(link) });
    if (note) blocks.push({ type: 'context', elements: [mrkdwnText(note)] });
    const buttons = this.buttons(contact);
    if (buttons) blocks.push(buttons);
    return { text: fallback, blocks };
  }

  topic(
    subject: string,
    headline: string,
    lines: readonly string[],
    attributes: TopicAttributes,
    data: Record<string, unknown>,
  ): TopicMessage {
    const s = this.lead.score;
    const text = [
      headline,
      `Lead: ${this.whoPlain()}`,
      `Score: ${s ? `${s.total} (${s.stage})` : 'not scored yet'}`,
      `Source: ${this.sourcePlain()}`,
      ...lines,
      ...(this.url() !== undefined ? [`Open: ${this.url()}`] : []),
    ].join('\n');
    const json = JSON.stringify({
      eventType: attributes.eventType,
      leadId: this.lead.id,
      recipientId: attributes.owner,
      priority: attributes.priority,
      score: s?.total ?? null,
      stage: this.lead.stage,
      leadUrl: this.url() ?? null,
      ...data,
    });
    return { subject: asciiSubject(subject), message: `${text}\n\n${json}`, attributes };
  }
}

function assigned(b: AlertBuilder, config: AlertConfig, d: AssignmentFacts): Alert {
  const owner = b.rep(d.repId);
  const assignedAt = new Date(d.assignedAt);
  const deadline = assignmentDeadline(config.sla, owner, assignedAt, d.ladderStep);
  const zone = owner?.timezone ?? config.client.timezone;
  const escalated = d.via === 'escalation' && d.previousOwner !== undefined;
  const who = cleanText(b.personName(), 60);
  const header = escalated
    ? 'Lead reassigned: SLA missed'
    : d.priority === 'high'
      ? 'New high-priority lead'
      : 'New lead assigned';
  const intro = escalated
    ? `${b.mention(d.repId)}, this lead is yours now: ${b.mention(d.previousOwner ?? '')} did not contact it in time (escalation step ${d.ladderStep}).`
    : `${b.mention(d.repId)}, you have a new lead. First touch due ${slackDate(deadline, zone)}.`;
  const fields = [
    `*Owner*\n${b.mention(d.repId)}`,
    `*Priority*\n${PRIORITY_LABEL[d.priority]}`,
    `*SLA deadline*\n${slackDate(deadline, zone)}`,
  ];
  const fallback = escalated
    ? `Lead ${mrkdwn(who)} reassigned to ${mrkdwn(b.name(d.repId))} after a missed SLA`
    : `New ${d.priority === 'high' ? 'high-priority ' : ''}lead for ${mrkdwn(b.name(d.repId))}: ${mrkdwn(who)}`;
  // The visitor is being offered this rep's scheduling page right now (instant booking).
  const offered = !escalated && earnsBookingOffer({ ...b.lead, owner: d.repId }, config);
  const offerNote =
    'Offered a booking: the thank-you page links your scheduling page, name and email prefilled.';
  const attributes: TopicAttributes = { owner: d.repId, priority: d.priority, eventType: 'Lead Assigned' };
  const subject = escalated
    ? `Lead reassigned to you after a missed SLA: ${who}`
    : `New ${d.priority} priority lead: ${who}`;
  return {
    eventType: 'Lead Assigned',
    leadId: d.leadId,
    recipientId: d.repId,
    priority: d.priority,
    slack: b.slack(header, intro, fields, fallback, offered ? offerNote : undefined),
    topic: b.topic(
      subject,
      escalated
        ? `${b.name(d.repId)}, this lead is yours now: ${b.name(d.previousOwner ?? '')} did not contact it in time.`
        : `${b.name(d.repId)}, you have a new lead.`,
      [
        `Priority: ${d.priority}`,
        `First touch due: ${localTime(deadline, zone)} (${deadline.toISOString()})`,
        ...(offered ? [offerNote] : []),
      ],
      attributes,
      {
        via: d.via,
        ladderStep: d.ladderStep,
        ...(d.previousOwner ? { previousOwner: d.previousOwner } : {}),
        slaDeadline: deadline.toISOString(),
      },
    ),
  };
}

function escalatedAlert(b: AlertBuilder, lead: Lead, d: EscalationFacts): Alert {
  const recipient = d.toRepId ?? d.fromRepId;
  const who = cleanText(b.personName(), 60);
  const waited = formatMinutes(d.minutesWithoutContact);
  const intro = `${b.mention(recipient)}, heads-up: ${b.mention(d.fromRepId)} has not contacted this lead for ${waited} (escalation step ${d.ladderStep}).`;
  const attributes: TopicAttributes = {
    owner: recipient,
    priority: lead.priority,
    eventType: 'Lead Escalated',
  };
  return {
    eventType: 'Lead Escalated',
    leadId: d.leadId,
    recipientId: recipient,
    priority: lead.priority,
    slack: b.slack(
      'SLA missed: lead escalated',
      intro,
      [`*Owner*\n${b.mention(d.fromRepId)}`, `*Priority*\n${PRIORITY_LABEL[lead.priority]}`],
      `SLA missed on ${mrkdwn(who)}: no contact for ${waited}`,
    ),
    topic: b.topic(
      `SLA missed: ${who} waiting ${waited}`,
      `${b.name(recipient)}, heads-up: ${b.name(d.fromRepId)} has not contacted this lead for ${waited}.`,
      [`Priority: ${lead.priority}`],
      attributes,
      { fromRepId: d.fromRepId, ladderStep: d.ladderStep, minutesWithoutContact: d.minutesWithoutContact },
    ),
  };
}

function unworkedAlert(b: AlertBuilder, lead: Lead, d: UnworkedFacts): Alert {
  const who = cleanText(b.personName(), 60);
  const waited = formatMinutes(d.minutesWithoutContact);
  const intro = `${b.mention(d.managerId)}, nobody contacted this lead in ${waited}. The escalation ladder has ended; it was last with ${b.mention(d.lastOwner)}.`;
  const attributes: TopicAttributes = {
    owner: d.managerId,
    priority: lead.priority,
    eventType: 'Lead Unworked',
  };
  return {
    eventType: 'Lead Unworked',
    leadId: d.leadId,
    recipientId: d.managerId,
    priority: lead.priority,
    slack: b.slack(
      'Lead went unworked',
      intro,
      [`*Last owner*\n${b.mention(d.lastOwner)}`, `*Priority*\n${PRIORITY_LABEL[lead.priority]}`],
      `Lead ${mrkdwn(who)} went unworked after ${waited}`,
      'Marked unworked: it no longer counts against the last owner. Reassign it from the lead page.',
    ),
    topic: b.topic(
      `Lead unworked after ${waited}: ${who}`,
      `${b.name(d.managerId)}, nobody contacted this lead in ${waited}; it was last with ${b.name(d.lastOwner)}.`,
      [`Priority: ${lead.priority}`],
      attributes,
      { lastOwner: d.lastOwner, minutesWithoutContact: d.minutesWithoutContact },
    ),
  };
}

/** Bullet lines for overdue tasks: title (mrkdwn-safe) and how long past due. */
function overdueLines(tasks: ReadonlyArray<{ title: string; dueAt: string }>, now: Date): string[] {
  return tasks.map((t) => {
    const late = Math.max(0, Math.floor((now.getTime() - Date.parse(t.dueAt)) / 60_000));
    return `• ${mrkdwn(t.title, 120)} (${formatMinutes(late)} overdue)`;
  });
}

function tasksOverdueAlert(b: AlertBuilder, config: AlertConfig, lead: Lead, d: TasksOverdueFacts): Alert {
  const who = cleanText(b.personName(), 60);
  const stage = config.pipeline.stages.find((s) => s.id === d.pipelineStage)?.name ?? d.pipelineStage;
  const count = `${d.tasks.length} overdue task${d.tasks.length === 1 ? '' : 's'}`;
  const lines = overdueLines(d.tasks, new Date(d.occurredAt));
  const attributes: TopicAttributes = { owner: d.repId, priority: lead.priority, eventType: 'Tasks Overdue' };
  return {
    eventType: 'Tasks Overdue',
    leadId: d.leadId,
    recipientId: d.repId,
    priority: lead.priority,
    slack: b.slack(
      'Overdue tasks on a deal',
      `${b.mention(d.repId)}, this deal in *${mrkdwn(stage, 60)}* has ${count}:\n${lines.join('\n')}`,
      [`*Owner*\n${b.mention(d.repId)}`, `*Stage*\n${mrkdwn(stage, 60)}`],
      `${count} on ${mrkdwn(who)}`,
    ),
    topic: b.topic(
      `${count}: ${who}`,
      `${b.name(d.repId)}, this deal in ${cleanText(stage, 60)} has ${count}.`,
      d.tasks.map((t) => `Overdue: ${cleanText(t.title, 120)} (due ${t.dueAt})`),
      attributes,
      { pipelineStage: d.pipelineStage, overdueTasks: d.tasks.length },
    ),
  };
}

function staleAlert(b: AlertBuilder, config: AlertConfig, lead: Lead, d: StaleDealFacts): Alert {
  const who = cleanText(b.personName(), 60);
  const stage = config.pipeline.stages.find((s) => s.id === d.pipelineStage)?.name ?? d.pipelineStage;
  const amount =
    lead.amount === undefined
      ? undefined
      : new Intl.NumberFormat('en-GB', {
          style: 'currency',
          currency: config.client.currency,
          maximumFractionDigits: 0,
        }).format(lead.amount);
  const overdue =
    d.overdueTasks.length === 0
      ? ''
      : `\nIt also has ${d.overdueTasks.length} overdue task${d.overdueTasks.length === 1 ? '' : 's'}:\n${overdueLines(d.overdueTasks, new Date(d.occurredAt)).join('\n')}`;
  const intro = `${b.mention(d.repId)}, this deal has been in *${mrkdwn(stage, 60)}* for ${d.daysInStage} days.${overdue}`;
  const attributes: TopicAttributes = {
    owner: d.repId,
    priority: lead.priority,
    eventType: 'Stale Deal Found',
  };
  return {
    eventType: 'Stale Deal Found',
    leadId: d.leadId,
    recipientId: d.repId,
    priority: lead.priority,
    slack: b.slack(
      'Deal going stale',
      intro,
      [
        `*Owner*\n${b.mention(d.repId)}`,
        `*Stage*\n${mrkdwn(stage, 60)} (${d.daysInStage} days)`,
        ...(amount ? [`*Amount*\n${mrkdwn(amount, 40)}`] : []),
      ],
      `Deal ${mrkdwn(who)} stuck in ${mrkdwn(stage, 60)} for ${d.daysInStage} days`,
    ),
    topic: b.topic(
      `Stale deal: ${who} in ${cleanText(stage, 40)} for ${d.daysInStage} days`,
      `${b.name(d.repId)}, this deal has been in ${cleanText(stage, 60)} for ${d.daysInStage} days.`,
      [
        ...(amount ? [`Amount: ${amount}`] : []),
        ...d.overdueTasks.map((t) => `Overdue: ${cleanText(t.title, 120)} (due ${t.dueAt})`),
      ],
      attributes,
      { pipelineStage: d.pipelineStage, daysInStage: d.daysInStage, overdueTasks: d.overdueTasks.length },
    ),
  };
}

/**
 * Builds the alert for an event about `lead`, or says why there is none. Test leads are never
 * alerted (checked on the event and on the stored lead). A `Lead Escalated` event whose ladder
 * step reassigns the lead is announced by the `Lead Assigned` event the same escalation
 * publishes, so the channel sees one message per escalation, not two.
 */
export function buildAlert(
  event: AlertEvent,
  lead: Lead,
  config: AlertConfig,
  links: AlertLinks = {},
): AlertPlan {
  if (event.detail.isTest || lead.isTest) return { send: false, reason: 'test lead: never alerted' };
  if (event.detail.leadId !== lead.id)
    return { send: false, reason: `event is about lead ${event.detail.leadId}, not ${lead.id}` };
  const b = new AlertBuilder(config, lead, links);
  switch (event.type) {
    case 'Lead Assigned':
      return { send: true, alert: assigned(b, config, event.detail) };
    case 'Lead Escalated': {
      const step = config.sla.ladder[event.detail.ladderStep - 1];
      if (step?.reassign && event.detail.toRepId !== undefined)
        return {
          send: false,
          reason: 'the escalation reassigned the lead; its Lead Assigned event carries the alert',
        };
      return { send: true, alert: escalatedAlert(b, lead, event.detail) };
    }
    case 'Lead Unworked':
      return { send: true, alert: unworkedAlert(b, lead, event.detail) };
    case 'Stale Deal Found':
      return { send: true, alert: staleAlert(b, config, lead, event.detail) };
    case 'Tasks Overdue':
      return { send: true, alert: tasksOverdueAlert(b, config, lead, event.detail) };
  }
}
