import { describe, expect, it } from 'vitest';
import { loadClientConfig } from '../../shared/config/load';
import type { Activity } from '../../shared/domain/lead';
import { leadFacts } from '../../shared/domain/lead';
import { scoreLead } from '../../shared/domain/scoring';
import {
  interpretSesEvent,
  type MessageHistory,
  machineClick,
  machineOpen,
  messageHistory,
  messageTags,
  SesEventSchema,
  sesActivityId,
} from '../../shared/domain/ses-events';
import { DELIVERED, SENT, sesEvent } from './functions/email-kit';

const config = loadClientConfig('example', 'clients');
const CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

const parse = (e: unknown) => SesEventSchema.parse(e);
const none: MessageHistory = { clicks: [] };
const delivered: MessageHistory = { deliveredAt: DELIVERED, clicks: [] };

describe('interpretSesEvent', () => {
  it('maps a delivery to an email_delivered activity with the message tags', () => {
    const m = interpretSesEvent(
      parse(
        sesEvent('Email Delivered', 'Delivery', {
          delivery: { timestamp: DELIVERED, recipients: ['jane@acme.example'] },
        }),
      ),
      none,
    );
    expect(m).toEqual({
      leadId: 'lead-1',
      activity: {
        id: 'ses-b5d1c6f8-0c3a-4c0e-9d62-0a1b2c3d4e5f',
        type: 'email_delivered',
        at: DELIVERED,
        data: { messageId: 'msg-1', kind: 'nurture', sequence: 'education', step: 'welcome-guide' },
      },
    });
  });

  it('records a person opening minutes after delivery as a real open', () => {
    const m = interpretSesEvent(
      parse(
        sesEvent('Email Opened', 'Open', {
          open: { timestamp: '2026-03-02T10:20:00.000Z', userAgent: CHROME, ipAddress: '198.51.100.1' },
        }),
      ),
      delivered,
    );
    expect(m.machine).toBeUndefined();
    expect(m.activity?.type).toBe('email_opened');
    expect(m.activity?.data).toEqual({
      messageId: 'msg-1',
      kind: 'nurture',
      sequence: 'education',
      step: 'welcome-guide',
    });
  });

  it('flags an Apple Mail Privacy Protection open as machine', () => {
    const m = interpretSesEvent(
      parse(
        sesEvent('Email Opened', 'Open', {
          open: { timestamp: '2026-03-02T12:00:00.000Z', userAgent: 'Mozilla/5.0' },
        }),
      ),
      delivered,
    );
    expect(m.machine).toBe('apple-privacy-proxy');
    expect(m.activity?.data).toMatchObject({ machine: true, machineReason: 'apple-privacy-proxy' });
  });

  it('flags a click from a security gateway as machine and keeps the link', () => {
    const m = interpretSesEvent(
      parse(
        sesEvent('Email Clicked', 'Click', {
          click: {
            timestamp: '2026-03-02T10:30:00.000Z',
            userAgent: 'Mozilla/5.0 (compatible; Barracuda Sentinel)',
            link: 'https://www.northwind.example/guides/first-metrics',
            linkTags: null,
          },
        }),
      ),
      delivered,
    );
    expect(m.machine).toBe('security-scanner');
    expect(m.activity).toMatchObject({
      type: 'email_clicked',
      data: { link: 'https://www.northwind.example/guides/first-metrics', machine: true },
    });
  });

  it('suppresses on a permanent bounce, recipients from the bounce', () => {
    const m = interpretSesEvent(
      parse(
        sesEvent('Email Bounced', 'Bounce', {
          bounce: {
            bounceType: 'Permanent',
            bounceSubType: 'General',
            bouncedRecipients: [
              { emailAddress: 'Jane <JANE@acme.example>', action: 'failed', status: '5.1.1' },
            ],
            timestamp: '2026-03-02T10:00:05.000Z',
            feedbackId: 'f-1',
          },
        }),
      ),
      none,
    );
    expect(m.suppress).toEqual({ reason: 'bounce', addresses: ['JANE@acme.example'] });
    expect(m.activity).toMatchObject({
      type: 'email_bounced',
      data: { bounceType: 'Permanent', bounceSubType: 'General' },
    });
  });

  it('only records a transient bounce', () => {
    const m = interpretSesEvent(
      parse(
        sesEvent('Email Bounced', 'Bounce', {
          bounce: {
            bounceType: 'Transient',
            bounceSubType: 'MailboxFull',
            bouncedRecipients: [{ emailAddress: 'jane@acme.example' }],
            timestamp: '2026-03-02T10:00:05.000Z',
          },
        }),
      ),
      none,
    );
    expect(m.suppress).toBeUndefined();
    expect(m.activity?.type).toBe('email_bounced');
  });

  it('suppresses on a complaint, falling back to the destination', () => {
    const m = interpretSesEvent(
      parse(
        sesEvent('Email Complaint Received', 'Complaint', {
          complaint: {
            complainedRecipients: [],
            timestamp: '2026-03-02T11:00:00.000Z',
            feedbackId: 'f-2',
            complaintSubType: null,
            complaintFeedbackType: 'abuse',
          },
        }),
      ),
      none,
    );
    expect(m.suppress).toEqual({ reason: 'complaint', addresses: ['jane.doe@acme-software.example'] });
    expect(m.activity).toMatchObject({
      type: 'email_complained',
      at: '2026-03-02T11:00:00.000Z',
      data: { feedbackType: 'abuse' },
    });
  });

  it('has no activity for Email Sent or Email Rejected', () => {
    expect(interpretSesEvent(parse(sesEvent('Email Sent', 'Send', { send: {} })), none)).toEqual({
      leadId: 'lead-1',
    });
    expect(
      interpretSesEvent(
        parse(sesEvent('Email Rejected', 'Reject', { reject: { reason: 'Bad content' } })),
        none,
      ),
    ).toEqual({
      leadId: 'lead-1',
    });
  });

  it('reads the pipeline tags and tolerates untagged messages', () => {
    const event = sesEvent('Email Delivered', 'Delivery', { delivery: { timestamp: DELIVERED } });
    expect(messageTags(parse(event))).toEqual({
      leadId: 'lead-1',
      sequence: 'education',
      step: 'welcome-guide',
      kind: 'nurture',
    });
    const untagged = {
      ...event,
      detail: { ...event.detail, mail: { ...event.detail.mail, tags: { 'ses:configuration-set': ['x'] } } },
    };
    expect(interpretSesEvent(parse(untagged), none).leadId).toBeUndefined();
  });

  it('rejects events that are not from SES', () => {
    expect(
      SesEventSchema.safeParse({ ...sesEvent('Email Delivered', 'Delivery', {}), source: 'lead-pipeline' })
        .success,
    ).toBe(false);
  });

  it('derives a stable, bounded activity id from the event id', () => {
    expect(sesActivityId('abc-123')).toBe('ses-abc-123');
    const long = sesActivityId('x'.repeat(300));
    expect(long).toMatch(/^ses-[0-9a-f]{56}$/);
    expect(sesActivityId('x'.repeat(300))).toBe(long);
  });
});

