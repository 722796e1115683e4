"""on_commit() callbacks queued while a dispatch runs: what is remembered of each (never
the callback itself) until its fate is known, and the ``wire.OnCommit`` event then sent.

Pure bookkeeping, on plain attributes of a connection (its alias, its
``run_on_commit`` entries' savepoint-id sets); ``_transactions`` calls it from its mirrors.
"""

from __future__ import annotations

import functools
import sys
import weakref
from typing import Any

from django.db import transaction as _transaction

from . import clock, forks, wire
from .context import current_dispatch, innermost_running

_now = clock.perf_counter_ns
_WALL = clock.WALL_OFFSET_NS
_getframe = sys._getframe
_current_nest = current_dispatch.get
# Frames in these files are not where on_commit() was called (_transactions adds its own).
SKIP_FILES = {_transaction.__file__, __file__}
MAX_PENDING = 10_000  # callbacks remembered per connection (a runaway loop stays bounded)
_KIND = wire.KIND_ON_COMMIT
rec: Any = None  # the capture.Recorder (set by _transactions.install); None: not recording


# id(connection) -> (weak ref to it, {id(the callback's savepoint-id set): Queued}).
# Each connection is used by one thread; dict operations are atomic under the GIL.
_pending: dict[int, tuple[weakref.ref, dict[int, Queued]]] = {}


# A forked child (a new process instance) must not report its parent's callbacks.
forks.register(_pending.clear)


class Queued:
    """What is known of a queued callback: refs and numbers only, never the callback."""

    __slots__ = ("alias", "depth", "dispatch", "robust", "site", "t0", "who")

    def __init__(self, dispatch: int, alias: Any, depth: int, who: tuple, site: Any,
                 robust: bool) -> None:
        self.t0 = _now()
        self.dispatch, self.alias, self.depth = dispatch, alias, depth
        self.who, self.site, self.robust = who, site, robust


def _site() -> wire.CallSite | None:
    """The code that called on_commit() (past transaction.on_commit and the mirrors)."""
    frame = _getframe(2)  # 0: this, 1: queued(), 2: the on_commit() mirror (skipped)
    while frame is not None and frame.f_code.co_filename in SKIP_FILES:
        frame = frame.f_back
    if frame is None:
        return None
    code, intern = frame.f_code, rec.intern
    return (intern(code.co_filename), frame.f_lineno, intern(code.co_name))


def queued(conn: Any, func: Any, robust: bool, depth: int) -> Queued | None:
    """A record for ``func`` if a dispatch is running (else None). Never raises."""
    try:
        nest = innermost_running(_current_nest())
        if nest is None or rec is None:
            return None
        return Queued(nest.id, rec.intern(conn.alias), depth, rec.describe.receiver(func),
                       _site(), robust)
    except Exception:
        failed()
        return None


def remember(conn: Any, sids: set, queued: Queued) -> None:
    try:
        key = id(conn)
        entry = _pending.get(key)
        if entry is None or entry[0]() is not conn:
            ref = weakref.ref(conn, functools.partial(_forget, key))
            entry = _pending[key] = (ref, {})
        if len(entry[1]) < MAX_PENDING:
            entry[1][id(sids)] = queued
    except Exception:
        failed()


def _forget(key: int, ref: weakref.ref) -> None:
    entry = _pending.get(key)
    if entry is not None and entry[0] is ref:
        del _pending[key]


def tracked(conn: Any) -> dict[int, Queued] | None:
    """The callbacks remembered for ``conn`` (left in place), or None."""
    entry = _pending.get(id(conn))
    return entry[1] if entry is not None and entry[0]() is conn else None


def take(conn: Any) -> dict[int, Queued] | None:
    entry = _pending.pop(id(conn), None)
    return entry[1] if entry is not None and entry[0]() is conn else None


def report(q: Queued, outcome: str, ran_from: int | None = None,
            exc: BaseException | None = None) -> None:
    """Send the callback's event now that its fate is known. Never raises."""
    try:
        end = _now()
        exc_type = exc_msg = None
        if exc is not None:
            exc_type, exc_msg = rec.describe.exception(exc)
        name, module, file, line = q.who
        rec.sink((_KIND, q.t0 + _WALL, q.dispatch, q.alias, q.depth, name, module, file,
                   line, q.site, q.robust, outcome, end + _WALL,
                   0 if ran_from is None else end - ran_from, exc_type, exc_msg))
    except Exception:
        failed()


def failed() -> None:
    try:
        rec.on_failure()
    except Exception:
        pass


def forget_all() -> None:
    """Forget every remembered callback, unreported (the probe stops)."""
    _pending.clear()
