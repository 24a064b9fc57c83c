import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  type Shard,
  type ShardIteratorType,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import * as z from 'zod';
import { localClient } from './dynamodb-local';
import { type InvocationOutcome, lambdaInvoker, sleepUnless } from './event-sources';
import type { ServiceDefinition } from './service';
import { assertFilterPattern, type FilterPattern, passesFilters } from './streams-filter';
import { LOCAL_REGION } from './stepfunctions';

/*
 * The local event source mappings of the table's stream: what AWS Lambda does
 * with a `stream` event of serverless.yml, done here against DynamoDB Local's own
 * stream (DescribeStream, GetShardIterator, GetRecords), so that the functions
 * meet the stream as they will on AWS:
 *  - every shard is read in order, four times a second, a child shard only once
 *    its parent is read to its end (the lineage DynamoDB keeps across a split or
 *    a roll-over);
 *  - records that match none of the mapping's filterPatterns are dropped;
 *  - the others are delivered in batches of up to batchSize, or of what
 *    batchWindow seconds gathered, one invocation per shard at a time, through
 *    serverless-offline's Lambda invoke endpoint (the handler as deployed);
 *  - a failed invocation is retried, the batch split in two first when
 *    bisectBatchOnFunctionError is set (a split is no retry), up to
 *    maximumRetryAttempts; then its records are let go, as AWS does without an
 *    on-failure destination. The shard waits meanwhile;
 *  - with ReportBatchItemFailures, the records from the first one the function
 *    names on are delivered again, the earlier ones are done.
 * Positions live in memory: a restarted stack starts at `startingPosition` again,
 * and the sweeper ends the holds whose records it did not see. The retries wait
 * 0.5 s, doubling up to 10 s: AWS does not document its own waits.
 */

/** One `stream` event of a function in serverless.yml, as the framework resolves it (`serverless print`). */
const StreamEventSchema = z.object({
  type: z.literal('dynamodb'),
  arn: z.unknown(),
  batchSize: z.number().int().min(1).max(10_000).default(100),
  batchWindow: z.number().int().min(0).max(300).default(0),
  startingPosition: z.enum(['LATEST', 'TRIM_HORIZON']).default('LATEST'),
  maximumRetryAttempts: z.number().int().min(-1).max(10_000).default(-1),
  bisectBatchOnFunctionError: z.boolean().default(false),
  functionResponseType: z.literal('ReportBatchItemFailures').optional(),
  filterPatterns: z.array(z.record(z.string(), z.unknown())).default([]),
  enabled: z.boolean().default(true),
});
const FunctionSchema = z.looseObject({
  name: z.string(),
  events: z.array(z.looseObject({ stream: z.unknown().optional() })).default([]),
});

export interface StreamMapping {
  /** The deployed name, which serverless-offline's invoke endpoint knows it by. */
  functionName: string;
  batchSize: number;
  batchWindowMs: number;
  startingPosition: 'LATEST' | 'TRIM_HORIZON';
  /** -1: until the record leaves the stream (24 h), as on AWS. */
  maximumRetryAttempts: number;
  bisect: boolean;
  reportBatchItemFailures: boolean;
  filterPatterns: FilterPattern[];
}

/** The mappings serverless.yml defines on the table's stream (the service has one table). */
export function streamMappingsOf(service: ServiceDefinition): StreamMapping[] {
  const mappings: StreamMapping[] = [];
  for (const [key, raw] of Object.entries(service.functions)) {
    const fn = FunctionSchema.parse(raw);
    for (const event of fn.events) {
      if (event.stream === undefined) continue;
      const parsed = StreamEventSchema.safeParse(event.stream);
      if (!parsed.success) throw new Error(`serverless.yml, function ${key}: a stream event the local stack cannot run: ${parsed.error.message}`);
      const stream = parsed.data;
      if (!stream.enabled) continue;
      stream.filterPatterns.forEach((pattern) => assertFilterPattern(pattern));
      mappings.push({
        functionName: fn.name,
        batchSize: stream.batchSize,
        batchWindowMs: stream.batchWindow * 1000,
        startingPosition: stream.startingPosition,
        maximumRetryAttempts: stream.maximumRetryAttempts,
        bisect: stream.bisectBatchOnFunctionError,
        reportBatchItemFailures: stream.functionResponseType === 'ReportBatchItemFailures',
        filterPatterns: stream.filterPatterns as FilterPattern[],
      });
    }
  }
  return mappings;
}

