import type { EngagementRule, FitRule, ScoringModel } from '../config/schema';
import { describeCondition, type Facts, matchesAll } from './conditions';
import {
  type Activity,
  type LeadFacts,
  type LeadScore,
  type LifecycleStage,
  type ScoreReason,
  stageRank,
} from './lead';

/**
 * The scoring engine: turns a lead's facts and activities into a {@link LeadScore} with an
 * explanation a rep can read ("Executive or VP +20, Requested a demo +30 ...").
 *
 * Pure and deterministic: the same facts, the same activities in ANY order and the same `asOf`
 * always give a deep-equal result, so a lead can be re-scored at any time (a new activity, a
 * nightly decay run, a replayed event) without the score drifting.
 *
 * How an engagement rule is scored, in this order:
 * 1. Its activities are those of the rule's `activity` type whose `data` match the rule's
 *    `when`, in chronological order (ties broken by id, so input order never matters).
 * 2. A non-repeatable rule keeps only the first (earliest) of them.
 * 3. Each occurrence is worth the rule's `points`. The `cap` bounds the absolute value of the
 *    rule's total BEFORE decay and is consumed newest-first: the occurrence that reaches the
 *    cap counts partially, older ones contribute nothing (recent intent outweighs old visits).
 * 4. Each counted occurrence decays by its own age: `points × 0.5^(ageDays / decayHalfLifeDays)`,
 *    age measured from `activity.at` to `asOf` (future activities have age 0). A half-life of
 *    `0` or a `noDecay` rule skips decay. Decay therefore never increases a contribution and a
 *    decayed rule never exceeds its cap.
 *
 * Precision: fit points are integers. Each engagement reason and the engagement total are
 * rounded to {@link SCORE_DECIMALS} decimal (the engagement total from the unrounded rule sums,
 * so reasons may differ from it by rounding). `total = round(fit + engagement)` to an integer;
 * thresholds compare against that integer. Rounding is half away from zero, so penalties round
 * like rewards.
 *
 * Stage rules: a rule with a `minStage` that fired (fit conditions held, or at least one
 * matching activity, even fully decayed) lifts the stage to at least that stage, whatever the
 * total; its reason carries `minStage` and says so in its detail ("sets the stage to at least SQL").
 *
 * Explanation: one reason per rule that fired (fit conditions held, or at least one matching
 * activity). A rule that fired but earns 0 after rounding (e.g. fully decayed) is still listed,
 * so the explanation is complete; {@link topReasons} leaves such reasons out of alerts.
 */

/** Decimals kept in engagement points (reasons and the engagement total). */
export const SCORE_DECIMALS = 1;

const DAY_MS = 86_400_000;

/** The stages a score can reach on its own; `opportunity` and `customer` are set by people. */
export type ScoreStage = Extract<LifecycleStage, 'lead' | 'MQL' | 'SQL'>;

/** The MQL/SQL thresholds of a scoring model. */
export type ScoreThresholds = ScoringModel['thresholds'];

/** Everything {@link scoreLead} needs; nothing is read from the clock or the environment. */
export interface ScoreLeadInput {
  /** The lead's flat facts (see `leadFacts`); fit rule conditions read them. */
  facts: LeadFacts;
  /** Every activity of the lead, in any order; other types and unknown data shapes are fine. */
  activities: readonly Activity[];
  /** The client's validated `scoring` section. */
  model: ScoringModel;
  /** The instant decay is computed at; also stored as `LeadScore.asOf`. */
  asOf: Date;
  /** The lead's current stage; the result never ranks below it. @default "lead" */
  previousStage?: LifecycleStage;
}

/**
 * Scores a lead: fit rules on its facts, engagement rules on its activities (capped, then
 * decayed), the stage from the thresholds (never below `previousStage`), and one reason per rule
 * that fired, sorted by absolute points (then rule id).
 *
 * @throws RangeError when `asOf` is an invalid Date (a caller bug, not a data problem).
 */
