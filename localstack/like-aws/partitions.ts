import { TokenBucket } from './token-bucket';
import type { WriteCost } from './write-cost';

/** Units asked of one partition: of the table (index null) or of an index. */
export interface Charge {
  index: string | null;
  partition: string;
  units: number;
}

/** What one partition key value (of the table, or of an index) saw. */
export interface PartitionAccount {
  index: string | null;
  partition: string;
  /** Write units consumed. */
  units: number;
  /** Writes refused because this partition lacked the units. */
  throttles: number;
  /** Writes refused because an item of this partition was in a transaction in flight. */
  conflicts: number;
}

export function chargesOf(cost: WriteCost): Charge[] {
  return [{ index: null, ...cost.table }, ...cost.indexes];
}

const idOf = (c: { index: string | null; partition: string }) => `${c.index ?? ''}\u0000${c.partition}`;

/** Charges summed by partition. */
function merge(charges: Charge[]): Charge[] {
  const byId = new Map<string, Charge>();
  for (const c of charges) {
    const seen = byId.get(idOf(c));
    if (seen) seen.units += c.units;
    else byId.set(idOf(c), { ...c });
  }
  return [...byId.values()];
}

/** Buckets kept before the full ones (which hold nothing a new bucket would not) are dropped. */
const BUCKETS_BEFORE_PRUNING = 10_000;

/**
 * Per-partition write units: a token bucket per partition key value of the table
 * and of each index, as AWS limits each partition (LIKE_AWS_PARTITION_WCU per
 * second, one second of burst), and the account of what each partition used.
 * Reads are not limited: the booking path's reads are spread over many keys, and
 * its limits are its writes.
 */
export class Partitions {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly account = new Map<string, PartitionAccount>();

  constructor(
    private readonly unitsPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes the units of every charge when every partition has them, and then
   * returns nothing; otherwise takes nothing and returns the partitions that lack them.
   */
  admit(charges: Charge[]): Charge[] {
    const demand = merge(charges);
    const lacking = demand.filter((c) => !this.bucket(c).has(c.units));
    if (lacking.length === 0) for (const c of demand) this.bucket(c).charge(c.units);
    return lacking;
  }

  /**
   * Replaces what a write was admitted with (an estimate, made before its outcome
   * was known) by what it cost: the difference is taken or given back, and the
   * cost is what the account records.
   */
  settle(reserved: Charge[], actual: Charge[]): void {
    for (const c of reserved) this.bucket(c).charge(-c.units);
    for (const c of merge(actual)) {
      this.bucket(c).charge(c.units);
      this.entry(c).units += c.units;
    }
  }

  count(what: 'throttles' | 'conflicts', partition: { index: string | null; partition: string }): void {
    this.entry(partition)[what] += 1;
  }

  /** Every partition that used units or was refused, busiest first. */
  accounts(): PartitionAccount[] {
    return [...this.account.values()].map((a) => ({ ...a })).sort((a, b) => b.units - a.units || b.throttles - a.throttles);
  }

  /** A fresh start: full buckets, an empty account. */
  reset(): void {
    this.buckets.clear();
    this.account.clear();
  }

  private bucket(c: { index: string | null; partition: string }): TokenBucket {
    const id = idOf(c);
    let bucket = this.buckets.get(id);
    if (!bucket) {
      if (this.buckets.size >= BUCKETS_BEFORE_PRUNING) {
        for (const [key, b] of this.buckets) if (b.isFull()) this.buckets.delete(key);
      }
      bucket = new TokenBucket(this.unitsPerSecond, this.unitsPerSecond, this.now);
      this.buckets.set(id, bucket);
    }
    return bucket;
  }

  private entry(c: { index: string | null; partition: string }): PartitionAccount {
    const id = idOf(c);
    let entry = this.account.get(id);
    if (!entry) {
      entry = { index: c.index, partition: c.partition, units: 0, throttles: 0, conflicts: 0 };
      this.account.set(id, entry);
    }
    return entry;
  }
}
