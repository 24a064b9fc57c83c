import { createHash } from 'node:crypto';
import { PaymentDeclinedError, PaymentGatewayError } from '../domain/errors';
import type { PaymentGateway } from '../ports';

/**
 * The simulated payment gateway (README, "Payment"): `tok_declined` is declined, `tok_error`
 * is a gateway fault, any other token succeeds, after an optional latency. The
 * payment id is derived from the reference (the booking), as a real gateway's
 * idempotency key would make it: charging one booking twice yields one charge.
 */
export function simulatedGateway(options: { latencyMs: number; log?: (message: string, data: object) => void }): PaymentGateway {
  const pause = () => (options.latencyMs > 0 ? new Promise((resolve) => setTimeout(resolve, options.latencyMs)) : Promise.resolve());
  return {
    async charge({ reference, amount_cents, token }) {
      await pause();
      if (token === 'tok_declined') throw new PaymentDeclinedError();
      if (token === 'tok_error') throw new PaymentGatewayError();
      const payment_id = `pay_${createHash('sha256').update(reference).digest('hex').slice(0, 24)}`;
      options.log?.('payment charged', { reference, amount_cents, payment_id });
      return { payment_id };
    },
    async refund(paymentId) {
      await pause();
      options.log?.('payment refunded', { payment_id: paymentId });
    },
  };
}
