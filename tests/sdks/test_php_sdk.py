"""The PHP SDK (sdks/php) against a live server: its own test program, sdks/php/tests/live.php, one scenario
per test, run with the distribution's php-cli (+ php-curl)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from .conftest import PHP_SDK, check_image, counted_orders, php, run

pytestmark = pytest.mark.skipif(php() is None, reason="needs php-cli and php-curl (apt-get install php-cli php-curl)")

EXPECTED_CODES = {
    "UNAUTHORIZED": "AuthenticationException",
    "NOT_FOUND": "NotFoundException",
    "INVALID_REQUEST": "ValidationException",
    "INVALID_IMAGE": "InvalidImageException",
    "PAYLOAD_TOO_LARGE": "PayloadTooLargeException",
    "INSUFFICIENT_CREDITS": "InsufficientCreditsException",
    "CONCURRENCY_LIMIT_EXCEEDED": "ConcurrencyLimitException",
    "RATE_LIMIT_EXCEEDED": "RateLimitException",
}


@pytest.fixture(scope="module")
def php_ready():
    modules = subprocess.run(["php", "-m"], capture_output=True, text=True, check=True).stdout.split()
    if "curl" not in modules or "json" not in modules:
        pytest.fail("php is missing the curl or json extension: apt-get install php-curl")
    return PHP_SDK


def scenario(name: str, base_url: str, api_key: str, photos: dict[str, Path], out: Path, **extra: str) -> dict:
    env = {
        **os.environ,
        "FTMV_BASE_URL": base_url,
        "FTMV_API_KEY": api_key,
        "FTMV_TEST_INPUTS": str(photos["person"].parent),
        "FTMV_TEST_OUT": str(out),
        **extra,
    }
    result = run(["php", "-d", "memory_limit=512M", "tests/live.php", name], env=env, cwd=PHP_SDK)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.worker
def test_tryon_and_catalog_to_completion(php_ready, api_base, make_account, sdk_worker, photos, tmp_path):
    account = make_account(credits=30, plan="paid")
    summary = scenario("flow", api_base, account.api_key, photos, tmp_path / "out")
    files = [Path(f) for f in summary["files"]]
    assert len(files) == 7
    check_image(files[0].read_bytes(), "JPEG")
    for file in files[1:]:
        check_image(file.read_bytes(), "PNG")


def test_typed_errors(same_rate_window, php_ready, api_base, make_account, photos, tmp_path):
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
    assert summary["codes"] == EXPECTED_CODES


def test_generate_retried_with_one_idempotency_key(php_ready, api_base, make_account, photos, tmp_path):
    account = make_account(credits=10, plan="paid")
    summary = scenario("idempotency", api_base, account.api_key, photos, tmp_path)
    assert isinstance(summary["order"], int)


def test_server_error_retried_then_raised(php_ready, api_base, make_account, photos, tmp_path, settings):
    account = make_account()
    # A real fault inside the server: its cache points at a Redis that is not there (see test_python_sdk).
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    summary = scenario("server-error", api_base, account.api_key, photos, tmp_path)
    assert summary["code"] in ("INTERNAL_ERROR", "SERVICE_UNAVAILABLE", "")


def test_composer_package_is_psr4_with_only_curl_and_json(php_ready):
    """composer.json's PSR-4 map loads every class (each file declares the class its path names), and the
    package requires nothing beyond PHP 8.1, ext-curl and ext-json."""
    composer = json.loads((PHP_SDK / "composer.json").read_text())
    assert composer["require"] == {"php": ">=8.1", "ext-curl": "*", "ext-json": "*"}
    assert composer["autoload"]["psr-4"] == {"Ftmv\\": "src/"}
    loaded = run(["php", "tests/psr4.php"], cwd=PHP_SDK).stdout
    assert int(loaded) == len(list((PHP_SDK / "src").rglob("*.php")))
