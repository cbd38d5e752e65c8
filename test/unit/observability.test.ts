import { afterEach, describe, expect, it, vi } from 'vitest';
import { keepReserved, logger } from '../../shared/runtime/observability';

/** Powertools drops attributes named like its own keys; the shared logger keeps their values. */
describe('the shared logger', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('keeps the text of a reserved key such as `message` instead of dropping it', () => {
    const lines: string[] = [];
    // Powertools writes warnings and errors to stderr, the rest to stdout.
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
    }
    logger.warn('Webhook rejected', { code: 'INVALID_SIGNATURE', message: 'signature mismatch' });
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: 'WARN',
      message: 'Webhook rejected',
      code: 'INVALID_SIGNATURE',
      messageDetail: 'signature mismatch',
    });
  });

  it('renames only reserved keys and leaves errors and strings alone', () => {
    const error = new Error('x');
    expect(keepReserved(error)).toBe(error);
    expect(keepReserved('text')).toBe('text');
    expect(keepReserved({ leadId: 'l-1', level: 3, service: 'crm' })).toEqual({
      leadId: 'l-1',
      levelDetail: 3,
      serviceDetail: 'crm',
    });
  });
});
