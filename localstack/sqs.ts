import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './stepfunctions';

/*
 * A local Amazon SQS endpoint: standard queues, in memory, behind the JSON
 * protocol that AWS SDK v3 and the AWS CLI speak to SQS (POST /, `x-amz-target:
 * AmazonSQS.<Operation>`, JSON 1.0 bodies). Errors come as AWS sends them to
 * those clients: `__type` names the shape, and the `x-amzn-query-error` header
 * carries the query-protocol code (`AWS.SimpleQueueService.NonExistentQueue`),
 * which is what both the SDK (awsQueryCompatible) and botocore turn into the
 * error's name. What it keeps of SQS's standard queues:
 *  - a message sent with a delay (its own DelaySeconds, or the queue's) is
 *    counted as delayed and cannot be received until it is due;
 *  - a received message is in flight for the visibility timeout (the queue's, or
 *    the one ReceiveMessage asks for), then can be received again, its
 *    ApproximateReceiveCount one higher; each receive gets a new receipt handle,
 *    and only the latest one deletes the message (an older one is accepted and
 *    does nothing, as the SQS documentation says);
 *  - with a RedrivePolicy, a message that would be received for the
 *    (maxReceiveCount + 1)th time moves instead to the dead-letter queue, keeping
 *    its id, body, attributes and enqueue time (so the dead-letter queue's
 *    retention counts from the original send), and gains DeadLetterQueueSourceArn;
 *  - a message older than the queue's MessageRetentionPeriod is gone;
 *  - ReceiveMessage waits up to WaitTimeSeconds for a message (long polling), and
 *    takes none for a client that hung up meanwhile, so a stopped poller leaves
 *    no message in flight;
 *  - PurgeQueue once in 60 seconds per queue, and a deleted queue's name is
 *    taken again only after 60 seconds.
 * Not modelled: FIFO queues (refused when asked for), KMS, permissions and
 * tags beyond storing them, message move tasks. Receives are in sending order,
 * which standard queues promise nothing about: code that relies on it works here
 * and not on AWS.
 */

export const queueArnOf = (name: string) => `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`;

/** The queue an ARN names, when it is an SQS queue ARN of the local account. */
export function queueNameOfArn(arn: string): string | undefined {
  const match = /^arn:aws:sqs:[^:]+:(\d{12}):([\w-]{1,80})$/.exec(arn);
  return match && match[1] === LOCAL_ACCOUNT ? match[2] : undefined;
}

export interface LocalSqsOptions {
  /** 0: a free port, which `endpoint` then names. */
  port: number;
  log?: (line: string) => void;
  /**
   * The clock messages are timed by (delays, visibility, retention): tests pass
   * one they move by hand. Long polls wait in real time either way.
   */
  now?: () => number;
}

export interface LocalSqs {
  endpoint: string;
  port: number;
  queueUrl(name: string): string;
  stop(): Promise<void>;
}

/** An error of the SQS API: the shape the SDK knows it by, and the query-protocol code AWS sends beside it. */
export class SqsApiError extends Error {
  constructor(
    /** The modelled shape (`QueueDoesNotExist`), or AWS's name for an unmodelled one. */
    readonly shape: string,
    message: string,
    /** The code of the `x-amzn-query-error` header, which clients name the error by. */
    readonly code: string = shape,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'SqsApiError';
  }
}

const errors = {
  noQueue: () => new SqsApiError('QueueDoesNotExist', 'The specified queue does not exist.', 'AWS.SimpleQueueService.NonExistentQueue'),
  invalid: (message: string) => new SqsApiError('InvalidParameterValueException', message, 'InvalidParameterValue'),
  invalidValue: (name: string, value: unknown, reason: string) =>
    errors.invalid(`Value ${typeof value === 'string' ? value : JSON.stringify(value)} for parameter ${name} is invalid. Reason: ${reason}`),
  missing: (name: string) => new SqsApiError('MissingRequiredParameterException', `The request must contain the parameter ${name}.`, 'MissingParameter'),
  receiptHandle: (handle: unknown) =>
    new SqsApiError('ReceiptHandleIsInvalid', `The input receipt handle "${String(handle)}" is not a valid receipt handle.`, 'ReceiptHandleIsInvalid', 404),
  batch: (shape: string, message: string) => new SqsApiError(shape, message, `AWS.SimpleQueueService.${shape}`),
};

