"""signal-monitor replay and export: round trips of a recording, cut recordings, Perfetto."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from django_probe import wire
from monitor_gui import cli
from monitor_gui.core.recording import RecordingWriter, read_recording
from monitor_gui.core.state import MonitorState
from monitor_gui.listener import Listener
from tests.monitor_gui.core.events import OTHER, PROC, dispatch, heartbeat


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
