"""The Stripe webhook: signatures, exactly-once credits, async payments, refunds."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections
from django.db.models import Sum
from django.test import Client

from accounts.models import User
from billing.models import CreditEntry, Purchase, StripeEvent
from billing.services import InsufficientCredits, credits_balance, credits_grant, credits_spend
from tryon.models import Order

from .stripe_fake import event_payload, post_webhook, signature


def start_purchase(client: Client, fake, pack: str = "pro", email: str = "buyer@example.com") -> tuple[User, dict]:
    """A user who started a checkout; returns the user and the fake's session."""
    user = User.objects.create_user(email=email)
    client.force_login(user)
    assert client.post(f"/billing/buy/{pack}").status_code == 302
    purchase = Purchase.objects.get(user=user)
    return user, fake.sessions[purchase.stripe_session_id]


def assert_ledger_consistent(user: User) -> None:
    """The balance is the sum of the entries, and each entry's balance_after follows from the one before."""
    entries = list(CreditEntry.objects.filter(user=user).order_by("id"))
    running = 0
    for entry in entries:
        running += entry.amount
        assert entry.balance_after == running, entry
    total = CreditEntry.objects.filter(user=user).aggregate(s=Sum("amount"))["s"] or 0
    assert credits_balance(user) == running == total


@pytest.mark.django_db
class TestSignature:
    def test_valid_signature_accepted(self, client, stripe_on):
        response = post_webhook(client, event_payload("customer.created", {"id": "cus_1"}))
        assert response.status_code == 200
        assert StripeEvent.objects.get().outcome == "ignored: event type not handled"

    @pytest.mark.parametrize("case", ["tampered", "wrong_secret", "old_timestamp", "missing", "garbage"])
    def test_bad_signatures_rejected_and_nothing_changes(self, client, stripe_on, case):
        user, session = start_purchase(client, stripe_on)
        stripe_on.pay(session["id"])
        payload = event_payload("checkout.session.completed", session)
        sig = {
            "tampered": signature(payload),
            "wrong_secret": signature(payload, secret="whsec_someone_else"),
            "old_timestamp": signature(payload, timestamp=int(time.time()) - 600),  # tolerance is 300 s
            "missing": None,
            "garbage": "not a signature",
        }[case]
        if case == "tampered":  # signed, then changed: e.g. someone bumps the amount
            payload = payload.replace('"amount_total": 3900', '"amount_total": 1')
            assert '"amount_total": 1' in payload
        response = post_webhook(client, payload, sig=sig)
        assert response.status_code == 400
        assert not StripeEvent.objects.exists()
        assert Purchase.objects.get().status == "pending"
        assert credits_balance(user) == 0

    def test_signed_non_event_is_rejected(self, client, stripe_on):
        assert post_webhook(client, '{"hello": "world"}').status_code == 400
        assert post_webhook(client, "[1, 2]").status_code == 400
        assert not StripeEvent.objects.exists()

    def test_get_is_not_allowed(self, client, stripe_on):
        assert client.get("/billing/webhook/stripe").status_code == 405


