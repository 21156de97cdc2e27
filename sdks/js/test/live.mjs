// The SDK's live test program: run by tests/sdks/test_js_sdk.py against a live ftmv server (and, for
// "flow", a real worker), one scenario per run: node test/live.mjs <scenario>.
// Env: FTMV_BASE_URL, FTMV_API_KEY (and FTMV_BROKE_API_KEY for "errors"), FTMV_TEST_INPUTS (a folder with
// person.jpg, clothing.jpg, product.png), FTMV_TEST_OUT (a folder for downloads). Prints a JSON summary.
import assert from "node:assert/strict";
import { createReadStream, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
// The package by its own name: resolves through package.json "exports", as for any user.
import {
  AuthenticationError,
  ConcurrencyLimitError,
  FtmvClient,
  InsufficientCreditsError,
  InvalidImageError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitError,
  ServerError,
  ValidationError,
  WebhookVerificationError,
  verifyWebhook,
} from "ftmv";

const inputs = process.env.FTMV_TEST_INPUTS;
const out = process.env.FTMV_TEST_OUT;
const input = (name) => join(inputs, name);
const JPEG = [0xff, 0xd8, 0xff];
const PNG = [0x89, 0x50, 0x4e, 0x47];
const isA = (bytes, magic) => magic.every((byte, i) => bytes[i] === byte);

async function rejects(promise, Class) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Class, `expected ${Class.name}, got ${error?.constructor?.name}: ${error?.message}`);
    return error;
  }
  assert.fail(`expected ${Class.name}, nothing thrown`);
}

function receiver() {
  const deliveries = [];
  let notify = () => {};
  const server = createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      deliveries.push({ path: request.url, headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(204).end();
      notify();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () => server.close(),
        async next(timeoutMs) {
          const deadline = Date.now() + timeoutMs;
          while (deliveries.length === 0) {
            assert.ok(Date.now() < deadline, "no webhook delivery arrived");
            await new Promise((r) => {
              notify = r;
              setTimeout(r, 500);
            });
          }
          return deliveries[0];
        },
      }),
    ),
  );
}

