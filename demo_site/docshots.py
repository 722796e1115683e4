"""``python -m demo_site docshots``: two real recordings of the demo, the diff and OTLP pictures.

The demo site runs with its probe streaming to ``signal-monitor record``, once driven by
``python -m demo_site traffic --mix logins`` (``before.jsonl``) and once by
``--mix articles`` (``after.jsonl``): the commands the docs print, run as subprocesses.
Then ``signal-monitor export --format otlp after.jsonl`` writes ``after.otlp.json``, and
two pictures are made headless: the window holding ``after.jsonl`` with its "Compare
with…" dialog open on ``before.jsonl`` (docs/screenshot-diff.png), and the spans of one
login request as a trace viewer draws them (docs/screenshot-otlp.png, demo_site.trace_picture).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from demo_site import launcher
from demo_site.screenshot import free_port

RUNS = (("before", "logins"), ("after", "articles"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out-dir", default="docs", help="where the PNGs go")
    parser.add_argument("--rounds", type=int, default=12, help="traffic rounds per recording")
    parser.add_argument("--keep", default=None, metavar="DIR",
                        help="keep the recordings and the OTLP export in DIR")


def traffic_command(base: str, mix: str, rounds: int) -> list[str]:
    return [sys.executable, "-m", "demo_site", "traffic", "--base-url", base, "--mix", mix,
            "--count", str(rounds), "--seed", "1", "--pause", "0"]


def _wait_on_disk(out: Path, base: str, marker: str, timeout: float = 60) -> None:
    """Request ``marker`` (a 404 whose request_started names it) until the recorder wrote
    it: then every dispatch before it is on disk too."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + marker, timeout=10)  # (our own loopback site)
        except OSError:
            pass  # the 404 we asked for
        again = min(time.monotonic() + 10, deadline)  # asked again only if it was lost
        while time.monotonic() < again:
            if out.exists() and marker in out.read_text(encoding="utf-8", errors="replace"):
                return
            time.sleep(0.2)
    raise TimeoutError(f"{marker} never reached {out}")


def record(folder: Path, name: str, mix: str, rounds: int) -> Path:
    """One run as a user records it: ``signal-monitor record`` listens, the site starts
    (its probe streams to the recorder from its first dispatch), ``demo_site traffic --mix
    MIX`` drives it; then the site stops and SIGINT ends the recorder."""
    out, db = folder / f"{name}.jsonl", folder / f"{name}.sqlite3"
    endpoint, port = f"tcp://127.0.0.1:{free_port()}", free_port()
    env = {**os.environ, "DEMO_SITE_DB": str(db), "DEMO_SITE_FAST_HASHER": "1",
           "SIGNAL_PROBE_ENDPOINT": endpoint}
    subprocess.run([sys.executable, "-m", "demo_site", "setup", "-v", "0"],
                   env={**env, "SIGNAL_PROBE_ENABLED": "0"}, check=True,
                   stdout=subprocess.DEVNULL)
    recorder = subprocess.Popen(
        [*launcher.signal_monitor_command(), "record", "--out", out.name, "--listen", endpoint],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    site = None
    try:
        if not launcher.wait_for_endpoint(endpoint, recorder, timeout=60):
            raise RuntimeError("the recorder did not start")
        site = subprocess.Popen(
            [sys.executable, str(launcher.MANAGE_PY), "runserver", f"127.0.0.1:{port}",
             "--noreload"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        if not launcher.wait_for_http(base + "/", site, timeout=60):
            raise RuntimeError("the demo site did not start")
        subprocess.run(traffic_command(base, mix, rounds), check=True,
                       stderr=subprocess.DEVNULL)
        _wait_on_disk(out, base, f"/docshots-end-{name}/")
    finally:
        if site is not None:
            launcher.stop(site, "site")
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=60)
    db.unlink(missing_ok=True)
    return out


def diff_picture(folder: Path, out: Path) -> None:
    """The window holding after.jsonl, its Compare dialog open on before.jsonl, as one PNG
    (offscreen there is no window manager: the dialog is drawn over the window's middle)."""
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QColor, QPainter, QPen

    from monitor_gui.qt import recording_io
    from monitor_gui.qt.app import build
    from monitor_gui.qt.snapshot import DEFAULT_SIZE, settle

    monitor = build(None, settings=None)
    try:
        window = monitor.window
        window.resize(*DEFAULT_SIZE)
        window.show()
        recording_io.load(monitor.controller, str(folder / "after.jsonl"))
        window.timeline.fit_all()
        settle(monitor)
        cwd = os.getcwd()
        os.chdir(folder)  # the dialog names A as the user gave it: "before.jsonl"
        try:
            dialog = window.compare_with("before.jsonl")
        finally:
            os.chdir(cwd)
        dialog.resize(1480, 760)
        dialog.table.resizeColumnsToContents()
        settle(monitor)
        picture = window.grab()
        pane = dialog.grab()
        corner = QPoint((picture.width() - pane.width()) // 2, 110)
        with_dialog = QPainter(picture)
        with_dialog.fillRect(picture.rect(), QColor(0, 0, 0, 60))  # the window behind
        with_dialog.drawPixmap(corner, pane)
        with_dialog.setPen(QPen(QColor("#57606a"), 2))
        with_dialog.drawRect(corner.x(), corner.y(), pane.width(), pane.height())
        with_dialog.end()
        dialog.close()
        if not picture.save(str(out)):
            raise OSError(f"cannot write {out}")
    finally:
        monitor.dispose()


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from demo_site import trace_picture

    out_dir = Path(args.out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="docshots-") as tmp:
        folder = Path(args.keep).resolve() if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for name, mix in RUNS:
            record(folder, name, mix, args.rounds)
        otlp = folder / "after.otlp.json"
        subprocess.run([*launcher.signal_monitor_command(), "export", "--format", "otlp",
                        "after.jsonl", "--out", otlp.name], cwd=folder, check=True,
                       stdout=subprocess.DEVNULL)
        diff_picture(folder, out_dir / "screenshot-diff.png")
        shown = trace_picture.render(otlp, out_dir / "screenshot-otlp.png")
        print(f"wrote {out_dir}/screenshot-diff.png and screenshot-otlp.png ({shown})")
    return 0
