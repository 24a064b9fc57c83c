import { ZERO_COUNTERS } from '../../lib/domain/booking';
import { TicketsCommittedError, ValidationError } from '../../lib/domain/errors';
import { CreateEventBody, newEvent, ticketDelta, toEventView, UpdateEventBody } from '../../lib/domain/event';

const now = new Date('2026-06-01T12:00:00.000Z');
const valid = { name: 'Concert', date_time: '2026-07-01T21:30:00+02:00', total_tickets: 300, ticket_price: '49.90' };

describe('creating an event', () => {
  it('starts at version 1, its item carrying no counters (they live on its stock shards)', () => {
    const event = newEvent(CreateEventBody.parse(valid), 'e1', now);
    expect(event).toMatchObject({ version: 1, total_tickets: 300 });
    for (const counter of Object.keys(ZERO_COUNTERS)) expect(event).not.toHaveProperty(counter);
  });

  it('spreads its stock over the default number of shards for its size, all of them in use', () => {
    expect(newEvent(CreateEventBody.parse(valid), 'e1', now)).toMatchObject({ stock_shards: 3, stock_span: 3 });
    expect(newEvent(CreateEventBody.parse({ ...valid, total_tickets: 120_000 }), 'e1', now)).toMatchObject({ stock_shards: 100, stock_span: 100 });
  });

  it('keeps the number of shards the admin chose', () => {
    const event = newEvent(CreateEventBody.parse({ ...valid, stock_shards: 7 }), 'e1', now);
    expect(event).toMatchObject({ stock_shards: 7, stock_span: 7 });
  });

  it('fills the documented defaults', () => {
    const input = CreateEventBody.parse(valid);
    expect(input).toMatchObject({ description: '', max_per_booking: 10, max_per_user: null });
  });

  it('normalises date_time to UTC and the price to cents', () => {
    const input = CreateEventBody.parse(valid);
    expect(input.date_time).toBe('2026-07-01T19:30:00.000Z');
    expect(input.ticket_price).toBe(4990);
  });

  it('refuses a date_time that is not in the future', () => {
    const input = CreateEventBody.parse({ ...valid, date_time: now.toISOString() });
    expect(() => newEvent(input, 'e1', now)).toThrow(ValidationError);
  });

  it.each([
    ['total_tickets', 0],
    ['total_tickets', 1_000_001],
    ['total_tickets', 2.5],
    ['max_per_booking', 101],
    ['max_per_user', 0],
    ['name', ''],
    ['description', 'x'.repeat(5001)],
    ['date_time', '2026-07-01 21:30'],
    ['stock_shards', 0],
    ['stock_shards', 101],
    ['stock_shards', 1.5],
  ])('refuses %s = %p', (field, value) => {
    expect(CreateEventBody.safeParse({ ...valid, [field]: value }).success).toBe(false);
  });

  it('refuses unknown fields, so a typo never silently does nothing', () => {
    expect(CreateEventBody.safeParse({ ...valid, totl_tickets: 5 }).success).toBe(false);
    expect(UpdateEventBody.safeParse({ totl_tickets: 5 }).success).toBe(false);
  });

  it('shows money as a decimal amount', () => {
    const event = newEvent(CreateEventBody.parse({ ...valid, ticket_price: 0.1 }), 'e1', now);
    expect(toEventView({ ...event, ...ZERO_COUNTERS, available_tickets: 300 }).ticket_price).toBe(0.1);
  });

  it('shows the tickets its shards hold together, and the number of shards in use', () => {
    const event = newEvent(CreateEventBody.parse({ ...valid, stock_shards: 4 }), 'e1', now);
    const view = toEventView({ ...event, ...ZERO_COUNTERS, available_tickets: 287, tickets_held: 13 });
    expect(view).toMatchObject({ available_tickets: 287, stock_shards: 4, total_tickets: 300 });
  });
});

describe('changing total_tickets', () => {
  const event = { total_tickets: 100, available_tickets: 60 }; // 40 sold or held

  it('moves available_tickets by the same delta, up or down', () => {
    expect(ticketDelta(event, 150)).toBe(50);
    expect(ticketDelta(event, 40)).toBe(-60);
  });

  it('refuses a total below the tickets already sold or held', () => {
    expect(() => ticketDelta(event, 39)).toThrow(TicketsCommittedError);
  });
});