const scenarios = {
  async flow() {
    const client = new FtmvClient(); // FTMV_API_KEY and FTMV_BASE_URL from the environment
    const hooks = await receiver();
    try {
      const accepted = await client.generate({
        person_image: input("person.jpg"), // file paths
        clothing_image: input("clothing.jpg"),
        webhook_url: `${hooks.url}/hooks/tryon`,
      });
      assert.equal(accepted.status, "pending");
      assert.equal(accepted.credits_used, 1);
      const seen = [];
      const order = await client.wait(accepted, { timeout: 240_000, onProgress: (o) => seen.push(o.status) });
      assert.equal(order.status, "completed");
      assert.ok(seen.length >= 2 && seen.at(-1) === "completed");
      const result = await client.downloadTo(order.results.result_url, join(out, "tryon", "result.jpg"));
      assert.ok(isA(readFileSync(result), JPEG));
      assert.ok(isA(await client.download(order.results.person_url), JPEG));

      const catalog = await client.generate({
        style: "product_catalog",
        product_image: createReadStream(input("product.png")), // a Node stream
        quantity: 6,
        options: { quality: "standard", format: "png" },
      });
      assert.equal(catalog.credits_used, 24);
      const done = await client.wait(catalog.order_id, { timeout: 300_000 });
      assert.equal(done.results.catalog_images.length, 6);
      assert.ok(done.results.product_description);
      const files = await client.downloadResults(done, join(out, "catalog"));
      assert.equal(new Set(files).size, 6);
      for (const file of files) assert.ok(isA(readFileSync(file), PNG));

      const info = await client.account();
      assert.equal(info.account.credits_remaining, 5);
      assert.equal(info.account.api_calls_total, 2);
      assert.deepEqual([client.rateLimit.limit, client.rateLimit.remaining], [100, 98]);
      const page = await client.listOrders({ page_size: 1 });
      assert.equal(page.pagination.total, 2);
      assert.deepEqual(page.orders.map((o) => o.id), [done.id]);
      const all = [];
      for await (const o of client.iterOrders({ page_size: 1 })) all.push(o.id);
      assert.deepEqual(all, [done.id, order.id]);

      // The server's real delivery for the try-on order.
      const delivery = await hooks.next(60_000);
      assert.equal(delivery.path, "/hooks/tryon");
      const signature = delivery.headers["x-ftmv-signature"];
      const secret = info.webhook.signing_secret;
      const event = await verifyWebhook(delivery.body, signature, secret);
      assert.equal(event.event, "order.completed");
      assert.equal(event.order.id, order.id);
      const tampered = Buffer.from(delivery.body.toString().replace("completed", "failed"));
      await rejects(verifyWebhook(tampered, signature, secret), WebhookVerificationError);
      await rejects(verifyWebhook(delivery.body, signature, "whsec_wrong"), WebhookVerificationError);
      await rejects(
        verifyWebhook(delivery.body, signature, secret, { now: Date.now() / 1000 + 3600 }),
        WebhookVerificationError,
      );
      return { tryon: order.id, catalog: done.id, files: [result, ...files] };
    } finally {
      hooks.close();
    }
  },

  async errors() {
    const person = readFileSync(input("person.jpg"));
    const clothing = new Blob([readFileSync(input("clothing.jpg"))]); // a Blob
    const product = { base64: readFileSync(input("product.png")).toString("base64") }; // already base64
    const client = new FtmvClient({ maxRetries: 0 });
    const seen = {};

    let error = await rejects(new FtmvClient({ apiKey: "ftmv_" + "x".repeat(59) }).account(), AuthenticationError);
    assert.equal(error.status, 401);
    assert.equal(error.response.status, 401);
    seen[error.code] = error.constructor.name;

    error = await rejects(client.getOrder(987654321), NotFoundError);
    assert.match(error.message, /987654321/);
    seen[error.code] = error.constructor.name;

    error = await rejects(client.generate({ style: "product_catalog", product_image: product, quantity: 7 }), ValidationError);
    assert.ok("quantity" in error.fields);
    assert.ok(!(error instanceof InvalidImageError));
    seen[error.code] = error.constructor.name;

    error = await rejects(
      client.generate({ person_image: new TextEncoder().encode("not an image"), clothing_image: clothing }),
      InvalidImageError,
    );
    seen[error.code] = error.constructor.name;

    // One image over the server's 15 MB limit.
    const huge = new Uint8Array(16 * 1024 * 1024).fill(7);
    error = await rejects(client.generate({ person_image: huge, clothing_image: clothing }), PayloadTooLargeError);
    assert.equal(error.status, 413);
    seen[error.code] = error.constructor.name;

    const broke = new FtmvClient({ apiKey: process.env.FTMV_BROKE_API_KEY });
    error = await rejects(broke.generate({ person_image: person, clothing_image: clothing }), InsufficientCreditsError);
    assert.deepEqual([error.creditsRequired, error.creditsAvailable], [1, 0]);
    seen[error.code] = error.constructor.name;

    // Free plan: one order in flight; no worker runs, so the first stays pending.
    const first = await client.generate({ person_image: person, clothing_image: clothing });
    error = await rejects(client.generate({ person_image: person, clothing_image: clothing }), ConcurrencyLimitError);
    assert.equal(error.retryAfter, 5);
    assert.ok(error instanceof RateLimitError);
    seen[error.code] = error.constructor.name;
    const started = Date.now();
    await rejects(
      new FtmvClient({ maxRetries: 1 }).generate({ person_image: person, clothing_image: clothing }),
      ConcurrencyLimitError,
    );
    assert.ok(Date.now() - started >= 4500, "the one retry waited for Retry-After");
    assert.equal((await client.getOrder(first)).status, "pending");

    // Only the order created counts against the free plan's 10 per hour (refused requests do not).
    assert.equal(client.rateLimit.remaining, 9);
    // An account with 9 orders this hour: the 10th is accepted, the next is refused by the limit itself.
    const spent = new FtmvClient({ apiKey: process.env.FTMV_NEARLY_SPENT_API_KEY, maxRetries: 0 });
    await spent.generate({ person_image: person, clothing_image: clothing });
    assert.equal(spent.rateLimit.remaining, 0);
    error = await rejects(spent.generate({ person_image: person, clothing_image: clothing }), RateLimitError);
    assert.ok(!(error instanceof ConcurrencyLimitError));
    assert.ok(error.retryAfter > 0 && error.retryAfter <= 3600);
    assert.deepEqual([error.rateLimit.limit, error.rateLimit.remaining], [10, 0]);
    assert.equal(error.details.window, "hourly");
    seen[error.code] = error.constructor.name;
    return { codes: seen };
  },

  async idempotency() {
    // Forwards to the server but loses the response of the first POST, as a network failure after the
    // server accepted the order would.
    const keys = [];
    const losing = async (url, init) => {
      const response = await fetch(url, init);
      if (init.method === "POST") {
        keys.push(init.headers["Idempotency-Key"]);
        if (keys.length === 1) {
          await response.arrayBuffer();
          throw new TypeError("fetch failed: connection reset");
        }
      }
      return response;
    };
    const client = new FtmvClient({ fetch: losing });
    const images = { person_image: input("person.jpg"), clothing_image: input("clothing.jpg") };
    const accepted = await client.generate(images);
    assert.equal(keys.length, 2);
    assert.equal(keys[0], keys[1]);
    const page = await client.listOrders();
    assert.equal(page.pagination.total, 1);
    assert.equal(page.orders[0].id, accepted.order_id);
    assert.equal((await client.account()).account.credits_remaining, 9);
    const again = await client.generate(images, { idempotencyKey: keys[0] });
    assert.equal(again.order_id, accepted.order_id);
    const other = await client.generate(images);
    assert.notEqual(other.order_id, accepted.order_id);
    assert.equal((await client.account()).account.credits_remaining, 8);
    return { order: accepted.order_id };
  },

  async "server-error"() {
    const attempts = [];
    const counting = (url, init) => {
      attempts.push(new URL(url).pathname);
      return fetch(url, init);
    };
    const client = new FtmvClient({ maxRetries: 2, fetch: counting });
    const error = await rejects(client.account(), ServerError);
    assert.ok([500, 503].includes(error.status), `status ${error.status}`);
    assert.deepEqual(attempts, Array(3).fill("/api/v1/account")); // a safe request: retried twice
    return { code: error.code };
  },
};

const name = process.argv[2];
assert.ok(scenarios[name], `unknown scenario ${name}`);
console.log(JSON.stringify(await scenarios[name]()));
