import { describe, expect, it } from 'vitest';
import { DETAIL_SCHEMAS, DETAIL_TYPES, parseDetail, pipelineEvent } from '../../shared/events/catalogue';

describe('the event catalogue', () => {
  it('builds a detail schema the first time it is used, once', () => {
    // 'Erasure Requested' is used by no other test in this file, so it is still unbuilt here.
    const before = Object.getOwnPropertyDescriptor(DETAIL_SCHEMAS, 'Erasure Requested');
    expect(before?.get).toBeTypeOf('function');
    expect(before?.value).toBeUndefined();
    const schema = DETAIL_SCHEMAS['Erasure Requested'];
    expect(DETAIL_SCHEMAS['Erasure Requested']).toBe(schema);
    const after = Object.getOwnPropertyDescriptor(DETAIL_SCHEMAS, 'Erasure Requested');
    expect(after?.get).toBeUndefined();
    expect(after?.value).toBe(schema);
  });

  it('lists every detail-type and validates with the lazily built schemas', () => {
    expect(DETAIL_TYPES).toHaveLength(17);
    expect(DETAIL_TYPES).toContain('Lead Captured');
    const event = pipelineEvent('Lead Captured', {
      leadId: 'lead-1',
      occurredAt: '2026-12-03T10:00:00.000Z',
      provider: 'form',
      channel: 'web',
    });
    expect(event.detail).toMatchObject({ isTest: false, pending: false });
    expect(() => parseDetail('Lead Contacted', { leadId: 'lead-1' })).toThrow(/repId|occurredAt/);
  });
});
