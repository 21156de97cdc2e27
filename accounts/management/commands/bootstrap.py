"""Idempotent first-run set-up for `make run`: site name, demo user, optional superuser."""

import os

from django.conf import settings
from django.contrib.sites.models import Site
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.services import apikey_create
from billing.services import credits_balance, credits_grant

DEMO_EMAIL = "demo@example.com"


class Command(BaseCommand):
    help = "Create the demo user (first run) and, if DJANGO_SUPERUSER_EMAIL/PASSWORD are set, a superuser."

    def handle(self, *args, **options) -> None:
        # E-mails (allauth) name the site by this domain: the real address (settings.SITE_DOMAIN).
        Site.objects.update_or_create(id=settings.SITE_ID, defaults={"domain": settings.SITE_DOMAIN, "name": "ftmv"})
        self.create_superuser()
        demo, created = User.objects.get_or_create(email=DEMO_EMAIL)
        if created:
            demo.set_unusable_password()
            demo.save()
            self.stdout.write(self.style.SUCCESS(f"Created demo user {DEMO_EMAIL}."))
        if not demo.api_keys.exists():
            self.create_demo_key(demo)

    def create_demo_key(self, demo: User) -> None:
        """First run only: demo credits and an API key, printed once (only its hash is stored)."""
        credits = int(os.environ.get("DEMO_CREDITS", "100"))
        with transaction.atomic():
            if credits > 0:
                credits_grant(demo, credits, reason="demo account")
            _, raw = apikey_create(user=demo, name="demo")
        base = settings.PUBLIC_BASE_URL
        line = "=" * 78
        self.stdout.write(
            self.style.SUCCESS(
                f"\n{line}\nDemo API key for {DEMO_EMAIL} ({credits_balance(demo)} credits); shown only this once:\n\n"
                f"    {raw}\n\n"
                f"Try it:  curl -H 'Authorization: Bearer {raw}' {base}/api/v1/account\n"
                f"Docs:    {base}/api/docs\n"
                f"Another key later: python manage.py createapikey {DEMO_EMAIL}\n{line}\n"
            )
        )

    def create_superuser(self) -> None:
        # Only when asked, and never with a default password.
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if not email:
            return
        if not password:
            self.stderr.write(
                "DJANGO_SUPERUSER_EMAIL is set but DJANGO_SUPERUSER_PASSWORD is not: no superuser created."
            )
            return
        if User.objects.filter(email=email.lower()).exists():
            return
        User.objects.create_superuser(email=email, password=password)
        self.stdout.write(self.style.SUCCESS(f"Created superuser {email}."))
