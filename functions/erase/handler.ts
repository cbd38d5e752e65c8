import type { Context } from 'aws-lambda';
import { requireEnv } from '../../shared/adapters/clients';
import { DynamoErasureStore } from '../../shared/adapters/erasure-store';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { receivePipelineEvent } from '../../shared/events/receive';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger } from '../../shared/runtime/observability';
import { type ErasureDeps, type ErasureRecord, runErasure } from '../../shared/services/erasure';

/**
 * The erasure job: runs on `Erasure Requested` (EventBridge, asynchronous, with retries and a
 * dead-letter queue) and erases the person the job names. It reads the whole table, which is why
 * it is not done inside the 10-second API call. A failure or timeout is retried from the start;
 * every step is idempotent.
 */

export type Deps = Pick<ErasureDeps, 'erasures' | 'store' | 'now'>;

export function createHandler(deps: Deps) {
  return async (event: unknown, _context?: Context): Promise<ErasureRecord | undefined> => {
    const { detail } = receivePipelineEvent(event, ['Erasure Requested']);
    const record = await runErasure(detail.erasureId, deps);
    if (!record) logger.warn('No such erasure job; nothing to do', { erasureId: detail.erasureId });
    else
      logger.info('Erasure completed', {
        erasureId: detail.erasureId,
        leads: record.result?.deleted.leads,
        itemsScanned: record.result?.itemsScanned,
      });
    return record;
  };
}

function defaultDeps(): Deps {
  const tableName = requireEnv('TABLE_NAME');
  return {
    erasures: new DynamoErasureStore(tableName),
    store: new LeadRepository(tableName),
    now: () => new Date(),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