export function scoreLead(input: ScoreLeadInput): LeadScore {
  const { facts, activities, model, asOf, previousStage = 'lead' } = input;
  const asOfMs = asOf.getTime();
  if (!Number.isFinite(asOfMs)) {
    throw new RangeError('scoreLead: asOf is an invalid Date; pass the instant to score at');
  }

  const reasons: ScoreReason[] = [];

  let fit = 0;
  for (const rule of model.fit) {
    const reason = fitReason(rule, facts);
    if (!reason) continue;
    fit += rule.points;
    reasons.push(reason);
  }

  const timeline = chronological(activities);
  let engagementRaw = 0;
  for (const rule of model.engagement) {
    const tally = tallyEngagement(rule, timeline, asOfMs, model.decayHalfLifeDays);
    if (!tally) continue;
    engagementRaw += tally.decayed;
    reasons.push(engagementReason(rule, tally));
  }

  const engagement = roundPoints(engagementRaw, SCORE_DECIMALS);
  const total = roundPoints(fit + engagement, 0);
  let reached: LifecycleStage = stageForScore(total, model.thresholds);
  for (const reason of reasons) {
    if (reason.minStage !== undefined && stageRank(reason.minStage) > stageRank(reached))
      reached = reason.minStage;
  }

  return {
    total,
    fit,
    engagement,
    stage: stageRank(reached) > stageRank(previousStage) ? reached : previousStage,
    reasons: reasons.sort(compareReasons),
    asOf: asOf.toISOString(),
  };
}

/** The stage a total reaches by thresholds alone: `>= sql` → SQL, `>= mql` → MQL, else lead. */
export function stageForScore(total: number, thresholds: ScoreThresholds): ScoreStage {
  if (total >= thresholds.sql) return 'SQL';
  if (total >= thresholds.mql) return 'MQL';
  return 'lead';
}

/**
 * The threshold stage (MQL or SQL) a lead newly reached when it moved from `previous` to `next`,
 * or `undefined` when nothing was crossed. A jump from lead straight to SQL returns `SQL`.
 * Stages set by people (`opportunity`, `customer`) are not threshold crossings.
 */
export function crossedThreshold(
  previous: LifecycleStage | undefined,
  next: LifecycleStage,
): 'MQL' | 'SQL' | undefined {
  if (next !== 'MQL' && next !== 'SQL') return undefined;
  return stageRank(next) > stageRank(previous ?? 'lead') ? next : undefined;
}

/**
 * The `n` reasons that moved the score most (by absolute points, then rule id), for alerts.
 * Reasons worth 0 points (e.g. fully decayed) explain nothing and are left out.
 */
export function topReasons(score: Pick<LeadScore, 'reasons'>, n: number): ScoreReason[] {
  const count = Math.max(0, Math.floor(n));
  return score.reasons
    .filter((r) => r.points !== 0)
    .sort(compareReasons)
    .slice(0, count);
}

/**
 * The share of its points an activity keeps after `ageDays`: `0.5^(ageDays / halfLifeDays)`.
 * A half-life of 0 (or less) turns decay off; ages at or below 0 (future activities) keep all.
 */
export function decayFactor(ageDays: number, halfLifeDays: number): number {
  if (!(halfLifeDays > 0) || !(ageDays > 0)) return 1;
  return 0.5 ** (ageDays / halfLifeDays);
}

/** Rounds half away from zero (so -2.5 → -3 mirrors 2.5 → 3) and never returns -0. */
function roundPoints(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  // The epsilon nudge keeps 8.75 from rounding down because of binary representation error.
  const magnitude = Math.round(Math.abs(value) * factor * (1 + Number.EPSILON)) / factor;
  return value < 0 ? -magnitude || 0 : magnitude;
}

/** Reasons by absolute points, largest first; rule ids (unique per model) break ties. */
function compareReasons(a: ScoreReason, b: ScoreReason): number {
  const byPoints = Math.abs(b.points) - Math.abs(a.points);
  if (byPoints !== 0) return byPoints;
  // Plain code-unit comparison: localeCompare would depend on the runtime's locale.
  return a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0;
}

function fitReason(rule: FitRule, facts: LeadFacts): ScoreReason | undefined {
  if (!matchesAll(rule.when, facts)) return undefined;
  return withMinStage(rule, {
    ruleId: rule.id,
    label: rule.label,
    kind: 'fit',
    points: rule.points,
    detail: rule.when.map(describeCondition).join(' and '),
  });
}

/** A fired rule's reason, with the stage it guarantees (in its detail too, for alerts and the UI). */
function withMinStage(rule: FitRule | EngagementRule, reason: ScoreReason): ScoreReason {
  if (rule.minStage === undefined) return reason;
  const detail = [reason.detail, `sets the stage to at least ${rule.minStage}`].filter(Boolean).join('; ');
  return { ...reason, detail, minStage: rule.minStage };
}

