"""Authentication throttling, keys kept out of logs, security headers, production settings, CSRF on
every form, and tenant isolation for every endpoint and page that touches tenant data."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import ApiKey
from billing.models import Purchase
from tests.api import shapes
from tests.api.conftest import client_for, image_bytes, make_user
from tryon.lifecycle import order_complete, order_start
from tryon.models import Order, OrderFile
from tryon.services import order_create
from tryon.validation import validate_image

ROOT = Path(__file__).resolve().parents[2]


# --- failed API-key attempts ---------------------------------------------------------------------------


def test_failed_key_attempts_throttled_per_address(owner, settings):
    settings.API_AUTH_FAILURE_LIMIT = 5
    _, good_key = owner
    # Different made-up keys (different prefixes): only the address limit applies.
    for i in range(5):
        assert (
            client_for(f"ftmv_{i:08d}" + "x" * 51).get("/api/v1/account", REMOTE_ADDR="203.0.113.7").status_code == 401
        )
    blocked = client_for("ftmv_" + "x" * 59).get("/api/v1/account", REMOTE_ADDR="203.0.113.7")
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) >= 1
    shapes.check(blocked.json(), shapes.error("RATE_LIMIT_EXCEEDED"))
    # A valid key from the same address (a colleague behind the same NAT) is never locked out...
    assert client_for(good_key).get("/api/v1/account", REMOTE_ADDR="203.0.113.7").status_code == 200
    # ...other addresses are unaffected, and successful calls never count.
    assert client_for("ftmv_" + "x" * 59).get("/api/v1/account", REMOTE_ADDR="198.51.100.1").status_code == 401
    for _ in range(20):
        assert client_for(good_key).get("/api/v1/account", REMOTE_ADDR="198.51.100.2").status_code == 200


def test_failed_attempts_on_one_key_prefix_throttled_from_any_address(owner, settings):
    settings.API_AUTH_FAILURE_LIMIT_PER_KEY = 3
    _, good_key = owner
    # A guesser spreading attempts at one key over many addresses is slowed by the per-prefix count.
    guess = good_key[:13] + "z" * 51
    codes = [client_for(guess).get("/api/v1/account", REMOTE_ADDR=f"203.0.113.{i}").status_code for i in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    # The owner of that key still gets in.
    assert client_for(good_key).get("/api/v1/account", REMOTE_ADDR="203.0.113.1").status_code == 200


def test_missing_header_counts_as_a_failure_too(db, settings, clean_cache):
    settings.API_AUTH_FAILURE_LIMIT = 3
    anonymous = Client()
    assert [anonymous.get("/api/v1/orders", REMOTE_ADDR="203.0.113.9").status_code for _ in range(4)] == [
        401,
        401,
        401,
        429,
    ]


def test_forwarded_address_used_only_behind_trusted_proxies(owner, settings):
    settings.API_AUTH_FAILURE_LIMIT = 2
    # No trusted proxy: a client cannot dodge the limit by inventing X-Forwarded-For values.
    codes = [
        client_for(f"ftmv_{i:08d}" + "y" * 51)
        .get("/api/v1/account", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}", REMOTE_ADDR="203.0.113.20")
        .status_code
        for i in range(3)
    ]
    assert codes == [401, 401, 429]
    settings.API_TRUSTED_PROXIES = 1  # behind one proxy: the address it appended is the client's
    codes = [
        client_for(f"ftmv_{i:08d}" + "w" * 51)
        .get("/api/v1/account", HTTP_X_FORWARDED_FOR=f"10.0.1.{i}", REMOTE_ADDR="127.0.0.1")
        .status_code
        for i in range(3)
    ]
    assert codes == [401, 401, 401]


def test_trusted_proxy_setting_reaches_allauth():
    from allauth import app_settings as allauth_settings
    from django.conf import settings as live

    assert live.TRUSTED_PROXY_COUNT == live.API_TRUSTED_PROXIES == allauth_settings.TRUSTED_PROXY_COUNT


def test_failed_logins_behind_a_proxy_do_not_block_other_users(db, settings, clean_cache):
    """Behind the TLS proxy (TRUSTED_PROXY_COUNT=1) ten failed logins with made-up e-mails from one
    client do not stop another client's correct login."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    from allauth.account.models import EmailAddress

    member, _ = make_user("member@example.com", credits=0)
    member.set_password("correct horse battery")
    member.save()
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    attacker = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.66")
    for i in range(12):
        attacker.post("/accounts/login/", {"login": f"nobody{i}@example.com", "password": "wrong"})
    visitor = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.5")
    response = visitor.post("/accounts/login/", {"login": "member@example.com", "password": "correct horse battery"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/", response.content[:300]


# --- keys never logged -----------------------------------------------------------------------------------


def test_api_keys_never_reach_the_logs(owner, caplog, monkeypatch, tryon_body):
    _, raw = owner
    caplog.set_level(logging.DEBUG)
    api = client_for(raw)
    api.get("/api/v1/account")
    api.post("/api/v1/generate", tryon_body, format="json")
    client_for(raw[:-1] + "Z").get("/api/v1/account")  # a near miss (401)
    from api.views import AccountView

    monkeypatch.setattr(AccountView, "get", lambda self, request: 1 / 0)
    assert api.get("/api/v1/account").status_code == 500  # logged with a traceback
    text = "\n".join(r.getMessage() + str(r.exc_info or "") + str(r.__dict__) for r in caplog.records)
    assert caplog.records and raw not in text and raw[5:20] not in text
    assert raw not in str(ApiKey.objects.values_list())  # stored hashed only


# --- headers, cookies, deploy check ------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/pricing/", "/accounts/login/", "/api/v1/account", "/healthz"])
def test_security_headers_on_pages_and_api(client, db, url):
    response = client.get(url)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline' https" not in csp and "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_site_pages_have_no_inline_scripts(client, db):
    """The page policy has no 'unsafe-inline' for scripts: every script must be a static file."""
    for name in sorted((ROOT / "templates").rglob("*.html")):
        html = name.read_text()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, f"inline <script> in {name}"
        assert not re.search(r"\son[a-z]+\s*=", html), f"inline event handler in {name}"
        assert "javascript:" not in html, name


def _production(code: str, **extra: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "test-production-secret-" + "k" * 40,
        "ALLOWED_HOSTS": "shop.example.com",
        "DJANGO_SETTINGS_MODULE": "ftmv.settings",
        **extra,
    }
    env.pop("FTMV_TESTING", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests; check --deploy warns about it
    return subprocess.run([sys.executable, *code.split()], cwd=ROOT, env=env, capture_output=True, text=True)


def test_check_deploy_clean_with_production_settings():
    result = _production("manage.py check --deploy --fail-level WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_cookies_hsts_and_https():
    probe = (
        "-c import django;django.setup();from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE,s.SESSION_COOKIE_HTTPONLY,s.CSRF_COOKIE_SECURE,s.CSRF_COOKIE_HTTPONLY,"
        "s.SECURE_SSL_REDIRECT,s.SECURE_HSTS_SECONDS>=31536000,s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        "s.SECURE_CONTENT_TYPE_NOSNIFF,s.X_FRAME_OPTIONS,s.DEBUG)"
    )
    env = {"PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", probe[3:]],
        cwd=ROOT,
        env={
            **os.environ,
            **env,
            "DEBUG": "false",
            "SECRET_KEY": "s" * 60,
            "ALLOWED_HOSTS": "shop.example.com",
            "DJANGO_SETTINGS_MODULE": "ftmv.settings",
        },
        capture_output=True,
        text=True,
    )
    assert result.stdout.split() == ["True"] * 8 + ["DENY", "False"], result.stderr


def test_production_requires_a_secret_key():
    result = _production("manage.py check", SECRET_KEY="")
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_session_cookie_is_httponly(owner, client):
    user, _ = owner
    user.set_password("correct horse battery")
    user.save()
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    response = client.post("/accounts/login/", {"login": user.email, "password": "correct horse battery"})
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


# --- CSRF on every form ---------------------------------------------------------------------------------------

FORM_PAGES = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/tryon/new/",
    "/catalog/new/",
    "/settings/api-keys/",
    "/billing/",
    "/dashboard/",
]


def test_every_post_form_carries_a_csrf_token(owner, settings):
    user, _ = owner
    logged_in = Client(enforce_csrf_checks=True)
    logged_in.force_login(user)
    anonymous = Client(enforce_csrf_checks=True)
    forms_seen = 0
    for url in FORM_PAGES:
        client = anonymous if url.startswith("/accounts/") else logged_in
        html = client.get(url).content.decode()
        for form in re.findall(r"<form\b.*?</form>", html, flags=re.S | re.I):
            if re.search(r'method="?post', form, re.I):
                forms_seen += 1
                assert "csrfmiddlewaretoken" in form, f"form without CSRF token on {url}: {form[:200]}"
    assert forms_seen >= 6


@pytest.mark.parametrize(
    "url", ["/tryon/new/", "/catalog/new/", "/settings/api-keys/", "/billing/buy/starter", "/accounts/logout/"]
)
def test_posts_without_a_token_are_refused(owner, url):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner[0])
    assert client.post(url, {}).status_code == 403


