import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  IdempotentParameterMismatchException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { localClient } from '../../localstack/dynamodb-local';
import { tableArn } from '../../localstack/like-aws/errors';
import { type Item, itemSize, type WireValue } from '../../localstack/like-aws/item-size';
import { describeLikeAws, likeAwsSettings } from '../../localstack/like-aws/settings';
import { startLikeAwsStepFunctions } from '../../localstack/like-aws/stepfunctions';
import { type ModelUnderTest, startModel } from '../support/like-aws';
import { testTable } from '../support/table';

/**
 * The model of AWS (localstack/like-aws) in front of the integration run's DynamoDB
 * Local, through the AWS SDK as the functions use it: what AWS does to calls under
 * load and faults, with AWS's error classes and fields. Every test writes items of
 * its own partition keys; what the table holds is read directly from DynamoDB Local.
 */
const truth = testTable();
afterAll(() => truth.close());

const key = (label: string) => `LIKEAWS#${label}#${randomUUID()}`;
const stored = async (pk: string, sk = 'A') => (await truth.client.send(new GetCommand({ TableName: truth.name, Key: { pk, sk }, ConsistentRead: true }))).Item;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail, and it succeeded');
}

describe('settings', () => {
  it('defaults to every model on, at AWS\'s limits', () => {
    const settings = likeAwsSettings({});

    expect(settings).toEqual({
      models: ['conflicts', 'tokens', 'partitions', 'lost-answers', 'sfn-throttle'],
      transactionMs: 10,
      partitionWcu: 1000,
      lostAnswers: 0,
      sfnStartBurst: 1300,
      sfnStartRate: 300,
    });
    expect(describeLikeAws(settings)).toBe('conflicts (10 ms), tokens, partitions (1000 WCU/s), lost-answers (0), sfn-throttle (1300 burst, 300/s)');
  });

  it('switches each model on its own, or none', () => {
    expect(likeAwsSettings({ LIKE_AWS_MODELS: 'partitions, conflicts', LIKE_AWS_PARTITION_WCU: '100' })).toMatchObject({ models: ['partitions', 'conflicts'], partitionWcu: 100 });
    expect(describeLikeAws(likeAwsSettings({ LIKE_AWS_MODELS: 'none' }))).toBe('no model on: every call is forwarded as it is');
  });

  it('refuses a malformed setting, naming it', () => {
    expect(() => likeAwsSettings({ LIKE_AWS_LOST_ANSWERS: '1.5' })).toThrow(/LIKE_AWS_LOST_ANSWERS/);
    expect(() => likeAwsSettings({ LIKE_AWS_MODELS: 'conflicts,latency' })).toThrow(/LIKE_AWS_MODELS/);
  });
});

