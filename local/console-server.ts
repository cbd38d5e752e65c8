import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildConsole, type ConsoleFile } from '../console/build';

/**
 * The console offline: the same bundle the deploy uploads to S3, served with the headers
 * CloudFront adds (strict CSP and friends), a `config.json` pointing at the local API, and a
 * sign-in list of the runtime's dev users (rep, manager, admin) at `/_local/dev-users`.
 */

export interface DevUser {
  readonly role: 'rep' | 'manager' | 'admin';
  readonly name: string;
  readonly token: string;
}

export interface ConsoleServerOptions {
  /** The API the console calls (another origin, as deployed: CORS applies). */
  readonly apiUrl: () => string;
  readonly devUsers: () => readonly DevUser[];
}

/** The security headers of the deployed distribution, for a console calling `apiUrl`. */
export function consoleSecurityHeaders(apiUrl: string): Record<string, string> {
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "font-src 'self'",
      `connect-src 'self' ${new URL(apiUrl).origin}`,
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'strict-origin-when-cross-origin',
  };
}

export class ConsoleServer {
  private server: Server | undefined;
  private files = new Map<string, ConsoleFile>();
  url = '';

  constructor(private readonly options: ConsoleServerOptions) {}

  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    for (const file of await buildConsole()) this.files.set(`/${file.path}`, file);
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, host, () => resolve());
    });
    this.url = `http://${host}:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const headers = consoleSecurityHeaders(this.options.apiUrl());
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', ...headers });
      res.end();
      return;
    }
    const send = (status: number, type: string, body: Buffer | string, cache = 'no-cache') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': cache, ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const file = this.files.get(path === '/' ? '/index.html' : path);
    if (path === '/config.json') {
      const config = {
        apiUrl: this.options.apiUrl(),
        auth: { kind: 'local', usersUrl: '/_local/dev-users' },
      };
      send(200, 'application/json', JSON.stringify(config), 'no-store');
    } else if (path === '/_local/dev-users')
      send(200, 'application/json', JSON.stringify(this.options.devUsers()), 'no-store');
    else if (file) send(200, file.contentType, file.body);
    else send(404, 'text/plain; charset=utf-8', 'Not found');
  }
}
