"""Transactions that had dispatches, and the ``wire.Rollback`` sent when one (or a savepoint
in one) is rolled back: the dispatches that ran in it wrote nothing that lasted.

A transaction gets a serial (a process-wide counter) when the first dispatch inside it
reads its context (``serial_of``, from ``_transactions.tx_context``); the serial is
dropped when it ends (``over``: commit, rollback or close). Each savepoint notes when it
was made (``savepoint_made``), so its rollback can say since when
(``savepoint_rolled_back``). Transactions nobody dispatched in cost a dict lookup or two
and send nothing.

Pure bookkeeping on ids of connections (with a weak reference to check them) and ints:
never the application's objects. Each connection is used by one thread; dict operations
are atomic under the GIL. ``_transactions`` calls it from its mirrors; nothing here raises.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import weakref
from typing import Any

import django

from . import clock, forks, wire
from .callbacks import failed  # (counted by the same recorder: both are set together)

_KIND = wire.KIND_ROLLBACK
_MAX_OPEN = 10_000  # transactions with a serial at once (connections leaked mid-transaction)
_MAX_SAVEPOINTS = 10_000  # per transaction (a TestCase class's tests are its savepoints)
_get_ident = threading.get_ident
rec: Any = None  # the capture.Recorder (set by _transactions.install); None: not recording

# id(connection) -> (weak ref to it, serial) of transactions with a dispatch; and
# id(connection) -> (weak ref to it, {savepoint id: wall ns when made}) of every open
# transaction with savepoints (a dispatch that began before a savepoint and ended after
# its rollback must be left out, also when it is the transaction's first).
_open: dict[int, tuple[weakref.ref, int]] = {}
_savepoints: dict[int, tuple[weakref.ref, dict[str, int]]] = {}
# (Read by _transactions.commit to skip calling over() when both are empty: never rebound.)
open_transactions, open_savepoints = _open, _savepoints
_next_serial = itertools.count(1).__next__


def _clear() -> None:
    _open.clear()
    _savepoints.clear()


# A forked child (a new process instance) numbers its own transactions.
forks.register(_clear)


def serial_of(conn: Any) -> int:
    """The serial of ``conn``'s current transaction, given now if it has none yet."""
    entry = _open.get(id(conn))
    if entry is not None and entry[0]() is conn:
        return entry[1]
    if len(_open) >= _MAX_OPEN:
        _open.clear()
    serial = _next_serial()
    _open[id(conn)] = (weakref.ref(conn), serial)
    return serial


def _live(table: dict[int, Any], conn: Any) -> Any:
    entry = table.get(id(conn))
    return entry if entry is not None and entry[0]() is conn else None


def savepoint_made(conn: Any, sid: Any) -> None:
    try:
        if type(sid) is not str:
            return
        entry = _live(_savepoints, conn)
        if entry is None:
            if len(_savepoints) >= _MAX_OPEN:
                _savepoints.clear()
            entry = _savepoints[id(conn)] = (weakref.ref(conn), {})
        if len(entry[1]) < _MAX_SAVEPOINTS:
            entry[1][sid] = clock.wall_ns()
    except Exception:
        failed()


def savepoint_rolled_back(conn: Any, sid: Any) -> None:
    """Everything since savepoint ``sid`` was undone: tell the monitor, if it saw any of
    the transaction's dispatches."""
    try:
        times = _live(_savepoints, conn)
        since = times[1].pop(sid, 0) if times is not None and type(sid) is str else 0
        entry = _live(_open, conn)
        if entry is not None:
            _send(conn, entry[1], False, since)
    except Exception:
        failed()


def over(conn: Any, rolled_back: bool) -> None:
    """``conn``'s transaction ended (committed, or rolled back as a whole)."""
    try:
        _savepoints.pop(id(conn), None)
        entry = _open.pop(id(conn), None)
        if entry is not None and entry[0]() is conn and rolled_back:
            _send(conn, entry[1], True, 0)
    except Exception:
        failed()


def _send(conn: Any, serial: int, whole: bool, since: int) -> None:
    if rec is not None:
        rec.sink((_KIND, clock.wall_ns(), rec.intern(conn.alias), serial, _get_ident(), whole,
                  since, _by_test_framework()))


# Found by path, not imported: the probe never loads Django's test modules itself.
_TESTCASES = os.path.join(os.path.dirname(django.__file__), "test", "testcases.py")
_MAX_UP = 12  # frames looked at above the rollback: Atomic.__exit__, then its caller


def _by_test_framework() -> bool:
    """Whether Django's test framework is rolling back (a TestCase ending a test or its
    class, also under pytest-django): its rollbacks are expected, not the application's.
    Only frames' code objects are read, never their locals."""
    try:  # 0: here, 1: _send, 2: over()/savepoint_rolled_back, 3: the wrapper
        frame = sys._getframe(3)
    except ValueError:
        return False
    for _ in range(_MAX_UP):
        if frame is None:
            return False
        if frame.f_code.co_filename == _TESTCASES:
            return True
        frame = frame.f_back
    return False


def forget_all() -> None:
    """Forget every open transaction, unreported (the probe stops)."""
    _clear()
