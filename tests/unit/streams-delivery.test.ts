import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { ServiceDefinition } from '../../localstack/service';
import { deliverBatch, type DeliveryRules, type InvocationOutcome, type LambdaStreamRecord, redeliveryOf, streamMappingsOf } from '../../localstack/streams';
import { assertFilterPattern, matches, passesFilters } from '../../localstack/streams-filter';

/*
 * The local delivery of the table's stream (localstack/streams.ts), as Lambda's
 * event source mapping delivers it: the filter patterns, batches that fail and
 * are split (bisect), partial batch responses, and records let go after the last
 * retry. The invoker is a fake that answers as the test decides.
 */

const record = (sequence: number, fields: Partial<LambdaStreamRecord> = {}): LambdaStreamRecord => ({
  eventName: 'INSERT',
  eventSource: 'aws:dynamodb',
  awsRegion: 'us-east-1',
  eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x',
  dynamodb: { SequenceNumber: String(sequence).padStart(21, '0') },
  ...fields,
});
const records = (n: number) => Array.from({ length: n }, (_, i) => record(i + 1));
const seq = (batch: readonly LambdaStreamRecord[]) => batch.map((r) => Number(r.dynamodb.SequenceNumber));
const noWait = async () => undefined;

/** An invoker that records each batch it gets and answers with `answer(batch)`. */
function invoker(answer: (batch: readonly LambdaStreamRecord[]) => InvocationOutcome) {
  const calls: number[][] = [];
  return {
    calls,
    invoke: async (batch: readonly LambdaStreamRecord[]) => {
      calls.push(seq(batch));
      return answer(batch);
    },
  };
}
const RULES: DeliveryRules = { maximumRetryAttempts: 2, bisect: true, reportBatchItemFailures: true };
const ok: InvocationOutcome = { ok: true, result: { batchItemFailures: [] } };
const failsWith = (poisoned: number) => (batch: readonly LambdaStreamRecord[]): InvocationOutcome =>
  seq(batch).includes(poisoned) ? { ok: false, error: 'boom' } : ok;

describe('delivering a batch', () => {
  it('invokes the function once with the whole batch when it succeeds', async () => {
    const fn = invoker(() => ok);

    const report = await deliverBatch(records(4), RULES, fn.invoke, noWait);

    expect({ calls: fn.calls, dropped: report.dropped }).toEqual({ calls: [[1, 2, 3, 4]], dropped: [] });
  });

  it('splits a failing batch in two, and each failing half again, until the record that fails it is alone', async () => {
    const fn = invoker(failsWith(3));

    await deliverBatch(records(4), { ...RULES, maximumRetryAttempts: 0 }, fn.invoke, noWait);

    expect(fn.calls).toEqual([[1, 2, 3, 4], [1, 2], [3, 4], [3], [4]]);
  });

  it('retries the record that fails alone up to maximumRetryAttempts, then lets it go and delivers the rest', async () => {
    const fn = invoker(failsWith(2));

    const report = await deliverBatch(records(2), RULES, fn.invoke, noWait);

    expect(fn.calls).toEqual([[1, 2], [1], [2], [2], [2]]);
    expect(seq(report.dropped)).toEqual([2]);
  });

  it('without bisect, retries the whole batch, then lets all of it go', async () => {
    const fn = invoker(failsWith(2));

    const report = await deliverBatch(records(3), { ...RULES, bisect: false }, fn.invoke, noWait);

    expect(fn.calls).toEqual([[1, 2, 3], [1, 2, 3], [1, 2, 3]]);
    expect(seq(report.dropped)).toEqual([1, 2, 3]);
  });

  it('retries until it succeeds when maximumRetryAttempts is -1', async () => {
    let failures = 5;
    const fn = invoker(() => (failures-- > 0 ? { ok: false, error: 'down' } : ok));

    const report = await deliverBatch([record(1)], { ...RULES, maximumRetryAttempts: -1 }, fn.invoke, noWait);

    expect({ invocations: report.invocations, dropped: report.dropped }).toEqual({ invocations: 6, dropped: [] });
  });

  it('waits longer before each retry', async () => {
    const waits: number[] = [];
    const fn = invoker(() => ({ ok: false, error: 'down' }));

    await deliverBatch([record(1)], { ...RULES, maximumRetryAttempts: 4 }, fn.invoke, async (ms) => void waits.push(ms));

    expect(waits).toHaveLength(4);
    expect([...waits].sort((a, b) => a - b)).toEqual(waits);
    expect(waits[3]!).toBeGreaterThan(waits[0]!);
  });
});

