"""Custom signals of the accounts app."""

from django.dispatch import Signal

# Sent by the login view after a successful login, with ``user`` and ``timestamp``.
# Django's own ``user_logged_in`` fires inside auth.login(); this one is ours, to show a
# project-defined signal next to the built-in ones in the monitor.
login_succeeded = Signal()
