/**
 * The items of the TransactWriteItems in flight (AWS docs, "Transaction conflict
 * handling in DynamoDB"): while a transaction holds an item, another transaction that
 * includes it is cancelled with TransactionConflict, and a PutItem, UpdateItem or
 * DeleteItem of it fails with TransactionConflictException.
 */
export class InFlight {
  private readonly holders = new Map<string, symbol>();

  isHeld(item: string): boolean {
    return this.holders.has(item);
  }

  /** Holds `items` for one transaction; returns what lets them go. */
  hold(items: string[]): () => void {
    const holder = Symbol('transaction');
    for (const item of items) this.holders.set(item, holder);
    return () => {
      for (const item of items) if (this.holders.get(item) === holder) this.holders.delete(item);
    };
  }
}
