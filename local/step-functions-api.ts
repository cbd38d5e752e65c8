import type { ServerResponse } from 'node:http';
import { send } from './http-answers';
import { ExecutionAlreadyExistsError, type LocalStepFunctions } from './step-functions';

/**
 * The Step Functions JSON 1.0 API over the local state machines: StartExecution, StopExecution and
 * DescribeExecution, with the errors the SDK expects (`ExecutionAlreadyExists`, invalid ARNs).
 */
export function stepFunctionsApi(
  stepFunctions: LocalStepFunctions,
  operation: string,
  input: Record<string, unknown>,
  res: ServerResponse,
) {
  const type = 'application/x-amz-json-1.0';
  try {
    switch (operation) {
      case 'StartExecution': {
        const record = stepFunctions.start(
          String(input.stateMachineArn),
          JSON.parse(String(input.input ?? '{}')),
          input.name ? String(input.name) : undefined,
        );
        return send(
          res,
          200,
          { executionArn: record.executionArn, startDate: record.startDate.getTime() / 1000 },
          type,
        );
      }
      case 'StopExecution': {
        const record = stepFunctions.stop(
          String(input.executionArn),
          input.error as string | undefined,
          input.cause as string | undefined,
        );
        return send(res, 200, { stopDate: (record.stopDate ?? new Date()).getTime() / 1000 }, type);
      }
      case 'DescribeExecution': {
        const record = stepFunctions.describe(String(input.executionArn));
        return send(
          res,
          200,
          {
            executionArn: record.executionArn,
            stateMachineArn: record.stateMachineArn,
            name: record.name,
            status: record.status,
            startDate: record.startDate.getTime() / 1000,
            ...(record.stopDate ? { stopDate: record.stopDate.getTime() / 1000 } : {}),
            input: JSON.stringify(record.input),
            ...(record.output !== undefined ? { output: JSON.stringify(record.output) } : {}),
            ...(record.error !== undefined ? { error: record.error } : {}),
            ...(record.cause !== undefined ? { cause: record.cause } : {}),
          },
          type,
        );
      }
      default:
        return send(res, 400, { __type: 'UnknownOperationException', message: operation }, type);
    }
  } catch (error) {
    if (error instanceof ExecutionAlreadyExistsError) {
      return send(res, 400, { __type: 'ExecutionAlreadyExists', message: error.message }, type);
    }
    const message = (error as Error).message;
    const code = message.split(':')[0] ?? 'InvalidArn';
    return send(res, 400, { __type: code, message }, type);
  }
}
