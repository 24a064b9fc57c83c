import * as z from 'zod';

export const PayBookingBody = z
  .strictObject({
    payment_token: z
      .string()
      .max(255)
      .regex(/^tok_[a-z0-9_]+$/, 'must be a payment token of the form tok_[a-z0-9_]+')
      .meta({ examples: ['tok_visa'], description: '`tok_declined` is declined (402), `tok_error` is a gateway fault (502)' }),
  })
  .meta({ id: 'PayBooking' });

/**
 * What the booking rules need of a payment provider. The simulation in
 * lib/payments/ implements it; a real gateway would replace it there, without
 * touching the rules. `reference` identifies the thing paid for: charging the same
 * reference twice must charge once (a real gateway's idempotency key).
 */
export interface PaymentGateway {
  /** Charges the amount; throws PaymentDeclinedError (402) or PaymentGatewayError (502). */
  charge(request: { reference: string; amount_cents: number; token: string }): Promise<{ payment_id: string }>;
  /** Gives back a charge whose booking could not be confirmed after all. */
  refund(paymentId: string): Promise<void>;
}
