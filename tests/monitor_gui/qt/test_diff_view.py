"""The "Compare with…" action: a recording (A) against what the window holds (B)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from monitor_gui.core.diff import diff_recordings
from monitor_gui.qt import recording_io
from monitor_gui.qt.diff_view import COLUMNS, DiffModel
from tests.monitor_gui.core import diffdata


def test_model_of_the_changes(qtmodeltester, tmp_path):
    report = diff_recordings(diffdata.write(tmp_path / "a.jsonl", "a"),
                             diffdata.write(tmp_path / "b.jsonl", "b"))
    model = DiffModel()
    qtmodeltester.check(model, force_py=True)
    model.set_report(report)
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == len(report.all_changes()) == 7
    assert model.columnCount() == len(COLUMNS)
    first = [model.index(0, c).data() for c in range(len(COLUMNS))]
    assert first[:2] == ["new-errors", f"{diffdata.SIGNAL} => shop.receivers.flaky"]
    assert first[-1] == "builtins.ValueError"
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Change"


def test_compare_with_a_recording_shows_a_dialog(monitor, tmp_path, qtbot):
    a = diffdata.write(tmp_path / "a.jsonl", "a")
    b = diffdata.write(tmp_path / "b.jsonl", "b")
    recording_io.load(monitor.controller, str(b))
    window = monitor.window
    assert window.compare_action.text() == "Compare with…"
    dialog = window.compare_with(str(a))
    assert dialog.isVisible()
    assert dialog.model.rowCount() == 7
    assert "this window" in dialog.summary.text()
    dialog.close()
    same = window.compare_with(str(b))
    assert same.model.rowCount() == 0 and "No differences" in same.summary.text()
    same.close()
    assert len(monitor.state.store) == len(diffdata.plan("b"))  # the window is undisturbed
