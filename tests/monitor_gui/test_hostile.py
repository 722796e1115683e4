"""Hostile input (issue 15 items 1-2): work is bounded before anything is materialised."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import zmq

from django_probe import wire
from tests.monitor_gui.core.events import PROC
from tests.monitor_gui.test_cli_record import ROOT, Recorder

MAX_RSS_MB = 300


def amplifier() -> bytes:
    """A frame of MAX_FRAME_BYTES: a plausible header, then ~16.7M empty msgpack arrays
    (each one byte on the wire, ~56 bytes as a Python list)."""
    head = wire.encode_frame(PROC, 0, [])[:-1]  # all but the empty events array
    n = wire.MAX_FRAME_BYTES - len(head) - 5
    return head + b"\xdd" + n.to_bytes(4, "big") + b"\x90" * n


def nested_events() -> bytes:
    """Within the event count, each event an array of ~800 empty arrays."""
    head = wire.encode_frame(PROC, 0, [])[:-1]
    event = b"\xdc" + (800).to_bytes(2, "big") + b"\x90" * 800
    return head + b"\xdc" + (20_000).to_bytes(2, "big") + event * 20_000


CHILD = """
import json, resource, sys, tempfile, time
from pathlib import Path
from monitor_gui import cli_record
from monitor_gui.core.processes import ProcessTable
from monitor_gui.core.recording import RecordingWriter
from monitor_gui.core.state import MonitorState
from tests.monitor_gui import test_hostile

frames = [test_hostile.amplifier(), test_hostile.nested_events()]
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
before = peak()
state, table = MonitorState(capacity=100), ProcessTable()
with tempfile.TemporaryDirectory() as tmp:
    writer = RecordingWriter(Path(tmp) / "x.jsonl")
    t = time.perf_counter()
    for data in frames:
        state.apply([data])
        cli_record._record_frame(data, table, writer, None)
    seconds = time.perf_counter() - t
    writer.close()
print(json.dumps({"seconds": seconds, "grown_mb": peak() - before,
                  "malformed": [state.totals.malformed, table.malformed],
                  "events": [state.totals.events, table.events]}))
"""


def test_amplifying_frames_are_rejected_fast_without_materialising_them():
    out = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    result = json.loads(out)
    # One frame rejected whole, and 20,000 events rejected one by one.
    assert result["malformed"] == [20_001, 20_001] and result["events"] == [0, 0]
    assert result["grown_mb"] < 48  # the 16 MB frame was 1.2 GB of Python lists
    print(result)
    assert result["seconds"] < 1.0  # was 5.4 s


def flood(endpoint: str, stop: threading.Event, sent: list[int]) -> None:
    data = amplifier()
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUSH)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SNDTIMEO, 100)
    sock.connect(endpoint)
    try:
        while not stop.is_set():
            try:
                sock.send(data, copy=False)
                sent[0] += 1
            except zmq.Again:
                pass
    finally:
        sock.close(linger=0)
        ctx.term()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_flood_keeps_the_recorder_small_and_it_stops_within_2s(tmp_path: Path, stop_signal):
    rec = Recorder(tmp_path / "flood.jsonl", "--progress", "3600")
    watched = psutil.Process(rec.proc.pid)
    stop, sent = threading.Event(), [0]
    sender = threading.Thread(target=flood, args=(rec.endpoint, stop, sent))
    sender.start()
    peak = 0.0
    try:
        deadline = time.monotonic() + 60
        while (sent[0] < 100 or time.monotonic() < deadline - 55) and time.monotonic() < deadline:
            peak = max(peak, watched.memory_info().rss / 2**20)
            time.sleep(0.02)
        rec.proc.send_signal(stop_signal)  # while the flood goes on
        asked = time.monotonic()
        while rec.proc.poll() is None and time.monotonic() - asked < 30:
            peak = max(peak, watched.memory_info().rss / 2**20)
            time.sleep(0.01)
        took = time.monotonic() - asked
    finally:
        stop.set()
        sender.join(10)
        if rec.proc.poll() is None:
            rec.proc.kill()
    err = rec.finish()
    assert rec.proc.returncode == 0, err
    assert "Traceback" not in err
    print(f"flood: {sent[0]} frames, peak RSS {peak:.0f} MB, exit in {took:.2f} s")
    assert took < 2.0, f"exit took {took:.1f} s"
    assert peak <= MAX_RSS_MB, f"peak RSS {peak:.0f} MB"
    malformed = int(err.rsplit("malformed ", 1)[1].split()[0])
    assert malformed > 0 and sent[0] >= 100
