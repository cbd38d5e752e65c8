/**
 * CDK entry point: `npx cdk synth -c client=<name>`. The only place that reads the `client`
 * context; everything else receives the validated config.
 */
import { App } from 'aws-cdk-lib';
import { ClientConfigError } from '../../shared/config/load';
import { APP_CONTEXT, buildApp, listClients } from '../lib/build-app';
import { CLIENTS_DIR } from '../lib/paths';

const app = new App({ context: { ...APP_CONTEXT } });
const clientName: unknown = app.node.tryGetContext('client');

if (typeof clientName !== 'string' || clientName.length === 0) {
  const clients = listClients(CLIENTS_DIR);
  console.error(
    [
      'No client selected. Pass one with -c client=<name>, e.g.',
      `  npx cdk synth -c client=${clients[0] ?? 'example'}`,
      `Clients in ${CLIENTS_DIR}: ${clients.length > 0 ? clients.join(', ') : '(none: copy clients/example.yaml)'}`,
    ].join('\n'),
  );
  process.exit(1);
}

try {
  buildApp({ app, clientName });
} catch (error) {
  if (error instanceof ClientConfigError) {
    // The message already names every bad field; a stack trace would only bury it.
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
