"""The demo launcher: display detection, and ``demo --no-monitor`` starting and stopping cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from demo_site.launcher import display_available
from tests.e2e.support import ROOT, free_port, site_env


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({}, "linux", False),
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", False),
        ({}, "darwin", True),
        ({}, "win32", True),
    ],
)
def test_display_available(environ, platform, expected):
    assert display_available(environ, platform) is expected


@pytest.mark.e2e
def test_demo_without_monitor_serves_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "demo_site", "demo", "--no-monitor", "--port", str(port)],
        cwd=ROOT, env=site_env(tmp_path / "demo.sqlite3", SIGNAL_PROBE_ENABLED="0"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        # The launcher prints the invitation only once the site answers HTTP.
        for line in proc.stdout:
            if "Open http://" in line:
                break
        else:
            pytest.fail("the launcher exited before the site came up")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10) as r:
            assert r.status == 200
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    assert proc.returncode == 0, output
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
