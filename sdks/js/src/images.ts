import type { ImageInput } from "./models.js";
import { readFile, toBase64 } from "./runtime.js";

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    parts.push(chunk);
    length += chunk.length;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** The base64 text the API expects for one image field. */
export async function encodeImage(value: ImageInput, field: string): Promise<string> {
  let bytes: Uint8Array;
  if (typeof value === "string") {
    // A data URL is unambiguous (the server accepts the prefix); any other string is a file path.
    if (value.startsWith("data:image/")) return value;
    bytes = await readFile(value);
  } else if (value instanceof Uint8Array) {
    bytes = value;
  } else if (value instanceof ArrayBuffer) {
    bytes = new Uint8Array(value);
  } else if (typeof Blob !== "undefined" && value instanceof Blob) {
    bytes = new Uint8Array(await value.arrayBuffer());
  } else if (typeof ReadableStream !== "undefined" && value instanceof ReadableStream) {
    bytes = await collect(streamChunks(value));
  } else if (value && typeof value === "object" && "base64" in value) {
    return value.base64;
  } else if (value && typeof value === "object" && Symbol.asyncIterator in value) {
    bytes = await collect(value); // e.g. fs.createReadStream(path)
  } else {
    throw new TypeError(`${field}: expected a path, bytes, a Blob, a stream or { base64 }`);
  }
  if (bytes.length === 0) throw new TypeError(`${field}: the image is empty`);
  return toBase64(bytes);
}
