import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, type JWTPayload, jwtVerify } from 'jose';
import type { InvokeResult } from './lambda-runner';

/**
 * API Gateway HTTP API, locally: routes, CORS and per-route throttling from the synthesized
 * template, the payload format 2.0 event, JWT authorization against locally issued dev tokens,
 * and API Gateway's own 10 MB payload limit.
 */

export interface ApiRoute {
  readonly method: string;
  readonly path: string;
  readonly routeKey: string;
  readonly functionArn: string;
  readonly jwt?: { readonly issuer: string; readonly audience: readonly string[] };
  /** The route's own limits (the stage's route settings); unset takes the stage default. */
  readonly throttle?: ApiThrottle;
}

/** A token bucket's steady rate (requests/s) and burst. */
export interface ApiThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface ApiCors {
  readonly allowOrigins: readonly string[];
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAge?: number;
  readonly allowCredentials?: boolean;
}

export interface ApiOptions {
  readonly apiId: string;
  readonly routes: readonly ApiRoute[];
  readonly cors?: ApiCors;
  /** Default limits of every route without its own (the stage's default route settings). */
  readonly throttle?: ApiThrottle;
  readonly jwtKey: CryptoKey;
  readonly invoke: (functionArn: string, event: unknown) => Promise<InvokeResult>;
  /** Extra local pages (demo landing page, thank-you page); path → HTML producer. */
  readonly pages?: ReadonlyMap<string, (url: URL) => string | Promise<string>>;
  /**
   * Rewrites the `Location` of a function's redirect (3xx) before the browser sees it, or
   * leaves it (`undefined`). Offline, redirects that would leave the machine (the client's
   * thank-you page) land on a local page instead; the function's own answer is unchanged.
   */
  readonly rewriteRedirect?: (location: string) => string | undefined;
  readonly onRequest?: (info: { routeKey: string; status: number; ms: number }) => void;
}

