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


def test_orders_are_read_only_except_through_the_ledger_actions(staff, settings):
    """Staff could edit an order's status and credits or add orders without the ledger."""
    settings.API_PLANS = {"free": {"per_hour": 100, "per_day": 100, "concurrent": 100}}
    owner = make_user("o@example.com", credits=10)
    running = tryon_order(owner)
    failed = tryon_order(owner)
    order_fail(failed.pk, code="NO_PERSON", message="No person.")
    assert credits_balance(owner) == 9

    # No add, no edit, no delete: the change page shows the order read-only.
    assert staff.get("/admin/tryon/order/add/").status_code == 403
    page = staff.get(f"/admin/tryon/order/{running.pk}/change/")
    assert (
        page.status_code == 200 and b'name="status"' not in page.content and b'name="credits_used"' not in page.content
    )
    staff.post(f"/admin/tryon/order/{running.pk}/change/", {"status": "completed", "credits_used": "0"})
    running.refresh_from_db()
    assert running.status == "pending" and running.credits_used == 1
    assert staff.post(f"/admin/tryon/order/{running.pk}/delete/", {"post": "yes"}).status_code == 403

    # Cancel and refund: through order_fail, a refund entry in the ledger.
    done = staff.post(
        "/admin/tryon/order/", {"action": "cancel_and_refund", "_selected_action": [running.pk, failed.pk]}
    )
    assert done.status_code == 302
    running.refresh_from_db()
    assert running.status == "failed" and running.error_code == "CANCELLED" and running.credits_used == 0
    assert CreditEntry.objects.filter(order_id=running.pk, kind="refund", amount=1).exists()
    assert credits_balance(owner) == 10

    # Retry: a new order with the same photos, charged through the ledger; the failed one stays as it was.
    assert staff.post("/admin/tryon/order/", {"action": "retry", "_selected_action": [failed.pk]}).status_code == 302
    new = Order.objects.exclude(pk__in=[running.pk, failed.pk]).get()
    assert new.status == "pending" and new.style == failed.style and new.options == failed.options
    assert sorted(new.files.values_list("role", flat=True)) == ["clothing", "person"]
    assert CreditEntry.objects.filter(order_id=new.pk, kind="spend", amount=-1).exists()
    assert credits_balance(owner) == 9
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_admin_sidebar_sections_have_distinct_names(staff):
    index = staff.get("/admin/")
    names = [app["name"] for app in index.context["app_list"]]
    assert len(names) == len(set(names)), names
