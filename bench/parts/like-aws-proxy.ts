/**
 * Part 7. What the model of AWS costs a call when it models nothing: GetItem and
 * PutItem, one at a time, on DynamoDB Local directly and through the model's proxy
 * with every model off (LIKE_AWS_MODELS=none), interleaved call by call so that
 * both see the machine at the same moment; and, for comparison, through the proxy
 * with the models a test run uses (conflicts, tokens, partitions, at AWS's limits).
 */
import { randomUUID } from 'node:crypto';
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { localClient } from '../../localstack/dynamodb-local';
import { startLikeAwsDynamoDb } from '../../localstack/like-aws/dynamodb';
import { type LikeAwsModel, likeAwsSettings } from '../../localstack/like-aws/settings';
import { onCleanup } from '../support/cleanup';
import { definePart } from '../support/part';
import { fmt, table, target } from '../support/report';
import { median, round, summarize } from '../support/stats';

const WARM_UP_ROUNDS = 150;
const ROUNDS = 600;
/** A booking item's size, about: what the functions write. */
const PAYLOAD = 'x'.repeat(600);
/** "A fraction of a millisecond" (issue 12). */
const OVERHEAD_LIMIT_MS = 1;

type Route = 'direct' | 'proxy, models off' | 'proxy, models on';
type Operation = 'GetItem' | 'PutItem';
const OPERATIONS: Operation[] = ['GetItem', 'PutItem'];
const MODELS_ON: LikeAwsModel[] = ['conflicts', 'tokens', 'partitions'];

export const likeAwsProxy = definePart('like-aws-proxy', async (ctx) => {
  const dynamo = await ctx.dynamo();
  const proxy = async (models: LikeAwsModel[]) => {
    const model = await startLikeAwsDynamoDb({ port: 0, upstream: dynamo.endpoint, table: dynamo.definition, settings: { ...likeAwsSettings({}), models } });
    onCleanup('like-aws proxy', () => model.stop());
    return model.endpoint;
  };
  const endpoints: Record<Route, string> = {
    direct: dynamo.endpoint,
    'proxy, models off': await proxy([]),
    'proxy, models on': await proxy(MODELS_ON),
  };
  const routes = Object.keys(endpoints) as Route[];
  const clients = Object.fromEntries(routes.map((r) => [r, localClient(endpoints[r])])) as Record<Route, DynamoDBClient>;
  const run = randomUUID();
  const readKey = { pk: { S: `BENCH#proxy#${run}` }, sk: { S: 'READ' } };
  await clients.direct.send(new PutItemCommand({ TableName: dynamo.tableName, Item: { ...readKey, payload: { S: PAYLOAD } } }));
  let written = 0;
  const call = (route: Route, operation: Operation) =>
    operation === 'GetItem'
      ? clients[route].send(new GetItemCommand({ TableName: dynamo.tableName, Key: readKey }))
      : clients[route].send(new PutItemCommand({ TableName: dynamo.tableName, Item: { pk: { S: `BENCH#proxy#${run}` }, sk: { S: `W#${written++}` }, payload: { S: PAYLOAD } } }));

  const samples = Object.fromEntries(routes.map((r) => [r, { GetItem: [] as number[], PutItem: [] as number[] }])) as Record<Route, Record<Operation, number[]>>;
  /** Per round, through the proxy minus direct: the same moment's machine on both sides. */
  const paired = { GetItem: [] as number[], PutItem: [] as number[] };
  ctx.log(`like-aws-proxy: ${ROUNDS} rounds of GetItem and PutItem on ${routes.length} routes, one call at a time`);
  try {
    for (let pass = -WARM_UP_ROUNDS; pass < ROUNDS; pass++) {
      // Each round starts on another route and runs the other way every other time.
      const rotated = routes.map((_, i) => routes[(i + Math.abs(pass)) % routes.length]!);
      const order = pass % 2 === 0 ? rotated : rotated.reverse();
      const took: Partial<Record<Route, Record<Operation, number>>> = {};
      for (const route of order) {
        const times = {} as Record<Operation, number>;
        for (const operation of OPERATIONS) {
          const start = performance.now();
          await call(route, operation);
          times[operation] = performance.now() - start;
        }
        took[route] = times;
      }
      if (pass < 0) continue;
      for (const route of routes) for (const operation of OPERATIONS) samples[route][operation].push(took[route]![operation]);
      for (const operation of OPERATIONS) paired[operation].push(took['proxy, models off']![operation] - took.direct![operation]);
    }
  } finally {
    for (const client of Object.values(clients)) client.destroy();
  }

  const rows = routes.flatMap((route) =>
    OPERATIONS.map((operation) => {
      const s = summarize(samples[route][operation]);
      const overMedian = s.p50 - median(samples.direct[operation]);
      return { route, operation, p50: s.p50, p95: s.p95, overDirect: overMedian };
    }),
  );
  const overhead = { GetItem: median(paired.GetItem), PutItem: median(paired.PutItem) };
  console.log(
    table(
      `DynamoDB calls through the model's proxy (${ROUNDS} rounds, interleaved, one call at a time)`,
      ['route', 'call', 'p50', 'p95', 'p50 - direct p50'],
      rows.map((r) => [r.route, r.operation, fmt.ms(r.p50, 2), fmt.ms(r.p95, 2), r.route === 'direct' ? '' : fmt.ms(r.overDirect, 2)]),
    ),
  );
  console.log(`  proxy with every model off, median of the rounds' differences: GetItem ${fmt.ms(overhead.GetItem, 3)}, PutItem ${fmt.ms(overhead.PutItem, 3)}`);
  return {
    figures: {
      rounds: ROUNDS,
      models_on: MODELS_ON,
      latency_ms: rows.map((r) => ({ ...r, p50: round(r.p50, 3), p95: round(r.p95, 3), overDirect: round(r.overDirect, 3) })),
      overhead_models_off_ms: { GetItem: round(overhead.GetItem, 3), PutItem: round(overhead.PutItem, 3) },
    },
    checks: [],
    targets: OPERATIONS.map((operation) => target(`like-aws proxy overhead per ${operation}, every model off (median)`, round(overhead[operation], 3), 'ms', '<', OVERHEAD_LIMIT_MS)),
    notes: [],
  };
});
