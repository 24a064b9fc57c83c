import fc from 'fast-check';
import { ZERO_COUNTERS } from '../../lib/domain/booking';
import {
  addTo,
  cutFrom,
  defaultStockShards,
  MAX_STOCK_SHARDS,
  type Move,
  pickShard,
  rebalanceMoves,
  splitEvenly,
  sumShards,
  type Take,
  takesFor,
} from '../../lib/domain/stock';

/** Shards 0..n-1 holding these available tickets. */
const shards = (available: number[]) => available.map((available_tickets, index) => ({ index, available_tickets }));
const sum = (numbers: number[]) => numbers.reduce((n, v) => n + v, 0);
const quantities = (takes: Take[]) => takes.map((t) => t.quantity);
/** A `random` that always answers this value, to pin a random choice. */
const always = (value: number) => () => value;

/** Below this many runs a property has tried too few layouts of stock to prove anything, so a time limit that cuts it shorter fails the test. */
const MIN_RUNS = 100;
const PROPERTY = { seed: 20_260_613, numRuns: 150, timeLimitMs: 10_000, minRuns: MIN_RUNS };

/** Checks a property as the repo's property tests do: it reports its runs, and fails below MIN_RUNS. */
function checkProperty<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => void): void {
  const details = fc.check(fc.property(arbitrary, predicate), {
    seed: PROPERTY.seed,
    numRuns: PROPERTY.numRuns,
    interruptAfterTimeLimit: PROPERTY.timeLimitMs,
  });
  if (details.failed) throw new Error(fc.defaultReportMessage(details), { cause: details.errorInstance });
  const limit = details.interrupted ? `, stopped by the ${PROPERTY.timeLimitMs} ms limit` : '';
  console.log(`${expect.getState().currentTestName}: ${details.numRuns} of ${PROPERTY.numRuns} runs${limit}`);
  expect(details.numRuns).toBeGreaterThanOrEqual(PROPERTY.minRuns);
}

/** Applies moves in order, failing on any that takes more than its shard holds at that point. */
function applyMoves(available: number[], moves: Move[]): number[] {
  const level = [...available];
  for (const move of moves) {
    expect(move.quantity).toBeGreaterThan(0);
    expect(move.from).not.toBe(move.to);
    expect(level[move.from] ?? 0).toBeGreaterThanOrEqual(move.quantity);
    level[move.from] = (level[move.from] ?? 0) - move.quantity;
    level[move.to] = (level[move.to] ?? 0) + move.quantity;
  }
  return level.map((v) => v ?? 0);
}

describe('the default number of shards', () => {
  it('is one for a small event', () => {
    expect(defaultStockShards(1)).toBe(1);
    expect(defaultStockShards(100)).toBe(1);
  });

  it('is one per started 100 tickets', () => {
    expect(defaultStockShards(101)).toBe(2);
    expect(defaultStockShards(300)).toBe(3);
    expect(defaultStockShards(5000)).toBe(50);
    expect(defaultStockShards(9_950)).toBe(100);
  });

  it('is capped at 100, what one transaction can hold', () => {
    expect(MAX_STOCK_SHARDS).toBe(100);
    expect(defaultStockShards(120_000)).toBe(100);
    expect(defaultStockShards(1_000_000)).toBe(100);
  });
});

describe('summing the shards', () => {
  it('adds every counter of every shard', () => {
    const a = { ...ZERO_COUNTERS, available_tickets: 5, tickets_held: 2, bookings_pending: 1 };
    const b = { ...ZERO_COUNTERS, available_tickets: 3, tickets_sold: 4, revenue_cents: 400, bookings_confirmed: 2, bookings_cancelled: 1 };
    expect(sumShards([a, b])).toEqual({
      available_tickets: 8,
      tickets_held: 2,
      tickets_sold: 4,
      revenue_cents: 400,
      bookings_pending: 1,
      bookings_confirmed: 2,
      bookings_cancelled: 1,
      line_tickets: 0,
    });
  });

  it('is all zeros for no shards, without touching ZERO_COUNTERS', () => {
    expect(sumShards([])).toEqual(ZERO_COUNTERS);
    sumShards([{ ...ZERO_COUNTERS, available_tickets: 1 }]);
    expect(ZERO_COUNTERS.available_tickets).toBe(0);
  });
});

