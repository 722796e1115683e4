"""Request paths lose their secret-shaped segments (issue 15: a reset link's token)."""

from __future__ import annotations

import pytest

from django_probe import runtime
from django_probe.conf import ProbeConfig
from django_probe.conf_values import value_problem
from django_probe.paths import MASK, PathRedactor
from tests.django_probe.support import start_recording

TOKEN = "c4xk2f-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"  # PasswordResetTokenGenerator's shape


@pytest.mark.parametrize("path,shown", [
    (f"/reset/MQ/{TOKEN}/", f"/reset/{MASK}/{MASK}/"),
    ("/reset/MQ/set-password/", "/reset/MQ/set-password/"),  # Django's own next step
    ("/articles/12/edit/", "/articles/12/edit/"),
    ("/api/keys/sk_live_51HxYz9aBcDeFgHiJkLmNo/", f"/api/keys/{MASK}/"),
    ("/users/3f2b1c9e-8a7d-4e6f-9b0a-1c2d3e4f5a6b/", f"/users/{MASK}/"),
    ("/blog/a-long-readable-title-of-a-post/", "/blog/a-long-readable-title-of-a-post/"),
    ("/static/css/app.css", "/static/css/app.css"),
    ("/", "/"), ("", ""),
])
def test_secret_shaped_segments_are_masked(path, shown):
    assert PathRedactor()(path) == shown


def test_patterns_of_the_settings_are_added_to_the_built_in_ones():
    redact = PathRedactor([r"invite-\w+"])
    assert redact("/join/invite-abc/") == f"/join/{MASK}/"
    assert redact(f"/reset/MQ/{TOKEN}/") == f"/reset/{MASK}/{MASK}/"  # never replaced


def test_the_setting_is_checked():
    assert value_problem("REDACT_PATHS", "invite-.*") is not None  # one string, not a list
    assert "not a valid regular expression" in value_problem("REDACT_PATHS", ["(unclosed"])
    assert value_problem("REDACT_PATHS", [r"invite-\w+"]) is None


@pytest.mark.django_db
def test_a_reset_link_never_leaves_the_process(client):
    _probe, events = start_recording(ProbeConfig(redact_paths=(r"invite-\w+",)))
    try:
        client.get(f"/reset/MQ/{TOKEN}/")
        client.get("/join/invite-abc/")
    finally:
        runtime.stop()
    paths = [e.request.path for e in events if e.kind == "D" and e.request is not None]
    assert f"/reset/{MASK}/{MASK}/" in paths and f"/join/{MASK}/" in paths
    leaks = [e for e in events if TOKEN in repr(e) or "invite-abc" in repr(e)]
    assert not leaks, leaks


def test_clean_paths_are_remembered_and_secret_ones_never(monkeypatch):
    from django_probe import paths

    monkeypatch.setattr(paths, "_MAX_CLEAN", 3)
    redact = paths.PathRedactor()
    token = "/reset/MQ/c4x2zt-0123456789abcdef0123456789abcdef/"
    for _ in range(2):
        assert redact("/articles/12/edit/") == "/articles/12/edit/"
        assert redact(token) == f"/reset/{paths.MASK}/{paths.MASK}/"
    assert list(redact._clean) == ["/articles/12/edit/"]  # the secret path is not kept
    for i in range(5):  # bounded: full, it starts over
        redact(f"/p/{i}/")
    assert len(redact._clean) <= 3 and redact("/p/4/") == "/p/4/"