@pytest.mark.django_db
class TestCompleted:
    def test_grants_once_and_makes_the_account_paid(self, client, stripe_on):
        user, session = start_purchase(client, stripe_on)
        credits_grant(user, 10, reason="signup")
        stripe_on.pay(session["id"])
        payload = event_payload("checkout.session.completed", session)

        first = post_webhook(client, payload)
        replay = post_webhook(client, payload)  # Stripe delivers again, e.g. after a timeout
        assert first.status_code == replay.status_code == 200
        assert first.json()["outcome"] == "granted 500 credits"
        assert replay.json()["outcome"] == "duplicate: already processed"
        user.refresh_from_db()
        purchase = Purchase.objects.get()
        assert credits_balance(user) == 510
        assert user.plan == "paid"
        assert (purchase.status, purchase.stripe_payment_intent_id) == ("paid", session["payment_intent"])
        assert purchase.paid_at is not None
        [entry] = CreditEntry.objects.filter(kind="purchase")
        assert entry.amount == 500 and entry.reference == f"stripe:{session['id']}"
        event = StripeEvent.objects.get()
        assert event.purchase == purchase and event.type == "checkout.session.completed"
        assert_ledger_consistent(user)
        page = client.get("/billing/").content.decode()
        assert 'id="balance"' in page and "510" in page and "Paid" in page

    def test_a_second_event_for_the_same_payment_grants_nothing(self, client, stripe_on):
        user, session = start_purchase(client, stripe_on)
        stripe_on.pay(session["id"])
        post_webhook(client, event_payload("checkout.session.completed", session))
        again = post_webhook(client, event_payload("checkout.session.async_payment_succeeded", session))
        assert again.json()["outcome"] == "ignored: purchase already paid"
        assert credits_balance(user) == 500
        assert StripeEvent.objects.count() == 2

    def test_delayed_payment_waits_then_succeeds(self, client, stripe_on):
        user, session = start_purchase(client, stripe_on)
        stripe_on.pay(session["id"])
        unpaid = {**session, "payment_status": "unpaid"}
        assert (
            post_webhook(client, event_payload("checkout.session.completed", unpaid))
            .json()["outcome"]
            .startswith("waiting")
        )
        assert Purchase.objects.get().status == "pending" and credits_balance(user) == 0
        post_webhook(client, event_payload("checkout.session.async_payment_succeeded", session))
        assert Purchase.objects.get().status == "paid" and credits_balance(user) == 500

    def test_delayed_payment_fails(self, client, stripe_on):
        user, session = start_purchase(client, stripe_on)
        unpaid = {**session, "payment_status": "unpaid", "status": "complete"}
        post_webhook(client, event_payload("checkout.session.completed", unpaid))
        post_webhook(client, event_payload("checkout.session.async_payment_failed", unpaid))
        purchase = Purchase.objects.get()
        user.refresh_from_db()
        assert (purchase.status, purchase.failure_reason) == ("failed", "payment failed")
        assert credits_balance(user) == 0 and user.plan == "free"

    def test_session_of_someone_else_is_ignored(self, client, stripe_on):
        stranger = {
            "id": "cs_test_unknown",
            "object": "checkout.session",
            "payment_status": "paid",
            "metadata": {},
            "amount_total": 3900,
        }
        response = post_webhook(client, event_payload("checkout.session.completed", stranger))
        assert response.status_code == 200
        assert response.json()["outcome"] == "ignored: no matching purchase"
        assert not CreditEntry.objects.exists()

    def test_session_found_by_metadata_when_its_id_was_never_stored(self, client, stripe_on):
        # The create call timed out on our side but Stripe made the session: the metadata still finds it.
        user, session = start_purchase(client, stripe_on)
        Purchase.objects.update(stripe_session_id=None)
        stripe_on.pay(session["id"])
        post_webhook(client, event_payload("checkout.session.completed", session))
        assert Purchase.objects.get().stripe_session_id == session["id"]
        assert credits_balance(user) == 500
        # ...but only for the user named in the session.
        other, other_session = start_purchase(client, stripe_on, email="other@example.com")
        Purchase.objects.filter(user=other).update(stripe_session_id=None)
        forged = {
            **other_session,
            "id": "cs_test_forged",
            "client_reference_id": str(user.pk),
            "payment_status": "paid",
        }
        assert post_webhook(client, event_payload("checkout.session.completed", forged)).json()["outcome"] == (
            "ignored: no matching purchase"
        )
        assert credits_balance(other) == 0 and credits_balance(user) == 500

    def test_expired_session_fails_the_purchase(self, client, stripe_on):
        user, session = start_purchase(client, stripe_on)
        post_webhook(client, event_payload("checkout.session.expired", {**session, "status": "expired"}))
        assert Purchase.objects.get().status == "failed"

    def test_first_purchase_only_switches_plan(self, client, stripe_on):
        user, session = start_purchase(client, stripe_on)
        stripe_on.pay(session["id"])
        post_webhook(client, event_payload("checkout.session.completed", session))
        client.post("/billing/buy/starter")
        second = Purchase.objects.filter(user=user, status="pending").get()
        stripe_on.pay(second.stripe_session_id)
        post_webhook(client, event_payload("checkout.session.completed", stripe_on.sessions[second.stripe_session_id]))
        user.refresh_from_db()
        assert user.plan == "paid" and credits_balance(user) == 600
        assert_ledger_consistent(user)


