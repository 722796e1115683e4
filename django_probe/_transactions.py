"""Transaction context and ``on_commit()`` callbacks: the only module touching Django's
private transaction internals (``BaseDatabaseWrapper``'s commit hooks and rollbacks).

* **Context** (``tx_context``, on every dispatch): the first connection of the calling
  thread inside ``atomic()``, read from the storage of ``django.db.connections`` without
  going through ``ConnectionHandler.__getitem__`` (asgiref's ``Local`` costs ~1 µs a
  lookup; this thread's dict of connections costs ~0.1 µs). Only connections this thread
  already opened are read, so no connection is ever created and no query is run.
* **Callbacks**: ``on_commit`` and ``run_and_clear_commit_hooks`` are replaced on
  ``BaseDatabaseWrapper`` by mirrors of Django's own code (identical in 4.2, 5.2 and 6.0):
  a callback is called from the frame Django's method would call it from (same stack
  depth), and stays the very object given to ``on_commit`` in ``run_on_commit`` (no
  wrapper: ``captureOnCommitCallbacks`` compares identities). A callback queued while a
  dispatch runs is remembered by the id of the savepoint-id set Django creates for it
  (that set survives ``savepoint_rollback``'s rebuilt tuples), with nothing of the
  application: refs, ints and the call site. ``rollback``, ``savepoint_rollback`` and
  ``close`` (the three places Django drops queued callbacks) are wrapped to report what
  they dropped as ``discarded``; they call no application code, so the extra frame is
  seen by nobody's code.

Everything the probe adds is guarded: its failure is counted, never raised into commit
or rollback.
"""

from __future__ import annotations

import functools
import sys
import threading
import weakref
from typing import Any

from django.db import connections
from django.db import transaction as _transaction
from django.db.backends.base import base as _base
from django.db.transaction import TransactionManagementError

from . import clock, wire
from .context import current_dispatch, innermost_running

BaseDatabaseWrapper = _base.BaseDatabaseWrapper
logger = _base.logger  # Django's "django.db.backends.base" logger: the same records
_now = clock.perf_counter_ns
_WALL = clock.WALL_OFFSET_NS
_getframe = sys._getframe
_current_nest = current_dispatch.get
_SKIP_FILES = {_transaction.__file__, __file__}
MAX_PENDING = 10_000  # callbacks remembered per connection (a runaway loop stays bounded)
_KIND = wire.KIND_ON_COMMIT
RETURNED, RAISED, SKIPPED, DISCARDED = wire.RETURNED, wire.RAISED, wire.SKIPPED, wire.DISCARDED

_ORIGINALS: dict[str, Any] = {
    name: BaseDatabaseWrapper.__dict__[name]
    for name in ("on_commit", "run_and_clear_commit_hooks", "rollback", "savepoint_rollback",
                 "close")}
_rec: Any = None  # the capture.Recorder; None while not installed


# --------------------------------------------------------------------------- context


def _thread_storage() -> Any:
    """The threading.local holding this thread's {alias: connection} (asgiref >= 3.7's
    thread-critical ``Local``), or None for another layout."""
    local = getattr(connections, "_connections", None)
    storage = getattr(local, "__dict__", {}).get("_storage")
    return storage if type(storage) is threading.local else None


_storage: Any = _thread_storage()


def tx_context() -> tuple[Any, int] | None:
    """``wire.TxContext`` (alias ref, atomic depth) of the first connection of this
    thread inside ``atomic()``, or None. Never raises. (~0.1 µs: one call, the thread's
    dict, one attribute per open connection; measured with bench/bench_probe.py.)"""
    try:
        # An entry that is no connection (asgiref's "cvar", in a thread running an event
        # loop, where the ORM refuses to run anyway) raises AttributeError: no context.
        for conn in _storage.__dict__.values():
            if conn.in_atomic_block:
                return (_rec.intern(conn.alias), len(conn.atomic_blocks))
    except Exception:
        pass
    return None


def tx_context_public() -> tuple[Any, int] | None:
    """``tx_context`` for another asgiref: the public (slower) way, still without ever
    opening a connection."""
    try:
        for conn in connections.all(initialized_only=True):
            if conn.in_atomic_block:
                return (_rec.intern(conn.alias), len(conn.atomic_blocks))
    except Exception:
        pass
    return None


