import { executionInput } from '../../lib/adapters/hold-timer';
import type { HoldBatch, HoldTimer } from '../../lib/ports';
import { BATCH_SPAN_MS, batchesOf, batchId, MAX_HOLDS_PER_BATCH, type NewHold, startHoldTimers } from '../../lib/usecases/hold-timers';

/*
 * The rules of the hold timers started from the table's stream: which holds share
 * a timer, what the timer is named, and what a fault of Step Functions does.
 * Pure: the timer is a fake that records what it is asked to start.
 */

const hold = (booking_id: string, expires_at: string): NewHold => ({ booking_id, expires_at });
const ids = (batches: HoldBatch[]) => batches.map((b) => b.booking_ids);

/** A timer that records its starts, and fails the first `failures` of them with `error`. */
function fakeTimer(failures = 0, error: () => Error = () => throttle()): HoldTimer & { starts: HoldBatch[] } {
  const starts: HoldBatch[] = [];
  let failed = 0;
  return {
    starts,
    async start(batch) {
      if (failed < failures) {
        failed += 1;
        throw error();
      }
      starts.push(batch);
    },
  };
}
const throttle = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
const QUICK_RETRY = { attempts: 4, baseMs: 1, capMs: 2, budgetMs: 1000 };

describe('grouping new holds into batches', () => {
  it('puts holds that run out within the same second into one batch', () => {
    const batches = batchesOf([hold('a', '2030-01-01T10:00:00.100Z'), hold('b', '2030-01-01T10:00:00.900Z'), hold('c', '2030-01-01T10:00:00.000Z')]);

    expect(ids(batches)).toEqual([['a', 'b', 'c']]);
  });

  it(`starts a new batch with the first hold that runs out ${BATCH_SPAN_MS} ms or more after the batch's earliest`, () => {
    const batches = batchesOf([
      hold('a', '2030-01-01T10:00:00.999Z'),
      hold('b', '2030-01-01T10:00:01.000Z'),
      hold('c', '2030-01-01T10:00:02.998Z'),
      hold('d', '2030-01-01T10:00:02.999Z'),
      hold('e', '2030-01-01T10:00:07.500Z'),
    ]);

    expect(ids(batches)).toEqual([['a', 'b', 'c'], ['d'], ['e']]);
  });

  it("fires each batch at the latest expires_at among its holds, so none is ended early", () => {
    const [batch] = batchesOf([hold('a', '2030-01-01T10:00:00.100Z'), hold('b', '2030-01-01T10:00:00.750Z'), hold('c', '2030-01-01T10:00:00.300Z')]);

    expect(batch?.expires_at).toBe('2030-01-01T10:00:00.750Z');
  });

  it(`ends no hold ${BATCH_SPAN_MS} ms or more after its own expires_at`, () => {
    const holds = Array.from({ length: 200 }, (_, i) => hold(`b${i}`, new Date(Date.UTC(2030, 0, 1) + i * 37).toISOString()));

    const batches = batchesOf(holds);

    for (const batch of batches) {
      for (const id of batch.booking_ids) {
        const own = Date.parse(holds.find((h) => h.booking_id === id)!.expires_at);
        expect(Date.parse(batch.expires_at) - own).toBeGreaterThanOrEqual(0);
        expect(Date.parse(batch.expires_at) - own).toBeLessThan(BATCH_SPAN_MS);
      }
    }
  });

  it('makes the same batches from the same holds in any order', () => {
    const holds = Array.from({ length: 50 }, (_, i) => hold(`id-${(i * 7919) % 1000}`, new Date(Date.UTC(2030, 0, 1) + i * 90).toISOString()));

    expect(batchesOf([...holds].reverse())).toEqual(batchesOf(holds));
  });

  it('counts a hold delivered twice in one batch once', () => {
    const batches = batchesOf([hold('a', '2030-01-01T10:00:00.100Z'), hold('b', '2030-01-01T10:00:00.200Z'), hold('a', '2030-01-01T10:00:00.100Z')]);

    expect(ids(batches)).toEqual([['a', 'b']]);
  });

  it(`splits more than ${MAX_HOLDS_PER_BATCH} holds of one span into batches of at most that many`, () => {
    const holds = Array.from({ length: MAX_HOLDS_PER_BATCH * 2 + 1 }, (_, i) => hold(`id-${String(i).padStart(5, '0')}`, '2030-01-01T10:00:00.500Z'));

    const batches = batchesOf(holds);

    expect(batches.map((b) => b.booking_ids.length)).toEqual([MAX_HOLDS_PER_BATCH, MAX_HOLDS_PER_BATCH, 1]);
    expect(new Set(batches.flatMap((b) => b.booking_ids)).size).toBe(holds.length);
  });

  it('refuses a hold without a valid expires_at rather than timing it at a guess', () => {
    expect(() => batchesOf([hold('a', 'soon')])).toThrow(/expires_at/);
  });
});

