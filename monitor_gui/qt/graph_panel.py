"""The graph with its bar: the focus breadcrumb, search (Ctrl+F) and "collapse all"."""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from monitor_gui.qt.graph_items import _label
from monitor_gui.qt.graph_view import GraphView
from monitor_gui.qt.theme import html_text

KIND_ORDER = {"signal": 0, "sender": 1, "receiver": 2}  # a search prefers signals


class GraphPanel(QWidget):
    """Holds the GraphView; says what is focused and finds nodes by substring."""

    searchFound = Signal(str, str)  # (kind, name) to focus
    focusCleared = Signal()

    def __init__(self, graph: GraphView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graph = graph
        self.crumb = QLabel()
        self.crumb.setTextFormat(Qt.TextFormat.RichText)
        self.crumb.linkActivated.connect(lambda _: self.focusCleared.emit())
        # The breadcrumb gives way first when the window is narrow (its tooltip has it all).
        self.crumb.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.search = QLineEdit(placeholderText="Find a sender, signal or receiver (Ctrl+F)",
                                clearButtonEnabled=True)
        self.search.setMinimumWidth(180)
        self.search.setMaximumWidth(360)
        self._choices = QStringListModel(self)
        completer = QCompleter(self._choices, self)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setMaxVisibleItems(14)
        completer.activated.connect(self.find)
        self.search.setCompleter(completer)
        self.search.returnPressed.connect(lambda: self.find(self.search.text()))
        self.collapse = QToolButton(text="Collapse all", autoRaise=True)
        self.collapse.setToolTip("Fold every app group and '+N more' again")
        self.collapse.clicked.connect(graph.collapse_all)
        self.top_n = QSpinBox(minimum=1, maximum=50, value=graph.opts.top_n,
                              prefix="show ", suffix=" per app")
        self.top_n.setToolTip("An opened app group lists its busiest members one by one; "
                              "the rest fold into '+N more'")
        self.top_n.valueChanged.connect(self.set_top_n)
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 3, 6, 3)
        bar.addWidget(self.crumb, 1)
        bar.addWidget(self.top_n)
        bar.addWidget(self.collapse)
        bar.addWidget(self.search)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(graph, 1)
        graph.layoutChanged.connect(self._update_choices)
        self.set_crumb(None)

    def set_top_n(self, n: int) -> None:
        self.graph.opts.top_n = n
        self.graph.rebuild()

    def set_crumb(self, node: tuple[str, str] | None, summary: str = "") -> None:
        if node is None:
            self.crumb.setText("<b>All signals</b> <span style='color:gray'>· click a node to "
                               "focus it, a group to open it</span>")
            return
        kind, name = node
        self.crumb.setText(f"<a href='all'>All signals</a> &rsaquo; {kind} <b>{html_text(name)}</b>"
                           f" <span style='color:gray'>· {html_text(summary)} · Esc leaves"
                           "</span>")
        self.crumb.setToolTip(name)

    def _update_choices(self) -> None:
        names = self.graph.names()
        labels = sorted({name for _, name in names})
        if labels != self._choices.stringList():
            self._choices.setStringList(labels)

    def find(self, text: str) -> bool:
        """Focus the best match of ``text`` (exact name, else substring); False if none."""
        needle = text.strip().lower()
        if not needle:
            return False
        names = self.graph.names()
        exact = [n for n in names if n[1].lower() == needle]
        found = exact or [n for n in names if needle in n[1].lower()
                          or needle in _label(*n).lower()]
        if not found:
            self.search.setStyleSheet("QLineEdit { color: #cf222e; }")
            self.search.setToolTip(f"Nothing is called “{text}”")
            return False
        self.search.setStyleSheet("")
        self.search.setToolTip("")
        kind, name = min(found, key=lambda n: (KIND_ORDER[n[0]], len(n[1]), n[1]))
        self.searchFound.emit(kind, name)
        return True

    def start_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()
