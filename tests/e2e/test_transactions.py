"""Transactions end to end: the demo site (a real Django process with the probe) creates an
article (autocommit), commits an edit and rolls one back; the monitor core, live and from
the recorder's file, sees each dispatch's transaction and each on_commit email's fate."""

from __future__ import annotations

import re
import signal

import pytest

from demo_site.traffic import Browser
from django_probe import wire
from monitor_gui.core.query import Filter
from monitor_gui.core.recording import read_recording
from monitor_gui.core.state import MonitorState
from tests.e2e.support import wait_until
from tests.e2e.test_ctrl_c import start, stop_with, wait_bound

pytestmark = pytest.mark.e2e

POST_SAVE = "django.db.models.signals.post_save"
QUEUED_AT = "demo_site/articles/receivers.py"


def create_commit_rollback(base_url: str) -> None:
    browser = Browser(base_url)
    assert browser.login("demo", "demo-password-123")
    page = browser.submit("/articles/new/", {"title": "Created", "body": "x"})
    pk = re.search(r"/articles/(\d+)/$", page.url).group(1)
    page = browser.submit(f"/articles/{pk}/edit/", {"title": "Committed", "body": "y"})
    assert "Saved" in page.body
    page = browser.submit(f"/articles/{pk}/edit/",
                          {"title": "Rolled back", "body": "z", "simulate_failure": "on"})
    assert "the edit was rolled back" in page.body


def article_saves(state: MonitorState) -> list:
    store = state.store
    rows = [store.row(i) for i in range(store.first, store.end)]
    return sorted((r for r in rows if r.signal == POST_SAVE and r.sender == "articles.Article"),
                  key=lambda r: r.ts)


def all_fates_known(state: MonitorState) -> bool:
    """The three saves, their emails' fates and the rollback of the failed edit."""
    saves = article_saves(state)
    return len(saves) == 3 and all(len(r.callbacks) == 1 for r in saves) and saves[2].rolled_back


def check(state: MonitorState) -> None:
    created, committed, rolled_back = article_saves(state)
    assert created.tx is None  # no ATOMIC_REQUESTS: autocommit
    assert committed.tx[:2] == rolled_back.tx[:2] == ("default", 1)
    fates = [(r.callbacks[0].depth, r.callbacks[0].outcome) for r in (created, committed,
                                                                       rolled_back)]
    assert fates == [(0, wire.RETURNED), (1, wire.RETURNED), (1, wire.DISCARDED)]
    for row in (created, committed, rolled_back):
        (cb,) = row.callbacks
        assert "send_article_email" in cb.name and cb.alias == "default"
        assert cb.site.file.endswith(QUEUED_AT) and cb.site.func == "queue_article_email"
        assert cb.dispatch == row.id
    assert committed.callbacks[0].dur > 0 and rolled_back.callbacks[0].dur == 0
    inside = state.select(Filter(tx="inside")).tolist()
    assert {committed.row, rolled_back.row} <= set(inside) and created.row not in inside
    # Every dispatch inside the failed edit's transaction is marked rolled back (its
    # post_save and whatever else ran in it), none of the committed edit's.
    store = state.store
    rows = [store.row(i) for i in range(store.first, store.end)]

    def in_tx_of(request):
        return [r for r in rows if r.tx and r.request and r.request.id == request.id]

    undone = [r.row for r in in_tx_of(rolled_back.request)]
    assert rolled_back.row in undone and all(store.row(r).rolled_back for r in undone)
    assert not any(r.rolled_back for r in in_tx_of(committed.request))
    assert not created.rolled_back
    assert state.select(Filter(tx="discarded")).tolist() == undone


@pytest.mark.parametrize("server", ["runserver", "uvicorn"], ids=["wsgi", "asgi"])
def test_live_monitor_sees_commit_and_rollback(monitor, start_site, server):
    # ASGI runs the views in asgiref's worker threads: the connections are theirs.
    site = start_site(server=server, env={"SIGNAL_PROBE_ENDPOINT": monitor.endpoint})
    monitor.wait_for(lambda s: len(s.processes) == 1, "the site's probe to connect")
    create_commit_rollback(site.base_url)
    monitor.wait_for(all_fates_known, "three article saves and their emails' fates")
    check(monitor.state)
    assert site.stop() == 0


def test_a_recording_of_the_site_shows_commit_and_rollback(tmp_path, start_site):
    out = tmp_path / "tx.jsonl"
    recorder, port = start(tmp_path, "record", "--out", str(out))
    wait_bound(recorder, port)
    site = start_site(env={"SIGNAL_PROBE_ENDPOINT": f"tcp://127.0.0.1:{port}"})
    create_commit_rollback(site.base_url)

    def recorded() -> bool:
        if not out.exists():
            return False
        state = MonitorState(capacity=10_000)
        state.apply(list(read_recording(out)))
        return all_fates_known(state)

    wait_until(recorded, "the recorder to write the saves and their emails' fates", timeout=60)
    _took, err = stop_with(recorder, signal.SIGINT)
    assert recorder.returncode == 0, err
    state = MonitorState(capacity=10_000)
    state.apply(list(read_recording(out)))
    check(state)
    assert site.stop() == 0
