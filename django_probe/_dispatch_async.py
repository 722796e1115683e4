"""The async half of the dispatch mirrors: ``asend``/``asend_robust`` (Django >= 5.0) and
the helpers that run ``send()``'s and ``send_robust()``'s async receivers.

A part of ``_dispatch`` (the sync mirrors, the hot path, and ``install()``): these two
modules are the only ones that touch Django's private dispatch internals, and the same
rules hold here (docs/probe.md, "The dispatch hook"). ``_dispatch.install()`` binds the
recorder here too (``bind()``), so each mirror reads it from a module global as the sync
ones do. Each mirror reads line by line against Django's method it replaces.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.core.signals import request_started as _request_started
from django.dispatch.dispatcher import NO_RECEIVERS, Signal

from . import clock
from .capture import RAISED, RETURNED, Recorder

_now = clock.perf_counter_ns  # the real monotonic clock, out of time-mocking libraries' reach

_rec: Recorder  # set by bind() (from _dispatch.install()); read once per dispatch
_enter: Any  # _dispatch.enter, set by bind(): starts the dispatch's capture.Nest


def bind(recorder: Recorder, enter: Any) -> None:
    """Dispatch through ``recorder`` (called by ``_dispatch.install()``)."""
    global _rec, _enter
    _rec = recorder
    _enter = enter


def _async_done(nest: Any, receiver: Any, started: int, task: asyncio.Future) -> None:
    duration = _now() - started
    if task.cancelled():
        nest.record(receiver, duration, RAISED, asyncio.CancelledError())
    elif task.exception() is not None:
        nest.record(receiver, duration, RAISED, task.exception())
    else:
        nest.record(receiver, duration, RETURNED, task.result())


def _gather_timed(nest: Any, receivers: list, signal: Signal, sender: Any,
                  named: dict) -> asyncio.Future:
    # Django passes the receivers' coroutines to gather(), which wraps each in a Task;
    # we create those Tasks ourselves to time them with a done-callback, adding no frame.
    started = _now()
    tasks = []
    for receiver in receivers:
        task = asyncio.ensure_future(receiver(signal=signal, sender=sender, **named))
        task.add_done_callback(functools.partial(_async_done, nest, receiver, started))
        tasks.append(task)
    return asyncio.gather(*tasks)


# --------------------------------------------------------------------------- Django >= 5.0
#
# send()'s and send_robust()'s async receivers run from module-level helpers, not from
# closures inside the mirrors as in Django: a nested function turns every variable it uses
# into a cell, which costs every dispatch ~75 ns even when no receiver is async. The
# receivers' own frames are unchanged (they run in async_to_sync's event loop either way).


def run_async(nest: Any, async_receivers: list, signal: Signal, sender: Any,
              named: dict) -> Any:
    async def asend():
        async_responses = await _gather_timed(nest, async_receivers, signal, sender, named)
        return zip(async_receivers, async_responses, strict=False)

    return async_to_sync(asend)()


def run_async_robust(nest: Any, async_receivers: list, signal: Signal, sender: Any,
                     named: dict) -> Any:
    async def asend_and_wrap_exception(receiver):
        t = _now()
        try:
            response = await receiver(signal=signal, sender=sender, **named)
        except Exception as err:
            nest.record(receiver, _now() - t, RAISED, err)
            signal._log_robust_failure(receiver, err)
            return err
        nest.record(receiver, _now() - t, RETURNED, response)
        return response

    async def asend():
        async_responses = await asyncio.gather(
            *(asend_and_wrap_exception(receiver) for receiver in async_receivers)
        )
        return zip(async_receivers, async_responses, strict=False)

    return async_to_sync(asend)()



async def asend(self, sender, **named):
    rec = _rec
    if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
        rec.empty(self, sender, "asend", named)
        return []
    sync_receivers, async_receivers = self._live_receivers(sender)
    if not sync_receivers and not async_receivers:
        rec.empty(self, sender, "asend", named)
        return []
    if self is _request_started:
        rec.begin_request(self, named)
    nest = _enter()
    ok = False
    try:
        if sync_receivers:

            @sync_to_async
            def sync_send():
                responses = []
                for receiver in sync_receivers:
                    t = _now()
                    try:
                        response = receiver(signal=self, sender=sender, **named)
                    except BaseException as exc:
                        nest.record(receiver, _now() - t, RAISED, exc)
                        raise
                    nest.record(receiver, _now() - t, RETURNED, response)
                    responses.append((receiver, response))
                return responses

        else:

            async def sync_send():
                return []

        responses, async_responses = await asyncio.gather(
            sync_send(),
            _gather_timed(nest, async_receivers, self, sender, named),
        )
        responses.extend(zip(async_receivers, async_responses, strict=False))
        ok = True
    finally:
        nest.resume()  # the dispatch ends now (its receivers ran concurrently)
        rec.finish(self, sender, "asend", named, nest, sync_receivers, async_receivers, not ok)
    return responses


async def asend_robust(self, sender, **named):
    rec = _rec
    if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
        rec.empty(self, sender, "asend_robust", named)
        return []
    sync_receivers, async_receivers = self._live_receivers(sender)
    if not sync_receivers and not async_receivers:
        rec.empty(self, sender, "asend_robust", named)
        return []
    if self is _request_started:
        rec.begin_request(self, named)
    nest = _enter()
    ok = False
    try:
        if sync_receivers:

            @sync_to_async
            def sync_send():
                responses = []
                for receiver in sync_receivers:
                    t = _now()
                    try:
                        response = receiver(signal=self, sender=sender, **named)
                    except Exception as err:
                        nest.record(receiver, _now() - t, RAISED, err)
                        self._log_robust_failure(receiver, err)
                        responses.append((receiver, err))
                    else:
                        nest.record(receiver, _now() - t, RETURNED, response)
                        responses.append((receiver, response))
                return responses

        else:

            async def sync_send():
                return []

        async def asend_and_wrap_exception(receiver):
            t = _now()
            try:
                response = await receiver(signal=self, sender=sender, **named)
            except Exception as err:
                nest.record(receiver, _now() - t, RAISED, err)
                self._log_robust_failure(receiver, err)
                return err
            nest.record(receiver, _now() - t, RETURNED, response)
            return response

        responses, async_responses = await asyncio.gather(
            sync_send(),
            asyncio.gather(
                *(asend_and_wrap_exception(receiver) for receiver in async_receivers),
            ),
        )
        responses.extend(zip(async_receivers, async_responses, strict=False))
        ok = True
    finally:
        nest.resume()
        rec.finish(self, sender, "asend_robust", named, nest, sync_receivers, async_receivers,
                   not ok)
    return responses
