import { simulatedGateway } from '../../lib/adapters/simulated-gateway';
import type { PaymentGateway } from '../../lib/ports';

/** Test double: the simulated gateway, with every successful charge and every refund recorded. */
export interface RecordingGateway extends PaymentGateway {
  charges: { reference: string; payment_id: string }[];
  refunds: string[];
}
export function recordingGateway(inner: PaymentGateway = simulatedGateway({ latencyMs: 0 })): RecordingGateway {
  const recorder: RecordingGateway = {
    charges: [],
    refunds: [],
    async charge(request) {
      const result = await inner.charge(request);
      recorder.charges.push({ reference: request.reference, payment_id: result.payment_id });
      return result;
    },
    async refund(paymentId) {
      await inner.refund(paymentId);
      recorder.refunds.push(paymentId);
    },
  };
  return recorder;
}

