"""Exit without close(): pending events flushed; exit bounded with or without a monitor."""

from __future__ import annotations

from django_probe import wire
from tests.django_probe.support import bind_pull, endpoint_of, events_of, free_endpoint, recv_frames

EXIT_SCRIPT = """
import sys, threading, time
from django_probe import wire
from django_probe.conf import ProbeConfig
from django_probe.publisher import Publisher
from django_probe.sender import BEAT_RIDES_UP_TO

endpoint, mode = sys.argv[1], sys.argv[2]
pub = Publisher(ProbeConfig(endpoint=endpoint, flush_interval=0.01, linger_ms=300),
                hello_info={"app": "exit-test"})

def event(i, size=10):
    return wire.Hello(wire.KIND_HELLO, i, {"i": str(i), "pad": "x" * size})

if mode == "flush":
    deadline = time.monotonic() + 10
    while pub.stats()["sent"] == 0 and time.monotonic() < deadline:
        pub.submit(event(-1))
        threading.Event().wait(0.01)
    for i in range(5):
        pub.submit(event(i))
else:  # "stuck": a monitor that accepts the connection but never reads
    for i in range(20000):
        pub.submit(event(i, 100))
    threading.Event().wait(0.5)
print("exiting", flush=True)
# No close(): the atexit handler must flush and return within its bound.
"""


def run_exit_script(endpoint: str, mode: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", EXIT_SCRIPT, endpoint, mode],
                          capture_output=True, text=True, timeout=30)


def test_exit_without_close_flushes_pending_events(pull):
    result = run_exit_script(endpoint_of(pull), "flush")
    assert result.returncode == 0, result.stderr
    def last_event_then_final_beat(fs):
        events = events_of(fs)
        last = [n for n, e in enumerate(events)
                if isinstance(e, wire.Hello) and e.info.get("i") == "4"]
        return bool(last) and any(isinstance(e, wire.Heartbeat) for e in events[last[0]:])

    frames = recv_frames(pull, last_event_then_final_beat)
    ids = [e.info["i"] for e in events_of(frames) if isinstance(e, wire.Hello) and "i" in e.info]
    assert ids[-5:] == ["0", "1", "2", "3", "4"]
    final = [e for e in events_of(frames) if isinstance(e, wire.Heartbeat)][-1]
    assert final.captured >= 6 and final.queue_depth == 0  # written by close() at exit


def test_exit_never_hangs_with_a_monitor_that_does_not_read(context):
    stuck = bind_pull(context)
    stuck.rcvhwm = 1  # it never calls recv(): the probe's pipe fills up
    try:
        # subprocess.run's timeout is the failure detector: a hang raises TimeoutExpired.
        result = run_exit_script(endpoint_of(stuck), "stuck")
    finally:
        stuck.close(linger=0)
    assert result.returncode == 0, result.stderr
    assert "exiting" in result.stdout


def test_exit_never_hangs_with_no_monitor(context):
    result = run_exit_script(free_endpoint(context), "stuck")
    assert result.returncode == 0, result.stderr
