import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClientTokens } from './client-tokens';
import { type ItemWrite, itemWrites, transactGets } from './dynamodb-calls';
import * as errors from './errors';
import { type Answer, forward, readBody, replyJson, serveModel, Upstream } from './http';
import { InFlight } from './in-flight';
import { type Item, itemSize, writeUnits } from './item-size';
import { type Charge, chargesOf, type PartitionAccount, Partitions } from './partitions';
import { isOn, type LikeAwsSettings } from './settings';
import { TableKeys, type TableShape } from './table-keys';
import { writeCost } from './write-cost';

/**
 * A model of DynamoDB under load and faults, in front of DynamoDB Local: a proxy that
 * speaks DynamoDB's JSON protocol, passes every call through unchanged, and does to
 * the calls what AWS would, each model only when it is on (settings.ts):
 * - conflicts: a TransactWriteItems holds its items for LIKE_AWS_TRANSACTION_MS from
 *   its arrival; a transaction that includes one is cancelled with
 *   TransactionConflict, a PutItem, UpdateItem or DeleteItem of one fails with
 *   TransactionConflictException, a TransactGetItems that reads one is cancelled;
 * - tokens: ClientRequestToken idempotency of TransactWriteItems (client-tokens.ts),
 *   answered here, so that a retry neither writes again nor meets its own transaction;
 * - partitions: write units per partition key value, of the table and of each global
 *   secondary index (partitions.ts, write-cost.ts); a write that one of them cannot
 *   pay for is throttled and not applied;
 * - lost-answers: a write is applied, and its answer replaced by a 500.
 * It models the one table it is given; calls to other tables pass through. Not
 * modelled: BatchWriteItem's conflicts and units (only its lost answers), local
 * secondary indexes, and reads' units.
 */
export interface LikeAwsDynamoDbOptions {
  /** Where the model listens; 0 for a free port. */
  port: number;
  /** DynamoDB Local's endpoint. */
  upstream: string;
  /** The table: CloudFormation's properties (`tableOf(await readService())`) or DescribeTable's Table. */
  table: TableShape;
  settings: LikeAwsSettings;
  /** For tests: which applied writes lose their answer, instead of the LIKE_AWS_LOST_ANSWERS draw. */
  loseAnswer?: (operation: string, body: Record<string, unknown>) => boolean;
  /** For tests: the time partitions refill by, instead of the wall clock. */
  clock?: () => number;
  log?: (line: string) => void;
}

export interface LikeAwsDynamoDbStats {
  /** Calls received. */
  requests: number;
  /** Writes refused because an item was in a transaction in flight. */
  conflicts: number;
  /** Writes refused for lack of write units. */
  throttles: number;
  /** Applied writes answered with a 500. */
  lostAnswers: number;
  /** Transactions answered from their ClientRequestToken, without writing. */
  replays: number;
  /** Per partition key value of the table (index null) and of each index, busiest first. */
  partitions: PartitionAccount[];
}

export interface LikeAwsDynamoDb {
  endpoint: string;
  stats(): LikeAwsDynamoDbStats;
  /** Clears the stats and refills every partition. */
  reset(): void;
  stop(): Promise<void>;
}

/** DynamoDB Local wants a signed-looking call (an access key of letters and digits); it checks no signature. */
const READ_HEADERS = {
  'content-type': 'application/x-amz-json-1.0',
  'x-amz-target': 'DynamoDB_20120810.GetItem',
  authorization: 'AWS4-HMAC-SHA256 Credential=likeaws/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
};

/** Errors of a write that was refused but still consumed write units, as on AWS. */
const CHARGED_REFUSALS = /#(ConditionalCheckFailedException|TransactionCanceledException)$/;

