import { DynamoErasureStore } from '../../shared/adapters/erasure-store';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { env } from '../../shared/contracts/function-env';
import { type ConsumerLogLine, eventConsumer } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';
import { type ErasureDeps, runErasure } from '../../shared/services/erasure';

/**
 * The erasure job: runs on `Erasure Requested` (EventBridge, asynchronous, with retries and a
 * dead-letter queue) and erases the person the job names. It reads the whole table, which is why
 * it is not done inside the 10-second API call. A failure or timeout is retried from the start;
 * every step is idempotent.
 */

export type Deps = Pick<ErasureDeps, 'erasures' | 'store' | 'now'>;

export function createHandler(deps: Deps) {
  return eventConsumer({
    types: ['Erasure Requested'],
    decide: ({ detail }) => runErasure(detail.erasureId, deps),
    describe: (record, { detail }): ConsumerLogLine =>
      record
        ? {
            message: 'Erasure completed',
            keys: {
              erasureId: detail.erasureId,
              leads: record.result?.deleted.leads,
              itemsScanned: record.result?.itemsScanned,
            },
          }
        : {
            message: 'No such erasure job; nothing to do',
            level: 'warn',
            keys: { erasureId: detail.erasureId },
          },
  });
}

function defaultDeps(): Deps {
  const tableName = env.tableName;
  return {
    erasures: new DynamoErasureStore(tableName),
    store: new LeadRepository(tableName),
    now: () => new Date(),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
