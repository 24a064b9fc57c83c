import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startDynamoDbLocal } from './dynamodb-local';
import { type LikeAwsDynamoDb, startLikeAwsDynamoDb } from './like-aws/dynamodb';
import { describeLikeAws, type LikeAwsSettings } from './like-aws/settings';
import { type LikeAwsStepFunctions, startLikeAwsStepFunctions } from './like-aws/stepfunctions';
import { assertPortFree, freePort, PidFile, stopProcess, waitFor } from './processes';
import { functionNamesOf, readService, stateMachinesOf, tableOf } from './service';
import { startLocalSqs } from './sqs';
import { lambdaInvoker } from './event-sources';
import { createQueues, type LocalSqsMappings, queueResourcesOf, sqsMappingsOf, startSqsMappings } from './sqs-events';
import { LOCAL_REGION, startLocalStepFunctions } from './stepfunctions';
import { type LocalStreams, startLocalStreams, streamMappingsOf } from './streams';
import { ensureTable } from './table';

const ROOT = resolve(__dirname, '..');
const SERVERLESS = resolve(ROOT, 'node_modules/serverless/bin/serverless.js');
/** Gives each local HTTP request its own request id, as API Gateway does (see the file). */
const REQUEST_IDS = resolve(__dirname, 'api-gateway-request-ids.mjs');
export const DATA_DIR = resolve(ROOT, '.data');

export interface StackOptions {
  httpPort: number;
  lambdaPort: number;
  dynamoDbPort: number;
  stepFunctionsPort: number;
  /** The local SQS endpoint's port; 0: a free one. */
  sqsPort: number;
  paymentLatencyMs?: number | undefined;
  /** Keep DynamoDB data under .data/ (survives restarts), or in memory. */
  inMemory: boolean;
  /** Keep DynamoDB data here instead of .data/dynamodb (tests that restart DynamoDB Local). */
  dataDir?: string | undefined;
  adminApiKey?: string | undefined;
  holdSeconds: number;
  /** How long a waiting-list offer holds its tickets (WAITLIST_OFFER_SECONDS); unset: as long as the hold. */
  waitlistOfferSeconds?: number | undefined;
  stage?: string;
  /** Where the children's output goes; the terminal when unset. */
  log?: (line: string) => void;
  /** Pid file for crash recovery; none for throwaway stacks (tests). */
  pidFile?: string;
  /** serverless-esbuild's build folder (another one lets two stacks run from one checkout). */
  buildFolder?: string;
  /**
   * Run like AWS (localstack/like-aws): DynamoDB Local and Step Functions move to
   * internal ports, and the models take theirs, so that the functions, the AWS CLI
   * and the printed endpoints all meet what AWS would do.
   */
  likeAws?: LikeAwsSettings | undefined;
}

export interface RunningStack {
  url: string;
  lambdaEndpoint: string;
  dynamoDbEndpoint: string;
  stepFunctionsEndpoint: string;
  sqsEndpoint: string;
  /** The URL of each queue of serverless.yml, by its resource name (WebhookDeliveryQueue). */
  queueUrls: Record<string, string>;
  holdStateMachineArn: string;
  tableName: string;
  adminApiKey: string;
  adminKeyGenerated: boolean;
  /** Settles when any part of the stack exits on its own. */
  exited: Promise<string>;
  stop(): Promise<void>;
  /**
   * For fault tests: stop and start again DynamoDB Local (same port, same data)
   * and the Step Functions endpoint (its running executions are lost, as in a crash).
   */
  faults: {
    stopDynamoDb(): Promise<void>;
    startDynamoDb(): Promise<void>;
    stopStepFunctions(): Promise<void>;
    startStepFunctions(): Promise<void>;
  };
  /** The table's stream, delivered to the functions serverless.yml maps onto it (localstack/streams.ts). */
  streams: LocalStreams;
  /** The queues delivered to the functions serverless.yml maps onto them (localstack/sqs-events.ts). */
  sqsMappings: LocalSqsMappings;
  /** The models in front of DynamoDB Local and Step Functions, when running like AWS. */
  likeAws?: { dynamoDb: LikeAwsDynamoDb; stepFunctions: LikeAwsStepFunctions; description: string };
}

/**
 * The admin key: the ADMIN_API_KEY setting, or one generated on first start and
 * kept in .data/ (in memory: a new one per run), so that a restart keeps it.
 */
function adminKey(options: StackOptions): { key: string; generated: boolean } {
  if (options.adminApiKey) return { key: options.adminApiKey, generated: false };
  const file = resolve(DATA_DIR, 'admin-api-key');
  if (!options.inMemory && existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), generated: true };
  const key = `adm_${randomBytes(24).toString('base64url')}`;
  if (!options.inMemory) {
    mkdirSync(DATA_DIR, { recursive: true });
    writeFileSync(file, key, { mode: 0o600 });
  }
  return { key, generated: true };
}

