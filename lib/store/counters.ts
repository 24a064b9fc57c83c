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
    // if_not_exists: a counter newer than the item (line_tickets on a shard made before it) starts at zero.
    sets.push(`${name} = if_not_exists(${name}, :zero) + :c_${name}`);
    values[':zero'] = 0;
    values[`:c_${name}`] = change;
  }
  return { sets, values };
}
