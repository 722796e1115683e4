"""``python -m demo_site demo``: set up, then run the site and the monitor side by side.

The monitor starts first and the site only once the monitor listens: the probe drops (and
reports as lost) whatever it sends while nobody listens, and the site's first requests come
at once. Both run as child processes in their own sessions, so Ctrl-C reaches only this
launcher, which then stops them in a known order (SIGINT, then SIGTERM, then SIGKILL) and
waits.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from demo_site.seed import DEMO_USERS

MANAGE_PY = Path(__file__).resolve().parent / "manage.py"
DEFAULT_MONITOR_ENDPOINT = "tcp://127.0.0.1:5599"  # django_probe.wire.DEFAULT_ENDPOINT
MONITOR_START_TIMEOUT = 60.0  # seconds; Qt's first start on a cold, busy machine is slow


def display_available(environ: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Can a Qt window be shown? Offscreen counts: the user asked for a headless window."""
    if environ.get("QT_QPA_PLATFORM", "").startswith("offscreen"):
        return True
    if platform in ("darwin", "win32"):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def signal_monitor_command() -> list[str]:
    """The installed ``signal-monitor`` next to this interpreter, else the entry point itself."""
    script = Path(sys.executable).with_name("signal-monitor")
    if script.exists():
        return [str(script)]
    found = shutil.which("signal-monitor")
    if found:
        return [found]
    return [sys.executable, "-m", "monitor_gui"]


