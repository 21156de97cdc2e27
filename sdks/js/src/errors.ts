// Typed errors: one class per API error code, each carrying the Response it came from.
import type { Order, RateLimit } from "./models.js";

/** Base of every error this package throws. */
export class FtmvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The server could not be reached, or the connection broke (after the automatic retries). */
export class APIConnectionError extends FtmvError {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
  }
}

export interface ErrorInit {
  code: string;
  status: number;
  details?: Record<string, unknown>;
  response?: Response;
  rateLimit?: RateLimit | null;
  retryAfter?: number | null;
}

/** The API answered with an error body: `code`, `message` and `details` are the server's own. */
export class APIError extends FtmvError {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown>;
  /** The HTTP response (its body already read). */
  readonly response?: Response;
  /** X-RateLimit-* of the response, when it had them. */
  readonly rateLimit: RateLimit | null;
  /** Seconds the server asked to wait (Retry-After), when it sent one. */
  readonly retryAfter: number | null;

  constructor(message: string, init: ErrorInit) {
    super(init.code ? `${init.code}: ${message}` : message);
    this.code = init.code;
    this.status = init.status;
    this.details = init.details ?? {};
    this.response = init.response;
    this.rateLimit = init.rateLimit ?? null;
    this.retryAfter = init.retryAfter ?? null;
  }
}

/** 400 INVALID_REQUEST: a missing, unknown or invalid field; `fields` maps field names to messages. */
export class ValidationError extends APIError {
  get fields(): Record<string, unknown> {
    const fields = this.details.fields;
    return fields && typeof fields === "object" ? (fields as Record<string, unknown>) : {};
  }
}
/** 400 INVALID_IMAGE: not base64, not an image, unsupported, too small or too many pixels. */
export class InvalidImageError extends ValidationError {}
/** 401 UNAUTHORIZED: the API key is missing, malformed, unknown or revoked. */
export class AuthenticationError extends APIError {}
/** 403: the key may not do this. */
export class PermissionDeniedError extends APIError {}
/** 402 INSUFFICIENT_CREDITS. */
export class InsufficientCreditsError extends APIError {
  get creditsRequired(): number | undefined {
    return this.details.credits_required as number | undefined;
  }
  get creditsAvailable(): number | undefined {
    return this.details.credits_available as number | undefined;
  }
}
/** 404 NOT_FOUND: no such order for this key. */
export class NotFoundError extends APIError {}
/** 413 PAYLOAD_TOO_LARGE: the body or one decoded image is over the server's limit. */
export class PayloadTooLargeError extends APIError {}
/** 429 RATE_LIMIT_EXCEEDED: the hourly/daily generate budget (or the polling budget) is spent. */
export class RateLimitError extends APIError {}
/** 429 CONCURRENCY_LIMIT_EXCEEDED: the plan's orders-in-progress limit is reached. */
export class ConcurrencyLimitError extends RateLimitError {}
/** 500 INTERNAL_ERROR (or another 5xx). */
export class ServerError extends APIError {}
/** 503 SERVICE_UNAVAILABLE: queue or database unreachable; nothing was charged. */
export class ServiceUnavailableError extends ServerError {}

type APIErrorClass = new (message: string, init: ErrorInit) => APIError;

/** The API's error codes (the contract test compares this table with the server). */
export const ERROR_CODES: Record<string, APIErrorClass> = {
  INVALID_REQUEST: ValidationError,
  INVALID_IMAGE: InvalidImageError,
  UNAUTHORIZED: AuthenticationError,
  FORBIDDEN: PermissionDeniedError,
  INSUFFICIENT_CREDITS: InsufficientCreditsError,
  NOT_FOUND: NotFoundError,
  PAYLOAD_TOO_LARGE: PayloadTooLargeError,
  RATE_LIMIT_EXCEEDED: RateLimitError,
  CONCURRENCY_LIMIT_EXCEEDED: ConcurrencyLimitError,
  INTERNAL_ERROR: ServerError,
  SERVICE_UNAVAILABLE: ServiceUnavailableError,
};

/** For a code this version does not know: the class of its HTTP status. */
export const ERROR_STATUSES: Record<number, APIErrorClass> = {
  400: ValidationError,
  401: AuthenticationError,
  402: InsufficientCreditsError,
  403: PermissionDeniedError,
  404: NotFoundError,
  413: PayloadTooLargeError,
  422: ValidationError, // an Idempotency-Key reused with a different request
  429: RateLimitError,
  500: ServerError,
  503: ServiceUnavailableError,
};

/** wait() saw the order end as `failed` (its credits are refunded); `order.error` says why. */
export class OrderFailedError extends FtmvError {
  constructor(readonly order: Order) {
    super(`order ${order.id} failed` + (order.error ? `: ${order.error.code}: ${order.error.message}` : ""));
  }
}

/** wait() gave up before the order ended; `order` is the last state seen. */
export class WaitTimeoutError extends FtmvError {
  constructor(readonly order: Order, timeout: number) {
    super(`order ${order.id} still ${order.status} after ${timeout} ms`);
  }
}

/** A webhook's X-Ftmv-Signature is missing, malformed, too old or does not match the body. */
export class WebhookVerificationError extends FtmvError {}

export function parseRetryAfter(value: string | null): number | null {
  if (value === null) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value); // an HTTP date: this API sends seconds, a proxy might not
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

export function rateLimitFrom(headers: Headers): RateLimit | null {
  const [limit, remaining, reset] = ["Limit", "Remaining", "Reset"].map((name) =>
    Number.parseInt(headers.get(`X-RateLimit-${name}`) ?? "", 10),
  );
  // A 401 has none: the server does not know whose budget to report.
  return [limit, remaining, reset].every(Number.isFinite) ? { limit, remaining, reset } : null;
}

/** The typed error for an error response (also a non-JSON one, e.g. from a proxy). */
export async function errorFromResponse(response: Response): Promise<APIError> {
  const text = await response.text();
  let code = "";
  let message = `HTTP ${response.status}: ${text.slice(0, 200)}`;
  let details: Record<string, unknown> = {};
  try {
    const error = JSON.parse(text).error;
    if (error && typeof error.code === "string") {
      code = error.code;
      message = String(error.message ?? "");
      details = error.details && typeof error.details === "object" ? error.details : {};
    }
  } catch {
    // not JSON: keep the status-based class and the text
  }
  const Class =
    ERROR_CODES[code] ?? ERROR_STATUSES[response.status] ?? (response.status >= 500 ? ServerError : APIError);
  return new Class(message, {
    code,
    status: response.status,
    details,
    response,
    rateLimit: rateLimitFrom(response.headers),
    retryAfter: parseRetryAfter(response.headers.get("Retry-After")),
  });
}
