import { LeadRepository } from '../../shared/adapters/lead-repository';
import { SfnExecutionStarter } from '../../shared/adapters/sla-ladder';
import { clientConfig } from '../../shared/config/runtime';
import { env } from '../../shared/contracts/function-env';
import { type ConsumerLogLine, eventConsumer } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';
import { applyNurtureTriggers, type NurtureTriggerDeps } from '../../shared/services/nurture-triggers';

/**
 * Behaviour-started sequences (`nurture.triggers` in the client file): on every page view
 * recorded for a lead (`Activity Recorded`, type `page_view`), the first trigger that fires
 * moves a nurtured lead to its short sequence and starts it by name (see
 * `shared/services/nurture-triggers.ts`). Failures are thrown: EventBridge and Lambda retry,
 * then the dead-letter queue; a retry starts nothing twice.
 */
export function createHandler(deps: NurtureTriggerDeps) {
  return eventConsumer({
    types: ['Activity Recorded'],
    decide: ({ detail }) => applyNurtureTriggers(detail.leadId, deps),
    describe: (result): ConsumerLogLine =>
      result.outcome !== 'none'
        ? { message: 'Nurture trigger fired', keys: { ...result } }
        : { message: 'No nurture trigger', level: 'debug', keys: { reason: result.reason } },
  });
}

/** The adapters are built on the first invocation (they need the function's environment). */
export const handler = lazyHandler(() =>
  createHandler({
    store: new LeadRepository(env.tableName),
    starter: new SfnExecutionStarter(env.nurtureStateMachineArn),
    config: clientConfig(),
    now: () => new Date(),
  }),
);
