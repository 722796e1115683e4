"""``python -m demo_site screenshot``: the real monitor window, fed by real demo traffic, as a PNG.

Everything is real: a migrated demo database, the site in a subprocess with the probe,
the window built by the monitor's own composition root, and the scripted browser of
``demo_site.traffic``. Runs headless with QT_QPA_PLATFORM=offscreen (set if missing).
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from demo_site import launcher, traffic

LOGGED_IN = "django.contrib.auth.signals.user_logged_in"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="docs/screenshot-demo.png")
    parser.add_argument("--rounds", type=int, default=8, help="traffic rounds before the shot")
    parser.add_argument("--size", default="1600x1000", help="window size, WIDTHxHEIGHT")
    parser.add_argument("--tab", default=None,
                        help="show this bottom tab, given room (e.g. Diagnostics)")
    parser.add_argument("--mute", action="append", default=[], metavar="SIGNAL[/N]",
                        help="live control: halfway through the traffic, mute SIGNAL at the "
                             "probe (or sample it 1 in N); repeatable")


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from monitor_gui.qt.app import build  # Qt only when a screenshot is asked for

    width, height = (int(n) for n in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="demo-shot-") as tmp:
        endpoint = f"tcp://127.0.0.1:{free_port()}"
        port = free_port()
        env = {**os.environ, "DEMO_SITE_DB": str(Path(tmp) / "db.sqlite3"),
               "DEMO_SITE_FAST_HASHER": "1", "SIGNAL_PROBE_ENDPOINT": endpoint}
        subprocess.run([sys.executable, "-m", "demo_site", "setup", "-v", "0"],
                       env={**env, "SIGNAL_PROBE_ENABLED": "0"}, check=True,
                       stdout=subprocess.DEVNULL)
        monitor = build(endpoint, capacity=100_000, settings=None)
        monitor.window.resize(width, height)
        monitor.window.show()
        site = subprocess.Popen(
            [sys.executable, str(launcher.MANAGE_PY), "runserver", f"127.0.0.1:{port}",
             "--noreload"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        try:
            base = f"http://127.0.0.1:{port}"
            if not launcher.wait_for_http(base + "/", site, timeout=60):
                print("the demo site did not start", file=sys.stderr)
                return 1
            stats = traffic.Stats()
            rng = random.Random(5)
            driver = threading.Thread(
                target=lambda: [stats.add(traffic.one_round(base, rng))
                                for _ in range(args.rounds)])
            driver.start()
            # The window needs its event loop to receive and draw while the traffic runs.
            settle = None
            muted = not args.mute
            while settle is None or time.monotonic() < settle:
                monitor.app.processEvents()
                time.sleep(0.02)
                if not muted and stats.iterations >= args.rounds // 2:
                    muted = True
                    for spec in args.mute:  # as the window's right-click menu does
                        name, _, every = spec.partition("/")
                        monitor.window.live_control.add_rule(name, None, int(every or 0))
                if settle is None and not driver.is_alive():
                    settle = time.monotonic() + 1.5  # the probe flushes, the view ticks
            _select_last(monitor, LOGGED_IN)
            if args.tab:
                _show_tab(monitor.window, args.tab)
            for _ in range(20):
                monitor.app.processEvents()
                time.sleep(0.02)
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            if not monitor.window.grab().save(args.out):
                print(f"could not write {args.out}", file=sys.stderr)
                return 1
            print(f"wrote {args.out}: {stats.line()}; "
                  f"{len(monitor.state.store)} dispatches in the window")
            return 0
        finally:
            monitor.dispose()  # destroys the window while its models are alive
            launcher.stop(site, "site")


def _select_last(monitor: object, signal: str) -> None:
    """Show a representative dispatch in the details pane."""
    store = monitor.state.store  # type: ignore[attr-defined]
    for row in range(store.end - 1, store.first - 1, -1):
        if store.row(row).signal == signal:
            monitor.window.select_row(row)  # type: ignore[attr-defined]
            return


def _show_tab(window: object, title: str) -> None:
    """Make the bottom tab whose title starts with ``title`` current, with more height."""
    tabs = window.bottom_tabs  # type: ignore[attr-defined]
    for i in range(tabs.count()):
        if tabs.tabText(i).startswith(title):
            tabs.setCurrentIndex(i)
            window.diagnostics.refresh()  # type: ignore[attr-defined]  # (not throttled)
            window.splitter.setSizes([400, 120, 420])  # type: ignore[attr-defined]
            view = tabs.widget(i)
            if hasattr(view, "table"):  # the first row detailed below the table
                view.table.selectRow(0)
            return
    raise ValueError(f"no tab {title!r}")
