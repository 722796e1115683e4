"""The live graph: senders -> signals -> receivers in three layered columns."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from monitor_gui.qt.theme import (
    Theme,
    blend,
    current_theme,
    format_ns,
    short_receiver,
    short_signal,
)

COLUMNS = {"sender": 0, "signal": 1, "receiver": 2}
COLUMN_TITLES = ("SENDERS", "SIGNALS", "RECEIVERS")
NODE_H = 22.0
V_GAP = 6.0
READABLE_SCALE = 0.75  # fitting never shrinks text below this; scroll instead
COL_GAP = 200.0
MAX_LABEL_W = 250.0
FLASH_DECAY = 0.7  # per 60 ms tick: an edge glows for roughly half a second


def _label(kind: str, name: str) -> str:
    if kind == "signal":
        return short_signal(name)
    if kind == "receiver":
        return short_receiver(name)
    return name


class NodeItem(QGraphicsItem):
    """One sender, signal or receiver: a rounded box with its name and a count badge."""

    def __init__(self, view: GraphView, kind: str, name: str) -> None:
        super().__init__()
        self.view = view
        self.kind = kind
        self.name = name
        self.count = 0
        self.errors = 0
        self.known_only = False
        self.selected_node = False
        self.width = 120.0
        self.edges: list[EdgeItem] = []
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setZValue(2)

    def boundingRect(self) -> QRectF:
        return QRectF(-1, -1, self.width + 2, NODE_H + 2)

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: Any = None) -> None:
        theme = self.view.theme
        fill = {"sender": theme.sender, "signal": theme.signal, "receiver": theme.receiver}
        border = theme.error if self.errors else blend(theme.edge, theme.surface, 0.3)
        pen = QPen(theme.accent if self.selected_node else border, 2 if self.selected_node else 1)
        if self.known_only:
            pen.setStyle(Qt.PenStyle.DashLine)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(pen)
        p.setBrush(fill[self.kind])
        p.drawRoundedRect(QRectF(0, 0, self.width, NODE_H), 6, 6)
        metrics = self.view.metrics
        badge = f"{self.count:,}" if not self.known_only else "never fired"
        badge_w = metrics.horizontalAdvance(badge) + 12
        p.setFont(self.view.font_normal)
        p.setPen(theme.muted if self.known_only else theme.text)
        text = metrics.elidedText(
            _label(self.kind, self.name), Qt.TextElideMode.ElideMiddle,
            self.width - badge_w - 16,
        )
        p.drawText(QRectF(8, 0, self.width - badge_w - 8, NODE_H),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        p.setPen(theme.error if self.errors else theme.muted)
        p.drawText(QRectF(self.width - badge_w - 4, 0, badge_w, NODE_H),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, badge)

    def update_tooltip(self) -> None:
        lines = [f"<b>{self.kind}</b> {self.name}"]
        if self.known_only:
            lines.append("connected, never fired")
        else:
            noun = "dispatches" if self.kind != "receiver" else "calls"
            lines.append(f"{self.count:,} {noun}, {self.errors:,} errors")
        totals = [e for e in self.edges if e.count]
        if totals:
            total_ns = sum(e.total_ns for e in totals)
            calls = sum(e.count for e in totals)
            lines.append(f"mean {format_ns(total_ns / max(calls, 1))}, "
                         f"max {format_ns(max(e.max_ns for e in totals))}")
        lines.append("<i>click to filter</i>")
        self.setToolTip("<br>".join(lines))

    def hoverEnterEvent(self, event: Any) -> None:
        for edge in self.edges:
            edge.hovered = True
            edge.refresh()

    def hoverLeaveEvent(self, event: Any) -> None:
        for edge in self.edges:
            edge.hovered = False
            edge.refresh()

    def mousePressEvent(self, event: Any) -> None:
        # Accepting the press here keeps the view's hand-drag from starting on a node.
        event.accept()

    def mouseReleaseEvent(self, event: Any) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.view.nodeClicked.emit(self.kind, self.name)


class EdgeItem(QGraphicsPathItem):
    """A bezier from one column to the next; width by count, colour by errors/slowness."""

    def __init__(self, view: GraphView, kind: str, src: NodeItem, dst: NodeItem) -> None:
        super().__init__()
        self.view = view
        self.kind = kind
        self.src = src
        self.dst = dst
        self.count = 0
        self.errors = 0
        self.total_ns = 0
        self.max_ns = 0
        self.heat = 0.0
        self.hovered = False
        self.setZValue(1)
        self.setAcceptHoverEvents(True)
        src.edges.append(self)
        dst.edges.append(self)

    def reroute(self) -> None:
        a = self.src.pos() + QPointF(self.src.width, NODE_H / 2)
        b = self.dst.pos() + QPointF(0, NODE_H / 2)
        dx = (b.x() - a.x()) * 0.5
        path = QPainterPath(a)
        path.cubicTo(a + QPointF(dx, 0), b - QPointF(dx, 0), b)
        self.setPath(path)

    def shape(self) -> QPainterPath:
        # A wider hit area than the drawn stroke so thin edges are still hoverable.
        stroker = QPainterPathStroker()
        stroker.setWidth(8)
        return stroker.createStroke(self.path())

    def refresh(self) -> None:
        theme = self.view.theme
        colour = theme.edge
        if self.errors:
            colour = blend(theme.edge, theme.error, 0.55 + 0.45 * min(1, self.errors / self.count))
        elif self.count and self.total_ns / self.count > self.view.slow_ns:
            colour = theme.slow
        if self.hovered:
            colour = theme.accent
        colour = blend(colour, theme.flash, 0.8 * self.heat)
        alpha = 90 if not self.count else 190
        colour.setAlpha(max(alpha, int(235 * self.heat)))
        scale = math.log1p(self.count) / math.log1p(max(self.view.max_edge_count, 1))
        pen = QPen(colour, 1.0 + 5.0 * scale + 1.5 * self.heat)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        if not self.count:
            pen.setStyle(Qt.PenStyle.DashLine)
        self.setPen(pen)

    def update_tooltip(self) -> None:
        if not self.count:
            self.setToolTip(f"{self.src.name} → {self.dst.name}<br>connected, never fired")
            return
        self.setToolTip(
            f"<b>{_label(self.src.kind, self.src.name)} → {_label(self.dst.kind, self.dst.name)}"
            f"</b><br>{self.count:,} calls, {self.errors:,} errors<br>"
            f"mean {format_ns(self.total_ns / self.count)}, max {format_ns(self.max_ns)}"
        )


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


def colour_of(edge: EdgeItem) -> QColor:
    """The current pen colour of an edge (for tests and the legend)."""
    return edge.pen().color()
