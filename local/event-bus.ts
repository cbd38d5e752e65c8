import { randomUUID } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { JSONPath } from 'jsonpath-plus';
import { type EventPattern, matchesPattern } from './event-pattern';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './template';

/**
 * EventBridge, locally: buses, rules with their synthesized patterns, and asynchronous delivery
 * to targets with each target's retry policy and dead-letter queue, as EventBridge does. A
 * target that keeps failing lands in the dead-letter record (`.local/dead-letters.jsonl`) with
 * the error, never silently dropped.
 */

/** An event as EventBridge delivers it to targets. */
export interface BusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: unknown;
}

export interface RuleTarget {
  readonly id: string;
  readonly arn: string;
  readonly input?: string;
  readonly inputPath?: string;
  readonly inputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate: string };
  readonly maxRetryAttempts: number;
  readonly maxEventAgeSeconds: number;
  readonly deadLetterArn?: string;
}

export interface LocalRule {
  readonly name: string;
  readonly busName: string;
  readonly pattern?: EventPattern;
  readonly schedule?: string;
  readonly targets: readonly RuleTarget[];
}

/** Delivers a rule target's input; throws when the target failed (so it is retried). */
export type TargetDelivery = (target: RuleTarget, input: unknown, rule: LocalRule) => Promise<void>;

export interface DeadLetter {
  readonly rule: string;
  readonly target: string;
  readonly deadLetterArn?: string;
  readonly event: BusEvent;
  readonly error: string;
  readonly attempts: number;
  readonly at: string;
}

export interface PutEventsEntry {
  readonly EventBusName?: string;
  readonly Source?: string;
  readonly DetailType?: string;
  readonly Detail?: string;
  readonly Time?: string | number;
  readonly Resources?: string[];
}

/** One dead letter a redrive handled: what it was and where it went. */
export interface RedrivenLetter {
  readonly rule: string;
  readonly target: string;
  readonly eventId: string;
  readonly detailType: string;
  readonly error?: string;
}

const MAX_DETAIL_BYTES = 256 * 1024;

export class LocalEventBus {
  private readonly rules: LocalRule[] = [];
  readonly deadLetters: DeadLetter[] = [];
  private readonly listeners = new Set<(event: BusEvent, busName: string) => void>();
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private stopped = false;
  /** Retry back-offs in progress, so {@link stop} can cut them short. */
  private readonly backoffs = new Map<NodeJS.Timeout, () => void>();
  /** Events accepted, for benchmarks. */
  accepted = 0;
  /**
   * Fault injection: until this time (epoch ms) PutEvents refuses every entry with
   * `InternalFailure`, as EventBridge does in a partial outage. See `LocalRuntime.faults`.
   */
  refuseUntil = 0;
  /** PutEvents entries refused by {@link refuseUntil}, for the chaos report. */
  refused = 0;
  /**
   * Fault injection: until this time (epoch ms) retries do not back off, so a target that keeps
   * failing exhausts its retry policy in moments and its events reach the dead-letter record, as
   * an outage longer than the policy's hours would in AWS. See `LocalRuntime.faults.functionDown`.
   */
  exhaustRetriesUntil = 0;

  constructor(
    private readonly deliver: TargetDelivery,
    private readonly options: { timeScale: number; deadLetterFile?: string; knownBuses: ReadonlySet<string> },
  ) {}

  addRule(rule: LocalRule): void {
    if (rule.pattern) matchesPattern(rule.pattern, {}); // fail at boot on a pattern EventBridge would reject
    this.rules.push(rule);
  }

  get ruleList(): readonly LocalRule[] {
    return this.rules;
  }

