"""The details pane: the request a dispatch served (with its traceparent), its parent, and
whether a rollback undid it."""

from __future__ import annotations

from django_probe import wire
from monitor_gui.core.state import MonitorState
from monitor_gui.qt.details import DetailsPane
from tests.monitor_gui.core.events import dispatch, frame

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_the_request_and_its_traceparent_are_shown(qtbot):
    state = MonitorState(capacity=10)
    state.apply([frame([
        dispatch(1)._replace(request=wire.RequestInfo("req-t", "GET", "/orders/", TRACEPARENT)),
        dispatch(2)._replace(request=wire.RequestInfo("req-u", "POST", "/login/"))])])
    pane = DetailsPane(state.store)
    qtbot.addWidget(pane)
    pane.show_row(state.store.first)
    text = pane.toPlainText()
    assert "GET /orders/ req-t" in text and f"traceparent\n{TRACEPARENT}" in text
    pane.show_row(state.store.first + 1)
    text = pane.toPlainText()
    assert "POST /login/ req-u" in text and "traceparent" not in text


def test_a_dispatch_whose_parent_never_arrived_says_why_it_may_be_missing(qtbot):
    state = MonitorState(capacity=10)
    state.apply([frame([dispatch(1), dispatch(3, parent=1), dispatch(4, parent=2)])])
    pane = DetailsPane(state.store)
    qtbot.addWidget(pane)
    pane.show_row(state.store.first + 1)
    assert "parent:" in pane.toPlainText()  # its parent is stored: a link to it
    pane.show_row(state.store.first + 2)
    assert "inside dispatch #2, which is not here: muted or sampled out by live control" in (
        pane.toPlainText().replace("\n", " "))
    pane.show_row(state.store.first)
    assert "top-level dispatch" in pane.toPlainText()


def test_a_rolled_back_dispatch_says_so(qtbot):
    from tests.monitor_gui.core.test_rollbacks import T0, rollback, tx_dispatch

    state = MonitorState(capacity=10)
    state.apply([frame([tx_dispatch(1, serial=1), tx_dispatch(2, serial=2),
                        rollback(2, T0 + 9_000)])])
    pane = DetailsPane(state.store)
    qtbot.addWidget(pane)
    pane.show_row(state.store.first)
    assert "atomic on default, depth 1 · uncommitted when it ran" in pane.toPlainText()
    pane.show_row(state.store.first + 1)
    assert "atomic on default, depth 1 · rolled back" in pane.toPlainText()
    state.apply([frame([tx_dispatch(3, serial=3), rollback(3, T0 + 9_000)._replace(
        by_test=True)], seq=3)])
    pane.show_row(state.store.first + 2)
    assert "depth 1 · rolled back by the test framework" in pane.toPlainText()
