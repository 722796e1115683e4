"""The main window's controls: pause, clear, lane modes, saved state, shortcuts, palette, banner."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from monitor_gui.core.query import Filter
from tests.monitor_gui.qt.scenario import feed


def test_pause_holds_frames_until_resume(monitor, scenario):
    window = monitor.window
    feed(monitor, scenario.frames(2))
    before = window.table_model.rowCount()
    window.pause_action.trigger()
    assert monitor.controller.paused and window.pause_action.text() == "Resume"
    feed(monitor, [scenario.frame(scenario.request())])
    assert window.table_model.rowCount() == before
    assert "paused" in window.status.labels["paused"].text()
    window.pause_action.trigger()
    monitor.controller.drain()
    assert window.table_model.rowCount() > before
    assert window.status.labels["paused"].text() == ""


def test_clear_empties_every_view(monitor, scenario):
    window = monitor.window
    feed(monitor, scenario.frames(3))
    window.clear_action.trigger()
    assert window.table_model.rowCount() == 0
    assert len(window.timeline_data) == 0
    assert not window.graph.nodes
    assert window.signal_model.rowCount() == 0
    assert window.filters.process.count() == 1  # only "All processes" is left
    feed(monitor, scenario.frames(1))
    assert window.table_model.rowCount() == len(monitor.state.store) > 0


def test_lane_modes(monitor, scenario):
    window = monitor.window
    feed(monitor, scenario.frames(3))
    window.lanes.setCurrentText("Lanes: request")
    assert len(window.timeline_data.lane_names) == 3
    assert window.timeline_data.lane_names[0] == "POST /accounts/login/ · req-1"
    window.lanes.setCurrentText("Lanes: thread")
    assert window.timeline_data.lane_names == ["MainThread"]
    assert len(window.timeline_data) == len(monitor.state.store)


def test_window_state_is_remembered(tmp_path, qtbot, make_monitor):
    from monitor_gui.qt.window import MainWindow

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    monitor = make_monitor()
    first = MainWindow(monitor.controller, None, settings)
    qtbot.addWidget(first)
    first.resize(700, 500)  # within the 800x600 offscreen screen
    first.lanes.setCurrentText("Lanes: thread")
    first.close()
    second = MainWindow(monitor.controller, None, settings)
    qtbot.addWidget(second)
    assert second.lanes.currentText() == "Lanes: thread"
    assert (second.width(), second.height()) == (700, 500)


def test_keyboard_shortcuts(qtbot, monitor, scenario):
    from PySide6.QtCore import Qt

    window = monitor.window
    window.show()
    qtbot.waitExposed(window)
    window.windowHandle().requestActivate()
    qtbot.waitUntil(window.isActiveWindow)  # shortcuts only reach the active window
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    assert monitor.controller.paused
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    assert not monitor.controller.paused
    feed(monitor, scenario.frames(2))
    qtbot.keyClick(window.table, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.table_model.rowCount() == 0
    shortcuts = {a.text(): a.shortcut().toString() for a in window.actions()}
    assert shortcuts["Export graph…"] == "Ctrl+E" and shortcuts["Open…"] == "Ctrl+O"


def test_dark_palette_switches_every_custom_view(qtbot, monitor, scenario):
    from PySide6.QtWidgets import QApplication

    from monitor_gui.qt.theme import DARK, LIGHT, current_theme, dark_palette

    window = monitor.window
    feed(monitor, scenario.frames(2))
    app = QApplication.instance()
    original = app.palette()
    try:
        app.setPalette(dark_palette())
        assert current_theme() is DARK
        window.on_color_scheme_changed(None)  # what the system's scheme change triggers
        assert window.graph.backgroundBrush().color() == DARK.background
        assert window.timeline.theme is DARK and window.details.theme is DARK
        image = window.timeline.grab().toImage()
        assert image.pixelColor(image.width() - 2, image.height() - 2).lightness() < 80
    finally:
        app.setPalette(original)
    window.apply_theme(current_theme())
    assert window.graph.backgroundBrush().color() == LIGHT.background


def test_shortcuts_help_lists_every_action(monitor):
    text = monitor.window.shortcuts_text()
    for action in ("Pause", "Clear", "Open", "Save", "Export graph", "Fit graph",
                   "Follow live", "Find", "Leave focus", "Esc", "Ctrl+E", "Shift+wheel"):
        assert action in text


def test_banner_says_how_to_connect(qtbot):
    from django_probe import wire
    from monitor_gui.qt.status import Banner

    banner = Banner(wire.DEFAULT_ENDPOINT)
    text = banner.label.text()
    assert "INSTALLED_APPS" in text and "django_probe" in text and "by itself" in text
    banner.set_endpoint("tcp://127.0.0.1:6000")
    text = banner.label.text()
    assert "SIGNAL_PROBE_ENDPOINT=tcp://127.0.0.1:6000" in text and "ENDPOINT" in text
    banner.set_endpoint(None)
    assert "Not listening" in banner.label.text()


def test_clear_forgets_rows_waiting_for_graph_dimming(monitor, scenario):
    window = monitor.window
    window.apply_filter(Filter(processes=frozenset({"devbox:4242"})))  # a dimming filter
    feed(monitor, scenario.frames(14))  # rows queue up for the once-a-second dimming pass
    window.clear_action.trigger()  # absolute rows start again at 0
    feed(monitor, scenario.frames(1))
    window._dimmed_at = 0.0  # the next tick may dim
    window._update_dimming()
    assert window.graph._counts == window._counts
    assert window._counts == {(e.kind, e.src, e.dst): e.count
                              for e in monitor.state.graph.edges() if e.count}
