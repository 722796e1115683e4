"""The same login through the real window (offscreen): graph edges, then a signal filter."""

from __future__ import annotations

import pytest

from demo_site.seed import DEMO_USERS
from demo_site.traffic import Browser
from monitor_gui.qt.app import build

pytestmark = pytest.mark.e2e

USER_LOGGED_IN = "django.contrib.auth.signals.user_logged_in"
LOGIN_SUCCEEDED = "demo_site.accounts.signals.login_succeeded"
WAIT_MS = 30_000


@pytest.fixture
def gui(qtbot, monitor_endpoint):
    """The real composition root: window, controller, listener thread bound to our endpoint."""
    monitor = build(monitor_endpoint, capacity=100_000, settings=None)
    qtbot.addWidget(monitor.window)
    monitor.window.show()
    yield monitor
    monitor.shutdown()


def drawn(window) -> set[tuple[str, str, str]]:
    """The graph edges the window draws: one line each, or summed into an app group's."""
    wiring = window.graph.wiring
    return {key for edge in (wiring.edges if wiring else []) for key in edge.edges}


def receiver_edges(window, signal: str) -> set[str]:
    return {dst for kind, src, dst in drawn(window)
            if kind == "signal->receiver" and src == signal}


def sender_edges(window, signal: str) -> set[str]:
    return {src for kind, src, dst in drawn(window)
            if kind == "sender->signal" and dst == signal}


def test_login_shows_up_in_graph_and_filter_isolates_login_succeeded(
    qtbot, gui, start_site, monitor_endpoint
):
    window, state = gui.window, gui.state
    site = start_site(env={"SIGNAL_PROBE_ENDPOINT": monitor_endpoint})
    qtbot.waitUntil(lambda: len(state.processes) == 1, timeout=WAIT_MS)

    user = DEMO_USERS[0]
    assert Browser(site.base_url).login(user.username, user.password)
    qtbot.waitUntil(lambda: bool(receiver_edges(window, LOGIN_SUCCEEDED)), timeout=WAIT_MS)

    logged_in = receiver_edges(window, USER_LOGGED_IN)
    assert any(name.endswith("update_last_login") for name in logged_in), logged_in
    assert any(name.endswith("record_login") for name in logged_in), logged_in
    assert "auth.User" in sender_edges(window, USER_LOGGED_IN)
    succeeded = receiver_edges(window, LOGIN_SUCCEEDED)
    assert len(succeeded) == 1 and next(iter(succeeded)).endswith("count_login")
    assert sender_edges(window, LOGIN_SUCCEEDED) == {"demo_site.accounts.views.DemoLoginView"}

    expected = {row for row in range(state.store.first, state.store.end)
                if state.store.row(row).signal == LOGIN_SUCCEEDED}
    assert len(expected) == 1
    with qtbot.waitSignal(gui.controller.filterChanged, timeout=WAIT_MS):
        window.signal_model.set_checked({LOGIN_SUCCEEDED})
    model = window.table_model
    assert {model.absolute_row(r) for r in range(model.rowCount())} == expected
    data = window.timeline_data
    assert {int(r) for r in data.rows[data.lo:data.hi]} == expected
    assert window.graph.is_node_visible("signal", LOGIN_SUCCEEDED)
    assert not window.graph.is_node_visible("signal", USER_LOGGED_IN)
