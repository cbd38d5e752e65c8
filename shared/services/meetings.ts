import type { Caller } from '../domain/access';
import type { Activity } from '../domain/lead';
import { type EventDetail, type PipelineEvent, pipelineEvent } from '../events/catalogue';
import { markContacted } from './lead-commands';
import type { LeadsDeps } from './leads';

/**
 * What follows a meeting booked through a scheduling tool (the booking itself is recorded by the
 * webhook as a `meeting_booked` activity, see `webhook-intake.ts`):
 * - the first touch is recorded through the same command as the console's "Contacted"
 *   (`markContacted`): `Lead Contacted` with the speed to lead, the SLA ladder stopped at once;
 *   a booking counts as contact in the speed-to-lead report because it is one;
 * - `Meeting Booked` (or `Meeting Canceled`) is published with the meeting time, for reminders,
 *   saying whether the instant offer or the rep's own outreach produced the booking.
 * Exactly once: the caller runs {@link followUpMeeting} as an idempotent step keyed by the
 * activity (the webhook republishes `Activity Recorded` on every redelivery), and the first
 * touch is recorded once per lead whatever happens.
 */

/** Booking kinds of a booking activity's `data.kind` (a cancellation is stored as a `note`). */
const BOOKED = 'meeting_booked';
const CANCELED = 'meeting_canceled';
const PROVIDERS = ['calendly', 'calcom'] as const;
type Provider = (typeof PROVIDERS)[number];

/** Outcome of {@link followUpMeeting}; `events` are published by the caller's publish step. */
export interface MeetingDecision {
  readonly outcome: 'booked' | 'canceled' | 'not-a-booking' | 'lead-missing';
  /** The first touch this booking recorded (false: already contacted, or nobody to credit yet). */
  readonly contacted: boolean;
  readonly via?: EventDetail<'Meeting Booked'>['via'];
  readonly events: PipelineEvent[];
}

/** The scheduling tool acting as the caller of `markContacted`: an admin-level system actor. */
function schedulerCaller(provider: string): Caller {
  return { subject: provider, roles: ['admin'], managedTeams: [] };
}

/**
 * Follows up one recorded activity. Anything but a booking or a booking's cancellation is no
 * concern here. A lead without an owner yet (an unknown invitee, still being routed) is not
 * marked contacted: there is no rep to credit, and no SLA ladder running.
 */
export async function followUpMeeting(
  detail: EventDetail<'Activity Recorded'>,
  deps: LeadsDeps,
): Promise<MeetingDecision> {
  const none = (outcome: MeetingDecision['outcome']): MeetingDecision => ({
    outcome,
    contacted: false,
    events: [],
  });
  const activity = await deps.store.getActivity(detail.leadId, detail.occurredAt, detail.activityId);
  const kind = activity?.data.kind;
  const provider = activity?.data.provider;
  if (!activity || (kind !== BOOKED && kind !== CANCELED) || !isProvider(provider))
    return none('not-a-booking');
  const lead = await deps.store.getLead(detail.leadId);
  if (!lead) return none('lead-missing');
  const meeting = meetingFields(activity, provider);

  if (kind === CANCELED) {
    return {
      outcome: 'canceled',
      contacted: false,
      events: [
        pipelineEvent('Meeting Canceled', {
          leadId: lead.id,
          occurredAt: activity.at,
          isTest: lead.isTest,
          activityId: activity.id,
          provider,
          bookingId: meeting.bookingId,
          ...(meeting.startTime ? { startTime: meeting.startTime } : {}),
          rescheduled: meeting.rescheduled,
        }),
      ],
    };
  }

  let contacted = false;
  if (lead.owner !== undefined && lead.firstTouchAt === undefined) {
    // The booking's own time is the first touch (a late redelivery must not make the rep look slow).
    const at = new Date(Math.max(Date.parse(activity.at), Date.parse(lead.createdAt)));
    const result = await markContacted(schedulerCaller(provider), lead.id, { ...deps, now: () => at });
    contacted = !result.alreadyContacted;
  }
  const via = activity.data.instantOffer === true ? 'instant-offer' : 'rep-outreach';
  return {
    outcome: 'booked',
    contacted,
    via,
    events: [
      pipelineEvent('Meeting Booked', {
        leadId: lead.id,
        occurredAt: activity.at,
        isTest: lead.isTest,
        activityId: activity.id,
        provider,
        bookingId: meeting.bookingId,
        ...(meeting.startTime ? { startTime: meeting.startTime } : {}),
        ...(meeting.endTime ? { endTime: meeting.endTime } : {}),
        ...(meeting.meetingName ? { meetingName: meeting.meetingName } : {}),
        ...(lead.owner ? { repId: lead.owner } : {}),
        via,
        rescheduled: meeting.rescheduled,
      }),
    ],
  };
}

function isProvider(value: unknown): value is Provider {
  return (PROVIDERS as readonly unknown[]).includes(value);
}

function meetingFields(activity: Activity, provider: Provider) {
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    bookingId: text(activity.data.bookingId) ?? `${provider}:${activity.id}`,
    startTime: text(activity.data.startTime),
    endTime: text(activity.data.endTime),
    meetingName: text(activity.data.meetingName),
    rescheduled: activity.data.rescheduled === true,
  };
}

/** The key that makes a follow-up happen once per booking activity. */
export function meetingStepKey(detail: { readonly leadId: string; readonly activityId: string }): string {
  return `${detail.leadId}#${detail.activityId}`;
}
