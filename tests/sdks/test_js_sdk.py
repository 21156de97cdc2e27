"""The JavaScript/TypeScript SDK (sdks/js) against a live server: its own test program, sdks/js/test/live.mjs,
one scenario per test, run with Node on the built package (`make sdk-deps` builds it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import JS_SDK, check_image, counted_orders, node, run

pytestmark = pytest.mark.skipif(node() is None, reason="needs Node.js (18+) for the JavaScript SDK")

BUILT = JS_SDK / "dist" / "esm" / "index.js"


@pytest.fixture(scope="module")
def built():
    if not (BUILT.exists() and (JS_SDK / "dist" / "cjs" / "index.js").exists()):
        pytest.fail("the JavaScript SDK is not built: make sdk-deps (npm ci and npm run build in sdks/js)")
    return JS_SDK


def scenario(name: str, base_url: str, api_key: str, photos: dict[str, Path], out: Path, **extra: str) -> dict:
    env = {
        **os.environ,
        "FTMV_BASE_URL": base_url,
        "FTMV_API_KEY": api_key,
        "FTMV_TEST_INPUTS": str(photos["person"].parent),
        "FTMV_TEST_OUT": str(out),
        **extra,
    }
    result = run(["node", "test/live.mjs", name], env=env, cwd=JS_SDK)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.worker
def test_tryon_and_catalog_to_completion(built, api_base, make_account, sdk_worker, photos, tmp_path):
    account = make_account(credits=30, plan="paid")
    summary = scenario("flow", api_base, account.api_key, photos, tmp_path / "out")
    files = [Path(f) for f in summary["files"]]
    assert len(files) == 7
    check_image(files[0].read_bytes(), "JPEG")
    for file in files[1:]:
        check_image(file.read_bytes(), "PNG")


def test_typed_errors(same_rate_window, built, api_base, make_account, photos, tmp_path):
    rich, broke = make_account(credits=100, plan="free"), make_account(credits=0)
    nearly_spent = counted_orders(make_account(credits=100, plan="free"), 9)
    summary = scenario(
        "errors",
        api_base,
        rich.api_key,
        photos,
        tmp_path,
        FTMV_BROKE_API_KEY=broke.api_key,
        FTMV_NEARLY_SPENT_API_KEY=nearly_spent.api_key,
    )
    assert summary["codes"] == {
        "UNAUTHORIZED": "AuthenticationError",
        "NOT_FOUND": "NotFoundError",
        "INVALID_REQUEST": "ValidationError",
        "INVALID_IMAGE": "InvalidImageError",
        "PAYLOAD_TOO_LARGE": "PayloadTooLargeError",
        "INSUFFICIENT_CREDITS": "InsufficientCreditsError",
        "CONCURRENCY_LIMIT_EXCEEDED": "ConcurrencyLimitError",
        "RATE_LIMIT_EXCEEDED": "RateLimitError",
    }


def test_generate_retried_with_one_idempotency_key(built, api_base, make_account, photos, tmp_path):
    account = make_account(credits=10, plan="paid")
    summary = scenario("idempotency", api_base, account.api_key, photos, tmp_path)
    assert isinstance(summary["order"], int)


def test_server_error_retried_then_raised(built, api_base, make_account, photos, tmp_path, settings):
    account = make_account()
    # A real fault inside the server: its cache points at a Redis that is not there (see test_python_sdk).
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    summary = scenario("server-error", api_base, account.api_key, photos, tmp_path)
    assert summary["code"] in ("INTERNAL_ERROR", "SERVICE_UNAVAILABLE", "")


def test_npm_package_installs_and_loads_as_esm_and_commonjs(built, tmp_path):
    """`npm pack` + `npm install` of the tarball into a fresh project; then require(), import and a
    TypeScript consumer compiled against the shipped declarations (both module systems)."""
    if shutil.which("npm") is None:
        pytest.skip("needs npm")
    packed = (
        subprocess.run(
            ["npm", "pack", "--silent", "--ignore-scripts", "--pack-destination", str(tmp_path), str(built)],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text('{"name": "app", "private": true}')
    run(["npm", "install", "--offline", "--no-audit", "--no-fund", str(tmp_path / packed)], cwd=app, timeout=120)
    installed = app / "node_modules" / "ftmv"
    assert (installed / "dist" / "esm" / "index.d.ts").exists() and (installed / "dist" / "cjs" / "index.d.ts").exists()

    probe = "new m.FtmvClient({apiKey: 'k', baseUrl: 'https://x.test/'}).baseUrl"
    cjs = run(["node", "-e", f"const m = require('ftmv'); console.log({probe})"], cwd=app).stdout.strip()
    esm = run(["node", "--input-type=module", "-e", f"import * as m from 'ftmv'; console.log({probe})"], cwd=app)
    assert cjs == esm.stdout.strip() == "https://x.test/api/v1"

    consumer = """
