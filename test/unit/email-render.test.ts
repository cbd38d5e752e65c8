import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadClientConfig } from '../../shared/config/load';
import {
  EMAIL_TAGS,
  emailTags,
  formatMailbox,
  leadValues,
  listUnsubscribeHeaders,
  placeholdersIn,
  renderLeadEmail,
  renderTemplate,
  TEMPLATE_VALUE_LIMITS,
  tagValue,
  unknownPlaceholders,
  unsubscribeUrl,
  withFooter,
} from '../../shared/domain/email-render';
import type { LeadProfile } from '../../shared/domain/lead';

const config = loadClientConfig('example', 'clients');

function profile(overrides: Partial<LeadProfile> = {}): { profile: LeadProfile } {
  return {
    profile: {
      email: 'jane@acme.example',
      dedupeKey: 'jane@acme.example',
      firstName: 'Jane',
      lastName: 'Doe',
      company: 'Acme',
      isFreeMail: false,
      isDisposable: false,
      extra: {},
      droppedFields: [],
      ...overrides,
    },
  };
}

const context = {
  senderName: 'Northwind Analytics',
  postalAddress: 'Northwind Analytics Ltd, 1 Example Street, London',
  unsubscribeUrl: 'https://api.example/unsubscribe?token=abc.def',
};

