"""``python -m demo_site demo``: display detection, the headless recorder path, the window path,
and Ctrl-C stopping everything."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import psutil
import pytest

from demo_site.launcher import _endpoint_taken, display_available, port_in_use
from demo_site.seed import DEMO_USERS
from demo_site.traffic import Browser
from monitor_gui.core.recording import read_recording
from tests.e2e.support import free_port, site_env, wait_until

LOGIN_SUCCEEDED = "demo_site.accounts.signals.login_succeeded"


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


class Demo:
    """The launcher as a user runs it, in its own process group (so Ctrl-C can be sent)."""

    def __init__(self, tmp_path: Path, *args: str, display: str | None,
                 endpoint: str | None = None) -> None:
        self.port = free_port()
        self.endpoint = endpoint or f"tcp://127.0.0.1:{free_port()}"
        env = site_env(tmp_path / "demo.sqlite3")
        for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
            env.pop(name, None)
        if display is not None:
            env["QT_QPA_PLATFORM"] = display
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "demo_site", "demo", "--port", str(self.port),
             "--endpoint", self.endpoint, *args],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )
        self.output: list[str] = []

    def wait_started(self) -> None:
        """Read the launcher's output until it invites the user in (the site answers then)."""
        for line in self.proc.stdout:
            self.output.append(line)
            if "Open http://" in line:
                return
        pytest.fail("the launcher exited before the site came up:\n" + "".join(self.output))

    def ctrl_c(self) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        rest, _ = self.proc.communicate(timeout=60)
        self.output.append(rest)
        return self.proc.returncode

    def text(self) -> str:
        return "".join(self.output)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture
def run_demo(tmp_path):
    demos: list[Demo] = []

    def run(*args: str, display: str | None = None) -> Demo:
        demo = Demo(tmp_path, *args, display=display)
        demos.append(demo)
        demo.wait_started()
        return demo

    yield run
    for demo in demos:
        demo.kill()


