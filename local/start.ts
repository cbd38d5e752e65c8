/**
 * `npm start [-- --client acme --fresh --time-scale 60 --port 3000]`: the whole pipeline offline.
 */
import { parseArgs } from 'node:util';
import { LocalRuntime } from './runtime';
import { LeadStory } from './story';

const { values } = parseArgs({
  options: {
    client: { type: 'string', default: 'example' },
    fresh: { type: 'boolean', default: false },
    'time-scale': { type: 'string', default: '60' },
    port: { type: 'string', default: '3000' },
    'console-port': { type: 'string', default: '3001' },
    'no-throttle': { type: 'boolean', default: false },
  },
});

const timeScale = Number(values['time-scale']);
if (!Number.isFinite(timeScale) || timeScale <= 0) {
  console.error('--time-scale must be a positive number (60 = one minute passes in a second)');
  process.exit(2);
}

const started = performance.now();
const runtime = new LocalRuntime({
  client: values.client,
  fresh: values.fresh,
  timeScale,
  apiPort: Number(values.port),
  consolePort: Number(values['console-port']),
  throttle: !values['no-throttle'],
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping…`);
  await runtime.stop();
  console.log('stopped; data kept in .local/ (start with --fresh to wipe it)');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

try {
  console.log(`Starting the lead pipeline for client "${values.client}" (synthesizing the CDK app)…`);
  const endpoints = await runtime.start();
  const story = new LeadStory(runtime.config, (line) => console.log(line));
  runtime.bus.subscribe((event) => story.onEvent(event));
  runtime.aws.onRecord((kind, record) => story.onAlert(kind, record));
  runtime.stepFunctions.onFinished((execution) => story.onExecution(execution));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`
Lead pipeline for ${runtime.config.client.displayName} is up in ${seconds}s (time scale ×${timeScale}).

  Console             ${endpoints.consoleUrl}  (sign in as the dev rep, manager or admin)
  API                 ${endpoints.apiUrl}
  Capture endpoint    POST ${endpoints.captureUrl}
  Demo landing page   ${endpoints.landingPageUrl}
  SES inbox           ${endpoints.sesInboxUrl}
  Slack recorder      ${endpoints.slackRecorderUrl}
  SNS recorder        ${endpoints.snsRecorderUrl}
  SMS recorder        ${endpoints.smsRecorderUrl}  (reply STOP to opt a number out)
  Dead letters        ${endpoints.deadLettersUrl}
  DynamoDB Local      ${endpoints.dynamoDbUrl}  (tables: ${Object.values(endpoints.tables).join(', ')})

Dev tokens (Authorization: Bearer …):
  rep      ${endpoints.tokens.rep}
  manager  ${endpoints.tokens.manager}
  admin    ${endpoints.tokens.admin}

Everything above is also in .local/endpoints.json. Send a day of demo traffic with: npm run demo
Ctrl-C stops everything.
`);
} catch (error) {
  // Stopped while starting (Ctrl-C during the synth): that is what failed the start, not an error.
  if (!stopping) {
    console.error(`\nCould not start: ${error instanceof Error ? error.message : String(error)}`);
    await runtime.stop();
    process.exit(1);
  }
}