  /** Observes every accepted event (the terminal story, recorders). */
  subscribe(listener: (event: BusEvent, busName: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** PutEvents: validates entries like EventBridge and answers per entry. */
  putEvents(entries: readonly PutEventsEntry[]): {
    FailedEntryCount: number;
    Entries: Array<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }>;
  } {
    // A stopped bus refuses events rather than dropping them, so the publisher fails loudly
    // (capture answers 503) instead of promising a lead nothing will ever process.
    if (this.stopped)
      return {
        FailedEntryCount: entries.length,
        Entries: entries.map(() => ({
          ErrorCode: 'ServiceUnavailable',
          ErrorMessage: 'the local event bus is stopping',
        })),
      };
    if (Date.now() < this.refuseUntil) {
      this.refused += entries.length;
      return {
        FailedEntryCount: entries.length,
        Entries: entries.map(() => ({
          ErrorCode: 'InternalFailure',
          ErrorMessage: 'injected fault: the local event bus refuses events for now',
        })),
      };
    }
    let failed = 0;
    const results = entries.map((entry) => {
      const busName = busNameOf(entry.EventBusName);
      const problem = !entry.Source
        ? 'Parameter Source is not valid'
        : !entry.DetailType
          ? 'Parameter DetailType is not valid'
          : !entry.Detail
            ? 'Parameter Detail is not valid'
            : Buffer.byteLength(entry.Detail) > MAX_DETAIL_BYTES
              ? 'Detail is too large'
              : !this.options.knownBuses.has(busName)
                ? `Event bus ${busName} does not exist`
                : undefined;
      let detail: unknown;
      if (!problem) {
        try {
          detail = JSON.parse(entry.Detail ?? '');
        } catch {
          failed++;
          return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed' };
        }
      }
      if (problem) {
        failed++;
        return { ErrorCode: 'InvalidArgument', ErrorMessage: problem };
      }
      const event: BusEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': String(entry.DetailType),
        source: String(entry.Source),
        account: LOCAL_ACCOUNT,
        time: entry.Time
          ? new Date(typeof entry.Time === 'number' ? entry.Time * 1000 : entry.Time)
              .toISOString()
              .replace(/\.\d{3}Z$/, 'Z')
          : new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: LOCAL_REGION,
        resources: entry.Resources ?? [],
        detail,
      };
      this.publish(event, busName);
      return { EventId: event.id };
    });
    return { FailedEntryCount: failed, Entries: results };
  }

  /**
   * Stops delivering: PutEvents refuses events from now on, service events are dropped, and
   * retries waiting for their back-off give up (without a dead letter: the runtime is shutting
   * down, not failing). The runtime closes its API and drains the bus first, so no accepted lead
   * is left half-way.
   */
  stop(): void {
    this.stopped = true;
    for (const [timer, wake] of this.backoffs) {
      clearTimeout(timer);
      wake();
    }
    this.backoffs.clear();
  }

  /**
   * Replays every dead letter to the target that failed it, once, with the original event (same
   * id, so the consumer's idempotency sees a repeat as a repeat). A replayed letter leaves the
   * record; one that fails again stays with its new error. Safe to run twice: the second run
   * finds only what the first could not deliver.
   */
  async redrive(): Promise<{ replayed: RedrivenLetter[]; failed: RedrivenLetter[] }> {
    const letters = this.deadLetters.splice(0);
    const replayed: RedrivenLetter[] = [];
    const failed: RedrivenLetter[] = [];
    for (const letter of letters) {
      const summary = {
        rule: letter.rule,
        target: letter.target,
        eventId: letter.event.id,
        detailType: letter.event['detail-type'],
      };
      const rule = this.rules.find((r) => r.name === letter.rule);
      const target = rule?.targets.find((t) => t.arn === letter.target);
      try {
        if (!rule || !target) throw new Error(`rule ${letter.rule} or its target no longer exists`);
        await this.deliver(target, targetInput(target, letter.event), rule);
        replayed.push(summary);
      } catch (error) {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        failed.push({ ...summary, error: message });
        this.deadLetters.push({ ...letter, error: message, at: new Date().toISOString() });
      }
    }
    if (this.options.deadLetterFile) {
      writeFileSync(
        this.options.deadLetterFile,
        this.deadLetters.map((l) => `${JSON.stringify(l)}\n`).join(''),
      );
    }
    return { replayed, failed };
  }

