import { z } from 'zod';
/** The client file's follow-up SLA: the first-touch deadline and the escalation ladder. */

export const EscalationStepSchema = z.strictObject({
  /**
   * Who is alerted (and given the lead when `reassign`): `team` another eligible rep of the same
   * team, `teamBackup` a rep of the team's backup team (falling back to `team`), `manager` the
   * team's manager.
   */
  to: z.enum(['team', 'teamBackup', 'manager']),
  /** Minutes allowed at this step before the next one. */
  afterMinutes: z
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 14),
  /** Reassign the lead to the recipient (the team backup gets a round-robin pick). @default true */
  reassign: z.boolean().default(true),
});

export const SlaSchema = z.strictObject({
  /** Minutes from assignment to first touch. */
  firstTouchMinutes: z
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 7),
  /** Count only the owner's working hours when timing the SLA. @default true */
  respectWorkingHours: z.boolean().default(true),
  /** Escalation after the first SLA is missed, in order; the end of the ladder marks the lead unworked. */
  ladder: z.array(EscalationStepSchema).min(1).max(10),
});
