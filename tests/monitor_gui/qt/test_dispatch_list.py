"""The dispatch list: parents before their children live, names elided at the start,
columns fitted to their content, and details that follow the filter."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QStyleOptionViewItem

from django_probe import wire
from monitor_gui.core.listorder import tree_order
from monitor_gui.core.query import Filter
from monitor_gui.qt.dispatch_table import DispatchTable
from monitor_gui.qt.theme import elide_dotted
from tests.monitor_gui.qt.scenario import AUTH, PROC, SIG

T0 = 1_764_000_000_000_000_000
WSGI = "django.core.handlers.wsgi.WSGIHandler"


def event(did: int, ts: int, parent: int | None = None, signal: str = SIG + "post_save",
          sender: str = "auth.User") -> wire.Dispatch:
    return wire.Dispatch(wire.KIND_DISPATCH, T0 + ts, did, parent, signal, sender, "send",
                         1_000, "MainThread", 1, None, None, {}, [], False, None)


class Feed:
    """Frames with consecutive sequence numbers, each applied and announced at once."""

    def __init__(self, monitor) -> None:
        self.monitor, self.seq = monitor, 0

    def __call__(self, *events: wire.Dispatch) -> None:
        self.monitor.controller.apply_now([wire.encode_frame(PROC, self.seq, list(events))])
        self.seq += len(events)


def listed(model) -> list[tuple[int, str]]:
    """(dispatch id, Signal column text) of every line, top to bottom."""
    store = model.store
    return [(store.row(model.absolute_row(r)).id, model.index(r, 1).data())
            for r in range(model.rowCount())]


def test_children_shown_before_their_parent_move_under_it(qtmodeltester, monitor):
    model, table = monitor.window.table_model, monitor.window.table
    qtmodeltester.check(model, force_py=True)  # and keeps checking every change below
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    feed = Feed(monitor)
    feed(event(10, 0))  # an unrelated root, listed first throughout
    # The probe sends a dispatch when it ends: the grandchild, then the children...
    feed(event(4, 40, parent=3), event(3, 30, parent=1))
    feed(event(2, 20, parent=1, signal=SIG + "pre_save"))
    assert [i for i, _ in listed(model)] == [10, 3, 4, 2]  # 4 is under 3 already
    grandchild = model.model_row(monitor.state.store.first + 1)
    table.setCurrentIndex(model.index(grandchild, 0))
    feed(event(1, 10, signal=AUTH + "user_logged_in"))  # ...and the parent last
    assert listed(model) == [(10, "post_save"), (1, "user_logged_in"), (2, "└ pre_save"),
                             (3, "└ post_save"), (4, "   └ post_save")]
    # The selected line moved with its dispatch (a layout change, not a reset).
    assert model.absolute_row(table.currentIndex().row()) == monitor.state.store.first + 1
    feed(event(5, 50, parent=1))  # a late child (an async task) joins its tree
    feed(event(6, 60))
    assert [i for i, _ in listed(model)] == [10, 1, 2, 3, 4, 5, 6]
    assert not resets
    qtmodeltester.check(model, force_py=True)


def test_evicting_a_child_whose_parent_stays_removes_the_right_line(qtmodeltester,
                                                                    make_monitor):
    monitor = make_monitor(capacity=4)
    model = monitor.window.table_model
    qtmodeltester.check(model, force_py=True)
    feed = Feed(monitor)
    feed(event(2, 20, parent=1), event(7, 5), event(8, 6), event(1, 10))
    assert [i for i, _ in listed(model)] == [7, 8, 1, 2]
    feed(event(9, 70))  # evicts row 0, dispatch 2: the last line, not the first
    assert [i for i, _ in listed(model)] == [7, 8, 1, 9]
    qtmodeltester.check(model, force_py=True)


def test_real_recording_lists_parents_first_live_as_after_a_reset(qtmodeltester, make_monitor,
                                                                   real_frames):
    monitor = make_monitor(capacity=100_000)
    model = monitor.window.table_model
    resets, moves = [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.layoutChanged.connect(lambda *_: moves.append(1))
    for i in range(0, len(real_frames), 3):  # announced every 3 frames: parents come later
        monitor.controller.apply_now(real_frames[i:i + 3])
    assert not resets and moves  # some parents came a flush after their children
    store = monitor.state.store
    shown = model.order.rows.copy()
    roots, perm = tree_order(store, np.arange(store.first, store.end, dtype=np.int64))
    assert shown.tolist() == (np.arange(store.first, store.end)[perm]).tolist()
    depth = store.column("depth", shown)
    parent = store.column("parent", shown)
    at = {int(r): i for i, r in enumerate(shown)}
    nested = np.flatnonzero(depth > 0)
    assert len(nested) > 10_000
    assert all(at[int(parent[i])] < i for i in nested)
    assert all(model.index(int(i), 1).data().startswith("└ ") for i in nested[:500])
    # A filter that hides the parents (post_migrate) keeps their children together.
    monitor.controller.set_filter(Filter(signals=frozenset({SIG + "pre_init",
                                                            SIG + "post_init"})))
    qtmodeltester.check(model, force_py=True)
    lines = model.order.rows
    assert np.all(np.diff(model.order.roots) >= 0)
    assert len(lines) == len(monitor.controller.selection)


def test_long_names_keep_their_end():
    def width(text: str) -> float:
        return len(text)

    assert elide_dotted(WSGI, 100, width) == WSGI
    widths = range(len(WSGI), 1, -1)
    fitted = [elide_dotted(WSGI, w, width) for w in widths]
    assert all(len(text) <= w for w, text in zip(widths, fitted, strict=True))
    assert "d.c.handlers.wsgi.WSGIHandler" in fitted
    assert "…wsgi.WSGIHandler" in fitted
    assert "…WSGIHandler" in fitted
    assert all(t.endswith("WSGIHandler") for t in fitted if len(t) >= len("…WSGIHandler"))
    assert not any("cor…" in t for t in fitted)  # never in the middle
    assert elide_dotted("   └ " + WSGI, 18, width) == "   └ …WSGIHandler"
    assert elide_dotted("WSGIHandler", 6, width) == "…ndler"
    # An instance sender keeps its "<" (not the initial of "<django"): "<d.t.base.Template>".
    template = "<django.template.base.Template>"
    assert elide_dotted(template, 20, width) == "<d.t.base.Template>"


def test_the_sender_column_elides_from_the_left(qtbot, monitor):
    Feed(monitor)(event(1, 0, signal="django.core.signals.request_started", sender=WSGI))
    table, model = monitor.window.table, monitor.window.table_model
    table.resize(1000, 200)
    table.setColumnWidth(2, 140)
    index = model.index(0, 2)
    option = QStyleOptionViewItem()
    option.initFrom(table)
    option.rect = table.visualRect(index)
    option.rect.setWidth(110)
    table.itemDelegateForColumn(2).initStyleOption(option, index)
    assert option.text != WSGI and option.text.endswith("WSGIHandler")
    assert QFontMetrics(option.font).horizontalAdvance(option.text) <= 110
    assert index.data(Qt.ItemDataRole.ToolTipRole) == f"<qt>{WSGI}</qt>"  # full name


def test_columns_fit_their_content(qtbot, monitor, scenario):
    monitor.controller.enqueue(scenario.frames(30))
    monitor.controller.drain()
    model = monitor.window.table_model
    table = DispatchTable(model)  # alone, as wide as a maximised window gives it
    qtbot.addWidget(table)
    table.resize(1200, 300)
    table.show()
    qtbot.waitExposed(table)
    metrics = QFontMetrics(table.font())
    assert metrics.horizontalAdvance("18:25:41.612") < table.columnWidth(0)
    for col in range(model.columnCount()):
        widest = max(metrics.horizontalAdvance(model.index(r, col).data() or "")
                     for r in range(model.rowCount()))
        header = metrics.horizontalAdvance(model.COLUMNS[col])
        assert max(widest, header) < table.columnWidth(col), model.COLUMNS[col]
    header = table.horizontalHeader()
    assert header.sectionResizeMode(2) == header.ResizeMode.Stretch  # the sender
    # Narrower, the Request column gives way first, and the sender keeps some room.
    table.resize(900, 300)
    qtbot.waitUntil(lambda: table.columnWidth(6) < max(
        metrics.horizontalAdvance(model.index(r, 6).data()) for r in range(3)))
    assert table.columnWidth(2) >= 150
    assert metrics.horizontalAdvance("18:25:41.612") < table.columnWidth(0)


def test_details_clear_when_the_filter_hides_the_selected_dispatch(qtbot, monitor, scenario):
    monitor.controller.enqueue(scenario.frames(3))
    monitor.controller.drain()
    window, model = monitor.window, monitor.window.table_model
    hint = "Select a dispatch"
    assert hint in window.details.toPlainText()
    login = next(r for r in range(model.rowCount())
                 if model.index(r, 1).data() == "user_logged_in")
    window.table.setCurrentIndex(model.index(login, 0))
    chosen = model.absolute_row(login)
    assert window.details.current == chosen and hint not in window.details.toPlainText()
    # Still shown under the new filter: still selected and detailed.
    window.signal_model.set_checked({AUTH + "user_logged_in", SIG + "post_save"})
    assert window.details.current == chosen
    assert model.absolute_row(window.table.currentIndex().row()) == chosen
    # Hidden: the pane says so instead of describing a dispatch the list no longer has.
    window.signal_model.set_checked({SIG + "pre_save"})
    assert model.model_row(chosen) is None
    assert window.details.current is None and hint in window.details.toPlainText()
    assert not window.table.currentIndex().isValid() or window.table.currentIndex() == \
        QModelIndex()
