import { AppError } from '../domain/errors';

/** What can be wrong with a request as HTTP carries it, before any domain rule can judge it. */
export type RequestErrorKind =
  | 'malformed' // the body could not be read at all (bad JSON)
  | 'method-not-allowed'
  | 'unsupported-media-type'
  | 'too-large';

/** Errors of the request itself, before any domain rule runs. Same hierarchy as the domain's. */
export class MalformedJsonError extends AppError<RequestErrorKind> {
  readonly kind = 'malformed';
  readonly code = 'malformed-json';
  readonly title = 'Malformed JSON';
}

export class UnsupportedMediaTypeError extends AppError<RequestErrorKind> {
  readonly kind = 'unsupported-media-type';
  readonly code = 'unsupported-media-type';
  readonly title = 'Unsupported media type';

  constructor() {
    super('The request body must be sent with Content-Type: application/json');
  }
}

export class PayloadTooLargeError extends AppError<RequestErrorKind> {
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

/** A function behind the HTTP API invoked with something that is not an HTTP API request. */
export class NotAnHttpRequestError extends AppError<RequestErrorKind> {
  readonly kind = 'malformed';
  readonly code = 'not-an-http-request';
  readonly title = 'Not an HTTP API request';
}

/** A path the API serves, asked with a method it does not serve there. */
export class MethodNotAllowedError extends AppError<RequestErrorKind> {
  readonly kind = 'method-not-allowed';
  readonly code = 'method-not-allowed';
  readonly title = 'Method not allowed';

  constructor(
    method: string,
    path: string,
    /** The methods the path does serve, for the `Allow` header. */
    readonly allowed: readonly string[],
  ) {
    super(`${path.slice(0, 200)} does not serve ${method}; it serves ${allowed.join(', ')}`);
  }
}
