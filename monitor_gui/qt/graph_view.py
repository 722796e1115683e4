"""The live graph: senders -> signals -> receivers in three columns that fit the view."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QBrush, QFont, QFontMetricsF, QPainter
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSimpleTextItem, QGraphicsView, QWidget

from monitor_gui.core.control import NodeMark
from monitor_gui.core.graph import Edge, EdgeKey
from monitor_gui.core.query import DEFAULT_SLOW_MS
from monitor_gui.core.wiring import (
    GROUP,
    NODE,
    Row,
    RowEdge,
    Wiring,
    WiringOptions,
    build_wiring,
)
from monitor_gui.qt.graph_focus import GraphFocus
from monitor_gui.qt.graph_items import (
    NODE_H,
    EdgeItem,
    NodeItem,
    colour_of,
)
from monitor_gui.qt.graph_layout import (
    COLUMN_TITLES,
    HEADER_H,
    LEGEND_H,
    MARGIN,
    PITCH,
    V_GAP,
    GraphLayout,
)
from monitor_gui.qt.graph_picture import GraphPicture
from monitor_gui.qt.theme import Theme, current_theme, format_ns

LABEL_PT = 9.0  # labels never smaller than this at 100 % zoom
FLASH_DECAY = 0.7  # per 60 ms tick: an edge glows for roughly half a second

__all__ = ["NODE_H", "EdgeItem", "GraphView", "NodeItem", "colour_of"]


class GraphView(GraphLayout, GraphFocus, GraphPicture, QGraphicsView):
    """Draws a core Wiring; a click focuses a node, expands a group or opens a "+N more"."""

    nodeClicked = Signal(str, str)  # (kind, name) of a sender, signal or receiver
    nodeMenuRequested = Signal(str, str, object)  # (kind, name, screen QPoint): right-click
    layoutChanged = Signal()

    def __init__(self, parent: QWidget | None = None, theme: Theme | None = None) -> None:
        super().__init__(parent)
        self.theme = theme or current_theme()
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.font_normal = QFont(self.font())
        self.font_normal.setPointSizeF(max(LABEL_PT, self.font().pointSizeF()))
        self.font_small = QFont(self.font_normal)  # live control's marks
        self.font_small.setPointSizeF(self.font_normal.pointSizeF() * 0.85)
        self.font_bold = QFont(self.font_normal)
        self.font_bold.setBold(True)
        self.metrics = QFontMetricsF(self.font_normal)
        self._metrics = {self.font_normal.key(): self.metrics}
        self.opts = WiringOptions()
        self.wiring: Wiring | None = None
        self.nodes: dict[tuple[str, str], NodeItem] = {}
        self.edges: dict[tuple[str, str, str], EdgeItem] = {}
        self.slow_ns = int(DEFAULT_SLOW_MS * 1_000_000)
        self.max_edge_count = 1
        self.user_zoomed = False
        self.focus: tuple[str, str] | None = None
        # Tooltip figures of an edge (the Top table's, from the window); None: the view's sums.
        self.figures: Callable[[RowEdge], str | None] | None = None
        # Live control's rules on senders and signals, by (kind, name) (core.control.node_marks)
        self.control_marks: Mapping[tuple[str, str], NodeMark] = {}
        self._focus_nodes: set[tuple[str, str]] = set()
        self._focus_edges: set[EdgeKey] = set()
        self._source: list[Edge] = []
        self._known: frozenset[str] = frozenset()
        self._counts: Mapping[EdgeKey, int] | None = None
        self._structure: Any = None
        self._selected: tuple[str, str] | None = None
        self._headers: list[QGraphicsSimpleTextItem] = []
        self._flash_timer = QTimer(self, interval=60)
        self._flash_timer.timeout.connect(self._decay)
        self._resize_timer = QTimer(self, singleShot=True, interval=40)
        self._resize_timer.timeout.connect(self._refit)
        self.apply_theme(self.theme)

    def metrics_for(self, font: QFont) -> QFontMetricsF:
        return self._metrics.setdefault(font.key(), QFontMetricsF(font))

    # ------------------------------------------------------------------ data
    def update_graph(self, edges: Iterable[Edge], known_signals: Iterable[str] = (),
                     fired: Iterable[EdgeKey] = ()) -> None:
        """Show the core graph's edges (and the signals known from topology only)."""
        self._source = list(edges)
        self._known = frozenset(known_signals)
        self.rebuild(fired)

    def set_counts(self, counts: Mapping[EdgeKey, int] | None) -> None:
        """Calls per edge under the current filter (None: no filter beyond signals)."""
        self._counts = counts
        self.rebuild()

    def set_signal_filter(self, signals: frozenset[str] | None) -> None:
        """Show only these signals (None: all) and the senders/receivers wired to them."""
        self.opts.signals = signals
        self.rebuild()

    def clear_graph(self) -> None:
        self._source, self._known, self._counts = [], frozenset(), None
        self.focus, self._focus_nodes, self._focus_edges = None, set(), set()
        self.opts.pinned.clear()
        self.user_zoomed = False
        self.rebuild()

    def row_budget(self) -> int:
        """Rows per column that fit the view at 100 % zoom."""
        usable = self.viewport().height() - HEADER_H - LEGEND_H - 2 * MARGIN
        return max(6, int((usable + V_GAP) // PITCH))

    def rebuild(self, fired: Iterable[EdgeKey] = ()) -> None:
        self.opts.max_rows = self.row_budget()
        w = build_wiring(self._source, self.opts, self._counts, self._known)
        structure = ([[r.key for r in c] for c in w.columns], [(e.src, e.dst) for e in w.edges])
        if structure != self._structure:
            self._structure = structure
            self._make_items(w)
        else:  # same boxes and lines: new figures only
            rows = {r.key: r for c in w.columns for r in c}
            for item in self.nodes.values():
                item.row = rows[item.row.key]
            by_ends = {(e.src, e.dst): e for e in w.edges}
            for item in self.edges.values():
                item.edge = by_ends[(item.src.row.key, item.dst.row.key)]
        self.wiring = w
        fired = list(fired)
        items = {i.row.key: i for i in self.nodes.values()} if fired else {}
        for kind, src, dst in fired:  # one lookup table, not one per fired edge
            item = self._edge_between(w, items, kind, src, dst)
            if item is not None:
                item.heat = 1.0
        if fired and not self._flash_timer.isActive():
            self._flash_timer.start()
        self.max_edge_count = max((e.count for e in self.edges.values()), default=1)
        self._fade()
        self._refresh_all()

    def _refit(self) -> None:
        self._structure = None  # the budget changed: lay everything out again
        self.rebuild()

    # ------------------------------------------------------------------ interaction
    def row_clicked(self, row: Row) -> None:
        if row.role == NODE:
            self.nodeClicked.emit(row.kind, row.label)
            return
        if row.role == GROUP:
            if row.expanded:
                self.opts.expanded.discard(row.key)
                self.opts.collapsed.add(row.key)  # also when it was opened for the room
                self.opts.opened.discard(f"{row.kind}+{row.group}")
                self.opts.pinned = {p for p in self.opts.pinned if p[1] not in row.members}
            else:
                self.opts.expanded.add(row.key)
                self.opts.collapsed.discard(row.key)
        else:  # "+N more" of a group, or the column's fold
            self.opts.opened.add(row.key)
        self.rebuild()

    def collapse_all(self) -> None:
        self.opts.expanded.clear()
        self.opts.opened.clear()
        self.opts.collapsed = {i.row.key for i in self.nodes.values() if i.row.role == GROUP}
        self.opts.pinned = {self.focus} if self.focus else set()
        self.rebuild()

    def set_control_marks(self, marks: Mapping[tuple[str, str], NodeMark]) -> None:
        """Mark the senders and signals that live control's rules mute or sample."""
        self.control_marks = marks
        for node in self.nodes.values():
            node.update()

    def edge_figures(self, edge: RowEdge) -> str:
        """Tooltip figures of an edge; the window may replace this with the Top table's."""
        filtered = f" ({edge.count:,} under the filter)" if edge.count != edge.total else ""
        return (f"{edge.total:,} calls{filtered}, {edge.errors:,} errors<br>"
                f"mean {format_ns(edge.total_ns / max(edge.total, 1))}, "
                f"max {format_ns(edge.max_ns)}")

    def _refresh_all(self) -> None:
        for edge in self.edges.values():
            edge.refresh()  # its tooltip is made on hover (EdgeItem.hoverEnterEvent)
        for node in self.nodes.values():
            node.update()  # its tooltip is made on hover too (NodeItem.toolTip)

    def _decay(self) -> None:
        hot = False
        for edge in self.edges.values():
            if edge.heat > 0:
                edge.heat = edge.heat * FLASH_DECAY if edge.heat > 0.03 else 0.0
                hot = hot or edge.heat > 0
                edge.refresh()
        if not hot:
            self._flash_timer.stop()

    def hot_edges(self) -> list[tuple[str, str, str]]:
        return [k for k, e in self.edges.items() if e.heat > 0]

    # ------------------------------------------------------------------ look & navigation
    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setBackgroundBrush(QBrush(theme.background))
        for header in self._headers:
            self.scene().removeItem(header)
        self._headers = []
        font = QFont(self.font_normal)
        font.setBold(True)
        font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 108)
        for title in COLUMN_TITLES:
            header = self.scene().addSimpleText(title, font)
            header.setBrush(theme.muted)
            self._headers.append(header)
        self._structure = None
        self.rebuild()

    def fit_all(self) -> None:
        """Show the whole graph: at 100 % when it fits (the layout is made to), else smaller."""
        rect = self.scene().sceneRect()
        if rect.isEmpty():
            return
        view = self.viewport().rect()
        scale = min(1.0, view.width() / rect.width(), view.height() / rect.height())
        self.resetTransform()
        self.scale(scale, scale)
        self.centerOn(rect.center())

    def zoom(self, factor: float) -> None:
        self.user_zoomed = True
        self.scale(factor, factor)

    def wheelEvent(self, event: Any) -> None:
        self.zoom(1.0015 ** event.angleDelta().y())

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if not self.user_zoomed:
            self._resize_timer.start()  # a drag of the splitter re-lays out once, at its end
            self.fit_all()