describe('renderTemplate', () => {
  it('fills placeholders in every part', () => {
    const out = renderTemplate(
      {
        subject: 'Hi {{firstName}} at {{ company }}',
        html: '<p>{{fullName}}</p>',
        text: 'Dear {{lastName}}',
      },
      leadValues(profile(), context),
    );
    expect(out).toEqual({ subject: 'Hi Jane at Acme', html: '<p>Jane Doe</p>', text: 'Dear Doe' });
  });

  it('escapes values in the HTML part only', () => {
    const out = renderTemplate(
      {
        subject: '{{firstName}} / {{company}}',
        html: '<p>{{firstName}} {{company}}</p>',
        text: '{{firstName}} {{company}}',
      },
      { firstName: "O'Brien <b>", company: 'Smith & Sons' },
    );
    expect(out.html).toBe('<p>O&#39;Brien &lt;b&gt; Smith &amp; Sons</p>');
    expect(out.text).toBe("O'Brien <b> Smith & Sons");
    expect(out.subject).toBe("O'Brien <b> / Smith & Sons");
  });

  it("keeps real names and companies, O'Brien and Smith & Sons included", () => {
    const values = leadValues(
      profile({
        firstName: "Siobhán O'Brien-Ní",
        lastName: 'Dvořák',
        company: 'Smith & Sons',
        city: 'São Paulo',
      }),
      context,
    );
    expect(values).toMatchObject({
      firstName: "Siobhán O'Brien-Ní",
      fullName: "Siobhán O'Brien-Ní Dvořák",
      company: 'Smith & Sons',
      city: 'São Paulo',
    });
  });

  it('drops web and email addresses and markup from visitor-typed values, so phishing falls back to a neutral greeting', () => {
    const template = {
      subject: 'Thanks {{firstName}}',
      html: '<p>Hi {{firstName}}, welcome from {{company}}</p>',
      text: 'Hi {{firstName}}, welcome from {{company}}',
    };
    for (const [firstName, company] of [
      ['Invoice overdue, pay at evil.example', 'Acme'],
      ['Jane', 'See https://evil.example/pay'],
      ['Jane', 'Pay now: billing@evil.example'],
      ['<a href=x>Jane</a>', 'www.evil.example'],
      ['Jane', 'Acme &lt;script&gt;'],
    ]) {
      const out = renderTemplate(template, leadValues(profile({ firstName, company }), context));
      expect(out.text).not.toMatch(/evil|https?:|www\.|@|<a|script/);
    }
    const phished = renderTemplate(
      template,
      leadValues(profile({ firstName: 'Invoice overdue, pay at evil.example', company: 'Acme' }), context),
    );
    expect(phished.subject).toBe('Thanks there');
    expect(phished.text).toBe('Hi there, welcome from Acme');
  });

  it('cuts long values at a word and refuses an over-long name', () => {
    const company =
      'Northern Lights Analytics and Consulting Group for Retail Banking and Insurance Firms Worldwide';
    const values = leadValues(profile({ firstName: 'Maximilian'.repeat(5), company }), context);
    expect(values.firstName).toBeUndefined();
    expect(values.company?.length).toBeLessThanOrEqual(TEMPLATE_VALUE_LIMITS.company);
    expect(company.startsWith(values.company ?? '-')).toBe(true);
    expect(values.company?.endsWith(' ')).toBe(false);
  });

  it('uses the template fallback, then the default fallback, for missing values', () => {
    const lead = profile({ firstName: undefined, company: undefined, jobTitle: undefined });
    const out = renderTemplate(
      {
        subject: '{{firstName}}, hello',
        html: '<p>{{company|your team}}</p>',
        text: '{{jobTitle}}|{{company}}',
      },
      leadValues(lead, context),
    );
    expect(out.subject).toBe('there, hello');
    expect(out.html).toBe('<p>your team</p>');
    expect(out.text).toBe('|your company');
  });

  it('keeps every subject on one line, whatever the values hold', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (firstName, company) => {
        const out = renderTemplate(
          { subject: '{{firstName}} {{company}}', html: 'x', text: 'x' },
          leadValues(profile({ firstName, company }), context),
        );
        // No code point below U+0020 (line breaks included) may reach the Subject header.
        expect([...out.subject].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
      }),
    );
  });

  it('never lets a value inject markup into the HTML part', () => {
    fc.assert(
      fc.property(fc.string(), (firstName) => {
        const out = renderTemplate(
          { subject: 's', html: '<p>{{firstName}}</p>', text: 't' },
          leadValues(profile({ firstName }), context),
        );
        expect(out.html.slice(3, -4)).not.toMatch(/[<>"']/);
      }),
    );
  });

  it('renders an unknown placeholder as nothing and reports it', () => {
    const template = { subject: 'Hi {{firstname}}', html: '<p>{{firstName}}</p>', text: '{{nope|x}}' };
    expect(renderTemplate(template, leadValues(profile(), context)).subject).toBe('Hi');
    expect(renderTemplate(template, leadValues(profile(), context)).text).toBe('x');
    expect(placeholdersIn(template)).toEqual(['firstname', 'firstName', 'nope']);
    expect(unknownPlaceholders(template)).toEqual(['firstname', 'nope']);
  });

  it('finds no unknown placeholders in the example client templates', () => {
    const templates = [
      ...config.nurture.sequences.flatMap((s) => s.steps.flatMap((st) => (st.template ? [st.template] : []))),
      ...Object.values(config.autoResponse.templates),
    ];
    expect(templates.flatMap(unknownPlaceholders)).toEqual([]);
  });
});