# --- uploads are never executed or served as something dangerous ---------------------------------------------


def test_stored_uploads_served_as_images_only(owner, client):
    user, _ = owner
    images = {
        "person": validate_image(image_bytes(320, 480), "person_image"),
        "clothing": validate_image(image_bytes(300, 300), "clothing_image"),
    }
    order, _ = order_create(user=user, style="virtual_tryon", images=images)
    for record in order.files.all():
        name = record.file.name
        assert re.fullmatch(r"orders/\d{4}/[0-9a-f]{16}/\w+_\d+_[\w-]{16}\.(jpg|png|webp)", name), name
        response = client.get(record.file.url)
        assert response.status_code == 200 and response["Content-Type"] in ("image/jpeg", "image/png")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"].startswith("default-src 'none'")
    for name in ("x.html", "x.svg", "x.js", "x.jpg.html", "x.py"):
        assert client.get(f"/media/{name}").status_code == 404


# --- tenant isolation ---------------------------------------------------------------------------------------


@pytest.fixture
def tenants(clean_cache):
    owner, owner_key = make_user("tenant-a@example.com", credits=100, plan="paid")
    other, other_key = make_user("tenant-b@example.com", credits=100, plan="paid")
    images = {
        "person": validate_image(image_bytes(320, 480), "person_image"),
        "clothing": validate_image(image_bytes(300, 300), "clothing_image"),
    }
    order, _ = order_create(user=owner, style="virtual_tryon", images=images)
    order_start(order.pk)
    order_complete(order.pk, results=[("result", "result", image_bytes(320, 480), 320, 480)])
    purchase = Purchase.objects.create(
        user=owner, pack_code="starter", credits=100, amount_cents=900, currency="usd", stripe_session_id="cs_test_1"
    )
    key = ApiKey.objects.filter(user=owner).first()
    return {
        "owner": owner,
        "other": other,
        "owner_key": owner_key,
        "other_key": other_key,
        "order": order,
        "purchase": purchase,
        "key": key,
    }


