import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { WebhookQueue } from '../ports';
import { SDK_MAX_ATTEMPTS } from '../store/retry';

let shared: SQSClient | undefined;

/** The SQS client, one per process; its endpoint comes from AWS_ENDPOINT_URL_SQS when set (the local stack). */
export function sqsClient(): SQSClient {
  shared ??= new SQSClient({ maxAttempts: SDK_MAX_ATTEMPTS });
  return shared;
}

/** SQS delays a message at most this long; a longer wait is sent again when it comes due. */
export const MAX_DELAY_SECONDS = 900;

/**
 * The delivery queue on SQS. Messages go ten to a SendMessageBatch; any entry
 * SQS did not take fails the whole call, so that the caller (a stream record, or
 * an attempt) is tried again: sending a delivery's message twice is harmless,
 * the sender acts only on a PENDING delivery whose attempts it has counted.
 */
export function sqsWebhookQueue(client: SQSClient, queueUrl: string | undefined): WebhookQueue {
  return {
    async enqueue(messages) {
      if (!queueUrl) throw new Error('WEBHOOK_QUEUE_URL is not set: the webhook queue cannot be reached');
      for (let start = 0; start < messages.length; start += 10) {
        const batch = messages.slice(start, start + 10);
        const result = await client.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((m, i) => ({
              Id: String(i),
              MessageBody: JSON.stringify({ delivery_id: m.delivery_id, attempt: m.attempt, ...(m.not_before ? { not_before: m.not_before } : {}) }),
              DelaySeconds: Math.max(0, Math.min(MAX_DELAY_SECONDS, Math.ceil(m.delay_seconds))),
            })),
          }),
        );
        if ((result.Failed ?? []).length > 0) {
          throw new Error(`the webhook queue refused ${result.Failed!.length} message(s): ${result.Failed!.map((f) => f.Code).join(', ')}`);
        }
      }
    },
  };
}