/** API Gateway's hard limit on request payloads. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
const TEXT_TYPES = /^(text\/|application\/(json|x-www-form-urlencoded|javascript|xml)|[^;]*\+json)/i;

export class LocalHttpApi {
  private server: Server | undefined;
  /** One token bucket per route key, as API Gateway throttles each route on its own. */
  private readonly buckets = new Map<string, { tokens: number; lastRefill: number }>();
  url = '';

  constructor(private readonly options: ApiOptions) {}

  /** The routes read from the synthesized template (for harnesses that probe every route). */
  get routes(): readonly ApiRoute[] {
    return this.options.routes;
  }

  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: Error) => {
        if (!res.headersSent) json(res, 500, { message: `Internal Server Error: ${error.message}` });
      });
    });
    this.server.keepAliveTimeout = 60_000;
    this.server.headersTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    this.url = `http://${host}:${address.port}`;
    return this.url;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://local');
    const method = (req.method ?? 'GET').toUpperCase();
    const origin = header(req, 'origin');

    const page = method === 'GET' ? this.options.pages?.get(url.pathname) : undefined;
    if (page) {
      const html = await page(url);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
      return;
    }

    if (method === 'OPTIONS' && origin && header(req, 'access-control-request-method')) {
      return this.preflight(req, res, origin);
    }
    let match: ReturnType<LocalHttpApi['match']>;
    try {
      match = this.match(method, url.pathname);
    } catch (error) {
      // API Gateway refuses such a request itself; it never reaches the function.
      if (!(error instanceof MalformedPathError)) throw error;
      return json(res, 400, { message: error.message }, this.corsHeaders(origin));
    }
    if (!match) return json(res, 404, { message: 'Not Found' }, this.corsHeaders(origin));
    const { route, pathParameters } = match;
    if (!this.takeToken(route)) {
      return json(res, 429, { message: 'Too Many Requests' }, this.corsHeaders(origin));
    }

    const bodyBuffer = await readBody(req, MAX_PAYLOAD_BYTES);
    if (bodyBuffer === 'too-large') {
      return json(res, 413, { message: 'Request Entity Too Large' }, this.corsHeaders(origin));
    }

    let claims: Record<string, string> | undefined;
    if (route.jwt) {
      const verified = await this.authorize(req, route.jwt);
      if (!verified) return json(res, 401, { message: 'Unauthorized' }, this.corsHeaders(origin));
      claims = verified;
    }

    const event = this.toEvent(req, url, route, pathParameters, bodyBuffer, claims);
    const result = await this.options.invoke(route.functionArn, event);
    const status = this.respond(res, result, origin);
    this.options.onRequest?.({ routeKey: route.routeKey, status, ms: performance.now() - started });
  }

  private match(
    method: string,
    path: string,
  ): { route: ApiRoute; pathParameters: Record<string, string> } | undefined {
    for (const route of this.options.routes) {
      if (route.method !== method && route.method !== 'ANY') continue;
      const params = matchPath(route.path, path);
      if (params) return { route, pathParameters: params };
    }
    return undefined;
  }

  private async authorize(
    req: IncomingMessage,
    jwt: NonNullable<ApiRoute['jwt']>,
  ): Promise<Record<string, string> | undefined> {
    const auth = header(req, 'authorization') ?? '';
    const token = auth.replace(/^Bearer\s+/i, '');
    if (!token) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.options.jwtKey, { issuer: jwt.issuer });
      const audience = [payload.aud, payload.client_id]
        .flat()
        .filter((a): a is string => typeof a === 'string');
      if (!audience.some((a) => jwt.audience.includes(a))) return undefined;
      return flattenClaims(payload);
    } catch {
      return undefined;
    }
  }

  private toEvent(
    req: IncomingMessage,
    url: URL,
    route: ApiRoute,
    pathParameters: Record<string, string>,
    body: Buffer,
    claims: Record<string, string> | undefined,
  ) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || name === 'cookie') continue;
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
    }
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
    // API Gateway adds the X-Forwarded-* headers (appending the caller to X-Forwarded-For); the
    // protocol is the one this server speaks, so a function building its own URL (the tracking
    // script's API base) gets http://, not https://, offline.
    const sourceIp = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
    headers['x-forwarded-for'] = headers['x-forwarded-for']
      ? `${headers['x-forwarded-for']}, ${sourceIp}`
      : sourceIp;
    headers['x-forwarded-proto'] = 'http';
    headers['x-forwarded-port'] = String(req.socket.localPort ?? '');
    const contentType = headers['content-type'] ?? '';
    const isText = body.length === 0 || TEXT_TYPES.test(contentType) || contentType === '';
    const now = new Date();
    const cookies = header(req, 'cookie')
      ?.split(';')
      .map((c) => c.trim())
      .filter(Boolean);
    return {
      version: '2.0',
      routeKey: route.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.replace(/^\?/, ''),
      ...(cookies?.length ? { cookies } : {}),
      headers,
      ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
      ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
      requestContext: {
        accountId: '000000000000',
        apiId: this.options.apiId,
        domainName: headers.host ?? 'localhost',
        domainPrefix: (headers.host ?? 'localhost').split('.')[0],
        http: {
          method: (req.method ?? 'GET').toUpperCase(),
          path: url.pathname,
          protocol: `HTTP/${req.httpVersion}`,
          sourceIp,
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey: route.routeKey,
        stage: '$default',
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
        ...(claims ? { authorizer: { jwt: { claims, scopes: null } } } : {}),
      },
      ...(body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
      isBase64Encoded: body.length > 0 && !isText,
    };
  }

  /** Writes the function's answer the way API Gateway interprets payload 2.0 responses. */
  private respond(res: ServerResponse, result: InvokeResult, origin: string | undefined): number {
    if (!result.ok) {
      json(res, 500, { message: 'Internal Server Error' }, this.corsHeaders(origin));
      return 500;
    }
    const value = result.result as
      | {
          statusCode?: number;
          headers?: Record<string, string>;
          body?: string;
          isBase64Encoded?: boolean;
          cookies?: string[];
        }
      | string
      | undefined;
    if (
      value === undefined ||
      value === null ||
      typeof value !== 'object' ||
      value.statusCode === undefined
    ) {
      // API Gateway's inference: a value that is not a response object is a 200 JSON body.
      json(res, 200, value ?? null, this.corsHeaders(origin));
      return 200;
    }
    const headers: Record<string, string | string[]> = {
      ...(value.headers ?? {}),
      ...this.corsHeaders(origin),
    };
    if (value.cookies?.length) headers['set-cookie'] = value.cookies;
    if (value.statusCode >= 300 && value.statusCode < 400 && this.options.rewriteRedirect) {
      const key = Object.keys(headers).find((k) => k.toLowerCase() === 'location');
      const rewritten = key ? this.options.rewriteRedirect(String(headers[key])) : undefined;
      if (key && rewritten) headers[key] = rewritten;
    }
    const body = value.body
      ? Buffer.from(value.body, value.isBase64Encoded ? 'base64' : 'utf8')
      : Buffer.alloc(0);
    headers['content-length'] = String(body.length);
    res.writeHead(value.statusCode, headers);
    res.end(body);
    return value.statusCode;
  }

  private preflight(req: IncomingMessage, res: ServerResponse, origin: string): void {
    const cors = this.options.cors;
    if (!cors || !originAllowed(cors, origin)) {
      res.writeHead(204);
      res.end();
      return;
    }
    const requested = (header(req, 'access-control-request-method') ?? '').toUpperCase();
    const methodOk = cors.allowMethods.includes('*') || cors.allowMethods.includes(requested);
    res.writeHead(204, {
      ...this.corsHeaders(origin),
      ...(methodOk ? { 'access-control-allow-methods': cors.allowMethods.join(',') } : {}),
      'access-control-allow-headers': cors.allowHeaders.join(','),
      ...(cors.maxAge !== undefined ? { 'access-control-max-age': String(cors.maxAge) } : {}),
    });
    res.end();
  }

  private corsHeaders(origin: string | undefined): Record<string, string> {
    const cors = this.options.cors;
    if (!cors || !origin || !originAllowed(cors, origin)) return {};
    return {
      'access-control-allow-origin': cors.allowOrigins.includes('*') ? '*' : origin,
      ...(cors.exposeHeaders.length ? { 'access-control-expose-headers': cors.exposeHeaders.join(',') } : {}),
      ...(cors.allowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
      vary: 'origin',
    };
  }

  /** The route's token bucket (its own limits, else the stage default), as API Gateway throttles. */
  private takeToken(route: ApiRoute): boolean {
    const throttle = route.throttle ?? this.options.throttle;
    if (!throttle) return true;
    const now = Date.now();
    const bucket = this.buckets.get(route.routeKey) ?? { tokens: throttle.burstLimit, lastRefill: now };
    bucket.tokens = Math.min(
      throttle.burstLimit,
      bucket.tokens + ((now - bucket.lastRefill) / 1000) * throttle.rateLimit,
    );
    bucket.lastRefill = now;
    this.buckets.set(route.routeKey, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/** A path segment whose percent-encoding does not decode (`%E0%A4%A`): the caller's mistake, a 400. */
export class MalformedPathError extends Error {
  override readonly name = 'MalformedPathError';
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new MalformedPathError(
      `Bad Request: the path segment "${segment.slice(0, 64)}" has malformed percent-encoding`,
    );
  }
}

/**
 * Matches `/leads/{id}` and greedy `{proxy+}` segments.
 * @throws MalformedPathError when a parameter's percent-encoding does not decode.
 */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const t = template.split('/').filter(Boolean);
  const p = path.split('/').filter(Boolean);
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const segment = t[i] ?? '';
    const greedy = /^\{(.+)\+\}$/.exec(segment);
    if (greedy?.[1]) {
      if (i >= p.length) return undefined;
      params[greedy[1]] = p.slice(i).map(decodeSegment).join('/');
      return params;
    }
    const value = p[i];
    if (value === undefined) return undefined;
    const param = /^\{(.+)\}$/.exec(segment);
    if (param?.[1]) params[param[1]] = decodeSegment(value);
    else if (segment !== value) return undefined;
  }
  return t.length === p.length ? params : undefined;
}

/** API Gateway's JWT authorizer passes claims as strings; arrays become "[a b]". */
function flattenClaims(payload: JWTPayload): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload)) {
    claims[key] = Array.isArray(value)
      ? `[${value.join(' ')}]`
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  }
  return claims;
}

function originAllowed(cors: ApiCors, origin: string): boolean {
  return cors.allowOrigins.includes('*') || cors.allowOrigins.includes(origin);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
