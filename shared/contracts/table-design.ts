/**
 * The single DynamoDB table: its keys, indexes and access patterns.
 *
 * Both the CDK stack (which creates the table) and the repository adapter (which reads and
 * writes it) import this file, so the schema is described once. Keys are strings with a type
 * prefix so one table holds every entity and transactions can span them.
 *
 * | Access pattern                     | Key                                                       |
 * |------------------------------------|-----------------------------------------------------------|
 * | lead by id                         | pk `LEAD#<id>`, sk `PROFILE`                              |
 * | lead by dedupe key (unique)        | pk `DEDUPE#<key>`, sk `DEDUPE` → leadId (conditional put) |
 * | lead by provider id (unique)       | pk `EXT#<provider>#<id>`, sk `EXT` → leadId               |
 * | leads by owner and status          | GSI `byOwner`: `OWNER#<rep>` / `<status>#<createdAt>#<id>`|
 * | leads by team                      | GSI `byTeam`: `TEAM#<team>` / `<createdAt>#<id>`          |
 * | leads by stage                     | GSI `byStage`: `STAGE#<stage>` / `<stageAt>#<id>` (stageAt: pipeline stage entered, else captured) |
 * | leads captured on a day (reports)  | GSI `byDay`: `DAY#<yyyy-mm-dd>` / `<createdAt>#<id>`      |
 * | activity timeline per lead         | pk `LEAD#<id>`, sk `ACT#<at>#<activityId>`                |
 * | score history per lead             | pk `LEAD#<id>`, sk `SCORE#<at>`                           |
 * | notes and tasks per lead           | pk `LEAD#<id>`, sk `NOTE#<at>#<id>` / `TASK#<due>#<id>`   |
 * | nurture sends (exactly once)       | pk `LEAD#<id>`, sk `SEND#<sequence>#<step>`               |
 * | stale-deal alert per day (TTL)     | pk `LEAD#<id>`, sk `STALE#<yyyy-mm-dd>`                   |
 * | rep counters (open leads)          | pk `REP#<rep>`, sk `COUNTERS`                             |
 * | team round-robin cursor            | pk `TEAM#<team>`, sk `CURSOR`                             |
 * | held leads due for routing         | pk `HELD`, sk `<until>#<leadId>`                          |
 * | events to publish (outbox)         | pk `OUTBOX`, sk `<at>#<entryId>`                          |
 * | ad leads to fetch again (pending)  | pk `PENDING`, sk `<provider>#<externalId>`                |
 * | anonymous visitor events           | pk `VISITOR#<id>`, sk `EVT#<at>#<id>` (TTL)               |
 * | suppression list (hashed email)    | pk `SUPPRESS#<sha256>`, sk `SUPPRESS`                     |
 * | SMS opt-outs (hashed number)       | pk `SMSOPTOUT#<sha256>`, sk `SMSOPTOUT`                   |
 * | auto-response per address per day  | pk `ACK#<sha256>`, sk `DAY#<yyyy-mm-dd>` (TTL)            |
 * | idempotency records (Powertools)   | pk `IDEMPOTENCY#<fn>`, sk `<hash>` (TTL)                  |
 * | a capture request taken in (TTL)   | pk `IDEMPOTENCY#capture#<sha256 of key>`, sk `REQUEST`    |
 * | Slack requests seen (replays, TTL) | pk `SLACKREQ#<sha256 of signature>`, sk `SLACKREQ`        |
 *
 * The four GSIs project keys only; a reader fetches the leads an index read points at.
 *
 * Short-lived records (idempotency, anonymous visitor events) carry {@link TTL_ATTRIBUTE}
 * in epoch seconds.
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;

/** Epoch-seconds expiry attribute; DynamoDB TTL deletes the item after it. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** Global secondary indexes, by name: partition and sort attribute names. */
export const INDEXES = {
  byOwner: { partitionKey: 'ownerPk', sortKey: 'ownerSk' },
  byTeam: { partitionKey: 'teamPk', sortKey: 'teamSk' },
  byStage: { partitionKey: 'stagePk', sortKey: 'stageSk' },
  byDay: { partitionKey: 'dayPk', sortKey: 'daySk' },
} as const;

export type IndexName = keyof typeof INDEXES;

