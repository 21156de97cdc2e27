"""Idempotent first-run set-up for `make run`: site name, demo user, optional superuser."""

import os

from django.conf import settings
from django.contrib.sites.models import Site
from django.core.management.base import BaseCommand

from accounts.models import User

DEMO_EMAIL = "demo@example.com"


class Command(BaseCommand):
    help = "Create the demo user (first run) and, if DJANGO_SUPERUSER_EMAIL/PASSWORD are set, a superuser."

    def handle(self, *args, **options) -> None:
        Site.objects.update_or_create(
            id=settings.SITE_ID, defaults={"domain": os.environ.get("SITE_DOMAIN", "127.0.0.1:8000"), "name": "ftmv"}
        )
        self.create_superuser()
        demo, created = User.objects.get_or_create(email=DEMO_EMAIL)
        if created:
            demo.set_unusable_password()
            demo.save()
            self.stdout.write(self.style.SUCCESS(f"Created demo user {DEMO_EMAIL}."))

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
