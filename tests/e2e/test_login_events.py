"""A login over real HTTP, seen by the real monitor core: every expected dispatch, in order."""

from __future__ import annotations

import pytest

from demo_site.seed import DEMO_USERS
from demo_site.traffic import Browser
from tests.e2e.monitor import frames_contain

pytestmark = pytest.mark.e2e

REQUEST_STARTED = "django.core.signals.request_started"
REQUEST_FINISHED = "django.core.signals.request_finished"
PRE_SAVE = "django.db.models.signals.pre_save"
POST_SAVE = "django.db.models.signals.post_save"
USER_LOGGED_IN = "django.contrib.auth.signals.user_logged_in"
USER_LOGIN_FAILED = "django.contrib.auth.signals.user_login_failed"
LOGIN_SUCCEEDED = "demo_site.accounts.signals.login_succeeded"
HANDLERS = "demo_site/accounts/signals/handlers.py"
WRONG_PASSWORD = "wrong-pass-e2e-7f3a9c"


def finished_request_of(monitor, signal: str):
    """The request id of the first ``signal`` row whose request_finished has arrived."""
    rows = monitor.rows()
    finished = {row.request.id for row in rows if row.signal == REQUEST_FINISHED and row.request}
    for row in rows:
        if row.signal == signal and row.request and row.request.id in finished:
            return row.request.id
    return None


def is_subsequence(expected: list[tuple[str, str | None]], rows) -> bool:
    it = iter((row.signal, row.sender) for row in rows)
    return all(any(sig == s and (sender is None or sender == snd) for s, snd in it)
               for sig, sender in expected)


@pytest.fixture
def logged_in(monitor, start_site):
    """The site reporting to the monitor; one failed and one successful login as demo."""
    site = start_site(env={"SIGNAL_PROBE_ENDPOINT": monitor.endpoint})
    monitor.wait_for(lambda state: len(state.processes) >= 1, "the site's probe to connect")
    browser = Browser(site.base_url)
    assert not browser.login(DEMO_USERS[0].username, WRONG_PASSWORD)
    assert browser.login(DEMO_USERS[0].username, DEMO_USERS[0].password)
    monitor.wait_for(lambda state: finished_request_of(monitor, LOGIN_SUCCEEDED) is not None,
                     "the login request to finish")
    monitor.wait_for(lambda state: finished_request_of(monitor, USER_LOGIN_FAILED) is not None,
                     "the failed login request to finish")
    return browser


def test_login_dispatches_arrive_with_one_request_id_in_order(monitor, logged_in):
    request_id = finished_request_of(monitor, LOGIN_SUCCEEDED)
    rows = sorted((r for r in monitor.rows() if r.request and r.request.id == request_id),
                  key=lambda r: r.id)  # ids are taken when a dispatch starts
    assert len({row.proc_key for row in rows}) == 1
    assert [row.ts for row in rows] == sorted(row.ts for row in rows)
    assert (rows[0].signal, rows[-1].signal) == (REQUEST_STARTED, REQUEST_FINISHED)
    assert (rows[0].request.method, rows[0].request.path) == ("POST", "/accounts/login/")
    expected = [
        (REQUEST_STARTED, None),
        (PRE_SAVE, "sessions.Session"),  # login() cycles the session key: a new row
        (POST_SAVE, "sessions.Session"),
        (USER_LOGGED_IN, "auth.User"),
        (LOGIN_SUCCEEDED, "demo_site.accounts.views.DemoLoginView"),
        (REQUEST_FINISHED, None),
    ]
    assert is_subsequence(expected, rows), [(r.signal, r.sender) for r in rows]


def test_user_logged_in_and_login_succeeded_receivers_and_call_sites(monitor, logged_in):
    request_id = finished_request_of(monitor, LOGIN_SUCCEEDED)
    rows = [r for r in monitor.rows() if r.request and r.request.id == request_id]
    (logged,) = [r for r in rows if r.signal == USER_LOGGED_IN]
    assert [rc.name for rc in logged.receivers] == ["update_last_login", "record_login"]
    assert all(rc.outcome == "returned" for rc in logged.receivers)
    assert logged.receivers[1].file.endswith(HANDLERS)
    assert logged.site.file.endswith("django/contrib/auth/__init__.py")  # auth.login()

    (succeeded,) = [r for r in rows if r.signal == LOGIN_SUCCEEDED]
    assert succeeded.site.file.endswith("demo_site/accounts/views.py")
    assert succeeded.site.func == "form_valid"
    assert [(rc.name, rc.outcome) for rc in succeeded.receivers] == [("count_login", "returned")]
    assert succeeded.receivers[0].file.endswith(HANDLERS)
    assert set(succeeded.kwargs) == {"user", "timestamp"}

    # Saves made by receivers are nested under the dispatch that called them.
    user_saves = [r for r in rows if r.signal == POST_SAVE and r.parent == logged.id]
    # update_last_login saves the user, then record_login writes the audit row.
    assert [r.sender for r in user_saves] == ["auth.User", "accounts.AuditEntry"]
    assert user_saves[0].depth == 1 and user_saves[0].parent_row == logged.row
    profile_saves = [r for r in rows if r.signal == POST_SAVE and r.parent == succeeded.id]
    assert [r.sender for r in profile_saves] == ["accounts.UserProfile"]  # count_login


def test_failed_login_credentials_arrive_redacted(monitor, logged_in):
    request_id = finished_request_of(monitor, USER_LOGIN_FAILED)
    (failed,) = [r for r in monitor.rows()
                 if r.signal == USER_LOGIN_FAILED and r.request.id == request_id]
    assert [rc.name for rc in failed.receivers] == ["record_login_failure"]
    assert "credentials" in failed.kwargs
    assert WRONG_PASSWORD not in failed.kwargs["credentials"]
    # Nothing that left the Django process contains a password or the session key.
    assert not frames_contain(monitor.raw, WRONG_PASSWORD)
    assert not frames_contain(monitor.raw, DEMO_USERS[0].password)
    session_keys = [c.value for c in logged_in.cookies if c.name == "sessionid"]
    assert session_keys and not frames_contain(monitor.raw, session_keys[0])


def test_secrets_in_the_wsgi_environ_are_redacted(monitor, start_site):
    secret = "s3cr3t-e2e-token-value-91"
    site = start_site(env={"DEMO_API_TOKEN": secret, "SIGNAL_PROBE_ENDPOINT": monitor.endpoint})
    monitor.wait_for(lambda state: len(state.processes) == 1, "the site's probe to connect")
    Browser(site.base_url).get("/accounts/login/")
    # The environ is summarised by its request line; no value of it leaves the process
    # (the raw frames are searched, so a leak anywhere in an event fails this test).
    # The readiness probe's GET / is a request too: wait for the login page's own.
    line = "<WSGI environ GET /accounts/login/ ("
    monitor.wait_for(
        lambda state: any(row.kwargs["environ"].startswith(line)
                          for row in monitor.rows_of(REQUEST_STARTED)),
        "the login page's request_started")
    summaries = [row.kwargs["environ"] for row in monitor.rows_of(REQUEST_STARTED)]
    assert not any(secret in text for text in summaries)
    assert not frames_contain(monitor.raw, secret)
