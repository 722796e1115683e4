"""The graph's items: node boxes and the bezier edges between columns."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem

from monitor_gui.qt.theme import blend, format_ns, html_text, short_receiver, short_signal

if TYPE_CHECKING:
    from monitor_gui.qt.graph_view import GraphView

NODE_H = 22.0


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
        lines = [f"<b>{self.kind}</b> {html_text(self.name)}"]
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
        self.key = (kind, src.name, dst.name)
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
            self.setToolTip(f"<qt>{html_text(self.src.name)} → {html_text(self.dst.name)}<br>"
                            "connected, never fired</qt>")
            return
        self.setToolTip(
            f"<b>{html_text(_label(self.src.kind, self.src.name))} → "
            f"{html_text(_label(self.dst.kind, self.dst.name))}"
            f"</b><br>{self.count:,} calls, {self.errors:,} errors<br>"
            f"mean {format_ns(self.total_ns / self.count)}, max {format_ns(self.max_ns)}"
        )


def colour_of(edge: EdgeItem) -> QColor:
    """The current pen colour of an edge (for tests and the legend)."""
    return edge.pen().color()
