import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

/**
 * A local AWS Step Functions endpoint: the JSON 1.0 protocol of the real service,
 * enough for the SDK and the AWS CLI (StartExecution, DescribeExecution,
 * StopExecution, ListExecutions, ListStateMachines, DescribeStateMachine). It runs
 * the state machine definitions read from serverless.yml with aws-local-stepfunctions,
 * and its Task states invoke the Lambdas through serverless-offline's invoke endpoint.
 * Executions live in memory: a restarted stack forgets them, and the sweeper ends
 * their holds.
 */

// aws-local-stepfunctions uses Promise.withResolvers (ES2024, Node 22); Node 20 lacks it.
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (value: T) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

export interface StateMachineSource {
  name: string;
  definition: Record<string, unknown>;
}

export interface LocalStepFunctionsOptions {
  port: number;
  machines: StateMachineSource[];
  /** serverless.yml function key -> deployed name (`ticket-booking-dev-expireBooking`). */
  functionNames: Record<string, string>;
  lambdaEndpoint: string;
  log?: (line: string) => void;
}

export interface LocalStepFunctions {
  endpoint: string;
  stateMachineArn(name: string): string;
  stop(): Promise<void>;
}

type Status = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

interface Execution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  status: Status;
  startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  abort?: () => void;
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const machineArn = (name: string) => `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
const executionArn = (machine: string, name: string) => `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${machine}:${name}`;
const lambdaArn = (name: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}`;
const seconds = (ms: number) => ms / 1000;

/** `{ "Fn::GetAtt": [fn, "Arn"] }` (serverless-step-functions' way to name a Lambda) becomes its local ARN. */
function resolveDefinition(value: unknown, functionNames: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveDefinition(v, functionNames));
  if (value && typeof value === 'object') {
    const getAtt = (value as Record<string, unknown>)['Fn::GetAtt'];
    if (Array.isArray(getAtt) && getAtt[1] === 'Arn' && typeof getAtt[0] === 'string') {
      const name = functionNames[getAtt[0]];
      if (!name) throw new Error(`State machine refers to unknown function ${getAtt[0]}`);
      return lambdaArn(name);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveDefinition(v, functionNames)]));
  }
  return value;
}

