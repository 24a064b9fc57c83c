import { randomUUID } from 'node:crypto';
import { type DynamoDBClient, GetItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type Booking, holdDelta, planBooking } from '../../lib/domain/booking';
import type { Event } from '../../lib/domain/event';
import { counterUpdate } from '../../lib/store/counters';
import { bookingIndexKeys, keys } from '../../lib/store/keys';

/**
 * The booking transaction of lib/store/bookings.ts written out by hand on the
 * low-level client: the same three writes with the same expressions and the same
 * items (conditional update of the event, update of the tally, put of the
 * booking), and nothing around it: no read of the event first, no retry loop, no
 * document-client marshalling layer. What DynamoDB Local can do for a booking.
 */
export function rawBookingCommand(tableName: string, booking: Booking, expected: { eventVersion: number; maxPerUser: number | null }) {
  const hold = counterUpdate(holdDelta(booking));
  return new TransactWriteItemsCommand({
    TransactItems: [
      {
        Update: {
          TableName: tableName,
          Key: marshall(keys.event(booking.event_id)),
          UpdateExpression: `SET ${hold.sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(pk) AND available_tickets >= :q AND date_time > :now AND version = :version',
          ExpressionAttributeValues: marshall({ ...hold.values, ':q': booking.quantity, ':now': booking.created_at, ':version': expected.eventVersion }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      {
        Update: {
          TableName: tableName,
          Key: marshall(keys.tally(booking.event_id, booking.user_id)),
          UpdateExpression: 'SET tickets = if_not_exists(tickets, :zero) + :q, #type = :type',
          ConditionExpression: expected.maxPerUser === null ? undefined : 'attribute_not_exists(tickets) OR tickets <= :room',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: marshall({
            ':zero': 0,
            ':q': booking.quantity,
            ':type': 'tally',
            ...(expected.maxPerUser === null ? {} : { ':room': expected.maxPerUser - booking.quantity }),
          }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      {
        Put: {
          TableName: tableName,
          Item: marshall(bookingItem(booking), { removeUndefinedValues: true }),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ],
  });
}

/** A booking item as the store writes it (lib/store/bookings.ts `bookingItem`). */
export function bookingItem(booking: Booking): Record<string, unknown> {
  return { ...keys.booking(booking.id), type: 'booking', ...bookingIndexKeys(booking), ...booking };
}

/** One raw booking transaction on `event` for `userId`, priced and timed like the service's. */
export async function rawBooking(client: DynamoDBClient, tableName: string, event: Event, userId: string, holdSeconds = 900): Promise<Booking> {
  const booking = planBooking(event, { id: randomUUID(), user_id: userId, quantity: 1, userTickets: 0 }, new Date(), holdSeconds);
  await client.send(rawBookingCommand(tableName, booking, { eventVersion: event.version, maxPerUser: event.max_per_user }));
  return booking;
}

/** The reads the service makes before its transaction (the event; the tally when capped), on the low-level client. */
export async function rawReadsThenBooking(client: DynamoDBClient, tableName: string, event: Event, userId: string): Promise<Booking> {
  await client.send(new GetItemCommand({ TableName: tableName, Key: marshall(keys.event(event.id)), ConsistentRead: true }));
  if (event.max_per_user !== null) {
    await client.send(
      new GetItemCommand({ TableName: tableName, Key: marshall(keys.tally(event.id, userId)), ConsistentRead: true, ProjectionExpression: 'tickets' }),
    );
  }
  return rawBooking(client, tableName, event, userId);
}