# --------------------------------------------------------------------------- pending callbacks

# id(connection) -> (weak ref to it, {id(the callback's savepoint-id set): _Queued}).
# Each connection is used by one thread; dict operations are atomic under the GIL.
_pending: dict[int, tuple[weakref.ref, dict[int, _Queued]]] = {}


class _Queued:
    """What is known of a queued callback: refs and numbers only, never the callback."""

    __slots__ = ("alias", "depth", "dispatch", "robust", "site", "t0", "who")

    def __init__(self, dispatch: int, alias: Any, depth: int, who: tuple, site: Any,
                 robust: bool) -> None:
        self.t0 = _now()
        self.dispatch, self.alias, self.depth = dispatch, alias, depth
        self.who, self.site, self.robust = who, site, robust


def _site() -> wire.CallSite | None:
    """The code that called on_commit() (past transaction.on_commit and this module)."""
    frame = _getframe(2)
    while frame is not None and frame.f_code.co_filename in _SKIP_FILES:
        frame = frame.f_back
    if frame is None:
        return None
    code, intern = frame.f_code, _rec.intern
    return (intern(code.co_filename), frame.f_lineno, intern(code.co_name))


def _queued(conn: Any, func: Any, robust: bool, depth: int) -> _Queued | None:
    """A record for ``func`` if a dispatch is running (else None). Never raises."""
    try:
        nest = innermost_running(_current_nest())
        if nest is None or _rec is None:
            return None
        return _Queued(nest.id, _rec.intern(conn.alias), depth, _rec.describe.receiver(func),
                       _site(), robust)
    except Exception:
        _failed()
        return None


def _remember(conn: Any, sids: set, queued: _Queued) -> None:
    try:
        key = id(conn)
        entry = _pending.get(key)
        if entry is None or entry[0]() is not conn:
            ref = weakref.ref(conn, functools.partial(_forget, key))
            entry = _pending[key] = (ref, {})
        if len(entry[1]) < MAX_PENDING:
            entry[1][id(sids)] = queued
    except Exception:
        _failed()


def _forget(key: int, ref: weakref.ref) -> None:
    entry = _pending.get(key)
    if entry is not None and entry[0] is ref:
        del _pending[key]


def _take(conn: Any) -> dict[int, _Queued] | None:
    entry = _pending.pop(id(conn), None)
    return entry[1] if entry is not None and entry[0]() is conn else None


def _report(q: _Queued, outcome: str, ran_from: int | None = None,
            exc: BaseException | None = None) -> None:
    """Send the callback's event now that its fate is known. Never raises."""
    try:
        end = _now()
        exc_type = exc_msg = None
        if exc is not None:
            exc_type, exc_msg = _rec.describe.exception(exc)
        name, module, file, line = q.who
        _rec.sink((_KIND, q.t0 + _WALL, q.dispatch, q.alias, q.depth, name, module, file,
                   line, q.site, q.robust, outcome, end + _WALL,
                   0 if ran_from is None else end - ran_from, exc_type, exc_msg))
    except Exception:
        _failed()


def _failed() -> None:
    try:
        _rec.on_failure()
    except Exception:
        pass


def _reconcile(conn: Any) -> None:
    """Report the remembered callbacks that ``conn.run_on_commit`` no longer holds."""
    try:
        entry = _pending.get(id(conn))
        if entry is None or entry[0]() is not conn:
            return
        tracked = entry[1]
        live = {id(e[0]) for e in conn.run_on_commit}
        for key in [k for k in tracked if k not in live]:
            _report(tracked.pop(key), DISCARDED)
    except Exception:
        _failed()


# --------------------------------------------------------------------------- mirrors


