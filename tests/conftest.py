"""Session-wide setup for the whole suite."""

from __future__ import annotations

import signal

from tests.otlp_collector import otlp_collector  # noqa: F401 - a fixture for every test


def pytest_configure(config) -> None:
    # A suite started in the background by a non-interactive shell (`make test &` in a
    # script, some CI runners) inherits SIGINT as ignored, and every server it starts
    # would inherit that too: the tests that stop a site with Ctrl-C would wait for
    # nothing. A handled signal is reset to the default in a child; an ignored one is not.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
