/**
 * EventBridge Scheduler, locally: one-time schedules (`at(...)`) over the service's REST-JSON
 * wire protocol, so the real `@aws-sdk/client-scheduler` in the bundled handlers reaches it
 * through `AWS_ENDPOINT_URL_SCHEDULER` (the runtime's AWS endpoint routes `/schedules/` here).
 *
 * - `CreateSchedule` (`POST /schedules/{Name}`), `GetSchedule` (`GET`) and `DeleteSchedule`
 *   (`DELETE`), per group (`groupName`, else `default`). A name already taken in the group is
 *   `ConflictException`; an unknown one `ResourceNotFoundException`, as in AWS.
 * - A schedule fires at its time passed `timeScale` times faster (from when it was created),
 *   starts its target (a state machine) with the target's `Input`, and is deleted afterwards
 *   when `ActionAfterCompletion` is `DELETE`.
 * - Only one-time schedules in UTC: the stack creates no other kind. Nothing survives a restart.
 */

/** Starts a target (a state machine ARN) with its input, as Scheduler's templated target does. */
export type ScheduleTargetStarter = (targetArn: string, input: unknown) => void;

/** A schedule as the emulator keeps it. */
export interface LocalSchedule {
  readonly name: string;
  readonly groupName: string;
  readonly arn: string;
  readonly expression: string;
  /** When it fires in pipeline time (the `at()` instant). */
  readonly at: string;
  readonly target: { readonly Arn: string; readonly RoleArn?: string; readonly Input?: string };
  readonly actionAfterCompletion: 'DELETE' | 'NONE';
  readonly createdAt: string;
  state: 'ENABLED' | 'FIRED' | 'FAILED';
  error?: string;
}

/** An answer in the REST-JSON protocol, and the operation it was, for the call counters. */
export interface SchedulerAnswer {
  readonly operation: string;
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;
}

const ACCOUNT_REGION = 'us-east-1:000000000000';
const NAME = /^[0-9a-zA-Z-_.]{1,64}$/;

export class LocalScheduler {
  private readonly schedules = new Map<string, LocalSchedule>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Every schedule fired, in order (kept after deletion, for the recorders and the bench). */
  readonly fired: LocalSchedule[] = [];
  /** How many schedules were created in total. */
  created = 0;

  constructor(
    private readonly startTarget: ScheduleTargetStarter,
    private readonly timeScale: number,
  ) {}

  /** Schedules not fired or deleted yet. */
  get pending(): LocalSchedule[] {
    return [...this.schedules.values()].filter((s) => s.state === 'ENABLED');
  }

  /** Answers one request of the Scheduler API (`/schedules/{Name}`). */
  api(method: string, url: URL, body: string): SchedulerAnswer {
    const name = decodeURIComponent(url.pathname.slice('/schedules/'.length));
    try {
      if (!NAME.test(name))
        throw new SchedulerError(400, 'ValidationException', `invalid schedule name ${name}`);
      switch (method) {
        case 'POST':
          return ok('CreateSchedule', { ScheduleArn: this.create(name, JSON.parse(body || '{}')).arn });
        case 'GET':
          return ok('GetSchedule', describe(this.find(name, url.searchParams.get('groupName'))));
        case 'DELETE':
          this.delete(this.find(name, url.searchParams.get('groupName')));
          return ok('DeleteSchedule', {});
        default:
          throw new SchedulerError(400, 'ValidationException', `unsupported ${method} ${url.pathname}`);
      }
    } catch (error) {
      const e =
        error instanceof SchedulerError
          ? error
          : new SchedulerError(400, 'ValidationException', String(error));
      const operation =
        { POST: 'CreateSchedule', GET: 'GetSchedule', DELETE: 'DeleteSchedule' }[method] ?? method;
      return {
        operation,
        status: e.status,
        body: { Message: e.message },
        headers: { 'x-amzn-errortype': e.type },
      };
    }
  }

  /** Stops every timer (shutdown); pending schedules are dropped. */
  stopAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private create(name: string, input: Record<string, unknown>): LocalSchedule {
    const groupName = String(input.GroupName ?? 'default');
    const key = `${groupName}/${name}`;
    if (this.schedules.has(key))
      throw new SchedulerError(409, 'ConflictException', `Schedule ${name} already exists.`);
    const expression = String(input.ScheduleExpression ?? '');
    const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
    if (!match)
      throw new SchedulerError(
        400,
        'ValidationException',
        `only at() expressions run locally: ${expression}`,
      );
    const zone = input.ScheduleExpressionTimezone;
    if (zone !== undefined && zone !== 'UTC')
      throw new SchedulerError(
        400,
        'ValidationException',
        `only UTC schedules run locally, not ${String(zone)}`,
      );
    const target = input.Target as LocalSchedule['target'] | undefined;
    if (!target?.Arn) throw new SchedulerError(400, 'ValidationException', 'Target.Arn is required');
    const at = new Date(`${match[1]}Z`);
    const schedule: LocalSchedule = {
      name,
      groupName,
      arn: `arn:aws:scheduler:${ACCOUNT_REGION}:schedule/${groupName}/${name}`,
      expression,
      at: at.toISOString(),
      target,
      actionAfterCompletion: input.ActionAfterCompletion === 'DELETE' ? 'DELETE' : 'NONE',
      createdAt: new Date().toISOString(),
      state: 'ENABLED',
    };
    this.schedules.set(key, schedule);
    this.created += 1;
    const delay = Math.max(0, at.getTime() - Date.now()) / this.timeScale;
    const timer = setTimeout(() => this.fire(key), Math.min(delay, 2 ** 31 - 1));
    timer.unref?.();
    this.timers.set(key, timer);
    return schedule;
  }

  private find(name: string, group: string | null): LocalSchedule {
    const schedule = this.schedules.get(`${group ?? 'default'}/${name}`);
    if (!schedule)
      throw new SchedulerError(404, 'ResourceNotFoundException', `Schedule ${name} does not exist.`);
    return schedule;
  }

  private delete(schedule: LocalSchedule): void {
    const key = `${schedule.groupName}/${schedule.name}`;
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.schedules.delete(key);
  }

  private fire(key: string): void {
    this.timers.delete(key);
    const schedule = this.schedules.get(key);
    if (!schedule) return;
    try {
      this.startTarget(schedule.target.Arn, JSON.parse(schedule.target.Input ?? '{}'));
      schedule.state = 'FIRED';
    } catch (error) {
      // AWS retries per the target's RetryPolicy, then dead-letters; locally the failure is kept
      // on the schedule (and shown by the recorder) for the tests to see.
      schedule.state = 'FAILED';
      schedule.error = error instanceof Error ? error.message : String(error);
    }
    this.fired.push(schedule);
    if (schedule.actionAfterCompletion === 'DELETE' && schedule.state === 'FIRED') this.schedules.delete(key);
  }
}

class SchedulerError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function ok(operation: string, body: unknown): SchedulerAnswer {
  return { operation, status: 200, body, headers: {} };
}

function describe(s: LocalSchedule) {
  return {
    Arn: s.arn,
    Name: s.name,
    GroupName: s.groupName,
    ScheduleExpression: s.expression,
    ScheduleExpressionTimezone: 'UTC',
    State: 'ENABLED',
    ActionAfterCompletion: s.actionAfterCompletion,
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: s.target,
    CreationDate: Date.parse(s.createdAt) / 1000,
  };
}