def on_commit(self, func, robust=False):
    if not callable(func):
        raise TypeError("on_commit()'s callback must be a callable.")
    if self.in_atomic_block:
        # Transaction in progress; save for execution on commit.
        sids = set(self.savepoint_ids)
        self.run_on_commit.append((sids, func, robust))
        queued = _queued(self, func, robust, len(self.atomic_blocks))
        if queued is not None:
            _remember(self, sids, queued)
    elif not self.get_autocommit():
        raise TransactionManagementError(
            "on_commit() cannot be used in manual transaction management"
        )
    else:
        # No transaction in progress and in autocommit mode; execute immediately.
        queued = _queued(self, func, robust, 0)
        t0 = _now()
        if robust:
            try:
                func()
            except Exception as e:
                if queued is not None:
                    _report(queued, RAISED, t0, e)
                logger.error(
                    f"Error calling {func.__qualname__} in on_commit() (%s).",
                    e,
                    exc_info=True,
                )
            else:
                if queued is not None:
                    _report(queued, RETURNED, t0)
        else:
            try:
                func()
            except BaseException as e:
                if queued is not None:
                    _report(queued, RAISED, t0, e)
                raise
            if queued is not None:
                _report(queued, RETURNED, t0)


def run_and_clear_commit_hooks(self):
    self.validate_no_atomic_block()
    current_run_on_commit = self.run_on_commit
    self.run_on_commit = []
    tracked = _take(self)
    if not tracked:  # Django's loop, untouched: no callback of a dispatch is waiting
        while current_run_on_commit:
            _, func, robust = current_run_on_commit.pop(0)
            if robust:
                try:
                    func()
                except Exception as e:
                    logger.error(
                        f"Error calling {func.__qualname__} in on_commit() during "
                        f"transaction (%s).",
                        e,
                        exc_info=True,
                    )
            else:
                func()
        return
    failed = True
    try:
        while current_run_on_commit:
            sids, func, robust = current_run_on_commit.pop(0)
            queued = tracked.pop(id(sids), None)
            t0 = _now()
            if robust:
                try:
                    func()
                except Exception as e:
                    if queued is not None:
                        _report(queued, RAISED, t0, e)
                    logger.error(
                        f"Error calling {func.__qualname__} in on_commit() during "
                        f"transaction (%s).",
                        e,
                        exc_info=True,
                    )
                else:
                    if queued is not None:
                        _report(queued, RETURNED, t0)
            else:
                try:
                    func()
                except BaseException as e:
                    if queued is not None:
                        _report(queued, RAISED, t0, e)
                    raise
                if queued is not None:
                    _report(queued, RETURNED, t0)
        failed = False
    finally:
        # After a callback raised, Django drops the rest unrun; any other left over was
        # taken out of run_on_commit by someone else before the commit.
        for queued in tracked.values():
            _report(queued, SKIPPED if failed else DISCARDED)


def rollback(self):
    try:
        return _ORIGINALS["rollback"](self)
    finally:
        _reconcile(self)


def savepoint_rollback(self, sid):
    try:
        return _ORIGINALS["savepoint_rollback"](self, sid)
    finally:
        _reconcile(self)


def close(self):
    try:
        return _ORIGINALS["close"](self)
    finally:
        _reconcile(self)


_REPLACEMENTS: dict[str, Any] = {
    "on_commit": on_commit, "run_and_clear_commit_hooks": run_and_clear_commit_hooks,
    "rollback": rollback, "savepoint_rollback": savepoint_rollback, "close": close}
for _name, _func in _REPLACEMENTS.items():
    functools.update_wrapper(_func, _ORIGINALS[_name])


def installed() -> bool:
    return BaseDatabaseWrapper.__dict__["on_commit"] is on_commit


def install(recorder: Any) -> None:
    """Give dispatches their transaction context and capture on_commit() callbacks.
    Idempotent: a second call swaps the recorder only."""
    global _rec
    _rec = recorder
    recorder.tx = tx_context if _storage is not None else tx_context_public
    for name, func in _REPLACEMENTS.items():
        setattr(BaseDatabaseWrapper, name, func)


def uninstall() -> None:
    """Restore Django's methods; callbacks still remembered are forgotten unreported."""
    global _rec
    for name, func in _ORIGINALS.items():
        setattr(BaseDatabaseWrapper, name, func)
    if _rec is not None:
        _rec.__dict__.pop("tx", None)  # back to the class's "no transaction context"
    _rec = None
    _pending.clear()
