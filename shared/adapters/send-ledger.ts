import type { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { keys, TTL_ATTRIBUTE } from '../contracts/table-design';
import { DependencyUnavailableError } from '../domain/errors';
import type { AutoResponseClaim, AutoResponseClaimOutcome } from '../services/auto-response';
import type { SendClaimExtra, SendResult } from '../services/lead-email';
import { errorName, rethrowAsDomain } from './aws-errors';
import { LeadTable } from './lead-table';

/** A send claim as stored: under its lead, one per sequence step (see `claimSend`). */
function sendClaimItem(
  leadId: string,
  sequenceId: string,
  stepId: string,
  at: string,
  extra?: SendClaimExtra,
): Record<string, unknown> {
  return {
    ...keys.send(leadId, sequenceId, stepId),
    entity: 'send',
    leadId,
    sequenceId,
    stepId,
    at,
    ...extra,
  };
}

/**
 * Sends and suppression: the claim taken before each email step (so a step is never sent
 * twice), its recorded outcome, the auto-response's one-transaction checks, the suppression list
 * and the once-a-day stale-deal alert claims.
 */
export class SendLedger extends LeadTable {
  /**
   * Claims a nurture step for a lead before it is sent, so a step is never sent twice even when
   * the state machine retries.
   * @throws StepAlreadySentError when the step was already claimed.
   */
  async claimSend(
    leadId: string,
    sequenceId: string,
    stepId: string,
    at: string,
    extra?: SendClaimExtra,
  ): Promise<void> {
    await this.transact(
      [
        {
          Put: {
            TableName: this.tableName,
            Item: sendClaimItem(leadId, sequenceId, stepId, at, extra),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
      [{ kind: 'send', leadId, stepKey: `${sequenceId}/${stepId}` }],
    );
  }

  /**
   * The auto-response's three checks in one transaction: the address is not suppressed, the
   * address was not auto-answered today for another lead (the day's claim is taken), and the
   * lead's send is new (the send claim is taken). @returns `claimed`, or the first reason not to send.
   */
  async claimAutoResponse(claim: AutoResponseClaim): Promise<AutoResponseClaimOutcome> {
    const { leadId } = claim;
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: sendClaimItem(leadId, claim.sequenceId, claim.stepId, claim.at),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: keys.suppression(claim.suppressionHash),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...keys.autoResponseDay(claim.addressHash, claim.day),
                  entity: 'autoResponseDay',
                  leadId,
                  [TTL_ATTRIBUTE]: claim.expiresAt,
                },
                ConditionExpression: 'attribute_not_exists(pk) OR leadId = :leadId',
                ExpressionAttributeValues: { ':leadId': leadId },
              },
            },
          ],
        }),
      );
      return 'claimed';
    } catch (error) {
      if (errorName(error) !== 'TransactionCanceledException') return rethrowAsDomain('DynamoDB', error);
      const [send, suppression, day] = (
        (error as TransactionCanceledException).CancellationReasons ?? []
      ).map((r) => r.Code === 'ConditionalCheckFailed');
      if (send) return 'already-sent';
      if (suppression) return 'suppressed';
      if (day) return 'address-mailed-today';
      throw new DependencyUnavailableError('DynamoDB', error);
    }
  }

  /**
   * Completes a claim made with {@link claimSend} once the send's outcome is known: `sent` with
   * the SES message id, or `unconfirmed` when the request failed without an answer (SES may or
   * may not have accepted it). Either way the claim stays, so the step is never sent again.
   * A claim erased in between (lead erasure) is not recreated.
   */
  async recordSendResult(
    leadId: string,
    sequenceId: string,
    stepId: string,
    result: SendResult,
  ): Promise<void> {
    const values: Record<string, unknown> = { ':status': result.status, ':at': result.at };
    let update = 'SET #status = :status, #resultAt = :at';
    if (result.status === 'sent') {
      update += ', #messageId = :messageId';
      values[':messageId'] = result.messageId;
    } else {
      update += ', #error = :error';
      values[':error'] = result.error.slice(0, 500);
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.send(leadId, sequenceId, stepId),
          UpdateExpression: update,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#resultAt': 'resultAt',
            ...(result.status === 'sent' ? { '#messageId': 'messageId' } : { '#error': 'error' }),
          },
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') return;
      rethrowAsDomain('DynamoDB', error);
    }
  }

  /**
   * Releases a claim whose send SES refused outright (throttled, paused, rejected), so a retry
   * may claim and send the step again. Conditional on no message id being recorded: a send that
   * went out is never released.
   */
  async releaseSendClaim(leadId: string, sequenceId: string, stepId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.send(leadId, sequenceId, stepId),
          ConditionExpression: 'attribute_not_exists(#messageId)',
          ExpressionAttributeNames: { '#messageId': 'messageId' },
        }),
      );
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') return;
      rethrowAsDomain('DynamoDB', error);
    }
  }

  /** Whether the hashed address is on the suppression list. */
  async isSuppressed(emailHash: string): Promise<boolean> {
    const out = await this.send(() =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.suppression(emailHash) })),
    );
    return out.Item !== undefined;
  }

  /** Puts a hashed address on the suppression list (idempotent). */
  async suppress(emailHash: string, reason: string, at: string): Promise<void> {
    await this.send(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.suppression(emailHash), entity: 'suppression', reason, at },
        }),
      ),
    );
  }

  /** The suppression entry of a hashed address, or undefined. */
  async getSuppression(emailHash: string): Promise<{ reason?: string; at?: string } | undefined> {
    const out = await this.send(() =>
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: keys.suppression(emailHash), ConsistentRead: true }),
      ),
    );
    if (!out.Item) return undefined;
    const { reason, at } = out.Item;
    return {
      ...(typeof reason === 'string' ? { reason } : {}),
      ...(typeof at === 'string' ? { at } : {}),
    };
  }

  /**
   * Claims today's stale-deal alert for a lead (a marker with TTL). @returns false when the
   * alert was already claimed for that day.
   */
  async claimStaleDealAlert(leadId: string, day: string, expiresAtEpoch: number): Promise<boolean> {
    return this.putOnce({
      ...keys.staleDealAlert(leadId, day),
      entity: 'staleDealAlert',
      leadId,
      day,
      [TTL_ATTRIBUTE]: expiresAtEpoch,
    });
  }

  /** Releases a claim whose event could not be published, so the retry publishes it. */
  async releaseStaleDealAlert(leadId: string, day: string): Promise<void> {
    await this.send(() =>
      this.client.send(
        new DeleteCommand({ TableName: this.tableName, Key: keys.staleDealAlert(leadId, day) }),
      ),
    );
  }
}
