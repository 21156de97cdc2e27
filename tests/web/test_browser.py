"""The whole browser journey in Chromium against the live server and a real Celery worker:
sign up, verify the e-mail, log in, create an API key (shown once), submit a try-on and a
catalog through the forms, watch them complete, find them in the gallery, download the results;
a second user gets 404 on the first user's order. Every page is checked for the accessibility
basics and screenshotted at phone and desktop widths under artifacts/screenshots/."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core import mail
from PIL import Image

from accounts.models import ApiKey, User
from billing.services import credits_balance, credits_grant
from tryon.models import Order

from ..conftest import wait_for_js
from .images import person_jpeg, product_png, tshirt_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.worker]

EMAIL = "browser-user@example.com"
PASSWORD = "Sturdy-Passw0rd-for-tests"
ORDER_TIMEOUT_MS = 180_000


def submit(page) -> None:
    """The page's main form (the header's log-out form is a form too)."""
    page.click("main button[type=submit]")


def test_signup_to_download(live_server, celery_worker, pages, tmp_path):
    base = live_server.url
    page = pages.new_page()

    page.goto(base + "/")
    pages.capture(page, "01-landing")
    page.goto(base + "/pricing/")
    pages.capture(page, "02-pricing")

    # --- sign up and verify the e-mail address from the outbox (the live server runs in-process) ---
    mail.outbox.clear()
    page.goto(base + "/accounts/signup/")
    pages.capture(page, "03-signup")
    page.fill("#id_email", EMAIL)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    submit(page)
    page.wait_for_url("**/accounts/confirm-email/")
    pages.capture(page, "04-verification-sent")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [EMAIL]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    pages.capture(page, "05-confirm-email")
    submit(page)
    page.wait_for_url("**/dashboard/")  # confirmed: the new user is logged in (no second log-in)
    from allauth.account.models import EmailAddress

    assert EmailAddress.objects.get(email=EMAIL).verified

    # --- log in (another browser: the log-in page itself) ---
    login = pages.new_page()
    login.goto(base + "/accounts/login/")
    pages.capture(login, "06-login")
    login.fill("#id_login", EMAIL)
    login.fill("#id_password", PASSWORD)
    submit(login)
    login.wait_for_url("**/dashboard/")
    user = User.objects.get(email=EMAIL)
    assert page.inner_text("[data-testid=credits]") == str(credits_balance(user)) != "0"
    pages.capture(page, "07-dashboard-empty")

    # --- API key: shown once, works, never shown again ---
    page.goto(base + "/settings/api-keys/")
    page.fill("#id_name", "browser test")
    submit(page)
    raw_key = page.inner_text("[data-testid=new-api-key]").strip()
    key = ApiKey.objects.get(user=user)
    assert len(raw_key) == 64 and raw_key.startswith(key.prefix)
    pages.capture(page, "08-api-key-created")
    account = page.request.get(base + "/api/v1/account", headers={"Authorization": f"Bearer {raw_key}"})
    assert account.status == 200 and account.json()["account"]["user_id"] == user.pk
    page.goto(base + "/settings/api-keys/")
    assert raw_key not in page.content() and key.prefix in page.content()
    pages.capture(page, "09-api-keys")

    # --- try-on through the form, with previews, to completion on the real worker ---
    (tmp_path / "person.jpg").write_bytes(person_jpeg())
    (tmp_path / "shirt.jpg").write_bytes(tshirt_jpeg())
    page.goto(base + "/tryon/new/")
    pages.capture(page, "10-tryon-form")
    page.set_input_files("#id_person_image", str(tmp_path / "person.jpg"))
    page.set_input_files("#id_clothing_image", str(tmp_path / "shirt.jpg"))
    wait_for_js(page, "document.querySelector('.upload img.preview').naturalWidth > 0")
    page.check("input[name=quality][value=standard]")
    pages.capture(page, "11-tryon-form-filled")
    submit(page)
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    order_url = page.url
    order = Order.objects.get(user=user)
    assert order.source == "web" and order_url.endswith(f"/orders/{order.pk}/")
    page.wait_for_selector("[data-testid=download-result], .alert-error", timeout=ORDER_TIMEOUT_MS)
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED, (order.error_code, order.error_message, celery_worker.logs()[-3000:])
    pages.capture(page, "12-order-tryon-completed")

    with page.expect_download() as download_info:
        page.click("[data-testid=download-result]")
    downloaded = download_info.value.path().read_bytes()
    result = order.files.get(role="result")
    assert downloaded == result.file.open("rb").read()
    assert Image.open(io.BytesIO(downloaded)).size == (result.width, result.height)

    # --- a catalog order through its form (credits granted: the sign-up credits cover try-ons only) ---
    credits_grant(user, 24, reason="browser test")
    (tmp_path / "mug.png").write_bytes(product_png())
    page.goto(base + "/catalog/new/")
    page.set_input_files("#id_product_image", str(tmp_path / "mug.png"))
    page.check("input[name=quality][value=standard]")
    assert "24 credits" in page.inner_text("[data-cost-output]")
    pages.capture(page, "13-catalog-form-filled")
    # Hold the page's status polls while it is captured: a fast worker finishing mid-capture would
    # reload the page under the screenshot. The polls are answered for real right after.
    status_polls = re.compile(r".*/orders/\d+/status/$")
    held = []
    page.route(status_polls, lambda route: held.append(route))
    submit(page)
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    pages.capture(page, "14-order-in-progress")
    page.unroute(status_polls)
    for route in held:
        route.continue_()
    page.wait_for_selector("[data-testid=download-zip], .alert-error", timeout=ORDER_TIMEOUT_MS)
    catalog = Order.objects.get(user=user, style=Order.Style.PRODUCT_CATALOG)
    assert catalog.status == Order.Status.COMPLETED, (catalog.error_code, catalog.error_message)
    pages.capture(page, "15-order-catalog-completed")
    with page.expect_download() as download_info:
        page.click("[data-testid=download-zip]")
    archive = zipfile.ZipFile(download_info.value.path())
    assert len([n for n in archive.namelist() if n.endswith(".jpg")]) == catalog.quantity == 6

    # --- gallery: both orders, with thumbnails, filterable ---
    page.goto(base + "/gallery/")
    assert page.locator(".gallery-item").count() == 2
    assert page.locator(f'.gallery-item[data-order-id="{order.pk}"] img').evaluate("i => i.naturalWidth") <= 480
    pages.capture(page, "16-gallery")
    page.select_option("#filter-style", "virtual_tryon")
    submit(page)
    page.wait_for_url("**/gallery/?style=virtual_tryon*")
    assert page.locator(".gallery-item").count() == 1
    page.goto(base + "/dashboard/")
    pages.capture(page, "17-dashboard")

    # --- revoke the key, with confirmation ---
    page.goto(base + "/settings/api-keys/")
    page.click("text=Revoke")
    page.wait_for_url("**/revoke/")
    pages.capture(page, "18-api-key-revoke")
    submit(page)
    page.wait_for_url("**/settings/api-keys/")
    assert "is revoked" in page.inner_text(".messages")
    key.refresh_from_db()
    assert not key.is_active
    account = page.request.get(base + "/api/v1/account", headers={"Authorization": f"Bearer {raw_key}"})
    assert account.status == 401

    # --- a second user cannot open the first user's order, files or status ---
    other = User.objects.create_user("second-user@example.com", PASSWORD)
    EmailAddress.objects.create(user=other, email=other.email, verified=True, primary=True)
    intruder = pages.new_page()
    intruder.goto(base + "/accounts/login/")
    intruder.fill("#id_login", other.email)
    intruder.fill("#id_password", PASSWORD)
    submit(intruder)
    intruder.wait_for_url("**/dashboard/")
    for url in (order_url, order_url + "status/", order_url + "thumb/", f"{order_url}files/{result.pk}/?download=1"):
        response = intruder.goto(url)
        assert response.status == 404, url
    intruder.goto(base + "/gallery/")
    assert intruder.locator(".gallery-item").count() == 0


def test_accessibility_check_reports_what_it_should(pages):
    """The check used on every page above must fail on a page with each kind of problem."""
    from .conftest import A11Y_SCRIPT

    page = pages.new_page()
    page.set_content("""<html lang="en"><body style="background:#fff"><h1>Fine</h1>
        <label for="a">Name</label><input id="a"><label>Wrapped <input name="b"></label>
        <img src="data:," alt=""><p style="color:#4a5068">Muted text at 8:1</p></body></html>""")
    assert page.evaluate(A11Y_SCRIPT) == []
    page.set_content("""<html><body style="background:#fff">
        <input name="unlabelled"><img src="data:,"><p style="color:#aaaaaa">Too light</p>
        <div style="background:#3b2fc9"><span style="color:#14172b">Dark on indigo</span></div></body></html>""")
    problems = "\n".join(page.evaluate(A11Y_SCRIPT))
    assert "no lang" in problems and "one <h1>, found 0" in problems
    assert "without a label" in problems and "unlabelled" in problems
    assert "img without alt" in problems
    assert "Too light" in problems and "Dark on indigo" in problems
