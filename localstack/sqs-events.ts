import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import * as z from 'zod';
import type { ServiceDefinition } from './service';
import { queueArnOf, queueNameOfArn } from './sqs';
import { LOCAL_REGION } from './stepfunctions';
import { type InvocationOutcome, sleepUnless } from './event-sources';
import { assertFilterPattern, type FilterPattern, passesFilters } from './streams-filter';

/*
 * serverless.yml's queues and `sqs` events on the local SQS endpoint (localstack/sqs.ts):
 *  - every `AWS::SQS::Queue` resource is created from its properties, as
 *    CloudFormation would (a dead-letter queue before the queues that name it);
 *  - every `sqs` event of a function becomes an event source mapping that does
 *    what Lambda's does: long-polls the queue, gathers up to batchSize messages
 *    (or what maximumBatchingWindow seconds brought), invokes the function
 *    through serverless-offline's Lambda invoke endpoint with the SQS event, and
 *    deletes what the function handled: the whole batch on success; with
 *    ReportBatchItemFailures, all but the messages it names; nothing when it
 *    fails. What is not deleted comes back after the queue's visibility timeout,
 *    one receive further towards the dead-letter queue. Messages that match none
 *    of the filterPatterns are deleted unseen, as Lambda deletes them.
 * Several batches of one mapping run at once (maximumConcurrency, or 5, the
 * pollers Lambda starts with), so one slow batch does not hold the queue.
 * Not modelled: Lambda's 6 MB payload limit on a gathered batch, and its
 * scaling beyond the starting pollers.
 */

/** The credentials the local endpoints accept (they check none). */
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** CloudFormation's defaults where a property is left out. */
const DEFAULT_VISIBILITY_SECONDS = 30;
const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 6;
const DEFAULT_CONCURRENCY = 5;
/** The longest ReceiveMessage wait SQS takes. */
const LONG_POLL_SECONDS = 20;

/** The queue properties of CloudFormation that are CreateQueue attributes of the same name. */
const ATTRIBUTE_PROPERTIES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
];
const POLICY_PROPERTIES = ['RedrivePolicy', 'RedriveAllowPolicy'];

export interface QueueResource {
  logicalId: string;
  name: string;
  /** CreateQueue's attributes, the ARNs of other queues resolved. */
  attributes: Record<string, string>;
  tags: Record<string, string>;
}

export interface CreatedQueue {
  name: string;
  url: string;
  arn: string;
}

/** `{ "Fn::GetAtt": [id, attribute] }` or `{ "Fn::GetAtt": "id.attribute" }` (`!GetAtt`, as `serverless print` resolves it). */
function getAttOf(value: unknown): [string, string] | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const getAtt = (value as Record<string, unknown>)['Fn::GetAtt'];
  const parts: unknown = typeof getAtt === 'string' ? getAtt.split('.') : getAtt;
  if (!Array.isArray(parts) || parts.length !== 2) return undefined;
  const [id, attribute] = parts as unknown[];
  return typeof id === 'string' && typeof attribute === 'string' ? [id, attribute] : undefined;
}

function queueEntriesOf(service: ServiceDefinition): [string, Record<string, unknown>][] {
  return Object.entries(service.resources?.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::SQS::Queue')
    .map(([logicalId, resource]) => [logicalId, (resource.Properties ?? {}) as Record<string, unknown>]);
}

/**
 * The queues of serverless.yml's resources. A queue without a QueueName gets
 * `<service>-<stage>-<logical id>`: CloudFormation would add a random suffix,
 * which a local stack would have to print on every start.
 */
export function queueResourcesOf(service: ServiceDefinition): QueueResource[] {
  const entries = queueEntriesOf(service);
  const stage = service.provider?.stage ?? 'dev';
  const names = new Map(entries.map(([id, properties]) => [id, typeof properties.QueueName === 'string' ? properties.QueueName : `${service.service}-${stage}-${id}`]));
  // Another queue's ARN or name, wherever a policy refers to one.
  const resolve = (value: unknown, where: string): unknown => {
    const getAtt = getAttOf(value);
    if (getAtt) {
      const [id, attribute] = getAtt;
      const name = names.get(id);
      if (name === undefined) throw new Error(`${where}: !GetAtt ${id}.${attribute} names no queue of serverless.yml`);
      if (attribute === 'Arn') return queueArnOf(name);
      if (attribute === 'QueueName') return name;
      throw new Error(`${where}: !GetAtt ${id}.${attribute} is not resolved by the local stack`);
    }
    if (Array.isArray(value)) return value.map((v) => resolve(v, where));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, where)]));
    return value;
  };
  return entries.map(([logicalId, properties]) => {
    const where = `serverless.yml, queue ${logicalId}`;
    const attributes: Record<string, string> = {};
    let tags: Record<string, string> = {};
    for (const [property, value] of Object.entries(properties)) {
      if (property === 'QueueName') continue;
      if (property === 'Tags') {
        tags = Object.fromEntries(z.array(z.object({ Key: z.string(), Value: z.string() })).parse(value).map((t) => [t.Key, t.Value]));
      } else if (POLICY_PROPERTIES.includes(property)) {
        const policy = resolve(typeof value === 'string' ? JSON.parse(value) : value, where);
        attributes[property] = JSON.stringify(policy);
      } else if (ATTRIBUTE_PROPERTIES.includes(property)) {
        if (typeof value === 'object') throw new Error(`${where}: ${property} must be a value, not ${JSON.stringify(value)}`);
        attributes[property] = String(value);
      } else {
        throw new Error(`${where}: property ${property} is not one the local stack knows`);
      }
    }
    return { logicalId, name: names.get(logicalId)!, attributes, tags };
  });
}