export async function startLocalStepFunctions(options: LocalStepFunctionsOptions): Promise<LocalStepFunctions> {
  const { StateMachine, ExecutionAbortedError } = await import('aws-local-stepfunctions');
  const lambda = new LambdaClient({
    endpoint: options.lambdaEndpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const log = options.log ?? (() => undefined);

  const machines = new Map(
    options.machines.map((source) => {
      const definition = resolveDefinition(source.definition, options.functionNames) as Record<string, unknown>;
      // Every Task state invokes its Lambda through the local invoke endpoint.
      const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
      for (const [stateName, state] of Object.entries(definition.States as Record<string, { Type: string; Resource?: string }>)) {
        if (state.Type !== 'Task' || !state.Resource?.startsWith('arn:aws:lambda:')) continue;
        const functionName = state.Resource.split(':').pop()!;
        handlers[stateName] = async (input) => {
          const result = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(input)) }));
          const payload = result.Payload ? Buffer.from(result.Payload).toString('utf8') : 'null';
          if (result.FunctionError) {
            const parsed = JSON.parse(payload) as { errorType?: string; errorMessage?: string };
            const error = new Error(parsed.errorMessage ?? payload);
            error.name = parsed.errorType ?? 'Lambda.Unknown';
            throw error;
          }
          return JSON.parse(payload) as unknown;
        };
      }
      const arn = machineArn(source.name);
      return [
        arn,
        { name: source.name, arn, definition, handlers, machine: new StateMachine(definition as never), createdAt: Date.now() },
      ] as const;
    }),
  );
  const executions = new Map<string, Execution>();

  function machine(arn: unknown) {
    const found = typeof arn === 'string' ? machines.get(arn) : undefined;
    if (!found) throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(arn)}'`);
    return found;
  }

  function execution(arn: unknown): Execution {
    const found = typeof arn === 'string' ? executions.get(arn) : undefined;
    if (!found) throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(arn)}'`);
    return found;
  }

  const summary = (e: Execution) => ({
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: seconds(e.startDate),
    ...(e.stopDate ? { stopDate: seconds(e.stopDate) } : {}),
  });

  function page<T>(items: T[], body: { maxResults?: number; nextToken?: string }) {
    const start = body.nextToken ? Number(Buffer.from(body.nextToken, 'base64').toString()) : 0;
    const size = body.maxResults && body.maxResults > 0 ? Math.min(body.maxResults, 1000) : 100;
    const slice = items.slice(start, start + size);
    const next = start + size < items.length ? Buffer.from(String(start + size)).toString('base64') : undefined;
    return { slice, next };
  }

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    StartExecution(body) {
      const m = machine(body.stateMachineArn);
      const name = typeof body.name === 'string' ? body.name : randomUUID();
      if (!/^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/.test(name)) throw new ApiError('InvalidName', `Invalid Name: '${name}'`);
      const input = typeof body.input === 'string' ? body.input : '{}';
      let parsed: unknown;
      try {
        parsed = JSON.parse(input);
      } catch {
        throw new ApiError('InvalidExecutionInput', 'Invalid execution input: not JSON');
      }
      const arn = executionArn(m.name, name);
      const existing = executions.get(arn);
      if (existing) {
        // As on AWS: the same name and input of a running execution is the same start.
        if (existing.status === 'RUNNING' && existing.input === input) return { executionArn: arn, startDate: seconds(existing.startDate) };
        throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
      }
      const record: Execution = { executionArn: arn, stateMachineArn: m.arn, name, input, status: 'RUNNING', startDate: Date.now() };
      const run = m.machine.run(parsed as never, {
        overrides: { taskResourceLocalHandlers: m.handlers as never },
        context: { Execution: { Id: arn, Name: name, Input: parsed, StartTime: new Date().toISOString() } } as never,
      });
      record.abort = run.abort;
      executions.set(arn, record);
      run.result.then(
        (output) => {
          Object.assign(record, { status: 'SUCCEEDED', stopDate: Date.now(), output: JSON.stringify(output) });
          log(`[stepfunctions] ${name} SUCCEEDED ${record.output}\n`);
        },
        (error: Error & { cause?: Error }) => {
          if (error instanceof ExecutionAbortedError) return; // StopExecution recorded it
          const cause = error.cause ?? error;
          Object.assign(record, { status: 'FAILED', stopDate: Date.now(), error: cause.name, cause: cause.message });
          log(`[stepfunctions] ${name} FAILED ${cause.name}: ${cause.message}\n`);
        },
      );
      log(`[stepfunctions] started ${name}\n`);
      return { executionArn: arn, startDate: seconds(record.startDate) };
    },

    DescribeExecution(body) {
      const e = execution(body.executionArn);
      return {
        ...summary(e),
        input: e.input,
        ...(e.output !== undefined ? { output: e.output } : {}),
        ...(e.error !== undefined ? { error: e.error, cause: e.cause } : {}),
      };
    },

    StopExecution(body) {
      const e = execution(body.executionArn);
      if (e.status === 'RUNNING') {
        Object.assign(e, {
          status: 'ABORTED',
          stopDate: Date.now(),
          ...(typeof body.error === 'string' ? { error: body.error } : {}),
          ...(typeof body.cause === 'string' ? { cause: body.cause } : {}),
        });
        e.abort?.();
      }
      return { stopDate: seconds(e.stopDate ?? Date.now()) };
    },

    ListExecutions(body) {
      const m = machine(body.stateMachineArn);
      const all = [...executions.values()]
        .filter((e) => e.stateMachineArn === m.arn && (!body.statusFilter || e.status === body.statusFilter))
        .sort((a, b) => b.startDate - a.startDate);
      const { slice, next } = page(all, body as never);
      return { executions: slice.map(summary), ...(next ? { nextToken: next } : {}) };
    },

    ListStateMachines(body) {
      const { slice, next } = page([...machines.values()], body as never);
      return {
        stateMachines: slice.map((m) => ({ stateMachineArn: m.arn, name: m.name, type: 'STANDARD', creationDate: seconds(m.createdAt) })),
        ...(next ? { nextToken: next } : {}),
      };
    },

    DescribeStateMachine(body) {
      const m = machine(body.stateMachineArn);
      return {
        stateMachineArn: m.arn,
        name: m.name,
        status: 'ACTIVE',
        type: 'STANDARD',
        definition: JSON.stringify(m.definition),
        roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local-step-functions`,
        creationDate: seconds(m.createdAt),
      };
    },
  };

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = operations[target.replace(/^AWSStepFunctions\./, '')];
      if (req.method !== 'POST' || !operation) throw new ApiError('UnknownOperationException', `Unsupported operation: ${target || req.method}`);
      const text = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown>;
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        throw new ApiError('SerializationException', 'Request body is not JSON');
      }
      reply(res, 200, operation(body));
    } catch (error) {
      if (error instanceof ApiError) reply(res, error.status, { __type: error.type, message: error.message });
      else reply(res, 500, { __type: 'InternalFailure', message: (error as Error).message });
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });

  return {
    endpoint: `http://127.0.0.1:${options.port}`,
    stateMachineArn: machineArn,
    async stop() {
      for (const e of executions.values()) if (e.status === 'RUNNING') e.abort?.();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      lambda.destroy();
    },
  };
}
