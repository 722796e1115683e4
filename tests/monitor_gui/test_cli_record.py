"""signal-monitor record: count, duration, signals, errors, and recordings cut by SIGKILL."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import zmq

from monitor_gui import cli
from monitor_gui.core.recording import read_recording
from monitor_gui.listener import Listener
from tests.monitor_gui.core.events import OTHER, dispatch, frame, heartbeat

ROOT = Path(__file__).resolve().parents[2]


class Recorder:
    """``signal-monitor record`` in a subprocess, bound to a free loopback port."""

    def __init__(self, out: Path, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor_gui", "record", "--listen", "tcp://127.0.0.1:*",
             "--out", str(out), "--progress", "0.05", *extra],
            cwd=ROOT, stderr=subprocess.PIPE, text=True)
        first = self.proc.stderr.readline()
        assert "recording on tcp://127.0.0.1:" in first, first
        self.endpoint = first.split("recording on ")[1].split(";")[0]

    def wait_for_progress(self, text: str) -> None:
        """Read progress lines until one contains ``text`` (blocks on the pipe, no sleeping)."""
        for line in self.proc.stderr:
            if text in line:
                return
        raise AssertionError(f"recorder exited before reporting {text!r}")

    def finish(self) -> str:
        _, err = self.proc.communicate(timeout=30)
        return err


@pytest.fixture
def pusher(context):
    socks = []

    def connect(endpoint):
        sock = context.socket(zmq.PUSH)
        sock.setsockopt(zmq.LINGER, 2000)
        sock.connect(endpoint)
        socks.append(sock)
        return sock

    yield connect
    for sock in socks:
        sock.close(linger=0)


def test_record_stops_after_count_and_summarises(tmp_path, pusher):
    out = tmp_path / "rec.jsonl"
    rec = Recorder(out, "--count", "6")
    push = pusher(rec.endpoint)
    push.send(b"junk")
    push.send(frame([dispatch(1), dispatch(2), heartbeat(dropped_send=3)]))
    push.send(frame([dispatch(3)], seq=5))  # seq 3 and 4 were lost in transit
    push.send(frame([dispatch(4), dispatch(5), dispatch(6)], seq=6))
    err = rec.finish()
    assert rec.proc.returncode == 0, err
    assert "recorded 6 events from 1 processes" in err
    assert "lost 5" in err and "malformed 1" in err  # 2 gaps + 3 dropped; the junk frame
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["kind"] for r in records] == ["malformed", "D", "D", "H", "D", "D", "D"]
    assert records[1]["proc"] == {"pid": 101, "host": "web1", "boot": "boot-a"}
    assert [r["seq"] for r in records[1:]] == [0, 1, 2, 5, 6, 7]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_record_ends_cleanly_on_signal_keeping_everything(tmp_path, pusher, signum):
    out = tmp_path / "rec.jsonl.gz"
    rec = Recorder(out)
    push = pusher(rec.endpoint)
    push.send(frame([dispatch(i) for i in range(4)]))
    push.send(frame([dispatch(9)], proc=OTHER))
    rec.wait_for_progress("5 events")
    rec.proc.send_signal(signum)
    err = rec.finish()
    assert rec.proc.returncode == 0, err
    assert "recorded 5 events from 2 processes" in err
    lines = gzip.open(out, "rt").read().splitlines()  # a complete gzip stream
    assert len(lines) == 5
    assert [f.events for f in read_recording(out)] == [
        [dispatch(i) for i in range(4)], [dispatch(9)]]


def test_record_duration_ends_by_itself(tmp_path):
    rec = Recorder(tmp_path / "rec.jsonl", "--duration", "0.3")
    err = rec.finish()
    assert rec.proc.returncode == 0 and "recorded 0 events from 0 processes" in err


def test_record_address_in_use_is_a_clear_error(tmp_path, context, capsys):
    with Listener("tcp://127.0.0.1:*", context=context) as taken:
        code = cli.main(["record", "--listen", taken.endpoint, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 1 and taken.endpoint in err and "--listen" in err
    assert not (tmp_path / "x").exists()


def test_record_usage_errors(tmp_path, capsys):
    assert cli.main(["record", "--out", str(tmp_path / "x"), "--count", "0"]) == 2
    capsys.readouterr()
    assert cli.main(["record"]) == 2  # neither a file nor a collector
    assert "give --out FILE, --otlp URL, or both" in capsys.readouterr().err
    assert cli.main(["record", "--otlp", "localhost:4318"]) == 2
    assert "--otlp needs an http:// or https:// URL" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["nonsense"])


def test_record_warns_on_non_loopback_without_curve(tmp_path, capsys):
    # An address this host does not have: the warning comes first, then a clear bind error
    # (so the test never really listens beyond loopback).
    code = cli.main(["record", "--listen", "tcp://192.0.2.1:5599", "--out",
                     str(tmp_path / "x.jsonl")])
    err = capsys.readouterr().err
    assert "not a loopback address" in err and "CurveZMQ" in err
    assert code == 1 and "cannot listen on tcp://192.0.2.1:5599" in err


def _recovered(path: Path) -> int:
    from monitor_gui.core.recording import RecordingReader

    try:
        return sum(len(f.events) for f in RecordingReader(path))
    except OSError:
        return 0


@pytest.mark.parametrize("suffix", ["jsonl", "jsonl.gz", "jsonl.zst"])
def test_a_recording_cut_by_sigkill_is_usable_up_to_the_cut(tmp_path, pusher, capsys, suffix):
    import time

    from monitor_gui.core.recording import RecordingReader

    out = tmp_path / f"rec.{suffix}"
    rec = Recorder(out)
    push = pusher(rec.endpoint)
    sent = [dispatch(i) for i in range(1_000)]
    for first in range(0, len(sent), 50):
        push.send(frame(sent[first:first + 50], seq=first))
    rec.wait_for_progress("1000 events")
    # The recorder flushes at least every second: wait until a kill would leave them all.
    deadline = time.monotonic() + 60
    while _recovered(out) < len(sent):
        assert time.monotonic() < deadline, "the recorder never flushed its events"
        time.sleep(0.05)
    rec.proc.kill()  # SIGKILL: no chance to close the compressed stream
    rec.proc.communicate(timeout=30)
    assert rec.proc.returncode == -signal.SIGKILL

    reader = RecordingReader(out)
    assert [e for f in reader for e in f.events] == sent
    assert reader.truncated == (suffix != "jsonl")  # a flushed plain file ends on a line
    trace = tmp_path / "trace.json"
    assert cli.main(["export", str(out), "--out", str(trace)]) == cli.EXIT_OK
    err = capsys.readouterr().err
    assert "exported 1000 dispatches" in err and "Traceback" not in err
    if suffix != "jsonl":
        assert f"warning: {out} was cut off" in err and "recovered the 1,000 complete lines" in err
