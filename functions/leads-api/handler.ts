import { z } from 'zod';
import { DynamoErasureStore } from '../../shared/adapters/erasure-store';
import { EventPublisher } from '../../shared/adapters/event-publisher';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { SchedulerSlaClock } from '../../shared/adapters/sla-ladder';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { env } from '../../shared/contracts/function-env';
import { InvalidInputError } from '../../shared/domain/errors';
import { type ApiEvent, type ApiResult, header, json } from '../../shared/http/api';
import { callerFromEvent } from '../../shared/http/auth';
import { httpRoute } from '../../shared/http/middleware';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger } from '../../shared/runtime/observability';
import { type ErasureStore, erasureStatus, startErasure } from '../../shared/services/erasure';
import type { IntakePublisher, IntakeStore } from '../../shared/services/intake';
import { markContacted, reassignLead, updateLead } from '../../shared/services/lead-commands';
import { importLeads } from '../../shared/services/lead-import';
import { addNote, addTask, updateTask } from '../../shared/services/lead-notes-tasks';
import { exportPerson } from '../../shared/services/lead-privacy';
import { getLeadDetail, listLeads, workspace } from '../../shared/services/lead-queries';
import {
  type LeadsDeps,
  type LeadsPublisher,
  type LeadsStore,
  parseInput,
  type SlaClock,
} from '../../shared/services/leads';
import { acceptDetails } from '../../shared/services/submitted-details';

/**
 * The reps' and managers' API (behind the Cognito JWT authorizer): list and read leads, mark the
 * first touch, move leads through the pipeline, reassign, notes and tasks, accept details a
 * resubmission offered, and the admins' export / erasure of a person. One function serves every route and dispatches on
 * `event.routeKey`; the rules live in `shared/domain/` and the use cases in
 * `shared/services/lead-{queries,commands,notes-tasks,privacy}.ts`.
 */

export interface Deps {
  /** Lead storage; imports take leads in through intake, so it is an intake store too. */
  readonly store: LeadsStore & IntakeStore;
  readonly publisher: LeadsPublisher & IntakePublisher;
  readonly sla: SlaClock;
  readonly config: ClientConfig;
  /** Erasure jobs (started here, run by the `erase` function). */
  readonly erasures: ErasureStore;
  readonly now?: () => Date;
  readonly newId?: () => string;
}

/** Largest accepted body (a 5,000-character note in any script fits). */
const MAX_BODY_BYTES = 64 * 1024;
/** Largest import request: 250 rows of a wide badge-scan export. */
const MAX_IMPORT_BODY_BYTES = 1024 * 1024;

const PathIdSchema = z.string().min(1).max(64);
const IdempotencyKeySchema = z.string().min(1).max(200);

/** Stops SLA ladders (moved to the adapters, so the Slack actions use the same one). */
export { SchedulerSlaClock };

function pathParam(event: ApiEvent, name: string): string {
  const value = event.pathParameters?.[name];
  return parseInput(z.object({ [name]: PathIdSchema }), { [name]: value })[name] as string;
}

/** The version in an `If-Match` header (`"7"`, `W/"7"` or `7`); `*` or no header means any. */
export function expectedVersion(event: ApiEvent): number | undefined {
  const value = header(event, 'if-match')?.trim();
  if (value === undefined || value === '' || value === '*') return undefined;
  const match = /^(?:W\/)?"?(\d{1,15})"?$/.exec(value);
  if (!match?.[1])
    throw new InvalidInputError([
      { field: 'If-Match', reason: 'the lead version from the ETag, such as "7"' },
    ]);
  return Number(match[1]);
}

function idempotencyKey(event: ApiEvent): string | undefined {
  const value = header(event, 'idempotency-key');
  if (value === undefined) return undefined;
  const parsed = IdempotencyKeySchema.safeParse(value.trim());
  if (!parsed.success)
    throw new InvalidInputError([{ field: 'Idempotency-Key', reason: 'between 1 and 200 characters' }]);
  return parsed.data;
}

/** Personal data: never cached by browsers or proxies. */
const NO_STORE = { 'cache-control': 'no-store' };

