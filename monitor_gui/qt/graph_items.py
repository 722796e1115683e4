"""The graph's items: row boxes (node, app group, "+N more") and the bezier edges between them."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem

from monitor_gui.core.control import NodeMark, group_mark
from monitor_gui.core.wiring import FOLD, GROUP, MORE, NODE, Row, RowEdge
from monitor_gui.qt.theme import (
    blend,
    elide_dotted,
    format_ns,
    html_text,
    short_receiver,
    short_signal,
)

if TYPE_CHECKING:
    from monitor_gui.qt.graph_view import GraphView

NODE_H = 20.0
INDENT = 14.0  # members of an expanded group sit this far right of its box
FADED = 0.15  # opacity of what a focus or a filter leaves out


def _label(kind: str, name: str) -> str:
    if kind == "signal":
        return short_signal(name)
    if kind == "receiver":
        return short_receiver(name)
    return name.strip("<>") or name


def row_text(row: Row) -> str:
    """What a row's box says (its badge aside)."""
    if row.role == GROUP:
        return f"{'▾' if row.expanded else '▸'} {row.label} · {len(row.members)}"
    if row.role in (MORE, FOLD):
        return row.label
    return _label(row.kind, row.label)


class NodeItem(QGraphicsItem):
    """One row of a column: a rounded box with its name and a count badge."""

    def __init__(self, view: GraphView, row: Row) -> None:
        super().__init__()
        self.view = view
        self.row = row
        self.width = 120.0
        self.edges: list[EdgeItem] = []
        self.selected_node = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setZValue(2)

    # The names tests and the window read (a NODE row draws one sender/signal/receiver).
    @property
    def kind(self) -> str:
        return self.row.kind

    @property
    def name(self) -> str:
        return self.row.label if self.row.role == NODE else self.row.key

    @property
    def count(self) -> int:
        return self.row.count

    @property
    def errors(self) -> int:
        return self.row.errors

    @property
    def known_only(self) -> bool:
        return self.row.known_only

    def boundingRect(self) -> QRectF:
        return QRectF(-1, -1, self.width + 2, NODE_H + 2)

    def badge(self) -> str:
        return "never fired" if self.row.known_only else f"{self.row.count:,}"

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: Any = None) -> None:
        theme, row = self.view.theme, self.row
        fill = {"sender": theme.sender, "signal": theme.signal, "receiver": theme.receiver}
        border = theme.error if row.errors else blend(theme.edge, theme.surface, 0.3)
        pen = QPen(theme.accent if self.selected_node else border, 2 if self.selected_node else 1)
        if row.known_only or row.role in (MORE, FOLD):
            pen.setStyle(Qt.PenStyle.DashLine)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(pen)
        brush = QColor(fill[row.kind])
        if row.role in (MORE, FOLD):
            brush = blend(brush, theme.background, 0.5)
        p.setBrush(brush)
        p.drawRoundedRect(QRectF(0, 0, self.width, NODE_H), 5, 5)
        metrics = self.view.metrics
        badge = self.badge()
        badge_w = metrics.horizontalAdvance(badge) + 10
        font = self.view.font_bold if row.role == GROUP else self.view.font_normal
        if row.role in (MORE, FOLD):
            font = QFont(font)
            font.setItalic(True)
        mark = self.control_mark()
        mark_w = self._paint_mark(p, mark.badge, self.width - badge_w - 4) if mark else 0.0
        p.setFont(font)
        p.setPen(theme.muted if row.known_only or row.role in (MORE, FOLD) else theme.text)
        room = self.width - badge_w - mark_w - 12
        measure = self.view.metrics_for(font).horizontalAdvance
        text = row_text(row)
        chevron = text[:2] if row.role == GROUP else ""  # never elided with the name
        text = chevron + elide_dotted(text[len(chevron):], room - measure(chevron), measure)
        p.drawText(QRectF(6, 0, room, NODE_H),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        p.setFont(self.view.font_normal)
        p.setPen(theme.error if row.errors else theme.muted)
        p.drawText(QRectF(self.width - badge_w - 4, 0, badge_w, NODE_H),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, badge)

    def control_mark(self) -> NodeMark | None:
        """Live control's mark when rules mute or sample this sender or signal, or some of
        the members of this group row."""
        row = self.row
        if row.role == NODE:
            return self.view.control_marks.get((row.kind, row.label))
        return group_mark(self.view.control_marks, row.kind, row.members)

    def _paint_mark(self, p: QPainter, text: str, right: float) -> float:
        """A pill saying "muted" / "1 in N" that ends at ``right``; returns its width."""
        theme, font = self.view.theme, self.view.font_small
        width = self.view.metrics_for(font).horizontalAdvance(text) + 10
        box = QRectF(right - width, 3, width, NODE_H - 6)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(theme.muted)
        p.drawRoundedRect(box, 6, 6)
        p.setFont(font)
        p.setPen(theme.surface)
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        return width + 4

    def update_tooltip(self) -> None:
        row = self.row
        title = {GROUP: f"app {row.label}", MORE: f"{row.group}: {row.label}",
                 FOLD: row.label}.get(row.role, row.label)
        lines = [f"<b>{row.kind}</b> {html_text(title)}"]
        if row.known_only:
            lines.append("connected, never fired")
        else:
            noun = "calls" if row.kind == "receiver" else "dispatches"
            shown = f"{row.count:,} {noun}"
            if row.count != row.total:
                shown += f" under the filter, of {row.total:,} in all"
            lines.append(f"{shown}, {row.errors:,} errors")
        mark = self.control_mark()
        if mark is not None:
            lines.append("<i>at the probes: " + html_text("; ".join(mark.rules)) + "</i>")
        fired = [e for e in self.edges if e.edge.total]
        if fired:
            calls = sum(e.edge.total for e in fired)
            lines.append(f"mean {format_ns(sum(e.edge.total_ns for e in fired) / calls)}, "
                         f"max {format_ns(max(e.edge.max_ns for e in fired))}")
        if row.role != NODE:
            names = ", ".join(html_text(_label(row.kind, n)) for n in row.members[:12])
            more = f" and {len(row.members) - 12} more" if len(row.members) > 12 else ""
            lines.append(f"<span>{names}{more}</span>")
        hint = {GROUP: "collapse" if row.expanded else "show its members",
                MORE: "show them all", FOLD: "show them all"}.get(row.role, "focus and filter")
        lines.append(f"<i>click to {hint}</i>")
        self.setToolTip("<br>".join(lines))

    def toolTip(self) -> str:
        """Made when asked for (hover, or a caller), not on every graph update."""
        self.update_tooltip()
        return super().toolTip()

    def hoverEnterEvent(self, event: Any) -> None:
        self.update_tooltip()  # before Qt shows it: the scene reads the C++ tooltip
        for edge in self.edges:
            edge.hovered = True
            edge.refresh()

    def hoverLeaveEvent(self, event: Any) -> None:
        for edge in self.edges:
            edge.hovered = False
            edge.refresh()

    def mousePressEvent(self, event: Any) -> None:
        event.accept()  # keeps the view's hand-drag from starting on a node

    def mouseReleaseEvent(self, event: Any) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.view.row_clicked(self.row)

    def contextMenuEvent(self, event: Any) -> None:
        # A sender or signal drawn on its own: live control's menu (window_graph.py).
        if self.row.role == NODE:
            self.view.nodeMenuRequested.emit(self.row.kind, self.row.label, event.screenPos())
            event.accept()


class EdgeItem(QGraphicsPathItem):
    """A bezier from one column to the next; width by count, colour by errors/slowness."""

    def __init__(self, view: GraphView, edge: RowEdge, src: NodeItem, dst: NodeItem) -> None:
        super().__init__()
        self.view = view
        self.edge = edge
        self.kind = edge.kind
        self.src = src
        self.dst = dst
        self.heat = 0.0
        self.hovered = False
        self._shape: QPainterPath | None = None
        self.setZValue(1)
        self.setAcceptHoverEvents(True)
        src.edges.append(self)
        dst.edges.append(self)

    @property
    def count(self) -> int:
        return self.edge.count

    @property
    def errors(self) -> int:
        return self.edge.errors

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.src.name, self.dst.name)

    def reroute(self) -> None:
        a = self.src.pos() + QPointF(self.src.width, NODE_H / 2)
        b = self.dst.pos() + QPointF(0, NODE_H / 2)
        dx = (b.x() - a.x()) * 0.5
        path = QPainterPath(a)
        path.cubicTo(a + QPointF(dx, 0), b - QPointF(dx, 0), b)
        self._shape = None
        self.setPath(path)

    def shape(self) -> QPainterPath:
        # Qt asks for it on every pen or path change (a path item's bounding rect is its
        # shape's), thousands of times per graph update: stroke each path once.
        if self._shape is None:
            stroker = QPainterPathStroker()  # wider than the stroke: thin edges stay hoverable
            stroker.setWidth(8)
            self._shape = stroker.createStroke(self.path())
        return self._shape

    def refresh(self) -> None:
        theme, e = self.view.theme, self.edge
        colour = theme.edge
        if e.errors:
            share = min(1, e.errors / max(e.total, 1))
            colour = blend(theme.edge, theme.error, 0.55 + 0.45 * share)
        elif e.total and e.total_ns / e.total >= self.view.slow_ns:
            colour = theme.slow
        if self.hovered:
            colour = theme.accent
        colour = blend(colour, theme.flash, 0.8 * self.heat)
        colour.setAlpha(max(90 if not e.count else 190, int(235 * self.heat)))
        scale = math.log1p(e.count) / math.log1p(max(self.view.max_edge_count, 1))
        pen = QPen(colour, 1.0 + 5.0 * scale + 1.5 * self.heat)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        if not e.total:
            pen.setStyle(Qt.PenStyle.DashLine)
        self.setPen(pen)

    def hoverEnterEvent(self, event: Any) -> None:
        self.update_tooltip()  # figures computed when asked for, not on every refresh
        super().hoverEnterEvent(event)

    def update_tooltip(self) -> None:
        src, dst = row_text(self.src.row), row_text(self.dst.row)
        if not self.edge.total:
            self.setToolTip(f"<qt>{html_text(src)} → {html_text(dst)}<br>"
                            "connected, never fired</qt>")
            return
        figures = self.view.figures(self.edge) if self.view.figures else None
        self.setToolTip(figures or f"<b>{html_text(src)} → {html_text(dst)}</b><br>"
                        + self.view.edge_figures(self.edge))


def colour_of(edge: EdgeItem) -> QColor:
    """The current pen colour of an edge (for tests and the legend)."""
    return edge.pen().color()
