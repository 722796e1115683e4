"""A screenshot of the main window with synthetic login traffic (offscreen).

Always rendered and checked; written to the path in SIGNAL_MONITOR_SCREENSHOT when set.
The README's screenshot comes from real demo traffic instead
(``python -m demo_site screenshot``, tested in tests/demo_site).
"""

from __future__ import annotations

import os

from tests.monitor_gui.qt.scenario import AUTH


def test_main_window_screenshot(tmp_path, qtbot, make_monitor, scenario):
    monitor = make_monitor()
    window = monitor.window
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    monitor.controller.enqueue(scenario.frames(40))
    monitor.controller.drain()
    qtbot.waitUntil(lambda: not window.graph.hot_edges(), timeout=5000)
    # One more (failing) login just arrived: its edges are lit up in the shot.
    monitor.controller.enqueue([scenario.frame(scenario.request(fail=True))])
    monitor.controller.drain()
    model = window.table_model
    failing = max(r for r in range(model.rowCount())
                  if model.line(r).signal == AUTH + "user_logged_in" and model.line(r).raised)
    window.table.selectRow(failing)
    # Zoom the timeline onto the last request so nesting and labels are readable.
    data = window.timeline_data
    window.timeline.set_window(data.t_max - 3.3e6, data.t_max + 0.2e6)
    qtbot.wait(150)  # the flash is fading: fresh edges glow, older ones are back to normal
    image = window.grab().toImage()
    assert (image.width(), image.height()) == (1600, 1000)
    colours = {image.pixel(x, y) for x in range(0, 1600, 37) for y in range(0, 1000, 29)}
    assert len(colours) > 30  # a real, busy window, not a blank surface
    assert "AuditError" in window.details.toPlainText()
    assert window.timeline.last_visible_total > 0
    image.save(str(tmp_path / "screenshot.png"))
    target = os.environ.get("SIGNAL_MONITOR_SCREENSHOT")
    if target:
        assert image.save(target)
