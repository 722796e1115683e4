"""The guard against PySide6 dropping references to None (see monitor_gui/qt/compat.py)."""

from __future__ import annotations

import sys

from monitor_gui.qt import compat


def test_none_cannot_be_freed_by_the_pyside_leak(qtbot):
    if sys.version_info >= (3, 12):
        assert not compat.NONE_PROTECTED  # None is immortal there: nothing to do
        return
    if compat.NONE_PROTECTED:
        assert sys.getrefcount(None) >= compat.IMMORTAL // 2
        assert compat.protect_none()  # idempotent: no second bump
        assert sys.getrefcount(None) < compat.IMMORTAL * 1.5
    else:
        assert not compat.none_leaks()
