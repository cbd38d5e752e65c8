import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { SLACK_ACTIONS, slackSignature } from '../shared/domain/slack-actions';
import type { LocalEventBus, PutEventsEntry } from './event-bus';
import { errorXml, readBody, send, sendHtml, sendXml, wantsHtml } from './http-answers';
import type { LocalScheduler } from './scheduler';
import { EMULATOR_AUTHORIZATION, type SesEventSimulator } from './ses-events';
import {
  type LocalSlackActions,
  type SlackBlockLike,
  type SlackRecord,
  slackRecorderPage,
} from './slack-recorder';
import type { LocalSmsChannel } from './sms';
import type { LocalStepFunctions } from './step-functions';
import { stepFunctionsApi } from './step-functions-api';

/**
 * One local HTTP endpoint that speaks the wire protocols of the AWS services the functions call
 * besides DynamoDB and SES (which have real emulators): EventBridge and Secrets Manager
 * (JSON 1.1), Step Functions (JSON 1.0), SNS (query protocol, XML answers). The real AWS SDK
 * clients in the bundled handlers reach it through `AWS_ENDPOINT_URL_<SERVICE>`.
 *
 * It also records what SNS and the Slack webhook receive (`POST /slack/...`), and shows it,
 * the bus's events and the dead letters under `GET /_local/...`.
 */

export interface SnsRecord {
  readonly messageId: string;
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly attributes: Record<string, string>;
  readonly at: string;
}

export interface LocalSecret {
  readonly arn: string;
  readonly name: string;
  secretString: string;
}

export interface AwsCallCount {
  [serviceOperation: string]: number;
}

export class LocalAwsEndpoints {
  readonly sns: SnsRecord[] = [];
  readonly slack: SlackRecord[] = [];
  readonly calls: AwsCallCount = {};
  /** Respond 429 to the next N Slack posts (to exercise Retry-After). */
  slackRateLimitNext = 0;
  /** The `Retry-After` (seconds) of those 429 answers. */
  slackRetryAfterSeconds = 1;
  /** Then respond 500 to the next N Slack posts (a Slack outage). */
  slackServerErrorNext = 0;
  /** Fault injection: the share (0..1) of SES sends answered with a 500 `InternalFailure`. */
  sesFailureShare = 0;
  /** Faults injected here, for the chaos report. */
  readonly injected = { slack429: 0, slack500: 0, ses: 0 };
  /**
   * DynamoDB Local, when set: functions' DynamoDB calls pass through here so that every
   * operation is counted (cost per lead, operations per lead), then go to the real emulator.
   */
  dynamoDbUrl: string | undefined;
  private readonly dynamoAgent = new Agent({ keepAlive: true, maxSockets: 64 });
  /** End User Messaging SMS, when set (see LocalSmsChannel). */
  smsChannel: LocalSmsChannel | undefined;
  /** EventBridge Scheduler, when set (`/schedules/...`, see LocalScheduler). */
  scheduler: LocalScheduler | undefined;
  /** SES v2 requests are proxied here (see SesEventSimulator). */
  sesProxy: SesEventSimulator | undefined;
  /** Set once the API listens: the recorder page's buttons press through it. */
  slackActions: LocalSlackActions | undefined;
  private server: Server | undefined;
  private readonly listeners = new Set<(kind: 'sns' | 'slack', record: SnsRecord | SlackRecord) => void>();

  constructor(
    private readonly bus: LocalEventBus,
    private readonly stepFunctions: LocalStepFunctions,
    private readonly secrets: ReadonlyMap<string, LocalSecret>,
    private readonly topics: ReadonlySet<string>,
  ) {}