interface MessageAttribute {
  DataType: string;
  StringValue?: string;
  /** Base64, as the JSON protocol carries blobs. */
  BinaryValue?: string;
}

interface StoredMessage {
  id: string;
  body: string;
  md5OfBody: string;
  attributes: Record<string, MessageAttribute>;
  /** AWSTraceHeader, the one system attribute a sender may set. */
  traceHeader?: string;
  sentAt: number;
  /** When it can be received: the end of its delay, or of its visibility timeout. */
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  /** The handle of the latest receive: the only one that deletes it. */
  receipt?: string;
  deadLetterSourceArn?: string;
}

interface Queue {
  name: string;
  arn: string;
  /** The settable attributes, as strings (as the API carries them). */
  settings: Map<string, string>;
  tags: Record<string, string>;
  createdAt: number;
  modifiedAt: number;
  messages: Map<string, StoredMessage>;
  /** Long polls waiting on this queue; each is woken to look again. */
  waiters: Set<() => void>;
  purgedAt?: number;
}

interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

const MiB = 1024 * 1024;
const DEFAULTS: Record<string, string> = {
  DelaySeconds: '0',
  MaximumMessageSize: String(MiB),
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  VisibilityTimeout: '30',
  SqsManagedSseEnabled: 'true',
};
const INTEGER_ATTRIBUTES: Record<string, [number, number]> = {
  DelaySeconds: [0, 900],
  MaximumMessageSize: [1024, MiB],
  MessageRetentionPeriod: [60, 1_209_600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  VisibilityTimeout: [0, 43_200],
  KmsDataKeyReusePeriodSeconds: [60, 86_400],
};
const OTHER_ATTRIBUTES = new Set(['RedrivePolicy', 'RedriveAllowPolicy', 'Policy', 'KmsMasterKeyId', 'SqsManagedSseEnabled']);
const FIFO_ATTRIBUTES = new Set(['FifoQueue', 'ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit']);
const READ_ONLY_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesDelayed',
  'ApproximateNumberOfMessagesNotVisible',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
];
const SYSTEM_ATTRIBUTES = ['SenderId', 'SentTimestamp', 'ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp', 'DeadLetterQueueSourceArn', 'AWSTraceHeader'];
/** Who sent the messages, as SQS reports it (an IAM user id): locally, always the same one. */
const SENDER_ID = 'AIDA000000000000LOCAL';
const MAX_BATCH_ENTRIES = 10;
const MAX_WAIT_SECONDS = 20;
const QUIET_SECONDS = 60;

const isInteger = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);
const seconds = (ms: number) => String(Math.floor(ms / 1000));
const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');
/** The characters SQS takes in a body or an attribute value (anything else is InvalidMessageContents). */
const FORBIDDEN_CHARACTERS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * MD5OfMessageAttributes, computed as SQS and the SDKs that check it do: the
 * attributes sorted by name, each as its length-prefixed name and data type, a
 * transport byte (1 string, 2 binary) and its length-prefixed value.
 */
export function md5OfMessageAttributes(attributes: Record<string, MessageAttribute>): string {
  const parts: Buffer[] = [];
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const attribute = attributes[name]!;
    field(Buffer.from(name, 'utf8'));
    field(Buffer.from(attribute.DataType, 'utf8'));
    if (attribute.StringValue !== undefined) {
      parts.push(Buffer.from([1]));
      field(Buffer.from(attribute.StringValue, 'utf8'));
    } else {
      parts.push(Buffer.from([2]));
      field(Buffer.from(attribute.BinaryValue ?? '', 'base64'));
    }
  }
  return md5(Buffer.concat(parts));
}

function integerParam(body: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (!isInteger(value) || value < min || value > max) throw errors.invalidValue(name, value, `Must be between ${min} and ${max}, if provided.`);
  return value;
}

function stringParam(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (value === undefined || value === null || value === '') throw errors.missing(name);
  if (typeof value !== 'string') throw errors.invalidValue(name, value, 'Must be a string.');
  return value;
}

function stringList(body: Record<string, unknown>, name: string): string[] {
  const value = body[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw errors.invalidValue(name, value, 'Must be a list of strings.');
  return value as string[];
}

function stringMap(body: Record<string, unknown>, name: string): Record<string, string> {
  const value = body[name];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw errors.invalidValue(name, value, 'Must be a map of strings.');
  }
  return value as Record<string, string>;
}

