/**
 * The one error hierarchy of the code base. Domain code throws these; the HTTP
 * layer (lib/http/problem.ts) is the only place that turns them into status codes
 * and RFC 9457 problem details. A domain error says *what kind* of failure it is
 * (`kind`) and gives it a stable slug (`code`, the last segment of the problem
 * type URI); it knows nothing of HTTP.
 */
export type ErrorKind =
  | 'invalid' // well-formed but fails validation
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'conflict' // the current state forbids it
  | 'payment-declined'
  | 'upstream' // a dependency (payment gateway) failed
  | 'unavailable'; // try again later

export interface FieldProblem {
  path: string;
  message: string;
}

export abstract class AppError<Kind extends string = ErrorKind> extends Error {
  abstract readonly kind: Kind;
  abstract readonly code: string;
  abstract readonly title: string;

  constructor(
    readonly detail: string,
    readonly fieldProblems?: FieldProblem[],
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  readonly kind = 'invalid';
  readonly code = 'validation-failed';
  readonly title = 'The request is not valid';

  constructor(fieldProblems: FieldProblem[], detail?: string) {
    super(detail ?? fieldProblems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; '), fieldProblems);
  }

  static field(path: string, message: string): ValidationError {
    return new ValidationError([{ path, message }]);
  }
}

export class NotFoundError extends AppError {
  readonly kind = 'not-found';
  readonly code: string;
  readonly title: string;

  constructor(resource: 'event' | 'user' | 'booking' | 'waitlist-entry' | 'webhook', id: string) {
    const name = resource.replace('-', ' ');
    super(`No ${name} with id ${JSON.stringify(id)}`);
    this.code = `${resource}-not-found`;
    this.title = `${name[0]!.toUpperCase()}${name.slice(1)} not found`;
  }
}

export class EmailTakenError extends AppError {
  readonly kind = 'conflict';
  readonly code = 'email-taken';
  readonly title = 'Email already registered';

  constructor() {
    super('A user with this email address already exists');
  }
}

export class TicketsCommittedError extends AppError {
  readonly kind = 'conflict';
  readonly code = 'tickets-committed';
  readonly title = 'Total below tickets already sold or held';

  constructor(committed: number, requested: number) {
    super(`total_tickets cannot be ${requested}: ${committed} tickets are already sold or held`);
  }
}

export class EventHasBookingsError extends AppError {
  readonly kind = 'conflict';
  readonly code = 'event-has-bookings';
  readonly title = 'Event has active bookings';

  constructor(active: number) {
    super(`The event has ${active} PENDING or CONFIRMED booking(s); cancel them first`);
  }
}

export class ServiceUnavailableError extends AppError {
  readonly kind = 'unavailable';
  readonly code = 'service-unavailable';
  readonly title = 'Service temporarily unavailable';

  constructor(
    detail: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(detail, undefined, options);
  }
}

export class InsufficientTicketsError extends AppError {
  readonly kind = 'conflict';
  readonly code = 'insufficient-tickets';
  readonly title = 'Not enough tickets left';

  constructor(
    readonly available: number,
    readonly requested: number,
  ) {
    super(`${requested} ticket(s) requested, ${available} left`);
  }
}

export class EventStartedError extends AppError {
  readonly kind = 'conflict';
  readonly code = 'event-started';
  readonly title = 'Event already started';

  constructor(dateTime: string) {
    super(`The event started at ${dateTime}; it can no longer be booked`);
  }
}

export class PerUserLimitError extends AppError {
  readonly kind = 'conflict';
  readonly code = 'per-user-limit';
  readonly title = 'Per-user ticket limit reached';

  constructor(limit: number, held: number, requested: number) {
    super(`At most ${limit} ticket(s) per user for this event: you hold ${held}, and asked for ${requested} more`);
  }
}

export class BookingStatusError extends AppError {
  readonly kind = 'conflict';
  readonly code = 'invalid-booking-status';
  readonly title = 'Booking is not in a state that allows this';

  constructor(status: string, action: string) {
    super(`A ${status} booking cannot be ${action}`);
  }
}

export class IdempotencyKeyReusedError extends AppError {
  readonly kind = 'invalid';
  readonly code = 'idempotency-key-reused';
  readonly title = 'Idempotency-Key reused with a different request';

  constructor() {
    super('This Idempotency-Key was already used with a different request body; use a new key for a new request');
  }
}

export class IdempotencyInProgressError extends AppError {
  readonly kind = 'conflict';
  readonly code = 'idempotency-in-progress';
  readonly title = 'A request with this Idempotency-Key is still running';

  constructor() {
    super('The first request with this Idempotency-Key has not finished yet; retry shortly');
  }
}

export class HoldExpiredError extends AppError {
  readonly kind = 'conflict';
  readonly code = 'hold-expired';
  readonly title = 'The hold has expired';

  constructor(expiresAt: string) {
    super(`The booking's hold expired at ${expiresAt}; it can no longer be paid`);
  }
}

export class PaymentDeclinedError extends AppError {
  readonly kind = 'payment-declined';
  readonly code = 'payment-declined';
  readonly title = 'Payment declined';

  constructor() {
    super('The payment was declined; the booking is still PENDING and may be paid with another token before it expires');
  }
}

export class PaymentGatewayError extends AppError {
  readonly kind = 'upstream';
  readonly code = 'payment-gateway-error';
  readonly title = 'Payment gateway failure';

  constructor() {
    super('The payment gateway failed; nothing was charged and the booking is unchanged. Retry shortly');
  }
}

export class TicketsAvailableError extends AppError {
  readonly kind = 'conflict';
  readonly code = 'tickets-available';
  readonly title = 'Tickets are available: book them instead';

  constructor(available: number, requested: number) {
    super(`${requested} ticket(s) wanted and ${available} on sale now: book them (POST /bookings) rather than wait`);
  }
}

export class AlreadyWaitingError extends AppError {
  readonly kind = 'conflict';
  readonly code = 'already-waiting';
  readonly title = 'Already in the waiting list of this event';

  constructor(entryId: string) {
    super(`You already have a WAITING or OFFERED entry for this event (${entryId}); leave it first to join again`);
  }
}

export class WaitlistEntryEndedError extends AppError {
  readonly kind = 'conflict';
  readonly code = 'waitlist-entry-ended';
  readonly title = 'The waiting-list entry has ended';

  constructor(status: string) {
    super(`The entry is ${status}: it is no longer in the line`);
  }
}
