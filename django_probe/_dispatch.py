"""The sync dispatch mirrors (the hot path) and ``install()``.

``install()`` replaces ``Signal.send``, ``send_robust``, ``asend`` and ``asend_robust``
on the class with instrumented mirrors of Django's own implementations. Each mirror
runs in the frame where Django's method would have run and calls receivers directly,
so a receiver sees exactly the stack depth it sees without the probe (a wrapping
receiver or decorator would add a frame and shift ``warnings.warn(stacklevel=N)``).
Return values, exceptions, receiver order, logging of ``send_robust`` failures and
the ``NO_RECEIVERS`` fast path are those of Django. Tested per Django version:
4.2 (no async support, list-comprehension ``send``) and 5.0+ (sync and async receivers).
This module (the sync mirrors for Django >= 5.0) and its three parts, ``_dispatch_async``
(``asend``/``asend_robust``, and the helpers that run ``send()``'s async receivers),
``_dispatch_legacy`` (Django 4.2's sync mirrors) and ``_dispatch_connect`` (a ``connect``
that notes where each receiver was connected), are the only ones that touch Django's
private dispatch internals.

The six mirrors repeat the same few lines before and after the receiver loop on purpose:
each reads line by line against Django's method it replaces, and a shared prologue
helper would cost a call and a tuple on the hot path of every dispatch.

Reading one ``send()`` top to bottom: ``send()`` below (no receiver: a known pair is
counted inline in ``Recorder.empty_counts``, a new one by ``Recorder.empty`` in
``counts.py``); ``enter()``
here finds the call site and makes the dispatch's ``capture.Nest``; each receiver's end
is marked in the loop (``Nest.returned()``/``raised()``); then ``capture.py``:
``Recorder.finish()`` builds the event (names and values from ``describe.py``) and hands
it to the sink, ``Publisher.submit()`` (``publisher.py``), which packs it
(``wire.pack_event``) and queues it.
"""

from __future__ import annotations

import functools
import sys
import weakref
from typing import Any

from django.core.signals import request_started as _request_started
from django.dispatch import dispatcher
from django.dispatch.dispatcher import NO_RECEIVERS, Signal

from . import _dispatch_async, _dispatch_connect, _dispatch_legacy, wire
from ._dispatch_async import asend, asend_robust, run_async, run_async_robust
from ._dispatch_legacy import send_legacy, send_robust_legacy
from .capture import RETURNED, Nest, Recorder
from .clock import perf_counter_ns as _now
from .context import current_dispatch
from .naming import SignalRegistry, creation_frame

_getframe = sys._getframe
_current_nest, _set_nest = current_dispatch.get, current_dispatch.set

MODERN = hasattr(Signal, "asend")  # Django >= 5.0: async receivers, asend/asend_robust
METHOD_NAMES = ("send", "send_robust", "asend", "asend_robust") if MODERN else (
    "send", "send_robust")
_ORIGINALS: dict[str, Any] = {name: Signal.__dict__[name] for name in (*METHOD_NAMES, "__init__")}
# Frames in these files are the dispatcher, not the call site of send().
_SKIP_FILES = {dispatcher.__file__, __file__, _dispatch_async.__file__,
               _dispatch_legacy.__file__}

_rec: Recorder  # set by install(); read once per dispatch into a local
_next_id: Any  # the recorder's next_id(), set by install(): dispatch ids
_registry: SignalRegistry | None = None
_intern: Any = None  # the recorder's intern (Interner.ref), set by install(): site names


# id(code) -> (code, {f_lasti: site}): computing f_lineno walks the code's line table
# (~0.1 µs), so each call site is computed once per instruction offset, its file and
# function interned then (the refs are valid for the recorder's interner: install()
# empties the cache when that changes). The code object is kept to pin its id (code, not
# the function: no closure or instance is kept alive; hashing a code object would hash
# all its constants).
_sites: dict[int, tuple[Any, dict[int, wire.CallSite]]] = {}


