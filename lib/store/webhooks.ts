import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Delivery, DeliveryStatus, Subscription } from '../domain/webhooks';
import type { Table } from './client';
import { failedConditionItem } from './conditions';
import { bookingSortKey, bucketOf, deliveriesOf, indexBuckets, keys, stripKeys, webhooksList } from './keys';
import { newestFirst, type Page, type PageRequest, queryPage } from './pagination';

/** How long the delivery log keeps a delivery (DynamoDB's TTL deletes it after). */
export const DELIVERY_LOG_DAYS = 30;

export interface AttemptRecord {
  status: DeliveryStatus;
  last_status_code: number | null;
  delivered_at: string | null;
  next_attempt_at: string | null;
}

export interface WebhookStore {
  putSubscription(subscription: Subscription): Promise<void>;
  getSubscription(id: string): Promise<Subscription | undefined>;
  /** Every subscription: what a change of the table is matched against. */
  allSubscriptions(): Promise<Subscription[]>;
  listSubscriptions(page: PageRequest): Promise<Page<Subscription>>;
  /** False when there was none. */
  deleteSubscription(id: string): Promise<boolean>;
  /** Writes a new delivery once: `exists` (with it) when its id was written before. */
  createDelivery(delivery: Delivery): Promise<{ kind: 'created' } | { kind: 'exists'; delivery: Delivery }>;
  getDelivery(id: string): Promise<Delivery | undefined>;
  /**
   * Counts an attempt, on condition that the delivery is still PENDING with the
   * attempts the sender read: of two senders given the same message, one records.
   */
  recordAttempt(delivery: Delivery, record: AttemptRecord, attempted?: boolean): Promise<'recorded' | 'changed'>;
  listDeliveries(subscriptionId: string, page: PageRequest): Promise<Page<Delivery>>;
}

const SubscriptionCursor = z.strictObject({ c: z.string().min(1).max(64), i: z.string().min(1).max(128) });

export function webhookStore(table: Table): WebhookStore {
  const { client, name: TableName } = table;
  const toSubscription = (item: Record<string, unknown>) => stripKeys<Subscription>(item);
  // `type` names the kind of item in the table: a delivery's webhook type is kept as `event_type`.
  const toDelivery = (item: Record<string, unknown>): Delivery => {
    const record = stripKeys<Omit<Delivery, 'type'> & { ttl?: number; event_type: Delivery['type'] }>(item);
    const { event_type, ...rest } = record;
    delete rest.ttl;
    return { ...rest, type: event_type };
  };

  return {
    async putSubscription(subscription) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: {
              ...keys.webhook(subscription.id),
              type: 'webhook',
              gsi1pk: webhooksList.pk,
              gsi1sk: bookingSortKey(subscription.created_at, subscription.id),
              ...subscription,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        // The id is new to this request: the item in the way is this very Put,
        // applied once already, whose answer was lost and which the SDK sent again.
        if (failedConditionItem(error) === undefined) throw error;
      }
    },

    async getSubscription(id) {
      const result = await client.send(new GetCommand({ TableName, Key: keys.webhook(id), ConsistentRead: true }));
      return result.Item ? toSubscription(result.Item) : undefined;
    },

    async allSubscriptions() {
      const found: Subscription[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const result = await client.send(
          new QueryCommand({
            TableName,
            IndexName: webhooksList.index,
            KeyConditionExpression: 'gsi1pk = :pk',
            ExpressionAttributeValues: { ':pk': webhooksList.pk },
            ExclusiveStartKey: startKey,
          }),
        );
        found.push(...(result.Items ?? []).map(toSubscription));
        startKey = result.LastEvaluatedKey;
      } while (startKey);
      return found;
    },

    listSubscriptions(page) {
      return queryPage({
        table,
        page,
        query: {
          IndexName: webhooksList.index,
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': webhooksList.pk },
          ScanIndexForward: true,
        },
        cursorSchema: SubscriptionCursor,
        startKey: ({ c, i }) => ({ ...keys.webhook(i), gsi1pk: webhooksList.pk, gsi1sk: bookingSortKey(c, i) }),
        positionOf: (item) => ({ c: String(item.created_at), i: String(item.id) }),
        toRecord: toSubscription,
      });
    },

    async deleteSubscription(id) {
      const result = await client.send(new DeleteCommand({ TableName, Key: keys.webhook(id), ReturnValues: 'ALL_OLD' }));
      return result.Attributes !== undefined;
    },

    async createDelivery(delivery) {
      try {
        await client.send(
          new PutCommand({
            TableName,
            Item: {
              ...keys.delivery(delivery.id),
              // Spread over buckets: a sale's deliveries to one receiver are as many as its bookings.
              gsi1pk: `${deliveriesOf(delivery.subscription_id)}#${bucketOf(delivery.id)}`,
              gsi1sk: bookingSortKey(delivery.created_at, delivery.id),
              ttl: Math.floor(Date.parse(delivery.created_at) / 1000) + DELIVERY_LOG_DAYS * 86_400,
              ...delivery,
              type: 'delivery',
              event_type: delivery.type,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { kind: 'created' };
      } catch (error) {
        const existing = failedConditionItem(error);
        if (existing === undefined) throw error;
        if (existing) return { kind: 'exists', delivery: toDelivery(existing) };
        const stored = await this.getDelivery(delivery.id);
        if (!stored) throw error;
        return { kind: 'exists', delivery: stored };
      }
    },

    async getDelivery(id) {
      const result = await client.send(new GetCommand({ TableName, Key: keys.delivery(id), ConsistentRead: true }));
      return result.Item ? toDelivery(result.Item) : undefined;
    },

    async recordAttempt(delivery, record, attempted = true) {
      try {
        await client.send(
          new UpdateCommand({
            TableName,
            Key: keys.delivery(delivery.id),
            UpdateExpression:
              'SET #status = :status, attempts = :next, last_status_code = :code, delivered_at = :delivered, next_attempt_at = :due',
            ConditionExpression: '#status = :pending AND attempts = :seen',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':status': record.status,
              ':next': delivery.attempts + (attempted ? 1 : 0),
              ':code': record.last_status_code,
              ':delivered': record.delivered_at,
              ':due': record.next_attempt_at,
              ':pending': 'PENDING',
              ':seen': delivery.attempts,
            },
          }),
        );
        return 'recorded';
      } catch (error) {
        if (failedConditionItem(error) === undefined) throw error;
        return 'changed';
      }
    },

    async listDeliveries(subscriptionId, page) {
      const buckets = indexBuckets.map((b) => ({ index: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk', value: `${deliveriesOf(subscriptionId)}#${b}` }));
      const found = await newestFirst(table, buckets, page);
      return { items: found.items.map(toDelivery), next_cursor: found.next_cursor };
    },
  };
}
