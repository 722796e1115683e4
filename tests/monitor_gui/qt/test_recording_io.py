"""Open/save recordings from the window: a saved session reopens to the same views."""

from __future__ import annotations

from django_probe import wire
from monitor_gui.core.recording import read_recording
from monitor_gui.qt import recording_io


def feed(monitor, frames) -> None:
    monitor.controller.enqueue(frames)
    monitor.controller.drain()


def test_save_then_open_restores_the_views(tmp_path, make_monitor, scenario):
    source = make_monitor()
    feed(source, scenario.frames(8))
    path = tmp_path / "session.jsonl.gz"
    source.window.save_recording(str(path))
    assert "Saved" in source.window.status.currentMessage()
    frames = list(read_recording(path))
    dispatches = [e for f in frames for e in f.events if e.kind == "D"]
    assert len(dispatches) == len(source.state.store)
    assert any(e.kind == "T" for f in frames for e in f.events)  # topology kept

    target = make_monitor()
    target.window.open_recording(str(path))
    window = target.window
    assert target.controller.paused  # live input must not overwrite what was opened
    assert window.table_model.rowCount() == len(source.state.store)
    assert len(window.timeline_data) == len(source.state.store)
    assert set(window.graph.nodes) == set(source.window.graph.nodes)
    assert window.graph.nodes[("receiver", "accounts.receivers.purge_avatar")].known_only
    assert target.state.totals.lost == 0 and target.state.totals.malformed == 0
    original = source.state.store.row(source.state.store.first + 5)
    reopened = target.state.store.row(target.state.store.first + 5)
    assert reopened.to_dispatch() == original.to_dispatch()
    assert reopened.parent_row is not None or original.parent_row is None
    # What was loaded did not arrive live: the next rate reading is 0 events/s.
    target.controller._update_rate()
    assert target.controller.rate == 0.0


def test_opening_a_bad_file_warns_instead_of_crashing(tmp_path, monkeypatch, monitor):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "D", "nonsense": true}\nnot json at all\n')
    warnings = []
    monkeypatch.setattr("monitor_gui.qt.window_files.QMessageBox.warning",
                        lambda *a: warnings.append(a[2]))
    monitor.window.open_recording(str(bad))
    missing = tmp_path / "missing.jsonl"
    monitor.window.open_recording(str(missing))
    assert any("missing.jsonl" in w for w in warnings)
    assert monitor.window.table_model.rowCount() == 0


def test_frames_of_groups_events_per_process(make_monitor, scenario):
    monitor = make_monitor()
    feed(monitor, scenario.frames(3))
    from tests.monitor_gui.qt.scenario import PROC

    frames = list(recording_io.frames_of(monitor.state))
    assert {f.proc for f in frames} == {PROC}
    seqs = [f.seq for f in frames]
    assert seqs == sorted(seqs) and seqs[0] == 0


def test_build_with_open_file_shows_the_recording(tmp_path, qtbot, make_monitor, scenario):
    from monitor_gui.qt.app import build

    source = make_monitor()
    feed(source, scenario.frames(4))
    path = tmp_path / "r.jsonl"
    source.window.save_recording(str(path))
    opened = build(None, open_file=str(path), capacity=5_000)
    qtbot.addWidget(opened.window)
    try:
        assert opened.window.table_model.rowCount() == len(source.state.store)
        assert opened.window.timeline.follow is False  # fitted to the recording, not live
    finally:
        opened.shutdown()


def test_a_recording_cut_short_opens_up_to_the_cut_and_says_so(tmp_path, make_monitor, scenario):
    from monitor_gui.core.recording import RecordingWriter

    path = tmp_path / "cut.jsonl.gz"
    with RecordingWriter(path) as writer:
        for data in scenario.frames(30):
            writer.write(wire.decode_frame(data))
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) * 2 // 3])  # as if the recorder was SIGKILLed
    monitor = make_monitor()
    monitor.window.open_recording(str(path))
    assert len(monitor.state.store) > 0
    message = monitor.window.status.currentMessage()
    assert "recovered" in message and "complete lines" in message
    assert len(monitor.state.store) <= sum(
        1 for f in read_recording(path) for e in f.events if e.kind == "D")


def test_a_saved_session_diagnoses_as_the_live_one(tmp_path, make_monitor, scenario):
    from monitor_gui.core.diagnostics import diagnose
    from tests.monitor_gui.core.events import Interning

    source = make_monitor()
    feed(source, scenario.frames(8))
    # A signal sent that nothing received (a Counts event): kept by a save.
    feed(source, Interning(seq=10_000).frames([wire.Counts(
        wire.KIND_COUNTS, 1, 10, [wire.EmptyCount("shop.signals.paid", "shop.Order", "send",
                                                  3)])]))
    before = diagnose(source.state)
    assert any(f.kind == "unheard" for f in before)
    path = tmp_path / "session.jsonl"
    source.window.save_recording(str(path))
    target = make_monitor()
    target.window.open_recording(str(path))
    assert diagnose(target.state) == before


def test_a_saved_session_keeps_rolled_back_rows_and_on_commit_callbacks(tmp_path, make_monitor):
    from tests.monitor_gui.core.events import dispatch, frame
    from tests.monitor_gui.core.test_rollbacks import T0, rollback, tx_dispatch
    from tests.monitor_gui.core.test_transactions import callback

    source = make_monitor()
    feed(source, [frame([
        tx_dispatch(1, serial=1), tx_dispatch(2, serial=1), tx_dispatch(3, serial=1, depth=2),
        tx_dispatch(4, serial=3, tid=7), dispatch(5),  # another thread's; autocommit
        rollback(1, T0 + 5_500),
        tx_dispatch(8, serial=2),  # the next transaction on the thread: committed
        tx_dispatch(9, serial=4),  # and the one after: undone
        rollback(3, T0 + 9_000, tid=7), rollback(4, T0 + 9_500),
        tx_dispatch(10, serial=5), rollback(5, T0 + 10_500)._replace(by_test=True),
        callback(3, wire.DISCARDED), callback(8)])])
    store = source.state.store
    marks = [(store.row(r).rolled_back, store.row(r).by_test)
             for r in range(store.first, store.end)]
    assert [m for m, _t in marks] == [True, True, True, True, False, False, True, True]
    assert [t for _m, t in marks] == [False] * 7 + [True]  # a TestCase's: kept apart
    path = tmp_path / "session.jsonl"
    source.window.save_recording(str(path))

    target = make_monitor()
    target.window.open_recording(str(path))
    reopened = target.state.store
    assert [(reopened.row(r).rolled_back, reopened.row(r).by_test)
            for r in range(reopened.first, reopened.end)] == marks
    assert [len(reopened.row(r).callbacks) for r in range(reopened.first, reopened.end)] == [
        0, 0, 1, 0, 0, 1, 0, 0]
