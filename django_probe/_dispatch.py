"""The only module that touches Django's private dispatch internals.

``install()`` replaces ``Signal.send``, ``send_robust``, ``asend`` and ``asend_robust``
on the class with instrumented mirrors of Django's own implementations. Each mirror
runs in the frame where Django's method would have run and calls receivers directly,
so a receiver sees exactly the stack depth it sees without the probe (a wrapping
receiver or decorator would add a frame and shift ``warnings.warn(stacklevel=N)``).
Return values, exceptions, receiver order, logging of ``send_robust`` failures and
the ``NO_RECEIVERS`` fast path are those of Django. Tested per Django version:
4.2 (no async support, list-comprehension ``send``) and 5.0+ (sync and async receivers).

The six mirrors repeat the same few lines before and after the receiver loop on purpose:
each reads line by line against Django's method it replaces, and a shared prologue
helper would cost a call and a tuple on the hot path of every dispatch.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import weakref
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.core.signals import request_started as _request_started
from django.dispatch import dispatcher
from django.dispatch.dispatcher import NO_RECEIVERS, Signal

from . import clock, wire
from .capture import RAISED, RETURNED, Recorder
from .naming import SignalRegistry, creation_frame

_now = clock.perf_counter_ns  # the real monotonic clock, out of time-mocking libraries' reach
_getframe = sys._getframe
_logger = logging.getLogger("django.dispatch")  # Django 4.2 logs send_robust failures here

MODERN = hasattr(Signal, "asend")  # Django >= 5.0: async receivers, asend/asend_robust
METHOD_NAMES = ("send", "send_robust", "asend", "asend_robust") if MODERN else (
    "send", "send_robust")
_ORIGINALS: dict[str, Any] = {name: Signal.__dict__[name] for name in (*METHOD_NAMES, "__init__")}
# Frames in these files are the dispatcher, not the call site of send().
_SKIP_FILES = {dispatcher.__file__, __file__}

_rec: Recorder  # set by install(); read once per dispatch into a local
_enter: Any  # the recorder's enter(), set by install(): the dispatch's capture.Nest
_counted: Any  # the recorder's counted(), set by install(): send()'s no-receiver counts
_registry: SignalRegistry | None = None
_intern: Any = None  # the recorder's intern (Interner.ref), set by install(): site names


# id(code) -> (code, {f_lasti: site}): computing f_lineno walks the code's line table
# (~0.1 µs), so each call site is computed once per instruction offset, its file and
# function interned then (the refs are valid for the recorder's interner: install()
# empties the cache when that changes). The code object is kept to pin its id (code, not
# the function: no closure or instance is kept alive).
_sites: dict[int, tuple[Any, dict[int, wire.CallSite]]] = {}


def call_site() -> wire.CallSite | None:
    """The call site of send(), for Recorder.enter() called by a mirror."""
    try:
        # 0: this, 1: Recorder.enter, 2: our send (skipped below), 3: who called it
        frame = _getframe(2)
    except ValueError:  # send() called with no Python frame above it
        return None
    code = frame.f_code
    while code.co_filename in _SKIP_FILES:
        frame = frame.f_back
        if frame is None:
            return None
        code = frame.f_code
    entry = _sites.get(id(code))
    if entry is None or entry[0] is not code:
        if len(_sites) > 10_000:  # bound it for code generated at run time
            _sites.clear()
        entry = _sites[id(code)] = (code, {})
    site = entry[1].get(frame.f_lasti)
    if site is None:
        # wire.CallSite, as a tuple of refs
        site = entry[1][frame.f_lasti] = (_intern(code.co_filename), frame.f_lineno,
                                          _intern(code.co_name))
    return site


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


def _send_async(nest: Any, async_receivers: list, signal: Signal, sender: Any,
                named: dict) -> Any:
    async def asend():
        async_responses = await _gather_timed(nest, async_receivers, signal, sender, named)
        return zip(async_receivers, async_responses, strict=False)

    return async_to_sync(asend)()


def _send_robust_async(nest: Any, async_receivers: list, signal: Signal, sender: Any,
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


def send(self, sender, **named):
    if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
        # A known (signal, sender) is counted by one call: the hot path of the
        # pre_init/post_init flood of a big queryset. Recorder.empty() does the rest
        # (request_started/finished are never counted here: it keys them apart).
        if not _counted(self, sender):
            _rec.empty(self, sender, "send", named)
        return []
    rec = _rec
    responses = []
    sync_receivers, async_receivers = self._live_receivers(sender)
    if not sync_receivers and not async_receivers:
        rec.empty(self, sender, "send", named)
        return responses
    if self is _request_started:
        rec.begin_request(self, named)
    nest = _enter()  # the call site, the parent dispatch; the receivers' clock starts
    try:
        for receiver in sync_receivers:
            try:
                response = receiver(signal=self, sender=sender, **named)
            except BaseException as exc:
                nest.raised(receiver, exc)
                raise
            nest.returned(receiver, response)  # its end is the next one's start
            responses.append((receiver, response))
        if async_receivers:
            responses.extend(_send_async(nest, async_receivers, self, sender, named))
            nest.resume()
    except BaseException:  # (not a finally: no "did it raise" flag to keep and test)
        rec.finish(self, sender, "send", named, nest, sync_receivers, async_receivers, True)
        raise
    rec.finish(self, sender, "send", named, nest, sync_receivers, async_receivers, False)
    return responses


def send_robust(self, sender, **named):
    rec = _rec
    if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
        rec.empty(self, sender, "send_robust", named)
        return []
    responses = []
    sync_receivers, async_receivers = self._live_receivers(sender)
    if not sync_receivers and not async_receivers:
        rec.empty(self, sender, "send_robust", named)
        return responses
    if self is _request_started:
        rec.begin_request(self, named)
    nest = _enter()
    try:
        for receiver in sync_receivers:
            try:
                response = receiver(signal=self, sender=sender, **named)
            except Exception as err:
                nest.raised(receiver, err)
                self._log_robust_failure(receiver, err)
                responses.append((receiver, err))
                nest.resume()  # the next receiver starts after the logging
            except BaseException as exc:
                nest.raised(receiver, exc)
                raise
            else:
                nest.returned(receiver, response)
                responses.append((receiver, response))
        if async_receivers:
            responses.extend(_send_robust_async(nest, async_receivers, self, sender, named))
            nest.resume()
    except BaseException:
        rec.finish(self, sender, "send_robust", named, nest, sync_receivers, async_receivers,
                   True)
        raise
    rec.finish(self, sender, "send_robust", named, nest, sync_receivers, async_receivers,
               False)
    return responses


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


# --------------------------------------------------------------------------- Django 4.2


def send_legacy(self, sender, **named):
    if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
        if not _counted(self, sender):  # as in send()
            _rec.empty(self, sender, "send", named)
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


# --------------------------------------------------------------------------- install


def _init(self, *args, **kwargs):
    _ORIGINALS["__init__"](self, *args, **kwargs)
    registry = _registry
    if registry is not None:
        try:
            registry.note_created(self, creation_frame(_getframe(1)))
        except Exception:  # naming is best effort; creating a signal must never fail
            pass


_REPLACEMENTS: dict[str, Any] = (
    {"send": send, "send_robust": send_robust, "asend": asend, "asend_robust": asend_robust}
    if MODERN else {"send": send_legacy, "send_robust": send_robust_legacy}
)
_REPLACEMENTS["__init__"] = _init
for _name, _func in _REPLACEMENTS.items():
    # Same __name__/__qualname__/__doc__/__module__ and __wrapped__ (so
    # inspect.signature() and help() are unchanged).
    functools.update_wrapper(_func, _ORIGINALS[_name])


def installed() -> bool:
    return Signal.__dict__["send"] is _REPLACEMENTS["send"]


def install(recorder: Recorder) -> None:
    """Route every Signal dispatch through ``recorder``. Idempotent: a second call swaps
    the recorder only."""
    global _rec, _enter, _counted, _registry, _intern
    if recorder.intern != _intern:  # (bound methods: equal for the same interner)
        _intern = recorder.intern
        _sites.clear()  # its refs belong to another interner
    _rec = recorder
    recorder.site = call_site
    _enter = recorder.enter
    _counted = recorder.counted
    _registry = recorder.registry
    for name, func in _REPLACEMENTS.items():
        setattr(Signal, name, func)


def uninstall() -> None:
    """Restore Django's own methods (tests compare behaviour with and without the probe)."""
    global _registry
    for name, func in _ORIGINALS.items():
        setattr(Signal, name, func)
    _registry = None


def connected_receivers(signal: Signal) -> list[tuple[Any, int | None, Any, bool, bool]]:
    """(receiver or None if dead, sender id or None for any, sender or None, weak, is_async)
    for each entry of ``signal.receivers``, whose tuple layout differs per Django version:
    4.2 ``(key, ref)``, 5.x ``(key, ref, is_async)``, 6.x ``(key, ref, sender_ref, is_async)``.
    """
    out = []
    for entry in list(signal.receivers):  # list() is atomic under the GIL; no lock needed
        (_receiver_key, sender_key), ref = entry[0], entry[1]
        is_async = bool(entry[-1]) if len(entry) >= 3 else False
        sender_ref = entry[2] if len(entry) == 4 else None
        weak = issubclass(type(ref), weakref.ReferenceType)  # (isinstance reads __class__)
        receiver = ref() if weak else ref
        sender = sender_ref() if sender_ref is not None else None
        any_sender = sender_key == dispatcher.NONE_ID
        out.append((receiver, None if any_sender else sender_key, sender, weak, is_async))
    return out
