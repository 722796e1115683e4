"""Closing a window with unsaved live events: Save / Discard / Cancel, and "don't ask again"."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from monitor_gui.core.recording import read_recording
from monitor_gui.qt.close_guard import ASK_ENV, ASK_KEY, Answer, CloseGuard


def feed(monitor, frames) -> None:
    monitor.controller.enqueue(frames)
    monitor.controller.drain()


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def guarded(make_monitor, settings):
    """A window as run_gui makes it: the guard in its closeEvent; ask() answered by tests."""
    guards: list[CloseGuard] = []

    def make(answers: list[tuple[Answer, bool]], environ: dict | None = None):
        monitor = make_monitor()
        guard = CloseGuard(monitor.window, monitor.controller, settings, environ or {})
        asked: list[int] = []

        def ask(count: int) -> tuple[Answer, bool]:
            asked.append(count)
            # Out of answers: pytest-qt's teardown closing the window (before ours runs).
            return answers.pop(0) if answers else (Answer.Discard, False)

        guard.ask = ask
        guards.append(guard)
        monitor.window.close_guard = guard
        monitor.window.show()
        return monitor, guard, asked

    yield make
    for guard in guards:
        guard.enabled = False


def test_nothing_received_closes_without_asking(guarded):
    monitor, guard, asked = guarded([])
    assert monitor.window.close()
    assert asked == []


def test_cancel_keeps_the_window_then_discard_closes_it(guarded, scenario):
    monitor, guard, asked = guarded([(Answer.Cancel, False), (Answer.Discard, False)])
    feed(monitor, scenario.frames(3))
    stored = len(monitor.state.store)
    assert stored > 0
    assert not monitor.window.close()
    assert monitor.window.isVisible() and asked == [stored]
    assert monitor.window.close()
    assert not monitor.window.isVisible() and asked == [stored, stored]
    assert monitor.window.close()  # closed for good: no second question (run_gui disposes)
    assert len(asked) == 2


def test_save_writes_the_recording_then_closes(guarded, scenario, tmp_path, monkeypatch):
    monitor, guard, asked = guarded([(Answer.Save, False)])
    feed(monitor, scenario.frames(2))
    path = tmp_path / "kept.jsonl"
    monkeypatch.setattr("monitor_gui.qt.window_files.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(path), ""))
    assert monitor.window.close()
    assert len(asked) == 1
    saved = sum(1 for f in read_recording(path) for e in f.events if e.kind == "D")
    assert saved == len(monitor.state.store)


def test_save_cancelled_in_the_file_dialog_keeps_the_window(guarded, scenario, monkeypatch):
    monitor, guard, asked = guarded([(Answer.Save, False)])
    feed(monitor, scenario.frames(2))
    monkeypatch.setattr("monitor_gui.qt.window_files.QFileDialog.getSaveFileName",
                        lambda *a, **k: ("", ""))
    assert not monitor.window.close()
    assert monitor.window.isVisible()


def test_saving_from_the_menu_or_clearing_leaves_nothing_to_ask(guarded, scenario, tmp_path):
    monitor, guard, asked = guarded([])
    feed(monitor, scenario.frames(2))
    monitor.window.save_recording(str(tmp_path / "menu.jsonl"))
    assert guard.pending() == 0
    feed(monitor, scenario.frames(1))
    assert guard.pending() > 0
    monitor.controller.clear()
    assert guard.pending() == 0
    assert monitor.window.close() and asked == []


def test_an_opened_recording_is_not_unsaved(guarded, scenario, tmp_path, make_monitor):
    source = make_monitor()
    feed(source, scenario.frames(3))
    path = tmp_path / "r.jsonl"
    source.window.save_recording(str(path))
    monitor, guard, asked = guarded([])
    monitor.window.open_recording(str(path))
    assert len(monitor.state.store) > 0 and guard.pending() == 0
    assert monitor.window.close() and asked == []


def test_dont_ask_again_is_remembered(guarded, scenario, settings):
    monitor, guard, asked = guarded([(Answer.Discard, True)])
    feed(monitor, scenario.frames(1))
    assert monitor.window.close()
    assert str(settings.value(ASK_KEY)).lower() == "false"
    again, guard2, asked2 = guarded([])
    feed(again, scenario.frames(1))
    assert again.window.close() and asked2 == []


@pytest.mark.parametrize(("value", "asks"), [("0", False), ("no", False), ("1", True)])
def test_the_environment_variable_decides_over_the_setting(guarded, scenario, settings,
                                                          value, asks):
    settings.setValue(ASK_KEY, False)
    monitor, guard, asked = guarded([(Answer.Discard, False)], {ASK_ENV: value})
    feed(monitor, scenario.frames(1))
    assert monitor.window.close()
    assert bool(asked) is asks


def test_the_real_question_answered_by_clicking(make_monitor, settings, scenario, qtbot):
    """The modal QMessageBox itself (not a replaced ask()), answered from a timer."""
    monitor = make_monitor()
    guard = CloseGuard(monitor.window, monitor.controller, settings, {})
    monitor.window.close_guard = guard
    monitor.window.show()
    feed(monitor, scenario.frames(1))
    qtbot.addWidget(monitor.window, before_close_func=lambda w: setattr(guard, "enabled", False))
    seen: list[str] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append(box.text())
        box.checkBox().setChecked(True)
        box.button(QMessageBox.StandardButton.Discard).click()

    QTimer.singleShot(0, answer)
    assert monitor.window.close()
    assert "not saved" in seen[0] and str(len(monitor.state.store)) in seen[0]
    assert str(settings.value(ASK_KEY)).lower() == "false"
