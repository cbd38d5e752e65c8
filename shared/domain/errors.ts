/**
 * Domain errors. Adapters translate AWS SDK errors into these, so handlers and the domain
 * reason about sales facts ("the lead is already assigned") rather than SDK exception names.
 */

/** Base class: every domain error carries a stable machine-readable `code`. */
export abstract class LeadPipelineError extends Error {
  abstract readonly code: string;
  /** Whether retrying the same operation later can succeed. */
  readonly retryable: boolean = false;
}

/** One bad input field and why it is bad. */
export interface FieldProblem {
  readonly field: string;
  readonly reason: string;
}

/** Input failed validation; lists every bad field. Maps to HTTP 400. */
export class InvalidInputError extends LeadPipelineError {
  readonly code = 'INVALID_INPUT';
  constructor(readonly problems: readonly FieldProblem[]) {
    super(`Invalid input: ${problems.map((p) => `${p.field}: ${p.reason}`).join('; ')}`);
  }
}

/** The lead does not exist (or was erased). Maps to HTTP 404. */
export class LeadNotFoundError extends LeadPipelineError {
  readonly code = 'LEAD_NOT_FOUND';
  constructor(readonly leadId: string) {
    super(`Lead ${leadId} not found`);
  }
}

/** The lead has no task with this id. Maps to HTTP 404. */
export class TaskNotFoundError extends LeadPipelineError {
  readonly code = 'TASK_NOT_FOUND';
  constructor(
    readonly leadId: string,
    readonly taskId: string,
  ) {
    super(`Lead ${leadId} has no task ${taskId}`);
  }
}

/** The lead has no submitted details (a `details_submitted` activity) with this id. Maps to HTTP 404. */
export class SubmittedDetailsNotFoundError extends LeadPipelineError {
  readonly code = 'DETAILS_NOT_FOUND';
  constructor(
    readonly leadId: string,
    readonly activityId: string,
  ) {
    super(`Lead ${leadId} has no submitted details ${activityId}`);
  }
}

/** A person with this dedupe key (or provider id) already exists as another lead. */
export class DuplicateLeadError extends LeadPipelineError {
  readonly code = 'DUPLICATE_LEAD';
  constructor(
    readonly existingLeadId: string | undefined,
    readonly key: string,
  ) {
    super(`A lead already exists for ${key}${existingLeadId ? ` (${existingLeadId})` : ''}`);
  }
}

/**
 * The request was taken in already (its idempotency key is claimed): answer it as the first time,
 * from the stored claim.
 */
export class RequestAlreadyTakenError extends LeadPipelineError {
  readonly code = 'REQUEST_ALREADY_TAKEN';
  /** Retried, the request is answered from the claim (or, if it expired meanwhile, taken in afresh). */
  override readonly retryable = true;
  constructor(readonly key: string) {
    super(`The request ${key} was already taken in`);
  }
}

/** An `Idempotency-Key` reused for a different body: a client bug, never replayed. Maps to HTTP 422. */
export class IdempotencyKeyReusedError extends LeadPipelineError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  constructor() {
    super('This Idempotency-Key was already used with a different body; use a new key for a new submission');
  }
}

/** Someone else changed the lead since it was read (optimistic concurrency). Retry from a fresh read. */
export class LeadChangedError extends LeadPipelineError {
  readonly code = 'LEAD_CHANGED';
  override readonly retryable = true;
  constructor(readonly leadId: string) {
    super(`Lead ${leadId} was changed concurrently`);
  }
}

/** The rep reached their capacity between the routing decision and the write. */
export class RepAtCapacityError extends LeadPipelineError {
  readonly code = 'REP_AT_CAPACITY';
  override readonly retryable = true;
  constructor(readonly repId: string) {
    super(`Rep ${repId} is at capacity`);
  }
}

/** The team's round-robin cursor moved since it was read; route again from fresh state. */
export class RoundRobinMovedError extends LeadPipelineError {
  readonly code = 'ROUND_ROBIN_MOVED';
  override readonly retryable = true;
  constructor(readonly teamId: string) {
    super(`Round-robin cursor of team ${teamId} moved concurrently`);
  }
}

/** This nurture step was already sent to the lead; it is never sent twice. */
export class StepAlreadySentError extends LeadPipelineError {
  readonly code = 'STEP_ALREADY_SENT';
  constructor(
    readonly leadId: string,
    readonly stepKey: string,
  ) {
    super(`Step ${stepKey} was already sent to lead ${leadId}`);
  }
}

/** The caller may not do this (role or ownership). Maps to HTTP 403. */
export class NotAllowedError extends LeadPipelineError {
  readonly code = 'NOT_ALLOWED';
}

/**
 * A dependency (DynamoDB, EventBridge, SES...) is throttling, timing out or unavailable.
 * Retryable: the caller should let its retry policy (Lambda async retry, Step Functions
 * Retry, EventBridge DLQ) try again rather than lose the work.
 */
export class DependencyUnavailableError extends LeadPipelineError {
  readonly code = 'DEPENDENCY_UNAVAILABLE';
  override readonly retryable = true;
  constructor(
    readonly dependency: string,
    override readonly cause?: unknown,
  ) {
    super(`${dependency} is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
