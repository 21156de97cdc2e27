"""Billing fixtures: a local fake of the Stripe API (see stripe_fake.py)."""

from .stripe_fake import fake_stripe, stripe_on  # noqa: F401 - fixtures
