"""Fixtures shared by the monitor's core and Qt tests: real-shaped traffic from tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest
import zmq

from monitor_gui.core.recording import read_recording
from monitor_gui.core.state import MonitorState

REAL_RECORDING = Path(__file__).resolve().parents[1] / "data" / "real-suites-42k.jsonl.zst"


@pytest.fixture(scope="session")
def real_frames() -> list:
    """The decoded frames of the real recording (281 senders, 24 signals, 76 receivers)."""
    return list(read_recording(REAL_RECORDING))


@pytest.fixture(scope="session")
def real_state(real_frames) -> MonitorState:
    """A MonitorState holding the whole real recording. Shared by the session: read only."""
    state = MonitorState(capacity=100_000)
    for i in range(0, len(real_frames), 256):
        state.apply(real_frames[i:i + 256])
    return state


@pytest.fixture
def context():
    """A zmq context for the test, terminated afterwards."""
    ctx = zmq.Context()
    yield ctx
    ctx.term()