function pipeOutput(child: ChildProcess, log: ((line: string) => void) | undefined): void {
  if (!log) return;
  child.stdout?.on('data', (chunk: Buffer) => log(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => log(chunk.toString()));
}

/**
 * The whole stack on one machine, no Docker:
 * 1. DynamoDB Local (AWS's jar, -sharedDb) on its port, data in .data/dynamodb;
 * 2. the table, created from serverless.yml when missing;
 * 3. the local Step Functions endpoint, running the state machines of
 *    serverless.yml, its Tasks invoking the Lambdas through serverless-offline;
 * 4. `serverless offline` (HTTP API, Lambda invoke, and the `schedule` events: the
 *    expiry sweeper every minute), handlers pointed at DynamoDB Local and Step
 *    Functions through AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SFN: the code
 *    is the AWS code;
 * 5. the table's stream delivered to the functions of serverless.yml's `stream`
 *    events, as Lambda's event source mappings deliver it (localstack/streams.ts),
 *    read from DynamoDB Local itself: the stream is the platform's, not a call
 *    the model of AWS should see;
 * 6. the local SQS endpoint (localstack/sqs.ts) with serverless.yml's queues,
 *    the handlers pointed at it through AWS_ENDPOINT_URL_SQS, and its queues
 *    delivered to the functions of the `sqs` events (localstack/sqs-events.ts).
 * With `likeAws`, the models of localstack/like-aws stand in front of DynamoDB Local
 * and Step Functions, on the ports those would have had.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const pidFile = options.pidFile ? new PidFile(options.pidFile) : undefined;
  const reaped = (await pidFile?.reapStale(/DynamoDBLocal|serverless/)) ?? [];
  const say = options.log ?? ((line: string) => process.stdout.write(line));
  if (reaped.length > 0) say(`Stopped leftovers of a previous run: ${reaped.join(', ')}\n`);

  await assertPortFree(options.dynamoDbPort, 'DynamoDB Local', 'DYNAMODB_PORT');
  await assertPortFree(options.httpPort, 'HTTP API', 'PORT');
  await assertPortFree(options.lambdaPort, 'Lambda invoke', 'LAMBDA_PORT');
  await assertPortFree(options.stepFunctionsPort, 'Step Functions', 'SFN_PORT');
  if (options.sqsPort !== 0) await assertPortFree(options.sqsPort, 'SQS', 'SQS_PORT');

  const likeAws = options.likeAws;
  const dynamoOptions = {
    port: likeAws ? await freePort() : options.dynamoDbPort,
    dataDir: options.inMemory ? null : (options.dataDir ?? resolve(DATA_DIR, 'dynamodb')),
    log: options.log,
  };
  const [firstDynamo, service] = await Promise.all([startDynamoDbLocal(dynamoOptions), readService(options.stage)]);
  let dynamo = firstDynamo;
  const table = tableOf(service);
  const children: ChildProcess[] = [];
  const stoppers: (() => unknown)[] = [];
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop();
    await Promise.all([...children.map((child) => stopProcess(child)), dynamo.stop()]);
    pidFile?.remove();
  };

  try {
    pidFile?.write({ dynamodb: dynamo.process.pid });
    await ensureTable(dynamo.endpoint, table, say);
    const dynamoModel = likeAws
      ? await startLikeAwsDynamoDb({ port: options.dynamoDbPort, upstream: dynamo.endpoint, table, settings: likeAws, log: say })
      : undefined;
    if (dynamoModel) stoppers.push(() => dynamoModel.stop());
    const dynamoDbEndpoint = dynamoModel?.endpoint ?? dynamo.endpoint;

    const lambdaEndpoint = `http://127.0.0.1:${options.lambdaPort}`;
    const stepFunctionsPort = likeAws ? await freePort() : options.stepFunctionsPort;
    const startStepFunctions = () =>
      startLocalStepFunctions({
        port: stepFunctionsPort,
        machines: stateMachinesOf(service),
        functionNames: functionNamesOf(service),
        lambdaEndpoint,
        log: options.log ?? ((line) => process.stdout.write(line)),
      });
    let stepFunctions: Awaited<ReturnType<typeof startStepFunctions>> | undefined = await startStepFunctions();
    stoppers.push(() => stepFunctions?.stop());
    const [holdMachine] = stateMachinesOf(service);
    if (!holdMachine) throw new Error('serverless.yml defines no state machine');
    const holdStateMachineArn = stepFunctions.stateMachineArn(holdMachine.name);
    const stepFunctionsModel = likeAws
      ? await startLikeAwsStepFunctions({ port: options.stepFunctionsPort, upstream: stepFunctions.endpoint, settings: likeAws, log: say })
      : undefined;
    if (stepFunctionsModel) stoppers.push(() => stepFunctionsModel.stop());
    const stepFunctionsEndpoint = stepFunctionsModel?.endpoint ?? stepFunctions.endpoint;

    const mappings = sqsMappingsOf(service);
    const sqs = await startLocalSqs({ port: options.sqsPort, log: say });
    stoppers.push(() => sqs.stop());
    const queues = await createQueues(sqs.endpoint, queueResourcesOf(service));
    const webhookQueue = queues.WebhookDeliveryQueue;
    if (!webhookQueue) throw new Error('serverless.yml defines no WebhookDeliveryQueue (the functions read its URL from WEBHOOK_QUEUE_URL)');

    const admin = adminKey(options);
    const offline = spawn(
      process.execPath,
      ['--import', pathToFileURL(REQUEST_IDS).href, SERVERLESS, 'offline', 'start', '--stage', options.stage ?? 'dev', '--httpPort', String(options.httpPort), '--lambdaPort', String(options.lambdaPort)],
      {
        cwd: ROOT,
        detached: true,
        stdio: options.log ? 'pipe' : 'inherit',
        env: {
          ...process.env,
          ADMIN_API_KEY: admin.key,
          HOLD_SECONDS: String(options.holdSeconds),
          ...(options.waitlistOfferSeconds !== undefined ? { WAITLIST_OFFER_SECONDS: String(options.waitlistOfferSeconds) } : {}),
          AWS_ENDPOINT_URL_DYNAMODB: dynamoDbEndpoint,
          AWS_ENDPOINT_URL_SFN: stepFunctionsEndpoint,
          AWS_ENDPOINT_URL_SQS: sqs.endpoint,
          WEBHOOK_QUEUE_URL: webhookQueue.url,
          // The local stack's webhook receivers run on loopback; deployed stages refuse private addresses.
          WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
          HOLD_STATE_MACHINE_ARN: holdStateMachineArn,
          ...(options.paymentLatencyMs !== undefined ? { PAYMENT_LATENCY_MS: String(options.paymentLatencyMs) } : {}),
          AWS_REGION: LOCAL_REGION,
          AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
          AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
          SLS_TELEMETRY_DISABLED: '1',
          SLS_NOTIFICATIONS_MODE: 'off',
          // Lambda runs Node 22; the SDK's notice about this machine's Node 20 is noise here.
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          ...(options.buildFolder ? { ESBUILD_WORK_FOLDER: options.buildFolder } : {}),
        },
      },
    );
    children.push(offline);
    pidFile?.write({ dynamodb: dynamo.process.pid, offline: offline.pid });
    pipeOutput(offline, options.log);

    const url = `http://localhost:${options.httpPort}`;
    await waitFor('serverless offline', async () => (await fetch(`${url}/health`)).ok, 120_000, offline);

    // DynamoDB Local's own endpoint (a restart by the fault tests keeps its port):
    // the readers take their positions again after it.
    const streams = await startLocalStreams({
      dynamoDbEndpoint: dynamo.endpoint,
      tableName: table.TableName!,
      mappings: streamMappingsOf(service),
      lambdaEndpoint,
      log: say,
    });
    stoppers.push(() => streams.stop());

    const invoker = lambdaInvoker(lambdaEndpoint);
    const sqsMappings = await startSqsMappings({ sqsEndpoint: sqs.endpoint, mappings, invoke: invoker.invoke, log: say });
    stoppers.push(async () => {
      await sqsMappings.stop();
      invoker.close();
    });

    const exited = new Promise<string>((resolveExit) => {
      dynamo.process.once('exit', (code) => resolveExit(`DynamoDB Local exited (code ${code})`));
      offline.once('exit', (code: number | null) => resolveExit(`serverless offline exited (code ${code})`));
    });

    return {
      url,
      lambdaEndpoint,
      dynamoDbEndpoint,
      stepFunctionsEndpoint,
      sqsEndpoint: sqs.endpoint,
      queueUrls: Object.fromEntries(Object.entries(queues).map(([id, queue]) => [id, queue.url])),
      holdStateMachineArn,
      tableName: table.TableName!,
      adminApiKey: admin.key,
      adminKeyGenerated: admin.generated,
      exited,
      streams,
      sqsMappings,
      stop: stopAll,
      faults: {
        stopDynamoDb: () => dynamo.stop(),
        async startDynamoDb() {
          dynamo = await startDynamoDbLocal(dynamoOptions);
        },
        async stopStepFunctions() {
          await stepFunctions?.stop();
          stepFunctions = undefined;
        },
        async startStepFunctions() {
          stepFunctions ??= await startStepFunctions();
        },
      },
      ...(likeAws && dynamoModel && stepFunctionsModel
        ? { likeAws: { dynamoDb: dynamoModel, stepFunctions: stepFunctionsModel, description: describeLikeAws(likeAws) } }
        : {}),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
