import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startDynamoDbLocal } from './dynamodb-local';
import { assertPortFree, PidFile, stopProcess, waitFor } from './processes';
import { ensureTable, tableFromServerless } from './table';

const ROOT = resolve(__dirname, '..');
const SERVERLESS = resolve(ROOT, 'node_modules/serverless/bin/serverless.js');
export const DATA_DIR = resolve(ROOT, '.data');

export interface StackOptions {
  httpPort: number;
  lambdaPort: number;
  dynamoDbPort: number;
  /** Keep DynamoDB data under .data/ (survives restarts), or in memory. */
  inMemory: boolean;
  adminApiKey?: string | undefined;
  holdSeconds: number;
  stage?: string;
  /** Where the children's output goes; the terminal when unset. */
  log?: (line: string) => void;
  /** Pid file for crash recovery; none for throwaway stacks (tests). */
  pidFile?: string;
  /** serverless-esbuild's build folder (another one lets two stacks run from one checkout). */
  buildFolder?: string;
}

export interface RunningStack {
  url: string;
  lambdaEndpoint: string;
  dynamoDbEndpoint: string;
  tableName: string;
  adminApiKey: string;
  adminKeyGenerated: boolean;
  /** Settles when any part of the stack exits on its own. */
  exited: Promise<string>;
  stop(): Promise<void>;
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
 * 3. `serverless offline` (HTTP API + Lambda invoke), handlers pointed at
 *    DynamoDB Local through AWS_ENDPOINT_URL_DYNAMODB: the code is the AWS code.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const pidFile = options.pidFile ? new PidFile(options.pidFile) : undefined;
  const reaped = pidFile?.reapStale(/DynamoDBLocal|serverless/) ?? [];
  if (reaped.length > 0) options.log?.(`Stopped leftovers of a previous run: ${reaped.join(', ')}\n`);

  await assertPortFree(options.dynamoDbPort, 'DynamoDB Local', 'DYNAMODB_PORT');
  await assertPortFree(options.httpPort, 'HTTP API', 'PORT');
  await assertPortFree(options.lambdaPort, 'Lambda invoke', 'LAMBDA_PORT');

  const [dynamo, table] = await Promise.all([
    startDynamoDbLocal({
      port: options.dynamoDbPort,
      dataDir: options.inMemory ? null : resolve(DATA_DIR, 'dynamodb'),
      log: options.log,
    }),
    tableFromServerless(options.stage),
  ]);
  const children: ChildProcess[] = [dynamo.process];
  const stopAll = async () => {
    await Promise.all(children.map((child) => stopProcess(child)));
    pidFile?.remove();
  };

  try {
    pidFile?.write({ dynamodb: dynamo.process.pid });
    await ensureTable(dynamo.endpoint, table);

    const admin = adminKey(options);
    const offline = spawn(
      process.execPath,
      [SERVERLESS, 'offline', 'start', '--stage', options.stage ?? 'dev', '--httpPort', String(options.httpPort), '--lambdaPort', String(options.lambdaPort)],
      {
        cwd: ROOT,
        detached: true,
        stdio: options.log ? 'pipe' : 'inherit',
        env: {
          ...process.env,
          ADMIN_API_KEY: admin.key,
          HOLD_SECONDS: String(options.holdSeconds),
          AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
          AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
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

    const exited = new Promise<string>((resolveExit) => {
      dynamo.process.once('exit', (code) => resolveExit(`DynamoDB Local exited (code ${code})`));
      offline.once('exit', (code) => resolveExit(`serverless offline exited (code ${code})`));
    });

    return {
      url,
      lambdaEndpoint: `http://localhost:${options.lambdaPort}`,
      dynamoDbEndpoint: dynamo.endpoint,
      tableName: table.TableName!,
      adminApiKey: admin.key,
      adminKeyGenerated: admin.generated,
      exited,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
