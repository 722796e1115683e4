"""Fixtures for the Qt tests: the real composition (no listener) and synthetic traffic."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from monitor_gui.qt.app import Monitor, build
from tests.monitor_gui.qt.scenario import Scenario


@pytest.fixture
def scenario() -> Scenario:
    return Scenario()


@pytest.fixture
def make_monitor(qtbot) -> Iterator:
    """Build the real window wiring without a socket; shut every instance down afterwards."""
    built: list[Monitor] = []

    def make(capacity: int = 5_000, listen: str | None = None, curve=None) -> Monitor:
        monitor = build(listen, capacity=capacity, settings=None, curve=curve)
        qtbot.addWidget(monitor.window)
        monitor.controller.timer.stop()  # tests drive apply() explicitly via tick()
        built.append(monitor)
        return monitor

    yield make
    for monitor in built:
        monitor.shutdown()
        # Signal connections to lambdas form cycles Qt keeps alive: free the big arrays now.
        monitor.state.clear()


@pytest.fixture
def monitor(make_monitor) -> Monitor:
    return make_monitor()
