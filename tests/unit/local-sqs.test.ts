import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  type Message,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiveMessageCommand,
  type ReceiveMessageCommandInput,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  TooManyEntriesInBatchRequest,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { ServiceDefinition } from '../../localstack/service';
import { type LocalSqs, md5OfMessageAttributes, startLocalSqs } from '../../localstack/sqs';
import {
  createQueues,
  type Invoker,
  type LocalSqsMappings,
  queueResourcesOf,
  settleBatch,
  type SqsMapping,
  sqsMappingsOf,
  startSqsMappings,
} from '../../localstack/sqs-events';
import type { InvocationOutcome } from '../../localstack/streams';

/*
 * The local SQS endpoint (localstack/sqs.ts), in process, through the AWS SDK
 * the functions use: what a standard queue does with delays, visibility
 * timeouts, receive counts, dead letters, retention and long polls. Then the
 * local event source mapping of `sqs` events (localstack/sqs-events.ts) on that
 * endpoint, with a fake in place of the Lambda invoke endpoint. Message timing
 * runs on a clock the tests move, except where a long poll or the mapping has to
 * wait for real.
 */

const ACCOUNT = '000000000000';
const arnOf = (name: string) => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;

let clock = Date.UTC(2030, 0, 1);
const advance = (seconds: number) => {
  clock += seconds * 1000;
};

let sqs: LocalSqs;
let client: SQSClient;

async function start(options: { realTime?: boolean } = {}) {
  sqs = await startLocalSqs({ port: 0, ...(options.realTime ? {} : { now: () => clock }) });
  client = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
}

async function stop() {
  client.destroy();
  await sqs.stop();
}

async function queue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  return (await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
}

const send = (QueueUrl: string, MessageBody: string, extra: { DelaySeconds?: number } = {}) =>
  client.send(new SendMessageCommand({ QueueUrl, MessageBody, ...extra }));

async function receive(QueueUrl: string, input: Partial<ReceiveMessageCommandInput> = {}): Promise<Message[]> {
  const answer = await client.send(
    new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'], ...input }),
  );
  return answer.Messages ?? [];
}

async function counts(QueueUrl: string) {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

const bodies = (messages: Message[]) => messages.map((m) => m.Body);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What `probe` gives once it equals `expected`, or its last answer after `timeoutMs` (for what the mapping does after an invocation). */
async function settled<T>(probe: () => Promise<T>, expected: T, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (JSON.stringify(value) === JSON.stringify(expected) || Date.now() > deadline) return value;
    await pause(50);
  }
}
const EMPTY = { visible: 0, delayed: 0, inFlight: 0 };