describe('transaction conflicts and client request tokens', () => {
  // A long window, so that "in flight" does not depend on how fast DynamoDB Local answers.
  const WINDOW_MS = 400;
  let m: ModelUnderTest;
  beforeAll(async () => {
    m = await startModel({ models: ['conflicts', 'tokens'], transactionMs: WINDOW_MS });
  });
  afterAll(() => m.stop());

  it('cancels the second of two overlapping transactions on one item with TransactionConflict, and writes none of it', async () => {
    const db = m.client({ maxAttempts: 1 });
    const pk = key('conflict');
    const [own1, own2] = [key('own'), key('own')];
    const transaction = (own: string, value: number) =>
      db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: m.tableName, Item: { pk: own, sk: 'A' } } },
            { Put: { TableName: m.tableName, Item: { pk, sk: 'A', value } } },
          ],
        }),
      );

    const outcomes = await Promise.allSettled([transaction(own1, 1), transaction(own2, 2)]);

    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    const winner = outcomes[0]!.status === 'fulfilled' ? 1 : 2;
    const error = (outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason as TransactionCanceledException;
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect(error.CancellationReasons?.map((r) => r.Code)).toEqual(['None', 'TransactionConflict']);
    expect(error.CancellationReasons?.[1]?.Message).toBe('Transaction is ongoing for the item');
    expect(error.message).toBe('Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]');
    expect((await stored(pk))?.value).toBe(winner);
    expect(await stored(winner === 1 ? own2 : own1)).toBeUndefined();
    expect(m.model.stats().partitions).toContainEqual({ index: null, partition: pk, units: 0, throttles: 0, conflicts: 1 });
  });

  it('fails a PutItem of an item in flight with TransactionConflictException, and lets it through once the transaction is over', async () => {
    const db = m.client({ maxAttempts: 1 });
    const pk = key('put-during');
    await db.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: m.tableName, Item: { pk, sk: 'A', by: 'transaction' } } }] }));

    const error = await rejection(db.send(new PutCommand({ TableName: m.tableName, Item: { pk, sk: 'A', by: 'put' } })));

    expect(error).toBeInstanceOf(TransactionConflictException);
    expect(error.message).toBe('Transaction is ongoing for the item');
    expect((await stored(pk))?.by).toBe('transaction');
    await sleep(WINDOW_MS + 50);
    await db.send(new PutCommand({ TableName: m.tableName, Item: { pk, sk: 'A', by: 'put' } }));
    expect((await stored(pk))?.by).toBe('put');
  });

  it('answers a transaction retried with its ClientRequestToken without writing it again', async () => {
    const db = m.client({ maxAttempts: 1 });
    const pk = key('token');
    const token = randomUUID();
    const transaction = () =>
      db.send(
        new TransactWriteCommand({
          ClientRequestToken: token,
          TransactItems: [{ Update: { TableName: m.tableName, Key: { pk, sk: 'A' }, UpdateExpression: 'ADD writes :one', ExpressionAttributeValues: { ':one': 1 } } }],
        }),
      );
    const replays = m.model.stats().replays;

    await transaction();
    await transaction(); // within the first one's window: the token answers, not a conflict

    expect((await stored(pk))?.writes).toBe(1);
    expect(m.model.stats().replays).toBe(replays + 1);
  });

  it('refuses the same ClientRequestToken with another request: IdempotentParameterMismatchException', async () => {
    const db = m.client({ maxAttempts: 1 });
    const pk = key('mismatch');
    const token = randomUUID();
    const transaction = (value: string) =>
      db.send(new TransactWriteCommand({ ClientRequestToken: token, TransactItems: [{ Put: { TableName: m.tableName, Item: { pk, sk: 'A', value } } }] }));
    await transaction('first');

    const error = await rejection(transaction('second'));

    expect(error).toBeInstanceOf(IdempotentParameterMismatchException);
    expect((await stored(pk))?.value).toBe('first');
  });
});