def test_api_isolation(tenants):
    order = tenants["order"]
    theirs, mine = client_for(tenants["other_key"]), client_for(tenants["owner_key"])
    assert mine.get(f"/api/v1/orders/{order.pk}").status_code == 200
    response = theirs.get(f"/api/v1/orders/{order.pk}")
    assert response.status_code == 404
    shapes.check(response.json(), shapes.error("NOT_FOUND"))
    assert theirs.get(f"/api/v1/orders/{order.pk + 1000}").json() == {
        **response.json(),
        "error": {**response.json()["error"], "message": f"Order {order.pk + 1000} not found."},
    }  # same answer as an id that does not exist
    assert theirs.get("/api/v1/orders").json()["orders"] == []
    assert [o["id"] for o in mine.get("/api/v1/orders").json()["orders"]] == [order.pk]
    account = theirs.get("/api/v1/account").json()["account"]
    assert account["user_id"] == tenants["other"].pk and account["api_calls_total"] == 0


def test_web_isolation_orders_files_keys_purchases(tenants):
    order, purchase, key = tenants["order"], tenants["purchase"], tenants["key"]
    record = order.files.get(role=OrderFile.Role.RESULT)
    owner_urls = [
        reverse("order_detail", args=[order.pk]),
        reverse("order_status", args=[order.pk]),
        reverse("order_thumb", args=[order.pk]),
        reverse("order_file", args=[order.pk, record.pk]),
        reverse("order_file_thumb", args=[order.pk, record.pk]),
        reverse("api_key_revoke", args=[key.pk]),
        reverse("billing:success") + "?session_id=cs_test_1",
        reverse("billing:cancel") + f"?purchase={purchase.public_id}",
    ]
    theirs, mine = Client(), Client()
    theirs.force_login(tenants["other"])
    mine.force_login(tenants["owner"])
    for url in owner_urls:
        assert mine.get(url).status_code == 200, url
        assert theirs.get(url).status_code == 404, url
    assert theirs.get(reverse("billing:receipt", args=[purchase.public_id])).status_code == 404
    assert theirs.post(reverse("api_key_revoke", args=[key.pk])).status_code == 404
    key.refresh_from_db()
    assert key.is_active
    for page in (reverse("gallery"), reverse("dashboard"), reverse("api_keys"), reverse("billing:page")):
        html = theirs.get(page).content.decode()
        assert f"/orders/{order.pk}/" not in html and key.prefix not in html and str(purchase.public_id) not in html
    assert Order.objects.for_user(tenants["other"]).count() == 0


