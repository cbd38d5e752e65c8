import { describe, expect, it } from 'vitest';
import { LOCAL_THANK_YOU_PATH, landingPage, localRedirect, thankYouPage } from '../../../local/pages';
import { loadClientConfig } from '../../../shared/config/load';
import { signToken } from '../../../shared/domain/tokens';

const config = loadClientConfig('example', 'clients');
const API = 'http://127.0.0.1:4100';
const KEY = 'local-signing-key-0123456789';
const links = {
  apiUrl: API,
  sesInboxUrl: 'http://127.0.0.1:4200',
  slackRecorderUrl: 'http://127.0.0.1:4300/_local/slack',
  snsRecorderUrl: 'http://127.0.0.1:4300/_local/sns',
  executionsUrl: 'http://127.0.0.1:4300/_local/executions',
};

describe('offline redirects', () => {
  it('send a redirect that would leave the machine to the local thank-you page, token kept', () => {
    const token = signToken('visitor', 'lead-1', KEY, new Date());
    const rewritten = new URL(localRedirect(`${config.capture.thankYouUrl}#lp_token=${token}`, API) ?? '');
    expect(`${rewritten.origin}${rewritten.pathname}`).toBe(`${API}${LOCAL_THANK_YOU_PATH}`);
    expect(rewritten.searchParams.get('to')).toBe(config.capture.thankYouUrl);
    expect(rewritten.searchParams.get('token')).toBe(token);
    expect(rewritten.hash).toBe(`#lp_token=${encodeURIComponent(token)}`);
  });

  it('leave local targets and unreadable locations alone', () => {
    expect(localRedirect(`${API}/somewhere`, API)).toBeUndefined();
    expect(localRedirect('http://localhost:9999/x', API)).toBeUndefined();
    expect(localRedirect('/relative', API)).toBeUndefined();
  });
});

describe('the local thank-you page', () => {
  const page = (query: Record<string, string>) =>
    thankYouPage(new URL(`${API}${LOCAL_THANK_YOU_PATH}?${new URLSearchParams(query)}`), links, config, KEY);

  it('names the stored lead, says a rep will contact them and links the recorders', () => {
    const html = page({
      to: String(config.capture.thankYouUrl),
      token: signToken('visitor', 'lead-42', KEY, new Date()),
    });
    expect(html).toContain('<code id="lead-id">lead-42</code>');
    expect(html).toContain('A rep will contact you');
    for (const href of [links.slackRecorderUrl, links.snsRecorderUrl, links.sesInboxUrl, links.executionsUrl])
      expect(html).toContain(`href="${href}"`);
    expect(html).toContain(config.capture.thankYouUrl);
    expect(html).not.toContain('not-stored');
  });

  it('says a submission caught by the bot checks was not stored (its token is not signed with the key)', () => {
    const html = page({ token: signToken('visitor', 'made-up', 'a-throw-away-key-0123456789', new Date()) });
    expect(html).toContain('id="not-stored"');
    expect(html).not.toContain('id="lead-id"');
  });

  it('escapes what it echoes', () => {
    expect(page({ to: 'https://x.example/"><script>alert(1)</script>' })).not.toContain('<script>alert(1)');
  });
});

describe('the demo landing page', () => {
  it('posts to the capture endpoint, loads the tracking script and shows a consent banner', () => {
    const html = landingPage(API, config);
    expect(html).toContain(`<form method="post" action="${API}/leads">`);
    expect(html).toContain(`<script src="${API}/t.js" async></script>`);
    expect(html).toContain('data-consent="yes"');
    expect(html).toContain(`name="${config.capture.honeypotField}"`);
  });
});
