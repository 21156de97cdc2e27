from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum

from accounts.models import User
from billing.models import CreditEntry
from billing.services import (
    InsufficientCredits,
    credits_balance,
    credits_grant,
    credits_purchase,
    credits_refund,
    credits_spend,
)
from tryon.models import Order


@pytest.fixture
def user(db):
    return User.objects.create_user(email="ledger@example.com")


def order_for(user, credits=1):
    return Order.objects.create(user=user, style="virtual_tryon", credits_used=credits)


def ledger_sum(user) -> int:
    return CreditEntry.objects.filter(user=user).aggregate(s=Sum("amount"))["s"] or 0


def test_grant_spend_refund(user):
    credits_grant(user, 5, reason="test")
    order = order_for(user)
    entry = credits_spend(user, 1, order=order)
    assert entry.amount == -1 and entry.balance_after == 4
    assert credits_balance(user) == 4
    refund = credits_refund(order)
    assert refund.amount == 1 and credits_balance(user) == 5
    assert credits_refund(order) is None  # exactly once
    assert ledger_sum(user) == credits_balance(user) == 5


def test_spend_beyond_balance_changes_nothing(user):
    credits_grant(user, 2, reason="test")
    with pytest.raises(InsufficientCredits) as info:
        credits_spend(user, 3, order=order_for(user, 3))
    assert (info.value.required, info.value.available) == (3, 2)
    assert credits_balance(user) == 2 and not CreditEntry.objects.filter(kind="spend").exists()


def test_refund_without_spend_is_nothing(user):
    assert credits_refund(order_for(user)) is None


def test_database_refuses_second_refund(user):
    credits_grant(user, 1, reason="t")
    order = order_for(user)
    credits_spend(user, 1, order=order)
    credits_refund(order)
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditEntry.objects.create(user=user, kind="refund", amount=1, balance_after=0, order=order)


def test_purchase_is_idempotent_and_makes_paid(user):
    assert user.plan == "free"
    assert credits_purchase(user, 100, reference="pi_123") is not None
    assert credits_purchase(user, 100, reference="pi_123") is None
    assert credits_balance(user) == 100
    user.refresh_from_db()
    assert user.plan == "paid"


def test_grant_must_be_positive(user):
    with pytest.raises(ValueError):
        credits_grant(user, 0, reason="t")
