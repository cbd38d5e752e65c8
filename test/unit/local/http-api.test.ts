import { afterEach, describe, expect, it } from 'vitest';
import { LocalHttpApi } from '../../../local/http-api';
import type { InvokeResult } from '../../../local/lambda-runner';

/** The local HTTP API hands functions the event API Gateway would, and answers like it. */
describe('the local HTTP API', () => {
  let api: LocalHttpApi | undefined;
  afterEach(() => api?.close());

  async function serve(
    answer: (event: Record<string, unknown>) => unknown,
    rewrite?: (l: string) => string | undefined,
  ) {
    const events: Array<Record<string, unknown>> = [];
    api = new LocalHttpApi({
      apiId: 'local',
      routes: [{ method: 'ANY', path: '/{proxy+}', routeKey: '$default', functionArn: 'arn:fn' }],
      jwtKey: undefined as never,
      invoke: async (_arn, event) => {
        events.push(event as Record<string, unknown>);
        return { ok: true, result: answer(event as Record<string, unknown>) } as InvokeResult;
      },
      ...(rewrite ? { rewriteRedirect: rewrite } : {}),
    });
    const url = await api.listen(0);
    return { url, events };
  }

  it('sets X-Forwarded-Proto, -Port and -For and the request context like API Gateway', async () => {
    const { url, events } = await serve(() => ({ statusCode: 200, body: 'ok' }));
    await fetch(`${url}/t.js`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    const event = events[0] as { headers: Record<string, string>; requestContext: Record<string, unknown> };
    const port = new URL(url).port;
    expect(event.headers).toMatchObject({
      'x-forwarded-proto': 'http',
      'x-forwarded-port': port,
      'x-forwarded-for': '203.0.113.9, 127.0.0.1',
    });
    expect(event.requestContext).toMatchObject({ domainName: `127.0.0.1:${port}`, stage: '$default' });
  });

  it('passes a function’s redirect through the rewrite, and leaves other answers alone', async () => {
    const { url } = await serve(
      (event) =>
        (event as { rawPath: string }).rawPath === '/go'
          ? { statusCode: 303, headers: { location: 'https://www.example.com/thanks' } }
          : { statusCode: 200, headers: { location: 'https://www.example.com/x' }, body: 'ok' },
      (location) => `/local?to=${encodeURIComponent(location)}`,
    );
    const redirected = await fetch(`${url}/go`, { redirect: 'manual' });
    expect(redirected.headers.get('location')).toBe('/local?to=https%3A%2F%2Fwww.example.com%2Fthanks');
    const plain = await fetch(`${url}/other`);
    expect(plain.headers.get('location')).toBe('https://www.example.com/x');
  });
});
