import { type CounterDelta, ZERO_COUNTERS } from './booking';

/**
 * An event's unsold stock, spread over shards: the rules of which shard a booking
 * takes its tickets from, how a change of the total or of the number of shards
 * moves stock between them, and how the statistics add them up. The store
 * (lib/store/stock.ts) writes them; README.md, "Sharded stock", tells why.
 */

/** An event may spread its stock over 1..100 shards (one transaction holds at most 100 items). */
export const MAX_STOCK_SHARDS = 100;

/**
 * One shard per this many tickets when the admin does not choose, at most 100.
 * Under AWS's conflict semantics one shard takes a few dozen bookings a second
 * before its transactions start cancelling each other (BENCHMARKS.md, "Like
 * AWS"), and what a sale needs is set by its crowd more than by its size: a
 * crowd is the same for 300 tickets as for 30,000. Shards are cheap (each a
 * small item; a refusal, the statistics and an event's page read them all), so
 * every event of 10,000 tickets or more gets the full 100, and the smallest keep
 * one: nothing to spread, and no tail split over shards.
 */
export const TICKETS_PER_SHARD = 100;

export function defaultStockShards(totalTickets: number): number {
  return Math.min(MAX_STOCK_SHARDS, Math.max(1, Math.ceil(totalTickets / TICKETS_PER_SHARD)));
}

/** One shard as stored: its part of the event's counters, and the event version it sells at. */
export interface Shard extends CounterDelta {
  index: number;
  version: number;
}

/** Tickets a booking takes from one shard. */
export interface Take {
  shard: number;
  quantity: number;
}

/** Stock moved from one shard to another (a reshard or a rebalance). */
export interface Move {
  from: number;
  to: number;
  quantity: number;
}

/** The event's counters: the sum over its shards. */
export function sumShards(shards: readonly CounterDelta[]): CounterDelta {
  const sum: CounterDelta = { ...ZERO_COUNTERS };
  for (const shard of shards) {
    for (const key of Object.keys(sum) as (keyof CounterDelta)[]) sum[key] += shard[key];
  }
  return sum;
}

/**
 * Whether shards read one by one account for every ticket of the event: their
 * available, held and sold tickets add up to its total. They do at any single
 * moment (a booking, a payment or a release moves tickets within its shard); a
 * read that straddles a move of stock between shards, or a change of the total,
 * does not, and must be read again.
 */
export function accountsFor(shards: readonly CounterDelta[], event: { total_tickets: number }): boolean {
  const sum = sumShards(shards);
  return sum.available_tickets + sum.tickets_held + sum.tickets_sold + sum.line_tickets === event.total_tickets;
}

/** `total` tickets over `shards` shards, as even as can be (the first ones take the remainder). */
export function splitEvenly(total: number, shards: number): number[] {
  const base = Math.floor(total / shards);
  return Array.from({ length: shards }, (_, i) => base + (i < total % shards ? 1 : 0));
}

/**
 * The shard a booking tries first: any of the event's shards, at random, so that
 * concurrent buyers spread over them; not one that just cancelled or throttled
 * this request's transaction, while another is left.
 */
export function pickShard(stockShards: number, avoid: ReadonlySet<number>, random: () => number = Math.random): number {
  const open = Array.from({ length: stockShards }, (_, i) => i).filter((i) => !avoid.has(i));
  const from = open.length > 0 ? open : Array.from({ length: stockShards }, (_, i) => i);
  return from[Math.floor(random() * from.length)]!;
}

/**
 * Where `quantity` tickets come from, judged on a fresh read of every shard, or
 * undefined when the shards together do not hold them (the only ground for a
 * refusal). One shard when one has enough (at random among those that do, to keep
 * spreading the buyers in the tail); else the fewest shards, fullest first, at
 * most `maxShards` of them (what fits in one transaction beside the booking's
 * other items). When even those do not hold enough although the sum does, the
 * stock is too scattered for one transaction: `consolidate` says which move
 * gathers it first.
 */
export function takesFor(
  shards: readonly Pick<Shard, 'index' | 'available_tickets'>[],
  quantity: number,
  maxShards: number,
  avoid: ReadonlySet<number> = new Set(),
  random: () => number = Math.random,
): { takes: Take[] } | { consolidate: Move } | undefined {
  const stocked = shards.filter((s) => s.available_tickets > 0);
  if (stocked.reduce((n, s) => n + s.available_tickets, 0) < quantity) return undefined;
  const enough = stocked.filter((s) => s.available_tickets >= quantity);
  const preferred = enough.filter((s) => !avoid.has(s.index));
  const single = preferred.length > 0 ? preferred : enough;
  if (single.length > 0) return { takes: [{ shard: single[Math.floor(random() * single.length)]!.index, quantity }] };
  const fullest = [...stocked].sort((a, b) => b.available_tickets - a.available_tickets);
  const takes: Take[] = [];
  let left = quantity;
  for (const shard of fullest.slice(0, maxShards)) {
    const take = Math.min(left, shard.available_tickets);
    takes.push({ shard: shard.index, quantity: take });
    left -= take;
    if (left === 0) return { takes };
  }
  const emptiest = fullest.at(-1)!;
  return { consolidate: { from: emptiest.index, to: fullest[0]!.index, quantity: emptiest.available_tickets } };
}

/**
 * Where the tickets a lowered total takes away come from: fullest shards first,
 * at most `maxShards`; undefined when those do not hold `cut` (the caller checks
 * first that the sum does, else the total is below what is sold or held).
 */
