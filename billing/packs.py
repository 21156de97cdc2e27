"""Credit packs: what can be bought, from settings.CREDIT_PACKS (overridable as JSON in the environment)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class CreditPack:
    code: str
    name: str
    credits: int
    price_cents: int

    @property
    def price(self) -> str:
        """The price as a human string, e.g. "39.00 USD"."""
        return f"{self.price_cents / 100:.2f} {settings.STRIPE_CURRENCY.upper()}"

    @property
    def cents_per_credit(self) -> float:
        return self.price_cents / self.credits


def credit_packs() -> list[CreditPack]:
    """The configured packs, validated (a broken configuration fails loudly, not at payment time)."""
    packs = []
    for raw in settings.CREDIT_PACKS:
        try:
            pack = CreditPack(
                code=str(raw["code"]),
                name=str(raw.get("name") or f"{raw['credits']} credits"),
                credits=int(raw["credits"]),
                price_cents=int(raw["price_cents"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ImproperlyConfigured(f"CREDIT_PACKS: bad pack {raw!r}: {exc}") from exc
        # Stripe's smallest charge is about 50 cents in most currencies.
        if not pack.code.isidentifier() or pack.credits <= 0 or pack.price_cents < 50:
            raise ImproperlyConfigured(f"CREDIT_PACKS: bad pack {raw!r}")
        packs.append(pack)
    if len({p.code for p in packs}) != len(packs):
        raise ImproperlyConfigured("CREDIT_PACKS: pack codes must be unique")
    return packs


def credit_pack(code: str) -> CreditPack | None:
    return next((p for p in credit_packs() if p.code == code), None)
