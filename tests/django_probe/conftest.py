"""Fixtures shared by the probe's test modules."""

from __future__ import annotations

import pytest
import zmq

from django_probe import runtime
from django_probe.conf import ProbeConfig
from django_probe.publisher import Publisher
from tests.django_probe.support import bind_pull, start_recording


@pytest.fixture
def events():
    """Start the probe with an in-memory sink (events typed, names resolved as a monitor
    reads them); stop it afterwards."""
    _probe, captured = start_recording()
    yield captured
    runtime.stop()


@pytest.fixture
def probe():
    """Like ``events``, but the running probe itself, its events in ``probe.events``."""
    running, running.events = start_recording()
    yield running
    runtime.stop()


@pytest.fixture
def context():
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


@pytest.fixture
def pull(context):
    sock = bind_pull(context)
    yield sock
    sock.close(linger=0)


@pytest.fixture
def publishers():
    made: list[Publisher] = []

    def make(endpoint: str, hello_info: dict | None = None, periodic=(), **options):
        config = ProbeConfig(endpoint=endpoint, **{"flush_interval": 0.01, **options})
        pub = Publisher(config, hello_info=hello_info or {"app": "tests"}, periodic=periodic)
        made.append(pub)
        return pub

    yield make
    for pub in made:
        pub.close(timeout=2.0)
