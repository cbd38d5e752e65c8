import { generateKeyPair } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalHttpApi } from '../../../local/http-api';

describe('LocalHttpApi', () => {
  let api: LocalHttpApi | undefined;
  afterEach(async () => api?.close());

  it('answers 400, not 500, to a path parameter with malformed percent-encoding, and invokes nothing', async () => {
    const invoked: unknown[] = [];
    const { publicKey } = await generateKeyPair('RS256');
    api = new LocalHttpApi({
      apiId: 'local',
      routes: [{ method: 'GET', path: '/leads/{id}', routeKey: 'GET /leads/{id}', functionArn: 'arn:fn' }],
      jwtKey: publicKey,
      invoke: async (_arn, event) => {
        invoked.push(event);
        return { ok: true, result: { statusCode: 200, body: '{}' }, durationMs: 1, coldStart: false };
      },
    });
    const url = await api.listen(0);

    const bad = await fetch(`${url}/leads/%E0%A4%A`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/percent-encoding/);
    expect(invoked).toHaveLength(0);

    const good = await fetch(`${url}/leads/a%20b`);
    expect(good.status).toBe(200);
    expect(invoked).toHaveLength(1);
  });
});
