import type { EventBridgeEvent } from 'aws-lambda';
import { requireEnv } from '../../shared/adapters/clients';
import { SfnSlaLadder } from '../../shared/adapters/sla-ladder';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { parseDetail } from '../../shared/events/catalogue';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger } from '../../shared/runtime/observability';
import { type SlaLadderStarter, startLadder } from '../../shared/services/sla';

/**
 * Starts the SLA ladder for every new (non-escalation) `Lead Assigned` of a real lead (the rule
 * in `pipeline-stack.ts`): the first deadline, and a Step Functions execution named after the
 * assignment (see `startLadder`). EventBridge's own Step Functions target cannot name an
 * execution; with a name, `leads-api` stops the ladder the moment the lead is contacted, so a
 * lead worked in time costs one state instead of a check at every deadline.
 *
 * A redelivered event finds the execution already started and does nothing more. Failures
 * (throttling, an outage) are thrown: EventBridge and Lambda retry, then the dead-letter queue.
 */

export interface Deps {
  readonly starter: SlaLadderStarter;
  readonly config: Pick<ClientConfig, 'sla' | 'reps'>;
}

export function createHandler(deps: Deps) {
  return async (event: EventBridgeEvent<string, unknown>): Promise<void> => {
    const assignment = parseDetail('Lead Assigned', event.detail);
    const start = await startLadder(deps, assignment);
    logger.info('SLA clock started', {
      leadId: assignment.leadId,
      owner: assignment.repId,
      execution: start.name,
      waitUntil: start.timer.waitUntil,
      ...(start.started ? {} : { alreadyStarted: true }),
    });
  };
}

/** The adapters are built on the first invocation (they need the function's environment). */
export const handler = lazyHandler(() =>
  createHandler({ starter: new SfnSlaLadder(requireEnv('SLA_STATE_MACHINE_ARN')), config: clientConfig() }),
);
