"""The probe is invisible to results: send, send_robust, asend, warnings, without and with it."""

from __future__ import annotations

import asyncio
import logging
import sys
import warnings
from typing import Any

import pytest
from django.dispatch import Signal

from django_probe import _dispatch
from tests.django_probe.support import twice
from tests.django_probe.testapp.models import Author


def _depth() -> int:
    frame, n = sys._getframe(1), 0
    while frame is not None:
        n += 1
        frame = frame.f_back
    return n


class Receivers:
    """A fresh signal with a log of which receivers ran, in which order, at what depth."""

    def __init__(self, *, raise_in: str | None = None, robust_error: type = ValueError):
        self.signal = Signal()
        self.log: list[tuple[str, int]] = []
        self.raise_in = raise_in
        self.error = robust_error("boom in " + str(raise_in))
        for name in ("first", "second", "third"):
            self.signal.connect(self._make(name), weak=False, dispatch_uid=name)

    def _make(self, name):
        def receiver(sender, **kwargs):
            self.log.append((name, _depth()))
            if name == self.raise_in:
                raise self.error
            return f"{name}:{kwargs.get('value')}"

        receiver.__qualname__ = f"receiver_{name}"
        return receiver


def _strip(responses):
    return [(r.__qualname__, v if not isinstance(v, Exception) else repr(v)) for r, v in responses]


def test_send_results_order_and_depth_are_identical():
    def scenario():
        rs = Receivers()
        return _strip(rs.signal.send(sender=Author, value=7)), rs.log

    without, with_probe, captured = twice(scenario)
    assert with_probe == without
    assert len(captured) == 1
    assert [r.name for r in captured[0].receivers] == [
        "receiver_first", "receiver_second", "receiver_third"]


def test_exception_under_send_propagates_unchanged_and_is_captured():
    def scenario():
        rs = Receivers(raise_in="second")
        with pytest.raises(ValueError) as info:
            rs.signal.send(sender=None, value=1)
        return info.value is rs.error, rs.log, str(info.value)

    without, with_probe, captured = twice(scenario)
    assert with_probe == without
    (event,) = captured
    assert event.raised is True
    assert [(r.name, r.outcome) for r in event.receivers] == [
        ("receiver_first", "returned"), ("receiver_second", "raised"),
        ("receiver_third", "skipped")]
    assert event.receivers[1].exc_type == "ValueError"
    assert event.receivers[1].exc_msg == "boom in second"


def test_send_robust_results_and_logging_are_identical(caplog):
    def scenario():
        rs = Receivers(raise_in="first")
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="django.dispatch"):
            result = _strip(rs.signal.send_robust(sender=None, value=2))
        records = [(r.name, r.levelname, r.getMessage(), r.exc_info[0]) for r in caplog.records]
        return result, rs.log, records

    without, with_probe, captured = twice(scenario)
    assert with_probe == without
    assert captured[0].raised is False
    assert captured[0].receivers[0].outcome == "raised"


def _mixed_signal(log: list[str]) -> tuple[Signal, Any]:
    """A fresh signal with a sync and an async receiver connected (each logs that it ran),
    and an async receiver that raises, for the caller to connect when it wants."""
    signal = Signal()

    def sync_receiver(sender, **kwargs):
        log.append("sync")
        return "s"

    async def async_receiver(sender, **kwargs):
        log.append("async")
        await asyncio.sleep(0)
        return "a"

    async def broken(sender, **kwargs):
        raise KeyError("k")

    signal.connect(sync_receiver, weak=False)
    signal.connect(async_receiver, weak=False)
    return signal, broken


@pytest.mark.skipif(not _dispatch.MODERN, reason="async receivers exist since Django 5.0")
def test_sync_send_and_send_robust_with_async_receivers_are_identical(caplog):
    def scenario():
        signal, broken = _mixed_signal([])
        out = [_strip(signal.send(sender=None))]
        signal.connect(broken, weak=False)
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="django.dispatch"):
            out.append(_strip(signal.send_robust(sender=None)))
        records = [(r.levelname, r.getMessage(), r.exc_info[0]) for r in caplog.records]
        with pytest.raises(KeyError):
            signal.send(sender=None)
        return out, records

    without, with_probe, captured = twice(scenario)
    assert with_probe == without
    assert [d.method for d in captured] == ["send", "send_robust", "send"]
    assert [[(r.name.split(".")[-1], r.is_async, r.outcome) for r in d.receivers]
            for d in captured] == [
        [("sync_receiver", False, "returned"), ("async_receiver", True, "returned")],
        [("sync_receiver", False, "returned"), ("async_receiver", True, "returned"),
         ("broken", True, "raised")],
        [("sync_receiver", False, "returned"), ("async_receiver", True, "returned"),
         ("broken", True, "raised")]]
    assert [d.raised for d in captured] == [False, False, True]


@pytest.mark.skipif(not _dispatch.MODERN, reason="asend() exists since Django 5.0")
def test_asend_and_asend_robust_are_identical():
    def scenario():
        log: list[str] = []
        signal, broken = _mixed_signal(log)
        out = [_strip(asyncio.run(signal.asend(sender=None))),
               _strip(signal.send(sender=None))]
        signal.connect(broken, weak=False)
        out.append(_strip(asyncio.run(signal.asend_robust(sender=None))))
        ran = sorted(log)
        # Whether the sync receiver's thread ran before the failure ended the loop is a
        # race inside Django itself, so only the exception is compared here.
        with pytest.raises(KeyError):
            asyncio.run(signal.asend(sender=None))
        return out, ran

    without, with_probe, captured = twice(scenario)
    assert with_probe == without
    methods = [d.method for d in captured]
    assert methods == ["asend", "send", "asend_robust", "asend"]
    robust = captured[2]
    assert [(r.name.split(".")[-1], r.is_async, r.outcome) for r in robust.receivers] == [
        ("sync_receiver", False, "returned"), ("async_receiver", True, "returned"),
        ("broken", True, "raised")]


# Frames between a receiver and send()'s caller: send itself, plus Django 4.2's list
# comprehension frame on Python < 3.12.
DISPATCHER_LEVEL = 2 if _dispatch.MODERN or sys.version_info >= (3, 12) else 3


def test_warning_attribution_is_identical():
    def scenario():
        signal = Signal()

        def receiver(sender, **kwargs):
            for level in (1, DISPATCHER_LEVEL, DISPATCHER_LEVEL + 1):
                warnings.warn(f"level {level}", UserWarning, stacklevel=level)

        signal.connect(receiver, weak=False)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            signal.send(sender=None)  # the caller's level must point at this line
        return [(w.filename, w.lineno, str(w.message)) for w in caught]

    without, with_probe, _ = twice(scenario)
    # The receiver's own frame and send()'s caller are attributed identically.
    assert with_probe[0] == without[0] and with_probe[2] == without[2]
    assert with_probe[2][0] == __file__
    # The one documented difference: a warning aimed at the dispatcher frame itself names
    # the probe's send() (same depth, different file) instead of Django's.
    assert without[1][0].endswith("dispatcher.py")
    assert with_probe[1][0] == _dispatch._REPLACEMENTS["send"].__code__.co_filename