@pytest.mark.django_db
class TestRefund:
    def paid(self, client, fake, pack: str = "pro") -> tuple[User, dict, dict]:
        user, session = start_purchase(client, fake, pack=pack)
        charge = fake.pay(session["id"])
        assert post_webhook(client, event_payload("checkout.session.completed", session)).status_code == 200
        return user, session, charge

    def test_refund_after_partial_spending(self, client, stripe_on):
        user, session, charge = self.paid(client, stripe_on)
        credits_grant(user, 10, reason="signup")
        for _ in range(4):
            credits_spend(user, 100, order=Order.objects.create(user=user, style="virtual_tryon"))
        assert credits_balance(user) == 110  # 500 + 10 - 400

        refunded = {**charge, "amount_refunded": 3900, "refunded": True}
        response = post_webhook(client, event_payload("charge.refunded", refunded))
        assert response.status_code == 200
        assert response.json()["outcome"] == "refunded 3900 cents: took back 500 credits"
        purchase = Purchase.objects.get()
        assert (purchase.status, purchase.credits_reversed, purchase.amount_refunded_cents) == ("refunded", 500, 3900)
        # 110 were unspent and are gone; the other 390 had been used: the balance shows what is owed.
        assert credits_balance(user) == -390
        [reversal] = CreditEntry.objects.filter(kind="reversal")
        assert (reversal.amount, reversal.balance_after) == (-500, -390)
        assert_ledger_consistent(user)
        with pytest.raises(InsufficientCredits):
            credits_spend(user, 1, order=Order.objects.create(user=user, style="virtual_tryon"))
        # Replaying the refund changes nothing.
        post_webhook(
            client,
            event_payload(
                "charge.refunded", refunded, event_id=StripeEvent.objects.get(type="charge.refunded").event_id
            ),
        )
        assert credits_balance(user) == -390
        # The next purchase settles the debt first.
        client.post("/billing/buy/pro")
        nxt = Purchase.objects.get(status="pending")
        stripe_on.pay(nxt.stripe_session_id)
        post_webhook(client, event_payload("checkout.session.completed", stripe_on.sessions[nxt.stripe_session_id]))
        assert credits_balance(user) == 110
        assert_ledger_consistent(user)
        assert "-390" in client.get("/billing/").content.decode()  # in the movements table

    def test_partial_refunds_add_up(self, client, stripe_on):
        user, session, charge = self.paid(client, stripe_on)
        post_webhook(client, event_payload("charge.refunded", {**charge, "amount_refunded": 1950}))
        purchase = Purchase.objects.get()
        assert (purchase.status, purchase.credits_reversed, credits_balance(user)) == ("paid", 250, 250)
        post_webhook(client, event_payload("charge.refunded", {**charge, "amount_refunded": 3900, "refunded": True}))
        purchase.refresh_from_db()
        assert (purchase.status, purchase.credits_reversed, credits_balance(user)) == ("refunded", 500, 0)
        assert CreditEntry.objects.filter(kind="reversal").count() == 2
        assert_ledger_consistent(user)

    def test_refund_before_its_payment_is_retried(self, client, stripe_on):
        user, session = start_purchase(client, stripe_on)
        charge = stripe_on.pay(session["id"])
        refund = event_payload("charge.refunded", {**charge, "amount_refunded": 3900, "refunded": True})
        early = post_webhook(client, refund)
        assert early.status_code == 503  # Stripe will deliver it again
        assert not StripeEvent.objects.exists()
        post_webhook(client, event_payload("checkout.session.completed", session))
        assert post_webhook(client, refund).status_code == 200
        assert credits_balance(user) == 0 and Purchase.objects.get().status == "refunded"

    def test_refund_of_a_foreign_charge_is_acknowledged(self, client, stripe_on):
        foreign = {
            "id": "ch_x",
            "object": "charge",
            "payment_intent": "pi_other",
            "amount": 100,
            "amount_refunded": 100,
            "refunded": True,
            "metadata": {},
        }
        response = post_webhook(client, event_payload("charge.refunded", foreign))
        assert response.status_code == 200 and response.json()["outcome"] == "ignored: no matching purchase"

    def test_refund_naming_a_purchase_unknown_here_is_acknowledged(self, client, stripe_on):
        """Signed, with our metadata key, but for a purchase this site never had: 200 and logged, not a 503
        that Stripe would retry for days before disabling the endpoint."""
        stranger = {
            "id": "ch_y",
            "object": "charge",
            "payment_intent": "pi_elsewhere",
            "amount": 900,
            "amount_refunded": 900,
            "refunded": True,
            "metadata": {"purchase_id": "7d4f4a8e-2f7b-4c8e-9a51-3d0c8f1e2b6a"},
        }
        for _ in range(2):
            response = post_webhook(client, event_payload("charge.refunded", stranger))
            assert response.status_code == 200 and response.json()["outcome"] in (
                "ignored: unknown purchase",
                "duplicate: already processed",
            )
        garbled = {**stranger, "id": "ch_z", "metadata": {"purchase_id": "not-a-uuid"}}
        assert post_webhook(client, event_payload("charge.refunded", garbled)).status_code == 200


