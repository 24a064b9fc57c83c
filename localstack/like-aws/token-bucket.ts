/**
 * A token bucket, the shape of AWS's throughput limits: `capacity` tokens of burst,
 * refilled at `ratePerSecond`. Tokens are refilled lazily, when the bucket is looked at.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly capacity: number,
    readonly ratePerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.at = now();
  }

  available(): number {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) / 1000) * this.ratePerSecond);
    this.at = now;
    return this.tokens;
  }

  /**
   * Whether `amount` can be taken now. A full bucket lets any amount through (and
   * goes into debt), so that a request larger than the whole burst is slowed, not
   * refused for ever.
   */
  has(amount: number): boolean {
    const tokens = this.available();
    return tokens >= amount || tokens >= this.capacity;
  }

  /** Takes `amount` (a negative amount gives back), even into debt. */
  charge(amount: number): void {
    this.tokens = Math.min(this.capacity, this.available() - amount);
  }

  /** Takes `amount` when it can; says whether it did. */
  take(amount: number): boolean {
    if (!this.has(amount)) return false;
    this.charge(amount);
    return true;
  }

  isFull(): boolean {
    return this.available() >= this.capacity;
  }
}
