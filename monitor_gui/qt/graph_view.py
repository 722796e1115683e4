"""The live graph: senders -> signals -> receivers in three layered columns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSimpleTextItem, QGraphicsView, QWidget

from monitor_gui.qt.graph_items import NODE_H, EdgeItem, NodeItem, _label, colour_of
from monitor_gui.qt.theme import Theme, current_theme

COLUMNS = {"sender": 0, "signal": 1, "receiver": 2}
COLUMN_TITLES = ("SENDERS", "SIGNALS", "RECEIVERS")
V_GAP = 6.0
READABLE_SCALE = 0.75  # fitting never shrinks text below this; scroll instead
COL_GAP = 200.0
MAX_LABEL_W = 250.0
FLASH_DECAY = 0.7  # per 60 ms tick: an edge glows for roughly half a second

__all__ = ["NODE_H", "EdgeItem", "GraphView", "NodeItem", "colour_of"]


class GraphView(QGraphicsView):
    """Renders SignalGraph nodes/edges; emits nodeClicked(kind, name) for filtering."""

    nodeClicked = Signal(str, str)

    def __init__(self, parent: QWidget | None = None, theme: Theme | None = None) -> None:
        super().__init__(parent)
        self.theme = theme or current_theme()
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.font_normal = QFont(self.font())
        self.font_normal.setPointSizeF(max(8.0, self.font().pointSizeF() * 0.95))
        self.metrics = QFontMetricsF(self.font_normal)
        self.nodes: dict[tuple[str, str], NodeItem] = {}
        self.edges: dict[tuple[str, str, str], EdgeItem] = {}
        self.slow_ns = 100_000_000
        self.max_edge_count = 1
        self.user_zoomed = False
        self._visible_signals: frozenset[str] | None = None
        self._used: set[tuple[str, str, str]] | None = None
        self._selected: tuple[str, str] | None = None
        self._headers: list[QGraphicsSimpleTextItem] = []
        self._flash_timer = QTimer(self, interval=60)
        self._flash_timer.timeout.connect(self._decay)
        self.apply_theme(self.theme)

    # ------------------------------------------------------------------ data
    def update_graph(self, nodes: Iterable[Any], edges: Iterable[Any],
                     fired: Iterable[tuple[str, str, str]] = ()) -> None:
        """Apply core Node/Edge objects (duck-typed); new nodes trigger a relayout."""
        relayout = False
        for node in nodes:
            key = (node.kind, node.name)
            item = self.nodes.get(key)
            if item is None:
                if node.kind not in COLUMNS:
                    continue
                item = self.nodes[key] = NodeItem(self, node.kind, node.name)
                self.scene().addItem(item)
                relayout = True
            if item.known_only != bool(node.known_only):
                relayout = True
            item.count, item.errors = node.count, node.errors
            item.known_only = bool(node.known_only)
        for edge in edges:
            key = (edge.kind, edge.src, edge.dst)
            item = self.edges.get(key)
            if item is None:
                src_kind, dst_kind = edge.kind.split("->")
                src = self.nodes.get((src_kind, edge.src))
                dst = self.nodes.get((dst_kind, edge.dst))
                if src is None or dst is None:
                    continue
                item = self.edges[key] = EdgeItem(self, edge.kind, src, dst)
                self.scene().addItem(item)
                relayout = True
            item.count, item.errors = edge.count, edge.errors
            item.total_ns, item.max_ns = edge.total_ns, edge.max_ns
        for key in fired:
            item = self.edges.get(tuple(key))
            if item is not None:
                item.heat = 1.0
        if fired and not self._flash_timer.isActive():
            self._flash_timer.start()
        self.max_edge_count = max((e.count for e in self.edges.values()), default=1)
        if relayout:
            self.relayout()
            if self._used is not None:
                self.set_dimmed(self._used)  # new items start undimmed
        self._refresh_all()

    def clear_graph(self) -> None:
        for item in [*self.edges.values(), *self.nodes.values()]:
            self.scene().removeItem(item)
        self.nodes.clear()
        self.edges.clear()
        self._selected = None
        self.user_zoomed = False
        self.relayout()

    def set_signal_filter(self, signals: frozenset[str] | None) -> None:
        """Show only these signals (None: all) and the senders/receivers wired to them."""
        self._visible_signals = signals
        self.relayout()

    def set_dimmed(self, used: set[tuple[str, str, str]] | None) -> None:
        """Fade edges the filtered dispatches never used, and nodes left with none (None: all
        normal). The signal filter hides instead; this covers process/outcome/node filters."""
        self._used = used
        for key, edge in self.edges.items():
            edge.setOpacity(1.0 if used is None or key in used else 0.12)
        for node in self.nodes.values():
            keep = used is None or any(e.key in used for e in node.edges)
            node.setOpacity(1.0 if keep else 0.3)

    def is_dimmed(self, kind: str, name: str) -> bool:
        item = self.nodes.get((kind, name))
        return item is not None and item.opacity() < 1.0

    def set_selected_node(self, key: tuple[str, str] | None) -> None:
        self._selected = key
        for k, item in self.nodes.items():
            item.selected_node = k == key
            item.update()

    def is_node_visible(self, kind: str, name: str) -> bool:
        item = self.nodes.get((kind, name))
        return item is not None and item.isVisible()

    # ------------------------------------------------------------------ layout
    def _node_visible(self, item: NodeItem) -> bool:
        if self._visible_signals is None:
            return True
        if item.kind == "signal":
            return item.name in self._visible_signals
        return any(
            (e.dst if item.kind == "sender" else e.src).name in self._visible_signals
            for e in item.edges
        )

    def relayout(self) -> None:
        columns: list[list[NodeItem]] = [[], [], []]
        for item in self.nodes.values():
            visible = self._node_visible(item)
            item.setVisible(visible)
            if visible:
                columns[COLUMNS[item.kind]].append(item)
        # Signals sorted by dotted name (groups them by module); the outer columns are
        # ordered by the mean position of their signals to keep edges from crossing.
        # Never-fired nodes (topology only) go to the bottom of each column so the top,
        # what a fitted view shows first, is the live traffic.
        columns[1].sort(key=lambda n: (n.known_only, n.name))
        rank = {id(n): i for i, n in enumerate(columns[1])}

        def barycentre(item: NodeItem) -> tuple[bool, float, str]:
            ends = [rank[id(e.dst if item.kind == "sender" else e.src)] for e in item.edges
                    if id(e.dst if item.kind == "sender" else e.src) in rank]
            return (item.known_only, sum(ends) / len(ends) if ends else 1e9, item.name)

        columns[0].sort(key=barycentre)
        columns[2].sort(key=barycentre)
        x = 0.0
        heights = [len(c) * (NODE_H + V_GAP) for c in columns]
        tallest = max(heights, default=0)
        for col, items in enumerate(columns):
            badge = max((self.metrics.horizontalAdvance(f"{n.count:,}") for n in items), default=0)
            label = max((self.metrics.horizontalAdvance(_label(n.kind, n.name)) for n in items),
                        default=80)
            width = min(MAX_LABEL_W, label) + max(badge, 70) + 28
            y = (tallest - heights[col]) / 2
            for item in items:
                item.prepareGeometryChange()
                item.width = width
                item.setPos(x, y)
                y += NODE_H + V_GAP
            self._headers[col].setPos(x + 2, -34)
            x += width + COL_GAP
        for edge in self.edges.values():
            edge.setVisible(edge.src.isVisible() and edge.dst.isVisible())
            edge.reroute()
        rect = self.scene().itemsBoundingRect().adjusted(-40, -40, 40, 40)
        self.scene().setSceneRect(rect)
        if not self.user_zoomed:
            self.fit_all()

    def _refresh_all(self) -> None:
        for edge in self.edges.values():
            edge.refresh()
            edge.update_tooltip()
        for node in self.nodes.values():
            node.update_tooltip()
            node.update()

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
        font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 110)
        for title in COLUMN_TITLES:
            header = self.scene().addSimpleText(title, font)
            header.setBrush(theme.muted)
            self._headers.append(header)
        self.relayout()
        self._refresh_all()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        # A legend pinned to the viewport's bottom-left corner (view, not scene, coordinates).
        painter.save()
        painter.resetTransform()
        painter.setFont(self.font_normal)
        y = self.viewport().height() - 10
        x = 12.0
        theme = self.theme
        entries = [(theme.edge, "width = calls"), (theme.error, "errors"),
                   (theme.slow, f"slow (mean ≥ {self.slow_ns / 1e6:.0f} ms)"),
                   (theme.flash, "just fired"), (theme.muted, "dashed = connected, never fired")]
        strip = QColor(theme.background)
        strip.setAlpha(225)  # keeps the legend legible over nodes scrolled beneath it
        painter.fillRect(QRectF(0, y - 16, self.viewport().width(), 24), strip)
        for colour, text in entries:
            painter.setPen(QPen(colour, 3))
            painter.drawLine(QPointF(x, y - 4), QPointF(x + 14, y - 4))
            painter.setPen(theme.muted)
            painter.drawText(QPointF(x + 19, y), text)
            x += 19 + self.metrics.horizontalAdvance(text) + 16
        painter.restore()

    def fit_all(self) -> None:
        rect = self.scene().sceneRect()
        if rect.isEmpty():
            return
        view = self.viewport().rect()
        fit = min(view.width() / rect.width(), view.height() / rect.height())
        # Big graphs (50+ nodes): rather than shrinking labels into illegibility, fit the
        # width at a readable scale and let the user scroll; never blow tiny graphs up
        # beyond 1.6x either (huge boxes look broken, not helpful).
        scale = min(1.6, max(fit, min(READABLE_SCALE, view.width() / rect.width())))
        self.resetTransform()
        self.scale(scale, scale)
        if scale <= fit + 1e-9:
            self.centerOn(rect.center())
        else:  # taller than the view: start at the top, where the live nodes are
            self.centerOn(rect.center().x(), rect.top() + view.height() / (2 * scale))

    def zoom(self, factor: float) -> None:
        self.user_zoomed = True
        self.scale(factor, factor)

    def wheelEvent(self, event: Any) -> None:
        self.zoom(1.0015 ** event.angleDelta().y())

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if not self.user_zoomed:
            self.fit_all()

    def render_image(self, scale: float = 2.0) -> QImage:
        rect = self.scene().sceneRect()
        image = QImage(int(rect.width() * scale), int(rect.height() * scale),
                       QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(self.theme.background)
        painter = QPainter(image)
        painter.setRenderHints(QPainter.RenderHint.Antialiasing
                               | QPainter.RenderHint.TextAntialiasing)
        self.scene().render(painter, QRectF(image.rect()), rect)
        painter.end()
        return image

    def export(self, path: str) -> bool:
        """Write the whole graph as SVG (by suffix) or PNG; True on success."""
        if path.lower().endswith(".svg"):
            from PySide6.QtSvg import QSvgGenerator

            rect = self.scene().sceneRect()
            gen = QSvgGenerator()
            gen.setFileName(path)
            gen.setSize(rect.size().toSize())
            gen.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
            gen.setTitle("Django signal graph")
            painter = QPainter(gen)
            painter.fillRect(QRectF(0, 0, rect.width(), rect.height()), self.theme.background)
            self.scene().render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
            return painter.end()
        return self.render_image().save(path)
