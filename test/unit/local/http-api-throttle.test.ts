import { generateKeyPair } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiRoute, LocalHttpApi } from '../../../local/http-api';

const route = (routeKey: string, extra: Partial<ApiRoute> = {}): ApiRoute => {
  const [method = 'GET', path = '/'] = routeKey.split(' ');
  return { method, path, routeKey, functionArn: `arn:${routeKey}`, ...extra };
};

let api: LocalHttpApi | undefined;
afterEach(async () => {
  await api?.close();
});

async function start(routes: ApiRoute[], stageDefault?: { rateLimit: number; burstLimit: number }) {
  const { publicKey } = await generateKeyPair('RS256');
  api = new LocalHttpApi({
    apiId: 'local',
    routes,
    ...(stageDefault ? { throttle: stageDefault } : {}),
    jwtKey: publicKey,
    invoke: async () => ({
      ok: true,
      result: { statusCode: 202, body: '{}' },
      durationMs: 1,
      coldStart: false,
    }),
  });
  return api.listen(0);
}

async function statuses(url: string, method: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++)
    out.push((await fetch(url, { method, body: method === 'POST' ? '{}' : undefined })).status);
  return out;
}

describe('local HTTP API throttling: one bucket per route', () => {
  it("a flood on one route uses up that route's budget only", async () => {
    const url = await start(
      [route('POST /events', { throttle: { rateLimit: 0.001, burstLimit: 3 } }), route('POST /leads')],
      { rateLimit: 0.001, burstLimit: 5 },
    );
    const events = await statuses(`${url}/events`, 'POST', 6);
    expect(events.slice(0, 3)).toEqual([202, 202, 202]);
    expect(events.slice(3)).toEqual([429, 429, 429]);
    // The form route has its own bucket (the stage default), untouched by the flood.
    expect(await statuses(`${url}/leads`, 'POST', 5)).toEqual([202, 202, 202, 202, 202]);
    expect(await statuses(`${url}/leads`, 'POST', 1)).toEqual([429]);
  });
});
