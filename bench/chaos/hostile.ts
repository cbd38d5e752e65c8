import fc from 'fast-check';
import { type CryptoKey, generateKeyPair, SignJWT } from 'jose';
import type { Endpoints } from '../../local/runtime';
import { signToken } from '../../shared/domain/tokens';
import { WEBHOOK_ADAPTERS, WEBHOOK_PROVIDERS } from '../../shared/webhooks';
import { WEBHOOK_SIGNERS } from '../../shared/webhooks/sign';

/**
 * Hostile requests for every public and JWT route: fast-check arbitraries mixed with a corpus of
 * strings known to break parsers, renderers and Slack. Each request names its kind (for the
 * report) and the route it targets (for the answers by route).
 */

/** One request the harness sends. */
export interface HostileRequest {
  readonly kind: string;
  readonly route: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Buffer | FormData;
}

/** Markers that must never come back unescaped in Slack or in an HTML page. */
export const INJECTION_MARKERS = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<!channel>',
  '<!here>',
  '<https://evil.example|x>',
  '<@U0ADMIN>',
] as const;

/** Strings known to hurt: injection, mrkdwn, control and invisible characters, RTL, emoji, odd numbers. */
export const CORPUS: readonly string[] = [
  ...INJECTION_MARKERS,
  '"><svg onload=alert(1)>',
  "'; DROP TABLE leads; --",
  '*bold* _it_ ~strike~ `code` ```block```',
  'jane@example.com\r\nBcc: victim@example.com',
  'Jane\r\nX-Injected: 1',
  'Jane\nDoe',
  'nul\u0000byte',
  'zero\u200bwidth\u200d\ufeff',
  '\u202eevil\u202c RTL override',
  'مرحبا بالعالم',
  'שלום',
  '👩‍💻🚀🔥'.repeat(20),
  '\ud800 lone surrogate',
  '𝕵𝖆𝖓𝖊',
  'x'.repeat(10_000),
  '%E0%A4%A',
  '../../etc/passwd',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent as typed.
  '${7*7} {{7*7}} #{7*7}',
  '__proto__',
  'constructor',
  'Infinity',
  'NaN',
  '1e308',
  '-1',
  '0x41',
  'null',
  'undefined',
  'true',
  '',
  ' ',
  'a@b',
  '@example.com',
  'jane@@example.com',
  'jane@example.com.',
  'jane@exa mple.com',
  'JANE@EXAMPLE.COM',
  'https://evil.example/phish',
  '//evil.example',
  'javascript:alert(1)',
];

const FIELDS = [
  'email',
  'first_name',
  'last_name',
  'name',
  'company',
  'job_title',
  'phone',
  'company_size',
  'industry',
  'country',
  'message',
  'utm_source',
  'redirect',
  'marketing_consent',
];

const hostileString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...CORPUS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.emailAddress() },
);

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.array(hostileString, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.constant(null)) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'a'), hostileString) },
);

/** A capture-like record: some known fields, sometimes a valid email, sometimes prototype keys. */
const hostileLead = fc
  .tuple(
    fc.dictionary(fc.constantFrom(...FIELDS), hostileValue, { maxKeys: 8 }),
    fc.option(fc.emailAddress(), { nil: undefined }),
    fc.boolean(),
  )
  .map(([fields, email, proto]) => {
    const record: Record<string, unknown> = { ...fields };
    if (email && !('email' in record)) record.email = email;
    if (proto) Object.defineProperty(record, '__proto__', { value: { admin: true }, enumerable: true });
    return record;
  });

/** `encodeURIComponent`, but a lone surrogate (which it refuses) becomes U+FFFD first. */
function enc(value: string): string {
  return encodeURIComponent(
    value.replace(/[\uD800-\uDFFF]/g, (c, i: number, all: string) => {
      const code = c.charCodeAt(0);
      const pair =
        code < 0xdc00 ? /[\uDC00-\uDFFF]/.test(all[i + 1] ?? '') : /[\uD800-\uDBFF]/.test(all[i - 1] ?? '');
      return pair ? c : '\uFFFD';
    }),
  );
}

