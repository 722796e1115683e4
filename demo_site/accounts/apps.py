"""App configuration of the accounts app: connects its signal handlers."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "demo_site.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Importing the module connects the @receiver-decorated handlers; ready() is the
        # documented place, so the connections exist before the first request.
        from demo_site.accounts.signals import handlers  # noqa: F401
