"""The guard against PySide6 dropping references to None/True (see monitor_gui/qt/compat.py)."""

from __future__ import annotations

import sys

from monitor_gui.qt import compat


def test_singletons_cannot_be_freed_by_the_pyside_leak(qtbot):
    if sys.version_info >= (3, 12):
        assert not compat.PROTECTED  # immortal there already: nothing to do
        return
    if compat.PROTECTED:
        for obj in compat.SINGLETONS:
            assert sys.getrefcount(obj) >= compat.IMMORTAL // 2
        assert compat.protect_singletons()  # idempotent: no second bump
        assert sys.getrefcount(None) < compat.IMMORTAL * 1.5
    else:
        # A PySide6 without the bug: the probe must see no leak, and nothing was touched.
        assert not compat.singletons_leak()
        assert sys.getrefcount(None) < compat.IMMORTAL // 2
