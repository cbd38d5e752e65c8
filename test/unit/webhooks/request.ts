import { createHmac } from 'node:crypto';
import type { WebhookRequest } from '../../../shared/webhooks/common';

/** A webhook request as the adapters receive it. */
export function webhookRequest(
  body: string | Buffer,
  headers: Record<string, string> = {},
  options: { contentType?: string; query?: Record<string, string>; method?: string } = {},
): WebhookRequest {
  return {
    method: options.method ?? 'POST',
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    query: options.query ?? {},
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    contentType: options.contentType ?? 'application/json',
  };
}

export function hmac(key: string, data: string | Buffer, encoding: 'hex' | 'base64' = 'hex'): string {
  return createHmac('sha256', key).update(data).digest(encoding);
}
