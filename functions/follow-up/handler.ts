import { z } from 'zod';
import { requireEnv } from '../../shared/adapters/clients';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { clientConfig } from '../../shared/config/runtime';
import { InvalidInputError } from '../../shared/domain/errors';
import { EVENT_SOURCE, parseDetail } from '../../shared/events/catalogue';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger } from '../../shared/runtime/observability';
import {
  FOLLOW_UP_EVENT_TYPES,
  type FollowUpDeps,
  type FollowUpEvent,
  type FollowUpResult,
  handleFollowUpEvent,
} from '../../shared/services/follow-up';

/**
 * Creates and closes the follow-up work the system gives reps (EventBridge rule `follow-up`):
 * a first-contact task due at the SLA deadline for every assignment, closed by the contact and
 * moved on reassignment, and the required actions of each pipeline stage a deal enters. See
 * `shared/services/follow-up.ts`; every write is idempotent, so redeliveries are harmless.
 * Failures are thrown: Lambda's async retries, then the dead-letter queue.
 */

const EnvelopeSchema = z.object({
  'detail-type': z.enum(FOLLOW_UP_EVENT_TYPES),
  source: z.literal(EVENT_SOURCE),
  detail: z.unknown(),
});

/** Parses the EventBridge envelope and its detail. @throws InvalidInputError naming the bad field. */
export function parseFollowUpEvent(event: unknown): FollowUpEvent {
  const envelope = EnvelopeSchema.safeParse(event);
  if (!envelope.success)
    throw new InvalidInputError(
      envelope.error.issues.map((i) => ({ field: i.path.join('.') || 'event', reason: i.message })),
    );
  const type = envelope.data['detail-type'];
  try {
    return { type, detail: parseDetail(type, envelope.data.detail) } as FollowUpEvent;
  } catch (error) {
    if (!(error instanceof z.ZodError)) throw error;
    throw new InvalidInputError(
      error.issues.map((i) => ({ field: ['detail', ...i.path.map(String)].join('.'), reason: i.message })),
    );
  }
}

export function createHandler(deps: FollowUpDeps) {
  return async (event: unknown): Promise<FollowUpResult> => {
    const parsed = parseFollowUpEvent(event);
    const result = await handleFollowUpEvent(parsed, deps);
    logger.info('Follow-up tasks', { eventType: parsed.type, ...result });
    return result;
  };
}

/** Adapters are built on the first invocation (they need the function's environment). */
export const handler = lazyHandler(() =>
  createHandler({ store: new LeadRepository(requireEnv('TABLE_NAME')), config: clientConfig() }),
);
