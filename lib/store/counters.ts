import type { CounterDelta } from '../domain/booking';

/**
 * An UpdateExpression fragment that adds a counter delta to the event item,
 * e.g. `available_tickets = available_tickets + :c_available_tickets`. Zero
 * entries are left out.
 */
export function counterUpdate(delta: CounterDelta): { sets: string[]; values: Record<string, number> } {
  const sets: string[] = [];
  const values: Record<string, number> = {};
  for (const [name, change] of Object.entries(delta) as [keyof CounterDelta, number][]) {
    if (change === 0) continue;
    sets.push(`${name} = ${name} + :c_${name}`);
    values[`:c_${name}`] = change;
  }
  return { sets, values };
}
