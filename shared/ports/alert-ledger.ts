/** The channels an alert goes out on. */
export type AlertChannel = 'slack' | 'sns';

/**
 * Exactly one send per alert and channel, with one conditional write per alert.
 *
 * Neither a Slack post nor an SNS publish can be made conditional, so the alert is claimed
 * before it is sent: the claim is one item keyed by the effect (the alert key, see the `alert`
 * function), written only if no claim exists or the last one was released. A successful send
 * writes nothing more; a failed one releases the claim, recording the channels that did go out,
 * so the retry (Lambda's, or a DLQ redrive) sends only the rest.
 */
export interface AlertLedger {
  /**
   * Claims the alert. @returns the channels an earlier, released attempt already delivered, or
   * `undefined` when another attempt holds the claim or finished the alert (nothing to send).
   */
  claim(alertKey: string): Promise<{ readonly delivered: readonly AlertChannel[] } | undefined>;
  /** Releases a claim after a failure, remembering what was delivered (all `delivered` so far). */
  release(alertKey: string, delivered: readonly AlertChannel[]): Promise<void>;
}