describe('the local SQS endpoint', () => {
  beforeEach(() => start());
  afterEach(() => stop());

  it('names queues by URL on its own port and by ARN in the local account, and lists them', async () => {
    const url = await queue('deliveries');

    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    const listed = await client.send(new ListQueuesCommand({}));
    const found = await client.send(new GetQueueUrlCommand({ QueueName: 'deliveries' }));

    expect(url).toBe(`${sqs.endpoint}/${ACCOUNT}/deliveries`);
    expect(Attributes).toEqual({ QueueArn: arnOf('deliveries') });
    expect(listed.QueueUrls).toEqual([url]);
    expect(found.QueueUrl).toBe(url);
  });

  it('hands a sent message to a receive with its body, checksums and attributes, and a delete removes it', async () => {
    const url = await queue('deliveries');
    const attributes = { kind: { DataType: 'String', StringValue: 'booking.confirmed' }, attempt: { DataType: 'Number', StringValue: '3' } };

    const sent = await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"id":1}', MessageAttributes: attributes }));
    const [message] = await receive(url);
    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message!.ReceiptHandle }));
    advance(3600);

    expect(message).toMatchObject({
      MessageId: sent.MessageId,
      Body: '{"id":1}',
      MD5OfBody: sent.MD5OfMessageBody,
      MD5OfMessageAttributes: md5OfMessageAttributes(attributes),
      MessageAttributes: attributes,
      Attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(clock - 3600_000), ApproximateFirstReceiveTimestamp: String(clock - 3600_000) },
    });
    expect(sent.MD5OfMessageAttributes).toBe(md5OfMessageAttributes(attributes));
    expect(await receive(url)).toEqual([]);
    expect(await counts(url)).toEqual({ visible: 0, delayed: 0, inFlight: 0 });
  });

  it('keeps a message sent with DelaySeconds out of receives, counted as delayed, until it is due', async () => {
    const url = await queue('deliveries');
    await send(url, 'later', { DelaySeconds: 30 });

    const early = await receive(url);
    const whileDelayed = await counts(url);
    advance(30);
    const due = await receive(url);

    expect(early).toEqual([]);
    expect(whileDelayed).toEqual({ visible: 0, delayed: 1, inFlight: 0 });
    expect(bodies(due)).toEqual(['later']);
  });

  it("delays every message by the queue's DelaySeconds when the send names none", async () => {
    const url = await queue('deliveries', { DelaySeconds: '10' });
    await send(url, 'later');

    const early = await receive(url);
    advance(10);

    expect(early).toEqual([]);
    expect(bodies(await receive(url))).toEqual(['later']);
  });

  it('hides a received message for the visibility timeout, then hands it out again, its receive count one higher, with a new receipt handle', async () => {
    const url = await queue('deliveries', { VisibilityTimeout: '60' });
    await send(url, 'again');

    const [first] = await receive(url);
    advance(59);
    const hidden = await receive(url);
    const inFlight = await counts(url);
    advance(1);
    const [second] = await receive(url);

    expect(hidden).toEqual([]);
    expect(inFlight).toEqual({ visible: 0, delayed: 0, inFlight: 1 });
    expect(second).toMatchObject({ MessageId: first!.MessageId, Attributes: { ApproximateReceiveCount: '2' } });
    expect(second!.ReceiptHandle).not.toBe(first!.ReceiptHandle);
  });

  it('takes the visibility timeout a receive asks for over the queue’s', async () => {
    const url = await queue('deliveries', { VisibilityTimeout: '600' });
    await send(url, 'soon');

    await receive(url, { VisibilityTimeout: 5 });
    advance(5);

    expect(bodies(await receive(url))).toEqual(['soon']);
  });

  it('deletes a message only with the receipt handle of its latest receive', async () => {
    const url = await queue('deliveries', { VisibilityTimeout: '10' });
    await send(url, 'twice');
    const [first] = await receive(url);
    advance(10);
    await receive(url);

    await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: first!.ReceiptHandle }));

    expect(await counts(url)).toEqual({ visible: 0, delayed: 0, inFlight: 1 });
  });

  it('makes a message receivable at once when its visibility timeout is changed to 0', async () => {
    const url = await queue('deliveries', { VisibilityTimeout: '600' });
    await send(url, 'back');
    const [message] = await receive(url);

    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: message!.ReceiptHandle, VisibilityTimeout: 0 }));

    expect(await receive(url)).toMatchObject([{ Body: 'back', Attributes: { ApproximateReceiveCount: '2' } }]);
  });

  it('counts visible, delayed and in-flight messages apart', async () => {
    const url = await queue('deliveries');
    await send(url, 'in flight');
    await receive(url, { MaxNumberOfMessages: 1 });
    await send(url, 'delayed', { DelaySeconds: 900 });
    await send(url, 'visible 1');
    await send(url, 'visible 2');

    expect(await counts(url)).toEqual({ visible: 2, delayed: 1, inFlight: 1 });
  });

  it('hands out at most MaxNumberOfMessages, and refuses more than 10', async () => {
    const url = await queue('deliveries');
    for (let i = 0; i < 12; i += 1) await send(url, `m${i}`);

    const three = await receive(url, { MaxNumberOfMessages: 3 });

    expect(three).toHaveLength(3);
    await expect(receive(url, { MaxNumberOfMessages: 11 })).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('sends and deletes in batches, answering entry by entry', async () => {
    const url = await queue('deliveries');

    const sent = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'a', MessageBody: 'one' },
          { Id: 'b', MessageBody: 'two', DelaySeconds: 901 },
          { Id: 'c', MessageBody: 'three' },
        ],
      }),
    );
    const received = await receive(url);
    const deleted = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: [...received.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle })), { Id: 'bad', ReceiptHandle: 'not-a-handle' }],
      }),
    );

    expect(sent.Successful!.map((e) => e.Id)).toEqual(['a', 'c']);
    expect(sent.Failed).toEqual([expect.objectContaining({ Id: 'b', Code: 'InvalidParameterValue', SenderFault: true })]);
    expect(bodies(received)).toEqual(['one', 'three']);
    expect(deleted.Successful!.map((e) => e.Id)).toEqual(['m0', 'm1']);
    expect(deleted.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid' })]);
    expect(await counts(url)).toEqual({ visible: 0, delayed: 0, inFlight: 0 });
  });

  it('refuses a batch of more than 10 entries, or with an id twice, whole', async () => {
    const url = await queue('deliveries');
    const entries = (ids: string[]) => ids.map((Id) => ({ Id, MessageBody: Id }));

    await expect(client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries([...'abcdefghijk']) }))).rejects.toBeInstanceOf(
      TooManyEntriesInBatchRequest,
    );
    await expect(client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries(['a', 'a']) }))).rejects.toMatchObject({
      name: 'BatchEntryIdsNotDistinct',
    });
    expect(await counts(url)).toEqual({ visible: 0, delayed: 0, inFlight: 0 });
  });

  it('moves a message received maxReceiveCount times to the dead-letter queue, with its id, body and source', async () => {
    const dlq = await queue('dead-letters');
    const url = await queue('deliveries', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf('dead-letters'), maxReceiveCount: 2 }) });
    const { MessageId } = await send(url, 'poison');

    const receives = [await receive(url, { VisibilityTimeout: 0 }), await receive(url, { VisibilityTimeout: 0 }), await receive(url)];
    const dead = await receive(dlq);

    expect(receives.map(bodies)).toEqual([['poison'], ['poison'], []]);
    expect(dead).toMatchObject([{ MessageId, Body: 'poison', Attributes: { DeadLetterQueueSourceArn: arnOf('deliveries') } }]);
    expect(await counts(url)).toEqual({ visible: 0, delayed: 0, inFlight: 0 });
  });

  it('refuses a redrive policy whose dead-letter queue does not exist', async () => {
    await expect(
      queue('deliveries', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf('missing'), maxReceiveCount: 2 }) }),
    ).rejects.toMatchObject({ name: 'InvalidParameterValue', message: expect.stringMatching(/Dead letter target does not exist/) });
  });

  it('forgets a message once it is older than the retention period, in flight or not', async () => {
    const url = await queue('deliveries', { MessageRetentionPeriod: '60' });
    await send(url, 'old');
    await receive(url, { VisibilityTimeout: 120 });
    advance(30);
    await send(url, 'young');

    advance(30);

    expect(await counts(url)).toEqual({ visible: 1, delayed: 0, inFlight: 0 });
    expect(bodies(await receive(url))).toEqual(['young']);
  });

  it('answers an unknown queue with QueueDoesNotExist, the error the SDK knows', async () => {
    const missing = `${sqs.endpoint}/${ACCOUNT}/missing`;

    await expect(send(missing, 'x')).rejects.toBeInstanceOf(QueueDoesNotExist);
    await expect(client.send(new GetQueueUrlCommand({ QueueName: 'missing' }))).rejects.toMatchObject({
      name: 'QueueDoesNotExist',
      message: 'The specified queue does not exist.',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('refuses a DelaySeconds over 15 minutes with InvalidParameterValue', async () => {
    const url = await queue('deliveries');

    await expect(send(url, 'x', { DelaySeconds: 901 })).rejects.toMatchObject({ name: 'InvalidParameterValue', message: expect.stringMatching(/DelaySeconds/) });
  });

  it('creates a queue again as the same queue, and refuses it with other attributes', async () => {
    const url = await queue('deliveries', { VisibilityTimeout: '180' });

    expect(await queue('deliveries', { VisibilityTimeout: '180' })).toBe(url);
    await expect(queue('deliveries', { VisibilityTimeout: '30' })).rejects.toBeInstanceOf(QueueNameExists);
  });

  it('purges a queue once a minute, as SQS allows', async () => {
    const url = await queue('deliveries');
    await send(url, 'x');

    await client.send(new PurgeQueueCommand({ QueueUrl: url }));

    expect(await counts(url)).toEqual({ visible: 0, delayed: 0, inFlight: 0 });
    await expect(client.send(new PurgeQueueCommand({ QueueUrl: url }))).rejects.toMatchObject({ name: 'PurgeQueueInProgress' });
    advance(60);
    await client.send(new PurgeQueueCommand({ QueueUrl: url }));
  });
});

describe('long polling', () => {
  beforeEach(() => start());
  afterEach(() => stop());

  it('answers a waiting receive as soon as a message arrives', async () => {
    const url = await queue('deliveries');
    const began = Date.now();

    const waiting = receive(url, { WaitTimeSeconds: 20 });
    setTimeout(() => void send(url, 'arrived'), 200);
    const messages = await waiting;

    expect(bodies(messages)).toEqual(['arrived']);
    expect(Date.now() - began).toBeLessThan(5000);
  });

  it('answers with no message when nothing arrives within WaitTimeSeconds', async () => {
    const url = await queue('deliveries');
    const began = Date.now();

    const messages = await receive(url, { WaitTimeSeconds: 1 });

    expect(messages).toEqual([]);
    expect(Date.now() - began).toBeGreaterThanOrEqual(950);
  });

  it('takes no message for a receive whose client hung up', async () => {
    const url = await queue('deliveries');
    const hangUp = new AbortController();
    const abandoned = client
      .send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 20 }), { abortSignal: hangUp.signal })
      .catch((error: Error) => error.name);
    await pause(100);

    hangUp.abort();
    expect(await abandoned).toBe('AbortError');
    await pause(100);
    await send(url, 'still here');

    expect(await counts(url)).toEqual({ visible: 1, delayed: 0, inFlight: 0 });
  });
});

