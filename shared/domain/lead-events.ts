import type { Priority } from '../config/schema';

/**
 * What the domain reads of the pipeline's events, as plain facts. The event catalogue
 * (`shared/events/catalogue.ts`) owns the events and their zod schemas; a catalogue detail has
 * every field below (the compiler checks it wherever a handler passes one in), so the domain
 * decides on events without importing the catalogue.
 */

/** Fields every lead event carries. */
export interface LeadEventFacts {
  readonly leadId: string;
  readonly occurredAt: string;
  /** Test leads flow through but are never alerted or emailed. */
  readonly isTest: boolean;
}

/** A lead was given to a rep (`Lead Assigned`). */
export interface AssignmentFacts extends LeadEventFacts {
  readonly repId: string;
  readonly via: string;
  readonly priority: Priority;
  readonly assignedAt: string;
  /** Set when the lead moved from another rep. */
  readonly previousOwner?: string | undefined;
  /** The SLA ladder step that caused the assignment (0 = first assignment). */
  readonly ladderStep: number;
}

/** A rep made first contact (`Lead Contacted`). */
export interface ContactFacts extends LeadEventFacts {
  readonly repId: string;
}

/** The SLA ladder escalated a lead (`Lead Escalated`). */
export interface EscalationFacts extends LeadEventFacts {
  readonly fromRepId: string;
  readonly toRepId?: string | undefined;
  readonly ladderStep: number;
  readonly minutesWithoutContact: number;
}

/** The SLA ladder ended with nobody contacting the lead (`Lead Unworked`). */
export interface UnworkedFacts extends LeadEventFacts {
  readonly lastOwner: string;
  readonly managerId: string;
  readonly minutesWithoutContact: number;
}

/** A deal moved to another pipeline stage (`Lead Stage Changed`). */
export interface StageChangeFacts extends LeadEventFacts {
  readonly from?: string | undefined;
  readonly to: string;
  readonly by: string;
}

/** An overdue task as the daily sweep reports it. */
export interface OverdueTaskFacts {
  readonly id: string;
  readonly title: string;
  readonly dueAt: string;
}

/** A deal stayed too long in its stage (`Stale Deal Found`). */
export interface StaleDealFacts extends LeadEventFacts {
  readonly repId: string;
  readonly pipelineStage: string;
  readonly daysInStage: number;
  readonly overdueTasks: readonly OverdueTaskFacts[];
}

/** An open deal has overdue tasks (`Tasks Overdue`). */
export interface TasksOverdueFacts extends LeadEventFacts {
  readonly repId: string;
  readonly pipelineStage: string;
  readonly tasks: readonly OverdueTaskFacts[];
}
