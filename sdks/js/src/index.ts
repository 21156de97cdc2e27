export { DEFAULT_BASE_URL, FtmvClient, OPERATIONS, VERSION } from "./client.js";
export type { ClientOptions, OrderRef, RequestOptions, WaitOptions } from "./client.js";
export {
  APIConnectionError,
  APIError,
  AuthenticationError,
  ConcurrencyLimitError,
  ERROR_CODES,
  ERROR_STATUSES,
  FtmvError,
  InsufficientCreditsError,
  InvalidImageError,
  NotFoundError,
  OrderFailedError,
  PayloadTooLargeError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  ServiceUnavailableError,
  ValidationError,
  WaitTimeoutError,
  WebhookVerificationError,
} from "./errors.js";
export { encodeImage } from "./images.js";
export type * from "./models.js";
export { DEFAULT_TOLERANCE, SIGNATURE_HEADER, signWebhook, verifyWebhook } from "./webhooks.js";
export type { VerifyOptions } from "./webhooks.js";
