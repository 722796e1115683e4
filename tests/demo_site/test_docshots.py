"""``python -m demo_site docshots``: two real recordings, their diff and OTLP pictures."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

import pytest

from monitor_gui import cli
from tests.e2e.support import ROOT, site_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_docshots_records_two_runs_and_draws_the_diff_and_a_login_trace(tmp_path, capsys):
    runs = tmp_path / "runs"
    env = site_env(tmp_path / "unused.sqlite3", QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-m", "demo_site", "docshots", "--out-dir", str(tmp_path),
         "--keep", str(runs), "--rounds", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "spans of the trace of user_logged_in" in result.stdout
    for name in ("screenshot-diff.png", "screenshot-otlp.png"):
        header = (tmp_path / name).read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", (tmp_path / "screenshot-diff.png").read_bytes()[16:24]) == (
        1600, 1000)
    # The pictures show what `signal-monitor diff` says of the kept recordings.
    capsys.readouterr()
    assert cli.main(["diff", "--json", str(runs / "before.jsonl"),
                     str(runs / "after.jsonl")]) == 1
    report = json.loads(capsys.readouterr().out)
    errors = {e["dst"] for e in report["changes"]["new-errors"]}
    assert "demo_site.articles.receivers.notify_webhook" in errors
    assert report["changes"]["new-edges"]
    assert (runs / "after.otlp.json").stat().st_size > 0
