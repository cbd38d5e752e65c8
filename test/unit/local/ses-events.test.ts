import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LocalEventBus } from '../../../local/event-bus';
import { SesEventSimulator } from '../../../local/ses-events';

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

/** The SES emulator as `fetch`: every send is accepted with the next message id. */
function acceptingEmulator() {
  let n = 0;
  return vi.fn(async () => new Response(JSON.stringify({ MessageId: `ses-${++n}` }), { status: 200 }));
}

const SEND = JSON.stringify({
  FromEmailAddress: 'hello@northwind.example',
  Destination: { ToAddresses: ['nora@northwind-example.com'] },
  ConfigurationSetName: 'e2e-Email',
  Content: { Simple: { Subject: { Data: 'Thanks' }, Body: { Text: { Data: 'Hi' } } } },
});

describe('the SES event simulator', () => {
  it('counts the delivery events still to come, so the runtime can wait for them before calling itself quiet', async () => {
    vi.useFakeTimers();
    vi.stubGlobal('fetch', acceptingEmulator());
    const published: string[] = [];
    const bus = { publish: (event: { 'detail-type': string }) => published.push(event['detail-type']) };
    const ses = new SesEventSimulator(bus as unknown as LocalEventBus, 'http://ses.invalid', 1);

    expect(ses.pending).toBe(0);
    await ses.sendEmail(SEND);
    await ses.sendEmail(SEND);
    // Sent at once; delivered a moment later, as at SES.
    expect(published).toEqual(['Email Sent', 'Email Sent']);
    expect(ses.pending).toBe(2);

    await vi.advanceTimersByTimeAsync(1500);
    expect(published).toEqual(['Email Sent', 'Email Sent', 'Email Delivered', 'Email Delivered']);
    expect(ses.pending).toBe(0);
  });

  it('has nothing pending after stop', async () => {
    vi.useFakeTimers();
    vi.stubGlobal('fetch', acceptingEmulator());
    const ses = new SesEventSimulator(
      { publish: () => {} } as unknown as LocalEventBus,
      'http://ses.invalid',
      1,
    );
    await ses.sendEmail(SEND);
    expect(ses.pending).toBe(1);
    ses.stop();
    expect(ses.pending).toBe(0);
  });
});