/**
 * Creates the queues on the SQS endpoint, each dead-letter queue before the
 * queues whose RedrivePolicy names it (SQS refuses a policy whose target does not exist).
 */
export async function createQueues(endpoint: string, queues: readonly QueueResource[]): Promise<Record<string, CreatedQueue>> {
  const client = new SQSClient({ endpoint, region: LOCAL_REGION, credentials: CREDENTIALS });
  const created: Record<string, CreatedQueue> = {};
  const made = new Set<string>();
  const local = new Set(queues.map((q) => queueArnOf(q.name)));
  const targetOf = (queue: QueueResource) => {
    const policy = queue.attributes.RedrivePolicy;
    return policy ? (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn : undefined;
  };
  try {
    let pending = [...queues];
    while (pending.length > 0) {
      const ready = pending.filter((queue) => {
        const target = targetOf(queue);
        return target === undefined || !local.has(target) || made.has(target) || target === queueArnOf(queue.name);
      });
      if (ready.length === 0) throw new Error(`serverless.yml: the redrive policies of ${pending.map((q) => q.logicalId).join(', ')} name each other in a circle`);
      for (const queue of ready) {
        const { QueueUrl } = await client.send(
          new CreateQueueCommand({ QueueName: queue.name, Attributes: queue.attributes, ...(Object.keys(queue.tags).length > 0 ? { tags: queue.tags } : {}) }),
        );
        created[queue.logicalId] = { name: queue.name, url: QueueUrl!, arn: queueArnOf(queue.name) };
        made.add(queueArnOf(queue.name));
      }
      pending = pending.filter((queue) => !ready.includes(queue));
    }
  } finally {
    client.destroy();
  }
  return created;
}

/** One `sqs` event of a function in serverless.yml, as the framework resolves it (`serverless print`). */
const SqsEventSchema = z.preprocess(
  // `sqs: <arn>` is short for `sqs: { arn: <arn> }`.
  (value) => (typeof value === 'string' ? { arn: value } : value),
  z.object({
    arn: z.unknown(),
    batchSize: z.number().int().min(1).max(10_000).default(10),
    maximumBatchingWindow: z.number().int().min(0).max(300).default(0),
    functionResponseType: z.literal('ReportBatchItemFailures').optional(),
    filterPatterns: z.array(z.record(z.string(), z.unknown())).default([]),
    maximumConcurrency: z.number().int().min(2).max(1000).optional(),
    enabled: z.boolean().default(true),
  }),
);
const FunctionSchema = z.looseObject({
  name: z.string(),
  timeout: z.number().optional(),
  events: z.array(z.looseObject({ sqs: z.unknown().optional() })).default([]),
});

export interface SqsMapping {
  /** The deployed name, which serverless-offline's invoke endpoint knows it by. */
  functionName: string;
  queueName: string;
  queueArn: string;
  batchSize: number;
  batchWindowMs: number;
  reportBatchItemFailures: boolean;
  filterPatterns: FilterPattern[];
  /** How many batches may be in flight at once. */
  concurrency: number;
}

/**
 * The event source mappings of serverless.yml's `sqs` events, checked as Lambda
 * checks them when it creates one: a batch over 10 needs a batching window, and
 * the queue's visibility timeout must cover the function's timeout (or a batch
 * would come back while it still runs).
 */
export function sqsMappingsOf(service: ServiceDefinition): SqsMapping[] {
  const resources = queueResourcesOf(service);
  const providerTimeout = (service.provider as { timeout?: number } | undefined)?.timeout;
  const mappings: SqsMapping[] = [];
  for (const [key, raw] of Object.entries(service.functions)) {
    const fn = FunctionSchema.parse(raw);
    for (const event of fn.events) {
      if (event.sqs === undefined) continue;
      const where = `serverless.yml, function ${key}`;
      const parsed = SqsEventSchema.safeParse(event.sqs);
      if (!parsed.success) throw new Error(`${where}: an sqs event the local stack cannot run: ${parsed.error.message}`);
      const sqs = parsed.data;
      if (!sqs.enabled) continue;
      const getAtt = getAttOf(sqs.arn);
      const resource = getAtt ? resources.find((r) => r.logicalId === getAtt[0]) : undefined;
      const queueName = getAtt ? (getAtt[1] === 'Arn' ? resource?.name : undefined) : typeof sqs.arn === 'string' ? queueNameOfArn(sqs.arn) : undefined;
      if (queueName === undefined) throw new Error(`${where}: the sqs event's arn ${JSON.stringify(sqs.arn)} names no queue the local stack has`);
      if (sqs.batchSize > 10 && sqs.maximumBatchingWindow < 1) {
        throw new Error(`${where}: a batchSize over 10 needs a maximumBatchingWindow of at least 1 second (Lambda refuses the mapping otherwise)`);
      }
      const visibility = Number(resources.find((r) => r.name === queueName)?.attributes.VisibilityTimeout ?? DEFAULT_VISIBILITY_SECONDS);
      const timeout = fn.timeout ?? providerTimeout ?? DEFAULT_FUNCTION_TIMEOUT_SECONDS;
      if (visibility < timeout) {
        throw new Error(`${where}: queue ${queueName}'s visibility timeout (${visibility} s) is less than the function's timeout (${timeout} s); Lambda refuses the mapping`);
      }
      sqs.filterPatterns.forEach((pattern) => assertFilterPattern(pattern));
      mappings.push({
        functionName: fn.name,
        queueName,
        queueArn: queueArnOf(queueName),
        batchSize: sqs.batchSize,
        batchWindowMs: sqs.maximumBatchingWindow * 1000,
        reportBatchItemFailures: sqs.functionResponseType === 'ReportBatchItemFailures',
        filterPatterns: sqs.filterPatterns as FilterPattern[],
        concurrency: sqs.maximumConcurrency ?? DEFAULT_CONCURRENCY,
      });
    }
  }
  return mappings;
}

/** A received message as Lambda hands it to a function. */
export function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: [],
      binaryListValues: [],
      dataType: value.DataType as never,
    };
  }
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: attributes as unknown as SQSRecordAttributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody!,
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: LOCAL_REGION,
  };
}

