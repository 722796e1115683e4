"""Ctrl-C (SIGINT) and SIGTERM stop ``signal-monitor``, window and recorder, cleanly and soon."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zmq

from monitor_gui.core.recording import read_recording
from tests.e2e.support import ROOT, free_port, wait_until
from tests.monitor_gui.qt.scenario import Scenario

pytestmark = pytest.mark.e2e
STOP_WITHIN_S = 2.0  # the promise (issue 15); asserted with slack for a loaded machine below
EXIT_TIMEOUT_S = 30.0


def listening(port: int) -> bool:
    from demo_site.launcher import port_in_use

    return port_in_use("127.0.0.1", port)


def start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, int]:
    """``python -m monitor_gui ARGS --listen <free port>``, offscreen, its settings in tmp."""
    port = free_port()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path),
           "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("SIGNAL_MONITOR_ASK_TO_SAVE", None)  # the question must not block a signal
    proc = subprocess.Popen([sys.executable, "-m", "monitor_gui", *args, "--listen",
                             f"tcp://127.0.0.1:{port}"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, port


def wait_bound(proc: subprocess.Popen, port: int) -> None:
    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"exited early ({proc.returncode}): {proc.communicate()}")
        return listening(port)

    wait_until(up, "the monitor to listen")


def send_events(port: int, requests: int = 5) -> None:
    """Some dispatches, so the window holds unsaved events (the close question must not
    block a signal) and the recorder has something to flush."""
    context = zmq.Context()
    sock = context.socket(zmq.PUSH)
    sock.setsockopt(zmq.LINGER, 5000)
    sock.connect(f"tcp://127.0.0.1:{port}")
    scenario = Scenario()
    for frame in [scenario.frame([scenario.topology()]), *scenario.frames(requests)]:
        sock.send(frame)
    sock.close()
    context.term()


def stop_with(proc: subprocess.Popen, sig: signal.Signals) -> tuple[float, str]:
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=EXIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"still running {EXIT_TIMEOUT_S:g} s after {sig.name}:\n{err}")
    return time.monotonic() - sent, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_window_with_unsaved_events_exits_cleanly_on_a_signal(tmp_path, sig):
    proc, port = start(tmp_path)
    wait_bound(proc, port)
    send_events(port)
    took, err = stop_with(proc, sig)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    # 2 s is the promise; a loaded CI machine gets slack, a hang (the old SIGINT) does not.
    assert took < STOP_WITHIN_S * 5, f"{took:.1f} s"


def test_record_exits_cleanly_on_sigint_and_keeps_the_file(tmp_path):
    out = tmp_path / "run.jsonl"
    proc, port = start(tmp_path, "record", "--out", str(out))
    wait_bound(proc, port)
    send_events(port)
    wait_until(lambda: out.exists() and out.stat().st_size > 0, "events on disk", timeout=60)
    took, err = stop_with(proc, signal.SIGINT)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "recorded" in err, err
    assert took < STOP_WITHIN_S * 5, f"{took:.1f} s"
    assert sum(len(f.events) for f in read_recording(out)) > 0