export function cutFrom(shards: readonly Pick<Shard, 'index' | 'available_tickets'>[], cut: number, maxShards: number): Take[] | undefined {
  const fullest = shards.filter((s) => s.available_tickets > 0).sort((a, b) => b.available_tickets - a.available_tickets);
  const takes: Take[] = [];
  let left = cut;
  for (const shard of fullest.slice(0, maxShards)) {
    if (left === 0) break;
    const take = Math.min(left, shard.available_tickets);
    takes.push({ shard: shard.index, quantity: take });
    left -= take;
  }
  return left === 0 ? takes : undefined;
}

/**
 * Where the tickets a raised total adds go: all of them to the emptiest shard in
 * use. One shard, so that the PATCH's transaction holds one shard from the
 * buyers, not all of them; the emptiest, so that the stock ends as even as it
 * can without a move.
 */
export function addTo(shards: readonly Pick<Shard, 'index' | 'available_tickets'>[], stockShards: number, added: number): Take[] {
  const inUse = shards.filter((s) => s.index < stockShards);
  const emptiest = inUse.reduce<Pick<Shard, 'index' | 'available_tickets'> | undefined>(
    (best, s) => (best === undefined || s.available_tickets < best.available_tickets ? s : best),
    undefined,
  );
  return [{ shard: emptiest?.index ?? 0, quantity: added }];
}

/**
 * The moves that leave the stock spread evenly over the shards in use (indexes
 * below `stockShards`) and none on the shards beyond them (left by a reshard to
 * fewer): each retired shard's stock goes to the shards in use, then the fullest
 * shards give to the emptiest until every shard in use is within `tolerance` of
 * an even share (at least one ticket) of it: a move costs a transaction that
 * competes with buyers, so a shard a few tickets off is left as it is. Held and
 * sold tickets stay where they are: only the sum of those matters.
 */
export function rebalanceMoves(shards: readonly Pick<Shard, 'index' | 'available_tickets'>[], stockShards: number, tolerance = 0.1): Move[] {
  const level = new Map(shards.map((s) => [s.index, s.available_tickets]));
  const moves: Move[] = [];
  const inUse = Array.from({ length: stockShards }, (_, i) => i);
  const total = [...level.values()].reduce((n, v) => n + v, 0);
  const targets = splitEvenly(total, stockShards);
  const give = (from: number, to: number, quantity: number) => {
    if (quantity <= 0) return;
    moves.push({ from, to, quantity });
    level.set(from, (level.get(from) ?? 0) - quantity);
    level.set(to, (level.get(to) ?? 0) + quantity);
  };
  const neediest = () => inUse.reduce((best, i) => ((level.get(i) ?? 0) - targets[i]! < (level.get(best) ?? 0) - targets[best]! ? i : best), 0);
  for (const [index, available] of [...level]) {
    if (index < stockShards || available <= 0) continue;
    let left = available;
    while (left > 0) {
      const to = neediest();
      const room = Math.max(1, targets[to]! - (level.get(to) ?? 0));
      const quantity = Math.min(left, room);
      give(index, to, quantity);
      left -= quantity;
    }
  }
  const slack = Math.max(1, Math.floor((total / stockShards) * tolerance));
  for (;;) {
    const fullest = inUse.reduce((best, i) => ((level.get(i) ?? 0) - targets[i]! > (level.get(best) ?? 0) - targets[best]! ? i : best), 0);
    const to = neediest();
    const excess = (level.get(fullest) ?? 0) - targets[fullest]!;
    const want = targets[to]! - (level.get(to) ?? 0);
    if (excess <= slack && want <= slack) break;
    const quantity = Math.min(excess, want);
    if (quantity <= 0) break;
    give(fullest, to, quantity);
  }
  return moves;
}

/** What an offer of the waiting list takes from one shard: tickets released to the line first, then tickets on sale. */
export interface LineTake {
  shard: number;
  fromLine: number;
  fromSale: number;
}

/** The tickets a planning pass still sees free on each shard, for the line and on sale. */
export type FreePool = ReadonlyMap<number, { line: number; sale: number }>;

export function freePool(shards: readonly Pick<Shard, 'index' | 'available_tickets' | 'line_tickets'>[]): FreePool {
  return new Map(shards.map((s) => [s.index, { line: Math.max(0, s.line_tickets), sale: Math.max(0, s.available_tickets) }]));
}

/**
 * Where an offer's `quantity` tickets come from: the tickets released to the
 * line go first (they are the line's, and every one taken from them is one
 * less to put back on sale), then tickets on sale; fullest shards first, so an
 * offer touches few. Returns the pool as it is left, or undefined when it holds
 * fewer.
 */
export function takesForOffer(pool: FreePool, quantity: number): { takes: LineTake[]; rest: FreePool } | undefined {
  const rest = new Map([...pool].map(([index, free]) => [index, { ...free }]));
  const takes = new Map<number, LineTake>();
  let left = quantity;
  for (const kind of ['line', 'sale'] as const) {
    const fullest = [...rest].filter(([, free]) => free[kind] > 0).sort((a, b) => b[1][kind] - a[1][kind]);
    for (const [index, free] of fullest) {
      if (left === 0) break;
      const take = Math.min(left, free[kind]);
      free[kind] -= take;
      left -= take;
      const entry = takes.get(index) ?? { shard: index, fromLine: 0, fromSale: 0 };
      if (kind === 'line') entry.fromLine += take;
      else entry.fromSale += take;
      takes.set(index, entry);
    }
  }
  return left === 0 ? { takes: [...takes.values()], rest } : undefined;
}
