import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { ClientConfig, Rep } from '../config/schema';
import { type Caller, managedTeamsOf, type Role } from './access';
import { ALERT_ACTIONS, formatMinutes } from './alerts';

/**
 * Acting on a lead from a Slack alert: Slack's request signature, the interaction payload of a
 * button press, who in the client file pressed it, and the message that replaces the alert.
 * Pure rules; the `slack-actions` function does the I/O around them.
 */

/** `action_id` of the alert's buttons: the alert's actions (see `alerts.ts`). */
export const SLACK_ACTIONS = ALERT_ACTIONS;

/** Slack's advice: refuse requests whose timestamp is more than five minutes from now. */
export const SLACK_TIMESTAMP_TOLERANCE_SECONDS = 300;

/** Why a request's signature was refused. */
export type SignatureProblem = 'missing' | 'stale' | 'mismatch';

/** The `v0=` signature Slack computes: HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the signing secret. */
export function slackSignature(signingSecret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/**
 * Checks a request the way Slack documents it: the timestamp within
 * {@link SLACK_TIMESTAMP_TOLERANCE_SECONDS} of `now` (either way), then the `v0=` HMAC of the raw
 * body compared in constant time. @returns undefined when the request is Slack's, else why not.
 */
export function verifySlackSignature(input: {
  readonly signingSecret: string;
  readonly timestamp?: string | undefined;
  readonly signature?: string | undefined;
  readonly body: string;
  readonly now: Date;
}): SignatureProblem | undefined {
  const { signingSecret, timestamp, signature, body, now } = input;
  if (!signingSecret || !timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return 'missing';
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > SLACK_TIMESTAMP_TOLERANCE_SECONDS) return 'stale';
  const expected = Buffer.from(slackSignature(signingSecret, timestamp, body), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // timingSafeEqual needs equal lengths; a length difference says nothing about the secret.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'mismatch';
  return undefined;
}

const ButtonSchema = z.object({
  action_id: z.string().max(255),
  value: z.string().max(2000).optional(),
});

/** The parts of a `block_actions` payload this product reads. */
export const BlockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1).max(32), name: z.string().max(100).optional() }),
  actions: z.array(ButtonSchema).min(1),
  response_url: z.url({ protocol: /^https$/ }).optional(),
  message: z
    .object({ text: z.string().optional(), blocks: z.array(z.record(z.string(), z.unknown())).optional() })
    .loose()
    .optional(),
});
export type BlockActions = z.output<typeof BlockActionsSchema>;

/** The rep whose `slackUserId` is this Slack member, if any. */
export function repForSlackUser(config: Pick<ClientConfig, 'reps'>, slackUserId: string): Rep | undefined {
  return config.reps.find((r) => r.slackUserId === slackUserId);
}

/**
 * The caller a Slack member acts as: their rep, with the manager role when the client file says
 * so (a manager manages their teams' leads, as in the console). Admin rights never come from Slack.
 */
export function slackCaller(rep: Rep, config: Pick<ClientConfig, 'teams'>): Caller {
  const roles: Role[] = rep.role === 'manager' ? ['rep', 'manager'] : ['rep'];
  return {
    subject: `slack:${rep.slackUserId ?? rep.id}`,
    roles,
    repId: rep.id,
    teamId: rep.team,
    managedTeams: managedTeamsOf(rep, roles, config),
  };
}

/** "4 min", "2 h 5 min", "under a minute". */
export function formatSpeed(seconds: number): string {
  return seconds < 60 ? 'under a minute' : formatMinutes(Math.floor(seconds / 60));
}

/**
 * What the presser is told after a press: after a contact, the alert (as Slack sent it back)
 * replaced by one saying who made contact and how long after capture; a refusal, a reply only
 * they see. The Slack adapter renders it (`adapters/slack-blocks.ts`).
 */
export type ActionReply =
  | {
      readonly kind: 'contacted';
      readonly original: BlockActions['message'];
      readonly slackUserId: string;
      readonly secondsToFirstTouch: number;
      readonly already: boolean;
    }
  | { readonly kind: 'refused'; readonly text: string };
