import type { Priority } from '../config/schema';
import { type AlertEventType, type AlertFacts, cleanText, formatMinutes, localTime } from '../domain/alerts';
import { BOOKING_OFFERED } from './slack-blocks';

/**
 * Rep alerts as SNS notifications (email and SMS subscriptions): an ASCII subject, plain text
 * then a JSON body of ids, and the attributes a rep's subscription filters on.
 */

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

/** SNS subjects must be under 100 characters. */
const MAX_SUBJECT = 99;

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

/** What differs per event: the subject, the first line, more lines and more JSON fields. */
interface TopicSituation {
  readonly subject: string;
  readonly headline: string;
  readonly lines: readonly string[];
  readonly data: Record<string, unknown>;
}

function situationText(a: AlertFacts): TopicSituation {
  const s = a.situation;
  const who = cleanText(a.lead.name, 60);
  const name = (p: { name: string }) => cleanText(p.name);
  const priority = `Priority: ${a.priority}`;
  const overdue = (tasks: ReadonlyArray<{ title: string; dueAt: string }>) =>
    tasks.map((t) => `Overdue: ${cleanText(t.title, 120)} (due ${t.dueAt})`);
  switch (s.type) {
    case 'Lead Assigned':
      return {
        subject: s.previousOwner
          ? `Lead reassigned to you after a missed SLA: ${who}`
          : `New ${a.priority} priority lead: ${who}`,
        headline: s.previousOwner
          ? `${name(s.owner)}, this lead is yours now: ${name(s.previousOwner)} did not contact it in time.`
          : `${name(s.owner)}, you have a new lead.`,
        lines: [
          priority,
          `First touch due: ${localTime(s.deadline, s.timezone)} (${s.deadline.toISOString()})`,
          ...(s.bookingOffered ? [BOOKING_OFFERED] : []),
        ],
        data: {
          via: s.via,
          ladderStep: s.ladderStep,
          ...(s.previousOwner ? { previousOwner: s.previousOwner.id } : {}),
          slaDeadline: s.deadline.toISOString(),
        },
      };
    case 'Lead Escalated': {
      const waited = formatMinutes(s.minutesWithoutContact);
      return {
        subject: `SLA missed: ${who} waiting ${waited}`,
        headline: `${name(a.recipient)}, heads-up: ${name(s.from)} has not contacted this lead for ${waited}.`,
        lines: [priority],
        data: {
          fromRepId: s.from.id,
          ladderStep: s.ladderStep,
          minutesWithoutContact: s.minutesWithoutContact,
        },
      };
    }
    case 'Lead Unworked': {
      const waited = formatMinutes(s.minutesWithoutContact);
      return {
        subject: `Lead unworked after ${waited}: ${who}`,
        headline: `${name(a.recipient)}, nobody contacted this lead in ${waited}; it was last with ${name(s.lastOwner)}.`,
        lines: [priority],
        data: { lastOwner: s.lastOwner.id, minutesWithoutContact: s.minutesWithoutContact },
      };
    }
    case 'Tasks Overdue': {
      const count = `${s.tasks.length} overdue task${s.tasks.length === 1 ? '' : 's'}`;
      return {
        subject: `${count}: ${who}`,
        headline: `${name(s.owner)}, this deal in ${cleanText(s.stage.name, 60)} has ${count}.`,
        lines: overdue(s.tasks),
        data: { pipelineStage: s.stage.id, overdueTasks: s.tasks.length },
      };
    }
    case 'Stale Deal Found':
      return {
        subject: `Stale deal: ${who} in ${cleanText(s.stage.name, 40)} for ${s.daysInStage} days`,
        headline: `${name(s.owner)}, this deal has been in ${cleanText(s.stage.name, 60)} for ${s.daysInStage} days.`,
        lines: [...(s.amount ? [`Amount: ${s.amount}`] : []), ...overdue(s.overdueTasks)],
        data: { pipelineStage: s.stage.id, daysInStage: s.daysInStage, overdueTasks: s.overdueTasks.length },
      };
  }
}

/** The alert as an SNS notification: text for people, then JSON with ids only for machines. */
export function topicAlert(a: AlertFacts): TopicMessage {
  const { subject, headline, lines, data } = situationText(a);
  const l = a.lead;
  const role = [cleanText(l.jobTitle), cleanText(l.company)].filter(Boolean).join(' at ');
  const source = `${cleanText(l.source.channel, 60)} via ${cleanText(l.source.provider, 60)}`;
  const text = [
    headline,
    `Lead: ${role ? `${cleanText(l.name)}, ${role}` : cleanText(l.name)}`,
    `Score: ${l.score ? `${l.score.total} (${l.score.stage})` : 'not scored yet'}`,
    `Source: ${l.source.campaign ? `${source}, campaign ${cleanText(l.source.campaign, 100)}` : source}`,
    ...lines,
    ...(a.url !== undefined ? [`Open: ${a.url}`] : []),
  ].join('\n');
  const attributes: TopicAttributes = { owner: a.recipient.id, priority: a.priority, eventType: a.eventType };
  const json = JSON.stringify({
    eventType: a.eventType,
    leadId: a.leadId,
    recipientId: a.recipient.id,
    priority: a.priority,
    score: l.score?.total ?? null,
    stage: l.stage,
    leadUrl: a.url ?? null,
    ...data,
  });
  return { subject: asciiSubject(subject), message: `${text}\n\n${json}`, attributes };
}
