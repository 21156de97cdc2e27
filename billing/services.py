"""The credit ledger. Every movement is a CreditEntry plus an update of the user's CreditBalance
row, made while that row is locked, so concurrent spends cannot overdraw.

Callers run these inside a transaction (``transaction.atomic``); they open their own
atomic block too, so they are safe on their own.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import IntegrityError, transaction

from core.metrics import CREDITS_REFUNDED, CREDITS_SPENT, after_commit

from .models import CreditBalance, CreditEntry

# The ledger sits below the apps that use it: it reaches the user model through AUTH_USER_MODEL (Django's
# way for an app to refer to it) and the order through what it needs of one, importing neither app.
User = AbstractUser


class Order(Protocol):
    """What the ledger needs of an order (a tryon.models.Order): its id and its owner's."""

    @property
    def pk(self) -> Any: ...

    @property
    def user_id(self) -> int: ...


class InsufficientCredits(Exception):
    def __init__(self, required: int, available: int):
        super().__init__(f"{required} credits required, {available} available")
        self.required = required
        self.available = available


def _locked_balance(user_id: int) -> CreditBalance:
    CreditBalance.objects.get_or_create(user_id=user_id)
    return CreditBalance.objects.select_for_update().get(user_id=user_id)


def _post(
    user_id: int, amount: int, *, kind: str, order_id: int | None = None, reason: str = "", reference: str = ""
) -> CreditEntry:
    with transaction.atomic():
        balance = _locked_balance(user_id)
        if kind == CreditEntry.Kind.REVERSAL:
            # A refunded purchase's credits may already be spent: the balance may go below zero, but
            # never by more than reversals took in all (the database checks that bound).
            balance.reversed_total -= amount
        elif amount < 0 and balance.balance + amount < 0:
            # Only taking credits can overdraw; adding to a negative balance must work.
            raise InsufficientCredits(-amount, balance.balance)
        balance.balance += amount
        balance.save(update_fields=["balance", "reversed_total", "updated_at"])
        entry = CreditEntry.objects.create(
            user_id=user_id,
            kind=kind,
            amount=amount,
            balance_after=balance.balance,
            order_id=order_id,
            reason=reason[:200],
            reference=reference[:200],
        )
        if kind == CreditEntry.Kind.SPEND:
            after_commit(lambda: CREDITS_SPENT.inc(-amount))
        elif kind == CreditEntry.Kind.REFUND:
            after_commit(lambda: CREDITS_REFUNDED.inc(amount))
        return entry


def credits_balance(user: User) -> int:
    return CreditBalance.objects.filter(user_id=user.pk).values_list("balance", flat=True).first() or 0


def credits_refunded(order: Order) -> int:
    """Credits given back for ``order`` (from the ledger, not assumed)."""
    refunds = CreditEntry.objects.filter(order_id=order.pk, kind=CreditEntry.Kind.REFUND)
    return sum(refunds.values_list("amount", flat=True))


def credits_grant(user: User, amount: int, *, reason: str) -> CreditEntry:
    """Free credits (sign-up, support, promotions)."""
    if amount <= 0:
        raise ValueError("a grant must be positive")
    return _post(user.pk, amount, kind=CreditEntry.Kind.GRANT, reason=reason)


def credits_purchase(user: User, amount: int, *, reference: str, reason: str = "purchase") -> CreditEntry | None:
    """Paid credits. ``reference`` (e.g. the payment id) is unique: a replay adds nothing and returns None.
    The first purchase moves the account to the paid plan."""
    if amount <= 0:
        raise ValueError("a purchase must be positive")
    if not reference:
        raise ValueError("a purchase needs its payment reference")
    try:
        with transaction.atomic():
            entry = _post(user.pk, amount, kind=CreditEntry.Kind.PURCHASE, reason=reason, reference=reference)
    except IntegrityError:
        if CreditEntry.objects.filter(kind=CreditEntry.Kind.PURCHASE, reference=reference).exists():
            return None
        raise
    get_user_model()._default_manager.filter(pk=user.pk).exclude(plan="paid").update(plan="paid")
    user.refresh_from_db(fields=["plan"])
    return entry


def credits_reverse(user: User, amount: int, *, reference: str, reason: str) -> CreditEntry:
    """Take back ``amount`` credits of a refunded purchase. Credits already spent cannot be taken back,
    so the balance may go negative: the customer owes them, and the next purchase settles it first."""
    if amount <= 0:
        raise ValueError("a reversal must be positive")
    return _post(user.pk, -amount, kind=CreditEntry.Kind.REVERSAL, reason=reason, reference=reference)


def credits_spend(user: User, amount: int, *, order: Order) -> CreditEntry:
    """Take ``amount`` credits for ``order``; raises InsufficientCredits (nothing taken) when short."""
    if amount <= 0:
        raise ValueError("a spend must be positive")
    return _post(user.pk, -amount, kind=CreditEntry.Kind.SPEND, order_id=order.pk, reason=f"order {order.pk}")


def credits_refund(order: Order) -> CreditEntry | None:
    """Give back what ``order`` was charged, at most once (later calls return None)."""
    with transaction.atomic():
        # The balance lock serialises refunds of one user; the unique constraint backs it up.
        _locked_balance(order.user_id)
        spent = list(
            CreditEntry.objects.filter(order_id=order.pk, kind=CreditEntry.Kind.SPEND).values_list("amount", flat=True)
        )
        if not spent or CreditEntry.objects.filter(order_id=order.pk, kind=CreditEntry.Kind.REFUND).exists():
            return None
        try:
            with transaction.atomic():
                return _post(
                    order.user_id,
                    -spent[0],
                    kind=CreditEntry.Kind.REFUND,
                    order_id=order.pk,
                    reason=f"order {order.pk} failed",
                )
        except IntegrityError:
            return None