describe('write units per partition, of the table and of its indexes', () => {
  const WCU = 5;
  // Partitions refill only when the test moves this clock, so that a slow machine cannot refill them.
  let now = Date.now();
  let m: ModelUnderTest;
  beforeAll(async () => {
    m = await startModel({ models: ['partitions'], partitionWcu: WCU }, { clock: () => now });
  });
  afterAll(() => m.stop());

  const unitsOf = (partition: string, index: string | null = null) =>
    m.model.stats().partitions.find((p) => p.partition === partition && p.index === index)?.units ?? 0;

  it('throttles writes beyond a partition key value\'s units, and only on that partition', async () => {
    const db = m.client({ maxAttempts: 1 });
    const [hot, cold] = [key('hot'), key('cold')];
    for (let i = 0; i < WCU; i += 1) await db.send(new PutCommand({ TableName: m.tableName, Item: { pk: hot, sk: `S${i}` } }));

    const error = (await rejection(db.send(new PutCommand({ TableName: m.tableName, Item: { pk: hot, sk: 'over' } })))) as ProvisionedThroughputExceededException;
    await db.send(new PutCommand({ TableName: m.tableName, Item: { pk: cold, sk: 'A' } }));

    expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(error.ThrottlingReasons).toEqual([{ reason: 'TableWriteKeyRangeThroughputExceeded', resource: tableArn(m.tableName) }]);
    expect(await stored(hot, 'over')).toBeUndefined();
    expect(await stored(cold)).toBeDefined();
    expect(m.model.stats().partitions).toContainEqual({ index: null, partition: hot, units: WCU, throttles: 1, conflicts: 0 });
  });

  it('refills a partition at its units per second', async () => {
    const db = m.client({ maxAttempts: 1 });
    const hot = key('refill');
    for (let i = 0; i < WCU; i += 1) await db.send(new PutCommand({ TableName: m.tableName, Item: { pk: hot, sk: `S${i}` } }));
    expect(await rejection(db.send(new PutCommand({ TableName: m.tableName, Item: { pk: hot, sk: 'later' } })))).toBeInstanceOf(ProvisionedThroughputExceededException);

    now += 1000 / WCU;

    await db.send(new PutCommand({ TableName: m.tableName, Item: { pk: hot, sk: 'later' } }));
    expect(await stored(hot, 'later')).toBeDefined();
  });

  it('cancels a transaction whose partition lacks the units, with ThrottlingError for that item', async () => {
    const db = m.client({ maxAttempts: 1 });
    const [hot, cold] = [key('hot'), key('cold')];
    for (let i = 0; i < 2; i += 1) await db.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: m.tableName, Item: { pk: hot, sk: `S${i}` } } }] }));

    const error = (await rejection(
      db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: m.tableName, Item: { pk: cold, sk: 'A' } } },
            { Put: { TableName: m.tableName, Item: { pk: hot, sk: 'over' } } },
          ],
        }),
      ),
    )) as TransactionCanceledException;

    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect(error.CancellationReasons?.map((r) => r.Code)).toEqual(['None', 'ThrottlingError']);
    expect(await stored(cold)).toBeUndefined();
    expect(unitsOf(cold)).toBe(0);
  });

  it('throttles a table write when an index partition it feeds lacks the units', async () => {
    const db = m.client({ maxAttempts: 1 });
    const entry = key('gsi');
    const put = (pk: string) => db.send(new PutCommand({ TableName: m.tableName, Item: { pk, sk: 'A', gsi1pk: entry, gsi1sk: pk } }));
    for (let i = 0; i < WCU; i += 1) await put(key('fresh'));
    const last = key('fresh');

    const error = (await rejection(put(last))) as ProvisionedThroughputExceededException;

    expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(error.ThrottlingReasons).toEqual([{ reason: 'IndexWriteKeyRangeThroughputExceeded', resource: tableArn(m.tableName, 'gsi1') }]);
    expect(await stored(last)).toBeUndefined();
    expect(unitsOf(last)).toBe(0);
    expect(m.model.stats().partitions).toContainEqual({ index: 'gsi1', partition: entry, units: WCU, throttles: 1, conflicts: 0 });
  });

  it('throttles an update when an index partition it feeds lacks the units, though the update alone changes the entry', async () => {
    const db = m.client({ maxAttempts: 1 });
    const direct = DynamoDBDocumentClient.from(localClient(process.env.TEST_DYNAMODB_LOCAL_ENDPOINT!));
    const entry = key('counted');
    const items = Array.from({ length: WCU + 1 }, () => key('counter'));
    // Stored behind the model's back: only the updates below are counted.
    for (const pk of items) await direct.send(new PutCommand({ TableName: m.tableName, Item: { pk, sk: 'A', gsi1pk: entry, gsi1sk: pk, n: 0 } }));
    const bump = (pk: string) => db.send(new UpdateCommand({ TableName: m.tableName, Key: { pk, sk: 'A' }, UpdateExpression: 'SET n = n + :one', ExpressionAttributeValues: { ':one': 1 } }));
    for (const pk of items.slice(0, WCU)) await bump(pk);

    const error = (await rejection(bump(items[WCU]!))) as ProvisionedThroughputExceededException;
    direct.destroy();

    expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(error.ThrottlingReasons).toEqual([{ reason: 'IndexWriteKeyRangeThroughputExceeded', resource: tableArn(m.tableName, 'gsi1') }]);
  });

  it('charges one unit per started KB of the item, twice in a transaction', async () => {
    const db = m.client({ maxAttempts: 1 });
    const [single, transactional] = [key('kb'), key('kb')];
    const item = (pk: string) => ({ pk, sk: 'A', data: 'x'.repeat(1500) }); // about 1.5 KB

    await db.send(new PutCommand({ TableName: m.tableName, Item: item(single) }));
    await db.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: m.tableName, Item: item(transactional) } }] }));

    expect(unitsOf(single)).toBe(2);
    expect(unitsOf(transactional)).toBe(4);
  });

  it('charges an update that moves an index key on the old and the new index partition', async () => {
    const db = m.client({ maxAttempts: 1 });
    const [pk, from, to] = [key('move'), key('from'), key('to')];
    await db.send(new PutCommand({ TableName: m.tableName, Item: { pk, sk: 'A', gsi1pk: from, gsi1sk: 'x' } }));

    await db.send(new UpdateCommand({ TableName: m.tableName, Key: { pk, sk: 'A' }, UpdateExpression: 'SET gsi1pk = :to', ExpressionAttributeValues: { ':to': to } }));

    expect([unitsOf(pk), unitsOf(from, 'gsi1'), unitsOf(to, 'gsi1')]).toEqual([2, 2, 1]);
  });

  it('reports its account over HTTP, and starts afresh when asked', async () => {
    const answer = await fetch(`${m.model.endpoint}/__like-aws/stats`);
    expect(await answer.json()).toEqual(JSON.parse(JSON.stringify(m.model.stats())));

    await fetch(`${m.model.endpoint}/__like-aws/stats`, { method: 'DELETE' });

    expect(m.model.stats()).toMatchObject({ throttles: 0, partitions: [] });
  });
});

