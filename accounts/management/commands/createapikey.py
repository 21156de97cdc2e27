from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import apikey_create


class Command(BaseCommand):
    help = "Create an API key for a user and print it (it is shown only this once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="default")

    def handle(self, *args, email: str, name: str, **options) -> None:
        user = User.objects.filter(email=email.lower()).first()
        if user is None:
            raise CommandError(f"No user with e-mail {email}.")
        _, raw = apikey_create(user=user, name=name)
        self.stdout.write(raw)
