"""Where and when each receiver was connected: a ``Signal.connect`` that notes its caller.

``watch()`` replaces ``Signal.connect`` on the class with a function that calls Django's
own ``connect`` unchanged (same arguments, return value, exceptions, weak references and
lookup keys) and then, never raising, notes the new ``signal.receivers`` entry: the
caller's file:line (the ``connect()`` call, or the ``@receiver`` line: the dispatcher's
own frames are skipped), the time, whether Django's app registry was ready, the
dispatch_uid, and the receiver's name and parameters (read from code objects, never by
``inspect.signature``, which can run the app's ``__signature__``/``__getattr__``).
A weak receiver also gets a finalizer: if it is garbage-collected while still connected
(no ``disconnect()``), its record moves to the signal's ``died`` list.

Entries are found by comparing ``signal.receivers`` before and after Django's call, so the
probe never computes a lookup key itself (``_make_id`` reads ``__func__`` with hasattr,
which is the app's code on odd receivers). Receivers connected before ``watch()`` (at
import, before the probe's AppConfig was created) have no record: their site is unknown.
A part of ``_dispatch``, like ``_dispatch_async`` and ``_dispatch_legacy``: the modules that
touch Django's dispatch internals (docs/diagnostics.md tells the whole story).
"""

from __future__ import annotations

import functools
import sys
import types
import weakref
from collections import deque
from itertools import islice
from typing import Any, NamedTuple

from django.apps import apps as _apps
from django.db.models.signals import ModelSignal
from django.dispatch import Signal, dispatcher

from . import clock
from .introspect import class_name, function_of
from .naming import Description
from .receiver_facts import Params, receiver_facts

_ORIGINAL = Signal.__dict__["connect"]
_SKIP_FILES = {dispatcher.__file__, __file__}
# By id: hashing a code object hashes its constants and names (~2,000 instructions); these
# are ModelSignal's own functions, alive as long as Django is.
_SKIP_CODES = {id(value.__code__) for value in vars(ModelSignal).values()
               if type(value) is types.FunctionType}
_MAX_RECORDS = 20_000  # bounded for receivers connected per request (the test client's)
_MAX_DIED = 100  # per signal
_method_func = types.MethodType.__dict__["__func__"].__get__
_method_self = types.MethodType.__dict__["__self__"].__get__
_getframe = sys._getframe


class ConnectRecord(NamedTuple):
    """What was seen at one connect(); names are plain strings (interned when sent)."""

    ident: Any  # weakref to the callable's function (or itself), None if not referenceable
    site: tuple[str, int, str] | None  # (file, line, function) of the caller
    connected_at: int  # Unix ns
    after_startup: bool
    uid: str | None
    description: Description
    params: Params | None
    sender_id: int | None  # id of the sender it was connected for (None: any)
    sender: Any  # a weakref to that sender (before Django 6.0 Django keeps only its id)
    weak: bool
    is_async: bool
    # A weak receiver's owner, watched: a weakref whose callback notes a death while
    # connected. It lives as long as this record, so a record pruned after disconnect()
    # watches nothing (a plain weakref, not weakref.finalize: ~0.5 µs, not ~4, a connect).
    watch: Any = None


# (id(signal), lookup key) -> record; id(signal) -> records of weak receivers that died.
records: dict[tuple[int, Any], ConnectRecord] = {}
died: dict[int, deque[tuple[ConnectRecord, int]]] = {}


def _weak(target: Any) -> Any:
    try:
        return weakref.ref(target)
    except TypeError:
        return None


def identity(receiver: Any) -> Any:
    """What makes two receivers the same callable (a bound method: instance and function)."""
    if type(receiver) is types.MethodType:
        return (id(_method_self(receiver)), id(_method_func(receiver)))
    return id(receiver)


def _plain_key(key: Any) -> Any:
    """A lookup key we may hash: Django's own ids as they are, a dispatch_uid other than a
    str or int by its id (hashing it could run the app's __hash__; the entry keeps it)."""
    uid, sender_id = key
    kind = type(uid)
    if kind is str or kind is int or (kind is tuple and all(type(x) is int for x in uid)):
        return key
    return ("uid", id(uid)), sender_id


def record_for(signal: Signal, key: Any, receiver: Any) -> ConnectRecord | None:
    """The record of a live entry, if it was seen and is about this very callable."""
    record = records.get((id(signal), _plain_key(key)))
    if record is None or record.ident is None:
        return record
    return record if record.ident() is (function_of(receiver) or receiver) else None


