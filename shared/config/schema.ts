import { z } from 'zod';
import { nurtureGraphProblems } from '../domain/nurture-graph';
import { CaptureSchema, EnrichmentSchema, TrackingSchema, WebhooksSchema } from './schema-integrations';
import { AlertsSchema, AutoResponseSchema, EmailSchema, SmsSchema } from './schema-messaging';
import { type EmailTemplateSchema, NurtureSchema } from './schema-nurture';
import { ObservabilitySchema } from './schema-observability';
import { PipelineSchema } from './schema-pipeline';
import { countryCode, slug, TimeZoneSchema } from './schema-primitives';
import { RoutingSchema } from './schema-routing';
import { ScoringSchema } from './schema-scoring';
import { SlaSchema } from './schema-sla';
import { StackSettingsSchema } from './schema-stack';
import {
  RepSchema,
  type SenioritySchema,
  TeamSchema,
  TerritorySchema,
  type WeekdaySchema,
} from './schema-team';
import { CONSENT_TEXT_MAX, type PrioritySchema } from './schema-vocabulary';

/**
 * The client configuration: everything a client (or the agency running it) changes lives in
 * `clients/<name>.yaml` and is validated by {@link ClientConfigSchema} at synth time. The
 * validated object is baked into every function bundle, so the pipeline and its infrastructure
 * always agree on one reviewed file.
 */

export const ClientConfigSchema = z
  .strictObject({
    client: z.strictObject({
      /** Stack names and tags derive from this; it must match the file name. */
      name: slug,
      displayName: z.string().min(1).max(100),
      /** Country assumed for phone numbers without a country code. */
      defaultCountry: countryCode,
      timezone: TimeZoneSchema,
      currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code such as "EUR"'),
      /** `consent-required`: nurture email only with recorded marketing consent. @default "consent-required" */
      consentMode: z.enum(['consent-required', 'opt-out']).default('consent-required'),
      /**
       * The marketing-consent wording the client's forms show next to the checkbox, stored with
       * every opt-in as the record of what the person agreed to. @default none (opt-ins are
       * recorded with their time and source only)
       */
      consentText: z.string().trim().min(1).max(CONSENT_TEXT_MAX).optional(),
      /**
       * Link to a lead in another system (a CRM), with `{leadId}`: alerts then open it there
       * instead of in the console. @default - alerts open the lead in the console
       */
      leadUrlTemplate: z.string().includes('{leadId}', { message: 'must contain {leadId}' }).optional(),
    }),
    stack: StackSettingsSchema,
    capture: CaptureSchema,
    teams: z.array(TeamSchema).min(1),
    reps: z.array(RepSchema).min(1),
    territories: z.array(TerritorySchema).min(1),
    scoring: ScoringSchema,
    routing: RoutingSchema,
    sla: SlaSchema,
    nurture: NurtureSchema,
    sms: SmsSchema.default(SmsSchema.parse({})),
    autoResponse: AutoResponseSchema,
    email: EmailSchema,
    alerts: AlertsSchema,
    pipeline: PipelineSchema,
    webhooks: WebhooksSchema.default(WebhooksSchema.parse({})),
    enrichment: EnrichmentSchema.default({}),
    tracking: TrackingSchema.default(TrackingSchema.parse({})),
    observability: ObservabilitySchema.default(ObservabilitySchema.parse({})),
  })
  .superRefine(checkReferences);

type RawConfig = z.output<z.ZodObject<(typeof ClientConfigSchema)['shape']>>;

