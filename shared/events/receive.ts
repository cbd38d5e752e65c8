import { z } from 'zod';
import type { DetailType, EventDetail } from './catalogue';

/**
 * Receiving pipeline events: what a consumer gets once the consumer middleware
 * (`shared/runtime/consumer.ts`) has parsed the EventBridge envelope and the catalogue detail.
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
