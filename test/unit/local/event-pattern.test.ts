import { describe, expect, it } from 'vitest';
import { InvalidPatternError, matchesPattern } from '../../../local/event-pattern';

const event = {
  source: 'lead-pipeline',
  'detail-type': 'Lead Scored',
  detail: {
    leadId: 'l-1',
    routable: true,
    isTest: false,
    total: 72,
    stage: 'SQL',
    via: 'round-robin',
    tags: ['a', 'b'],
    mail: { tags: { 'ses:configuration-set': ['cs-123'] } },
    email: 'Ana@Example.com',
  },
};

describe('EventBridge pattern matching', () => {
  it('matches exact values and lists', () => {
    expect(
      matchesPattern({ source: ['lead-pipeline'], 'detail-type': ['Lead Scored', 'Lead Assigned'] }, event),
    ).toBe(true);
    expect(matchesPattern({ source: ['other'] }, event)).toBe(false);
    expect(matchesPattern({ detail: { routable: [true] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { routable: [false] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { total: [72] } }, event)).toBe(true);
  });

  it('matches when any element of an event array matches', () => {
    expect(matchesPattern({ detail: { tags: ['b'] } }, event)).toBe(true);
    expect(
      matchesPattern({ detail: { mail: { tags: { 'ses:configuration-set': ['cs-123'] } } } }, event),
    ).toBe(true);
    expect(
      matchesPattern({ detail: { mail: { tags: { 'ses:configuration-set': ['cs-999'] } } } }, event),
    ).toBe(false);
  });

  it('supports anything-but with values, lists and prefixes', () => {
    expect(matchesPattern({ detail: { via: [{ 'anything-but': 'escalation' }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { via: [{ 'anything-but': ['round-robin', 'x'] }] } }, event)).toBe(
      false,
    );
    expect(matchesPattern({ detail: { via: [{ 'anything-but': { prefix: 'round' } }] } }, event)).toBe(false);
    // anything-but does not match a missing field
    expect(matchesPattern({ detail: { missing: [{ 'anything-but': 'x' }] } }, event)).toBe(false);
  });

  it('supports prefix, suffix, equals-ignore-case and wildcard', () => {
    expect(matchesPattern({ 'detail-type': [{ prefix: 'Lead ' }] }, event)).toBe(true);
    expect(matchesPattern({ 'detail-type': [{ suffix: 'Scored' }] }, event)).toBe(true);
    expect(matchesPattern({ detail: { email: [{ 'equals-ignore-case': 'ana@example.com' }] } }, event)).toBe(
      true,
    );
    expect(matchesPattern({ detail: { email: [{ wildcard: '*@Example.com' }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { email: [{ wildcard: '*@other.com' }] } }, event)).toBe(false);
  });

  it('supports numeric ranges and exists', () => {
    expect(matchesPattern({ detail: { total: [{ numeric: ['>=', 70, '<', 100] }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { total: [{ numeric: ['<', 70] }] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { stage: [{ exists: true }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { owner: [{ exists: false }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { owner: [{ exists: true }] } }, event)).toBe(false);
    expect(matchesPattern({ nested: { deeper: [{ exists: false }] } }, event)).toBe(true);
  });

  it('supports $or', () => {
    expect(
      matchesPattern({ $or: [{ detail: { stage: ['MQL'] } }, { detail: { total: [72] } }] }, event),
    ).toBe(true);
    expect(matchesPattern({ $or: [{ detail: { stage: ['MQL'] } }, { detail: { total: [1] } }] }, event)).toBe(
      false,
    );
  });

  it('rejects patterns EventBridge would reject', () => {
    expect(() => matchesPattern({ source: 'lead-pipeline' }, event)).toThrow(InvalidPatternError);
    expect(() => matchesPattern({ source: [{ bogus: 1 }] }, event)).toThrow(InvalidPatternError);
  });
});