/** Cross-references the schema alone cannot express: every id used must exist. */
function checkReferences(c: RawConfig, ctx: z.RefinementCtx): void {
  const teamIds = new Set(c.teams.map((t) => t.id));
  const repIds = new Set(c.reps.map((r) => r.id));
  const sequenceIds = new Set(c.nurture.sequences.map((s) => s.id));
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  const unique = (ids: string[], path: string) => {
    const seen = new Set<string>();
    ids.forEach((v, i) => {
      if (seen.has(v)) issue([path, i, 'id'], `duplicate id "${v}"`);
      seen.add(v);
    });
  };
  unique(
    c.reps.map((r) => r.id),
    'reps',
  );
  unique(
    c.teams.map((t) => t.id),
    'teams',
  );
  unique(
    c.nurture.sequences.map((s) => s.id),
    'nurture',
  );

  c.reps.forEach((r, i) => {
    if (!teamIds.has(r.team)) issue(['reps', i, 'team'], `unknown team "${r.team}"`);
  });
  c.teams.forEach((t, i) => {
    if (!repIds.has(t.manager)) issue(['teams', i, 'manager'], `unknown rep "${t.manager}"`);
    if (t.backupTeam !== undefined && !teamIds.has(t.backupTeam))
      issue(['teams', i, 'backupTeam'], `unknown team "${t.backupTeam}"`);
    if (t.backupTeam === t.id) issue(['teams', i, 'backupTeam'], 'a team cannot be its own backup');
  });
  c.territories.forEach((t, i) => {
    if (!teamIds.has(t.team)) issue(['territories', i, 'team'], `unknown team "${t.team}"`);
  });
  const seenCountries = new Map<string, string>();
  c.territories.forEach((t, i) => {
    if (t.countries === '*') return;
    for (const cc of t.countries) {
      const other = seenCountries.get(cc);
      if (other) issue(['territories', i, 'countries'], `${cc} is already in territory "${other}"`);
      seenCountries.set(cc, t.id);
    }
  });
  if (c.territories.filter((t) => t.countries === '*').length > 1)
    issue(['territories'], 'only one territory may use "*"');
  c.routing.rules.forEach((r, i) => {
    if ('team' in r.target && !teamIds.has(r.target.team))
      issue(['routing', 'rules', i, 'target', 'team'], `unknown team "${r.target.team}"`);
    if ('nurture' in r.target && !sequenceIds.has(r.target.nurture))
      issue(['routing', 'rules', i, 'target', 'nurture'], `unknown nurture sequence "${r.target.nurture}"`);
  });
  if (!repIds.has(c.routing.defaultOwner))
    issue(['routing', 'defaultOwner'], `unknown rep "${c.routing.defaultOwner}"`);
  if (!sequenceIds.has(c.nurture.defaultSequence))
    issue(['nurture', 'defaultSequence'], `unknown nurture sequence "${c.nurture.defaultSequence}"`);
  c.nurture.triggers.forEach((t, i) => {
    if (!sequenceIds.has(t.sequence))
      issue(['nurture', 'triggers', i, 'sequence'], `unknown nurture sequence "${t.sequence}"`);
  });
  for (const problem of nurtureGraphProblems(c.nurture)) issue(problem.path, problem.message);
  if (c.sms.enabled && c.sms.originationIdentity === undefined)
    issue(['sms', 'originationIdentity'], 'required when sms.enabled is true');
  c.nurture.sequences.forEach((s, si) => {
    s.steps.forEach((step, ki) => {
      if (step.channel === 'sms' && !c.sms.enabled)
        issue(['nurture', 'sequences', si, 'steps', ki, 'channel'], 'an SMS step needs sms.enabled: true');
    });
  });
  const stageIds = c.pipeline.stages.map((s) => s.id);
  stageIds.forEach((s, i) => {
    if (stageIds.indexOf(s) !== i) issue(['pipeline', 'stages', i, 'id'], `duplicate stage "${s}"`);
  });
}

/** A validated client configuration, defaults applied. */
export type ClientConfig = z.output<typeof ClientConfigSchema>;
export type Rep = ClientConfig['reps'][number];
export type Team = ClientConfig['teams'][number];
export type WorkingHours = Rep['workingHours'];
export type Weekday = z.output<typeof WeekdaySchema>;
export type Seniority = z.output<typeof SenioritySchema>;
export type Priority = z.output<typeof PrioritySchema>;
export type ScoringModel = ClientConfig['scoring'];
export type FitRule = ScoringModel['fit'][number];
export type EngagementRule = ScoringModel['engagement'][number];
export type RoutingRule = ClientConfig['routing']['rules'][number];
export type SlaPolicy = ClientConfig['sla'];
export type NurtureSequence = ClientConfig['nurture']['sequences'][number];
export type PipelineStage = ClientConfig['pipeline']['stages'][number];
export type EmailTemplate = z.output<typeof EmailTemplateSchema>;
