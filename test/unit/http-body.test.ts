import { describe, expect, it } from 'vitest';
import { type ApiEvent, readBody } from '../../shared/http/api';

const event = (body: string, contentType = 'application/json'): ApiEvent =>
  ({ headers: { 'content-type': contentType }, body, isBase64Encoded: false }) as unknown as ApiEvent;

describe('readBody', () => {
  it('reads a JSON body that starts with a byte order mark (Windows tools send one)', () => {
    expect(readBody(event('\uFEFF{"email":"a@example.com"}'), 16_384)).toEqual({ email: 'a@example.com' });
  });

  it('reads a base64 JSON body whose UTF-8 bytes start with a byte order mark', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]).toString('base64');
    const base64 = { ...event(body), isBase64Encoded: true } as ApiEvent;
    expect(readBody(base64, 16_384)).toEqual({ a: 1 });
  });

  it('still refuses a body that is not JSON, naming the body', () => {
    expect(() => readBody(event('\uFEFFnot json'), 16_384)).toThrow(/not valid JSON/);
  });
});
