"""Fixtures shared by the probe's test modules."""

from __future__ import annotations

import pytest

from django_probe import runtime
from tests.django_probe.support import start_recording


@pytest.fixture
def events():
    """Start the probe with an in-memory sink (events typed, names resolved as a monitor
    reads them); stop it afterwards."""
    _probe, captured = start_recording()
    yield captured
    runtime.stop()