# --- one request-size limit everywhere ------------------------------------------------


@pytest.mark.parametrize("url", ["/accounts/login/", "/tryon/new/", "/catalog/new/", "/accounts/signup/"])
def test_oversized_multipart_bodies_refused_before_reading(db, settings, tmp_path, url):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.API_MAX_REQUEST_BYTES = 20_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1_000  # so an accepted upload would land in the temp folder
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    upload = SimpleUploadedFile("big.jpg", b"\xff" * 60_000, content_type="image/jpeg")
    response = Client().post(url, {"login": "a@example.com", "password": "x", "person_image": upload})
    assert response.status_code == 413, response.status_code
    assert list(tmp_path.iterdir()) == []


def test_oversized_api_body_is_json_413(owner, settings):
    settings.API_MAX_REQUEST_BYTES = 20_000
    response = client_for(owner[1]).post(
        "/api/v1/generate", {"person_image": "A" * 30_000, "clothing_image": "A"}, format="json"
    )
    assert response.status_code == 413
    shapes.check(response.json(), shapes.error("PAYLOAD_TOO_LARGE"))


# --- /healthz answered over plain http in production ---------------------------------


def test_healthz_not_redirected_to_https_in_production(tmp_path):
    probe = (
        "import django;django.setup();from django.test import Client;"
        "c=Client(SERVER_NAME='shop.example.com');"
        "print(c.get('/healthz').status_code, c.get('/pricing/').status_code)"
    )
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "s" * 60,
        "ALLOWED_HOSTS": "shop.example.com",
        "DJANGO_SETTINGS_MODULE": "ftmv.settings",
        "FTMV_VAR_DIR": str(tmp_path),  # not the developer's instance
    }
    env.pop("FTMV_TESTING", None)
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)
    codes = result.stdout.split()
    assert len(codes) == 2, result.stdout + result.stderr
    assert codes[0] in ("200", "503") and codes[1] == "301", result.stdout + result.stderr


# --- wrong passwords slow the guesser, never lock the owner out -----------------------


def _member(password: str = "correct horse battery"):
    from allauth.account.models import EmailAddress

    member, _ = make_user("known@example.com", credits=0)
    member.set_password(password)
    member.save()
    EmailAddress.objects.create(user=member, email=member.email, verified=True, primary=True)
    return member


def _login(address: str, password: str) -> int:
    client = Client(REMOTE_ADDR=address)
    response = client.post("/accounts/login/", {"login": "known@example.com", "password": password})
    return response.status_code


def test_wrong_passwords_do_not_lock_the_owner_out(db, clean_cache):
    _member()
    for _ in range(8):
        assert _login("203.0.113.50", "guess") == 200  # the form again, with an error
    assert _login("198.51.100.60", "correct horse battery") == 302  # the owner, elsewhere, gets in


def test_guesses_from_one_address_back_off_exponentially(db, clean_cache, monkeypatch):
    from accounts import adapter

    _member()
    now = [1_000_000.0]
    monkeypatch.setattr(adapter, "_now", lambda: now[0])
    for _ in range(5):
        assert _login("203.0.113.51", "guess") == 200
    # Five failures: the next try from this address waits 1 s, even with the right password...
    assert _login("203.0.113.51", "correct horse battery") == 200
    now[0] += 1.1
    assert _login("203.0.113.51", "guess") == 200  # sixth failure: the wait is now 2 s
    now[0] += 1.1
    assert _login("203.0.113.51", "correct horse battery") == 200  # still waiting
    now[0] += 1.0
    assert _login("203.0.113.51", "correct horse battery") == 302  # after the wait the owner gets in
