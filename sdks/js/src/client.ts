import {
  APIConnectionError,
  APIError,
  OrderFailedError,
  RateLimitError,
  WaitTimeoutError,
  errorFromResponse,
  rateLimitFrom,
} from "./errors.js";
import { encodeImage } from "./images.js";
import type { Accepted, Account, GenerateRequest, Order, OrderList, OrderResponse, RateLimit } from "./models.js";
import { env, sleep, webCrypto, writeFile } from "./runtime.js";

export const VERSION = "1.0.0";
export const DEFAULT_BASE_URL = "https://ftmvai.com";
const API_PATH = "/api/v1";

/**
 * operationId in the OpenAPI document -> [method, path under /api/v1]. Every request is built from this
 * table, and the contract test compares it with the document.
 */
export const OPERATIONS = {
  generate: ["POST", "/generate"],
  order: ["GET", "/orders/{order_id}"],
  orders: ["GET", "/orders"],
  account: ["GET", "/account"],
} as const satisfies Record<string, readonly [string, string]>;

type Operation = keyof typeof OPERATIONS;
const RETRY_STATUSES = new Set([500, 502, 503, 504]);

export interface ClientOptions {
  /** Default: the FTMV_API_KEY environment variable. */
  apiKey?: string;
  /** The site ("https://ftmvai.com") or the API root (".../api/v1"). Default: FTMV_BASE_URL, then ftmvai.com. */
  baseUrl?: string;
  /** Per attempt, in milliseconds. Default 60000. */
  timeout?: number;
  /** Automatic retries of GETs and of POST /generate (under one Idempotency-Key). Default 3. */
  maxRetries?: number;
  /** The longest Retry-After (seconds) honoured by sleeping; a longer one is thrown. Default 30. */
  maxRetryWait?: number;
  /** A fetch implementation (default: the platform's). */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  /** POST /generate: reuse a key to make a repeated call return the first order (default: a new UUID). */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface WaitOptions {
  /** Milliseconds. Default 600000. */
  timeout?: number;
  /** Called with every state polled. */
  onProgress?: (order: Order) => void | Promise<void>;
  /** Milliseconds between polls: backoff from min to max; default 1000 and 5000. */
  minInterval?: number;
  maxInterval?: number;
  signal?: AbortSignal;
}

export type OrderRef = number | Accepted | Order;

function orderId(order: OrderRef): number {
  if (typeof order === "number") return order;
  return "order_id" in order ? order.order_id : order.id;
}

function fileName(url: string): string {
  const name = new URL(url).pathname.split("/").pop();
  return name || "result";
}

/**
 * The ftmv API client.
 *
 * ```ts
 * const client = new FtmvClient(); // FTMV_API_KEY, FTMV_BASE_URL
 * const order = await client.wait(await client.generate({ person_image: "me.jpg", clothing_image: "shirt.jpg" }));
 * await client.downloadTo(order.results!.result_url!, "result.jpg");
 * ```
 */
export class FtmvClient {
  readonly baseUrl: string;
  readonly timeout: number;
  readonly maxRetries: number;
  readonly maxRetryWait: number;
  /** X-RateLimit-* of the latest API response. */
  rateLimit: RateLimit | null = null;
  // A true private field: the key never shows in console.log(client) or JSON.stringify(client).
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;

  constructor(options: ClientOptions = {}) {
    const apiKey = options.apiKey ?? env("FTMV_API_KEY");
    if (!apiKey) throw new TypeError("no API key: pass { apiKey } or set FTMV_API_KEY");
    this.#apiKey = apiKey;
    const root = (options.baseUrl ?? env("FTMV_BASE_URL") ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.baseUrl = root.endsWith(API_PATH) ? root : root + API_PATH;
    this.timeout = options.timeout ?? 60_000;
    this.maxRetries = options.maxRetries ?? 3;
    this.maxRetryWait = options.maxRetryWait ?? 30;
    // Bound to globalThis: some platforms' fetch throws "Illegal invocation" when called as a method.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  #backoff(attempt: number): number {
    // Exponential with jitter (ms), so clients that failed together do not retry together.
    return Math.min(8000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
  }

  #retryDelay(error: APIError, attempt: number): number | null {
    if (attempt >= this.maxRetries) return null;
    if (error instanceof RateLimitError) {
      // An hourly budget that resets in 40 minutes is the caller's decision, not a silent sleep.
      const wait = error.retryAfter;
      return wait !== null && wait <= this.maxRetryWait ? wait * 1000 : null;
    }
    if (RETRY_STATUSES.has(error.status)) {
      const wait = error.retryAfter !== null ? error.retryAfter * 1000 : this.#backoff(attempt);
      return Math.min(this.maxRetryWait * 1000, wait);
    }
    return null;
  }

  async #send(url: string, init: RequestInit, api: boolean, signal?: AbortSignal): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Error(`timed out after ${this.timeout} ms`)), this.timeout);
      const abort = () => controller.abort(signal?.reason);
      signal?.addEventListener("abort", abort, { once: true });
      let response: Response;
      try {
        response = await this.#fetch(url, { ...init, signal: controller.signal });
      } catch (cause) {
        if (signal?.aborted) throw signal.reason;
        // Only GETs and POST /generate (which always carries an Idempotency-Key) come through here,
        // so a request that may have reached the server is still safe to repeat.
        if (attempt < this.maxRetries) {
          await sleep(this.#backoff(attempt), signal);
          continue;
        }
        throw new APIConnectionError(`${init.method ?? "GET"} ${url}: ${String(cause)}`, cause);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener("abort", abort);
      }
      if (api) this.rateLimit = rateLimitFrom(response.headers) ?? this.rateLimit;
      if (response.ok) return response;
      const error = await errorFromResponse(response);
      const delay = this.#retryDelay(error, attempt);
      if (delay === null) throw error;
      await sleep(delay, signal);
    }
  }