/** Key builders, so no handler spells a key by hand. */
export const keys = {
  lead: (leadId: string) => ({ pk: `LEAD#${leadId}`, sk: 'PROFILE' }),
  dedupe: (dedupeKey: string) => ({ pk: `DEDUPE#${dedupeKey}`, sk: 'DEDUPE' }),
  external: (provider: string, externalId: string) => ({ pk: `EXT#${provider}#${externalId}`, sk: 'EXT' }),
  activity: (leadId: string, at: string, activityId: string) => ({
    pk: `LEAD#${leadId}`,
    sk: `ACT#${at}#${activityId}`,
  }),
  activityPrefix: 'ACT#',
  scoreHistory: (leadId: string, at: string) => ({ pk: `LEAD#${leadId}`, sk: `SCORE#${at}` }),
  scorePrefix: 'SCORE#',
  note: (leadId: string, at: string, noteId: string) => ({
    pk: `LEAD#${leadId}`,
    sk: `NOTE#${at}#${noteId}`,
  }),
  notePrefix: 'NOTE#',
  task: (leadId: string, due: string, taskId: string) => ({
    pk: `LEAD#${leadId}`,
    sk: `TASK#${due}#${taskId}`,
  }),
  taskPrefix: 'TASK#',
  send: (leadId: string, sequenceId: string, stepId: string) => ({
    pk: `LEAD#${leadId}`,
    sk: `SEND#${sequenceId}#${stepId}`,
  }),
  sendPrefix: 'SEND#',
  /** Marks a stale deal as announced for one (UTC) day, so a re-run of the daily sweep does not repeat it. */
  staleDealAlert: (leadId: string, day: string) => ({ pk: `LEAD#${leadId}`, sk: `STALE#${day}` }),
  repCounters: (repId: string) => ({ pk: `REP#${repId}`, sk: 'COUNTERS' }),
  teamCursor: (teamId: string) => ({ pk: `TEAM#${teamId}`, sk: 'CURSOR' }),
  /** One partition, sorted by due time: a sweep reads what is due with one range query. */
  heldLead: (until: string, leadId: string) => ({ pk: 'HELD', sk: `${until}#${leadId}` }),
  heldPartition: 'HELD',
  /**
   * Events a change must publish, written in the change's own transaction and deleted once on
   * the bus; one partition sorted by time, so the relay reads leftovers with one range query.
   */
  outbox: (at: string, entryId: string) => ({ pk: 'OUTBOX', sk: `${at}#${entryId}` }),
  outboxPartition: 'OUTBOX',
  /** An ad-platform lead stored `pending` whose answers the relay fetches again. */
  pendingLead: (provider: string, externalId: string) => ({ pk: 'PENDING', sk: `${provider}#${externalId}` }),
  pendingPartition: 'PENDING',
  visitorEvent: (visitorId: string, at: string, eventId: string) => ({
    pk: `VISITOR#${visitorId}`,
    sk: `EVT#${at}#${eventId}`,
  }),
  suppression: (emailHash: string) => ({ pk: `SUPPRESS#${emailHash}`, sk: 'SUPPRESS' }),
  /** A number that replied STOP (hash of its E.164 form): no SMS goes to it again. */
  smsOptOut: (phoneHash: string) => ({ pk: `SMSOPTOUT#${phoneHash}`, sk: 'SMSOPTOUT' }),
  /** The day's auto-response to an address (hash of its dedupe key), whichever lead it went to. */
  autoResponseDay: (addressHash: string, day: string) => ({ pk: `ACK#${addressHash}`, sk: `DAY#${day}` }),
  leadPartition: (leadId: string) => `LEAD#${leadId}`,
  /** A signed Slack request already served: a replay of it within the tolerance is refused. */
  slackRequest: (signatureHash: string) => ({ pk: `SLACKREQ#${signatureHash}`, sk: 'SLACKREQ' }),
  slackRequestPartition: (signatureHash: string) => `SLACKREQ#${signatureHash}`,
  repPartition: (repId: string) => `REP#${repId}`,
  /**
   * A capture request taken in, written in its lead's own transaction (one partition per key, so
   * a burst of submissions spreads over the table; the `IDEMPOTENCY#` prefix keeps it erasable).
   */
  captureRequest: (keyHash: string) => ({ pk: `IDEMPOTENCY#capture#${keyHash}`, sk: 'REQUEST' }),
  /** Partition of a function's Powertools idempotency records. */
  idempotencyPartition: (functionName: string) => `IDEMPOTENCY#${functionName}`,
} as const;

/** Index attribute values for a lead item. */
export const indexKeys = {
  byOwner: (ownerId: string, status: string, createdAt: string, leadId: string) => ({
    ownerPk: `OWNER#${ownerId}`,
    ownerSk: `${status}#${createdAt}#${leadId}`,
  }),
  byTeam: (teamId: string, createdAt: string, leadId: string) => ({
    teamPk: `TEAM#${teamId}`,
    teamSk: `${createdAt}#${leadId}`,
  }),
  byStage: (stage: string, stageAt: string, leadId: string) => ({
    stagePk: `STAGE#${stage}`,
    stageSk: `${stageAt}#${leadId}`,
  }),
  byDay: (createdAt: string, leadId: string) => ({
    dayPk: `DAY#${createdAt.slice(0, 10)}`,
    daySk: `${createdAt}#${leadId}`,
  }),
} as const;
