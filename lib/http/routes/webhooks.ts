import { CreatedSubscriptionView, CreateWebhookBody, DeliveryView, SubscriptionView } from '../../domain/webhooks';
import { defineRoute } from '../route';
import { IdParams, PageQuery, pageOf } from './shared';

/** The webhook routes (functions/webhooks.ts): the admin's. */
export const webhooksRoutes = {
  createWebhook: defineRoute({
    operationId: 'createWebhook',
    method: 'post',
    path: '/webhooks',
    summary: 'Subscribe a URL to what happens to bookings and waiting entries',
    description:
      'For the admin. `events` defaults to every type. The response carries `secret` (`whsec_` + base64), shown here only: deliveries are signed with it per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`). ' +
      '422 for a URL that is not http(s), carries credentials, or (deployed stages) resolves to a private, loopback or link-local address.',
    tag: 'Webhooks',
    access: 'admin',
    body: CreateWebhookBody,
    success: { status: 201, description: 'The subscription, with its secret (this once)', schema: CreatedSubscriptionView, location: true },
    problems: [],
  }),
  listWebhooks: defineRoute({
    operationId: 'listWebhooks',
    method: 'get',
    path: '/webhooks',
    summary: 'The subscriptions, oldest first, without their secrets',
    description: 'For the admin. Pass `next_cursor` as `?cursor=` for the next page. A secret is shown once, when its subscription is made.',
    tag: 'Webhooks',
    access: 'admin',
    query: PageQuery,
    success: { status: 200, description: 'A page of subscriptions', schema: pageOf(SubscriptionView, 'WebhookSubscriptionPage') },
    problems: [],
  }),
  deleteWebhook: defineRoute({
    operationId: 'deleteWebhook',
    method: 'delete',
    path: '/webhooks/{id}',
    summary: 'Unsubscribe: nothing more is sent to it',
    description: 'For the admin. Its deliveries not yet made end FAILED. 404 `webhook-not-found`.',
    tag: 'Webhooks',
    access: 'admin',
    resource: 'webhook',
    params: IdParams,
    success: { status: 204, description: 'Unsubscribed' },
    problems: [404],
  }),
  listWebhookDeliveries: defineRoute({
    operationId: 'listWebhookDeliveries',
    method: 'get',
    path: '/webhooks/{id}/deliveries',
    summary: "A subscription's deliveries, newest first",
    description:
      'For the admin. `status`: PENDING (not delivered yet; retried with exponential backoff for 24 hours), DELIVERED (a 2xx within 10 s), FAILED. Kept 30 days. 404 `webhook-not-found`.',
    tag: 'Webhooks',
    access: 'admin',
    resource: 'webhook',
    params: IdParams,
    query: PageQuery,
    success: { status: 200, description: 'A page of deliveries', schema: pageOf(DeliveryView, 'WebhookDeliveryPage') },
    problems: [404],
  }),
};