/** A stream record as Lambda hands it to a function (the shape of `DynamoDBRecord` in @types/aws-lambda). */
export interface LambdaStreamRecord {
  eventID?: string;
  eventName?: string;
  eventVersion?: string;
  eventSource: 'aws:dynamodb';
  awsRegion: string;
  eventSourceARN: string;
  dynamodb: { SequenceNumber: string; [field: string]: unknown };
  userIdentity?: unknown;
}

/** What GetRecords returns, as Lambda delivers it: times in epoch seconds, the region and the stream's ARN added. */
export function toLambdaRecord(record: StreamRecord, streamArn: string): LambdaStreamRecord {
  const { ApproximateCreationDateTime, ...dynamodb } = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: LOCAL_REGION,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(ApproximateCreationDateTime ? { ApproximateCreationDateTime: Math.floor(ApproximateCreationDateTime.getTime() / 1000) } : {}),
      ...dynamodb,
      SequenceNumber: dynamodb.SequenceNumber ?? '',
    },
    ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
  };
}

export type { InvocationOutcome };

export interface DeliveryRules {
  maximumRetryAttempts: number;
  bisect: boolean;
  reportBatchItemFailures: boolean;
}

export interface DeliveryReport {
  invocations: number;
  /** Records let go after the last retry. */
  dropped: LambdaStreamRecord[];
}

const BatchResponse = z.object({ batchItemFailures: z.array(z.object({ itemIdentifier: z.unknown() })).nullish() }).nullish();

/**
 * The records a function's answer asks to be delivered again (ReportBatchItemFailures):
 * from the first one it names on. `failed` when the answer cannot be honoured (an
 * identifier not in the batch, or empty), which Lambda treats as a failure of the
 * whole batch.
 */
export function redeliveryOf(batch: readonly LambdaStreamRecord[], result: unknown): LambdaStreamRecord[] | 'failed' {
  const parsed = BatchResponse.safeParse(result);
  const failures = parsed.success ? (parsed.data?.batchItemFailures ?? []) : [];
  if (failures.length === 0) return [];
  let first = batch.length;
  for (const { itemIdentifier } of failures) {
    const index = typeof itemIdentifier === 'string' && itemIdentifier !== '' ? batch.findIndex((r) => r.dynamodb.SequenceNumber === itemIdentifier) : -1;
    if (index < 0) return 'failed';
    first = Math.min(first, index);
  }
  return batch.slice(first);
}

const retryWaitMs = (retry: number) => Math.min(10_000, 500 * 2 ** retry);

/**
 * Delivers one batch as Lambda's event source mapping does: invoke; on an error,
 * split the batch in two (bisect) and deliver each half, or retry it; on a partial
 * failure, deliver again from the first record named; after the last retry, let
 * the records go. Resolves when every record is delivered or let go.
 */