describe('partial batch responses (ReportBatchItemFailures)', () => {
  const failing = (...sequences: number[]) => ({
    batchItemFailures: sequences.map((s) => ({ itemIdentifier: String(s).padStart(21, '0') })),
  });

  it('delivers again the records from the first one the function names on, not the ones before', async () => {
    let first = true;
    const fn = invoker(() => {
      const answer = first ? failing(5, 3) : { batchItemFailures: [] };
      first = false;
      return { ok: true, result: answer };
    });

    await deliverBatch(records(6), RULES, fn.invoke, noWait);

    expect(fn.calls).toEqual([[1, 2, 3, 4, 5, 6], [3, 4, 5, 6]]);
  });

  it('lets the named records go after the last retry', async () => {
    const fn = invoker((batch) => ({ ok: true, result: failing(Number(batch.at(-1)!.dynamodb.SequenceNumber)) }));

    const report = await deliverBatch(records(3), RULES, fn.invoke, noWait);

    expect(fn.calls).toEqual([[1, 2, 3], [3], [3]]);
    expect(seq(report.dropped)).toEqual([3]);
  });

  it('treats an answer naming a record not in the batch as a failure of the whole batch', () => {
    expect(redeliveryOf(records(2), failing(9))).toBe('failed');
    expect(redeliveryOf(records(2), { batchItemFailures: [{ itemIdentifier: '' }] })).toBe('failed');
  });

  it('treats an empty list, null or no answer as success', () => {
    for (const result of [{ batchItemFailures: [] }, { batchItemFailures: null }, null, undefined, {}]) {
      expect(redeliveryOf(records(2), result)).toEqual([]);
    }
  });

  it('ignores the answer when the mapping does not ask for partial responses', async () => {
    const fn = invoker(() => ({ ok: true, result: failing(1) }));

    await deliverBatch(records(2), { ...RULES, reportBatchItemFailures: false }, fn.invoke, noWait);

    expect(fn.calls).toEqual([[1, 2]]);
  });
});

describe('filter patterns', () => {
  const booking = (eventName: string, image: Record<string, unknown>) => ({ eventName, dynamodb: { NewImage: image } });
  const NEW_HOLD = { eventName: ['INSERT'], dynamodb: { NewImage: { type: { S: ['booking'] }, status: { S: ['PENDING'] } } } };

  it('lets a record through when every field of the pattern matches one of its values', () => {
    expect(matches(NEW_HOLD, booking('INSERT', { type: { S: 'booking' }, status: { S: 'PENDING' }, id: { S: 'x' } }))).toBe(true);
  });

  it('drops a record when one field differs or is missing', () => {
    expect(matches(NEW_HOLD, booking('MODIFY', { type: { S: 'booking' }, status: { S: 'PENDING' } }))).toBe(false);
    expect(matches(NEW_HOLD, booking('INSERT', { type: { S: 'tally' }, status: { S: 'PENDING' } }))).toBe(false);
    expect(matches(NEW_HOLD, booking('INSERT', { type: { S: 'booking' } }))).toBe(false);
    expect(matches(NEW_HOLD, { eventName: 'REMOVE', dynamodb: { OldImage: {} } })).toBe(false);
  });

  it('lets every record through a mapping without patterns, and a record matching any one of several', () => {
    expect(passesFilters([], { anything: 1 })).toBe(true);
    expect(passesFilters([{ eventName: ['MODIFY'] }, { eventName: ['INSERT'] }], { eventName: 'INSERT' })).toBe(true);
    expect(passesFilters([{ eventName: ['MODIFY'] }, { eventName: ['REMOVE'] }], { eventName: 'INSERT' })).toBe(false);
  });

  it('understands prefix, suffix, anything-but, equals-ignore-case, numeric, exists and $or', () => {
    const event = { name: 'Booking-42', n: 7, list: ['a', 'b'], nothing: null };

    expect(matches({ name: [{ prefix: 'Book' }] }, event)).toBe(true);
    expect(matches({ name: [{ suffix: '-42' }] }, event)).toBe(true);
    expect(matches({ name: [{ 'anything-but': ['x', 'y'] }] }, event)).toBe(true);
    expect(matches({ name: [{ 'anything-but': { prefix: 'Book' } }] }, event)).toBe(false);
    expect(matches({ name: [{ 'equals-ignore-case': 'booking-42' }] }, event)).toBe(true);
    expect(matches({ n: [{ numeric: ['>', 5, '<=', 7] }] }, event)).toBe(true);
    expect(matches({ n: [{ numeric: ['>', 7] }] }, event)).toBe(false);
    expect(matches({ missing: [{ exists: false }], name: [{ exists: true }] }, event)).toBe(true);
    expect(matches({ list: ['b'] }, event)).toBe(true);
    expect(matches({ nothing: [null] }, event)).toBe(true);
    expect(matches({ $or: [{ n: [1] }, { name: ['Booking-42'] }] }, event)).toBe(true);
  });

  it('refuses a pattern it cannot judge, rather than let through what AWS would drop', () => {
    expect(() => assertFilterPattern({ name: [{ wildcard: 'B*' }] })).toThrow(/unsupported condition/);
    expect(() => assertFilterPattern({ name: 'booking' })).toThrow(/a leaf must be a list/);
    expect(() => assertFilterPattern({ name: [] })).toThrow(/matches nothing/);
  });
});

