import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PreconditionFailedError } from '../../shared/domain/access';
import {
  DependencyUnavailableError,
  InvalidInputError,
  LeadNotFoundError,
  NotAllowedError,
  RepAtCapacityError,
  StepAlreadySentError,
} from '../../shared/domain/errors';
import { type ApiEvent, html, json } from '../../shared/http/api';
import { BodyTooLargeError, NotAuthenticatedError, problemFor } from '../../shared/http/errors';
import { httpRoute } from '../../shared/http/middleware';

const event = (overrides: Partial<ApiEvent> = {}): ApiEvent =>
  ({
    routeKey: 'POST /things',
    rawPath: '/things',
    headers: {},
    isBase64Encoded: false,
    requestContext: { http: { method: 'POST' } },
    ...overrides,
  }) as unknown as ApiEvent;

describe('problemFor: status by error class', () => {
  it.each([
    [new InvalidInputError([{ field: 'email', reason: 'not an email' }]), 400],
    [new NotAuthenticatedError('no claims'), 401],
    [new NotAllowedError('reassign leads'), 403],
    [new LeadNotFoundError('lead-1'), 404],
    [new RepAtCapacityError('rep-1'), 409],
    [new PreconditionFailedError('lead-1', 3, 4), 412],
    [new BodyTooLargeError(10), 413],
    [new DependencyUnavailableError('DynamoDB', new Error('down')), 503],
    [new StepAlreadySentError('lead-1', 'seq#step'), 409],
  ])('%s → %i', (error, status) => {
    expect(problemFor(error)?.status).toBe(status);
  });

  it('names every bad field of a 400, and the current version of a 412', () => {
    expect(problemFor(new InvalidInputError([{ field: 'email', reason: 'not an email' }]))?.body).toEqual({
      error: 'INVALID_INPUT',
      message: 'Some fields are missing or invalid',
      fields: [{ field: 'email', reason: 'not an email' }],
    });
    expect(problemFor(new PreconditionFailedError('lead-1', 3, 4))?.body).toMatchObject({
      error: 'PRECONDITION_FAILED',
      currentVersion: 4,
    });
  });

  it('answers a ZodError as bad input naming the field, unknown keys included', () => {
    const parsed = z.strictObject({ email: z.email() }).safeParse({ email: 'nope', colour: 'red' });
    expect(parsed.success).toBe(false);
    const problem = parsed.success ? undefined : problemFor(parsed.error);
    expect(problem?.status).toBe(400);
    expect(problem?.body.fields).toEqual(
      expect.arrayContaining([
        { field: 'email', reason: expect.any(String) },
        { field: 'colour', reason: 'not a recognised parameter' },
      ]),
    );
  });

  it('asks a client to retry a transient failure, and leaves unknown errors unanswered', () => {
    expect(problemFor(new DependencyUnavailableError('SES', new Error('x')))?.headers).toEqual({
      'retry-after': '2',
    });
    expect(problemFor(new Error('bug'))).toBeUndefined();
  });
});

describe('httpRoute', () => {
  it('lower-cases header names before the route reads them', async () => {
    const route = httpRoute(async (e) =>
      json(200, { type: e.headers['content-type'], id: e.headers['x-id'] }),
    );
    const answer = await route(event({ headers: { 'Content-Type': 'application/json', 'X-Id': 'a' } }));
    expect(JSON.parse(answer.body ?? '')).toEqual({ type: 'application/json', id: 'a' });
  });

  it('parses a JSON or form body on first read, with the route limit', async () => {
    const route = httpRoute(async (e) => json(200, e.parsedBody), { maxBodyBytes: 64 });
    const form = await route(
      event({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=2&b=3' }),
    );
    expect(JSON.parse(form.body ?? '')).toEqual({ a: '1', b: ['2', '3'] });
    const jsonBody = await route(event({ headers: { 'content-type': 'application/json' }, body: '{"a":1}' }));
    expect(JSON.parse(jsonBody.body ?? '')).toEqual({ a: 1 });
    const tooLarge = await route(event({ body: JSON.stringify({ a: 'x'.repeat(100) }) }));
    expect(tooLarge.statusCode).toBe(413);
  });

  it('never refuses a body the route does not read', async () => {
    const route = httpRoute(async () => json(200, { ok: true }), { maxBodyBytes: 4 });
    expect((await route(event({ body: 'not json at all, and long' }))).statusCode).toBe(200);
  });

  it('answers a typed error by its class, as JSON or as the route page', async () => {
    const failing = async () => {
      throw new LeadNotFoundError('lead-1');
    };
    const asJson = await httpRoute(failing)(event());
    expect(asJson.statusCode).toBe(404);
    expect(JSON.parse(asJson.body ?? '')).toMatchObject({ error: 'LEAD_NOT_FOUND' });
    const asPage = await httpRoute(failing, { page: (problem) => html(problem.status, '<p>gone</p>') })(
      event(),
    );
    expect(asPage).toMatchObject({ statusCode: 404, body: '<p>gone</p>' });
  });

  it('lets an unknown error reach Lambda', async () => {
    const route = httpRoute(async () => {
      throw new TypeError('a bug');
    });
    await expect(route(event())).rejects.toThrow('a bug');
  });

  it('hands the route the Lambda context as given, undefined without one', async () => {
    const seen: unknown[] = [];
    const route = httpRoute(async (_e, context) => {
      seen.push(context);
      return json(200, {});
    });
    await route(event());
    const context = { awsRequestId: 'r-1' } as never;
    await route(event(), context);
    expect(seen).toEqual([undefined, context]);
  });
});