describe('item sizes', () => {
  let m: ModelUnderTest;
  beforeAll(async () => {
    m = await startModel({ models: ['partitions'] });
  });
  afterAll(() => m.stop());

  const base64 = (text: string) => Buffer.from(text).toString('base64');
  /** The SDK takes binary as bytes; the wire, and the model, see base64. */
  const toSdk = (value: WireValue): AttributeValue =>
    (value.B !== undefined
      ? { B: Buffer.from(value.B, 'base64') }
      : value.BS
        ? { BS: value.BS.map((b) => Buffer.from(b, 'base64')) }
        : value.L
          ? { L: value.L.map(toSdk) }
          : value.M
            ? { M: Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, toSdk(v)])) }
            : value) as AttributeValue;
  const shapes: Record<string, Item> = {
    strings: { s: { S: 'é€😀abc' } },
    numbers: { a: { N: '123.4500' }, b: { N: '-0.000123' }, c: { N: '1.5E+10' }, d: { N: '-5' }, e: { N: '0' }, f: { N: '12345678901234567890123456789012345678' } },
    'booleans and null': { b: { BOOL: true }, z: { NULL: true } },
    binary: { bin: { B: base64('hello world!') } },
    'lists and maps': { l: { L: [{ S: 'ab' }, { N: '7' }, { BOOL: false }] }, m: { M: { key: { S: 'v' }, nested: { M: { x: { N: '1' } } } } }, e: { M: {} } },
    sets: { ss: { SS: ['a', 'bb'] }, ns: { NS: ['1', '22', '333'] }, bs: { BS: [base64('xy')] } },
  };

  it.each(Object.keys(shapes))('counts the write units of %s to the byte, as DynamoDB Local does, on the table and on an index', async (shape) => {
    const client = m.lowLevelClient({ maxAttempts: 1 });
    for (const bytes of [1024, 1025, 2048, 2049]) {
      const pk = key('size');
      const item: Item = { pk: { S: pk }, sk: { S: 'A' }, gsi1pk: { S: pk }, gsi1sk: { S: 'A' }, ...shapes[shape] };
      item.filler = { S: 'x'.repeat(bytes - itemSize(item) - 'filler'.length) };

      const { ConsumedCapacity } = await client.send(
        new PutItemCommand({ TableName: m.tableName, Item: Object.fromEntries(Object.entries(item).map(([k, v]) => [k, toSdk(v)])), ReturnConsumedCapacity: 'INDEXES' }),
      );

      const accounted = (index: string | null) => m.model.stats().partitions.find((p) => p.partition === pk && p.index === index)?.units;
      expect([bytes, accounted(null), accounted('gsi1')]).toEqual([bytes, ConsumedCapacity?.Table?.CapacityUnits, ConsumedCapacity?.GlobalSecondaryIndexes?.gsi1?.CapacityUnits]);
    }
  });
});

