"""Secrets in URL paths: segments shaped like tokens are masked before a path leaves the app.

Django's password-reset link is ``/reset/<uidb64>/<token>/``: whoever reads the path can
reset the password. The probe never sends such a segment: a segment that looks like a
token, or like a long random string, is replaced by ``MASK`` (and the uidb64 before a
reset token with it), whatever the URL's name. ``SIGNAL_PROBE["REDACT_PATHS"]`` adds
patterns, each matched against whole segments. Plain Python regexes on the path of a
request, once per request and path (a path found clean is remembered): never on the
dispatch hot path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MASK = "********"
# PasswordResetTokenGenerator: "<timestamp in base 36>-<hash in hex>" (20 to 64 digits).
RESET_TOKEN = r"[0-9a-z]{1,13}-[0-9a-f]{20,64}"
# urlsafe_base64_encode(force_bytes(pk)): what precedes a reset token.
UIDB64 = re.compile(r"[A-Za-z0-9_-]{1,64}")
# 20+ characters of letters and digits mixed (random keys, UUIDs, signed values, hashes).
LONG_RANDOM = r"(?=[^/]*[0-9])(?=[^/]*[A-Za-z])[A-Za-z0-9_=.:-]{20,}"
_MAX_CLEAN = 4096


class PathRedactor:
    """``redactor(path)`` is ``path`` with secret-shaped segments masked."""

    def __init__(self, extra: Sequence[str] = ()) -> None:
        self.token = re.compile(RESET_TOKEN)
        patterns = [RESET_TOKEN, LONG_RANDOM, *extra]
        self.secret = re.compile("|".join(f"(?:{p})" for p in patterns))
        # Paths found to hold no secret: most requests ask for a few paths again and
        # again, and matching every segment costs ~1 µs a path (bounded; secret-shaped
        # paths are never kept).
        self._clean: dict[str, None] = {}

    def __call__(self, path: str) -> str:
        if path in self._clean:
            return path
        out = self._redact(path)
        if out == path:
            if len(self._clean) >= _MAX_CLEAN:
                self._clean.clear()
            self._clean[path] = None
        return out

    def _redact(self, path: str) -> str:
        if "/" not in path and not self.secret.fullmatch(path):
            return path
        segments = path.split("/")
        for i, segment in enumerate(segments):
            if segment and segment != MASK and self.secret.fullmatch(segment):
                segments[i] = MASK
                if i > 1 and self.token.fullmatch(segment) and UIDB64.fullmatch(segments[i - 1]):
                    segments[i - 1] = MASK  # the uidb64 of a reset link names the account
        return "/".join(segments)
