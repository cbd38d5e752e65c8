import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  emailHash,
  signToken,
  verifyHmacBase64,
  verifyHmacHex,
  verifyToken,
} from '../../shared/domain/tokens';

const KEY = 'test-signing-key-0123456789';
const now = new Date('2026-11-23T10:00:00Z');

describe('signed lead tokens', () => {
  it('round-trips the lead id for the same purpose', () => {
    const token = signToken('unsubscribe', 'lead-1', KEY, now);
    expect(verifyToken(token, 'unsubscribe', KEY, now)).toEqual({ ok: true, leadId: 'lead-1' });
  });

  it('refuses a token signed with another key', () => {
    const token = signToken('unsubscribe', 'lead-1', 'another-key-0123456789', now);
    expect(verifyToken(token, 'unsubscribe', KEY, now)).toEqual({ ok: false, problem: 'bad-signature' });
  });

  it('refuses a token whose payload was changed to another lead', () => {
    const token = signToken('unsubscribe', 'lead-1', KEY, now);
    const [, sig] = token.split('.');
    const forged = `${Buffer.from(JSON.stringify({ p: 'unsubscribe', l: 'lead-2' })).toString('base64url')}.${sig}`;
    expect(verifyToken(forged, 'unsubscribe', KEY, now)).toEqual({ ok: false, problem: 'bad-signature' });
  });

  it('refuses a visitor token used as an unsubscribe token', () => {
    const token = signToken('visitor', 'lead-1', KEY, now, 3600);
    expect(verifyToken(token, 'unsubscribe', KEY, now)).toEqual({ ok: false, problem: 'wrong-purpose' });
  });

  it('expires tokens with a lifetime', () => {
    const token = signToken('visitor', 'lead-1', KEY, now, 60);
    expect(verifyToken(token, 'visitor', KEY, new Date(now.getTime() + 59_000)).ok).toBe(true);
    expect(verifyToken(token, 'visitor', KEY, new Date(now.getTime() + 61_000))).toEqual({
      ok: false,
      problem: 'expired',
    });
  });

  it('calls garbage malformed', () => {
    expect(verifyToken('nonsense', 'visitor', KEY, now)).toEqual({ ok: false, problem: 'malformed' });
    expect(verifyToken('a.b.c', 'visitor', KEY, now)).toEqual({ ok: false, problem: 'malformed' });
  });
});

describe('webhook signatures', () => {
  const body = '{"lead":1}';
  it('accepts the right hex and base64 HMACs and rejects others', () => {
    const hex = createHmac('sha256', 'secret').update(body).digest('hex');
    const b64 = createHmac('sha256', 'secret').update(body).digest('base64');
    expect(verifyHmacHex(body, 'secret', hex)).toBe(true);
    expect(verifyHmacHex(`${body} `, 'secret', hex)).toBe(false);
    expect(verifyHmacHex(body, 'secret', 'zz')).toBe(false);
    expect(verifyHmacBase64(body, 'secret', b64)).toBe(true);
    expect(verifyHmacBase64(body, 'other', b64)).toBe(false);
  });
});

describe('emailHash', () => {
  it('is stable for case and spacing and differs across addresses', () => {
    expect(emailHash(' Ana@Example.com ')).toBe(emailHash('ana@example.com'));
    expect(emailHash('ana@example.com')).not.toBe(emailHash('bob@example.com'));
    expect(emailHash('ana@example.com')).toMatch(/^[0-9a-f]{64}$/);
  });
});