const record = (messageId: string): SQSRecord =>
  ({ messageId, receiptHandle: `h-${messageId}`, body: messageId, eventSource: 'aws:sqs' }) as unknown as SQSRecord;
const ids = (records: SQSRecord[]) => records.map((r) => r.messageId);

describe('settling a batch as Lambda does', () => {
  const batch = ['a', 'b', 'c'].map(record);
  const answered = (result: unknown): InvocationOutcome => ({ ok: true, result });

  it('is done with the whole batch when the function succeeds', () => {
    const settled = settleBatch(batch, answered({ batchItemFailures: [{ itemIdentifier: 'b' }] }), false);

    expect({ done: ids(settled.done), again: ids(settled.again) }).toEqual({ done: ['a', 'b', 'c'], again: [] });
  });

  it('with ReportBatchItemFailures, leaves the messages the answer names and is done with the others', () => {
    const settled = settleBatch(batch, answered({ batchItemFailures: [{ itemIdentifier: 'b' }, { itemIdentifier: 'c' }] }), true);

    expect({ done: ids(settled.done), again: ids(settled.again), failure: settled.failure }).toEqual({ done: ['a'], again: ['b', 'c'], failure: undefined });
  });

  it('leaves the whole batch when the invocation fails', () => {
    const settled = settleBatch(batch, { ok: false, error: 'Task timed out' }, true);

    expect({ done: ids(settled.done), again: ids(settled.again), failure: settled.failure }).toEqual({ done: [], again: ['a', 'b', 'c'], failure: 'Task timed out' });
  });

  it('leaves the whole batch when the answer names a message not in it, or none', () => {
    for (const result of [{ batchItemFailures: [{ itemIdentifier: 'z' }] }, { batchItemFailures: [{ itemIdentifier: '' }] }, { batchItemFailures: [{ id: 'a' }] }]) {
      expect(ids(settleBatch(batch, answered(result), true).again)).toEqual(['a', 'b', 'c']);
    }
  });

  it('is done with the whole batch for an empty or null list, or no answer', () => {
    for (const result of [{ batchItemFailures: [] }, { batchItemFailures: null }, {}, null, undefined]) {
      expect(ids(settleBatch(batch, answered(result), true).done)).toEqual(['a', 'b', 'c']);
    }
  });
});

