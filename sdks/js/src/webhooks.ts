// Webhook signature verification. The server POSTs the final order JSON to the order's webhook_url with
// `X-Ftmv-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed with the account's
// signing secret (`(await client.account()).webhook.signing_secret`).
import { WebhookVerificationError } from "./errors.js";
import type { WebhookEvent } from "./models.js";
import { webCrypto } from "./runtime.js";

export const SIGNATURE_HEADER = "X-Ftmv-Signature";
/** Seconds: an older signature may be a replayed delivery. */
export const DEFAULT_TOLERANCE = 300;

const encoder = new TextEncoder();

async function hmacHex(secret: string, message: Uint8Array<ArrayBuffer>): Promise<string> {
  const subtle = (await webCrypto()).subtle;
  const key = await subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const digest = new Uint8Array(await subtle.sign("HMAC", key, message));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function signedBytes(timestamp: number, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = encoder.encode(`${timestamp}.`);
  const out = new Uint8Array(prefix.length + payload.length);
  out.set(prefix);
  out.set(payload, prefix.length);
  return out;
}

/** The same time whatever the inputs share, so the comparison leaks nothing about a guess. */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** The header value the server would send for `payload` (to test a webhook handler). */
export async function signWebhook(payload: string | Uint8Array, secret: string, timestamp?: number): Promise<string> {
  const t = timestamp ?? Math.floor(Date.now() / 1000);
  const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
  return `t=${t},v1=${await hmacHex(secret, signedBytes(t, bytes))}`;
}

export interface VerifyOptions {
  /** Seconds; `null` skips the age check. Default 300. */
  tolerance?: number | null;
  /** Unix seconds to check against (default: now). */
  now?: number;
}

/**
 * Check a delivery and return its parsed body. `payload` must be the raw request body, byte for byte
 * (re-serialized JSON does not verify). Throws WebhookVerificationError.
 */
export async function verifyWebhook(
  payload: string | Uint8Array,
  signature: string | null | undefined,
  secret: string,
  options: VerifyOptions = {},
): Promise<WebhookEvent> {
  if (!signature) throw new WebhookVerificationError(`no ${SIGNATURE_HEADER} header`);
  let timestamp: number | null = null;
  const candidates: string[] = [];
  for (const part of signature.split(",")) {
    const [name, value = ""] = part.trim().split("=", 2);
    if (name === "t" && /^\d+$/.test(value)) timestamp = Number(value);
    else if (name === "v1" && value) candidates.push(value); // several while a secret is rotated
  }
  if (timestamp === null || candidates.length === 0) {
    throw new WebhookVerificationError(`malformed ${SIGNATURE_HEADER} header`);
  }
  const tolerance = options.tolerance === undefined ? DEFAULT_TOLERANCE : options.tolerance;
  const now = options.now ?? Date.now() / 1000;
  if (tolerance !== null && Math.abs(now - timestamp) > tolerance) {
    throw new WebhookVerificationError("the signature timestamp is outside the tolerance");
  }
  const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
  const expected = await hmacHex(secret, signedBytes(timestamp, bytes));
  if (!candidates.some((candidate) => constantTimeEqual(expected, candidate))) {
    throw new WebhookVerificationError("the signature does not match the body");
  }
  let event: unknown;
  try {
    event = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new WebhookVerificationError("the body is not JSON");
  }
  if (!event || typeof event !== "object") throw new WebhookVerificationError("the body is not a JSON object");
  return event as WebhookEvent;
}
