"""``python -m demo_site traffic`` against a running site, with the probe on and no monitor."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.e2e.support import ROOT

pytestmark = pytest.mark.e2e


def test_traffic_runs_rounds_without_errors_while_no_monitor_listens(start_site, tmp_path):
    # The probe is enabled (the settings default) but nothing listens on its endpoint:
    # the site must behave exactly as without it.
    site = start_site(env={"SIGNAL_PROBE_ENDPOINT": "tcp://127.0.0.1:9"})
    result = subprocess.run(
        [sys.executable, "-m", "demo_site", "traffic", "--base-url", site.base_url,
         "--count", "3", "--seed", "7", "--pause", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "done: 3 rounds" in result.stderr
    assert ", 0 errors" in result.stderr
    assert "3 logins" in result.stderr and "3 articles" in result.stderr
    assert " 500 " not in site.log()


def test_concurrent_visitors_make_exactly_the_rounds_asked_for(start_site):
    site = start_site(env={"SIGNAL_PROBE_ENABLED": "0"})
    result = subprocess.run(
        [sys.executable, "-m", "demo_site", "traffic", "--base-url", site.base_url,
         "--count", "7", "--concurrency", "3", "--seed", "1", "--pause", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "with 3 visitor(s)" in result.stderr
    assert "done: 7 rounds" in result.stderr and "7 logins" in result.stderr
    assert ", 0 errors" in result.stderr


def test_traffic_reports_errors_when_the_site_is_down(tmp_path):
    from tests.e2e.support import free_port

    result = subprocess.run(
        [sys.executable, "-m", "demo_site", "traffic", "--base-url",
         f"http://127.0.0.1:{free_port()}", "--count", "2", "--pause", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "2 errors" in result.stderr


def test_mixes_log_in_only_or_write_articles_without_wrong_passwords(start_site):
    site = start_site(env={"SIGNAL_PROBE_ENABLED": "0"})

    def drive(mix: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "demo_site", "traffic", "--base-url", site.base_url,
             "--count", "6", "--seed", "1", "--pause", "0", "--mix", mix],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stderr.rsplit("done: ", 1)[-1]

    logins = drive("logins")
    assert "6 logins" in logins and "0 articles" in logins and ", 0 errors" in logins
    assert "0 failed logins" not in logins  # seed 1: a wrong password comes first sometimes
    articles = drive("articles")
    assert "6 articles" in articles and "0 failed logins" in articles
