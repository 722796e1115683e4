"""The PySide6 desktop window: thin Qt adapters over the Qt-free monitor core."""