/** An activity with its parsed time and a data object that is always safe to read. */
interface TimedActivity {
  readonly activity: Activity;
  readonly atMs: number;
  readonly data: Facts;
}

/**
 * Activities oldest first, ties broken by id, so the input order never matters. (A rule's
 * result depends only on the times of the occurrences it counts, so activities at the same
 * instant are interchangeable.) Activities whose `at` does not parse cannot be placed in time
 * and are skipped; data that is not an object reads as empty. Activities flagged
 * `data.machine === true` (email opens and clicks by privacy proxies and link scanners, see
 * `ses-events.ts`) are skipped too: they stay on the timeline but are not the lead's engagement.
 */
function chronological(activities: readonly Activity[]): TimedActivity[] {
  const timed: TimedActivity[] = [];
  for (const activity of activities) {
    const atMs = Date.parse(activity.at);
    if (!Number.isFinite(atMs)) continue;
    if (isRecord(activity.data) && activity.data.machine === true) continue;
    timed.push({ activity, atMs, data: isRecord(activity.data) ? activity.data : {} });
  }
  // Plain code-unit comparison for ids: localeCompare would depend on the runtime's locale.
  return timed.sort(
    (a, b) => a.atMs - b.atMs || (a.activity.id < b.activity.id ? -1 : a.activity.id > b.activity.id ? 1 : 0),
  );
}

function isRecord(value: unknown): value is Facts {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What one engagement rule earned, before rounding. */
interface EngagementTally {
  /** Matching activities (all of them, even for a non-repeatable rule). */
  readonly matched: number;
  /** Occurrences scored: 1 for a non-repeatable rule, otherwise all matches. */
  readonly counted: number;
  /** Occurrences that still contributed after the cap. */
  readonly withinCap: number;
  /** Points after the cap, before decay. */
  readonly undecayed: number;
  /** Points after the cap and decay: the rule's contribution. */
  readonly decayed: number;
  /** True when the cap cut the rule's points. */
  readonly capped: boolean;
}

function tallyEngagement(
  rule: EngagementRule,
  timeline: readonly TimedActivity[],
  asOfMs: number,
  halfLifeDays: number,
): EngagementTally | undefined {
  const matching = timeline.filter((t) => t.activity.type === rule.activity && matchesAll(rule.when, t.data));
  if (matching.length === 0) return undefined;
  const counted = rule.repeatable ? matching : matching.slice(0, 1);

  const sign = Math.sign(rule.points);
  const perOccurrence = Math.abs(rule.points);
  let budget = rule.cap ?? Number.POSITIVE_INFINITY;
  let withinCap = 0;
  let undecayed = 0;
  let decayed = 0;
  // The cap is consumed newest-first: recent behaviour says more about intent than old visits,
  // so three pricing views today are not cancelled out by three from last year.
  for (const occurrence of [...counted].reverse()) {
    const magnitude = Math.min(perOccurrence, budget);
    if (magnitude <= 0) break;
    budget -= magnitude;
    withinCap += 1;
    const points = sign * magnitude;
    undecayed += points;
    const ageDays = (asOfMs - occurrence.atMs) / DAY_MS;
    decayed += rule.noDecay ? points : points * decayFactor(ageDays, halfLifeDays);
  }

  return {
    matched: matching.length,
    counted: counted.length,
    withinCap,
    undecayed,
    decayed,
    capped: rule.cap !== undefined && counted.length * perOccurrence > rule.cap,
  };
}

function engagementReason(rule: EngagementRule, tally: EngagementTally): ScoreReason {
  const points = roundPoints(tally.decayed, SCORE_DECIMALS);
  const undecayed = roundPoints(tally.undecayed, SCORE_DECIMALS);
  const where = rule.when.length > 0 ? ` where ${rule.when.map(describeCondition).join(' and ')}` : '';
  const parts = [`${tally.counted}× ${rule.activity}${where}`];
  if (!rule.repeatable && tally.matched > 1) parts.push(`counted once (first of ${tally.matched})`);
  if (tally.capped) parts.push(`capped at ${rule.cap} (${tally.withinCap} counted)`);
  if (points !== undecayed) parts.push(`decayed from ${undecayed} to ${points}`);
  return withMinStage(rule, {
    ruleId: rule.id,
    label: rule.label,
    kind: 'engagement',
    points,
    occurrences: tally.counted,
    detail: parts.join(', '),
  });
}
