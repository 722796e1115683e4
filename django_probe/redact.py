"""Which keyword and key names are secrets: their values leave the process as a mask."""

from __future__ import annotations

import re

REDACTED = "********************"  # the same mask Django's error reporter uses

# Django's own rule for sensitive setting names (SafeExceptionReporterFilter.hidden_settings)
# plus names that carry sessions and cookies.
DJANGO_SENSITIVE = "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE"
EXTRA_SENSITIVE = "COOKIE|SESSION|CSRF|CREDENTIAL|PWD|PRIVATE|BEARER"
MAX_VERDICTS = 4096


class SensitiveNames:
    """``names(name)``: does ``name`` look like it holds a secret (case-insensitive)?"""

    __slots__ = ("pattern", "verdicts")

    def __init__(self, extra_pattern: str | None = None) -> None:
        pattern = f"{DJANGO_SENSITIVE}|{EXTRA_SENSITIVE}"
        if extra_pattern:
            pattern = f"{pattern}|{extra_pattern}"
        self.pattern = re.compile(pattern, re.IGNORECASE)
        # Keyword names come from a small, fixed vocabulary: remember each verdict
        # (bounded; the hot path reads this dict inline, see Describer.kwargs).
        self.verdicts: dict[str, bool] = {}

    def __call__(self, name: str) -> bool:
        verdict = self.verdicts.get(name)
        if verdict is None:
            verdict = bool(self.pattern.search(name))
            if len(self.verdicts) < MAX_VERDICTS:
                self.verdicts[name] = verdict
        return verdict
