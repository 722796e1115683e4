"""Fixtures shared by the probe's test modules."""

from __future__ import annotations

import pytest

from django_probe import runtime, wire
from django_probe.conf import ProbeConfig


@pytest.fixture
def events():
    """Start the probe with an in-memory sink (typed events); stop it afterwards."""
    captured: list = []
    runtime.stop()
    runtime.start(ProbeConfig(), sink=lambda e: captured.append(wire.typed(e)))
    yield captured
    runtime.stop()