describe('lost answers', () => {
  const lost = new Set<string>();
  let m: ModelUnderTest;
  beforeAll(async () => {
    m = await startModel(
      { models: ['lost-answers', 'tokens'] },
      {
        // Loses the first answer to a write of each `lost` key: the SDK's retry, if any, gets its answer.
        loseAnswer(_operation, body) {
          const marker = /LIKEAWS#lost[^"]*/.exec(JSON.stringify(body))?.[0];
          if (!marker || lost.has(marker)) return false;
          lost.add(marker);
          return true;
        },
      },
    );
  });
  afterAll(() => m.stop());

  it('applies the write and answers InternalServerError', async () => {
    const db = m.client({ maxAttempts: 1 });
    const pk = key('lost');

    const error = await rejection(db.send(new PutCommand({ TableName: m.tableName, Item: { pk, sk: 'A', value: 1 } })));

    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as InternalServerError).$metadata.httpStatusCode).toBe(500);
    expect(await stored(pk)).toMatchObject({ value: 1 });
    expect(m.model.stats().lostAnswers).toBeGreaterThanOrEqual(1);
  });

  it('lets the SDK\'s retry of a transaction whose answer was lost succeed, written once (its token)', async () => {
    const db = m.client({ maxAttempts: 2 });
    const pk = key('lost-transaction');

    await db.send(
      new TransactWriteCommand({
        TransactItems: [{ Update: { TableName: m.tableName, Key: { pk, sk: 'A' }, UpdateExpression: 'ADD writes :one', ExpressionAttributeValues: { ':one': 1 } } }],
      }),
    );

    expect((await stored(pk))?.writes).toBe(1);
    expect(lost.has(pk)).toBe(true);
    expect(m.model.stats().replays).toBe(1);
  });
});

describe('every model off', () => {
  let m: ModelUnderTest;
  beforeAll(async () => {
    m = await startModel({ models: [] });
  });
  afterAll(() => m.stop());

  it('forwards every call as it is: overlapping transactions, writes, queries and DynamoDB Local\'s own errors', async () => {
    const db = m.client({ maxAttempts: 1 });
    const pk = key('off');
    const transaction = (value: number) => db.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: m.tableName, Item: { pk, sk: 'A', value } } }] }));

    await transaction(1);
    await transaction(2);
    await db.send(new PutCommand({ TableName: m.tableName, Item: { pk, sk: 'B', value: 3 } }));
    const error = await rejection(db.send(new PutCommand({ TableName: m.tableName, Item: { pk, sk: 'B' }, ConditionExpression: 'attribute_not_exists(pk)' })));
    const { Items } = await db.send(new QueryCommand({ TableName: m.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } }));

    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    expect(Items?.map((i) => i.value)).toEqual([2, 3]);
    expect(m.model.stats()).toMatchObject({ requests: 5, conflicts: 0, throttles: 0, lostAnswers: 0, replays: 0 });
  });
});

describe('Step Functions StartExecution quota', () => {
  it('throttles starts beyond the bucket with ThrottlingException, and forwards the rest', async () => {
    const upstream = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:m:e', startDate: 1 }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', () => resolve()));
    const port = (upstream.address() as { port: number }).port;
    const model = await startLikeAwsStepFunctions({ port: 0, upstream: `http://127.0.0.1:${port}`, settings: { ...likeAwsSettings({}), sfnStartBurst: 2, sfnStartRate: 0.001 } });
    const sfn = new SFNClient({ endpoint: model.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    const start = () => sfn.send(new StartExecutionCommand({ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:m', input: '{}' }));
    try {
      await start();
      await start();
      const error = await rejection(start());
      await sfn.send(new DescribeExecutionCommand({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:m:e' }));

      expect(error.name).toBe('ThrottlingException');
      expect(error.message).toBe('Rate exceeded');
      expect(model.stats()).toEqual({ starts: 3, throttles: 1 });
    } finally {
      sfn.destroy();
      await model.stop();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
});