import { FtmvClient, InsufficientCreditsError, type Order } from "ftmv";
const client = new FtmvClient({ apiKey: "k" });
export async function run(): Promise<string | undefined> {
  try {
    const order: Order = await client.wait(await client.generate({ person_image: "p.jpg", clothing_image: "c.jpg" }));
    return order.results?.result_url;
  } catch (error) {
    if (error instanceof InsufficientCreditsError) return String(error.creditsRequired);
    throw error;
  }
}
const wrong: Order["status"] = "done"; // must not compile: the declarations carry the status union
"""
    (app / "consumer.ts").write_text(consumer)
    tsc = str(JS_SDK / "node_modules" / "typescript" / "bin" / "tsc")
    for module in ("nodenext", "commonjs"):
        resolution = "nodenext" if module == "nodenext" else "node10"
        check = subprocess.run(
            ["node", tsc, "--noEmit", "--strict", "--target", "es2022", "--lib", "es2022,dom"]
            + ["--module", module, "--moduleResolution", resolution, "consumer.ts"],
            cwd=app,
            capture_output=True,
            text=True,
            timeout=120,
        )
        errors = [line for line in check.stdout.splitlines() if "error TS" in line]
        assert len(errors) == 1 and "consumer.ts(13," in errors[0] and '"done"' in errors[0], check.stdout


BROWSER_SCENARIO = """
async ([apiKey]) => {
  const sdk = await import("/__ftmv_sdk__/esm/index.js");
  const client = new sdk.FtmvClient({ apiKey, baseUrl: location.origin });
  const product = await (await fetch("/__ftmv_sdk__/product.png")).blob();  // a Blob, encoded with btoa
  const accepted = await client.generate({ style: "product_catalog", product_image: product, quantity: 6 });
  const order = await client.getOrder(accepted);
  let notFound = null;
  try { await client.getOrder(987654321); } catch (error) {
    notFound = error instanceof sdk.NotFoundError && error.code;
  }
  const account = await client.account();
  const secret = account.webhook.signing_secret;
  const body = JSON.stringify({ success: true, event: "order.completed", order });
  const signature = await sdk.signWebhook(body, secret);
  const event = await sdk.verifyWebhook(body, signature, secret);
  let tampered = null;
  try { await sdk.verifyWebhook(body + " ", signature, secret); } catch (error) {
    tampered = error instanceof sdk.WebhookVerificationError;
  }
  return { accepted, order, notFound, credits: account.account.credits_remaining, rateLimit: client.rateLimit,
           body, signature, secret, verified: event.order.id, tampered, hasProcess: typeof process !== "undefined" };
}
"""


@pytest.mark.browser
def test_runs_in_a_browser(built, api_base, make_account, chromium, photos):
    """The ES module build in Chromium, same origin as the API: a Blob upload, typed errors, account and
    rate-limit headers, and webhook signatures through Web Crypto (checked against the Python SDK)."""
    from ftmv_client import verify_webhook

    account = make_account(credits=30, plan="paid")
    files = {"product.png": photos["product"]}

    def serve(route):
        name = route.request.url.split("/__ftmv_sdk__/", 1)[1]
        if name == "index.html":
            return route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>sdk</title>")
        dist = (built / "dist").resolve()
        path = files.get(name) or (dist / name).resolve()
        if name not in files and not (path.is_relative_to(dist) and path.is_file()):
            return route.fulfill(status=404, body="")
        kind = "text/javascript" if name.endswith(".js") else "image/png"
        return route.fulfill(status=200, content_type=kind, body=path.read_bytes())

    context = chromium.new_context()
    try:
        page = context.new_page()
        page.route(f"{api_base}/__ftmv_sdk__/**", serve)
        page.goto(f"{api_base}/__ftmv_sdk__/index.html")
        result = page.evaluate(BROWSER_SCENARIO, [account.api_key])
    finally:
        context.close()
    assert result["hasProcess"] is False  # a real browser: no Node globals to lean on
    assert result["accepted"]["credits_used"] == 24 and result["order"]["id"] == result["accepted"]["order_id"]
    assert result["order"]["status"] == "pending" and result["notFound"] == "NOT_FOUND"
    assert result["credits"] == 6 and result["rateLimit"]["limit"] == 100 and result["rateLimit"]["remaining"] == 99
    assert result["verified"] == result["order"]["id"] and result["tampered"] is True
    # The browser's Web Crypto signature is the server's algorithm: the Python SDK accepts it.
    event = verify_webhook(result["body"].encode(), result["signature"], result["secret"])
    assert event["order"]["id"] == result["order"]["id"]
