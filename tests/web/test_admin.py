"""Admin: orders with thumbnails and status/timing/error filters, users with balance, ledger and a
grant action, API keys without secrets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.services import apikey_create
from billing.models import CreditEntry
from billing.services import credits_balance
from tryon.lifecycle import order_complete, order_fail
from tryon.models import Order

from .test_views import catalog_order, make_user, png_bytes, tryon_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    user = User.objects.create_superuser("admin@example.com", "admin-pass-123")
    client = Client()
    client.force_login(user)
    return client


def test_order_list_has_thumbnails_and_filters(staff, settings):
    settings.API_PLANS = {"free": {"per_hour": 100, "per_day": 100, "concurrent": 100}}
    owner = make_user("o@example.com")
    quick = tryon_order(owner)
    order_complete(quick.pk, results=[("result", "result", png_bytes(), 300, 200)])
    slow = tryon_order(owner)
    order_complete(slow.pk, results=[("result", "result", png_bytes(), 300, 200)])
    Order.objects.filter(pk=slow.pk).update(completed_at=timezone.now() + timedelta(minutes=5))
    failed = catalog_order(owner)
    order_fail(failed.pk, code="NO_PRODUCT_FOUND", message="No product.")

    def ids(query: str) -> set[int]:
        response = staff.get("/admin/tryon/order/" + query)
        assert response.status_code == 200
        return {o.pk for o in response.context["cl"].result_list}

    body = staff.get("/admin/tryon/order/").content.decode()
    assert body.count('src="/media/thumbs/') == 3
    assert ids("?took=lt30") == {quick.pk, failed.pk}
    assert ids("?took=gt120") == {slow.pk}
    assert ids("?error=NO_PRODUCT_FOUND") == {failed.pk}
    assert ids("?status__exact=completed") == {quick.pk, slow.pk}
    assert staff.get(f"/admin/tryon/order/{quick.pk}/change/").status_code == 200


def test_user_list_shows_balance_and_the_ledger(staff):
    user = make_user("rich@example.com", credits=17)
    body = staff.get("/admin/accounts/user/").content.decode()
    assert "rich@example.com" in body and '<td class="field-credits">17</td>' in body
    page = staff.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert "Credit entr" in page and "test" in page  # the grant from make_user, in the inline


def test_grant_credits_action_asks_then_grants(staff):
    first, second = make_user("a@example.com", credits=0), make_user("b@example.com", credits=5)
    selected = {"action": "grant_credits", "_selected_action": [first.pk, second.pk]}
    confirm = staff.post("/admin/accounts/user/", selected)
    assert confirm.status_code == 200 and b"Credits to grant" in confirm.content
    assert credits_balance(first) == 0
    done = staff.post("/admin/accounts/user/", {**selected, "apply": "1", "amount": "25", "reason": "goodwill"})
    assert done.status_code == 302
    assert credits_balance(first) == 25 and credits_balance(second) == 30
    entry = CreditEntry.objects.filter(user=first).latest("created_at")
    assert entry.kind == "grant" and "goodwill" in entry.reason


def test_api_key_admin_shows_no_secret(staff):
    owner = make_user("k@example.com")
    key, raw = apikey_create(user=owner, name="prod")
    for url in ("/admin/accounts/apikey/", f"/admin/accounts/apikey/{key.pk}/change/"):
        body = staff.get(url).content.decode()
        assert key.prefix in body
        assert raw not in body and key.hashed_key not in body