  /** Puts an already-formed event on a bus (used for AWS service events such as SES). */
  publish(event: BusEvent, busName: string): void {
    if (this.stopped) return;
    this.accepted++;
    for (const listener of this.listeners) listener(event, busName);
    for (const rule of this.rules) {
      if (rule.busName !== busName || !rule.pattern || !matchesPattern(rule.pattern, event)) continue;
      for (const target of rule.targets) this.track(this.deliverWithRetries(rule, target, event));
    }
  }

  /** Fires a scheduled rule now (used by the scheduler and by `/_local/schedules/<rule>`). */
  fireSchedule(rule: LocalRule): void {
    if (this.stopped) return;
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: LOCAL_ACCOUNT,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: LOCAL_REGION,
      resources: [`arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/${rule.name}`],
      detail: {},
    };
    for (const target of rule.targets) this.track(this.deliverWithRetries(rule, target, event));
  }

  /** Resolves when no delivery is in flight (used by tests and benchmarks to wait for quiet). */
  async idle(): Promise<void> {
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  get pending(): number {
    return this.inFlight;
  }

  private track(promise: Promise<void>): void {
    this.inFlight++;
    void promise.finally(() => {
      this.inFlight--;
      if (this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    });
  }

  private async deliverWithRetries(rule: LocalRule, target: RuleTarget, event: BusEvent): Promise<void> {
    const input = targetInput(target, event);
    const started = Date.now();
    let lastError = '';
    let attempt = 0;
    // Asynchronous, like EventBridge: the publisher never waits for targets.
    await Promise.resolve();
    for (; attempt <= target.maxRetryAttempts; attempt++) {
      if (this.stopped) return;
      try {
        await this.deliver(target, input, rule);
        return;
      } catch (error) {
        lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      if (this.stopped) return;
      const ageSeconds = ((Date.now() - started) * this.options.timeScale) / 1000;
      if (ageSeconds > target.maxEventAgeSeconds) break;
      // EventBridge backs off exponentially (with jitter) up to minutes; scaled locally.
      const backoffMs =
        Date.now() < this.exhaustRetriesUntil
          ? 0
          : Math.min(60_000, 1000 * 2 ** attempt) / this.options.timeScale;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(
          () => {
            this.backoffs.delete(timer);
            resolve();
          },
          Math.max(backoffMs === 0 ? 1 : 20, backoffMs),
        );
        this.backoffs.set(timer, resolve);
      });
    }
    if (this.stopped) return;
    const letter: DeadLetter = {
      rule: rule.name,
      target: target.arn,
      ...(target.deadLetterArn ? { deadLetterArn: target.deadLetterArn } : {}),
      event,
      error: lastError,
      attempts: attempt,
      at: new Date().toISOString(),
    };
    this.deadLetters.push(letter);
    if (this.options.deadLetterFile)
      appendFileSync(this.options.deadLetterFile, `${JSON.stringify(letter)}\n`);
  }
}

/** The input a target receives: the event, `Input`, `InputPath` or an `InputTransformer`. */
export function targetInput(target: RuleTarget, event: BusEvent): unknown {
  if (target.input !== undefined) return JSON.parse(target.input);
  if (target.inputPath) return JSONPath({ path: target.inputPath, json: event as object, wrap: false });
  if (target.inputTransformer) {
    const values = Object.fromEntries(
      Object.entries(target.inputTransformer.InputPathsMap ?? {}).map(([k, path]) => [
        k,
        JSONPath({ path, json: event as object, wrap: false }),
      ]),
    );
    const text = target.inputTransformer.InputTemplate.replace(
      /"<([\w.-]+)>"|<([\w.-]+)>/g,
      (match, quoted, bare) => {
        const key = quoted ?? bare;
        if (!(key in values)) return match;
        const value = values[key];
        return quoted !== undefined
          ? JSON.stringify(value)
          : typeof value === 'string'
            ? value
            : JSON.stringify(value);
      },
    );
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return event;
}

function busNameOf(nameOrArn: string | undefined): string {
  if (!nameOrArn) return 'default';
  return nameOrArn.startsWith('arn:') ? (nameOrArn.split('/').pop() ?? 'default') : nameOrArn;
}
