/**
 * `npm start`: the whole stack on this machine. Settings (environment):
 * PORT (3000), LAMBDA_PORT (3002), DYNAMODB_PORT (8000), SFN_PORT (8083), SQS_PORT (9324),
 * ADMIN_API_KEY (generated when unset), HOLD_SECONDS (900), PAYMENT_LATENCY_MS (0). `npm start -- --in-memory` keeps no data.
 * `npm start -- --like-aws` runs it like AWS, with the LIKE_AWS_* settings (localstack/like-aws/settings.ts).
 */
import { resolve } from 'node:path';
import { likeAwsSettings } from './like-aws/settings';
import { DATA_DIR, startStack } from './stack';

function port(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65535) {
    throw new Error(`${name} must be a port number, not ${JSON.stringify(value)}`);
  }
  return parsed;
}

function positive(name: string): number {
  const parsed = Number(process.env[name]);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name} must be a whole number, not ${JSON.stringify(process.env[name])}`);
  return parsed;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--in-memory' && a !== '--like-aws');
  if (unknown.length > 0) throw new Error(`Unknown option(s): ${unknown.join(' ')}. The options are --in-memory and --like-aws.`);
  const inMemory = args.includes('--in-memory');
  const likeAws = args.includes('--like-aws') ? likeAwsSettings(process.env) : undefined;
  const holdSeconds = Number(process.env.HOLD_SECONDS ?? 900);
  if (!Number.isInteger(holdSeconds) || holdSeconds < 1) throw new Error('HOLD_SECONDS must be a whole number of seconds');

  const stack = await startStack({
    httpPort: port('PORT', 3000),
    lambdaPort: port('LAMBDA_PORT', 3002),
    dynamoDbPort: port('DYNAMODB_PORT', 8000),
    stepFunctionsPort: port('SFN_PORT', 8083),
    sqsPort: port('SQS_PORT', 9324),
    paymentLatencyMs: process.env.PAYMENT_LATENCY_MS ? positive('PAYMENT_LATENCY_MS') : undefined,
    inMemory,
    adminApiKey: process.env.ADMIN_API_KEY,
    holdSeconds,
    pidFile: resolve(DATA_DIR, 'stack.pids'),
    likeAws,
  });

  let stopping = false;
  const stop = async (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${why}: stopping the stack...`);
    await stack.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('Ctrl-C', 0));
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  process.on('SIGHUP', () => void stop('SIGHUP', 0));
  void stack.exited.then((why) => stop(why, 1));

  console.log(`
Ticket booking API is running${inMemory ? ' (in memory: data is gone when it stops)' : ''}.

  HTTP API        ${stack.url}            (try: curl ${stack.url}/health)
  OpenAPI         ${stack.url}/openapi.json
  Lambda invoke   ${stack.lambdaEndpoint}
  Step Functions  ${stack.stepFunctionsEndpoint}   ${stack.holdStateMachineArn}
  DynamoDB Local  ${stack.dynamoDbEndpoint}   table ${stack.tableName}${inMemory ? '' : `, data in ${resolve(DATA_DIR, 'dynamodb')}`}
  SQS             ${stack.sqsEndpoint}   (in memory)${Object.values(stack.queueUrls)
    .map((url) => `\n                  ${url}`)
    .join('')}
  Admin API key   ${stack.adminApiKey}${stack.adminKeyGenerated ? '   (generated: set ADMIN_API_KEY to choose one)' : ''}
  Hold            ${holdSeconds} s${
    stack.likeAws
      ? `
  Like AWS        ${stack.likeAws.description}
                  (the DynamoDB and Step Functions endpoints above are the model's; what it counted: ${stack.dynamoDbEndpoint}/__like-aws/stats, ${stack.stepFunctionsEndpoint}/__like-aws/stats)`
      : ''
  }

Ctrl-C stops everything.
`);
}

main().catch((error: Error) => {
  console.error(`npm start failed: ${error.message}`);
  process.exit(1);
});
