"""The graph on a real project's traffic (281 senders): fits, groups, focus, search, export."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QFontInfo, QImage

from monitor_gui.core.graph import SENDER_TO_SIGNAL
from monitor_gui.core.wiring import GROUP, NODE, group_of

POST_SAVE = "django.db.models.signals.post_save"
REQUEST_STARTED = "django.core.signals.request_started"
LOG_CREATE = "auditlog.receivers.log_create"


@pytest.fixture
def real_window(make_monitor, real_frames, qtbot):
    monitor = make_monitor(capacity=100_000)
    window = monitor.window
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    monitor.controller.apply_now(real_frames)
    graph = window.graph
    qtbot.waitUntil(lambda: graph.wiring is not None and len(graph.nodes) > 20)
    return window


def _in_view(graph, item) -> bool:
    box = graph.mapFromScene(item.sceneBoundingRect()).boundingRect()
    return graph.viewport().rect().contains(box)


def _click(qtbot, graph, item) -> None:
    pos = graph.mapFromScene(item.sceneBoundingRect().center())
    qtbot.mouseClick(graph.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos))


def test_all_three_columns_lie_within_the_view_at_100_percent(real_window):
    graph = real_window.graph
    assert graph.transform().m11() == 1.0
    assert QFontInfo(graph.font_normal).pointSizeF() >= 9.0
    for kind in ("sender", "signal", "receiver"):
        items = [i for (k, _), i in graph.nodes.items() if k == kind]
        assert items, kind
        assert all(_in_view(graph, i) for i in items), kind
    # The 281 senders are grouped by app, not drawn one box each.
    senders = [i for (k, _), i in graph.nodes.items() if k == "sender"]
    assert len(senders) <= graph.row_budget() < 281
    assert any(i.row.role == GROUP for i in senders)


def test_a_group_expands_on_a_click_and_collapses_again(qtbot, real_window):
    graph = real_window.graph
    auth = graph.nodes[("sender", "sender@auth")]
    assert auth.row.role == GROUP and not auth.row.expanded
    _click(qtbot, graph, auth)
    members = {n for (k, n), i in graph.nodes.items() if k == "sender" and i.row.group == "auth"
               and i.row.role == NODE}
    assert "auth.Permission" in members and len(members) == graph.opts.top_n
    more = graph.nodes[("sender", "sender+auth")]
    assert more.row.label == f"+{len(auth.row.members) - len(members)} more"
    # Still fits at 100 %: other apps folded to make room.
    assert graph.transform().m11() == 1.0
    assert all(_in_view(graph, i) for i in graph.nodes.values())
    _click(qtbot, graph, more)  # "+N more": every member of auth
    assert sum(1 for i in graph.nodes.values() if i.row.group == "auth"
               and i.row.role == NODE and i.kind == "sender") == len(auth.row.members)
    _click(qtbot, graph, graph.nodes[("sender", "sender@auth")])  # collapse
    assert not graph.nodes[("sender", "sender@auth")].row.expanded
    assert ("sender", "auth.Permission") not in graph.nodes


def test_focus_fades_everything_but_the_neighbourhood_and_cascade(real_window):
    graph = real_window.graph
    real_window.focus_node("signal", POST_SAVE)
    assert graph.focus == ("signal", POST_SAVE)
    assert not graph.is_dimmed("signal", POST_SAVE)
    assert not graph.is_dimmed("receiver", LOG_CREATE)  # a receiver of post_save
    assert not graph.is_dimmed("signal", "auditlog.signals.post_log")  # sent by log_create
    assert graph.is_dimmed("signal", REQUEST_STARTED)
    assert graph.is_dimmed("sender", "django.test.client.ClientHandler")
    # Edges: post_save -> log_create lit, request_started's faded.
    lit = [e for e in graph.edges.values() if e.src.kind == "signal" and e.src.name == POST_SAVE]
    assert lit and all(e.opacity() == 1.0 for e in lit)
    faded = [e for e in graph.edges.values() if e.src.name == REQUEST_STARTED]
    assert faded and all(e.opacity() < 0.5 for e in faded)
    # The list and timeline show post_save only; the breadcrumb names the focus.
    assert real_window.signal_model.checked_signals() == frozenset({POST_SAVE})
    assert "post_save" in real_window.graph_panel.crumb.text()
    real_window.leave_focus()
    assert not any(i.opacity() < 1.0 for i in graph.nodes.values())


def test_search_focuses_a_receiver_folded_inside_its_group(qtbot, real_window):
    graph, panel = real_window.graph, real_window.graph_panel
    assert ("receiver", LOG_CREATE) not in graph.nodes  # inside the collapsed auditlog group
    with qtbot.waitSignal(panel.searchFound) as found:
        assert panel.find("log_create")
    assert found.args == ["receiver", LOG_CREATE]
    item = graph.nodes[("receiver", LOG_CREATE)]
    assert item.selected_node and _in_view(graph, item)
    assert not panel.find("no-such-thing-anywhere")


def test_node_counts_follow_the_filter_and_the_tooltip_keeps_the_total(real_window):
    graph, state = real_window.graph, real_window.state
    process = next(iter(state.processes.values())).label
    real_window.filters.process.setCurrentText(process)
    rows = real_window.controller.selection.rows
    senders = state.store.column("sender", rows)
    want = sum(int(np.count_nonzero(senders == state.strings.lookup(n)))
               for n in graph.nodes[("sender", "sender@auth")].row.members
               if state.strings.lookup(n) is not None)
    auth = graph.nodes[("sender", "sender@auth")]
    total = sum(e.count for e in state.graph.edges()
                if e.kind == SENDER_TO_SIGNAL and group_of("sender", e.src) == "auth")
    assert auth.count == want and auth.row.total == total
    if want != total:
        assert f"of {total:,} in all" in auth.toolTip()


def test_export_draws_what_the_window_draws(qtbot, tmp_path, real_window):
    graph = real_window.graph
    qtbot.waitUntil(lambda: not graph.hot_edges(), timeout=5000)  # flashes fade in time
    path = tmp_path / "graph.png"
    assert graph.export(str(path))
    exported = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
    shown = graph.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    assert exported.size() == shown.size()
    a = np.frombuffer(exported.constBits(), np.uint8).reshape(exported.height(), -1, 4)
    b = np.frombuffer(shown.constBits(), np.uint8).reshape(shown.height(), -1, 4)
    differ = np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 40
    assert np.mean(differ) < 0.01  # the same picture (antialiasing of the curves aside)
    svg = tmp_path / "graph.svg"
    assert graph.export(str(svg))
    assert "SENDERS" in svg.read_text() and QRectF(graph.viewport().rect()).width() > 0


def test_the_signal_search_box_filters_every_view(qtbot, real_window):
    graph, window = real_window.graph, real_window
    with qtbot.waitSignal(window.controller.filterChanged, timeout=5000):
        window.filters.search.setText("post_")  # post_save, post_init, post_delete, ...
    shown = {n for (k, n) in graph.nodes if k == "signal"}
    assert shown and all("post_" in n for n in shown)
    signals = window.state.store.column("signal", window.controller.selection.rows)
    names = {window.state.strings.get(int(s)) for s in set(signals.tolist())}
    assert names and all("post_" in n for n in names)
    with qtbot.waitSignal(window.controller.filterChanged, timeout=5000):
        window.filters.search.setText("no-such-signal")
    assert window.controller.selection.rows.size == 0
    assert not any(k == "signal" for k, _ in graph.nodes)