export async function startLikeAwsDynamoDb(options: LikeAwsDynamoDbOptions): Promise<LikeAwsDynamoDb> {
  const { settings } = options;
  const on = {
    conflicts: isOn(settings, 'conflicts'),
    tokens: isOn(settings, 'tokens'),
    partitions: isOn(settings, 'partitions'),
    lostAnswers: isOn(settings, 'lost-answers'),
  };
  const keys = new TableKeys(options.table);
  const upstream = new Upstream(options.upstream);
  const inFlight = new InFlight();
  const tokens = new ClientTokens();
  const partitions = new Partitions(settings.partitionWcu, options.clock);
  const counts = { requests: 0, conflicts: 0, throttles: 0, lostAnswers: 0, replays: 0 };

  /** Whether the model has anything to do with a call; if not, it streams through. */
  function looksAt(operation: string): boolean {
    switch (operation) {
      case 'PutItem':
      case 'UpdateItem':
      case 'DeleteItem':
        return on.conflicts || on.partitions || on.lostAnswers;
      case 'TransactWriteItems':
        return on.conflicts || on.partitions || on.lostAnswers || on.tokens;
      case 'BatchWriteItem':
        return on.lostAnswers;
      case 'TransactGetItems':
        return on.conflicts;
      default:
        return false;
    }
  }

  async function read(key: Item): Promise<Item | null> {
    const call = Buffer.from(JSON.stringify({ TableName: keys.name, Key: key, ConsistentRead: true }));
    const answer = await upstream.send('POST', '/', READ_HEADERS, call);
    if (answer.status !== 200) throw new Error(`reading an item's image failed: ${answer.status} ${answer.body.toString()}`);
    return (JSON.parse(answer.body.toString()) as { Item?: Item }).Item ?? null;
  }

  const loses = (operation: string, body: Record<string, unknown>) =>
    on.lostAnswers && (options.loseAnswer ? options.loseAnswer(operation, body) : Math.random() < settings.lostAnswers);

  /** A write that includes an item in flight is refused: a transaction cancelled, a single write failed, as AWS does. */
  function refuseConflicts(res: ServerResponse, writes: (ItemWrite | null)[], transactional: boolean): boolean {
    const held = writes.map((w) => w !== null && inFlight.isHeld(w.id));
    if (!held.includes(true)) return false;
    counts.conflicts += 1;
    writes.forEach((w, i) => held[i] && w && partitions.count('conflicts', { index: null, partition: keys.partitionOf(w.key) }));
    const answer = transactional ? errors.transactionCanceled(held.map((h) => (h ? 'TransactionConflict' : 'None'))) : errors.transactionConflict();
    replyJson(res, answer.status, answer.body);
    return true;
  }

  /**
   * What each write is admitted with, before its outcome is known: the image it
   * will leave is the Put's item, no item after a Delete, and for an Update the item
   * as it is (its real cost is settled once it is applied).
   */
  function estimates(writes: (ItemWrite | null)[], before: (Item | null)[], transactional: boolean): Charge[][] {
    return writes.map((w, i) => {
      if (!w || w.kind === 'ConditionCheck') return []; // a condition check costs read units
      const current = before[i] ?? null;
      const after = w.kind === 'Put' ? (w.item ?? null) : w.kind === 'Delete' ? null : current;
      const cost = writeCost(keys, w.key, current, after, transactional);
      // An update's after image is known only once it is applied: reserve a rewrite
      // of every index entry the item has now, so that an index fed by updates alone
      // is throttled like any other (settle charges what was really written).
      if (w.kind === 'Update') {
        cost.indexes = [...keys.entriesOf(current)].flatMap(([index, e]) =>
          e ? [{ index, partition: e.partition, units: (transactional ? 2 : 1) * writeUnits(itemSize(e.entry)) }] : [],
        );
      }
      return chargesOf(cost);
    });
  }

  function refuseThrottled(res: ServerResponse, reserved: Charge[][], transactional: boolean): boolean {
    const lacking = partitions.admit(reserved.flat());
    if (lacking.length === 0) return false;
    counts.throttles += 1;
    for (const c of lacking) partitions.count('throttles', c);
    const short = (c: Charge) => lacking.some((l) => l.index === c.index && l.partition === c.partition);
    const answer = transactional
      ? errors.transactionCanceled(reserved.map((charges) => (charges.some(short) ? 'ThrottlingError' : 'None')))
      : errors.throughputExceeded(keys.name, lacking[0]!.index);
    replyJson(res, answer.status, answer.body);
    return true;
  }

  /** Replaces the estimates by what the writes cost, now that DynamoDB Local has answered. */
  async function settle(writes: (ItemWrite | null)[], before: (Item | null)[], reserved: Charge[][], answer: Answer | undefined, body: Record<string, unknown>, transactional: boolean) {
    let actual: Charge[][] = [];
    if (answer?.status === 200) {
      const returned = body.ReturnValues === 'ALL_NEW' ? (JSON.parse(answer.body.toString()) as { Attributes?: Item }).Attributes : undefined;
      actual = await Promise.all(
        writes.map(async (w, i) => {
          if (!w || w.kind === 'ConditionCheck') return [];
          const after = w.kind === 'Put' ? (w.item ?? null) : w.kind === 'Delete' ? null : (returned ?? (await read(w.key)));
          return chargesOf(writeCost(keys, w.key, before[i] ?? null, after, transactional));
        }),
      );
    } else if (answer && CHARGED_REFUSALS.test(String((JSON.parse(answer.body.toString() || '{}') as { __type?: string }).__type))) {
      actual = reserved.map((charges) => charges.filter((c) => c.index === null)); // nothing reached an index
    }
    partitions.settle(reserved.flat(), actual.flat());
  }

  async function model(req: IncomingMessage, res: ServerResponse, operation: string): Promise<void> {
    const raw = await readBody(req);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString()) as Record<string, unknown>;
    } catch {
      forward(res, await upstream.send(req.method ?? 'POST', req.url ?? '/', req.headers, raw)); // DynamoDB Local says what is wrong
      return;
    }

    if (operation === 'TransactGetItems') {
      const held = transactGets(keys, body).map((id) => id !== null && inFlight.isHeld(id));
      if (held.includes(true)) {
        counts.conflicts += 1;
        const answer = errors.transactionCanceled(held.map((h) => (h ? 'TransactionConflict' : 'None')));
        replyJson(res, answer.status, answer.body);
      } else forward(res, await upstream.send(req.method ?? 'POST', req.url ?? '/', req.headers, raw));
      return;
    }

    const transactional = operation === 'TransactWriteItems';
    const token = transactional && on.tokens && typeof body.ClientRequestToken === 'string' ? body.ClientRequestToken : undefined;
    if (token) {
      const seen = tokens.check(token, ClientTokens.hashOf(body));
      const refusal = seen === 'mismatch' ? errors.idempotentParameterMismatch() : seen === 'in-progress' ? errors.transactionInProgress() : undefined;
      if (refusal) return replyJson(res, refusal.status, refusal.body);
      if (seen === 'replay') {
        counts.replays += 1;
        return replyJson(res, 200, {});
      }
    }

    let succeeded = false;
    let release: (() => void) | undefined;
    try {
      const writes = itemWrites(keys, operation, body);
      // A transaction is in flight on its items from the moment it arrives, for the
      // time AWS takes to apply one, not for as long as DynamoDB Local takes under
      // load: the model measures the design, not the emulator's queue.
      if (transactional && on.conflicts) {
        if (refuseConflicts(res, writes, true)) return;
        release = inFlight.hold(writes.flatMap((w) => (w ? [w.id] : [])));
        setTimeout(release, settings.transactionMs).unref();
      }
      const before = on.partitions ? await Promise.all(writes.map((w) => (w && w.kind !== 'ConditionCheck' ? read(w.key) : null))) : [];

      // From here to the call to DynamoDB Local nothing awaits: what is checked is what is taken.
      if (!transactional && on.conflicts && refuseConflicts(res, writes, false)) return;
      const reserved = on.partitions ? estimates(writes, before, transactional) : [];
      if (on.partitions && refuseThrottled(res, reserved, transactional)) {
        release?.(); // refused: it holds nothing any more
        return;
      }

      let answer: Answer | undefined;
      try {
        answer = await upstream.send(req.method ?? 'POST', req.url ?? '/', req.headers, raw);
      } finally {
        if (on.partitions) await settle(writes, before, reserved, answer, body, transactional);
      }

      succeeded = answer.status === 200;
      if (succeeded && loses(operation, body)) {
        counts.lostAnswers += 1;
        const lost = errors.internalServerError();
        return replyJson(res, lost.status, lost.body);
      }
      forward(res, answer);
    } finally {
      if (token) tokens.complete(token, succeeded);
    }
  }

  const server = await serveModel({
    port: options.port,
    log: options.log,
    handle(req, res) {
      counts.requests += 1;
      const operation = String(req.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
      if (req.method !== 'POST' || !looksAt(operation)) return upstream.pipe(req, res);
      return model(req, res, operation);
    },
    stats: () => stats(),
    reset,
  });

  function stats(): LikeAwsDynamoDbStats {
    return { ...counts, partitions: partitions.accounts() };
  }

  function reset(): void {
    Object.assign(counts, { requests: 0, conflicts: 0, throttles: 0, lostAnswers: 0, replays: 0 });
    partitions.reset();
  }

  return {
    endpoint: server.endpoint,
    stats,
    reset,
    async stop() {
      await server.close();
      upstream.close();
    },
  };
}
