import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
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
