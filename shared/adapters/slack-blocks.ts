import type { Priority } from '../config/schema';
import {
  ALERT_ACTIONS,
  type AlertAction,
  type AlertFacts,
  type AlertPerson,
  cleanText,
  formatMinutes,
  localTime,
  MAX_USER_TEXT,
  type OverdueTask,
} from '../domain/alerts';
import { type ActionReply, formatSpeed } from '../domain/slack-actions';

/**
 * Slack Block Kit for rep alerts and for the replies to their buttons: how the domain's alert
 * facts look in a channel.
 *
 * Everything a visitor typed (name, title, company, UTM values...) is untrusted: it is cut to a
 * bounded length and escaped for Slack mrkdwn, so a lead called `<!channel>` cannot ping the
 * whole channel and `<https://evil|click>` cannot become a link. Links carry only the
 * URL-encoded lead id inside the client's own template.
 */

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

/** An incoming-webhook message: `text` is the notification fallback, `blocks` the layout. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

/** Slack refuses section texts above 3000 characters; stay well below. */
const MAX_SECTION = 2900;

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

const PRIORITY_LABEL: Readonly<Record<Priority, string>> = {
  high: ':red_circle: High',
  normal: ':large_blue_circle: Normal',
  low: ':white_circle: Low',
};

/** The buttons of each action the domain offers. */
const BUTTONS: Readonly<Record<AlertAction, { readonly label: string; readonly style?: 'primary' }>> = {
  [ALERT_ACTIONS.contacted]: { label: 'Mark contacted', style: 'primary' },
  [ALERT_ACTIONS.open]: { label: 'Open' },
};

/** A Slack date token: every reader sees it in their own zone; the fallback is the rep's zone. */
function slackDate(at: Date, timezone: string): string {
  const epoch = Math.floor(at.getTime() / 1000);
  return `<!date^${epoch}^{date_short_pretty} at {time}|${localTime(at, timezone)}>`;
}

/** `<@U…>` when the rep has a Slack id, else their (escaped) name. */
function mention(p: AlertPerson): string {
  return p.slackUserId ? `<@${p.slackUserId}>` : `*${mrkdwn(p.name)}*`;
}

function formatPoints(points: number): string {
  return points > 0 ? `+${points}` : String(points);
}

