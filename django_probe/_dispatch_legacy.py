"""The sync mirrors for Django 4.2: ``send`` (a list comprehension there) and
``send_robust``.

A part of ``_dispatch`` (the mirrors for Django >= 5.0, the hot path, and
``install()``), which binds the recorder here too (``bind()``); the same rules hold
(docs/probe.md, "The dispatch hook"). Each mirror reads line by line against Django
4.2's method it replaces.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.signals import request_started as _request_started
from django.dispatch.dispatcher import NO_RECEIVERS

from . import clock
from .capture import RAISED, RETURNED, Recorder

_now = clock.perf_counter_ns  # the real monotonic clock, out of time-mocking libraries' reach
_logger = logging.getLogger("django.dispatch")  # Django 4.2 logs send_robust failures here

_rec: Recorder  # set by bind() (from _dispatch.install()); read once per dispatch
_enter: Any  # _dispatch.enter, set by bind(): starts the dispatch's capture.Nest


def bind(recorder: Recorder, enter: Any) -> None:
    """Dispatch through ``recorder`` (called by ``_dispatch.install()``)."""
    global _rec, _enter
    _rec = recorder
    _enter = enter


def send_legacy(self, sender, **named):
    if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
        entry = _rec.empty_counts.get((id(self), id(sender), "send"))  # as in send()
        if entry is None:
            _rec.empty(self, sender, "send", named)
        else:
            entry[2] += 1
        return []
    rec = _rec
    live = self._live_receivers(sender)
    if not live:
        rec.empty(self, sender, "send", named)
        return []
    if self is _request_started:
        rec.begin_request(self, named)
    nest = _enter()
    marks: list = []
    mark = marks.append
    responses = None
    try:
        # Django 4.2 calls receivers from a list comprehension, which is its own frame on
        # Python < 3.12; we keep the comprehension so the depth matches, and time each
        # receiver by recording a mark just before calling it (append() returns None).
        responses = [
            (receiver, receiver(signal=self, sender=sender, **named))
            for receiver in live
            if not mark((receiver, _now()))
        ]
        return responses
    except BaseException as exc:
        end = _now()  # the receivers that ran returned, but their results are gone
        for i, (r, t) in enumerate(marks):
            last = i + 1 == len(marks)
            nest.record(r, (end if last else marks[i + 1][1]) - t,
                        RAISED if last else RETURNED, exc if last else None)
        raise
    finally:
        nest.resume()  # the dispatch ends now
        if responses is not None:
            end = nest.t_last
            for i, (r, t) in enumerate(marks):
                nest.record(r, (marks[i + 1][1] if i + 1 < len(marks) else end) - t,
                            RETURNED, responses[i][1])
        rec.finish(self, sender, "send", named, nest, live, [], responses is None)
        marks = None


def send_robust_legacy(self, sender, **named):
    rec = _rec
    if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
        rec.empty(self, sender, "send_robust", named)
        return []
    live = self._live_receivers(sender)
    if not live:
        rec.empty(self, sender, "send_robust", named)
        return []
    if self is _request_started:
        rec.begin_request(self, named)
    nest = _enter()
    try:
        responses = []
        for receiver in live:
            try:
                response = receiver(signal=self, sender=sender, **named)
            except Exception as err:
                nest.raised(receiver, err)
                _logger.error(
                    "Error calling %s in Signal.send_robust() (%s)",
                    receiver.__qualname__,
                    err,
                    exc_info=err,
                )
                responses.append((receiver, err))
                nest.resume()  # the next receiver starts after the logging
            except BaseException as exc:
                nest.raised(receiver, exc)
                raise
            else:
                nest.returned(receiver, response)
                responses.append((receiver, response))
    except BaseException:
        rec.finish(self, sender, "send_robust", named, nest, live, [], True)
        raise
    rec.finish(self, sender, "send_robust", named, nest, live, [], False)
    return responses
