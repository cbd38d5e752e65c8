import { LeadRepository } from '../../shared/adapters/lead-repository';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { env } from '../../shared/contracts/function-env';
import { json } from '../../shared/http/api';
import { callerFromEvent } from '../../shared/http/auth';
import { httpRoute } from '../../shared/http/middleware';
import { lazyHandler } from '../../shared/runtime/handler';
import { type ReportsStore, runReport } from '../../shared/services/reports';

/**
 * `GET /reports/{report}?from=YYYY-MM-DD&to=YYYY-MM-DD[&team=|&owner=]` behind the Cognito JWT
 * authorizer: sources, funnel, speed-to-lead, sla, pipeline, nurture and summary, computed over
 * the leads captured in the range. Managers and admins see their teams' (or all) numbers, reps
 * only their own. Read-only: the function's table grant is read-only.
 */

export interface Deps {
  readonly store: ReportsStore;
  readonly config: ClientConfig;
  readonly now?: () => Date;
  readonly concurrency?: number;
}

export function createHandler(deps: Deps) {
  return httpRoute(async (event) => {
    const caller = callerFromEvent(event, deps.config);
    if (event.routeKey !== 'GET /reports/{report}')
      return json(404, { error: 'NO_SUCH_ROUTE', message: `No route ${event.routeKey}` });
    const result = await runReport(
      caller,
      { ...(event.queryStringParameters ?? {}), report: event.pathParameters?.report },
      deps,
    );
    // Reports name reps and leads: never cached outside the caller's browser session.
    return json(200, result, { 'cache-control': 'no-store' });
  });
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() =>
  createHandler({ store: new LeadRepository(env.tableName), config: clientConfig() }),
);