def enter() -> Nest:
    """Start a dispatch, first thing a mirror does once it has receivers: its nest, with
    the call site of send() and the innermost running dispatch as parent (it becomes the
    innermost one); the receivers' clock starts. (One function, not three: each Python
    call costs the hot path ~0.04 µs.)"""
    try:
        # 0: here, 1: a mirror (every caller of enter() is one), 2: who called it, unless
        # that is the dispatcher too (a Signal subclass's send() calling super().send()).
        frame = _getframe(2)
    except ValueError:  # send() called with no Python frame above it
        frame = None
    site = None
    if frame is not None:
        code = frame.f_code  # (once a frame: reading f_code is an audit event on 3.11+)
        while code.co_filename in _SKIP_FILES:
            frame = frame.f_back
            if frame is None:
                break
            code = frame.f_code
    if frame is not None:
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
    up = _current_nest()
    while up is not None and up.done:  # (context.innermost_running, inline)
        up = up.up
    nest = Nest(_next_id(), up, site)
    _set_nest(nest)
    return nest


# send()'s and send_robust()'s async receivers run from module-level helpers
# (_dispatch_async), not from closures inside the mirrors as in Django: a nested function
# turns every variable it uses into a cell, which costs every dispatch ~75 ns even when no
# receiver is async.


def send(self, sender, **named):
    if not self.receivers or self.sender_receivers_cache.get(sender) is NO_RECEIVERS:
        # A known (signal, sender) is counted by one call: the hot path of the
        # pre_init/post_init flood of a big queryset. Recorder.empty() does the rest
        # (request_started/finished are never counted here: it keys them apart).
        entry = _rec.empty_counts.get((id(self), id(sender), "send"))
        if entry is None:
            _rec.empty(self, sender, "send", named)
        else:  # (Recorder.counted, inline: a call costs this path a third of its time)
            entry[2] += 1  # may lose an increment under a thread race; counts are advisory
        return []
    rec = _rec
    responses = []
    sync_receivers, async_receivers = self._live_receivers(sender)
    if not sync_receivers and not async_receivers:
        rec.empty(self, sender, "send", named)
        return responses
    if self is _request_started:
        rec.begin_request(self, named)
    nest = enter()  # the call site, the parent dispatch; the receivers' clock starts
    try:
        for receiver in sync_receivers:
            try:
                response = receiver(signal=self, sender=sender, **named)
            except BaseException as exc:
                nest.raised(receiver, exc)
                raise
            # nest.returned(receiver, response), inline (its end is the next one's start):
            # send() with receivers is the hottest path of all.
            end = _now()
            nest.calls.append((receiver, end - nest.t_last, RETURNED, response))
            nest.t_last = end
            responses.append((receiver, response))
        if async_receivers:
            responses.extend(run_async(nest, async_receivers, self, sender, named))
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
    nest = enter()
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
            responses.extend(run_async_robust(nest, async_receivers, self, sender, named))
            nest.resume()
    except BaseException:
        rec.finish(self, sender, "send_robust", named, nest, sync_receivers, async_receivers,
                   True)
        raise
    rec.finish(self, sender, "send_robust", named, nest, sync_receivers, async_receivers,
               False)
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
    global _rec, _next_id, _registry, _intern
    if recorder.intern != _intern:  # (bound methods: equal for the same interner)
        _intern = recorder.intern
        _sites.clear()  # its refs belong to another interner
    _rec = recorder
    _next_id = recorder.next_id
    _dispatch_async.bind(recorder, enter)
    _dispatch_legacy.bind(recorder, enter)
    _registry = recorder.registry
    for name, func in _REPLACEMENTS.items():
        setattr(Signal, name, func)
    _dispatch_connect.watch()  # (usually already: the probe's AppConfig watches early)


def uninstall() -> None:
    """Restore Django's own methods (tests compare behaviour with and without the probe)."""
    global _registry
    for name, func in _ORIGINALS.items():
        setattr(Signal, name, func)
    _dispatch_connect.unwatch()
    _registry = None


def connected_receivers(signal: Signal) -> list[tuple[Any, int | None, Any, bool, bool, Any]]:
    """(receiver or None if dead, sender id or None for any, sender or None, weak, is_async,
    lookup key) for each entry of ``signal.receivers``, whose tuple layout differs per
    Django version:
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
        out.append((receiver, None if any_sender else sender_key, sender, weak, is_async,
                    entry[0]))
    return out