def port_in_use(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on ``host:port`` (IPv4 or IPv6)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:  # refused, unreachable, or a name that does not resolve
        return False


def _endpoint_taken(endpoint: str) -> bool:
    """Whether a tcp:// endpoint on this machine already accepts connections."""
    if not endpoint.startswith("tcp://"):
        return False
    host, _, port = endpoint[len("tcp://"):].rpartition(":")
    host = host.strip("[]")
    # A wildcard bind accepts on loopback too.
    host = {"": "127.0.0.1", "*": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return port.isdigit() and port_in_use(host, int(port))


def wait_for_endpoint(endpoint: str, proc: subprocess.Popen, timeout: float) -> bool:
    """Poll until the monitor listens on ``endpoint``; False if it exited or time ran out.

    The site must start only then: the probe drops (and counts as lost) what it sends
    while nobody listens, and the site's first requests come at once (our readiness check).
    A tcp:// endpoint listens when it accepts a connection (zmq shrugs off the bare TCP
    connect), an ipc:// one when its socket file exists; others cannot be told: True.
    """
    if endpoint.startswith("tcp://"):
        def listening() -> bool:
            return _endpoint_taken(endpoint)
    elif endpoint.startswith("ipc://"):
        def listening() -> bool:
            return Path(endpoint[len("ipc://"):]).exists()
    else:
        return proc.poll() is None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if listening():
            return True
        time.sleep(0.1)  # another process's port: there is no event to wait on
    return False


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float) -> bool:
    """Poll until the site answers (any HTTP status) or its process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.2)
    return False


def stop(proc: subprocess.Popen, name: str, grace: float = 10.0,
         hurry: threading.Event | None = None) -> None:
    """Ask politely (SIGINT lets a recorder flush its file), then insist; ``hurry`` skips
    straight to SIGKILL (a second Ctrl-C)."""
    steps = [signal.SIGINT, signal.SIGTERM] if os.name == "posix" else [signal.SIGTERM]
    for sig in steps:
        if proc.poll() is not None:
            return
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not (hurry is not None and hurry.is_set()):
            try:
                proc.wait(timeout=0.1)
                return
            except subprocess.TimeoutExpired:
                continue
    if proc.poll() is None:
        print(f"[demo] {name} did not stop; killing it", file=sys.stderr)
        proc.kill()
        proc.wait(timeout=grace)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--endpoint", default=os.environ.get("SIGNAL_PROBE_ENDPOINT",
                                                             DEFAULT_MONITOR_ENDPOINT),
                        help="where the monitor binds and the probe connects")
    parser.add_argument("--record", default="demo.jsonl",
                        help="file the recorder writes when no display is available")
    parser.add_argument("--no-monitor", action="store_true", help="run only the site")


def _shown(path: str) -> str:
    """A path as the user would type it: relative when under the current directory."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def run(args: argparse.Namespace) -> int:
    if port_in_use(args.host, args.port):
        print(f"[demo] {args.host}:{args.port} is already in use; stop the other server "
              f"or pass --port", file=sys.stderr)
        return 2
    setup_env = {**os.environ, "SIGNAL_PROBE_ENABLED": "0"}
    try:
        setup = subprocess.run([sys.executable, "-m", "demo_site", "setup"], env=setup_env)
    except KeyboardInterrupt:  # Ctrl-C during setup: it got the signal too and stops
        print("\n[demo] stopped during setup", file=sys.stderr)
        return 130
    if setup.returncode:
        print("[demo] setup failed", file=sys.stderr)
        return 1

    children: list[tuple[str, subprocess.Popen]] = []
    # The first Ctrl-C (or a `kill`) stops everything; later ones only hurry the cleanup,
    # which must never be cut short: the children run in their own sessions and would be
    # orphaned. SIGINT needs its handler even when inherited as ignored (a background
    # start by a non-interactive shell), or the children would inherit SIG_IGN too.
    stopping, hurry = threading.Event(), threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        if stopping.is_set():
            hurry.set()
            return
        stopping.set()
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if args.no_monitor:
            pass
        elif _endpoint_taken(args.endpoint):
            print(f"[demo] something already listens on {args.endpoint} (a monitor you "
                  "started?); the site will report to it", flush=True)
        else:
            monitor = _start_monitor(args)
            children.append(("monitor", monitor))
            if not wait_for_endpoint(args.endpoint, monitor, timeout=MONITOR_START_TIMEOUT):
                if monitor.poll() is not None:
                    print(f"[demo] the monitor exited (code {monitor.returncode}) before it "
                          "listened; see its message above", file=sys.stderr)
                    return 1
                print(f"[demo] the monitor is not listening on {args.endpoint} after "
                      f"{MONITOR_START_TIMEOUT:g} s; starting the site anyway", file=sys.stderr)
        env = {**os.environ, "SIGNAL_PROBE_ENDPOINT": args.endpoint, "PYTHONUNBUFFERED": "1"}
        # --noreload: the autoreloader would run the site (and the probe) in two processes.
        site = subprocess.Popen(
            [sys.executable, str(MANAGE_PY), "runserver", f"{args.host}:{args.port}",
             "--noreload"],
            env=env, start_new_session=True,
        )
        children.append(("site", site))
        url = f"http://{args.host}:{args.port}/"
        if not wait_for_http(url, site, timeout=60):
            print("[demo] the site did not come up; see its output above", file=sys.stderr)
            return 1
        demo = DEMO_USERS[0]
        print(f"\n[demo] Open {url} and log in as {demo.username} / {demo.password}\n"
              f"[demo] More traffic: {_shown(sys.executable)} -m demo_site traffic "
              f"--base-url {url}\n[demo] Ctrl-C stops everything.\n", flush=True)
        while True:
            for name, proc in children:
                if proc.poll() is not None:
                    print(f"[demo] {name} exited (code {proc.returncode}); stopping",
                          file=sys.stderr)
                    return 0 if proc.returncode == 0 else 1
            time.sleep(0.3)
    except KeyboardInterrupt:
        print("\n[demo] stopping...", file=sys.stderr)
        return 0
    finally:
        stopping.set()  # from here on a signal only hurries the cleanup
        # The site first, so its last events can still reach the monitor.
        for name, proc in reversed(children):
            stop(proc, name, hurry=hurry)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start_monitor(args: argparse.Namespace) -> subprocess.Popen:
    command = signal_monitor_command()
    if display_available(os.environ):
        print(f"[demo] starting the monitor window on {args.endpoint}", flush=True)
        command += ["--listen", args.endpoint]
    else:
        print("[demo] No display found (neither DISPLAY nor WAYLAND_DISPLAY is set), so the "
              "monitor window cannot open.\n"
              f"[demo] Recording the events instead: signal-monitor record --out {args.record}\n"
              f"[demo] Open it later on a desktop: signal-monitor --open {args.record}\n"
              "[demo] (Or set QT_QPA_PLATFORM=offscreen to run the window headless.)",
              flush=True)
        command += ["record", "--listen", args.endpoint, "--out", args.record]
    return subprocess.Popen(command, start_new_session=True)