def _deliver_concurrently(url: str, payloads: list[str]) -> list[tuple[int, str]]:
    """POST each payload from its own thread (own database connection), all released at once;
    returns (status, outcome) per payload."""
    barrier = threading.Barrier(len(payloads))
    results: list[tuple[int, str]] = [(0, "")] * len(payloads)

    def deliver(i: int) -> None:
        try:
            barrier.wait()
            response = post_webhook(Client(), payloads[i], url=url)
            results[i] = (response.status_code, response.json().get("outcome", ""))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(len(payloads))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrentDelivery:
    """Two deliveries at the same moment, each in its own transaction: real row locks and unique indexes."""

    @pytest.fixture(autouse=True)
    def _needs_postgres(self):
        if connections["default"].vendor != "postgresql":
            pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...)")

    @pytest.mark.parametrize("round_", range(5))
    def test_same_event_twice_grants_once(self, client, stripe_on, round_):
        user, session = start_purchase(client, stripe_on)
        stripe_on.pay(session["id"])
        payload = event_payload("checkout.session.completed", session)

        results = _deliver_concurrently("/billing/webhook/stripe", [payload, payload])
        assert sorted(results) == [(200, "duplicate: already processed"), (200, "granted 500 credits")]
        assert StripeEvent.objects.count() == 1
        assert CreditEntry.objects.filter(user=user, kind="purchase").count() == 1
        assert credits_balance(user) == 500
        assert_ledger_consistent(user)

    @pytest.mark.parametrize("round_", range(5))
    def test_two_events_for_one_payment_grant_once(self, client, stripe_on, round_):
        user, session = start_purchase(client, stripe_on)
        stripe_on.pay(session["id"])
        payloads = [
            event_payload("checkout.session.completed", session),
            event_payload("checkout.session.async_payment_succeeded", session),
        ]

        results = _deliver_concurrently("/billing/webhook/stripe", payloads)
        assert sorted(results) == [(200, "granted 500 credits"), (200, "ignored: purchase already paid")]
        assert StripeEvent.objects.count() == 2
        assert CreditEntry.objects.filter(user=user, kind="purchase").count() == 1
        assert credits_balance(user) == 500
        assert Purchase.objects.get().status == "paid"


@pytest.mark.django_db
def test_admin_finds_purchases_events_and_negative_balances(client, stripe_on):
    user, session = start_purchase(client, stripe_on)
    charge = stripe_on.pay(session["id"])
    completed = event_payload("checkout.session.completed", session)
    post_webhook(client, completed)
    credits_spend(user, 300, order=Order.objects.create(user=user, style="virtual_tryon"))
    post_webhook(client, event_payload("charge.refunded", {**charge, "amount_refunded": 3900, "refunded": True}))
    assert credits_balance(user) == -300
    staff = User.objects.create_superuser(email="admin@example.com", password="pw-123456")
    client.force_login(staff)

    owing = client.get("/admin/billing/purchase/?owner_balance=negative").content.decode()
    assert session["id"] in owing and "-300" in owing
    assert session["id"] in client.get("/admin/billing/purchase/?q=buyer@example").content.decode()
    event_id = StripeEvent.objects.get(type="checkout.session.completed").event_id
    found = client.get(f"/admin/billing/stripeevent/?q={event_id}").content.decode()
    assert event_id in found and "granted 500 credits" in found
    assert "-300" in client.get("/admin/billing/creditbalance/").content.decode()
    # Another user with a positive balance is not listed as owing.
    other, other_session = start_purchase(client, stripe_on, email="fine@example.com")
    client.force_login(staff)
    assert other_session["id"] not in client.get("/admin/billing/purchase/?owner_balance=negative").content.decode()
