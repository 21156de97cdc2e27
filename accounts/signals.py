"""Sign-up hook: allauth's user_signed_up triggers the free-credit grant (the service does the work)."""

from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from .services import signup_grant


@receiver(user_signed_up, dispatch_uid="accounts.signup_grant")
def grant_signup_credits(sender, request, user, **kwargs) -> None:
    signup_grant(user=user)