describe('footer and headers', () => {
  it('appends the postal address and an untracked unsubscribe link to both parts', () => {
    const out = withFooter({ subject: 's', html: '<p>Body</p>', text: 'Body\n\n' }, context);
    expect(out.html.startsWith('<p>Body</p><div')).toBe(true);
    expect(out.html).toContain('Northwind Analytics Ltd, 1 Example Street, London');
    expect(out.html).toContain('<a ses:no-track href="https://api.example/unsubscribe?token=abc.def"');
    expect(out.text).toBe(
      "Body\n\n--\nNorthwind Analytics, Northwind Analytics Ltd, 1 Example Street, London\nDon't want these emails? Unsubscribe: https://api.example/unsubscribe?token=abc.def\n",
    );
  });

  it('puts the footer inside the body of a full HTML document', () => {
    const out = withFooter({ subject: 's', html: '<html><body><p>x</p></body></html>', text: 't' }, context);
    expect(out.html).toMatch(/<p>x<\/p><div[\s\S]*<\/div><\/body><\/html>$/);
  });

  it('escapes the footer values', () => {
    const out = withFooter(
      { subject: 's', html: '', text: '' },
      { ...context, senderName: 'A & B <Ltd>', unsubscribeUrl: 'https://x/u?token=a"b' },
    );
    expect(out.html).toContain('A &amp; B &lt;Ltd&gt;');
    expect(out.html).toContain('href="https://x/u?token=a&quot;b"');
  });

  it('renders a whole lead email from an example template', () => {
    const step = config.nurture.sequences[0]?.steps[0];
    if (!step?.template) throw new Error('example config has no nurture email step');
    const out = renderLeadEmail(step.template, profile(), context);
    expect(out.subject).toBe('Jane, your product-analytics starter guide');
    expect(out.html).toContain('<p>Hi Jane,</p>');
    expect(out.html).toContain('teams at Acme use');
    expect(out.text).toContain('Unsubscribe: https://api.example/unsubscribe?token=abc.def');
  });

  it('builds the unsubscribe URL without a double slash and with the token encoded', () => {
    expect(unsubscribeUrl('https://api.example/', 'a+b/c')).toBe(
      'https://api.example/unsubscribe?token=a%2Bb%2Fc',
    );
    expect(unsubscribeUrl('https://api.example', 'abc.DEF_-')).toBe(
      'https://api.example/unsubscribe?token=abc.DEF_-',
    );
  });

  it('gives RFC 8058 one-click headers', () => {
    expect(listUnsubscribeHeaders('https://api.example/unsubscribe?token=t')).toEqual([
      { name: 'List-Unsubscribe', value: '<https://api.example/unsubscribe?token=t>' },
      { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
    ]);
  });
});

describe('formatMailbox', () => {
  it('quotes an ASCII display name and escapes quotes and backslashes', () => {
    expect(formatMailbox('Northwind Analytics', 'hello@northwind.example')).toBe(
      '"Northwind Analytics" <hello@northwind.example>',
    );
    expect(formatMailbox('The "Best" \\ Co', 'a@b.example')).toBe('"The \\"Best\\" \\\\ Co" <a@b.example>');
  });

  it('encodes a non-ASCII name as RFC 2047 words of at most 75 characters', () => {
    const name = 'Zürich Analytik GmbH – Ünterstützung für alle Kunden in Österreich';
    const out = formatMailbox(name, 'a@b.example');
    const words = out.replace(/ <a@b\.example>$/, '').split(' ');
    for (const word of words) {
      expect(word).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
      expect(word.length).toBeLessThanOrEqual(75);
    }
    const decoded = words.map((w) => Buffer.from(w.slice(10, -2), 'base64').toString('utf8')).join('');
    expect(decoded).toBe(name);
  });

  it('drops line breaks from the name and uses the bare address for an empty one', () => {
    expect(formatMailbox('Evil\r\nBcc: x@y', 'a@b.example')).toBe('"Evil Bcc: x@y" <a@b.example>');
    expect(formatMailbox('  ', 'a@b.example')).toBe('a@b.example');
  });
});

describe('message tags', () => {
  it('names the lead, sequence, step and kind', () => {
    expect(
      emailTags({ leadId: 'lead-1', sequenceId: 'education', stepId: 'welcome-guide', kind: 'nurture' }),
    ).toEqual([
      { name: EMAIL_TAGS.leadId, value: 'lead-1' },
      { name: 'sequence', value: 'education' },
      { name: 'step', value: 'welcome-guide' },
      { name: 'kind', value: 'nurture' },
    ]);
  });

  it('replaces characters SES does not allow in tag values', () => {
    expect(tagValue('a.b c/d@e')).toBe('a_b_c_d_e');
    expect(tagValue('')).toBe('_');
    fc.assert(
      fc.property(fc.string(), (v) => {
        expect(tagValue(v)).toMatch(/^[A-Za-z0-9_-]{1,256}$/);
      }),
    );
  });
});
