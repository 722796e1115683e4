"""Naming receivers never runs application code: callable instances, mocks, methods, partials."""

from __future__ import annotations

import time
from unittest import mock

from django.dispatch import Signal

from tests.django_probe.support import calls, dispatch


class SlowReceiver:
    """A callable instance whose __getattr__ takes 0.1 s and records its calls."""

    def __call__(self, sender, **kwargs):
        return None

    def __getattr__(self, name):
        calls.append(f"SlowReceiver.__getattr__({name})")
        time.sleep(0.1)
        raise AttributeError(name)


def test_callable_instance_receivers_are_named_from_their_class_at_no_cost(events):
    signal = Signal()
    receiver = SlowReceiver()
    signal.connect(receiver, weak=False)
    started = time.perf_counter()
    for _ in range(5):
        event = dispatch(events, signal)
    assert time.perf_counter() - started < 0.4  # five slow __getattr__ reads would be 0.5 s
    row = event.receivers[0]
    assert (row.name, row.module, row.line) == (
        "SlowReceiver.__call__", __name__, SlowReceiver.__call__.__code__.co_firstlineno)
    signal.disconnect(receiver)


def test_a_magicmock_receiver_gains_no_attribute(events):
    signal = Signal()
    receiver = mock.MagicMock(return_value=None)
    signal.connect(receiver, weak=False)
    children = dict(vars(receiver)["_mock_children"])  # what connect() made, if anything
    event = dispatch(events, signal)
    assert vars(receiver)["_mock_children"] == children  # no `func`, no `__func__`...
    assert receiver.call_count == 2  # (once by Django alone, once with the probe)
    assert event.receivers[0].name == "MagicMock.__call__"
    assert event.receivers[0].module == "unittest.mock"


def test_bound_methods_partials_and_wrapped_functions_are_named_as_before(events):
    import functools

    class Audit:
        def on_event(self, sender, **kwargs):
            return None

    def plain(sender, **kwargs):
        return None

    @functools.wraps(plain)
    def wrapper(*args, **kwargs):
        return plain(*args, **kwargs)

    audit = Audit()
    signal = Signal()
    signal.connect(audit.on_event)
    signal.connect(functools.partial(plain), weak=False)
    signal.connect(wrapper, weak=False)
    event = dispatch(events, signal)
    assert [r.name for r in event.receivers] == [
        f"{Audit.__qualname__}.on_event", f"partial({plain.__qualname__})",
        plain.__qualname__]