/** A message's attributes as sent, checked as SQS checks them. Returns them and the bytes they count towards the size limit. */
function messageAttributesOf(value: unknown): { attributes: Record<string, MessageAttribute>; size: number } {
  if (value === undefined || value === null) return { attributes: {}, size: 0 };
  if (typeof value !== 'object' || Array.isArray(value)) throw errors.invalidValue('MessageAttributes', value, 'Must be a map.');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 10) throw errors.invalid(`Number of message attributes [${entries.length}] exceeds the allowed maximum [10].`);
  const attributes: Record<string, MessageAttribute> = {};
  let size = 0;
  for (const [name, raw] of entries) {
    if (
      !/^[\w.-]{1,256}$/.test(name) ||
      name.startsWith('.') ||
      name.endsWith('.') ||
      name.includes('..') ||
      /^(aws\.|amazon\.)/i.test(name)
    ) {
      throw errors.invalid(`Message attribute name '${name}' is invalid.`);
    }
    const attribute = (raw ?? {}) as Record<string, unknown>;
    const dataType = attribute.DataType;
    if (typeof dataType !== 'string' || !/^(String|Number|Binary)(\..+)?$/.test(dataType) || dataType.length > 256) {
      throw errors.invalid(`The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
    }
    if (attribute.StringListValues !== undefined || attribute.BinaryListValues !== undefined) {
      throw errors.invalid(`Message attribute list values in SendMessage operation are not supported.`);
    }
    const binary = dataType.startsWith('Binary');
    const stringValue = attribute.StringValue;
    const binaryValue = attribute.BinaryValue;
    if (binary ? typeof binaryValue !== 'string' || binaryValue === '' : typeof stringValue !== 'string' || stringValue === '') {
      throw errors.invalid(`The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`);
    }
    if (binary) {
      attributes[name] = { DataType: dataType, BinaryValue: binaryValue as string };
      size += Buffer.from(binaryValue as string, 'base64').length;
    } else {
      const text = stringValue as string;
      if (FORBIDDEN_CHARACTERS.test(text)) throw errors.invalid(`Message attribute '${name}' contains invalid characters.`);
      if (dataType.startsWith('Number') && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
        throw errors.invalid(`Could not cast message attribute '${name}' value to number.`);
      }
      attributes[name] = { DataType: dataType, StringValue: text };
      size += Buffer.byteLength(text);
    }
    size += Buffer.byteLength(name) + Buffer.byteLength(dataType);
  }
  return { attributes, size };
}

/** Which message attributes a receive asked for: All, `.*`, names, or `prefix.*`. */
function attributeFilter(names: string[]): (name: string) => boolean {
  if (names.includes('All') || names.includes('.*')) return () => true;
  const exact = new Set(names.filter((n) => !n.endsWith('.*')));
  const prefixes = names.filter((n) => n.endsWith('.*')).map((n) => n.slice(0, -1));
  return (name) => exact.has(name) || prefixes.some((prefix) => name.startsWith(prefix));
}

function parseRedrivePolicy(value: string, exists: (arn: string) => boolean): string {
  let policy: Record<string, unknown>;
  try {
    policy = JSON.parse(value) as Record<string, unknown>;
  } catch {
    throw errors.invalidValue('RedrivePolicy', value, 'Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.');
  }
  const arn = policy.deadLetterTargetArn;
  const count = typeof policy.maxReceiveCount === 'string' ? Number(policy.maxReceiveCount) : policy.maxReceiveCount;
  if (typeof arn !== 'string' || !isInteger(count)) {
    throw errors.invalid('Value for parameter RedrivePolicy is invalid. Reason: Redrive policy does not contain mandatory attribute: deadLetterTargetArn or maxReceiveCount.');
  }
  if (count < 1 || count > 1000) throw errors.invalid('Value for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: must be between 1 and 1000.');
  if (!exists(arn)) throw errors.invalid('Value for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.');
  return JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: count });
}

export async function startLocalSqs(options: LocalSqsOptions): Promise<LocalSqs> {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const queues = new Map<string, Queue>();
  const deletedAt = new Map<string, number>();
  let stopped = false;
  let base = '';

  const urlOf = (name: string) => `${base}/${LOCAL_ACCOUNT}/${name}`;
  const byArn = (arn: string) => {
    const name = queueNameOfArn(arn);
    return name === undefined ? undefined : queues.get(name);
  };

  /** The queue a request names by its URL (any host: the CLI user may type localhost). */
  function queueOf(body: Record<string, unknown>): Queue {
    const url = stringParam(body, 'QueueUrl');
    let path: string[];
    try {
      path = new URL(url).pathname.split('/').filter(Boolean);
    } catch {
      path = url.split('/').filter(Boolean);
    }
    const [account, name] = path.length >= 2 ? path.slice(-2) : [LOCAL_ACCOUNT, path[0]];
    const queue = account === LOCAL_ACCOUNT && name !== undefined ? queues.get(name) : undefined;
    if (!queue) throw errors.noQueue();
    return queue;
  }

  const setting = (queue: Queue, name: string) => Number(queue.settings.get(name) ?? DEFAULTS[name]);
  const redriveOf = (queue: Queue): RedrivePolicy | undefined => {
    const raw = queue.settings.get('RedrivePolicy');
    return raw ? (JSON.parse(raw) as RedrivePolicy) : undefined;
  };

  /** Checks queue attributes as CreateQueue and SetQueueAttributes do; returns them in the form they are kept and reported in. */
  function checkedSettings(attributes: Record<string, string>): Map<string, string> {
    const settings = new Map<string, string>();
    for (const [name, value] of Object.entries(attributes)) {
      if (FIFO_ATTRIBUTES.has(name)) {
        if (name === 'FifoQueue' && value === 'false') continue;
        throw errors.invalid(`The local SQS endpoint has standard queues only: attribute ${name} is not modelled.`);
      }
      const range = INTEGER_ATTRIBUTES[name];
      if (range) {
        const number = Number(value);
        if (!/^\d+$/.test(value) || number < range[0] || number > range[1]) {
          throw new SqsApiError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
        }
        settings.set(name, String(number));
      } else if (name === 'RedrivePolicy') {
        if (value !== '') settings.set(name, parseRedrivePolicy(value, (arn) => byArn(arn) !== undefined));
      } else if (name === 'SqsManagedSseEnabled') {
        if (value !== 'true' && value !== 'false') throw new SqsApiError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
        settings.set(name, value);
      } else if (OTHER_ATTRIBUTES.has(name)) {
        settings.set(name, value);
      } else {
        throw new SqsApiError('InvalidAttributeName', `Unknown Attribute ${name}.`);
      }
    }
    return settings;
  }

  function wake(queue: Queue): void {
    for (const waiter of [...queue.waiters]) waiter();
  }

  /** Forgets the messages older than the queue's retention period. */
  function sweep(queue: Queue, at: number): void {
    const retentionMs = setting(queue, 'MessageRetentionPeriod') * 1000;
    for (const [id, message] of queue.messages) if (message.sentAt + retentionMs <= at) queue.messages.delete(id);
  }

  function counts(queue: Queue, at: number) {
    sweep(queue, at);
    let visible = 0;
    let delayed = 0;
    let inFlight = 0;
    for (const message of queue.messages.values()) {
      if (message.visibleAt <= at) visible += 1;
      else if (message.receiveCount === 0) delayed += 1;
      else inFlight += 1;
    }
    return { visible, delayed, inFlight };
  }

  const handleOf = (queue: Queue, message: StoredMessage) =>
    Buffer.from(JSON.stringify([queue.name, message.id, message.receiveCount, randomUUID()])).toString('base64');

  /** The message a receipt handle names in this queue, and whether the handle is its latest. */
  function fromHandle(queue: Queue, handle: unknown): { message?: StoredMessage; latest: boolean } {
    if (typeof handle !== 'string' || handle === '') throw errors.missing('ReceiptHandle');
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(handle, 'base64').toString('utf8'));
    } catch {
      throw errors.receiptHandle(handle);
    }
    if (!Array.isArray(decoded) || decoded[0] !== queue.name || typeof decoded[1] !== 'string') throw errors.receiptHandle(handle);
    const message = queue.messages.get(decoded[1]);
    return { message, latest: message?.receipt === handle };
  }

  /** Moves a message that has been received maxReceiveCount times to the dead-letter queue. False when that queue is gone. */
  function redrive(queue: Queue, message: StoredMessage, policy: RedrivePolicy, at: number): boolean {
    const target = byArn(policy.deadLetterTargetArn);
    if (!target) return false;
    queue.messages.delete(message.id);
    target.messages.set(message.id, { ...message, receipt: undefined, visibleAt: at, deadLetterSourceArn: queue.arn });
    log(`[sqs] ${queue.name}: message ${message.id} moved to ${target.name} after ${message.receiveCount} receives\n`);
    wake(target);
    return true;
  }

  /** Takes up to `max` receivable messages, in flight for `visibilityMs` from now. */
  function take(queue: Queue, max: number, visibilityMs: number): StoredMessage[] {
    const at = now();
    sweep(queue, at);
    const policy = redriveOf(queue);
    const taken: StoredMessage[] = [];
    for (const message of queue.messages.values()) {
      if (taken.length >= max) break;
      if (message.visibleAt > at) continue;
      if (policy && message.receiveCount >= policy.maxReceiveCount && redrive(queue, message, policy, at)) continue;
      message.receiveCount += 1;
      message.firstReceivedAt ??= at;
      message.visibleAt = at + visibilityMs;
      message.receipt = handleOf(queue, message);
      taken.push(message);
    }
    return taken;
  }

  /** Waits until the queue changes, a message there comes due, the wait ends, or the client hangs up. */
  function changeOrTimeout(queue: Queue, untilMs: number, gone: AbortSignal): Promise<void> {
    const at = now();
    let nextDue = Infinity;
    for (const message of queue.messages.values()) if (message.visibleAt > at) nextDue = Math.min(nextDue, message.visibleAt);
    const waitMs = Math.max(0, Math.min(untilMs - Date.now(), nextDue - at));
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        queue.waiters.delete(done);
        gone.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      queue.waiters.add(done);
      gone.addEventListener('abort', done);
    });
  }

  function systemAttributesOf(message: StoredMessage, wanted: string[]): Record<string, string> | undefined {
    const all = wanted.includes('All');
    const values: Record<string, string | undefined> = {
      SenderId: SENDER_ID,
      SentTimestamp: String(message.sentAt),
      ApproximateReceiveCount: String(message.receiveCount),
      ApproximateFirstReceiveTimestamp: message.firstReceivedAt === undefined ? undefined : String(message.firstReceivedAt),
      DeadLetterQueueSourceArn: message.deadLetterSourceArn,
      AWSTraceHeader: message.traceHeader,
    };
    const picked = Object.fromEntries(
      SYSTEM_ATTRIBUTES.filter((name) => (all || wanted.includes(name)) && values[name] !== undefined).map((name) => [name, values[name]!]),
    );
    return Object.keys(picked).length > 0 ? picked : undefined;
  }

  /** One message of SendMessage or of a SendMessageBatch entry, checked and stored. */
  function send(queue: Queue, entry: Record<string, unknown>) {
    const body = entry.MessageBody;
    if (typeof body !== 'string' || body === '') throw errors.missing('MessageBody');
    if (FORBIDDEN_CHARACTERS.test(body)) {
      throw new SqsApiError('InvalidMessageContents', 'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF');
    }
    const delay = integerParam(entry, 'DelaySeconds', 0, 900) ?? setting(queue, 'DelaySeconds');
    if (entry.MessageGroupId !== undefined || entry.MessageDeduplicationId !== undefined) {
      throw errors.invalid('The request include parameter that is not valid for this queue type');
    }
    const { attributes, size } = messageAttributesOf(entry.MessageAttributes);
    const limit = setting(queue, 'MaximumMessageSize');
    if (Buffer.byteLength(body) + size > limit) {
      throw errors.invalid(`One or more parameters are invalid. Reason: Message must be shorter than ${limit} bytes.`);
    }
    const system = (entry.MessageSystemAttributes ?? {}) as Record<string, { StringValue?: unknown }>;
    const traceHeader = typeof system.AWSTraceHeader?.StringValue === 'string' ? system.AWSTraceHeader.StringValue : undefined;
    const at = now();
    const message: StoredMessage = {
      id: randomUUID(),
      body,
      md5OfBody: md5(body),
      attributes,
      ...(traceHeader ? { traceHeader } : {}),
      sentAt: at,
      visibleAt: at + delay * 1000,
      receiveCount: 0,
    };
    queue.messages.set(message.id, message);
    wake(queue);
    return {
      MessageId: message.id,
      MD5OfMessageBody: message.md5OfBody,
      ...(Object.keys(attributes).length > 0 ? { MD5OfMessageAttributes: md5OfMessageAttributes(attributes) } : {}),
    };
  }

  function deleteMessage(queue: Queue, handle: unknown): void {
    const { message, latest } = fromHandle(queue, handle);
    if (message && latest) queue.messages.delete(message.id);
  }

  function changeVisibility(queue: Queue, handle: unknown, entry: Record<string, unknown>): void {
    const timeout = integerParam(entry, 'VisibilityTimeout', 0, 43_200);
    if (timeout === undefined) throw errors.missing('VisibilityTimeout');
    const { message, latest } = fromHandle(queue, handle);
    if (!message || !latest) throw errors.invalidValue('ReceiptHandle', handle, 'The receipt handle has expired.');
    const at = now();
    if (message.visibleAt <= at) throw new SqsApiError('MessageNotInflight', 'Message does not exist or is not available for visibility timeout change.', 'AWS.SimpleQueueService.MessageNotInflight');
    message.visibleAt = at + timeout * 1000;
    if (timeout === 0) wake(queue);
  }

  /** Checks a batch request's entries as SQS does, before any entry is done. */
  function batchEntries(body: Record<string, unknown>, sizeOf?: (entry: Record<string, unknown>) => number): Record<string, unknown>[] {
    const entries = body.Entries;
    if (!Array.isArray(entries) || entries.length === 0) throw errors.batch('EmptyBatchRequest', 'There should be at least one entry in the request.');
    if (entries.length > MAX_BATCH_ENTRIES) {
      throw errors.batch('TooManyEntriesInBatchRequest', `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${entries.length}.`);
    }
    const ids = new Set<string>();
    for (const entry of entries as Record<string, unknown>[]) {
      const id = entry?.Id;
      if (typeof id !== 'string' || !/^[\w-]{1,80}$/.test(id)) {
        throw errors.batch('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
      }
      if (ids.has(id)) throw errors.batch('BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
      ids.add(id);
    }
    if (sizeOf) {
      const total = (entries as Record<string, unknown>[]).reduce((sum, entry) => sum + sizeOf(entry), 0);
      if (total > MiB) throw errors.batch('BatchRequestTooLong', `Batch requests cannot be longer than ${MiB} bytes. You have sent ${total} bytes.`);
    }
    return entries as Record<string, unknown>[];
  }

  /** Runs `each` per entry: the ones that throw an SQS error are Failed, the others Successful. */
  function perEntry<T extends object>(entries: Record<string, unknown>[], each: (entry: Record<string, unknown>) => T) {
    const Successful: (T & { Id: string })[] = [];
    const Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
    for (const entry of entries) {
      const Id = entry.Id as string;
      try {
        Successful.push({ Id, ...each(entry) });
      } catch (error) {
        if (!(error instanceof SqsApiError)) throw error;
        Failed.push({ Id, SenderFault: error.status < 500, Code: error.code, Message: error.message });
      }
    }
    return { Successful, Failed };
  }

  type Operation = (body: Record<string, unknown>, gone: AbortSignal) => unknown;
  const operations: Record<string, Operation> = {
    CreateQueue(body) {
      const name = stringParam(body, 'QueueName');
      if (name.endsWith('.fifo')) throw errors.invalid('The local SQS endpoint has standard queues only: FIFO queues are not modelled.');
      if (!/^[\w-]{1,80}$/.test(name)) {
        throw errors.invalid('Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
      }
      const settings = checkedSettings(stringMap(body, 'Attributes'));
      const existing = queues.get(name);
      if (existing) {
        // As on AWS: the same attributes again are the same queue; different ones are refused.
        for (const [attribute, value] of settings) {
          if ((existing.settings.get(attribute) ?? DEFAULTS[attribute]) !== value) {
            throw new SqsApiError('QueueNameExists', `A queue already exists with the same name and a different value for attribute ${attribute}`, 'QueueAlreadyExists');
          }
        }
        return { QueueUrl: urlOf(name) };
      }
      const deleted = deletedAt.get(name);
      if (deleted !== undefined && now() - deleted < QUIET_SECONDS * 1000) {
        throw new SqsApiError(
          'QueueDeletedRecently',
          'You must wait 60 seconds after deleting a queue before you can create another with the same name.',
          'AWS.SimpleQueueService.QueueDeletedRecently',
        );
      }
      const at = now();
      queues.set(name, {
        name,
        arn: queueArnOf(name),
        settings,
        tags: stringMap(body, 'tags'),
        createdAt: at,
        modifiedAt: at,
        messages: new Map(),
        waiters: new Set(),
      });
      log(`[sqs] created queue ${name}\n`);
      return { QueueUrl: urlOf(name) };
    },

    GetQueueUrl(body) {
      const name = stringParam(body, 'QueueName');
      if (!queues.has(name)) throw errors.noQueue();
      return { QueueUrl: urlOf(name) };
    },

    ListQueues(body) {
      const prefix = typeof body.QueueNamePrefix === 'string' ? body.QueueNamePrefix : '';
      const max = integerParam(body, 'MaxResults', 1, 1000);
      const names = [...queues.keys()].filter((name) => name.startsWith(prefix)).sort();
      const start = typeof body.NextToken === 'string' ? Number(Buffer.from(body.NextToken, 'base64').toString()) || 0 : 0;
      const page = names.slice(start, max === undefined ? 1000 : start + max);
      const more = max !== undefined && start + max < names.length;
      return {
        ...(page.length > 0 ? { QueueUrls: page.map(urlOf) } : {}),
        ...(more ? { NextToken: Buffer.from(String(start + max)).toString('base64') } : {}),
      };
    },

    GetQueueAttributes(body) {
      const queue = queueOf(body);
      const wanted = stringList(body, 'AttributeNames');
      const { visible, delayed, inFlight } = counts(queue, now());
      const all: Record<string, string> = {
        ...Object.fromEntries(Object.entries(DEFAULTS)),
        ...Object.fromEntries(queue.settings),
        QueueArn: queue.arn,
        ApproximateNumberOfMessages: String(visible),
        ApproximateNumberOfMessagesDelayed: String(delayed),
        ApproximateNumberOfMessagesNotVisible: String(inFlight),
        CreatedTimestamp: seconds(queue.createdAt),
        LastModifiedTimestamp: seconds(queue.modifiedAt),
      };
      const known = new Set([...Object.keys(DEFAULTS), ...Object.keys(INTEGER_ATTRIBUTES), ...OTHER_ATTRIBUTES, ...READ_ONLY_ATTRIBUTES, 'All']);
      const unknown = wanted.find((name) => !known.has(name) && !FIFO_ATTRIBUTES.has(name));
      if (unknown) throw new SqsApiError('InvalidAttributeName', `Unknown Attribute ${unknown}.`);
      const picked = wanted.includes('All') ? all : Object.fromEntries(wanted.filter((name) => name in all).map((name) => [name, all[name]!]));
      return Object.keys(picked).length > 0 ? { Attributes: picked } : {};
    },

    SetQueueAttributes(body) {
      const queue = queueOf(body);
      const settings = checkedSettings(stringMap(body, 'Attributes'));
      for (const [name, value] of settings) queue.settings.set(name, value);
      if (stringMap(body, 'Attributes').RedrivePolicy === '') queue.settings.delete('RedrivePolicy');
      queue.modifiedAt = now();
      wake(queue);
      return {};
    },

    DeleteQueue(body) {
      const queue = queueOf(body);
      queues.delete(queue.name);
      deletedAt.set(queue.name, now());
      wake(queue);
      return {};
    },

    PurgeQueue(body) {
      const queue = queueOf(body);
      const at = now();
      if (queue.purgedAt !== undefined && at - queue.purgedAt < QUIET_SECONDS * 1000) {
        throw new SqsApiError(
          'PurgeQueueInProgress',
          `Only one PurgeQueue operation on ${queue.name} is allowed every 60 seconds.`,
          'AWS.SimpleQueueService.PurgeQueueInProgress',
          403,
        );
      }
      queue.purgedAt = at;
      queue.messages.clear();
      return {};
    },

    SendMessage(body) {
      return send(queueOf(body), body);
    },

    SendMessageBatch(body) {
      const queue = queueOf(body);
      const entries = batchEntries(body, (entry) => (typeof entry.MessageBody === 'string' ? Buffer.byteLength(entry.MessageBody) : 0));
      return perEntry(entries, (entry) => send(queue, entry));
    },

    async ReceiveMessage(body, gone) {
      const queue = queueOf(body);
      const max = integerParam(body, 'MaxNumberOfMessages', 1, 10) ?? 1;
      const visibility = integerParam(body, 'VisibilityTimeout', 0, 43_200) ?? setting(queue, 'VisibilityTimeout');
      const wait = integerParam(body, 'WaitTimeSeconds', 0, MAX_WAIT_SECONDS) ?? setting(queue, 'ReceiveMessageWaitTimeSeconds');
      const systemWanted = [...stringList(body, 'AttributeNames'), ...stringList(body, 'MessageSystemAttributeNames')];
      const wantsAttribute = attributeFilter(stringList(body, 'MessageAttributeNames'));
      const until = Date.now() + wait * 1000;
      let taken: StoredMessage[] = [];
      for (;;) {
        if (gone.aborted || stopped || !queues.has(queue.name)) break;
        taken = take(queue, max, visibility * 1000);
        if (taken.length > 0 || Date.now() >= until) break;
        await changeOrTimeout(queue, until, gone);
      }
      if (taken.length === 0) return {};
      return {
        Messages: taken.map((message) => {
          const attributes = Object.fromEntries(Object.entries(message.attributes).filter(([name]) => wantsAttribute(name)));
          const system = systemAttributesOf(message, systemWanted);
          const hasAttributes = Object.keys(attributes).length > 0;
          return {
            MessageId: message.id,
            ReceiptHandle: message.receipt,
            MD5OfBody: message.md5OfBody,
            Body: message.body,
            ...(system ? { Attributes: system } : {}),
            ...(hasAttributes ? { MD5OfMessageAttributes: md5OfMessageAttributes(attributes), MessageAttributes: attributes } : {}),
          };
        }),
      };
    },

    DeleteMessage(body) {
      deleteMessage(queueOf(body), body.ReceiptHandle);
      return {};
    },

    DeleteMessageBatch(body) {
      const queue = queueOf(body);
      return perEntry(batchEntries(body), (entry) => {
        deleteMessage(queue, entry.ReceiptHandle);
        return {};
      });
    },

    ChangeMessageVisibility(body) {
      changeVisibility(queueOf(body), body.ReceiptHandle, body);
      return {};
    },

    ChangeMessageVisibilityBatch(body) {
      const queue = queueOf(body);
      return perEntry(batchEntries(body), (entry) => {
        changeVisibility(queue, entry.ReceiptHandle, entry);
        return {};
      });
    },

    TagQueue(body) {
      Object.assign(queueOf(body).tags, stringMap(body, 'Tags'));
      return {};
    },

    UntagQueue(body) {
      const queue = queueOf(body);
      for (const key of stringList(body, 'TagKeys')) delete queue.tags[key];
      return {};
    },

    ListQueueTags(body) {
      const { tags } = queueOf(body);
      return Object.keys(tags).length > 0 ? { Tags: { ...tags } } : {};
    },
  };

  const reply = (res: ServerResponse, status: number, body: unknown, error?: SqsApiError) => {
    if (res.destroyed) return;
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': randomUUID(),
      ...(error ? { 'x-amzn-query-error': `${error.code};${error.status < 500 ? 'Sender' : 'Receiver'}` } : {}),
    });
    res.end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const gone = new AbortController();
    // Before the answer is written, a closed response is a client that hung up.
    res.once('close', () => gone.abort());
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const contentType = String(req.headers['content-type'] ?? '');
      if (req.method === 'POST' && !target && contentType.startsWith('application/x-www-form-urlencoded')) {
        throw new SqsApiError(
          'InvalidAction',
          'This local SQS endpoint speaks the JSON protocol only (AWS SDK v3, AWS CLI v2, a recent AWS CLI v1); this client sent the query protocol.',
        );
      }
      const operation = operations[target.replace(/^AmazonSQS\./, '')];
      if (req.method !== 'POST' || !target.startsWith('AmazonSQS.') || !operation) {
        throw new SqsApiError('UnknownOperationException', `Unsupported operation: ${target || req.method}`, 'InvalidAction');
      }
      const text = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown>;
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        throw new SqsApiError('SerializationException', 'The request body is not JSON.', 'MalformedQueryString');
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new SqsApiError('SerializationException', 'The request body is not a JSON object.');
      reply(res, 200, await operation(body, gone.signal));
    } catch (error) {
      if (error instanceof SqsApiError) {
        reply(res, error.status, { __type: `com.amazonaws.sqs#${error.shape}`, message: error.message }, error);
      } else {
        log(`[sqs] internal error: ${(error as Error).stack ?? String(error)}\n`);
        const internal = new SqsApiError('InternalError', 'We encountered an internal error. Please try again.', 'InternalError', 500);
        reply(res, 500, { __type: 'com.amazonaws.sqs#InternalError', message: internal.message }, internal);
      }
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;

  return {
    endpoint: base,
    port,
    queueUrl: urlOf,
    async stop() {
      stopped = true;
      for (const queue of queues.values()) wake(queue);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
