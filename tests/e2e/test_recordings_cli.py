"""A real site recorded by a real recorder, then ``export --format otlp`` and ``diff``.

The demo site's probe streams over real sockets to ``signal-monitor record`` (a
subprocess); the recordings it writes are what the OTLP export and the diff read, as a
user runs them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from demo_site.seed import DEMO_USERS
from demo_site.traffic import Browser
from monitor_gui import cli
from tests.e2e.support import ROOT, free_port, wait_until
from tests.e2e.test_ctrl_c import stop_with, wait_bound

pytestmark = pytest.mark.e2e
TRACE, PARENT = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE}-{PARENT}-01"
LOGGED_IN = "django.contrib.auth.signals.user_logged_in"


class Recorder:
    """``signal-monitor record`` on one port, restarted for each recording."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path, self.port = tmp_path, free_port()
        self.endpoint = f"tcp://127.0.0.1:{self.port}"

    def record(self, name: str, site_url: Callable[[], str],
               visit: Callable[[Browser, str], object]) -> Path:
        """Record while ``visit(browser, marker_path)`` runs, until the marker request is
        on disk; the site's probe (re)connects to each new recorder by itself."""
        out = self.tmp_path / f"{name}.jsonl"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(self.tmp_path)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor_gui", "record", "--out", str(out), "--listen",
             self.endpoint], cwd=self.tmp_path, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        wait_bound(proc, self.port)
        browser = Browser(site_url())
        marker = f"/e2e-visit-{name}/"  # a 404, but its request_started carries the path

        def visited() -> bool:
            visit(browser, marker)
            return out.exists() and marker in out.read_text()

        wait_until(visited, f"the {name!r} visit on disk", timeout=60)
        _, err = stop_with(proc, signal.SIGINT)
        assert proc.returncode == 0, err
        return out


@pytest.fixture
def recorder(tmp_path):
    return Recorder(tmp_path)


@pytest.fixture
def site_url(recorder, start_site):
    sites = []

    def url() -> str:  # started by the first recording, once its recorder listens
        if not sites:
            sites.append(start_site(env={"SIGNAL_PROBE_ENDPOINT": recorder.endpoint}))
        return sites[0].base_url

    return url


def test_a_request_traceparent_reaches_the_otlp_export(recorder, site_url, tmp_path, capsys):
    def visit(browser: Browser, marker: str) -> None:
        browser.opener.addheaders = [("traceparent", TRACEPARENT)]
        browser.get(marker)

    recording = recorder.record("traced", site_url, visit)
    out = tmp_path / "spans.json"
    assert cli.main(["export", "--format", "otlp", str(recording), "--out", str(out)]) == 0
    spans = [span for line in out.read_text().splitlines()
             for rs in json.loads(line)["resourceSpans"]
             for ss in rs["scopeSpans"] for span in ss["spans"]]
    def path(span: dict) -> str | None:
        return next((a["value"]["stringValue"] for a in span["attributes"]
                     if a["key"] == "url.path"), None)

    # the site's own readiness checks carried no header: their requests keep derived traces
    traced = [s for s in spans if path(s) == "/e2e-visit-traced/"]
    assert {s["name"] for s in traced} >= {"request_started", "request_finished"}
    assert all(s["traceId"] == TRACE and s["parentSpanId"] == PARENT for s in traced)
    others = [s for s in spans if path(s) not in (None, "/e2e-visit-traced/")]
    assert others and all(s["traceId"] != TRACE for s in others)


def test_diff_of_two_real_runs_names_the_new_edges_and_fails(recorder, site_url, capsys):
    user = DEMO_USERS[0]
    before = recorder.record("home", site_url, lambda browser, marker: browser.get(marker))

    def log_in(browser: Browser, marker: str) -> None:
        assert browser.login(user.username, user.password)
        browser.get(marker)

    after = recorder.record("login", site_url, log_in)
    capsys.readouterr()
    assert cli.main(["diff", str(before), str(before)]) == 0
    capsys.readouterr()
    assert cli.main(["diff", "--json", str(before), str(after)]) == 1
    report = json.loads(capsys.readouterr().out)
    new = {(e["src"], e["dst"]) for e in report["changes"]["new-edges"]
           if e["kind"] == "signal->receiver"}
    assert (LOGGED_IN, "demo_site.accounts.signals.handlers.record_login") in new, new
    assert cli.main(["diff", "--fail-on", "none", str(before), str(after)]) == 0
