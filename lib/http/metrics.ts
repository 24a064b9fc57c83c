import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * Business metrics, published as CloudWatch embedded metric format (a log line,
 * no API call): the alarms in serverless.yml watch them.
 */
const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'TicketBooking', serviceName: 'ticket-booking' });

export type BusinessMetric =
  | 'BookingsCreated'
  | 'BookingsRefusedSoldOut'
  | 'PaymentsConfirmed'
  | 'PaymentsDeclined'
  | 'PaymentGatewayErrors'
  | 'HoldsExpired'
  | 'HoldsSwept';

export function count(name: BusinessMetric, value = 1): void {
  if (value <= 0) return;
  metrics.addMetric(name, MetricUnit.Count, value);
  metrics.publishStoredMetrics();
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
