from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    # allauth's e-mail addresses are "Accounts" in the admin too: two sidebar sections of one name.
    verbose_name = "Users and API keys"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the sign-up grant
