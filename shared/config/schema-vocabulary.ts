import { z } from 'zod';

/**
 * The words the client file and the lead record share: activity types, priorities, the consent
 * text limit. In a module of their own, apart from the scoring and routing rules that use them,
 * so the lead record and the event catalogue (in every function) take these few schemas
 * without building every rule and condition schema of the client file at import.
 */

export const ACTIVITY_TYPES = [
  'captured',
  'resubmitted',
  // A resubmission's values that contradict the lead's; the owner may accept them (leads API).
  'details_submitted',
  'details_accepted',
  'page_view',
  'pricing_page_view',
  'content_download',
  'demo_request',
  'webinar_registered',
  'webinar_attended',
  'meeting_booked',
  'email_delivered',
  'email_opened',
  'email_clicked',
  'email_bounced',
  'email_complained',
  'email_replied',
  'unsubscribed',
  'contacted',
  'note',
  // Written by the route function, so a lead's timeline shows where it went and why.
  'assigned',
  'held',
  'nurture_enrolled',
  // Written by the leads API when a rep moves a lead to another pipeline stage.
  'stage_changed',
  // Written by the SLA function: an escalation step (notify or reassign) and the ladder running out.
  'sla_escalated',
  'sla_unworked',
] as const;
export const ActivityTypeSchema = z.enum(ACTIVITY_TYPES);

/** Longest consent wording (`client.consentText`) kept with an opt-in. */
export const CONSENT_TEXT_MAX = 2000;
export type ActivityType = z.output<typeof ActivityTypeSchema>;

/** A lead's priority, set by the routing rule that took it. */
export const PrioritySchema = z.enum(['low', 'normal', 'high']);