/** An invoker that records each event and answers as `answer` decides (it may wait). */
function fakeFunction(answer: (event: SQSEvent, call: number) => InvocationOutcome | Promise<InvocationOutcome>) {
  const events: SQSEvent[] = [];
  const waiters: (() => void)[] = [];
  const invoke: Invoker = async (_name, event) => {
    events.push(event);
    waiters.splice(0).forEach((wake) => wake());
    return answer(event, events.length);
  };
  /** Resolves once the function has been invoked `n` times in all. */
  const invoked = async (n: number, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (events.length < n) {
      if (Date.now() > deadline) throw new Error(`invoked ${events.length} times, not ${n}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    return events;
  };
  return { invoke, events, invoked };
}

const mappingOf = (queueName: string, fields: Partial<SqsMapping> = {}): SqsMapping => ({
  functionName: 'ticket-booking-dev-deliverWebhooks',
  queueName,
  queueArn: arnOf(queueName),
  batchSize: 10,
  batchWindowMs: 0,
  reportBatchItemFailures: true,
  filterPatterns: [],
  concurrency: 5,
  ...fields,
});
const ok: InvocationOutcome = { ok: true, result: { batchItemFailures: [] } };

describe('the event source mapping of an sqs event', () => {
  let mappings: LocalSqsMappings | undefined;
  beforeEach(() => start({ realTime: true }));
  afterEach(async () => {
    await mappings?.stop();
    mappings = undefined;
    await stop();
  });

  async function run(fn: { invoke: Invoker }, mapping: SqsMapping) {
    mappings = await startSqsMappings({ sqsEndpoint: sqs.endpoint, mappings: [mapping], invoke: fn.invoke });
  }

  it('invokes the function with the SQS event Lambda sends, and deletes the batch it handled', async () => {
    const url = await queue('deliveries');
    const fn = fakeFunction(() => ok);
    await run(fn, mappingOf('deliveries'));

    const { MessageId } = await client.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: '{"id":1}', MessageAttributes: { kind: { DataType: 'String', StringValue: 'booking.confirmed' } } }),
    );
    const [event] = await fn.invoked(1);

    expect(event!.Records).toEqual([
      {
        messageId: MessageId,
        receiptHandle: expect.any(String),
        body: '{"id":1}',
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: expect.stringMatching(/^\d{13}$/),
          ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
          SenderId: expect.any(String),
        },
        messageAttributes: { kind: { stringValue: 'booking.confirmed', stringListValues: [], binaryListValues: [], dataType: 'String' } },
        md5OfBody: expect.stringMatching(/^[0-9a-f]{32}$/),
        md5OfMessageAttributes: expect.stringMatching(/^[0-9a-f]{32}$/),
        eventSource: 'aws:sqs',
        eventSourceARN: arnOf('deliveries'),
        awsRegion: 'us-east-1',
      },
    ]);
    expect(await settled(() => counts(url), EMPTY)).toEqual(EMPTY);
  });

  it('deletes all but the messages the function names, which come again after the visibility timeout', async () => {
    const url = await queue('deliveries', { VisibilityTimeout: '1' });
    const fn = fakeFunction((event, call) =>
      call === 1 ? { ok: true, result: { batchItemFailures: event.Records.filter((r) => r.body === 'b').map((r) => ({ itemIdentifier: r.messageId })) } } : ok,
    );
    await client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: ['a', 'b', 'c'].map((b) => ({ Id: b, MessageBody: b })) }));

    await run(fn, mappingOf('deliveries', { concurrency: 1 }));
    const events = await fn.invoked(2);

    expect(events.map((e) => e.Records.map((r) => [r.body, r.attributes.ApproximateReceiveCount]))).toEqual([
      [
        ['a', '1'],
        ['b', '1'],
        ['c', '1'],
      ],
      [['b', '2']],
    ]);
    expect(await settled(() => counts(url), EMPTY)).toEqual(EMPTY);
    const expected = { invocations: 2, failedBatches: 0, messagesDeleted: 3, messagesRetried: 1, messagesFiltered: 0 };
    expect(await settled(async () => mappings!.stats(), expected)).toEqual(expected);
  });

  it('leaves a batch whose invocation fails, until the queue moves it to its dead-letter queue', async () => {
    const dlq = await queue('dead-letters');
    const url = await queue('deliveries', {
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf('dead-letters'), maxReceiveCount: 2 }),
    });
    const fn = fakeFunction(() => ({ ok: false, error: '{"errorType":"Error","errorMessage":"receiver down"}' }));
    await run(fn, mappingOf('deliveries'));

    await send(url, 'poison');
    await fn.invoked(2);
    const dead = await receive(dlq, { WaitTimeSeconds: 5 });

    expect(fn.events.map((e) => e.Records[0]!.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(bodies(dead)).toEqual(['poison']);
    expect(mappings!.stats()).toMatchObject({ invocations: 2, failedBatches: 2, messagesDeleted: 0 });
  });

  it('runs another batch while a slow one is still in the function', async () => {
    const url = await queue('deliveries');
    let release!: () => void;
    const slow = new Promise<void>((resolve) => {
      release = resolve;
    });
    const fn = fakeFunction(async (event) => {
      if (event.Records.some((r) => r.body === 'slow')) await slow;
      return ok;
    });
    await run(fn, mappingOf('deliveries'));

    await send(url, 'slow');
    await fn.invoked(1);
    await send(url, 'quick');
    const events = await fn.invoked(2);
    release();

    expect(events.map((e) => e.Records.map((r) => r.body))).toEqual([['slow'], ['quick']]);
  });

  it('gathers up to batchSize messages over the batching window into one invocation', async () => {
    const url = await queue('deliveries');
    const fn = fakeFunction(() => ok);
    await run(fn, mappingOf('deliveries', { batchSize: 25, batchWindowMs: 1000, concurrency: 1 }));

    const entries = Array.from({ length: 15 }, (_, i) => ({ Id: `m${i}`, MessageBody: `m${i}` }));
    await client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries.slice(0, 10) }));
    await client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries.slice(10) }));
    const [event] = await fn.invoked(1);

    expect(event!.Records).toHaveLength(15);
  });

  it('deletes unseen the messages that match none of the filter patterns', async () => {
    const url = await queue('deliveries');
    const fn = fakeFunction(() => ok);
    await run(fn, mappingOf('deliveries', { filterPatterns: [{ body: { kind: ['booking.confirmed'] } }], concurrency: 1 }));

    await send(url, JSON.stringify({ kind: 'booking.cancelled' }));
    await send(url, 'not json');
    await send(url, JSON.stringify({ kind: 'booking.confirmed' }));
    const events = await fn.invoked(1);

    expect(await settled(() => counts(url), EMPTY)).toEqual(EMPTY);
    expect(events.flatMap((e) => e.Records.map((r) => JSON.parse(r.body) as unknown))).toEqual([{ kind: 'booking.confirmed' }]);
    expect(mappings!.stats().messagesFiltered).toBe(2);
  });

  it('leaves no message in flight when it stops while polling', async () => {
    const url = await queue('deliveries');
    await run(fakeFunction(() => ok), mappingOf('deliveries'));
    await pause(200); // its pollers are waiting in their receives by now

    await mappings!.stop();
    mappings = undefined;
    // The hang-up travels on the pollers' connections: a send on another one may overtake it.
    await pause(100);
    await send(url, 'after the stop');

    expect(await counts(url)).toEqual({ visible: 1, delayed: 0, inFlight: 0 });
  });
});

/** A service as `serverless print` resolves it: `!GetAtt X.Arn` is `{ 'Fn::GetAtt': ['X', 'Arn'] }`. */
function serviceWith(fields: { functionTimeout?: number; sqsEvent?: unknown; resources?: Record<string, unknown> } = {}): ServiceDefinition {
  return {
    service: 'ticket-booking',
    provider: { stage: 'dev', timeout: 10 } as ServiceDefinition['provider'],
    functions: {
      deliverWebhooks: {
        name: 'ticket-booking-dev-deliverWebhooks',
        ...(fields.functionTimeout !== undefined ? { timeout: fields.functionTimeout } : {}),
        events: [
          { sqs: fields.sqsEvent ?? { arn: { 'Fn::GetAtt': ['WebhookDeliveryQueue', 'Arn'] }, batchSize: 10, functionResponseType: 'ReportBatchItemFailures' } },
        ],
      },
      api: { name: 'ticket-booking-dev-api', events: [{ httpApi: { path: '/', method: 'get' } }] },
    } as ServiceDefinition['functions'],
    resources: {
      Resources: (fields.resources ?? {
        WebhookDeliveryQueue: {
          Type: 'AWS::SQS::Queue',
          Properties: {
            QueueName: 'ticket-booking-dev-webhook-deliveries',
            VisibilityTimeout: 180,
            MessageRetentionPeriod: 345600,
            RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['WebhookDeliveryDeadLetters', 'Arn'] }, maxReceiveCount: 20 },
          },
        },
        WebhookDeliveryDeadLetters: {
          Type: 'AWS::SQS::Queue',
          Properties: { QueueName: 'ticket-booking-dev-webhook-dead-letters', MessageRetentionPeriod: 1209600 },
        },
        BookingTable: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      }) as ServiceDefinition['resources']['Resources'],
    },
  };
}

describe("serverless.yml's queues and sqs events", () => {
  beforeEach(() => start());
  afterEach(() => stop());

  it('creates the queues of the resources, the dead-letter queue first, with their properties as attributes', async () => {
    const created = await createQueues(sqs.endpoint, queueResourcesOf(serviceWith()));

    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: created.WebhookDeliveryQueue!.url, AttributeNames: ['All'] }));

    expect(created).toEqual({
      WebhookDeliveryQueue: {
        name: 'ticket-booking-dev-webhook-deliveries',
        url: `${sqs.endpoint}/${ACCOUNT}/ticket-booking-dev-webhook-deliveries`,
        arn: arnOf('ticket-booking-dev-webhook-deliveries'),
      },
      WebhookDeliveryDeadLetters: expect.objectContaining({ arn: arnOf('ticket-booking-dev-webhook-dead-letters') }),
    });
    expect(Attributes).toMatchObject({
      VisibilityTimeout: '180',
      MessageRetentionPeriod: '345600',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf('ticket-booking-dev-webhook-dead-letters'), maxReceiveCount: 20 }),
    });
  });

  it('maps deliverWebhooks onto the delivery queue, 10 at a time, answered message by message', () => {
    expect(sqsMappingsOf(serviceWith())).toEqual([
      {
        functionName: 'ticket-booking-dev-deliverWebhooks',
        queueName: 'ticket-booking-dev-webhook-deliveries',
        queueArn: arnOf('ticket-booking-dev-webhook-deliveries'),
        batchSize: 10,
        batchWindowMs: 0,
        reportBatchItemFailures: true,
        filterPatterns: [],
        concurrency: 5,
      },
    ]);
  });

  it('takes a queue ARN written out, and the short form `sqs: <arn>`', () => {
    const [mapping] = sqsMappingsOf(serviceWith({ sqsEvent: arnOf('ticket-booking-dev-webhook-deliveries') }));

    expect(mapping).toMatchObject({ queueName: 'ticket-booking-dev-webhook-deliveries', batchSize: 10, reportBatchItemFailures: false });
  });

  it("refuses, as Lambda does, a function whose timeout outlasts the queue's visibility timeout", () => {
    expect(() => sqsMappingsOf(serviceWith({ functionTimeout: 300 }))).toThrow(/visibility timeout \(180 s\) is less than the function's timeout \(300 s\)/);
  });

  it('refuses a batch over 10 without a batching window, as Lambda does', () => {
    const sqsEvent = { arn: { 'Fn::GetAtt': ['WebhookDeliveryQueue', 'Arn'] }, batchSize: 50 };

    expect(() => sqsMappingsOf(serviceWith({ sqsEvent }))).toThrow(/maximumBatchingWindow/);
  });

  it('refuses an sqs event whose arn names no queue of serverless.yml', () => {
    const sqsEvent = { arn: { 'Fn::GetAtt': ['Elsewhere', 'Arn'] } };

    expect(() => sqsMappingsOf(serviceWith({ sqsEvent }))).toThrow(/names no queue/);
  });
});

describe("serverless.yml's webhook delivery queue", () => {
  // As `serverless print` would resolve it, for what matters here: !GetAtt, the names, the dev stage.
  const text = readFileSync(resolve(__dirname, '../../serverless.yml'), 'utf8').replaceAll('${self:service}', 'ticket-booking').replaceAll('${sls:stage}', 'dev');
  const getAtt = { tag: '!GetAtt', resolve: (value: string) => ({ 'Fn::GetAtt': value.split('.') }) };
  const yml = parseDocument(text, { strict: false, logLevel: 'silent', customTags: [getAtt] }).toJS() as {
    provider: Record<string, unknown>;
    functions: Record<string, Record<string, unknown>>;
    resources: ServiceDefinition['resources'];
  };
  const service = {
    service: 'ticket-booking',
    provider: { ...yml.provider, stage: 'dev' },
    functions: Object.fromEntries(Object.entries(yml.functions).map(([key, fn]) => [key, { ...fn, name: `ticket-booking-dev-${key}` }])),
    resources: yml.resources,
  } as unknown as ServiceDefinition;

  it('is delivered to deliverWebhooks, 10 at a time, answered message by message, within the queue’s visibility timeout; its dead letters to rescueWebhookDeliveries', () => {
    expect(sqsMappingsOf(service)).toEqual([
      expect.objectContaining({
        functionName: 'ticket-booking-dev-deliverWebhooks',
        queueName: 'ticket-booking-dev-webhook-deliveries',
        batchSize: 10,
        reportBatchItemFailures: true,
      }),
      expect.objectContaining({
        functionName: 'ticket-booking-dev-rescueWebhookDeliveries',
        queueName: 'ticket-booking-dev-webhook-dead-letters',
        batchSize: 10,
        reportBatchItemFailures: true,
      }),
    ]);
  });

  it('sends what deliverWebhooks fails on 20 times to the dead-letter queue', () => {
    const queues = queueResourcesOf(service);

    expect(queues.map((q) => q.name).sort()).toEqual(['ticket-booking-dev-webhook-dead-letters', 'ticket-booking-dev-webhook-deliveries']);
    expect(JSON.parse(queues.find((q) => q.logicalId === 'WebhookDeliveryQueue')!.attributes.RedrivePolicy!)).toEqual({
      deadLetterTargetArn: arnOf('ticket-booking-dev-webhook-dead-letters'),
      maxReceiveCount: 20,
    });
  });
});
