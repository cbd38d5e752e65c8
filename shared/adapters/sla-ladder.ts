import { SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { SlaClock } from '../services/leads';
import type { SlaLadderInput, SlaLadderStarter } from '../services/sla';
import { errorName, rethrowAsDomain } from './aws-errors';

/**
 * Starts named executions with Step Functions `StartExecution`. A name that already exists (a
 * redelivered event, running or finished) is the execution already started: Step Functions
 * keeps execution names unique per state machine, which makes the start idempotent.
 * @throws DependencyUnavailableError (retryable) on throttling and outages.
 */
export class SfnExecutionStarter<TInput> {
  private readonly client: SFNClient;

  constructor(
    private readonly stateMachineArn: string,
    client?: SFNClient,
  ) {
    this.client = client ?? new SFNClient({ maxAttempts: 3 });
  }

  async start(name: string, input: TInput): Promise<'started' | 'already-started'> {
    try {
      await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
      return 'started';
    } catch (error) {
      if (errorName(error) === 'ExecutionAlreadyExists') return 'already-started';
      rethrowAsDomain('Step Functions', error);
    }
  }
}

/** Starts SLA ladders (the `sla-start` function). */
export class SfnSlaLadder extends SfnExecutionStarter<SlaLadderInput> implements SlaLadderStarter {}

/**
 * Stops SLA ladder executions with `StopExecution`, only for executions of the configured
 * state machine. An execution that already ended is fine: the ladder is over either way.
 */
export class SfnSlaClock implements SlaClock {
  private readonly client: SFNClient;
  private readonly executionPrefix: string;

  constructor(stateMachineArn: string, client?: SFNClient) {
    this.client = client ?? new SFNClient({ maxAttempts: 3 });
    // arn:aws:states:<region>:<account>:stateMachine:<name> → …:execution:<name>:<execution>
    this.executionPrefix = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:`;
  }

  executionArn(name: string): string {
    return `${this.executionPrefix}${name}`;
  }

  async stop(executionArn: string, cause: string): Promise<void> {
    if (!executionArn.startsWith(this.executionPrefix))
      throw new Error(`${executionArn} is not an execution of the SLA state machine`);
    try {
      await this.client.send(
        new StopExecutionCommand({ executionArn, error: 'SlaEnded', cause: cause.slice(0, 256) }),
      );
    } catch (error) {
      if (errorName(error) === 'ExecutionDoesNotExist') return;
      rethrowAsDomain('Step Functions', error);
    }
  }
}
