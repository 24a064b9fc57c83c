import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { config } from '../config';
import { logger } from './logger';

/**
 * Business metrics, published as CloudWatch embedded metric format (a log line,
 * no API call): the alarms in serverless.yml watch them. Counts are kept during
 * an invocation and written once at its end by Powertools' middleware
 * (`publishMetrics`, on every function's middy chain).
 */
const metrics = new Metrics({
  namespace: config.POWERTOOLS_METRICS_NAMESPACE,
  serviceName: config.POWERTOOLS_SERVICE_NAME,
  // Powertools warns at the end of every invocation that counted nothing, and most
  // requests (every read) count nothing: that warning is debug here, the others stay.
  logger: {
    debug: (...content) => logger.debug(String(content[0]), ...content.slice(1)),
    info: (...content) => logger.info(String(content[0]), ...content.slice(1)),
    warn: (...content) => {
      const message = String(content[0]);
      if (message.startsWith('No application metrics to publish')) logger.debug(message);
      else logger.warn(message, ...content.slice(1));
    },
    error: (...content) => logger.error(String(content[0]), ...content.slice(1)),
  },
});

/** The middy middleware that writes the invocation's counts when it ends, however it ends. */
export const publishMetrics = () => logMetrics(metrics);

export type BusinessMetric =
  | 'BookingsCreated'
  | 'BookingsRefusedSoldOut'
  | 'PaymentsConfirmed'
  | 'PaymentsDeclined'
  | 'PaymentGatewayErrors'
  | 'HoldsExpired'
  | 'HoldsSwept'
  | 'WaitlistOffersMade'
  | 'WaitlistOffersSwept'
  | 'WebhookDeliveriesQueued'
  | 'WebhooksDelivered'
  | 'WebhooksFailed';

export function count(name: BusinessMetric, value = 1): void {
  if (value <= 0) return;
  metrics.addMetric(name, MetricUnit.Count, value);
}

/** Counts `success` when `work` succeeds, or the metric its error class maps to, and passes the outcome on. */
export async function counted<T>(work: Promise<T>, success: BusinessMetric, failures: [new (...args: never[]) => Error, BusinessMetric][] = []): Promise<T> {
  try {
    const result = await work;
    count(success);
    return result;
  } catch (error) {
    const failure = failures.find(([type]) => error instanceof type);
    if (failure) count(failure[1]);
    throw error;
  }
}