/** What filter patterns see of a record: its body as JSON when it is JSON, as Lambda parses it. */
function filterView(record: SQSRecord): unknown {
  try {
    const body = JSON.parse(record.body) as unknown;
    if (body !== null && typeof body === 'object' && !Array.isArray(body)) return { ...record, body };
  } catch {
    // a plain text body is matched as a string
  }
  return record;
}

const BatchResponse = z.object({ batchItemFailures: z.array(z.object({ itemIdentifier: z.unknown() })).nullish() }).nullish();

/**
 * Which records of an invocation are done (to be deleted) and which are to come
 * again, as Lambda settles an SQS batch: a failed invocation leaves them all; a
 * successful one is done with all of them, or, with ReportBatchItemFailures,
 * with all but those the answer names. An answer that cannot be honoured (not a
 * batch response, an empty or unknown itemIdentifier) fails the whole batch.
 * `failure` says why, when the whole batch failed.
 */
export function settleBatch(
  batch: readonly SQSRecord[],
  outcome: InvocationOutcome,
  reportBatchItemFailures: boolean,
): { done: SQSRecord[]; again: SQSRecord[]; failure?: string } {
  const failed = (failure: string) => ({ done: [], again: [...batch], failure });
  if (!outcome.ok) return failed(outcome.error);
  if (!reportBatchItemFailures) return { done: [...batch], again: [] };
  const parsed = BatchResponse.safeParse(outcome.result);
  if (!parsed.success) return failed(`the answer ${JSON.stringify(outcome.result)} is not a batch response`);
  const named = new Set<string>();
  for (const { itemIdentifier } of parsed.data?.batchItemFailures ?? []) {
    if (typeof itemIdentifier !== 'string' || !batch.some((r) => r.messageId === itemIdentifier)) {
      return failed(`the answer names ${JSON.stringify(itemIdentifier)}, no message of the batch`);
    }
    named.add(itemIdentifier);
  }
  return { done: batch.filter((r) => !named.has(r.messageId)), again: batch.filter((r) => named.has(r.messageId)) };
}

/** Invokes a function with an event, as the event source mapping does. */
export type Invoker = (functionName: string, event: SQSEvent) => Promise<InvocationOutcome>;

export interface LocalSqsMappingsOptions {
  sqsEndpoint: string;
  mappings: readonly SqsMapping[];
  invoke: Invoker;
  log?: (line: string) => void;
}