describe('machine detection', () => {
  it('treats an open within seconds of delivery as a prefetch', () => {
    expect(machineOpen({ at: '2026-03-02T10:00:03.000Z', userAgent: CHROME }, SENT, delivered)).toBe(
      'opened-on-delivery',
    );
    expect(
      machineOpen({ at: '2026-03-02T10:00:30.000Z', userAgent: CHROME }, SENT, delivered),
    ).toBeUndefined();
  });

  it('uses the send time plus an allowance when the delivery was not seen yet', () => {
    // 5.9 s after send = 2.9 s after the assumed delivery.
    expect(machineOpen({ at: '2026-03-02T10:00:05.900Z', userAgent: CHROME }, SENT, none)).toBe(
      'opened-on-delivery',
    );
    expect(machineOpen({ at: '2026-03-02T10:00:07.000Z', userAgent: CHROME }, SENT, none)).toBeUndefined();
  });

  it('treats a Gmail proxy fetch as machine only close to delivery', () => {
    const gmail = 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)';
    expect(machineOpen({ at: '2026-03-02T10:00:40.000Z', userAgent: gmail }, SENT, delivered)).toBe(
      'image-proxy-prefetch',
    );
    expect(
      machineOpen({ at: '2026-03-02T11:00:00.000Z', userAgent: gmail }, SENT, delivered),
    ).toBeUndefined();
  });

  it('treats a click within 2 s of delivery, a bot or an empty user agent as a scanner', () => {
    expect(
      machineClick({ at: '2026-03-02T10:00:03.000Z', userAgent: CHROME, link: 'a' }, SENT, delivered),
    ).toBe('clicked-on-delivery');
    expect(
      machineClick(
        { at: '2026-03-02T12:00:00.000Z', userAgent: 'python-requests/2.31', link: 'a' },
        SENT,
        delivered,
      ),
    ).toBe('security-scanner');
    expect(machineClick({ at: '2026-03-02T12:00:00.000Z', link: 'a' }, SENT, delivered)).toBe(
      'security-scanner',
    );
    expect(
      machineClick({ at: '2026-03-02T12:00:00.000Z', userAgent: CHROME, link: 'a' }, SENT, delivered),
    ).toBeUndefined();
  });

  it('does not mistake a phone brand containing "bot" for a bot', () => {
    const cubot =
      'Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36';
    expect(
      machineClick({ at: '2026-03-02T12:00:00.000Z', userAgent: cubot, link: 'a' }, SENT, delivered),
    ).toBeUndefined();
  });

  it('treats different links clicked within the same second as a burst', () => {
    const history: MessageHistory = {
      deliveredAt: DELIVERED,
      clicks: [{ at: '2026-03-02T12:00:00.100Z', link: 'a' }],
    };
    expect(
      machineClick({ at: '2026-03-02T12:00:00.700Z', userAgent: CHROME, link: 'b' }, SENT, history),
    ).toBe('click-burst');
    // The same link twice is a person double-clicking; a different link later is a person reading on.
    expect(
      machineClick({ at: '2026-03-02T12:00:00.700Z', userAgent: CHROME, link: 'a' }, SENT, history),
    ).toBeUndefined();
    expect(
      machineClick({ at: '2026-03-02T12:00:09.000Z', userAgent: CHROME, link: 'b' }, SENT, history),
    ).toBeUndefined();
  });

  it('builds the message history from the timeline', () => {
    const activities: Activity[] = [
      { id: 'a1', leadId: 'l', type: 'email_delivered', at: DELIVERED, data: { messageId: 'msg-1' } },
      {
        id: 'a2',
        leadId: 'l',
        type: 'email_clicked',
        at: '2026-03-02T12:00:00.000Z',
        data: { messageId: 'msg-1', link: 'a' },
      },
      {
        id: 'a3',
        leadId: 'l',
        type: 'email_clicked',
        at: '2026-03-02T12:00:00.000Z',
        data: { messageId: 'other', link: 'b' },
      },
      { id: 'a4', leadId: 'l', type: 'page_view', at: '2026-03-02T12:00:00.000Z', data: {} },
    ];
    expect(messageHistory(activities, 'msg-1')).toEqual({
      deliveredAt: DELIVERED,
      clicks: [{ at: '2026-03-02T12:00:00.000Z', link: 'a' }],
    });
  });
});

describe('scoring of machine engagement', () => {
  it('gives no engagement points for opens and clicks flagged as machine', () => {
    const base = { leadId: 'l', at: '2026-03-02T12:00:00.000Z' };
    const activities: Activity[] = [
      {
        ...base,
        id: 'o1',
        type: 'email_opened',
        data: { messageId: 'm', machine: true, machineReason: 'apple-privacy-proxy' },
      },
      {
        ...base,
        id: 'c1',
        type: 'email_clicked',
        data: { messageId: 'm', machine: true, machineReason: 'security-scanner' },
      },
      { ...base, id: 'o2', type: 'email_opened', data: { messageId: 'm' } },
    ];
    const facts = leadFacts({
      dedupeKey: 'x@y.example',
      isFreeMail: false,
      isDisposable: false,
      extra: {},
      droppedFields: [],
    });
    const score = scoreLead({ facts, activities, model: config.scoring, asOf: new Date(base.at) });
    expect(score.engagement).toBe(1);
    expect(score.reasons.map((r) => [r.ruleId, r.occurrences])).toEqual([['email-open', 1]]);
  });
});