export async function deliverBatch(
  batch: readonly LambdaStreamRecord[],
  rules: DeliveryRules,
  invoke: (records: readonly LambdaStreamRecord[]) => Promise<InvocationOutcome>,
  wait: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<DeliveryReport> {
  const report: DeliveryReport = { invocations: 0, dropped: [] };
  const attempt = async (records: readonly LambdaStreamRecord[], retries: number): Promise<void> => {
    if (records.length === 0) return;
    report.invocations += 1;
    const outcome = await invoke(records);
    let again: readonly LambdaStreamRecord[] | 'failed' = outcome.ok ? (rules.reportBatchItemFailures ? redeliveryOf(records, outcome.result) : []) : 'failed';
    if (again.length === 0) return;
    if (again === 'failed' && rules.bisect && records.length > 1) {
      const half = Math.ceil(records.length / 2);
      await attempt(records.slice(0, half), retries);
      await attempt(records.slice(half), retries);
      return;
    }
    if (again === 'failed') again = records;
    if (rules.maximumRetryAttempts >= 0 && retries >= rules.maximumRetryAttempts) {
      report.dropped.push(...again);
      return;
    }
    await wait(retryWaitMs(retries));
    await attempt(again, retries + 1);
  };
  await attempt(batch, 0);
  return report;
}

export interface LocalStreamsOptions {
  /** DynamoDB Local itself, not the model of AWS: the stream is the platform's. */
  dynamoDbEndpoint: string;
  tableName: string;
  mappings: StreamMapping[];
  lambdaEndpoint: string;
  log?: (line: string) => void;
}

export interface LocalStreamsStats {
  invocations: number;
  recordsDelivered: number;
  recordsFiltered: number;
  recordsDropped: number;
}

export interface LocalStreams {
  stats(): LocalStreamsStats;
  stop(): Promise<void>;
}

const POLL_MS = 250;
const DISCOVER_MS = 1000;

/** Runs every mapping of `options.mappings` until stopped. Resolves once each shard has its starting position. */
export async function startLocalStreams(options: LocalStreamsOptions): Promise<LocalStreams> {
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const streams = new DynamoDBStreamsClient({ endpoint: options.dynamoDbEndpoint, region: LOCAL_REGION, credentials });
  const lambda = lambdaInvoker(options.lambdaEndpoint);
  const log = options.log ?? (() => undefined);
  const stats: LocalStreamsStats = { invocations: 0, recordsDelivered: 0, recordsFiltered: 0, recordsDropped: 0 };
  const stopping = new AbortController();
  const sleep = sleepUnless(stopping.signal);

  const table = localClient(options.dynamoDbEndpoint);
  let streamArn: string | undefined;
  try {
    streamArn = (await table.send(new DescribeTableCommand({ TableName: options.tableName }))).Table?.LatestStreamArn;
  } finally {
    table.destroy();
  }
  if (!streamArn) throw new Error(`Table ${options.tableName} has no stream: serverless.yml's StreamSpecification did not reach it`);
  const arn = streamArn;

  function invoke(functionName: string, records: readonly LambdaStreamRecord[]): Promise<InvocationOutcome> {
    stats.invocations += 1;
    return lambda.invoke(functionName, { Records: records });
  }

  /** All shards of the stream, as DescribeStream pages them. */
  async function describeShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let from: string | undefined;
    do {
      const page = await streams.send(new DescribeStreamCommand({ StreamArn: arn, ExclusiveStartShardId: from }));
      shards.push(...(page.StreamDescription?.Shards ?? []));
      from = page.StreamDescription?.LastEvaluatedShardId;
    } while (from);
    return shards;
  }

  /**
   * Takes the shard's starting position, then reads it to its end (or until
   * stopped) in `run`, delivering its records to one mapping.
   */
  async function openShard(mapping: StreamMapping, shardId: string, position: ShardIteratorType): Promise<{ run: Promise<void> }> {
    let lastSequence: string | undefined;
    const iterator = async () =>
      (
        await streams.send(
          new GetShardIteratorCommand({
            StreamArn: arn,
            ShardId: shardId,
            ...(lastSequence ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: lastSequence } : { ShardIteratorType: position }),
          }),
        )
      ).ShardIterator;
    let next = await iterator();
    let buffer: LambdaStreamRecord[] = [];
    let gatheringSince = 0;
    const deliver = async (batch: LambdaStreamRecord[]) => {
      const report = await deliverBatch(batch, mapping, (records) => invoke(mapping.functionName, records), sleep);
      stats.recordsDelivered += batch.length - report.dropped.length;
      stats.recordsDropped += report.dropped.length;
      if (report.dropped.length > 0) {
        log(`[streams] ${mapping.functionName}: let go ${report.dropped.length} records after ${mapping.maximumRetryAttempts} retries\n`);
      }
    };
    const run = (async () => {
      while (!stopping.signal.aborted) {
        let fetched = 0;
        if (next) {
          try {
            const page = await streams.send(new GetRecordsCommand({ ShardIterator: next, Limit: 1000 }));
            next = page.NextShardIterator;
            fetched = page.Records?.length ?? 0;
            for (const record of page.Records ?? []) {
              lastSequence = record.dynamodb?.SequenceNumber ?? lastSequence;
              const shaped = toLambdaRecord(record, arn);
              if (!passesFilters(mapping.filterPatterns, shaped)) {
                stats.recordsFiltered += 1;
                continue;
              }
              if (buffer.length === 0) gatheringSince = Date.now();
              buffer.push(shaped);
            }
          } catch (error) {
            if (stopping.signal.aborted) break;
            // An iterator lives 15 minutes, and DynamoDB Local may be restarting (the fault tests).
            if (!(error instanceof ExpiredIteratorException) && !(error instanceof TrimmedDataAccessException)) {
              log(`[streams] ${shardId}: ${(error as Error).name}: ${(error as Error).message}; reading again shortly\n`);
            }
            await sleep(DISCOVER_MS);
            next = await iterator().catch(() => next);
            continue;
          }
        }
        while (buffer.length >= mapping.batchSize) await deliver(buffer.splice(0, mapping.batchSize));
        const ended = next === undefined || next === null;
        if (buffer.length > 0 && (ended || Date.now() - gatheringSince >= mapping.batchWindowMs)) {
          const batch = buffer;
          buffer = [];
          await deliver(batch);
        }
        if (ended && buffer.length === 0) return;
        if (fetched === 0) await sleep(POLL_MS);
      }
    })();
    return { run };
  }

  // One reader per shard and mapping. A shard open at the start is read from the
  // mapping's startingPosition; one found later (a child) from its beginning; a
  // closed one at the start only from TRIM_HORIZON (LATEST has nothing in it).
  const readers = new Map<string, { done: boolean; run: Promise<void> }>();
  const known = new Set<string>();
  async function discover(first: boolean): Promise<void> {
    const shards = await describeShards();
    const listed = new Set(shards.map((s) => s.ShardId!));
    for (const mapping of options.mappings) {
      for (const shard of shards) {
        const key = `${mapping.functionName} ${shard.ShardId}`;
        if (readers.has(key) || known.has(key)) continue;
        const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
        if (first && closed && mapping.startingPosition === 'LATEST') {
          known.add(key);
          continue;
        }
        // A child waits until its parent (when the stream still lists it) has been read to its end.
        const parent = shard.ParentShardId ? readers.get(`${mapping.functionName} ${shard.ParentShardId}`) : undefined;
        if (shard.ParentShardId && listed.has(shard.ParentShardId) && !known.has(`${mapping.functionName} ${shard.ParentShardId}`) && !parent?.done) continue;
        const position: ShardIteratorType = first ? mapping.startingPosition : 'TRIM_HORIZON';
        const reader = { done: false, run: Promise.resolve() };
        readers.set(key, reader);
        try {
          const { run } = await openShard(mapping, shard.ShardId!, position);
          reader.run = run
            .catch((error: Error) => log(`[streams] ${shard.ShardId}: stopped reading: ${error.message}\n`))
            .finally(() => {
              reader.done = true;
            });
        } catch (error) {
          readers.delete(key); // found again by the next discovery
          throw error;
        }
      }
    }
  }

  // The first positions are taken before this returns: whatever is written after
  // the stack has started reaches the functions.
  await discover(true);
  const discovering = (async () => {
    while (!stopping.signal.aborted) {
      await sleep(DISCOVER_MS);
      if (stopping.signal.aborted) break;
      await discover(false).catch((error: Error) => log(`[streams] DescribeStream: ${error.message}\n`));
    }
  })();
  log(`[streams] delivering ${arn} to ${options.mappings.map((m) => m.functionName).join(', ')}\n`);

  return {
    stats: () => ({ ...stats }),
    async stop() {
      stopping.abort();
      const settled = Promise.all([discovering, ...[...readers.values()].map((r) => r.run)]);
      await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
      streams.destroy();
      lambda.close();
    },
  };
}