describe('splitting a total evenly', () => {
  it.each([
    [10, 1],
    [10, 3],
    [7, 7],
    [3, 5],
    [0, 4],
    [120_000, 100],
    [100_001, 100],
  ])('splits %p tickets over %p shards so that they sum to the total and differ by at most one', (total, count) => {
    const parts = splitEvenly(total, count);
    expect(parts).toHaveLength(count);
    expect(sum(parts)).toBe(total);
    expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1);
  });

  it('gives the remainder to the first shards', () => {
    expect(splitEvenly(10, 4)).toEqual([3, 3, 2, 2]);
  });
});

describe('picking the shard a booking tries first', () => {
  it('is always one of the event shards', () => {
    for (const r of [0, 0.25, 0.5, 0.999_999]) {
      const shard = pickShard(8, new Set(), always(r));
      expect(shard).toBeGreaterThanOrEqual(0);
      expect(shard).toBeLessThan(8);
    }
  });

  it('avoids the shards that just failed this request while another is left', () => {
    const avoid = new Set([0, 1, 3]);
    for (let i = 0; i < 500; i++) expect([2, 4]).toContain(pickShard(5, avoid));
  });

  it('picks among all shards when every one is avoided', () => {
    const picked = new Set(Array.from({ length: 500 }, () => pickShard(3, new Set([0, 1, 2]))));
    expect(picked).toEqual(new Set([0, 1, 2]));
  });

  it('spreads buyers: over many draws every shard is picked', () => {
    const picked = new Set(Array.from({ length: 5000 }, () => pickShard(MAX_STOCK_SHARDS, new Set())));
    expect(picked.size).toBe(MAX_STOCK_SHARDS);
  });
});

