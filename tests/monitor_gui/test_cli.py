"""The signal-monitor CLI: record (count, duration, signals), replay and export round trips, gui."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest
import zmq

from django_probe import wire
from monitor_gui import cli
from monitor_gui.core.recording import RecordingWriter, read_recording
from monitor_gui.core.state import MonitorState
from monitor_gui.listener import Listener
from tests.monitor_gui.core.events import OTHER, PROC, dispatch, frame, heartbeat

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def context():
    ctx = zmq.Context()
    yield ctx
    ctx.term()


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
    with pytest.raises(SystemExit) as exited:
        cli.main(["record"])  # --out is required
    assert exited.value.code == 2
    with pytest.raises(SystemExit):
        cli.main(["nonsense"])


def write_recording(path: Path) -> list[wire.Frame]:
    frames = [wire.Frame(PROC, 0, [dispatch(2, parent=1), dispatch(1)], 1),
              wire.Frame(OTHER, 4, [dispatch(1, signal="x")], 0),
              wire.Frame(PROC, 7, [heartbeat(dropped_queue=2), dispatch(3)], 0)]
    with RecordingWriter(path) as writer:
        for f in frames:
            writer.write(f)
    return frames


def states_equal(a: MonitorState, b: MonitorState) -> None:
    rows = range(a.store.first, a.store.end)
    assert [a.store.row(r).to_dispatch() for r in rows] == [
        b.store.row(r).to_dispatch() for r in range(b.store.first, b.store.end)]
    assert [a.store.row(r).depth for r in rows] == [b.store.row(r).depth for r in rows]
    summary = [(k, p.events, p.lost_gaps, p.dropped_queue, p.malformed)
               for k, p in a.processes.items()]
    assert summary == [(k, p.events, p.lost_gaps, p.dropped_queue, p.malformed)
                       for k, p in b.processes.items()]


@pytest.mark.parametrize("speed", [["--as-fast-as-possible"], ["--speed", "1000"]])
def test_replay_round_trip_reproduces_the_state(tmp_path, context, capsys, speed):
    path = tmp_path / "rec.jsonl.zst"
    frames = write_recording(path)
    with Listener("tcp://127.0.0.1:*", context=context) as listener:
        code = cli.main(["replay", str(path), "--to", listener.endpoint, *speed])
        assert code == 0, capsys.readouterr().err
        got: list[bytes] = []
        while len(got) < 3:
            batch = listener.recv_batch(5_000)
            assert batch, "replayed frames never arrived"
            got += batch
    assert "replayed 5 events in 3 frames" in capsys.readouterr().err
    replayed, original = MonitorState(capacity=100), MonitorState(capacity=100)
    replayed.apply(got)
    original.apply(frames)
    states_equal(original, replayed)
    assert replayed.processes[("web1", 101, "boot-a")].lost_gaps == 4  # seq 3..6 never sent


def test_replay_without_a_monitor_fails_clearly(tmp_path, capsys):
    path = tmp_path / "rec.jsonl"
    write_recording(path)
    code = cli.main(["replay", str(path), "--to", "tcp://127.0.0.1:9", "--timeout", "0.2",
                     "--as-fast-as-possible"])
    assert code == 1
    assert "no monitor accepted events at tcp://127.0.0.1:9" in capsys.readouterr().err
    assert cli.main(["replay", str(tmp_path / "missing.jsonl")]) == 1


def test_export_perfetto(tmp_path, capsys):
    path = tmp_path / "rec.jsonl"
    write_recording(path)
    out = tmp_path / "trace.json"
    assert cli.main(["export", str(path), "--format", "perfetto", "--out", str(out)]) == 0
    events = json.loads(out.read_text())["traceEvents"]
    assert sum(e["ph"] == "X" and e["cat"] == "dispatch" for e in events) == 4
    assert sum(e["ph"] == "X" and e["cat"].startswith("receiver") for e in events) == 4
    assert "exported 4 dispatches" in capsys.readouterr().err
    assert cli.main(["export", str(path)]) == 0
    assert (tmp_path / "rec.jsonl.trace.json").is_file()


def test_gui_is_the_default_and_gets_its_options(monkeypatch):
    calls = []
    fake = types.ModuleType("monitor_gui.qt.app")
    fake.run_gui = lambda listen, open_file, curve, control, control_endpoint: calls.append(
        (listen, open_file, curve, control, control_endpoint)) or 3
    monkeypatch.setitem(sys.modules, "monitor_gui.qt.app", fake)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert cli.main([]) == 3
    assert cli.main(["gui", "--listen", "tcp://127.0.0.1:7000", "--open", "r.jsonl"]) == 3
    assert cli.main(["gui", "--no-control"]) == 3
    assert cli.main(["--control-listen", "ipc:///tmp/x"]) == 3
    assert calls == [(wire.DEFAULT_ENDPOINT, None, None, True, None),
                     ("tcp://127.0.0.1:7000", "r.jsonl", None, True, None),
                     (wire.DEFAULT_ENDPOINT, None, None, False, None),
                     (wire.DEFAULT_ENDPOINT, None, None, True, "ipc:///tmp/x")]
    assert cli.main(["--curve-clients", "x"]) == 2  # needs --curve-secret


def test_gui_explains_missing_display_or_pyside(monkeypatch, capsys):
    for var in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert cli.main(["gui"]) == 1
    assert "signal-monitor record" in capsys.readouterr().err
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setitem(sys.modules, "monitor_gui.qt.app", None)  # import fails
    assert cli.main(["gui"]) == 1
    err = capsys.readouterr().err
    assert "PySide6" in err and "signal-monitor record" in err


def test_keys_writes_certificates(tmp_path, capsys):
    assert cli.main(["keys", str(tmp_path / "k")]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "k" / "server.key_secret").is_file()
    assert (tmp_path / "k" / "clients" / "client.key").is_file()
    assert '"CURVE_SERVER_KEY": "' in out


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "monitor_gui", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0 and "record" in result.stdout and "replay" in result.stdout


def test_record_warns_on_non_loopback_without_curve(tmp_path, capsys):
    # An address this host does not have: the warning comes first, then a clear bind error
    # (so the test never really listens beyond loopback).
    code = cli.main(["record", "--listen", "tcp://192.0.2.1:5599", "--out",
                     str(tmp_path / "x.jsonl")])
    err = capsys.readouterr().err
    assert "not a loopback address" in err and "CurveZMQ" in err
    assert code == 1 and "cannot listen on tcp://192.0.2.1:5599" in err


@pytest.mark.parametrize("argv, listen", [
    (["record", "--out", "x.jsonl"], wire.DEFAULT_ENDPOINT),
    (["--listen", "tcp://127.0.0.1:7001", "record", "--out", "x.jsonl"], "tcp://127.0.0.1:7001"),
    (["record", "--listen", "tcp://127.0.0.1:7002", "--out", "x.jsonl"], "tcp://127.0.0.1:7002"),
    (["--listen", "tcp://127.0.0.1:7001", "record", "--listen", "tcp://127.0.0.1:7002",
      "--out", "x.jsonl"], "tcp://127.0.0.1:7002"),
    (["--listen", "tcp://127.0.0.1:7003", "gui"], "tcp://127.0.0.1:7003"),
    (["gui", "--listen", "tcp://127.0.0.1:7004"], "tcp://127.0.0.1:7004"),
    ([], wire.DEFAULT_ENDPOINT),
])
def test_listen_given_before_or_after_the_command_is_the_one_used(argv, listen):
    args = cli._parser().parse_args(argv)
    assert args.listen == listen
    assert args.curve_secret is None and args.curve_clients is None


def test_curve_options_given_before_the_command_are_kept(tmp_path):
    args = cli._parser().parse_args(["--curve-secret", str(tmp_path / "s"), "record",
                                     "--out", "x.jsonl"])
    assert args.curve_secret == tmp_path / "s"


def test_keys_refuses_a_directory_of_another_user(tmp_path, capsys):
    d = tmp_path / "theirs"
    d.mkdir()
    if os.geteuid() == 0:
        os.chown(d, 65534, 65534)
    else:
        d = Path("/")
    assert cli.main(["keys", str(d)]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert f"cannot create keys in {d}" in err and "belongs to another user" in err
    assert not (d / "server.key_secret").exists()


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


def test_replay_of_a_cut_gzip_sends_what_was_recovered_and_warns(tmp_path, context, capsys):
    path = tmp_path / "rec.jsonl.gz"
    with RecordingWriter(path) as writer:
        for i in range(40):
            writer.write(wire.Frame(PROC, i * 25, [dispatch(i * 25 + j) for j in range(25)], 0))
    data = path.read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    recovered = sum(len(f.events) for f in read_recording(cut))
    assert 0 < recovered < 1_000
    with Listener("tcp://127.0.0.1:*", context=context) as listener:
        code = cli.main(["replay", str(cut), "--to", listener.endpoint, "--as-fast-as-possible"])
        err = capsys.readouterr().err
        assert code == cli.EXIT_OK, err
        state = MonitorState(capacity=2_000)
        while state.totals.events < recovered:
            batch = listener.recv_batch(5_000)
            assert batch, "replayed frames never arrived"
            state.apply(batch)
    assert f"replayed {recovered} events" in err
    assert f"warning: {cut} was cut off" in err and "Traceback" not in err