def port_closed(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
    except OSError:
        return True
    return False


@pytest.mark.e2e
def test_demo_without_monitor_serves_and_stops_on_ctrl_c(run_demo):
    demo = run_demo("--no-monitor")
    with urllib.request.urlopen(f"http://127.0.0.1:{demo.port}/accounts/login/", timeout=10) as r:
        assert r.status == 200
    assert demo.ctrl_c() == 0, demo.text()
    assert port_closed(demo.port)


@pytest.mark.e2e
def test_demo_without_display_records_instead(run_demo, tmp_path):
    demo = run_demo(display=None)
    text = demo.text()
    assert "No display found" in text and "signal-monitor record --out demo.jsonl" in text
    assert "demo / demo-password-123" in text  # setup printed the credentials
    user = DEMO_USERS[0]
    browser = Browser(f"http://127.0.0.1:{demo.port}")
    # The recorder may still be connecting: log in until a login reaches the file.
    recording = tmp_path / "demo.jsonl"

    def recorded_logins() -> int:
        if not recording.exists():
            return 0
        return sum(1 for frame in read_recording(recording) for event in frame.events
                   if getattr(event, "signal", None) == LOGIN_SUCCEEDED)

    def login_recorded() -> bool:
        assert browser.login(user.username, user.password)
        return recorded_logins() > 0

    wait_until(login_recorded, "a login to be recorded", timeout=60)
    assert demo.ctrl_c() == 0, demo.text()
    assert port_closed(demo.port)
    assert recorded_logins() >= 1  # the recorder closed its file cleanly


@pytest.mark.e2e
def test_demo_with_offscreen_window_stops_both_on_ctrl_c(run_demo):
    demo = run_demo(display="offscreen")
    assert "starting the monitor window" in demo.text()
    assert Browser(f"http://127.0.0.1:{demo.port}").login("demo", "demo-password-123")
    assert demo.ctrl_c() == 0, demo.text()
    assert port_closed(demo.port)
    assert "did not stop" not in demo.text()


@pytest.mark.e2e
def test_closing_the_monitor_stops_the_demo(run_demo):
    demo = run_demo(display="offscreen")
    children = psutil.Process(demo.proc.pid).children()
    (monitor,) = [c for c in children if "signal-monitor" in " ".join(c.cmdline())
                  or "monitor_gui" in " ".join(c.cmdline())]
    monitor.terminate()  # what closing the window amounts to: the monitor process ends
    demo.proc.wait(timeout=60)
    assert "monitor exited" in demo.text() + demo.proc.stdout.read()
    assert port_closed(demo.port)


@pytest.mark.e2e
def test_impatient_double_ctrl_c_leaves_no_orphans(run_demo):
    demo = run_demo()  # no display: site + recorder
    children = psutil.Process(demo.proc.pid).children()
    assert len(children) == 2
    os.killpg(demo.proc.pid, signal.SIGINT)
    os.killpg(demo.proc.pid, signal.SIGINT)
    demo.proc.wait(timeout=60)
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive
    assert port_closed(demo.port)


@pytest.mark.e2e
def test_demo_reports_to_a_monitor_that_is_already_running(tmp_path):
    from tests.e2e.monitor import HeadlessMonitor

    monitor = HeadlessMonitor(f"tcp://127.0.0.1:{free_port()}")
    demo = Demo(tmp_path, display=None, endpoint=monitor.endpoint)
    try:
        demo.wait_started()
        assert "already listens" in demo.text()
        assert len(psutil.Process(demo.proc.pid).children()) == 1  # only the site
        browser = Browser(f"http://127.0.0.1:{demo.port}")
        assert browser.login("demo", "demo-password-123")
        monitor.wait_for(lambda s: bool(monitor.rows_of(LOGIN_SUCCEEDED)), "the login")
        assert demo.ctrl_c() == 0, demo.text()
    finally:
        demo.kill()
        monitor.close()


@pytest.mark.parametrize("family, host", [(socket.AF_INET, "127.0.0.1"),
                                          (socket.AF_INET6, "::1")])
def test_endpoint_taken_on_ipv4_and_ipv6_loopback(family, host):
    try:
        server = socket.socket(family, socket.SOCK_STREAM)
        server.bind((host, 0))
    except OSError:
        pytest.skip(f"no {host} on this machine")
    with server:
        server.listen()
        port = server.getsockname()[1]
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        assert _endpoint_taken(f"tcp://{shown}:{port}")
        assert port_in_use(host, port)
    assert not _endpoint_taken(f"tcp://{shown}:{port}")  # closed: nothing listens now


SLOW_MONITOR = """\
import os, sys, time
time.sleep(3)  # a monitor slow to start, like the window on a cold machine
os.execv(sys.executable, [sys.executable, "-m", "monitor_gui", *sys.argv[1:]])
"""
LAUNCH_WITH_SLOW_MONITOR = """\
import sys
from demo_site import __main__, launcher
launcher.signal_monitor_command = lambda: [sys.executable, {wrapper!r}]
sys.exit(__main__.main(sys.argv[1:]))
"""


@pytest.mark.e2e
def test_a_fresh_demo_loses_nothing_even_with_a_slow_monitor(tmp_path):
    """The site starts only once the monitor listens, so its readiness check and the first
    login all arrive: lost 0 (it used to be a red "lost 47" on every fresh demo)."""
    wrapper = tmp_path / "slow_monitor.py"
    wrapper.write_text(SLOW_MONITOR)
    port, endpoint = free_port(), f"tcp://127.0.0.1:{free_port()}"
    env = site_env(tmp_path / "demo.sqlite3")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(name, None)  # no display: the recorder, whose summary states what was lost
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCH_WITH_SLOW_MONITOR.format(wrapper=str(wrapper)), "demo",
         "--port", str(port), "--endpoint", endpoint],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    demo = Demo.__new__(Demo)
    demo.proc, demo.port, demo.endpoint, demo.output = proc, port, endpoint, []
    try:
        demo.wait_started()
        assert "recording on" in demo.text()  # the recorder listened before the site came up
        browser = Browser(f"http://127.0.0.1:{port}")
        assert browser.login("demo", "demo-password-123")
        recording = tmp_path / "demo.jsonl"
        wait_until(lambda: recording.exists() and any(
            getattr(e, "signal", None) == LOGIN_SUCCEEDED
            for f in read_recording(recording) for e in f.events), "the login on disk")
        assert demo.ctrl_c() == 0, demo.text()
    finally:
        demo.kill()
    summary = re.search(r"recorded (\d+) events from (\d+) processes .*: lost (\d+)",
                        demo.text())
    assert summary is not None, demo.text()
    events, processes, lost = map(int, summary.groups())
    assert processes == 1 and events > 0
    assert lost == 0, demo.text()
