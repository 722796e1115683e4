"""Signal receivers of the accounts app, connected by AccountsConfig.ready()."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest

from demo_site.accounts.models import AuditEntry, UserProfile
from demo_site.accounts.signals import login_succeeded

log = logging.getLogger(__name__)


def client_ip(request: HttpRequest | None) -> str | None:
    """The peer address; the demo runs on loopback, so no proxy headers are trusted."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.create_profile")
def create_profile(sender: type, instance: Any, created: bool, raw: bool = False,
                   **kwargs: Any) -> None:
    """Give every new user a profile (skipped for fixture loading, where raw=True)."""
    if created and not raw:
        UserProfile.objects.get_or_create(user=instance)


@receiver(user_logged_in, dispatch_uid="accounts.record_login")
def record_login(sender: type, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Write an audit row for each successful login."""
    AuditEntry.objects.create(
        user=user, username=user.get_username(), action=AuditEntry.LOGIN, ip=client_ip(request)
    )


@receiver(user_logged_out, dispatch_uid="accounts.record_logout")
def record_logout(sender: type, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Write an audit row for each logout (user is None if the session had no user)."""
    AuditEntry.objects.create(
        user=user,
        username=user.get_username() if user is not None else "",
        action=AuditEntry.LOGOUT,
        ip=client_ip(request),
    )


@receiver(user_login_failed, dispatch_uid="accounts.record_login_failure")
def record_login_failure(sender: str, credentials: dict[str, Any],
                         request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Audit a failed login. Only the username is kept: the password never reaches a row."""
    username = str(credentials.get("username", ""))[:150]
    AuditEntry.objects.create(
        username=username, action=AuditEntry.LOGIN_FAILED, ip=client_ip(request)
    )
    log.info("failed login for %r", username)


@receiver(login_succeeded, dispatch_uid="accounts.count_login")
def count_login(sender: type, user: Any, timestamp: datetime, **kwargs: Any) -> None:
    """Keep a login counter on the profile (its save nests a post_save under this signal)."""
    profile, _ = UserProfile.objects.get_or_create(user=user)
    profile.login_count += 1
    profile.last_login_at = timestamp
    profile.save(update_fields=["login_count", "last_login_at"])