describe("serverless.yml's mapping of the table's stream", () => {
  // CloudFormation tags (!GetAtt) are not needed here: read leniently, and name the functions as the framework does.
  const yml = parseDocument(readFileSync(resolve(__dirname, '../../serverless.yml'), 'utf8'), { strict: false, logLevel: 'silent' }).toJS() as {
    functions: Record<string, Record<string, unknown>>;
  };
  const service = {
    functions: Object.fromEntries(Object.entries(yml.functions).map(([key, fn]) => [key, { ...fn, name: `ticket-booking-dev-${key}` }])),
  } as unknown as ServiceDefinition;
  const mappings = streamMappingsOf(service);
  const mapping = mappings.find((m) => m.functionName === 'ticket-booking-dev-startHoldTimers');
  const offers = mappings.find((m) => m.functionName === 'ticket-booking-dev-followTableChanges');

  it('delivers the stream to its two readers, startHoldTimers and followTableChanges, in batches of up to 1,000 or of one second, split on error, answered record by record', () => {
    expect(mappings.map((m) => m.functionName).sort()).toEqual(['ticket-booking-dev-followTableChanges', 'ticket-booking-dev-startHoldTimers']);
    expect(offers).toMatchObject({ batchWindowMs: 1000, bisect: true, reportBatchItemFailures: true });
    expect(mapping).toMatchObject({
      functionName: 'ticket-booking-dev-startHoldTimers',
      batchSize: 1000,
      batchWindowMs: 1000,
      bisect: true,
      reportBatchItemFailures: true,
      maximumRetryAttempts: expect.any(Number),
    });
  });

  it('lets through only INSERTs of PENDING bookings', () => {
    const item = (type: string, status: string) => ({ type: { S: type }, status: { S: status }, id: { S: 'x' } });
    const through = (eventName: string, image: Record<string, unknown>) => passesFilters(mapping!.filterPatterns, { eventName, dynamodb: { NewImage: image } });

    expect(through('INSERT', item('booking', 'PENDING'))).toBe(true);
    expect(through('MODIFY', item('booking', 'PENDING'))).toBe(false);
    expect(through('MODIFY', item('booking', 'CANCELLED'))).toBe(false);
    expect(through('INSERT', item('booking', 'CONFIRMED'))).toBe(false);
    expect(through('INSERT', item('tally', 'PENDING'))).toBe(false);
    expect(through('INSERT', { type: { S: 'event' } })).toBe(false);
  });

  it('lets through to followTableChanges only shards holding tickets for the line, bookings and entries', () => {
    const through = (eventName: string, image: Record<string, unknown>) => passesFilters(offers!.filterPatterns, { eventName, dynamodb: { NewImage: image } });
    const shard = (line: string) => ({ type: { S: 'stock' }, event_id: { S: 'e' }, line_tickets: { N: line } });

    expect(through('MODIFY', shard('2'))).toBe(true);
    expect(through('MODIFY', shard('0'))).toBe(false);
    expect(through('MODIFY', { type: { S: 'stock' }, event_id: { S: 'e' } })).toBe(false);
    expect(through('INSERT', { type: { S: 'waitlist' }, event_id: { S: 'e' } })).toBe(true);
    expect(through('MODIFY', { type: { S: 'waitlist' }, event_id: { S: 'e' } })).toBe(true);
    expect(through('INSERT', { type: { S: 'booking' }, status: { S: 'PENDING' } })).toBe(true);
    expect(through('MODIFY', { type: { S: 'booking' }, status: { S: 'CONFIRMED' } })).toBe(true);
    expect(through('REMOVE', { type: { S: 'booking' }, status: { S: 'CONFIRMED' } })).toBe(false);
    expect(through('MODIFY', { type: { S: 'tally' } })).toBe(false);
    expect(through('INSERT', { type: { S: 'delivery' } })).toBe(false);
  });
});
