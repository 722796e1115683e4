"""Smoke test of an installed wheel: one custom signal, probe to monitor, over real ZeroMQ.

Run by ``make wheel-smoke`` with the Python of a clean venv that has only the wheel (and
its ``[all]`` extras) installed, from a directory outside the checkout, so the installed
packages are the ones imported. Not collected by pytest (not named ``test_*``). Exits 0
when the monitor received and decoded the dispatch; raises otherwise.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

DEADLINE_S = 30.0  # a busy machine may be slow to connect; we poll, never sleep blindly


def main() -> int:
    import django
    import PySide6.QtCore  # noqa: F401  (the [monitor] extra is installed and loads)
    from django.conf import settings

    import django_probe
    import monitor_gui
    from monitor_gui.core.state import MonitorState
    from monitor_gui.listener import Listener

    for package in (django_probe, monitor_gui):
        origin = Path(package.__file__).resolve()
        assert "site-packages" in origin.parts, f"{package.__name__} imported from {origin}"

    with Listener("tcp://127.0.0.1:*") as listener:  # a free loopback port
        settings.configure(
            DEBUG=False,
            SECRET_KEY="smoke",
            INSTALLED_APPS=["django_probe"],
            DATABASES={},
            SIGNAL_PROBE={"ENDPOINT": listener.endpoint, "FLUSH_INTERVAL": 0.05},
        )
        django.setup()

        from django.dispatch import Signal

        smoke_signal = Signal()
        received = []
        smoke_signal.connect(lambda sender, **kwargs: received.append(kwargs), weak=False)
        smoke_signal.send(sender="smoke-sender", answer=42)
        assert received == [{"signal": smoke_signal, "answer": 42}], received

        state = MonitorState(capacity=1_000)
        rows = []
        deadline = time.monotonic() + DEADLINE_S
        while not rows and time.monotonic() < deadline:
            state.apply(listener.recv_batch(timeout_ms=100))
            rows = [state.store.row(i) for i in range(state.store.first, state.store.end)]
            rows = [r for r in rows if r.sender == "'smoke-sender'" or "smoke" in r.sender]
        assert rows, f"no dispatch of the smoke signal within {DEADLINE_S} s"
        (row,) = rows
        assert row.method == "send" and not row.raised, row
        assert len(row.receivers) == 1 and row.kwargs.get("answer") == "42", row
    print(f"wheel smoke: OK ({row.signal} from {row.sender}, {len(row.receivers)} receiver, "
          f"django_probe from {Path(django_probe.__file__).parent})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
