import { AppError } from '../domain/errors';

/** Errors of the request itself, before any domain rule runs. Same hierarchy as the domain's. */
export class MalformedJsonError extends AppError {
  readonly kind = 'malformed';
  readonly code = 'malformed-json';
  readonly title = 'Malformed JSON';
}

export class UnsupportedMediaTypeError extends AppError {
  readonly kind = 'unsupported-media-type';
  readonly code = 'unsupported-media-type';
  readonly title = 'Unsupported media type';

  constructor() {
    super('The request body must be sent with Content-Type: application/json');
  }
}

export class PayloadTooLargeError extends AppError {
  readonly kind = 'too-large';
  readonly code = 'payload-too-large';
  readonly title = 'Request body too large';

  constructor(limit: number) {
    super(`The request body must not exceed ${limit} bytes`);
  }
}

export class AuthenticationError extends AppError {
  readonly kind = 'unauthenticated';
  readonly code = 'unauthenticated';
  readonly title = 'Missing or invalid credentials';
}

export class ForbiddenError extends AppError {
  readonly kind = 'forbidden';
  readonly code = 'forbidden';
  readonly title = 'Not allowed';
}

export class RouteNotFoundError extends AppError {
  readonly kind = 'not-found';
  readonly code = 'route-not-found';
  readonly title = 'No such route';

  constructor(method: string, path: string) {
    super(`There is no route ${method} ${path.slice(0, 200)}; see /openapi.json`);
  }
}
