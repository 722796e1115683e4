"""Work around a PySide6 refcount bug that releases None/True/False once too often.

PySide6 6.12.0 on Python 3.11 drops a reference it never took to the singleton it
returns from many wrapped calls: ``None`` from ``QGraphicsItem.setPos``,
``QWidget.resize``, ``setToolTip`` or a ``data()`` override answering C++, ``True``
from every ``Signal.emit``. Since Python 3.12 these singletons are immortal and nothing
happens; on 3.11 their refcounts fall with every such call and the interpreter aborts
("none_dealloc"/"bool_dealloc") once one reaches zero, which a live GUI does within
minutes. pyproject.toml excludes 6.12.0; this guard covers installs that still have it.
We detect the leak once and, only if present, do what Python 3.12 does: give the
singletons a refcount so large that it can never reach zero.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QGraphicsRectItem

IMMORTAL = 1 << 50  # decades of leaked decrefs at millions per second
SINGLETONS = (None, True, False)


class _Emitter(QObject):
    fired = Signal(int)


def _refcnt(obj: object) -> ctypes.c_ssize_t:
    return ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is PyObject's first field


def singletons_leak(calls: int = 64) -> bool:
    """True if this PySide6 build drops references to None or True on plain calls."""
    item = QGraphicsRectItem(0, 0, 1, 1)
    emitter = _Emitter()
    emitter.fired.connect(lambda _: None)
    before = [sys.getrefcount(o) for o in SINGLETONS]
    for _ in range(calls):
        item.setPos(1.0, 1.0)
        emitter.fired.emit(1)
    lost = [b - sys.getrefcount(o) for o, b in zip(SINGLETONS, before, strict=True)]
    for obj, n in zip(SINGLETONS, lost, strict=True):
        _refcnt(obj).value += max(0, n)  # give back what the probe itself took
    return max(lost) >= calls // 2  # bookkeeping above moves a count by one or two


def protect_singletons() -> bool:
    """Make None/True/False effectively immortal when the leak exists; idempotent."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if _refcnt(None).value >= IMMORTAL // 2:
        return True
    if not singletons_leak():
        return False
    for obj in SINGLETONS:
        _refcnt(obj).value += IMMORTAL
    return True


PROTECTED = protect_singletons()