/** Bullet lines for overdue tasks: title (mrkdwn-safe) and how long past due. */
function overdueLines(tasks: readonly OverdueTask[]): string[] {
  return tasks.map((t) => `• ${mrkdwn(t.title, 120)} (${formatMinutes(t.minutesOverdue)} overdue)`);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Also in the SNS text: said wherever the rep reads the alert. */
export const BOOKING_OFFERED =
  'Offered a booking: the thank-you page links your scheduling page, name and email prefilled.';

/** What differs per event: header, intro, extra fields, the notification fallback and a note. */
interface SlackSituation {
  readonly header: string;
  readonly intro: string;
  readonly fields: readonly string[];
  readonly fallback: string;
  readonly note?: string;
}

function situationBlocks(a: AlertFacts): SlackSituation {
  const s = a.situation;
  const who = mrkdwn(cleanText(a.lead.name, 60));
  const priority = `*Priority*\n${PRIORITY_LABEL[a.priority]}`;
  switch (s.type) {
    case 'Lead Assigned': {
      const due = slackDate(s.deadline, s.timezone);
      const high = a.priority === 'high';
      return {
        header: s.previousOwner
          ? 'Lead reassigned: SLA missed'
          : high
            ? 'New high-priority lead'
            : 'New lead assigned',
        intro: s.previousOwner
          ? `${mention(s.owner)}, this lead is yours now: ${mention(s.previousOwner)} did not contact it in time (escalation step ${s.ladderStep}).`
          : `${mention(s.owner)}, you have a new lead. First touch due ${due}.`,
        fields: [`*Owner*\n${mention(s.owner)}`, priority, `*SLA deadline*\n${due}`],
        fallback: s.previousOwner
          ? `Lead ${who} reassigned to ${mrkdwn(s.owner.name)} after a missed SLA`
          : `New ${high ? 'high-priority ' : ''}lead for ${mrkdwn(s.owner.name)}: ${who}`,
        ...(s.bookingOffered ? { note: BOOKING_OFFERED } : {}),
      };
    }
    case 'Lead Escalated': {
      const waited = formatMinutes(s.minutesWithoutContact);
      return {
        header: 'SLA missed: lead escalated',
        intro: `${mention(a.recipient)}, heads-up: ${mention(s.from)} has not contacted this lead for ${waited} (escalation step ${s.ladderStep}).`,
        fields: [`*Owner*\n${mention(s.from)}`, priority],
        fallback: `SLA missed on ${who}: no contact for ${waited}`,
      };
    }
    case 'Lead Unworked': {
      const waited = formatMinutes(s.minutesWithoutContact);
      return {
        header: 'Lead went unworked',
        intro: `${mention(a.recipient)}, nobody contacted this lead in ${waited}. The escalation ladder has ended; it was last with ${mention(s.lastOwner)}.`,
        fields: [`*Last owner*\n${mention(s.lastOwner)}`, priority],
        fallback: `Lead ${who} went unworked after ${waited}`,
        note: 'Marked unworked: it no longer counts against the last owner. Reassign it from the lead page.',
      };
    }
    case 'Tasks Overdue': {
      const stage = mrkdwn(s.stage.name, 60);
      const count = plural(s.tasks.length, 'overdue task');
      return {
        header: 'Overdue tasks on a deal',
        intro: `${mention(s.owner)}, this deal in *${stage}* has ${count}:\n${overdueLines(s.tasks).join('\n')}`,
        fields: [`*Owner*\n${mention(s.owner)}`, `*Stage*\n${stage}`],
        fallback: `${count} on ${who}`,
      };
    }
    case 'Stale Deal Found': {
      const stage = mrkdwn(s.stage.name, 60);
      const tasks =
        s.overdueTasks.length === 0
          ? ''
          : `\nIt also has ${plural(s.overdueTasks.length, 'overdue task')}:\n${overdueLines(s.overdueTasks).join('\n')}`;
      return {
        header: 'Deal going stale',
        intro: `${mention(s.owner)}, this deal has been in *${stage}* for ${s.daysInStage} days.${tasks}`,
        fields: [
          `*Owner*\n${mention(s.owner)}`,
          `*Stage*\n${stage} (${s.daysInStage} days)`,
          ...(s.amount ? [`*Amount*\n${mrkdwn(s.amount, 40)}`] : []),
        ],
        fallback: `Deal ${who} stuck in ${stage} for ${s.daysInStage} days`,
      };
    }
  }
}

/** "*Jane Doe*\nVP Sales at Acme", escaped. */
function whoLines(a: AlertFacts): string {
  const role = [mrkdwn(a.lead.jobTitle), mrkdwn(a.lead.company)].filter(Boolean).join(' at ');
  return `*${mrkdwn(a.lead.name)}*${role ? `\n${role}` : ''}`;
}

function scoreLine(a: AlertFacts): string {
  const s = a.lead.score;
  return s ? `*${s.total}* (${s.stage}; fit ${s.fit}, engagement ${s.engagement})` : '_not scored yet_';
}

function sourceLine(a: AlertFacts): string {
  const src = a.lead.source;
  const parts = [`${mrkdwn(src.channel, 60)} via ${mrkdwn(src.provider, 60)}`];
  if (src.campaign) parts.push(`campaign _${mrkdwn(src.campaign, 100)}_`);
  return parts.join(' · ');
}

/** The link in Slack syntax; the URL's own `&<>` escaped as Slack requires. */
function link(url: string): string {
  return `<${url.replace(/&/g, '&amp;').replace(/</g, '%3C').replace(/>/g, '%3E')}|Open the lead>`;
}

function buttons(a: AlertFacts): SlackBlock | undefined {
  const elements = a.actions.map(
    (action): SlackButton => ({
      type: 'button',
      text: { type: 'plain_text', text: BUTTONS[action].label },
      action_id: action,
      value: a.leadId,
      ...(action === ALERT_ACTIONS.open && a.url !== undefined ? { url: a.url } : {}),
      ...(BUTTONS[action].style ? { style: BUTTONS[action].style } : {}),
    }),
  );
  return elements.length > 0 ? { type: 'actions', block_id: 'lead-actions', elements } : undefined;
}

/**
 * The alert as a Slack message: header, intro, the lead's who/score/source with the event's
 * fields, the score's reasons, the link, a note and the buttons.
 */
export function slackAlert(a: AlertFacts): SlackMessage {
  const { header, intro, fields, fallback, note } = situationBlocks(a);
  const reasons = a.lead.reasons.map((r) => `• ${formatPoints(r.points)} ${mrkdwn(r.label, 120)}`);
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: header } },
    { type: 'section', text: mrkdwnText(intro.slice(0, MAX_SECTION)) },
    {
      type: 'section',
      fields: [`*Lead*\n${whoLines(a)}`, `*Score*\n${scoreLine(a)}`, `*Source*\n${sourceLine(a)}`, ...fields]
        .slice(0, 10)
        .map(mrkdwnText),
    },
  ];
  if (reasons.length > 0)
    blocks.push({
      type: 'section',
      text: mrkdwnText(`*Why this score*\n${reasons.join('\n')}`.slice(0, MAX_SECTION)),
    });
  if (a.url !== undefined) blocks.push({ type: 'section', text: mrkdwnText(link(a.url)) });
  if (note) blocks.push({ type: 'context', elements: [mrkdwnText(note)] });
  const actions = buttons(a);
  if (actions) blocks.push(actions);
  return { text: fallback, blocks };
}

/** A message sent to a press's `response_url`. */
export type SlackResponse =
  | { readonly text: string; readonly blocks: SlackBlock[]; readonly replace_original: true }
  | { readonly response_type: 'ephemeral'; readonly replace_original: false; readonly text: string };

/**
 * The answer to a button press. After a contact: the original blocks without their buttons, plus
 * a line saying who made contact and how long after capture (`replace_original`). A refusal: a
 * reply only the presser sees; the alert stays as it is.
 */
export function slackResponse(reply: ActionReply): SlackResponse {
  if (reply.kind === 'refused')
    return { response_type: 'ephemeral', replace_original: false, text: reply.text };
  const kept = (reply.original?.blocks ?? []).filter((b) => b.type !== 'actions') as unknown as SlackBlock[];
  const speed = formatSpeed(reply.secondsToFirstTouch);
  const line = reply.already
    ? `:white_check_mark: Already contacted, ${speed} after capture.`
    : `:white_check_mark: <@${reply.slackUserId}> made contact ${speed} after capture.`;
  return {
    replace_original: true,
    text: reply.already ? `Already contacted, ${speed} after capture` : `Contacted ${speed} after capture`,
    blocks: [...kept, { type: 'context', elements: [mrkdwnText(line)] }],
  };
}