function ok(status: number, body: unknown, extra: Record<string, string> = {}): ApiResult {
  return json(status, body, { ...NO_STORE, ...extra });
}

function etag(version: number): Record<string, string> {
  return { etag: `"${version}"` };
}

export function createHandler(deps: Deps) {
  const service: LeadsDeps = {
    ...deps,
    warn: (message, details) => logger.warn(message, details),
  };
  return httpRoute(
    async (event) => {
      const caller = callerFromEvent(event, deps.config);
      const body = () => event.parsedBody;
      switch (event.routeKey) {
        case 'GET /me':
          return ok(200, workspace(caller, deps.config));
        case 'GET /leads': {
          const result = await listLeads(caller, event.queryStringParameters ?? {}, service);
          return ok(200, result);
        }
        case 'GET /leads/{id}': {
          const detail = await getLeadDetail(caller, pathParam(event, 'id'), service);
          return ok(200, detail, etag(detail.lead.version));
        }
        case 'POST /leads/{id}/contacted': {
          const result = await markContacted(caller, pathParam(event, 'id'), service);
          return ok(200, result, etag(result.lead.version));
        }
        case 'PATCH /leads/{id}': {
          const id = pathParam(event, 'id');
          const version = expectedVersion(event);
          const result = await updateLead(caller, id, body(), version, service);
          return ok(200, result, etag(result.lead.version));
        }
        case 'POST /leads/{id}/reassign': {
          const result = await reassignLead(caller, pathParam(event, 'id'), body(), service);
          return ok(200, result, etag(result.lead.version));
        }
        case 'POST /leads/{id}/notes': {
          const id = pathParam(event, 'id');
          const result = await addNote(caller, id, body(), idempotencyKey(event), service);
          return ok(result.created ? 201 : 200, result.note);
        }
        case 'POST /leads/{id}/tasks': {
          const id = pathParam(event, 'id');
          const result = await addTask(caller, id, body(), idempotencyKey(event), service);
          return ok(result.created ? 201 : 200, result.task);
        }
        case 'PATCH /leads/{id}/tasks/{taskId}': {
          const result = await updateTask(
            caller,
            pathParam(event, 'id'),
            pathParam(event, 'taskId'),
            body(),
            service,
          );
          return ok(200, result.task);
        }
        case 'POST /leads/{id}/details/{activityId}/accept': {
          const result = await acceptDetails(
            caller,
            pathParam(event, 'id'),
            pathParam(event, 'activityId'),
            service,
          );
          return ok(200, result, etag(result.lead.version));
        }
        case 'GET /admin/people/{email}':
          return ok(200, await exportPerson(caller, event.pathParameters?.email ?? '', service));
        case 'DELETE /admin/people/{email}': {
          // Accepted, not done: the erase job reads the whole table, which an API call must not.
          const started = await startErasure(caller, event.pathParameters?.email ?? '', {
            ...deps,
            outbox: { clear: (entry) => deps.store.clearOutbox(entry) },
          });
          return ok(202, started, { location: started.statusUrl });
        }
        case 'GET /admin/erasures/{id}': {
          const status = await erasureStatus(caller, pathParam(event, 'id'), deps);
          if (!status)
            return json(404, { error: 'ERASURE_NOT_FOUND', message: 'No erasure job with this id' });
          return ok(200, status);
        }
        case 'POST /admin/imports':
          return ok(200, await importLeads(caller, event.parsedBody, deps));
        default:
          return json(404, { error: 'NO_SUCH_ROUTE', message: `No route ${event.routeKey}` });
      }
    },
    // An import carries a whole CSV file; every other route a small JSON body.
    {
      maxBodyBytes: (event) =>
        event.routeKey === 'POST /admin/imports' ? MAX_IMPORT_BODY_BYTES : MAX_BODY_BYTES,
    },
  );
}

/** Adapters from the environment, built once per function instance (on first use). */
function defaultDeps(): Deps {
  return {
    store: new LeadRepository(env.tableName),
    publisher: new EventPublisher(env.eventBusName),
    sla: new SchedulerSlaClock(env.slaScheduleGroup, clientConfig().sla.ladder.length),
    config: clientConfig(),
    erasures: new DynamoErasureStore(env.tableName),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
