"""`signal-monitor export --format svg|png`: the window's picture of a recording, headless."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from monitor_gui.cli import main
from monitor_gui.qt import recording_io
from tests.monitor_gui.conftest import REAL_RECORDING


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1, 4).astype(int)


def test_png_export_is_what_the_window_draws_at_its_default_size(qtbot, tmp_path,
                                                                  make_monitor):
    out = tmp_path / "graph.png"
    assert main(["export", "--format", "png", str(REAL_RECORDING), "--out", str(out)]) == 0
    monitor = make_monitor(capacity=100_000)
    window = monitor.window
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    recording_io.load(monitor.controller, str(REAL_RECORDING))
    graph = window.graph
    qtbot.waitUntil(lambda: not graph._resize_timer.isActive())
    for edge in graph.edges.values():
        edge.heat = 0.0
        edge.refresh()
    shown = graph.viewport().grab().toImage()
    exported = QImage(str(out))
    assert exported.size() == shown.size()
    differ = np.abs(_pixels(exported) - _pixels(shown)).max(axis=2) > 40
    assert np.mean(differ) < 0.01


def test_svg_export_of_one_signal_and_of_the_timeline(tmp_path, capsys):
    out = tmp_path / "post_save.svg"
    assert main(["export", "--format", "svg", str(REAL_RECORDING), "--out", str(out),
                 "--signal", "post_save"]) == 0
    text = out.read_text()
    assert "post_save" in text and "request_started" not in text
    assert "3,885 dispatches (1 signals)" in capsys.readouterr().err
    timeline = tmp_path / "timeline.png"
    assert main(["export", "--format", "png", "--timeline", str(REAL_RECORDING),
                 "--out", str(timeline)]) == 0
    assert QImage(str(timeline)).width() > 600
    window = tmp_path / "window.png"
    assert main(["export", "--format", "png", "--window", str(REAL_RECORDING),
                 "--out", str(window)]) == 0
    assert QImage(str(window)).size().toTuple() == (1600, 1000)


def test_export_errors_are_clear(tmp_path, capsys):
    out = tmp_path / "x.png"
    assert main(["export", "--format", "png", str(REAL_RECORDING), "--out", str(out),
                 "--signal", "nope"]) == 1
    assert "no signal 'nope' in the recording (it has: accessed" in capsys.readouterr().err
    assert main(["export", "--format", "png", str(tmp_path / "missing.jsonl"),
                 "--out", str(out)]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["export", "--format", "svg", str(REAL_RECORDING), "--out", str(out)]) == 2
    assert main(["export", str(REAL_RECORDING), "--timeline"]) == 2
    assert main(["export", str(REAL_RECORDING), "--window"]) == 2
