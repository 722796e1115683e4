"""``python -m demo_site setup``: migrate the demo database and create the demo users."""

from __future__ import annotations

import os
from typing import NamedTuple


class DemoUser(NamedTuple):
    username: str
    password: str
    superuser: bool


# Public on purpose: the demo listens on loopback only and these are printed at startup.
DEMO_USERS = (
    DemoUser("demo", "demo-password-123", True),
    DemoUser("alice", "alice-password-123", False),
    DemoUser("bob", "bob-password-123", False),
)


def ensure_users() -> list[str]:
    """Create the demo users, or reset their passwords; return what changed (idempotent)."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    changed = []
    for demo in DEMO_USERS:
        user, created = user_model.objects.get_or_create(
            username=demo.username,
            defaults={"is_staff": demo.superuser, "is_superuser": demo.superuser,
                      "email": f"{demo.username}@example.invalid"},
        )
        if created or not user.check_password(demo.password):
            user.set_password(demo.password)
            user.save()
            changed.append(f"{'created' if created else 'reset password of'} {demo.username}")
    return changed


def run_setup(verbosity: int = 1) -> None:
    """Migrate and seed. The probe is off here: setup is bookkeeping, not the demo."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")
    os.environ.setdefault("SIGNAL_PROBE_ENABLED", "0")
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=verbosity)
    for line in ensure_users():
        print(f"  {line}")
    print(f"Demo database: {settings.DATABASES['default']['NAME']}")
    print("Log in with:")
    for demo in DEMO_USERS:
        role = " (superuser, can use /admin/)" if demo.superuser else ""
        print(f"  {demo.username} / {demo.password}{role}")
