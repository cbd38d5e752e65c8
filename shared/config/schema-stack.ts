import { z } from 'zod';
import { email } from './schema-primitives';
/** Deployment settings of the client's stack: API throttling, retention, WAF, alarms. */

/**
 * Groups of HTTP API routes, each throttled on its own: every route gets its own token bucket
 * (API Gateway route settings), so a flood on a public route (page events, forms) uses up that
 * route's budget only, never the reps' API or the vendors' webhooks.
 */
export const API_ROUTE_GROUPS = [
  'capture',
  'tracking',
  'webhooks',
  'unsubscribe',
  'reps',
  'reports',
  'booking',
  'slack',
] as const;
export type ApiRouteGroup = (typeof API_ROUTE_GROUPS)[number];

const ThrottleLimitsSchema = z.strictObject({
  /** Steady-state requests per second. */
  rateLimit: z.number().int().min(1).max(10_000),
  /** Requests allowed at once above the steady rate. */
  burstLimit: z.number().int().min(1).max(5_000),
});

export const StackSettingsSchema = z.strictObject({
  /** AWS region to deploy to. */
  region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS region such as "eu-west-1"'),
  /** AWS account id; omit to use the CLI's current account. */
  account: z
    .string()
    .regex(/^\d{12}$/, 'a 12-digit AWS account id')
    .optional(),
  throttling: z.strictObject({
    /** Steady-state requests per second of each HTTP API route (the stage default). */
    rateLimit: z.number().int().min(1).max(10_000),
    burstLimit: z.number().int().min(1).max(5_000),
    /**
     * Limits for a group of routes instead of the default, e.g. `tracking: { rateLimit: 20,
     * burstLimit: 40 }`. Each route of the group still has its own bucket.
     * @default {} - every route gets rateLimit/burstLimit
     */
    routes: z
      .strictObject({
        capture: ThrottleLimitsSchema.optional(),
        tracking: ThrottleLimitsSchema.optional(),
        webhooks: ThrottleLimitsSchema.optional(),
        unsubscribe: ThrottleLimitsSchema.optional(),
        reps: ThrottleLimitsSchema.optional(),
        reports: ThrottleLimitsSchema.optional(),
        booking: ThrottleLimitsSchema.optional(),
        slack: ThrottleLimitsSchema.optional(),
      } satisfies Record<ApiRouteGroup, unknown>)
      .default({}),
  }),
  /**
   * Optional AWS WAF in front of the public routes: a CloudFront distribution (the public URL)
   * with a web ACL of per-IP rate-based rules. WAF cannot be attached to an HTTP API itself.
   * See the README ("Optional WAF") for what it costs and what it does not close.
   * @default { enabled: false }
   */
  waf: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Requests one IP address may send to the public routes in any 5 minutes before it is blocked. @default 300 */
      requestsPer5Minutes: z.number().int().min(10).max(2_000_000_000).default(300),
    })
    .default({ enabled: false, requestsPer5Minutes: 300 }),
  /** CloudWatch log retention for functions, the API and state machines. @default 30 */
  logRetentionDays: z.number().int().min(1).max(3653).default(30),
  /** EventBridge archive retention for replay. @default 30 */
  eventArchiveDays: z.number().int().min(1).max(3650).default(30),
  /** Protect the data stack against `cdk destroy`. @default true */
  terminationProtection: z.boolean().default(true),
  /** Address that receives CloudWatch alarm notifications. */
  alarmEmail: email.optional(),
});
