from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from billing.services import credits_balance, credits_grant


class Command(BaseCommand):
    help = "Grant N credits to a user (recorded in the ledger as a grant)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("amount", type=int)
        parser.add_argument("--reason", default="manual grant")

    def handle(self, *args, email: str, amount: int, reason: str, **options) -> None:
        if amount <= 0:
            raise CommandError("N must be a positive number of credits.")
        user = User.objects.filter(email=email.lower()).first()
        if user is None:
            raise CommandError(f"No user with e-mail {email}.")
        with transaction.atomic():
            credits_grant(user, amount, reason=reason)
        self.stdout.write(f"Granted {amount} credits to {user.email}; balance {credits_balance(user)}.")
