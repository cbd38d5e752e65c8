import type { z } from 'zod';
import type { ClientConfig, NurtureSequence, WorkingHours } from '../config/schema';
import type { NurtureBehaviourSchema } from '../config/schema-nurture';
import type { Activity } from './lead';
import { branchTarget, type NurtureTarget } from './nurture-graph';
import { normalisePath } from './tracking';
import { nextWorkingStart } from './working-hours';

/**
 * Branching nurture: which way a lead goes after a step, from what it did since the previous
 * step. Pure: no I/O, no clock.
 *
 * A step's `branches` are read when the step's wait ends, in order, on the lead's activities
 * since the previous step; the first that matches decides instead of sending the step (go to
 * another step, start another sequence, or end). Otherwise the step is sent and the lead moves
 * to the step's `next` (by default the following step; after the last one, the end). The graph
 * itself (targets, validation) is `nurture-graph.ts`.
 */

export type NurtureBehaviour = z.output<typeof NurtureBehaviourSchema>;
type Nurture = Pick<ClientConfig['nurture'], 'sequences' | 'links'>;

// ------------------------------------------------------------------------ behaviour

/** Whether a page path matches a pattern: `*` matches any characters; case and trailing slash ignored. */
export function pathMatches(pattern: string, path: string): boolean {
  const escaped = normalisePath(pattern)
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`).test(normalisePath(path));
}

/** A URL without query string or fragment (and without a trailing slash), for link matching. */
function bareUrl(url: string): string {
  const bare = url.split(/[?#]/, 1)[0] ?? '';
  return bare.length > 1 && bare.endsWith('/') ? bare.slice(0, -1).toLowerCase() : bare.toLowerCase();
}

const VISITS = new Set(['page_view', 'pricing_page_view']);
const ENGAGEMENT = new Set(['email_opened', 'email_clicked', 'email_replied', ...VISITS]);

/**
 * Activities that count as behaviour: what a person did (machine opens and clicks excluded), and
 * a pricing visit once (the tracker records it as a page view and as a pricing view).
 */
function humanActivities(activities: readonly Activity[], since: string): Activity[] {
  return activities.filter(
    (a) =>
      a.at > since && ENGAGEMENT.has(a.type) && a.data.machine !== true && a.type !== 'pricing_page_view',
  );
}

/** Whether the lead did `behaviour` in `activities` after `since` (ISO time). */
export function behaviourMatches(
  behaviour: NurtureBehaviour,
  activities: readonly Activity[],
  since: string,
  links: Readonly<Record<string, string>>,
): boolean {
  const done = humanActivities(activities, since);
  if ('opened' in behaviour) return done.some((a) => a.type === 'email_opened');
  if ('replied' in behaviour) return done.some((a) => a.type === 'email_replied');
  if ('nothing' in behaviour) return done.length === 0;
  if ('clicked' in behaviour) {
    const url = links[behaviour.clicked];
    if (url === undefined) return false;
    const wanted = bareUrl(url);
    return done.some(
      (a) => a.type === 'email_clicked' && typeof a.data.link === 'string' && bareUrl(a.data.link) === wanted,
    );
  }
  const visits = done.filter(
    (a) =>
      a.type === 'page_view' &&
      typeof a.data.path === 'string' &&
      pathMatches(behaviour.visited, a.data.path),
  );
  return visits.length >= behaviour.times;
}

/** The branch a step takes, if any: the first whose behaviour matches. */
export function chooseBranch(
  nurture: Nurture,
  sequence: NurtureSequence,
  index: number,
  activities: readonly Activity[],
  since: string,
): { readonly branchId: string; readonly target: NurtureTarget } | undefined {
  const step = sequence.steps[index];
  for (const branch of step?.branches ?? []) {
    if (behaviourMatches(branch.when, activities, since, nurture.links))
      return { branchId: branch.id, target: branchTarget(nurture.sequences, sequence, branch) };
  }
  return undefined;
}

// ------------------------------------------------------------------------ send window

/**
 * When a step due at `now` may go out: `now` inside the window (in the lead's time zone), else
 * the window's next opening. No window: `now`.
 */
export function sendTime(window: WorkingHours | undefined, timezone: string, now: Date): Date {
  return window ? nextWorkingStart(window, timezone, now) : now;
}

// ------------------------------------------------------------------------ triggers

/**
 * The trigger a lead's visits fire, if any: its page pattern visited at least `times` times in
 * the last `withinDays` days, by a lead that never booked a meeting (a booking is the answer the
 * short sequence hopes for). Triggers are read in order; the first that fires wins.
 */
export function firedTrigger(
  triggers: ClientConfig['nurture']['triggers'],
  activities: readonly Activity[],
  now: Date,
): ClientConfig['nurture']['triggers'][number] | undefined {
  if (activities.some((a) => a.type === 'meeting_booked')) return undefined;
  return triggers.find((t) => {
    const since = new Date(now.getTime() - t.when.withinDays * 86_400_000).toISOString();
    return behaviourMatches({ visited: t.when.visited, times: t.when.times }, activities, since, {});
  });
}