def _site() -> tuple[str, int, str] | None:
    frame = sys._getframe(2)  # 0: here, 1: _note, 2: connect below
    # Past the dispatcher (the @receiver decorator) and ModelSignal's methods (its lazy
    # connect() for "app.Model" senders). Never through f_locals: on Python < 3.13 reading
    # it stores a copy of the frame's locals in the frame, keeping the app's objects alive.
    while frame is not None and (frame.f_code.co_filename in _SKIP_FILES
                                 or id(frame.f_code) in _SKIP_CODES):
        frame = frame.f_back
    if frame is None:
        return None
    return frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name


def _after_startup() -> bool:
    return bool(_apps.ready)


def _note(signal: Signal, receiver: Any, sender: Any, weak: bool, dispatch_uid: Any,
          before: list) -> None:
    seen = {id(entry) for entry in before}
    new = [entry for entry in list(signal.receivers) if id(entry) not in seen]
    if len(new) != 1:
        return  # an existing key (Django kept the first) or a race with another thread
    key = _plain_key(new[0][0])
    uid = None
    if dispatch_uid:  # (Django keys by the uid when it is truthy)
        uid = dispatch_uid if type(dispatch_uid) is str else f"<{class_name(type(dispatch_uid))}>"
    description, params = receiver_facts(receiver)
    watch = None
    if weak:
        owner = _method_self(receiver) if type(receiver) is types.MethodType else receiver
        watch = weakref.ref(owner, functools.partial(_died, weakref.ref(signal), key))
    record = ConnectRecord(
        _weak(function_of(receiver) or receiver), _site(), clock.wall_ns(), _after_startup(), uid,
        description, params,
        None if sender is None else id(sender), None if sender is None else _weak(sender),
        bool(weak), bool(new[0][-1] is True), watch)
    if len(records) >= _MAX_RECORDS:
        # Drop the oldest half at once: deleting one entry per connect from the front
        # made each next(iter()) step over the dict's deleted slots (Django's test client
        # connects two receivers on every request).
        for old in list(islice(records, _MAX_RECORDS // 2)):
            del records[old]
    records[(id(signal), key)] = record


def _died(signal_ref: weakref.ref, key: Any, _ref: weakref.ref) -> None:
    # A weakref callback: runs wherever the collector runs, so it must be quick and safe.
    try:
        signal = signal_ref()
        record = records.get((id(signal), key)) if signal is not None else None
        if record is None or record.watch is not _ref:
            return
        del records[(id(signal), key)]
        if any(_plain_key(entry[0]) == key for entry in list(signal.receivers)):  # connected
            died.setdefault(id(signal), deque(maxlen=_MAX_DIED)).append(
                (record, clock.wall_ns()))
    except Exception:
        pass


# Callers (id of the code object, instruction offset) of connect() noted after start-up,
# each with its code (which pins the id). Django's test client connects two receivers on
# every request, from the same two lines: noting each cost ~40k instructions (callgrind),
# ~2 % of a test-client request. After start-up a connect() from a line already noted is
# Django's alone (the first one told where that line is; twins are found from the wiring
# itself, docs/diagnostics.md). Keyed by id(): hashing a code object hashes its constants
# and names (~2,000 instructions a lookup).
_late_callers: dict[tuple[int, int], Any] = {}
_MAX_LATE_CALLERS = 10_000


def connect(self, receiver, sender=None, weak=True, dispatch_uid=None):
    if _apps.ready:  # after start-up: a line already noted is left to Django
        try:
            frame = _getframe(1)  # 0: here, 1: its caller
            code = frame.f_code
            while code.co_filename in _SKIP_FILES or id(code) in _SKIP_CODES:
                frame = frame.f_back
                if frame is None:
                    break
                code = frame.f_code
            if frame is not None:
                caller = (id(code), frame.f_lasti)
                if _late_callers.get(caller) is code:
                    return _ORIGINAL(self, receiver, sender, weak, dispatch_uid)
                if len(_late_callers) >= _MAX_LATE_CALLERS:
                    _late_callers.clear()
                _late_callers[caller] = code
        except Exception:  # (noting is best effort: Django's connect() runs below)
            pass
    # The entries by identity, not by key: a dispatch_uid need not be hashable for Django
    # (it compares keys with ==), and hashing it could run the app's code. ``before`` is
    # kept until _note has compared, so no id in it can be reused meanwhile.
    before = list(self.receivers)  # (a copy: atomic under the GIL)
    result = _ORIGINAL(self, receiver, sender, weak, dispatch_uid)
    try:
        _note(self, receiver, sender, weak, dispatch_uid, before)
    except Exception:  # noting is best effort: connect() itself has succeeded
        pass
    return result


functools.update_wrapper(connect, _ORIGINAL)


def watch() -> None:
    """Note every connect() from now on (idempotent)."""
    Signal.connect = connect  # type: ignore[method-assign]


def unwatch() -> None:
    Signal.connect = _ORIGINAL  # type: ignore[method-assign]


def watching() -> bool:
    return Signal.__dict__["connect"] is connect
