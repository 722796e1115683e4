"""The PySide6 desktop window: thin Qt adapters over the Qt-free monitor core."""

# Imported first on purpose: it guards against a PySide6 refcount bug (see compat.py)
# before any other Qt call of ours runs.
from monitor_gui.qt import compat as _compat  # noqa: F401
