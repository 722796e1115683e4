"""``python -m demo_site screenshot``: the real window, offscreen, fed by real demo traffic."""

from __future__ import annotations

import struct
import subprocess
import sys

import pytest

from tests.e2e.support import ROOT, site_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_screenshot_writes_a_png_of_the_window_after_traffic(tmp_path):
    out = tmp_path / "shot.png"
    env = site_env(tmp_path / "unused.sqlite3", QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-m", "demo_site", "screenshot", "--out", str(out), "--rounds", "2",
         "--size", "900x640"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "2 rounds" in result.stdout and "0 errors" in result.stdout
    dispatches = int(result.stdout.split("; ")[-1].split()[0])
    assert dispatches > 50  # two rounds of logins and articles, all received by the window
    header = out.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    assert (width, height) == (900, 640)
