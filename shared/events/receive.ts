import { z } from 'zod';
import { InvalidInputError } from '../domain/errors';
import { fieldProblems } from '../domain/input';
import { DETAIL_SCHEMAS, type DetailType, EVENT_SOURCE, type EventDetail } from './catalogue';

/**
 * Receiving pipeline events: the EventBridge envelope and the catalogue detail, both parsed, so
 * a handler gets typed data or a clear error naming every bad field.
 */

/** A received pipeline event: the EventBridge event id (stable across redeliveries) and its detail. */
export type ReceivedEvent<T extends DetailType> = {
  [K in T]: { readonly id: string; readonly detailType: K; readonly detail: EventDetail<K> };
}[T];

const EnvelopeSchema = z.object({
  id: z.string().min(1),
  source: z.string(),
  'detail-type': z.string(),
  detail: z.unknown(),
});

/** Whether the event looks like an EventBridge event of this `source` and `detail-type`. */
export function isEventOf(event: unknown, source: string, detailType: string): boolean {
  const parsed = EnvelopeSchema.safeParse(event);
  return parsed.success && parsed.data.source === source && parsed.data['detail-type'] === detailType;
}

/**
 * Parses an EventBridge event carrying one of the given pipeline detail-types.
 * @throws InvalidInputError naming each bad field (`id`, `source`, `detail-type`, `detail.<path>`).
 */
export function receivePipelineEvent<const T extends DetailType>(
  event: unknown,
  types: readonly T[],
): ReceivedEvent<T> {
  const envelope = EnvelopeSchema.safeParse(event);
  if (!envelope.success) throw new InvalidInputError(fieldProblems(envelope.error, undefined, 'event'));
  const { id, source } = envelope.data;
  const detailType = envelope.data['detail-type'];
  if (source !== EVENT_SOURCE)
    throw new InvalidInputError([{ field: 'source', reason: `expected "${EVENT_SOURCE}", got "${source}"` }]);
  if (!(types as readonly string[]).includes(detailType))
    throw new InvalidInputError([
      { field: 'detail-type', reason: `expected one of ${types.join(', ')}, got "${detailType}"` },
    ]);
  const type = detailType as T;
  const detail = DETAIL_SCHEMAS[type].safeParse(envelope.data.detail);
  if (!detail.success) throw new InvalidInputError(fieldProblems(detail.error, 'detail'));
  return { id, detailType: type, detail: detail.data } as ReceivedEvent<T>;
}
