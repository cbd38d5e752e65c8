import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * SDK clients shared by every adapter in one function instance: built once at module scope
 * (connection reuse across invocations) and pointed at local emulators by the standard
 * `AWS_ENDPOINT_URL_<SERVICE>` variables, so the same code runs in Lambda and offline.
 */
let documentClient: DynamoDBDocumentClient | undefined;

/** The shared DynamoDB document client (undefined attributes removed, class instances as maps). */
export function dynamoDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 4 }), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
  return documentClient;
}