describe('naming a batch', () => {
  it('names it after its second and a hash of its sorted booking ids', () => {
    const [batch] = batchesOf([hold('b', '2030-01-01T10:00:00.100Z'), hold('a', '2030-01-01T10:00:00.200Z')]);

    expect(batch?.id).toBe(batchId(Date.parse('2030-01-01T10:00:00Z'), ['a', 'b']));
    expect(batch?.id).toMatch(/^holds-20300101T100000Z-[0-9a-f]{32}$/);
  });

  it('gives the same name to the same holds, whatever their order', () => {
    expect(batchId(0, ['x', 'y', 'z'])).toBe(batchId(0, ['z', 'x', 'y']));
  });

  it('gives another name to other holds of the same batch second', () => {
    expect(batchId(0, ['x', 'y'])).not.toBe(batchId(0, ['x', 'z']));
  });

  it('keeps within what Step Functions takes as an execution name: 80 characters of [A-Za-z0-9-_]', () => {
    const name = batchId(Date.parse('9999-12-31T23:59:59Z'), Array.from({ length: 500 }, (_, i) => `${i}`.repeat(30)));

    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });

  it('names a batch of one hold like any other batch, never after its booking', () => {
    const booking = '8f14e45f-ceea-467a-9575-6f1b2c3d4e5f';

    expect(batchesOf([hold(booking, '2030-01-01T10:00:00.100Z')])).toEqual([
      { id: batchId(Date.parse('2030-01-01T10:00:00Z'), [booking]), expires_at: '2030-01-01T10:00:00.100Z', booking_ids: [booking] },
    ]);
  });
});

describe("a batch's execution input", () => {
  it('is the batch of holds and when to fire, the input the expire Lambda takes: { booking_ids, expires_at }', () => {
    const [batch] = batchesOf([hold('b', '2030-01-01T10:00:00.100Z'), hold('a', '2030-01-01T10:00:00.200Z')]);

    expect(JSON.parse(executionInput(batch!))).toEqual({ booking_ids: ['a', 'b'], expires_at: '2030-01-01T10:00:00.200Z' });
  });
});

describe('starting the timers of new holds', () => {
  const holds = [hold('a', '2030-01-01T10:00:00.100Z'), hold('b', '2030-01-01T10:00:00.200Z'), hold('c', '2030-01-01T10:00:05.000Z')];

  it('starts one timer per batch', async () => {
    const timer = fakeTimer();

    const { started, failed } = await startHoldTimers({ timer, retry: QUICK_RETRY }, holds);

    expect(timer.starts.map((b) => b.booking_ids)).toEqual([['a', 'b'], ['c']]);
    expect({ started: started.length, failed }).toEqual({ started: 2, failed: [] });
  });

  it('retries a throttled start within the invocation, and then starts it', async () => {
    const timer = fakeTimer(2);

    const { failed } = await startHoldTimers({ timer, retry: QUICK_RETRY }, holds);

    expect(failed).toEqual([]);
    expect(timer.starts).toHaveLength(2);
  });

  it('reports the batches still throttled after its retries, to be delivered again', async () => {
    const timer = fakeTimer(Number.POSITIVE_INFINITY);

    const { started, failed } = await startHoldTimers({ timer, retry: QUICK_RETRY }, holds);

    expect(started).toEqual([]);
    expect(failed.map((f) => f.batch.booking_ids)).toEqual([['a', 'b'], ['c']]);
  });

  it('reports at once a batch whose start fails in a way retrying will not mend (Step Functions unreachable)', async () => {
    const unreachable = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    let calls = 0;
    const timer: HoldTimer = {
      async start() {
        calls += 1;
        throw unreachable();
      },
    };

    const { failed } = await startHoldTimers({ timer, retry: QUICK_RETRY }, [holds[0]!]);

    expect({ failed: failed.length, calls }).toEqual({ failed: 1, calls: 1 });
  });

  it('starts the other batches when one fails', async () => {
    const timer: HoldTimer & { starts: HoldBatch[] } = {
      starts: [],
      async start(batch) {
        if (batch.booking_ids.includes('c')) throw new Error('no');
        this.starts.push(batch);
      },
    };

    const { started, failed } = await startHoldTimers({ timer, retry: QUICK_RETRY }, holds);

    expect({ started: ids(started), failed: failed.map((f) => f.batch.booking_ids) }).toEqual({ started: [['a', 'b']], failed: [['c']] });
  });
});
