import * as z from 'zod';

/**
 * The one place that reads the environment. Parsed once, when a function loads:
 * a missing or malformed setting stops it there with a message naming the setting,
 * instead of failing on some later request.
 */
const blankAsUnset = (value: unknown) => (value === '' ? undefined : value);

const Settings = z
  .object({
  TABLE_NAME: z.string().min(3).max(255),
  /** The admin key itself: the local stack only (npm start generates one). */
  ADMIN_API_KEY: z.preprocess(blankAsUnset, z.string().min(16, 'must be at least 16 characters').optional()),
  /** Deployed stages: the SSM SecureString parameter holding the admin key. */
  ADMIN_API_KEY_PARAMETER: z.preprocess(blankAsUnset, z.string().startsWith('/').optional()),
  HOLD_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** How long a waiting-list offer holds its tickets; unset: as long as a booking's hold. */
  WAITLIST_OFFER_SECONDS: z.preprocess(blankAsUnset, z.coerce.number().int().min(1).max(86_400).optional()),
  /** The booking-hold state machine (serverless.yml); the local stack sets its local ARN. */
  HOLD_STATE_MACHINE_ARN: z.string().startsWith('arn:'),
  /** The webhook delivery queue (serverless.yml, WebhookDeliveryQueue); the local stack sets its local URL. */
  WEBHOOK_QUEUE_URL: z.preprocess(blankAsUnset, z.string().url().optional()),
  /** The first retry's delay; each next one doubles, at most an hour apart. */
  WEBHOOK_RETRY_BASE_SECONDS: z.coerce.number().min(0.1).max(3600).default(5),
  /** How long a failing delivery is retried before it is FAILED: at least 24 hours, shorter only for tests. */
  WEBHOOK_RETRY_FOR_SECONDS: z.coerce.number().int().min(1).max(7 * 86_400).default(86_400),
  /** Whether receivers may be private, loopback or link-local addresses: the local stack only. */
  WEBHOOK_ALLOW_PRIVATE_URLS: z.preprocess(blankAsUnset, z.enum(['true', 'false']).default('false')).transform((v) => v === 'true'),
  /** Simulated payment gateway latency. */
  PAYMENT_LATENCY_MS: z.coerce.number().int().min(0).max(10_000).default(0),
  /** The `service` of every log line and metric. */
  POWERTOOLS_SERVICE_NAME: z.string().min(1).default('ticket-booking'),
  /** The CloudWatch namespace of the business metrics that the alarms in serverless.yml watch. */
  POWERTOOLS_METRICS_NAMESPACE: z.string().min(1).default('TicketBooking'),
  })
  .refine((s) => s.ADMIN_API_KEY !== undefined || s.ADMIN_API_KEY_PARAMETER !== undefined, {
    message: 'set ADMIN_API_KEY (local) or ADMIN_API_KEY_PARAMETER (an SSM parameter name)',
    path: ['ADMIN_API_KEY'],
  });
export type Config = z.infer<typeof Settings>;

export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = Settings.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}

export const config: Config = loadConfig(process.env);
