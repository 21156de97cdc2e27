// The API's JSON, typed. Field names are the API's own (snake_case), exactly as the OpenAPI document
// names them: the contract test compares these interfaces with the document's schemas.

export type Style = "virtual_tryon" | "product_catalog";
export type Quality = "standard" | "high";
export type Format = "jpg" | "png" | "webp";
export type Category = "auto" | "tops" | "bottoms" | "one-pieces";
export type OrderStatus = "pending" | "in_progress" | "completed" | "failed";

/** 202 of POST /generate: the order is created and queued. */
export interface Accepted {
  success: true;
  order_id: number;
  status: OrderStatus;
  credits_used: number;
  message: string;
  estimated_time: string;
  created_at: string;
  /** Only when the server ignored part of the request (unknown option keys, fields the style does not use). */
  warnings?: string[];
}

/** Absolute, fetchable URLs of a completed order's images. */
export interface OrderResults {
  person_url?: string;
  clothing_url?: string;
  result_url?: string;
  product_url?: string;
  catalog_images?: string[];
  quantity?: number;
  product_description?: string;
}

/** Why a failed order failed, in terms a user can act on. */
export interface OrderError {
  code: string;
  message: string;
}

/** GET /orders/{id}. Which optional fields are present depends on `status`. */
export interface Order {
  id: number;
  style: Style;
  status: OrderStatus;
  credits_used: number;
  created_at: string;
  /** pending / in_progress: 0-100 */
  progress?: number;
  stage?: string;
  estimated_completion?: string;
  results?: OrderResults;
  completed_at?: string;
  /** completed: whole seconds */
  processing_time?: number;
  error?: OrderError;
  failed_at?: string;
}

export interface OrderResponse {
  success: true;
  order: Order;
}

export interface Pagination {
  page: number;
  page_size: number;
  total: number;
  next: string | null;
  previous: string | null;
}

/** GET /orders: one page of the caller's orders, newest first. */
export interface OrderList {
  success: true;
  orders: Order[];
  pagination: Pagination;
}

export interface AccountInfo {
  user_id: number;
  credits_remaining: number;
  api_calls_today: number;
  api_calls_total: number;
  plan: string;
}

/** The hourly generate budget (GET /account's `rate_limit`, or any response's X-RateLimit-* headers). */
export interface RateLimit {
  limit: number;
  remaining: number;
  /** Unix time the window ends */
  reset: number;
}

export interface WebhookInfo {
  /** Verifies the X-Ftmv-Signature of this account's webhooks. */
  signing_secret: string;
}

/** GET /account. */
export interface Account {
  success: true;
  account: AccountInfo;
  rate_limit: RateLimit;
  webhook: WebhookInfo;
}

export interface Options {
  quality?: Quality;
  format?: Format;
  /** Virtual try-on only: the garment type, or auto-detect. */
  category?: Category;
}

/**
 * An image: a file path (Node), raw bytes, a Blob, a stream of bytes, `{ base64 }` for text already
 * encoded, or a `data:image/...;base64,` URL.
 */
export type ImageInput =
  | string
  | { base64: string }
  | Uint8Array
  | ArrayBuffer
  | Blob
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>;

/** POST /generate's body, with images in any ImageInput form. */
export interface GenerateRequest {
  style?: Style;
  person_image?: ImageInput;
  clothing_image?: ImageInput;
  product_image?: ImageInput;
  /** product_catalog: 6 or 12 */
  quantity?: number;
  options?: Options;
  /** POSTed the final order JSON, signed (X-Ftmv-Signature) */
  webhook_url?: string;
}

/** A webhook delivery's body. */
export interface WebhookEvent {
  success: true;
  event: string;
  order: Order;
}
