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