export interface LocalSqsMappingsStats {
  invocations: number;
  /** Invocations that failed, or whose answer failed the whole batch. */
  failedBatches: number;
  messagesDeleted: number;
  /** Messages the function named as failed: they come again. */
  messagesRetried: number;
  messagesFiltered: number;
}

export interface LocalSqsMappings {
  stats(): LocalSqsMappingsStats;
  stop(): Promise<void>;
}

/** Runs every mapping until stopped. Resolves once each mapping has found its queue. */
export async function startSqsMappings(options: LocalSqsMappingsOptions): Promise<LocalSqsMappings> {
  const sqs = new SQSClient({ endpoint: options.sqsEndpoint, region: LOCAL_REGION, credentials: CREDENTIALS });
  const log = options.log ?? (() => undefined);
  const stats: LocalSqsMappingsStats = { invocations: 0, failedBatches: 0, messagesDeleted: 0, messagesRetried: 0, messagesFiltered: 0 };
  const stopping = new AbortController();
  const sleep = sleepUnless(stopping.signal);

  async function remove(queueUrl: string, records: readonly SQSRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += 10) {
      const chunk = records.slice(i, i + 10);
      const answer = await sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle })) }),
      );
      stats.messagesDeleted += answer.Successful?.length ?? 0;
      for (const failed of answer.Failed ?? []) log(`[sqs] could not delete a handled message: ${failed.Code}: ${failed.Message}\n`);
    }
  }

  async function receive(queueUrl: string, max: number, waitSeconds: number): Promise<Message[]> {
    const answer = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: stopping.signal },
    );
    return answer.Messages ?? [];
  }

  /** One batch: up to batchSize messages, or what the batching window brought after the first. */
  async function gather(mapping: SqsMapping, queueUrl: string): Promise<Message[]> {
    const batch = await receive(queueUrl, Math.min(10, mapping.batchSize), LONG_POLL_SECONDS);
    if (batch.length === 0 || mapping.batchWindowMs === 0) return batch;
    const until = Date.now() + mapping.batchWindowMs;
    while (batch.length < mapping.batchSize && !stopping.signal.aborted) {
      const left = until - Date.now();
      if (left <= 0) break;
      const wait = Math.min(LONG_POLL_SECONDS, Math.floor(left / 1000));
      const more = await receive(queueUrl, Math.min(10, mapping.batchSize - batch.length), wait);
      batch.push(...more);
      if (more.length === 0 && wait === 0) await sleep(Math.min(left, 100));
    }
    return batch;
  }

  async function deliver(mapping: SqsMapping, queueUrl: string, messages: readonly Message[]): Promise<void> {
    const records = messages.map((message) => toSqsRecord(message, mapping.queueArn));
    const passing = records.filter((record) => passesFilters(mapping.filterPatterns, filterView(record)));
    const filtered = records.filter((record) => !passing.includes(record));
    stats.messagesFiltered += filtered.length;
    await remove(queueUrl, filtered);
    if (passing.length === 0) return;
    stats.invocations += 1;
    const outcome = await options.invoke(mapping.functionName, { Records: passing });
    const { done, again, failure } = settleBatch(passing, outcome, mapping.reportBatchItemFailures);
    if (failure !== undefined) {
      stats.failedBatches += 1;
      log(`[sqs] ${mapping.functionName}: a batch of ${passing.length} failed (${failure.slice(0, 500)}); it comes again after the visibility timeout\n`);
    } else {
      stats.messagesRetried += again.length;
    }
    await remove(queueUrl, done);
  }

  async function poller(mapping: SqsMapping, queueUrl: string): Promise<void> {
    while (!stopping.signal.aborted) {
      try {
        const messages = await gather(mapping, queueUrl);
        if (messages.length > 0) await deliver(mapping, queueUrl, messages);
      } catch (error) {
        if (stopping.signal.aborted) break;
        log(`[sqs] ${mapping.functionName} on ${mapping.queueName}: ${(error as Error).name}: ${(error as Error).message}; polling again shortly\n`);
        await sleep(1000);
      }
    }
  }

  const runs: Promise<void>[] = [];
  for (const mapping of options.mappings) {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: mapping.queueName }));
    for (let i = 0; i < mapping.concurrency; i += 1) runs.push(poller(mapping, QueueUrl!));
  }
  if (options.mappings.length > 0) {
    log(`[sqs] delivering ${options.mappings.map((m) => `${m.queueName} to ${m.functionName}`).join(', ')}\n`);
  }

  return {
    stats: () => ({ ...stats }),
    async stop() {
      stopping.abort();
      // A batch being handled is let finish (and settled), for a while.
      await Promise.race([Promise.all(runs), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
      sqs.destroy();
    },
  };
}
