"""Server-side tests of the browser pages: ownership, CSRF, API keys shown once, the upload forms
(same rules as the API), order pages, downloads, gallery and thumbnails."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.models import ApiKey, User
from accounts.services import apikey_create
from billing.services import credits_balance, credits_grant
from tryon.lifecycle import order_complete, order_fail
from tryon.models import Order, OrderFile
from tryon.services import order_create
from tryon.thumbnails import THUMB_LONG_SIDE, ensure_thumbnail, thumbnail_name
from tryon.validation import validate_image

from .images import person_jpeg, product_png, tshirt_jpeg

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-1"


def make_user(email: str, credits: int = 40) -> User:
    user = User.objects.create_user(email, PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    balance = credits_balance(user)
    if credits > balance:
        credits_grant(user, credits - balance, reason="test")
    return user


def client_for(user: User, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def tryon_order(user: User) -> Order:
    images = {
        "person": validate_image(person_jpeg(), "person_image"),
        "clothing": validate_image(tshirt_jpeg(), "clothing_image"),
    }
    order, _ = order_create(
        user=user,
        style=Order.Style.VIRTUAL_TRYON,
        images=images,
        options={"quality": "standard", "format": "jpg", "category": "auto"},
    )
    return order


def catalog_order(user: User, quantity: int = 6) -> Order:
    images = {"product": validate_image(product_png(), "product_image")}
    order, _ = order_create(
        user=user,
        style=Order.Style.PRODUCT_CATALOG,
        images=images,
        quantity=quantity,
        options={"quality": "standard", "format": "png"},
    )
    return order


def png_bytes(size=(300, 200), colour=(10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def owner():
    return make_user("owner@example.com")


@pytest.fixture
def outsider():
    return make_user("outsider@example.com")


# --- public pages and login ---------------------------------------------------------------------

PUBLIC_URLS = ["/", "/pricing/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_pages_render(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert b'href="/static/css/site.css"' in response.content


def test_pricing_shows_the_configured_costs(client, settings):
    settings.CREDIT_COST_CATALOG = {6: 24, 12: 36}
    body = client.get("/pricing/").content.decode()
    assert "24 <small>credits / order</small>" in body and "36 <small>credits / order</small>" in body


def test_pricing_lists_the_configured_credit_packs(client, settings):
    settings.CREDIT_PACKS = [{"code": "tiny", "name": "Tiny pack", "credits": 40, "price_cents": 500}]
    body = client.get("/pricing/").content.decode()
    assert "Tiny pack" in body and ">40<" in body and "5.00 USD" in body and "12.5¢" in body


@pytest.mark.parametrize("name", ["dashboard", "api_keys", "tryon_new", "catalog_new", "gallery"])
def test_account_pages_need_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", ["dashboard", "api_keys", "tryon_new", "catalog_new", "gallery"])
def test_account_pages_render_for_the_user(owner, name):
    response = client_for(owner).get(reverse(name))
    assert response.status_code == 200
    assert b"Log out" in response.content


def test_dashboard_shows_credits_plan_and_recent_orders(owner):
    order = tryon_order(owner)
    body = client_for(owner).get("/dashboard/").content.decode()
    assert f'data-testid="credits">{credits_balance(owner)}<' in body
    assert "Free" in body
    assert f'href="/orders/{order.pk}/"' in body


# --- ownership: another user's ids answer 404 ------------------------------------------------------


def test_outsider_gets_404_on_every_order_url(owner, outsider):
    order = catalog_order(owner)
    order_complete(order.pk, results=[("catalog", f"v{i}", png_bytes(), 300, 200) for i in range(6)])
    record = order.files.get(role=OrderFile.Role.PRODUCT)
    urls = [
        reverse("order_detail", args=[order.pk]),
        reverse("order_status", args=[order.pk]),
        reverse("order_thumb", args=[order.pk]),
        reverse("order_zip", args=[order.pk]),
        reverse("order_file", args=[order.pk, record.pk]),
        reverse("order_file_thumb", args=[order.pk, record.pk]),
    ]
    theirs, mine = client_for(outsider), client_for(owner)
    for url in urls:
        assert theirs.get(url).status_code == 404, url
        assert mine.get(url).status_code == 200, url


def test_file_of_another_order_is_404_even_for_an_owner_of_both_ids(owner, outsider):
    mine = tryon_order(owner)
    theirs = tryon_order(outsider)
    their_file = theirs.files.first()
    response = client_for(owner).get(reverse("order_file", args=[mine.pk, their_file.pk]))
    assert response.status_code == 404


def test_outsider_cannot_see_or_revoke_a_key(owner, outsider):
    key, _ = apikey_create(user=owner, name="zebra-key")
    client = client_for(outsider)
    assert client.get(reverse("api_key_revoke", args=[key.pk])).status_code == 404
    assert client.post(reverse("api_key_revoke", args=[key.pk])).status_code == 404
    key.refresh_from_db()
    assert key.is_active
    assert b"zebra-key" not in client.get(reverse("api_keys")).content


# --- API keys -----------------------------------------------------------------------------------------


def test_api_key_is_shown_once_and_never_again(owner):
    client = client_for(owner)
    response = client.post(reverse("api_keys"), {"name": "shop backend"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    body = response.content.decode()
    key = ApiKey.objects.get(user=owner)
    start = body.index('data-testid="new-api-key">') + len('data-testid="new-api-key">')
    raw = body[start : body.index("<", start)]
    assert raw.startswith(key.prefix) and len(raw) == 64
    assert raw not in key.hashed_key
    # Every later page shows the prefix only.
    for url in (reverse("api_keys"), reverse("dashboard"), reverse("api_key_revoke", args=[key.pk])):
        later = client.get(url).content.decode()
        assert raw not in later and raw[len(key.prefix) :] not in later
    assert key.prefix in client.get(reverse("api_keys")).content.decode()


def test_revoke_asks_first_then_revokes(owner):
    key, _ = apikey_create(user=owner, name="ci")
    client = client_for(owner)
    confirm = client.get(reverse("api_key_revoke", args=[key.pk]))
    assert confirm.status_code == 200 and b"Revoke key" in confirm.content
    key.refresh_from_db()
    assert key.is_active  # a GET never revokes
    response = client.post(reverse("api_key_revoke", args=[key.pk]))
    assert response.status_code == 302
    key.refresh_from_db()
    assert not key.is_active


def test_key_name_is_required(owner):
    response = client_for(owner).post(reverse("api_keys"), {"name": ""})
    assert response.status_code == 400
    assert not ApiKey.objects.filter(user=owner).exists()


# --- CSRF on every form -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["api_keys", "tryon_new", "catalog_new"])
def test_posts_without_csrf_token_are_refused(owner, name):
    client = client_for(owner, enforce_csrf_checks=True)
    assert client.post(reverse(name), {"name": "x"}).status_code == 403


def test_revoke_and_logout_need_csrf(owner):
    key, _ = apikey_create(user=owner)
    client = client_for(owner, enforce_csrf_checks=True)
    assert client.post(reverse("api_key_revoke", args=[key.pk])).status_code == 403
    assert client.post(reverse("account_logout")).status_code == 403


@pytest.mark.parametrize("name", ["api_keys", "tryon_new", "catalog_new"])
def test_forms_carry_a_csrf_token(owner, name):
    body = client_for(owner).get(reverse(name)).content.decode()
    assert body.count("csrfmiddlewaretoken") >= 2  # the page's form and the log-out form


# --- upload forms: the API's rules ------------------------------------------------------------------


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_tryon_form_creates_an_order_and_spends_one_credit(owner):
    before = credits_balance(owner)
    response = client_for(owner).post(
        reverse("tryon_new"),
        {
            "person_image": upload("me.jpg", person_jpeg()),
            "clothing_image": upload("shirt.jpg", tshirt_jpeg()),
            "category": "tops",
            "quality": "standard",
            "format": "png",
        },
    )
    order = Order.objects.get(user=owner)
    assert response.status_code == 302 and response["Location"] == reverse("order_detail", args=[order.pk])
    assert order.style == "virtual_tryon" and order.source == "web" and order.status == "pending"
    assert order.options == {"category": "tops", "quality": "standard", "format": "png"}
    assert sorted(order.files.values_list("role", flat=True)) == ["clothing", "person"]
    assert credits_balance(owner) == before - 1


def test_tryon_form_shows_an_image_error_next_to_its_field(owner):
    before = credits_balance(owner)
    response = client_for(owner).post(
        reverse("tryon_new"),
        {
            "person_image": upload("me.jpg", b"not an image at all"),
            "clothing_image": upload("s.jpg", tshirt_jpeg()),
            "category": "auto",
            "quality": "high",
            "format": "jpg",
        },
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "person_image" in form.errors and "clothing_image" not in form.errors
    assert "not an image" in form.errors["person_image"][0]
    assert not Order.objects.exists() and credits_balance(owner) == before


def test_tryon_form_refuses_a_too_small_photo(owner):
    response = client_for(owner).post(
        reverse("tryon_new"),
        {
            "person_image": upload("me.png", png_bytes((40, 40)), "image/png"),
            "clothing_image": upload("s.jpg", tshirt_jpeg()),
            "category": "auto",
            "quality": "high",
            "format": "jpg",
        },
    )
    assert response.status_code == 400
    assert "too small" in response.context["form"].errors["person_image"][0]


def test_tryon_form_without_credits_says_so_and_creates_nothing(owner):
    poor = make_user("poor@example.com", credits=0)
    assert credits_balance(poor) == 0
    response = client_for(poor).post(
        reverse("tryon_new"),
        {
            "person_image": upload("me.jpg", person_jpeg()),
            "clothing_image": upload("s.jpg", tshirt_jpeg()),
            "category": "auto",
            "quality": "high",
            "format": "jpg",
        },
    )
    assert response.status_code == 400
    assert "Insufficient credits" in " ".join(response.context["form"].non_field_errors())
    assert not Order.objects.filter(user=poor).exists()


def test_tryon_form_rejects_an_unknown_option_value(owner):
    response = client_for(owner).post(
        reverse("tryon_new"),
        {
            "person_image": upload("me.jpg", person_jpeg()),
            "clothing_image": upload("s.jpg", tshirt_jpeg()),
            "category": "hats",
            "quality": "high",
            "format": "jpg",
        },
    )
    assert response.status_code == 400 and "category" in response.context["form"].errors


@pytest.mark.parametrize(("quantity", "cost"), [(6, 24), (12, 36)])
def test_catalog_form_charges_by_quantity(quantity, cost):
    user = make_user(f"cat{quantity}@example.com", credits=50)
    before = credits_balance(user)
    response = client_for(user).post(
        reverse("catalog_new"),
        {
            "product_image": upload("mug.png", product_png(), "image/png"),
            "quantity": str(quantity),
            "quality": "standard",
            "format": "jpg",
        },
    )
    order = Order.objects.get(user=user)
    assert response.status_code == 302
    assert order.quantity == quantity and order.credits_used == cost and order.source == "web"
    assert credits_balance(user) == before - cost


def test_catalog_form_shows_the_cost_of_each_quantity(owner):
    body = client_for(owner).get(reverse("catalog_new")).content.decode()
    assert "6 images · 24 credits" in body and "12 images · 36 credits" in body
    assert json.loads(body.split('data-cost-map="')[1].split('"')[0].replace("&quot;", '"')) == {"6": 24, "12": 36}


def test_second_order_in_flight_is_refused_on_the_free_plan(owner):
    tryon_order(owner)  # pending: the free plan allows one at a time
    response = client_for(owner).post(
        reverse("tryon_new"),
        {
            "person_image": upload("me.jpg", person_jpeg()),
            "clothing_image": upload("s.jpg", tshirt_jpeg()),
            "category": "auto",
            "quality": "high",
            "format": "jpg",
        },
    )
    assert response.status_code == 400
    assert "at once" in " ".join(response.context["form"].non_field_errors())
    assert Order.objects.filter(user=owner).count() == 1


# --- order page, status JSON, downloads ----------------------------------------------------------


def test_status_json_follows_the_order(owner):
    order = tryon_order(owner)
    client = client_for(owner)
    data = client.get(reverse("order_status", args=[order.pk])).json()
    assert data == {
        "id": order.pk,
        "status": "pending",
        "status_label": "Pending",
        "progress": 0,
        "stage": "",
        "stage_label": "Waiting for a worker",
        "finished": False,
    }
    Order.objects.filter(pk=order.pk).update(status="in_progress", progress=40, stage="garment")
    data = client.get(reverse("order_status", args=[order.pk])).json()
    assert data["progress"] == 40 and data["stage_label"] == "Cutting out the garment" and not data["finished"]


def test_pending_order_page_polls_its_status(owner):
    order = tryon_order(owner)
    body = client_for(owner).get(reverse("order_detail", args=[order.pk])).content.decode()
    assert f'data-order-status-url="/orders/{order.pk}/status/"' in body
    assert 'role="progressbar"' in body


def test_completed_tryon_page_has_comparison_and_download(owner):
    order = tryon_order(owner)
    order_complete(order.pk, results=[("result", "result", png_bytes((512, 512)), 512, 512)])
    result = order.files.get(role="result")
    client = client_for(owner)
    body = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert 'data-compare="compare-range"' in body and "data-order-status-url" not in body
    assert f"/orders/{order.pk}/files/{result.pk}/?download=1" in body
    download = client.get(reverse("order_file", args=[order.pk, result.pk]) + "?download=1")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == result.file.open("rb").read()


def test_completed_catalog_zip_holds_every_image(owner):
    order = catalog_order(owner)
    order_complete(
        order.pk,
        results=[("catalog", f"variant_{i}", png_bytes(colour=(i * 30, 0, 0)), 300, 200) for i in range(6)],
        product_description="A blue mug.",
    )
    client = client_for(owner)
    body = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert body.count("catalog-grid") == 1 and body.count("?download=1") == 6 and "A blue mug." in body
    response = client.get(reverse("order_zip", args=[order.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert len([n for n in names if n.endswith(".png")]) == 6 and "description.txt" in names


def test_zip_of_an_unfinished_order_is_404(owner):
    order = catalog_order(owner)
    assert client_for(owner).get(reverse("order_zip", args=[order.pk])).status_code == 404


def test_failed_order_shows_the_reason_and_the_refund(owner):
    before = credits_balance(owner)
    order = catalog_order(owner)
    order_fail(order.pk, code="NO_PRODUCT_FOUND", message="No product could be found in the photo.")
    body = client_for(owner).get(reverse("order_detail", args=[order.pk])).content.decode()
    assert "No product could be found in the photo." in body and "NO_PRODUCT_FOUND" in body
    assert "24 credits</strong> were refunded" in body
    assert credits_balance(owner) == before


# --- gallery and thumbnails -----------------------------------------------------------------------------


def test_gallery_filters_by_style_and_status(owner):
    first = tryon_order(owner)
    order_complete(first.pk, results=[("result", "result", png_bytes(), 300, 200)])
    second = catalog_order(owner)
    client = client_for(owner)

    def ids(query: str) -> set[int]:
        page = client.get(reverse("gallery") + query).context["page"]
        return {order.pk for order in page.object_list}

    assert ids("") == {first.pk, second.pk}
    assert ids("?style=virtual_tryon") == {first.pk}
    assert ids("?status=pending") == {second.pk}
    assert ids("?style=product_catalog&status=completed") == set()
    assert ids("?style=bogus") == {first.pk, second.pk}


def test_gallery_paginates_and_shows_only_own_orders(owner, outsider, settings):
    from web import views as web_views

    settings.API_PLANS = {"free": {"per_hour": 100, "per_day": 100, "concurrent": 100}}
    for _ in range(3):
        tryon_order(owner)
    tryon_order(outsider)
    old = web_views.GALLERY_PAGE_SIZE
    web_views.GALLERY_PAGE_SIZE = 2
    try:
        client = client_for(owner)
        page1 = client.get(reverse("gallery")).context["page"]
        page2 = client.get(reverse("gallery") + "?page=2").context["page"]
    finally:
        web_views.GALLERY_PAGE_SIZE = old
    assert page1.paginator.count == 3 and len(page1.object_list) == 2 and len(page2.object_list) == 1
    assert all(order.user_id == owner.pk for order in [*page1.object_list, *page2.object_list])


def test_thumbnail_is_made_once_small_and_served(owner):
    order = tryon_order(owner)
    order_complete(order.pk, results=[("result", "result", png_bytes((1600, 1200)), 1600, 1200)])
    result = order.files.get(role="result")
    from django.core.files.storage import default_storage

    name = thumbnail_name(result)
    assert not default_storage.exists(name)
    response = client_for(owner).get(reverse("order_thumb", args=[order.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    thumb = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert max(thumb.size) == THUMB_LONG_SIDE and thumb.size == (480, 360)
    stamp = default_storage.get_modified_time(name)
    assert ensure_thumbnail(result) == name and default_storage.get_modified_time(name) == stamp  # not remade


def test_gallery_uses_thumbnail_urls_not_full_images(owner):
    order = tryon_order(owner)
    body = client_for(owner).get(reverse("gallery")).content.decode()
    assert f'src="/orders/{order.pk}/thumb/"' in body
    assert "/media/" not in body
