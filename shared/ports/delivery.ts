/**
 * How a channel's adapter failed: `unknown` when the provider gave no answer (it may have
 * sent), `not-sent` when it answered with an error (`retryable` when a later attempt can
 * succeed), `undefined` for anything else (rethrown as is).
 */
export type DeliveryFailure =
  | { readonly kind: 'unknown'; readonly message: string }
  | { readonly kind: 'not-sent'; readonly retryable: boolean; readonly code: string }
  | undefined;
