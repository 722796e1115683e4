"""Closing a window that holds unsaved live events offers to save them (Save/Discard/Cancel)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QObject, QSettings, Slot
from PySide6.QtWidgets import QCheckBox, QMessageBox

ASK_KEY = "window/ask_to_save"  # QSettings: false = close without asking
ASK_ENV = "SIGNAL_MONITOR_ASK_TO_SAVE"  # 0 = close without asking (overrides the setting)
Answer = QMessageBox.StandardButton


class CloseGuard(QObject):
    """Counts dispatches that arrived live since the last save (or clear), and asks on close.

    Rows applied while live input is paused are a recording being opened (the window
    pauses for that), not news, so they are not counted. ``ask`` is the one modal call:
    tests replace it.
    """

    def __init__(self, window: Any, controller: Any, settings: QSettings | None,
                 environ: Mapping[str, str] = os.environ) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller
        self.settings = settings
        self.environ = environ
        self.unsaved = 0
        self.enabled = True  # off after a close went through, or for a stop signal
        controller.ticked.connect(self._on_tick)
        controller.selectionReset.connect(self._on_reset)
        window.recordingSaved.connect(self.mark_saved)

    @Slot(object)
    def _on_tick(self, summary: Any) -> None:
        if not self.controller.paused:
            self.unsaved += summary.appended

    @Slot()
    def _on_reset(self) -> None:
        if len(self.controller.state.store) == 0:  # a clear (also before opening a file)
            self.unsaved = 0

    @Slot(str)
    def mark_saved(self, _path: str = "") -> None:
        self.unsaved = 0

    def pending(self) -> int:
        """Unsaved dispatches still stored (older ones may have been evicted)."""
        return min(self.unsaved, len(self.controller.state.store))

    def asking(self) -> bool:
        """Whether to ask at all: the environment variable, else the setting (default yes)."""
        env = self.environ.get(ASK_ENV, "").strip().lower()
        if env:
            return env not in ("0", "false", "no", "off")
        if self.settings is None:
            return True
        return str(self.settings.value(ASK_KEY, True)).lower() not in ("false", "0")

    def may_close(self) -> bool:
        """Called by the window's closeEvent: True lets the window close."""
        count = self.pending()
        if not self.enabled or count == 0 or not self.asking():
            self.enabled = False
            return True
        answer, dont_ask = self.ask(count)
        if answer == Answer.Cancel:
            return False
        if dont_ask and self.settings is not None:
            self.settings.setValue(ASK_KEY, False)
            self.settings.sync()
        if answer == Answer.Save:
            self.window.save_dialog()
            if self.unsaved:  # the dialog was cancelled, or the save failed (it said so)
                return False
        self.enabled = False
        return True

    def ask(self, count: int) -> tuple[Answer, bool]:
        """The question (modal): the button chosen, and whether "don't ask again" is ticked."""
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved events",
                          f"{count:,} dispatches received since the last save are not saved.\n"
                          "Save them before closing?",
                          Answer.Save | Answer.Discard | Answer.Cancel, self.window)
        box.setDefaultButton(Answer.Save)
        # Parented, and kept in a local: the box must not outlive its check box's wrapper.
        dont_ask = QCheckBox("Don't ask again (closing then discards them)", box)
        box.setCheckBox(dont_ask)
        box.exec()
        clicked = box.clickedButton()
        answer = box.standardButton(clicked) if clicked is not None else Answer.Cancel
        return answer, dont_ask.isChecked()