describe('where a booking takes its tickets from', () => {
  it('takes from one shard when one has enough', () => {
    expect(takesFor(shards([1, 5, 2]), 4, 10)).toEqual({ takes: [{ shard: 1, quantity: 4 }] });
  });

  it('chooses at random among the shards that have enough, never one that has not', () => {
    const picked = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const found = takesFor(shards([4, 1, 9, 4, 0]), 4, 10);
      expect(found).toBeDefined();
      const { takes } = found as { takes: Take[] };
      expect(takes).toHaveLength(1);
      picked.add(takes[0]!.shard);
    }
    expect(picked).toEqual(new Set([0, 2, 3]));
  });

  it('prefers a shard that is not avoided when one that is not has enough', () => {
    for (let i = 0; i < 200; i++) {
      expect(takesFor(shards([5, 5, 5]), 3, 10, new Set([0, 2]))).toEqual({ takes: [{ shard: 1, quantity: 3 }] });
    }
  });

  it('takes from an avoided shard when only avoided shards have enough alone', () => {
    expect(takesFor(shards([5, 2, 1]), 3, 10, new Set([0]))).toEqual({ takes: [{ shard: 0, quantity: 3 }] });
  });

  it('takes from several shards, fullest first, when none has enough alone', () => {
    const found = takesFor(shards([2, 0, 3, 1, 2]), 6, 10, new Set(), always(0));
    expect(found).toEqual({
      takes: [
        { shard: 2, quantity: 3 },
        { shard: 0, quantity: 2 },
        { shard: 4, quantity: 1 },
      ],
    });
  });

  it('takes the last tickets when they are spread over every shard', () => {
    const found = takesFor(shards([1, 1, 1, 1]), 4, 10);
    expect(found).toBeDefined();
    const { takes } = found as { takes: Take[] };
    expect(sum(quantities(takes))).toBe(4);
    expect(new Set(takes.map((t) => t.shard))).toEqual(new Set([0, 1, 2, 3]));
  });

  it('is undefined when the shards together hold fewer tickets: the only ground for a refusal', () => {
    expect(takesFor(shards([1, 2, 0]), 4, 10)).toBeUndefined();
    expect(takesFor(shards([0, 0]), 1, 10)).toBeUndefined();
  });

  it('asks to consolidate when the tickets exist but are too scattered for one transaction', () => {
    const found = takesFor(shards([3, 3, 3, 1]), 8, 2);
    expect(found).toEqual({ consolidate: { from: 3, to: 0, quantity: 1 } });
  });

  it('reaches takes after consolidating as often as it asks', () => {
    let available = [2, 2, 2, 2, 2, 1];
    for (let round = 0; round < available.length; round++) {
      const found = takesFor(shards(available), 9, 2);
      expect(found).toBeDefined();
      if (found && 'takes' in found) {
        expect(found.takes.length).toBeLessThanOrEqual(2);
        expect(sum(quantities(found.takes))).toBe(9);
        return;
      }
      available = applyMoves(available, [(found as { consolidate: Move }).consolidate]);
    }
    throw new Error(`no takes after ${available.length} consolidations: ${available.join(',')}`);
  });

  it('for any stock: takes of exactly the quantity within each shard and maxShards, undefined only when short, consolidate only when scattered', () => {
    const layout = fc.record({
      available: fc.array(fc.nat({ max: 40 }), { minLength: 1, maxLength: 30 }),
      quantity: fc.integer({ min: 1, max: 120 }),
      maxShards: fc.integer({ min: 1, max: 8 }),
      avoid: fc.uniqueArray(fc.nat({ max: 29 }), { maxLength: 10 }),
    });
    checkProperty(layout, ({ available, quantity, maxShards, avoid }) => {
      const found = takesFor(shards(available), quantity, maxShards, new Set(avoid));
      const total = sum(available);
      if (total < quantity) {
        expect(found).toBeUndefined();
        return;
      }
      expect(found).toBeDefined();
      const topMax = sum([...available].sort((a, b) => b - a).slice(0, maxShards));
      if ('consolidate' in found!) {
        expect(topMax).toBeLessThan(quantity);
        const { from, to, quantity: moved } = found.consolidate;
        expect(from).not.toBe(to);
        expect(moved).toBe(available[from]);
        expect(moved).toBeGreaterThan(0);
        return;
      }
      const { takes } = found!;
      expect(sum(quantities(takes))).toBe(quantity);
      expect(new Set(takes.map((t) => t.shard)).size).toBe(takes.length);
      for (const take of takes) {
        expect(take.quantity).toBeGreaterThan(0);
        expect(take.quantity).toBeLessThanOrEqual(available[take.shard]!);
      }
      const single = available.some((a) => a >= quantity);
      if (single) {
        expect(takes).toHaveLength(1);
        const open = available.some((a, i) => a >= quantity && !avoid.includes(i));
        if (open) expect(avoid).not.toContain(takes[0]!.shard);
      } else {
        expect(takes.length).toBeLessThanOrEqual(maxShards);
        // the fewest shards: the fullest ones, each drained but perhaps the last
        const sizes = takes.map((t) => available[t.shard]!);
        expect(sizes).toEqual([...available].sort((a, b) => b - a).slice(0, takes.length));
        for (const take of takes.slice(0, -1)) expect(take.quantity).toBe(available[take.shard]);
      }
    });
  });
});