  onRecord(listener: (kind: 'sns' | 'slack', record: SnsRecord | SlackRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: Error) => {
        if (!res.headersSent) send(res, 500, { __type: 'InternalFailure', message: error.message });
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    return `http://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  count(operation: string): void {
    this.calls[operation] = (this.calls[operation] ?? 0) + 1;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const body = await readBody(req);
    if (url.pathname.startsWith('/slack/')) return this.slackWebhook(url.pathname, body, res);
    if (url.pathname.startsWith('/slack-responses/')) return this.slackResponse(url.pathname, body, res);
    if (req.method === 'POST' && url.pathname === '/_local/slack/press') return this.slackPress(body, res);
    if (req.method === 'GET' && url.pathname === '/_local/slack' && wantsHtml(req))
      return sendHtml(res, slackRecorderPage(this.slack));
    if (url.pathname.startsWith('/v2/email/') || url.pathname.startsWith('/v1/email/'))
      return this.sesApi(req, url, body, res);
    if (req.method === 'POST' && url.pathname.startsWith('/_local/ses/'))
      return this.sesSimulate(url, body, res);
    if (req.method === 'POST' && url.pathname === '/_local/sms/reply') return this.smsReply(req, body, res);
    if (req.method === 'POST' && url.pathname === '/_local/dead-letters/redrive')
      return send(res, 200, await this.bus.redrive());
    if (this.scheduler && url.pathname.startsWith('/schedules/')) {
      const answer = this.scheduler.api(req.method ?? 'GET', url, body);
      this.count(`Scheduler.${answer.operation}`);
      res.setHeader('x-amzn-errortype', answer.headers['x-amzn-errortype'] ?? '');
      return send(res, answer.status, answer.body);
    }
    if (req.method === 'GET' && url.pathname === '/_local/schedules')
      return send(res, 200, { pending: this.scheduler?.pending ?? [], fired: this.scheduler?.fired ?? [] });
    if (req.method === 'GET' && url.pathname.startsWith('/_local/')) return this.inspect(url, res);

    const target = String(req.headers['x-amz-target'] ?? '');
    if (target.startsWith('DynamoDB_') && this.dynamoDbUrl) return this.dynamoProxy(req, target, body, res);
    if (target) {
      const [prefix, operation] = target.split('.');
      const input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
      if (prefix === 'AWSEvents') return this.eventBridge(operation ?? '', input, res);
      if (prefix === 'AWSStepFunctions') return this.stepFunctionsApi(operation ?? '', input, res);
      if (prefix === 'secretsmanager') return this.secretsManager(operation ?? '', input, res);
      if (prefix === 'PinpointSMSVoiceV2' && this.smsChannel) {
        this.count(`SMS.${operation}`);
        const answer = this.smsChannel.api(operation ?? '', input);
        return send(res, answer.status, answer.body, 'application/x-amz-json-1.0');
      }
      return send(res, 400, { __type: 'UnknownOperationException', message: `unsupported ${target}` });
    }
    const form = new URLSearchParams(body);
    if (form.get('Action')) return this.snsApi(form, res);
    send(res, 404, { message: `no local endpoint for ${req.method} ${url.pathname}` });
  }

  private eventBridge(operation: string, input: Record<string, unknown>, res: ServerResponse) {
    this.count(`EventBridge.${operation}`);
    if (operation !== 'PutEvents') return send(res, 400, { __type: 'UnknownOperationException' });
    const entries = (input.Entries as PutEventsEntry[] | undefined) ?? [];
    if (entries.length === 0 || entries.length > 10) {
      return send(res, 400, { __type: 'ValidationException', message: 'Entries must have 1 to 10 items' });
    }
    send(res, 200, this.bus.putEvents(entries), 'application/x-amz-json-1.1');
  }

  private stepFunctionsApi(operation: string, input: Record<string, unknown>, res: ServerResponse) {
    this.count(`StepFunctions.${operation}`);
    stepFunctionsApi(this.stepFunctions, operation, input, res);
  }

  private secretsManager(operation: string, input: Record<string, unknown>, res: ServerResponse) {
    this.count(`SecretsManager.${operation}`);
    const type = 'application/x-amz-json-1.1';
    if (operation !== 'GetSecretValue') return send(res, 400, { __type: 'UnknownOperationException' }, type);
    const secret = this.secrets.get(String(input.SecretId));
    if (!secret) {
      return send(
        res,
        400,
        { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." },
        type,
      );
    }
    send(
      res,
      200,
      {
        ARN: secret.arn,
        Name: secret.name,
        SecretString: secret.secretString,
        VersionId: 'local',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: Date.now() / 1000,
      },
      type,
    );
  }

  private snsApi(form: URLSearchParams, res: ServerResponse) {
    const action = form.get('Action') ?? '';
    this.count(`SNS.${action}`);
    if (action !== 'Publish') return sendXml(res, 400, errorXml('InvalidAction', `unsupported ${action}`));
    const topicArn = form.get('TopicArn') ?? '';
    if (!this.topics.has(topicArn)) return sendXml(res, 404, errorXml('NotFound', 'Topic does not exist'));
    const message = form.get('Message');
    if (!message) return sendXml(res, 400, errorXml('InvalidParameter', 'Message is required'));
    const attributes: Record<string, string> = {};
    for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
      attributes[form.get(`MessageAttributes.entry.${i}.Name`) ?? ''] =
        form.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? '';
    }
    const record: SnsRecord = {
      messageId: randomUUID(),
      topicArn,
      ...(form.get('Subject') ? { subject: form.get('Subject') ?? '' } : {}),
      message,
      attributes,
      at: new Date().toISOString(),
    };
    this.sns.push(record);
    for (const listener of this.listeners) listener('sns', record);
    sendXml(
      res,
      200,
      `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${record.messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
    );
  }

  private dynamoProxy(
    req: IncomingMessage,
    target: string,
    body: string,
    res: ServerResponse,
  ): Promise<void> {
    this.count(`DynamoDB.${target.split('.')[1] ?? target}`);
    const url = new URL(this.dynamoDbUrl ?? '');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined && k !== 'host' && k !== 'content-length')
        headers[k] = Array.isArray(v) ? v.join(',') : v;
    }
    headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        { host: url.hostname, port: url.port, path: '/', method: 'POST', headers, agent: this.dynamoAgent },
        (answer) => {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
          answer.on('end', () => resolve());
          answer.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  private async sesApi(req: IncomingMessage, url: URL, body: string, res: ServerResponse) {
    const ses = this.sesProxy;
    if (!ses) return send(res, 503, { message: 'SES is not running' });
    if (req.method === 'POST' && url.pathname === '/v2/email/outbound-emails') {
      this.count('SESv2.SendEmail');
      if (this.sesFailureShare > 0 && Math.random() < this.sesFailureShare) {
        this.injected.ses++;
        res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalFailure' });
        res.end(JSON.stringify({ message: 'injected fault: SES is failing for now' }));
        return;
      }
      const answer = await ses.sendEmail(body);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
      return;
    }
    // Anything else (templates, account) goes straight to the emulator.
    this.count(`SES.${req.method} ${url.pathname}`);
    const forwarded = await fetch(`${ses.emulatorUrl}${url.pathname}${url.search}`, {
      method: req.method ?? 'GET',
      headers: {
        'content-type': String(req.headers['content-type'] ?? 'application/json'),
        authorization: String(req.headers.authorization ?? EMULATOR_AUTHORIZATION),
      },
      ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
    });
    res.writeHead(forwarded.status, {
      'content-type': forwarded.headers.get('content-type') ?? 'application/json',
    });
    res.end(await forwarded.text());
  }

  /** `POST /_local/ses/open|click` with `{messageId, link?, userAgent?}`: simulate engagement. */
  private sesSimulate(url: URL, body: string, res: ServerResponse) {
    const ses = this.sesProxy;
    const input = (body ? JSON.parse(body) : {}) as { messageId?: string; link?: string; userAgent?: string };
    if (!ses || !input.messageId) return send(res, 400, { message: 'messageId is required' });
    const ok = url.pathname.endsWith('/open')
      ? ses.open(input.messageId, input.userAgent)
      : ses.click(input.messageId, input.link ?? 'https://example.com/', input.userAgent);
    return send(res, ok ? 202 : 404, { ok });
  }

  private slackWebhook(path: string, body: string, res: ServerResponse) {
    this.count('Slack.IncomingWebhook');
    if (this.slackRateLimitNext > 0) {
      this.slackRateLimitNext--;
      this.injected.slack429++;
      res.writeHead(429, {
        'retry-after': String(this.slackRetryAfterSeconds),
        'content-type': 'text/plain',
      });
      res.end('rate_limited');
      return;
    }
    if (this.slackServerErrorNext > 0) {
      this.slackServerErrorNext--;
      this.injected.slack500++;
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal_error');
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('invalid_payload');
      return;
    }
    const record: SlackRecord = { path, body: parsed, at: new Date().toISOString() };
    this.slack.push(record);
    for (const listener of this.listeners) listener('slack', record);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  }

  /** `response_url` posts: `replace_original` replaces the recorded message, ephemeral replies are kept beside it. */
  private slackResponse(path: string, body: string, res: ServerResponse) {
    this.count('Slack.ResponseUrl');
    const index = Number(path.split('/')[3]);
    const record = this.slack[index];
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(body) as Record<string, unknown>;
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('invalid_payload');
      return;
    }
    if (!record) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('expired_url');
      return;
    }
    if (message.response_type === 'ephemeral') record.ephemeral = [...(record.ephemeral ?? []), message];
    else if (message.replace_original === true) record.replacedBy = message;
    for (const listener of this.listeners) listener('slack', record);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  }

  /**
   * Presses a button of a recorded message as a Slack member would: builds the `block_actions`
   * payload Slack sends, signs it (`v0` HMAC of `v0:<timestamp>:<body>`) with the local signing
   * secret, posts it to the API's interactivity route, and answers with the API's status.
   */
  private async slackPress(body: string, res: ServerResponse) {
    const actions = this.slackActions;
    if (!actions) return send(res, 503, { message: 'the API is not listening yet' });
    const input = (body ? JSON.parse(body) : {}) as { record?: number; actionId?: string; userId?: string };
    const record = this.slack[Number(input.record)];
    if (!record || typeof input.userId !== 'string')
      return send(res, 400, {
        message: 'give record (an index of /_local/slack) and userId (a Slack member id)',
      });
    const current = (record.replacedBy ?? record.body) as { text?: string; blocks?: SlackBlockLike[] };
    const button = (current.blocks ?? [])
      .flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []))
      .find((e) => e.action_id === (input.actionId ?? SLACK_ACTIONS.contacted));
    if (!button) return send(res, 409, { message: 'the message has no such button (any more)' });
    const payload = {
      type: 'block_actions',
      user: { id: input.userId, name: input.userId },
      team: { id: 'T000LOCAL' },
      actions: [{ ...button, action_ts: String(Date.now() / 1000) }],
      response_url: `${actions.responseBase}T000LOCAL/${Number(input.record)}/local`,
      message: current,
    };
    const form = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const answer = await fetch(actions.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(actions.signingSecret(), timestamp, form),
      },
      body: form,
    });
    return send(res, 200, {
      status: answer.status,
      body: await answer.text(),
      record: this.slack[Number(input.record)],
    });
  }

  /** `POST /_local/sms/reply` (`from`, `body`; JSON or a form): a reply on the two-way channel. */
  private async smsReply(req: IncomingMessage, body: string, res: ServerResponse) {
    if (!this.smsChannel) return send(res, 404, { message: 'this stack sends no SMS' });
    const json = String(req.headers['content-type'] ?? '').includes('json');
    const input = json
      ? (JSON.parse(body || '{}') as { from?: string; body?: string })
      : Object.fromEntries(new URLSearchParams(body));
    if (!input.from || !input.body) return send(res, 400, { message: 'from and body are required' });
    const record = await this.smsChannel.reply(input.from, input.body);
    if (json) return send(res, 200, record);
    res.writeHead(303, { location: '/_local/sms' });
    res.end();
  }

  private inspect(url: URL, res: ServerResponse) {
    switch (url.pathname) {
      case '/_local/sms': {
        const html = this.smsChannel?.page() ?? '<!doctype html><p>This stack sends no SMS.</p>';
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': Buffer.byteLength(html),
        });
        res.end(html);
        return;
      }
      case '/_local/sms.json':
        return send(res, 200, { sent: this.smsChannel?.sent ?? [], replies: this.smsChannel?.replies ?? [] });
      case '/_local/sns':
        return send(res, 200, this.sns);
      case '/_local/slack':
        return send(res, 200, this.slack);
      case '/_local/dead-letters':
        return send(res, 200, this.bus.deadLetters);
      case '/_local/emails':
        return send(res, 200, this.sesProxy?.sent ?? []);
      case '/_local/calls':
        return send(res, 200, this.calls);
      case '/_local/executions':
        return send(
          res,
          200,
          [...this.stepFunctions.executions.values()].map(({ abort: _abort, ...r }) => r),
        );
      default:
        return send(res, 404, {
          message:
            'try /_local/sns, /_local/slack, /_local/emails, /_local/dead-letters, /_local/executions, /_local/calls',
        });
    }
  }
}