  async #call<T>(
    operation: Operation,
    { path = {}, query, body, headers = {}, signal }: {
      path?: Record<string, string | number>;
      query?: Record<string, string | number>;
      body?: string;
      headers?: Record<string, string>;
      signal?: AbortSignal;
    } = {},
  ): Promise<T> {
    const [method, template] = OPERATIONS[operation];
    const url = new URL(this.baseUrl + template.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(path[name])));
    for (const [name, value] of Object.entries(query ?? {})) url.searchParams.set(name, String(value));
    const init: RequestInit = {
      method,
      body,
      headers: {
        Authorization: `Bearer ${this.#apiKey}`,
        Accept: "application/json",
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...headers,
      },
    };
    const response = await this.#send(url.toString(), init, true, signal);
    return (await response.json()) as T;
  }

  /**
   * Create an order (POST /generate). Retried automatically under one Idempotency-Key, so a retry after
   * a lost response returns the same order and charges once.
   */
  async generate(request: GenerateRequest, options: RequestOptions = {}): Promise<Accepted> {
    const body: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(request)) {
      if (value === undefined) continue;
      body[name] = name.endsWith("_image") ? await encodeImage(value, name) : value;
    }
    const idempotencyKey = options.idempotencyKey ?? (await webCrypto()).randomUUID();
    return this.#call<Accepted>("generate", {
      // Serialized once: every retry sends the same bytes, which the server's idempotency check hashes.
      body: JSON.stringify(body),
      headers: { "Idempotency-Key": idempotencyKey },
      signal: options.signal,
    });
  }

  /** GET /orders/{id}. */
  async getOrder(order: OrderRef, options: { signal?: AbortSignal } = {}): Promise<Order> {
    const response = await this.#call<OrderResponse>("order", { path: { order_id: orderId(order) }, ...options });
    return response.order;
  }

  /** GET /orders: one page, newest first. */
  async listOrders(params: { page?: number; page_size?: number } = {}): Promise<OrderList> {
    return this.#call<OrderList>("orders", { query: { page: params.page ?? 1, page_size: params.page_size ?? 20 } });
  }

  /** Every order, newest first, page by page. */
  async *iterOrders(params: { page_size?: number } = {}): AsyncGenerator<Order> {
    for (let page = 1; ; page++) {
      const listing = await this.listOrders({ page, page_size: params.page_size ?? 100 });
      yield* listing.orders;
      if (!listing.pagination.next) return;
    }
  }

  /** GET /account. */
  async account(): Promise<Account> {
    return this.#call<Account>("account");
  }

  /**
   * Poll until the order is completed and return it. Backs off from minInterval to maxInterval, and
   * while the server's estimated_completion is further away waits for it instead (capped).
   * Throws OrderFailedError when it fails and WaitTimeoutError after `timeout` ms.
   */
  async wait(order: OrderRef, options: WaitOptions = {}): Promise<Order> {
    const { timeout = 600_000, onProgress, minInterval = 1000, maxInterval = 5000, signal } = options;
    const deadline = Date.now() + timeout;
    for (let step = 0; ; step++) {
      const current = await this.getOrder(order, { signal });
      await onProgress?.(current);
      if (current.status === "completed") return current;
      if (current.status === "failed") throw new OrderFailedError(current);
      const left = deadline - Date.now();
      if (left <= 0) throw new WaitTimeoutError(current, timeout);
      let delay = Math.min(maxInterval, minInterval * 1.5 ** step);
      if (current.estimated_completion) {
        const ahead = Date.parse(current.estimated_completion) - Date.now();
        if (ahead > delay) delay = Math.min(ahead, maxInterval);
      }
      await sleep(Math.min(left, delay), signal);
    }
  }

  /** A result's bytes. Result URLs are fetchable as they are: the API key is not sent with them. */
  async download(url: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const response = await this.#send(url, { method: "GET", redirect: "follow" }, false, options.signal);
    return new Uint8Array(await response.arrayBuffer());
  }

  /** Node: a result written to `path` (parent folders created). */
  async downloadTo(url: string, path: string): Promise<string> {
    await writeFile(path, await this.download(url));
    return path;
  }

  /** Node: every generated image of a completed order into `folder`; the paths, in order. */
  async downloadResults(order: Order, folder: string): Promise<string[]> {
    const results = order.results;
    if (!results) throw new TypeError(`order ${order.id} is ${order.status}: it has no results yet`);
    const urls = results.result_url ? [results.result_url] : (results.catalog_images ?? []);
    const paths: string[] = [];
    for (const url of urls) paths.push(await this.downloadTo(url, `${folder.replace(/\/+$/, "")}/${fileName(url)}`));
    return paths;
  }
}
