import type { EventBridgeEvent } from 'aws-lambda';
import { requireEnv } from '../../shared/adapters/clients';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { SfnExecutionStarter } from '../../shared/adapters/sla-ladder';
import { clientConfig } from '../../shared/config/runtime';
import { parseDetail } from '../../shared/events/catalogue';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger } from '../../shared/runtime/observability';
import { applyNurtureTriggers, type NurtureTriggerDeps } from '../../shared/services/nurture-triggers';

/**
 * Behaviour-started sequences (`nurture.triggers` in the client file): on every page view
 * recorded for a lead (`Activity Recorded`, type `page_view`), the first trigger that fires
 * moves a nurtured lead to its short sequence and starts it by name (see
 * `shared/services/nurture-triggers.ts`). Failures are thrown: EventBridge and Lambda retry,
 * then the dead-letter queue; a retry starts nothing twice.
 */
export function createHandler(deps: NurtureTriggerDeps) {
  return async (event: EventBridgeEvent<string, unknown>): Promise<void> => {
    const detail = parseDetail('Activity Recorded', event.detail);
    const result = await applyNurtureTriggers(detail.leadId, deps);
    if (result.outcome !== 'none') logger.info('Nurture trigger fired', { leadId: detail.leadId, ...result });
    else logger.debug('No nurture trigger', { leadId: detail.leadId, reason: result.reason });
  };
}

/** The adapters are built on the first invocation (they need the function's environment). */
export const handler = lazyHandler(() =>
  createHandler({
    store: new LeadRepository(requireEnv('TABLE_NAME')),
    starter: new SfnExecutionStarter(requireEnv('NURTURE_STATE_MACHINE_ARN')),
    config: clientConfig(),
    now: () => new Date(),
  }),
);