describe('where a lowered total takes its tickets from', () => {
  it('cuts from the fullest shards first', () => {
    expect(cutFrom(shards([2, 5, 0, 3]), 7, 10)).toEqual([
      { shard: 1, quantity: 5 },
      { shard: 3, quantity: 2 },
    ]);
  });

  it('cuts nothing for a cut of zero', () => {
    expect(cutFrom(shards([2, 5]), 0, 10)).toEqual([]);
  });

  it('is undefined when the fullest maxShards shards do not hold the cut', () => {
    expect(cutFrom(shards([3, 3, 3]), 7, 2)).toBeUndefined();
    expect(cutFrom(shards([3, 3, 3]), 10, 10)).toBeUndefined();
  });

  it('never cuts more than a shard holds, and cuts exactly the amount', () => {
    checkProperty(
      fc.record({ available: fc.array(fc.nat({ max: 40 }), { minLength: 1, maxLength: 30 }), cut: fc.nat({ max: 200 }), maxShards: fc.integer({ min: 1, max: 10 }) }),
      ({ available, cut, maxShards }) => {
        const takes = cutFrom(shards(available), cut, maxShards);
        const topMax = sum([...available].sort((a, b) => b - a).slice(0, maxShards));
        if (topMax < cut) {
          expect(takes).toBeUndefined();
          return;
        }
        expect(takes).toBeDefined();
        expect(sum(quantities(takes!))).toBe(cut);
        expect(takes!.length).toBeLessThanOrEqual(maxShards);
        for (const take of takes!) {
          expect(take.quantity).toBeGreaterThan(0);
          expect(take.quantity).toBeLessThanOrEqual(available[take.shard]!);
        }
      },
    );
  });
});

describe('adding tickets to the stock', () => {
  it('puts every added ticket on the emptiest shard in use: one shard held from the buyers', () => {
    expect(addTo(shards([5, 2, 7, 0]), 3, 10)).toEqual([{ shard: 1, quantity: 10 }]);
  });

  it('never puts them on a shard no longer in use', () => {
    expect(addTo(shards([4, 3, 0, 0]), 2, 5)).toEqual([{ shard: 1, quantity: 5 }]);
  });
});

describe('rebalancing the stock', () => {
  /** How far a shard in use may end from its even share (what rebalanceMoves settles for). */
  const slack = (total: number, stockShards: number, tolerance: number) => Math.max(1, Math.floor((total / stockShards) * tolerance));

  it('moves nothing when the stock is already even', () => {
    expect(rebalanceMoves(shards([5, 5, 4]), 3)).toEqual([]);
  });

  it('drains every shard at or above stockShards into the shards in use (a reshard to fewer)', () => {
    const available = [0, 0, 0, 30, 12];
    const after = applyMoves(available, rebalanceMoves(shards(available), 3));
    expect(after.slice(3)).toEqual([0, 0]);
    expect(after.slice(0, 3)).toEqual([14, 14, 14]);
  });

  it('fills new shards from the old ones (a reshard to more)', () => {
    const available = [30];
    const after = applyMoves(available, rebalanceMoves(shards(available), 4));
    expect(sum(after)).toBe(30);
    expect(after).toHaveLength(4);
    expect(Math.max(...after) - Math.min(...after)).toBeLessThanOrEqual(1);
  });

  it('evens out a lopsided event within the tolerance of an even share', () => {
    const available = [900, 50, 50, 0];
    const after = applyMoves(available, rebalanceMoves(shards(available), 4, 0.1));
    for (const level of after) expect(Math.abs(level - 250)).toBeLessThanOrEqual(25);
  });

  it('leaves shards a little off even alone, rather than move a few tickets', () => {
    expect(rebalanceMoves(shards([105, 100, 95]), 3, 0.1)).toEqual([]);
  });

  it('for any stock: drains retired shards, ends even within the tolerance, never overdraws, keeps the total', () => {
    const layout = fc.record({
      available: fc.array(fc.nat({ max: 500 }), { minLength: 1, maxLength: 20 }),
      tolerance: fc.constantFrom(0, 0.05, 0.1, 0.25),
      stockShards: fc.integer({ min: 1, max: 25 }),
    });
    checkProperty(layout, ({ available, tolerance, stockShards }) => {
      const total = sum(available);
      const moves = rebalanceMoves(shards(available), stockShards, tolerance);
      const after = applyMoves(available, moves); // fails on a move that overdraws its shard
      for (const move of moves) expect(move.to).toBeLessThan(stockShards);
      expect(sum(after)).toBe(total);
      after.slice(stockShards).forEach((level) => expect(level).toBe(0));
      const targets = splitEvenly(total, stockShards);
      const allowed = slack(total, stockShards, tolerance);
      targets.forEach((target, i) => expect(Math.abs((after[i] ?? 0) - target)).toBeLessThanOrEqual(allowed));
    });
  });
});
