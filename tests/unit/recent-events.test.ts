import { ZERO_COUNTERS } from '../../lib/domain/booking';
import type { Event } from '../../lib/domain/event';
import { NO_COPY, recentEvents } from '../../lib/store/recent-events';

/** An in-memory table of event items (terms) that counts its reads: what the copy is meant to spare. */
function table(events: Event[]) {
  const rows = new Map(events.map((e) => [e.id, e]));
  const reads: string[] = [];
  return {
    rows,
    reads,
    async terms(id: string) {
      reads.push(id);
      return rows.get(id);
    },
  };
}

const event = (id: string, fields: Partial<Event> = {}): Event => ({
  id,
  name: id,
  description: '',
  date_time: '2030-01-01T20:00:00.000Z',
  total_tickets: 10,
  ticket_price_cents: 1000,
  max_per_booking: 10,
  max_per_user: null,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  version: 1,
  stock_shards: 1,
  stock_span: 1,
  ...fields,
});

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('recentEvents: the per-process copy of events a booking plans on', () => {
  it('reads the table the first time and says the read is fresh', async () => {
    const t = table([event('a')]);
    const recent = recentEvents(t, { maxAgeMs: 1000, maxEvents: 10, now: clock().now });
    expect(await recent.get('a')).toEqual({ event: event('a'), fresh: true });
    expect(t.reads).toEqual(['a']);
  });

  it('answers from the copy while it is younger than maxAgeMs, and says it is not fresh', async () => {
    const t = table([event('a')]);
    const time = clock();
    const recent = recentEvents(t, { maxAgeMs: 1000, maxEvents: 10, now: time.now });
    await recent.get('a');
    t.rows.set('a', event('a', { version: 3 }));
    time.advance(999);
    expect(await recent.get('a')).toEqual({ event: event('a'), fresh: false });
    expect(t.reads).toEqual(['a']);
  });

  it('reads the table again once the copy is maxAgeMs old', async () => {
    const t = table([event('a')]);
    const time = clock();
    const recent = recentEvents(t, { maxAgeMs: 1000, maxEvents: 10, now: time.now });
    await recent.get('a');
    t.rows.set('a', event('a', { version: 3 }));
    time.advance(1000);
    expect(await recent.get('a')).toEqual({ event: event('a', { version: 3 }), fresh: true });
    expect(t.reads).toEqual(['a', 'a']);
  });

  it('fresh() always reads the table, and the next get() uses what it read', async () => {
    const t = table([event('a')]);
    const recent = recentEvents(t, { maxAgeMs: 1000, maxEvents: 10, now: clock().now });
    await recent.get('a');
    t.rows.set('a', event('a', { version: 2 }));
    expect(await recent.fresh('a')).toEqual(event('a', { version: 2 }));
    expect(await recent.get('a')).toEqual({ event: event('a', { version: 2 }), fresh: false });
    expect(t.reads).toEqual(['a', 'a']);
  });

  it('keeps no copy of an event that does not exist, and drops the copy of one that is gone', async () => {
    const t = table([event('a')]);
    const recent = recentEvents(t, { maxAgeMs: 1000, maxEvents: 10, now: clock().now });
    expect(await recent.get('missing')).toEqual({ event: undefined, fresh: true });
    expect(await recent.get('missing')).toEqual({ event: undefined, fresh: true });
    await recent.get('a');
    t.rows.delete('a');
    expect(await recent.fresh('a')).toBeUndefined();
    expect(await recent.get('a')).toEqual({ event: undefined, fresh: true });
  });

  it('keeps the shards a read found for a moment, as a hint of where the tickets are', () => {
    const time = clock();
    const recent = recentEvents(table([]), { maxAgeMs: 1000, maxEvents: 10, now: time.now });
    const shards = [{ index: 0, version: 1, ...ZERO_COUNTERS, available_tickets: 3 }];
    recent.sawStock('a', shards);
    time.advance(900);
    expect(recent.stockOf('a')).toEqual(shards);
    time.advance(200);
    expect(recent.stockOf('a')).toBeUndefined();
  });

  it('forget() drops the copy, so the next get() reads the table', async () => {
    const t = table([event('a')]);
    const recent = recentEvents(t, { maxAgeMs: 1000, maxEvents: 10, now: clock().now });
    await recent.get('a');
    recent.forget('a');
    expect((await recent.get('a')).fresh).toBe(true);
    expect(t.reads).toEqual(['a', 'a']);
  });

  it('keeps at most maxEvents copies, dropping the one stored longest ago', async () => {
    const t = table([event('a'), event('b'), event('c')]);
    const recent = recentEvents(t, { maxAgeMs: 1000, maxEvents: 2, now: clock().now });
    await recent.get('a');
    await recent.get('b');
    await recent.fresh('a'); // a is now the newer copy
    await recent.get('c'); // b goes
    t.reads.length = 0;
    expect((await recent.get('a')).fresh).toBe(false);
    expect((await recent.get('c')).fresh).toBe(false);
    expect((await recent.get('b')).fresh).toBe(true);
  });

  it('with NO_COPY reads the table every time', async () => {
    const t = table([event('a')]);
    const recent = recentEvents(t, NO_COPY);
    await recent.get('a');
    recent.sawStock('a', []);
    expect(await recent.get('a')).toEqual({ event: event('a'), fresh: true });
    expect(recent.stockOf('a')).toBeUndefined();
    expect(t.reads).toEqual(['a', 'a']);
  });
});
