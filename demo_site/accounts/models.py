"""Models of the accounts app: a profile per user and an audit trail of logins."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class UserProfile(models.Model):
    """Extra data per user, created by a ``post_save`` receiver on the user model."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    bio = models.TextField(blank=True)
    login_count = models.PositiveIntegerField(default=0)
    last_login_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"profile of {self.user}"


class AuditEntry(models.Model):
    """One login, logout or failed login, written by signal receivers."""

    LOGIN = "login"
    LOGOUT = "logout"
    LOGIN_FAILED = "login_failed"
    ACTIONS = [(LOGIN, "login"), (LOGOUT, "logout"), (LOGIN_FAILED, "failed login")]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=ACTIONS)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.username} at {self.at:%Y-%m-%d %H:%M:%S}"
