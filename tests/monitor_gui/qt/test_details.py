"""The details pane names the request a dispatch served, with its traceparent when it had one."""

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
