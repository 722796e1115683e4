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
  dispatch runs is remembered (``callbacks.py``) by the id of the savepoint-id set Django
  creates for it (that set survives ``savepoint_rollback``'s rebuilt tuples), with nothing
  of the application: refs, ints and the call site. ``rollback``, ``savepoint_rollback`` and
  ``close`` (the three places Django drops queued callbacks) are wrapped to report what
  they dropped as ``discarded``.
* **Rollbacks** (``rollbacks.py``): ``commit``, ``rollback``, ``savepoint``,
  ``savepoint_rollback`` and ``close`` are wrapped to tell when a transaction a dispatch ran
  in ended, and whether it (or a savepoint in it) was rolled back (``wire.Rollback``).

The wrappers call Django's method and then do bookkeeping; they call no application code
and add one frame under Django's method, seen only by a database ``execute_wrapper``
that inspects the stack of a ``SAVEPOINT``/``ROLLBACK TO`` statement.

Everything the probe adds is guarded: its failure is counted, never raised into commit
or rollback.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from django.db import connections
from django.db.backends.base import base as _base
from django.db.transaction import TransactionManagementError

from . import callbacks, clock, rollbacks, wire

BaseDatabaseWrapper = _base.BaseDatabaseWrapper
logger = _base.logger  # Django's "django.db.backends.base" logger: the same records
_now = clock.perf_counter_ns
callbacks.SKIP_FILES.add(__file__)  # the mirrors are not where on_commit() was called
RETURNED, RAISED, SKIPPED, DISCARDED = wire.RETURNED, wire.RAISED, wire.SKIPPED, wire.DISCARDED

_ORIGINALS: dict[str, Any] = {
    name: BaseDatabaseWrapper.__dict__[name]
    for name in ("on_commit", "run_and_clear_commit_hooks", "commit", "rollback", "savepoint",
                 "savepoint_rollback", "close")}
_rec: Any = None  # the capture.Recorder; None while not installed
_commit = _ORIGINALS["commit"]
_open, _savepoints = rollbacks.open_transactions, rollbacks.open_savepoints


# --------------------------------------------------------------------------- context


def _thread_storage() -> Any:
    """The threading.local holding this thread's {alias: connection} (asgiref >= 3.7's
    thread-critical ``Local``), or None for another layout."""
    local = getattr(connections, "_connections", None)
    storage = getattr(local, "__dict__", {}).get("_storage")
    return storage if type(storage) is threading.local else None


_storage: Any = _thread_storage()


def tx_context() -> tuple[Any, int] | None:
    """``wire.TxContext`` (alias ref, atomic depth, serial) of the first connection of this
    thread inside ``atomic()``, or None. Never raises. (~0.1 µs: one call, the thread's
    dict, one attribute per open connection; measured with bench/bench_probe.py.)"""
    try:
        # An entry that is no connection (asgiref's "cvar", in a thread running an event
        # loop, where the ORM refuses to run anyway) raises AttributeError: no context.
        for conn in _storage.__dict__.values():
            if conn.in_atomic_block:
                return (_rec.intern(conn.alias), len(conn.atomic_blocks),
                        rollbacks.serial_of(conn))
    except Exception:
        pass
    return None


def tx_context_public() -> tuple[Any, int] | None:
    """``tx_context`` for another asgiref: the public (slower) way, still without ever
    opening a connection."""
    try:
        for conn in connections.all(initialized_only=True):
            if conn.in_atomic_block:
                return (_rec.intern(conn.alias), len(conn.atomic_blocks),
                        rollbacks.serial_of(conn))
    except Exception:
        pass
    return None


def _reconcile(conn: Any) -> None:
    """Report the remembered callbacks that ``conn.run_on_commit`` no longer holds."""
    try:
        tracked = callbacks.tracked(conn)
        if not tracked:
            return
        live = {id(e[0]) for e in conn.run_on_commit}
        for key in [k for k in tracked if k not in live]:
            callbacks.report(tracked.pop(key), DISCARDED)
    except Exception:
        callbacks.failed()


# --------------------------------------------------------------------------- mirrors


def on_commit(self, func, robust=False):
    if not callable(func):
        raise TypeError("on_commit()'s callback must be a callable.")
    if self.in_atomic_block:
        # Transaction in progress; save for execution on commit.
        sids = set(self.savepoint_ids)
        self.run_on_commit.append((sids, func, robust))
        queued = callbacks.queued(self, func, robust, len(self.atomic_blocks))
        if queued is not None:
            callbacks.remember(self, sids, queued)
    elif not self.get_autocommit():
        raise TransactionManagementError(
            "on_commit() cannot be used in manual transaction management"
        )
    else:
        # No transaction in progress and in autocommit mode; execute immediately.
        queued = callbacks.queued(self, func, robust, 0)
        t0 = _now()
        if robust:
            try:
                func()
            except Exception as e:
                if queued is not None:
                    callbacks.report(queued, RAISED, t0, e)
                logger.error(
                    f"Error calling {func.__qualname__} in on_commit() (%s).",
                    e,
                    exc_info=True,
                )
            else:
                if queued is not None:
                    callbacks.report(queued, RETURNED, t0)
        else:
            try:
                func()
            except BaseException as e:
                if queued is not None:
                    callbacks.report(queued, RAISED, t0, e)
                raise
            if queued is not None:
                callbacks.report(queued, RETURNED, t0)


def run_and_clear_commit_hooks(self):
    self.validate_no_atomic_block()
    current_run_on_commit = self.run_on_commit
    self.run_on_commit = []
    tracked = callbacks.take(self)
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
                        callbacks.report(queued, RAISED, t0, e)
                    logger.error(
                        f"Error calling {func.__qualname__} in on_commit() during "
                        f"transaction (%s).",
                        e,
                        exc_info=True,
                    )
                else:
                    if queued is not None:
                        callbacks.report(queued, RETURNED, t0)
            else:
                try:
                    func()
                except BaseException as e:
                    if queued is not None:
                        callbacks.report(queued, RAISED, t0, e)
                    raise
                if queued is not None:
                    callbacks.report(queued, RETURNED, t0)
        failed = False
    finally:
        # After a callback raised, Django drops the rest unrun; any other left over was
        # taken out of run_on_commit by someone else before the commit.
        for queued in tracked.values():
            callbacks.report(queued, SKIPPED if failed else DISCARDED)


def commit(self):
    result = _commit(self)
    if _open or _savepoints:  # (most commits: no dispatch or savepoint to forget, no call)
        rollbacks.over(self, False)  # (a commit that raised is followed by a rollback)
    return result


def rollback(self):
    done = False
    try:
        result = _ORIGINALS["rollback"](self)
        done = True
    finally:
        _reconcile(self)
        rollbacks.over(self, done)
    return result


def savepoint(self):
    sid = _ORIGINALS["savepoint"](self)
    rollbacks.savepoint_made(self, sid)
    return sid


def savepoint_rollback(self, sid):
    try:
        result = _ORIGINALS["savepoint_rollback"](self, sid)
    finally:
        _reconcile(self)
    rollbacks.savepoint_rolled_back(self, sid)
    return result


def close(self):
    in_transaction = self.in_atomic_block  # closing inside atomic() loses the transaction
    try:
        return _ORIGINALS["close"](self)
    finally:
        _reconcile(self)
        rollbacks.over(self, in_transaction)


_REPLACEMENTS: dict[str, Any] = {
    "on_commit": on_commit, "run_and_clear_commit_hooks": run_and_clear_commit_hooks,
    "commit": commit, "rollback": rollback, "savepoint": savepoint,
    "savepoint_rollback": savepoint_rollback, "close": close}
for _name, _func in _REPLACEMENTS.items():
    functools.update_wrapper(_func, _ORIGINALS[_name])


def installed() -> bool:
    return BaseDatabaseWrapper.__dict__["on_commit"] is on_commit


def install(recorder: Any) -> None:
    """Give dispatches their transaction context and capture on_commit() callbacks.
    Idempotent: a second call swaps the recorder only."""
    global _rec
    _rec = callbacks.rec = rollbacks.rec = recorder
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
    _rec = callbacks.rec = rollbacks.rec = None
    callbacks.forget_all()
    rollbacks.forget_all()
