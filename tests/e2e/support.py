"""Helpers shared by the demo-site and end-to-end tests: free ports, a demo server subprocess."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANAGE_PY = ROOT / "demo_site" / "manage.py"
# The interpreter that runs the demo site (setup and servers). The Makefile's test-compat
# target points it at a venv with another Django, so the same tests check that version.
SITE_PYTHON = os.environ.get("DEMO_SITE_PYTHON") or sys.executable
START_TIMEOUT = 60.0  # seconds; a cold start on a busy 2-core machine imports a lot
# Seconds each stop signal gets before the next, harsher one. Generous: a loaded machine
# can take well over 10 s to unwind a server (that read as -15, "did not stop on SIGINT");
# a server that stops returns at once, so a green run never waits for it.
STOP_TIMEOUT = 60.0


def free_port() -> int:
    """An unused loopback TCP port (the OS picks it; released just before use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_pair() -> int:
    """A loopback port p with p + 1 free too (data and its derived control endpoint)."""
    for _ in range(100):
        with socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            if port >= 65535:
                continue
            try:
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no free pair of ports")


def site_env(db: Path, **extra: str) -> dict[str, str]:
    """Environment for a demo-site process on its own database, fast hashing, no DEBUG."""
    # ``extra`` goes first: the site's WSGI environ keeps this order, so a test can put a
    # variable where the probe's bounded summary of ``environ`` will certainly show it.
    env = dict(extra)
    env.update((key, value) for key, value in os.environ.items()
               if not key.startswith("SIGNAL_PROBE_"))
    env.update(
        DJANGO_SETTINGS_MODULE="demo_site.settings",
        DEMO_SITE_DB=str(db),
        DEMO_SITE_FAST_HASHER="1",
        DJANGO_DEBUG="0",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def run_setup(db: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SITE_PYTHON, "-m", "demo_site", "setup", "-v", "0"],
        cwd=ROOT, env=site_env(db), capture_output=True, text=True, timeout=120, check=True,
    )


def copy_db(template: Path, target: Path) -> Path:
    shutil.copyfile(template, target)
    return target


class DemoServer:
    """The demo site in a subprocess: runserver --noreload, gunicorn (N workers) or uvicorn."""

    def __init__(self, db: Path, log: Path, *, server: str = "runserver", workers: int = 1,
                 env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        if server == "runserver":
            command = [SITE_PYTHON, str(MANAGE_PY), "runserver",
                       f"127.0.0.1:{self.port}", "--noreload"]
        elif server == "gunicorn":
            command = [SITE_PYTHON, "-m", "gunicorn", "demo_site.wsgi:application",
                       "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
                       "--timeout", "60", "--graceful-timeout", "5"]
        elif server == "uvicorn":
            command = [SITE_PYTHON, "-m", "uvicorn", "demo_site.asgi:application",
                       "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"]
        else:
            raise ValueError(server)
        self.stopped_by: signal.Signals | None = None
        self._log = open(log, "wb")
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=site_env(db, **(env or {})), stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Block until the site answers HTTP; fail with its log if it dies or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"demo server exited ({self.proc.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(self.base_url + "/", timeout=5):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)  # polling a subprocess's port: there is no event to wait on
        raise TimeoutError(f"demo server not up after {timeout}s:\n{self.log()}")

    def stop(self) -> int:
        """SIGINT, then SIGTERM, then SIGKILL to the whole process group; return the exit code.

        ``self.stopped_by`` records the signal that finally worked, so a test can assert
        that Ctrl-C alone was enough (the probe must never make a process hang at exit).
        """
        if self.proc.poll() is None:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=STOP_TIMEOUT)
                    self.stopped_by = sig
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._log.close()
        return self.proc.wait(timeout=STOP_TIMEOUT)


def wait_until(predicate, what: str, timeout: float = START_TIMEOUT) -> None:
    """Poll a condition of another process (no event to wait on); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)