function deepNesting(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Draws `n` values from an arbitrary with a fixed seed (reproducible runs). */
function sample<T>(arb: fc.Arbitrary<T>, n: number, seed: number): T[] {
  return fc.sample(arb, { numRuns: n, seed });
}

/** JWT variants: none, alg none, another key, expired, and the runtime's own rep/manager/admin. */
export async function jwtVariants(endpoints: Endpoints): Promise<Record<string, string | undefined>> {
  const other = await generateKeyPair('RS256');
  const claims = JSON.parse(
    Buffer.from(endpoints.tokens.admin.split('.')[1] ?? '', 'base64url').toString('utf8'),
  ) as Record<string, unknown>;
  const { iss, aud, exp: _exp, iat: _iat, ...rest } = claims;
  const signed = (key: CryptoKey, expiresIn: string | number) =>
    new SignJWT(rest)
      .setProtectedHeader({ alg: 'RS256', kid: 'local' })
      .setIssuer(String(iss))
      .setAudience(aud as string)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(expiresIn)
      .sign(key);
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(
    JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 }),
  ).toString('base64url')}.`;
  return {
    'no token': undefined,
    'alg none': none,
    'other key': await signed(other.privateKey, '1h'),
    expired: await signed(other.privateKey, Math.floor(Date.now() / 1000) - 3600),
    garbage: 'not.a.jwt',
    rep: endpoints.tokens.rep,
    manager: endpoints.tokens.manager,
    admin: endpoints.tokens.admin,
  };
}

/** A route of the deployed API, as the runtime read it from the synthesized template. */
export interface RouteOfApi {
  readonly method: string;
  readonly path: string;
  readonly jwt?: unknown;
}

/**
 * Public routes with a request generator of their own below; any other public route (a new one)
 * still gets hostile bodies and paths through the catch-all case.
 */
const PUBLIC_WITH_GENERATOR = new Set([
  'POST /leads',
  'POST /webhooks/{provider}',
  'GET /webhooks/{provider}',
  'POST /events',
  'GET /unsubscribe',
  'POST /unsubscribe',
  'GET /t.js',
]);

/** Every provider the API accepts, plus one it does not. */
const WEBHOOKS = [...WEBHOOK_PROVIDERS, 'nope'] as const;

/**
 * Builds `total` hostile requests spread over every route. `otherLeadId` is a lead owned by
 * someone other than the rep token's rep (a rep reading or changing it must be refused).
 */
export async function hostileRequests(
  endpoints: Endpoints,
  total: number,
  otherLeadId: string,
  routes: readonly RouteOfApi[],
  seed = 11,
): Promise<HostileRequest[]> {
  const jwtRoutes = routes.filter((r) => r.jwt).map((r) => [r.method, r.path] as const);
  const otherPublic = routes.filter((r) => !r.jwt && !PUBLIC_WITH_GENERATOR.has(`${r.method} ${r.path}`));
  if (jwtRoutes.length === 0) throw new Error('the runtime reports no JWT routes: nothing to probe');
  const jwts = await jwtVariants(endpoints);
  const leads = sample(hostileLead, total, seed);
  const strings = sample(hostileString, total, seed + 1);
  const secrets = endpoints.devSecrets;
  const out: HostileRequest[] = [];
  const json = { 'content-type': 'application/json', accept: 'application/json' };
  for (let i = 0; out.length < total; i++) {
    const lead = leads[i % leads.length] ?? {};
    const text = strings[i % strings.length] ?? '';
    const body = JSON.stringify(lead);
    switch (i % 16) {
      case 0:
      case 1:
        out.push({
          kind: 'capture json',
          route: 'POST /leads',
          method: 'POST',
          path: '/leads',
          headers: json,
          body,
        });
        break;
      case 2: {
        const form = new URLSearchParams();
        for (const [k, v] of Object.entries(lead))
          form.append(k, typeof v === 'string' ? v : JSON.stringify(v));
        out.push({
          kind: 'capture urlencoded',
          route: 'POST /leads',
          method: 'POST',
          path: '/leads',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
        });
        break;
      }
      case 3: {
        const form = new FormData();
        for (const [k, v] of Object.entries(lead))
          form.append(k, typeof v === 'string' ? v : JSON.stringify(v));
        out.push({
          kind: 'capture multipart',
          route: 'POST /leads',
          method: 'POST',
          path: '/leads',
          headers: {},
          body: form,
        });
        break;
      }
      case 4: {
        const variants: Array<[string, Record<string, string>, string | Buffer]> = [
          [
            'body over the limit',
            json,
            JSON.stringify({ email: 'a@example.com', message: 'x'.repeat(300_000) }),
          ],
          ['deep nesting', json, deepNesting(5_000)],
          [
            'wrong content type',
            { 'content-type': 'application/xml' },
            '<lead><email>a@example.com</email></lead>',
          ],
          [
            'invalid utf-8',
            json,
            Buffer.concat([
              Buffer.from('{"email":"a@example.com","first_name":"'),
              Buffer.from([0xff, 0xfe, 0xc3]),
              Buffer.from('"}'),
            ]),
          ],
          [
            'json with bom',
            json,
            `\uFEFF${JSON.stringify({ email: `bom${i}@example.com`, first_name: 'Bom' })}`,
          ],
          ['array body', json, '[{"email":"a@example.com"}]'],
          ['malformed json', json, '{"email":'],
          ['nul bytes', json, JSON.stringify({ email: 'nul@example.com', first_name: 'a\u0000b' })],
        ];
        const [kind, headers, payload] = variants[
          Math.floor(i / 16) % variants.length
        ] as (typeof variants)[number];
        out.push({
          kind: `capture ${kind}`,
          route: 'POST /leads',
          method: 'POST',
          path: '/leads',
          headers,
          body: payload,
        });
        break;
      }
      case 5:
      case 6: {
        const provider = WEBHOOKS[Math.floor(i / 16) % WEBHOOKS.length] ?? 'generic';
        const signature = Math.floor(i / 128) % 3; // 0 missing, 1 bad (another key), 2 good
        let headers: Record<string, string> = { ...json };
        let payload = body;
        if (provider !== 'nope' && signature > 0) {
          const key = signature === 2 ? (secrets[WEBHOOK_ADAPTERS[provider].secret] ?? '') : 'not-the-key';
          const delivery = WEBHOOK_SIGNERS[provider](body, key, new Date());
          headers = { ...headers, ...delivery.headers };
          payload = delivery.body;
        }
        const label = ['missing signature', 'bad signature', 'good signature'][signature];
        const get = provider === 'meta' && i % 32 === 5;
        out.push({
          kind: `webhook ${label}`,
          route: `${get ? 'GET' : 'POST'} /webhooks/{provider}`,
          method: get ? 'GET' : 'POST',
          path: get
            ? `/webhooks/meta?hub.mode=subscribe&hub.verify_token=${enc(text)}&hub.challenge=${enc(text)}`
            : `/webhooks/${provider}`,
          headers,
          ...(get ? {} : { body: payload }),
        });
        break;
      }
      case 7:
        out.push({
          kind: 'tracking',
          route: 'POST /events',
          method: 'POST',
          path: '/events',
          headers: { 'content-type': 'text/plain' },
          body: JSON.stringify({ visitorId: text, type: 'page_view', url: text, token: text, ...lead }),
        });
        break;
      case 8: {
        const now = new Date();
        const key = secrets.signingKey ?? 'k';
        const tokens: Array<[string, string]> = [
          ['garbage', text],
          ['forged', signToken('unsubscribe', otherLeadId, 'not-the-key-at-all', now)],
          [
            'expired',
            signToken('unsubscribe', otherLeadId, key, new Date(now.getTime() - 86_400_000 * 400), 60),
          ],
          ['wrong purpose', signToken('visitor', otherLeadId, key, now)],
        ];
        const [label, token] = tokens[Math.floor(i / 16) % tokens.length] as [string, string];
        const method = i % 32 === 8 ? 'GET' : 'POST';
        out.push({
          kind: `unsubscribe ${label} token`,
          route: `${method} /unsubscribe`,
          method,
          path: `/unsubscribe?token=${enc(token)}`,
          headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
          ...(method === 'POST' ? { body: 'List-Unsubscribe=One-Click' } : {}),
        });
        break;
      }
      case 9:
        out.push({
          kind: 'redirect off the allow-list',
          route: 'POST /leads',
          method: 'POST',
          path: '/leads',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            email: `redir${i}@example.com`,
            first_name: 'Redirect',
            redirect: text.startsWith('http') ? text : 'https://evil.example/phish',
          }).toString(),
        });
        break;
      case 10:
        out.push({
          kind: 'page',
          route: 'GET /t.js',
          method: 'GET',
          path: `/t.js?v=${enc(text)}`,
          headers: {},
        });
        break;
      default: {
        const other =
          i % 16 === 11 ? otherPublic[Math.floor(i / 16) % Math.max(1, otherPublic.length)] : undefined;
        if (other) {
          out.push({
            kind: 'other public route',
            route: `${other.method} ${other.path}`,
            method: other.method,
            path: other.path.replace(/\{[^}]+\}/g, () => enc(text) || 'x'),
            headers: json,
            ...(other.method === 'GET' || other.method === 'DELETE' ? {} : { body }),
          });
          break;
        }
        const [method, template] = jwtRoutes[Math.floor(i / 16) % jwtRoutes.length] as readonly [
          string,
          string,
        ];
        const names = Object.keys(jwts);
        const who = names[Math.floor(i / 7) % names.length] ?? 'no token';
        const token = jwts[who];
        // A rep on another rep's lead, a rep or manager on admin routes, hostile ids for the rest.
        const id = i % 3 === 0 ? otherLeadId : i % 3 === 1 ? enc(text) || 'x' : '%E0%A4%A';
        const path = template
          .replace('{id}', id)
          .replace('{taskId}', enc(text) || 't')
          .replace('{email}', enc(text) || 'a@b.c')
          .replace('{report}', i % 2 ? 'funnel' : enc(text) || 'r');
        const query =
          method === 'GET' && template === '/leads' ? `?owner=${enc(text)}&limit=${enc(text)}` : '';
        out.push({
          kind: `jwt ${who}`,
          route: `${method} ${template}`,
          method,
          path: `${path}${query}`,
          headers: { ...json, ...(token ? { authorization: `Bearer ${token}` } : {}) },
          ...(method === 'GET' || method === 'DELETE' ? {} : { body }),
        });
      }
    }
  }
  return out;
}
