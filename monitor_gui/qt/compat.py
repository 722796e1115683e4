"""Work around a PySide6 refcount bug that decrements None once too often.

With PySide6 6.12 on Python 3.11 many wrapped calls (``QGraphicsItem.setPos``,
``QWidget.resize``, ``setToolTip``, a ``data()`` override returning None to C++, ...)
release one reference to ``None`` that they never took. On Python >= 3.12 None is
immortal and nothing happens; on 3.11 None's refcount falls with every such call and
the interpreter aborts ("none_dealloc") once it reaches zero, which a live GUI
reaches within minutes. We detect the leak once and, only if it is present, do what
Python 3.12 does: give None a refcount so large that it can never reach zero.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtWidgets import QGraphicsRectItem

IMMORTAL = 1 << 50  # decades of leaked decrefs at millions per second


def none_leaks(calls: int = 64) -> bool:
    """True if this PySide6 build drops a reference to None on a plain wrapped call."""
    item = QGraphicsRectItem(0, 0, 1, 1)
    before = sys.getrefcount(None)
    for _ in range(calls):
        item.setPos(1.0, 1.0)
    lost = before - sys.getrefcount(None)
    refcnt = ctypes.c_ssize_t.from_address(id(None))
    refcnt.value += max(0, lost)  # give back what the probe itself took
    return lost >= calls


def protect_none() -> bool:
    """Make None effectively immortal when (and only when) the leak exists; idempotent."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    refcnt = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt is PyObject's first field
    if refcnt.value >= IMMORTAL // 2:
        return True
    if not none_leaks():
        return False
    refcnt.value += IMMORTAL
    return True


NONE_PROTECTED = protect_none()
