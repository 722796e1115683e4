"""Placing a Wiring's rows in the graph's scene: items made, columns sized and spaced."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRectF

from monitor_gui.core.wiring import GROUP, NODE, Row, Wiring, group_of
from monitor_gui.qt.graph_items import INDENT, NODE_H, EdgeItem, NodeItem, row_text

if TYPE_CHECKING:
    from PySide6.QtGui import QFont, QFontMetricsF

COLUMN_TITLES = ("SENDERS", "SIGNALS", "RECEIVERS")
V_GAP = 3.0
PITCH = NODE_H + V_GAP
HEADER_H = 34.0  # column titles above the first row
LEGEND_H = 26.0  # the legend strip pinned to the bottom of the view
MARGIN = 12.0
MIN_GAP, MAX_GAP = 70.0, 220.0  # room between columns for the edges
MIN_COL_W, MAX_COL_W = 110.0, 330.0


class GraphLayout:
    """The part of ``GraphView`` that turns a Wiring into placed items (``_make_items``)."""

    nodes: dict[tuple[str, str], NodeItem]
    edges: dict[tuple[str, str, str], EdgeItem]
    _selected: tuple[str, str] | None
    _headers: list[Any]
    user_zoomed: bool
    font_bold: QFont
    font_normal: QFont
    metrics: QFontMetricsF
    scene: Any
    viewport: Any
    metrics_for: Any
    fit_all: Any
    layoutChanged: Any

    def _edge_between(self, w: Wiring, items: dict[str, NodeItem], kind: str, src: str,
                      dst: str) -> EdgeItem | None:
        a_kind, b_kind = kind.split("->")
        a, b = w.row_of.get((a_kind, src)), w.row_of.get((b_kind, dst))
        if a is None or b is None or a not in items or b not in items:
            return None
        return self.edges.get((kind, items[a].name, items[b].name))

    def _make_items(self, w: Wiring) -> None:
        for item in [*self.edges.values(), *self.nodes.values()]:
            self.scene().removeItem(item)
        self.nodes, self.edges = {}, {}
        by_key: dict[str, NodeItem] = {}
        for column in w.columns:
            for row in column:
                item = NodeItem(self, row)
                by_key[row.key] = self.nodes[(row.kind, item.name)] = item
                item.selected_node = (row.kind, row.label) == self._selected and row.role == NODE
                self.scene().addItem(item)
        for e in w.edges:
            src, dst = by_key[e.src], by_key[e.dst]
            item = EdgeItem(self, e, src, dst)
            self.edges[(e.kind, src.name, dst.name)] = item
            self.scene().addItem(item)
        self._place(w)

    def _place(self, w: Wiring) -> None:
        widths = []
        for column in w.columns:
            need = [self.metrics_for(self.font_bold if r.role == GROUP else self.font_normal)
                    .horizontalAdvance(row_text(r)) + r.indent * INDENT
                    + self.metrics.horizontalAdvance(NodeItem(self, r).badge()) + 26
                    for r in column]
            widths.append(min(MAX_COL_W, max(need, default=MIN_COL_W)))
        room = self.viewport().width() - 2 * MARGIN
        if sum(widths) + 2 * MIN_GAP > room:  # narrow view: labels give way, from their start
            spare = max(room - 2 * MIN_GAP, 3 * MIN_COL_W)
            widths = [max(MIN_COL_W, wd * spare / sum(widths)) for wd in widths]
        gap = max(MIN_GAP, min(MAX_GAP, (room - sum(widths)) / 2))
        tallest = max(len(c) for c in w.columns) * PITCH
        x = MARGIN
        for col, column in enumerate(w.columns):
            y = HEADER_H + (tallest - len(column) * PITCH) / 2
            for row in column:
                item = self.nodes[(row.kind, row.label if row.role == NODE else row.key)]
                item.prepareGeometryChange()
                item.width = widths[col] - row.indent * INDENT
                item.setPos(x + row.indent * INDENT, y)
                y += PITCH
            self._headers[col].setText(self._title(col, column))
            self._headers[col].setPos(x + 2, 6)
            x += widths[col] + gap
        for edge in self.edges.values():
            edge.reroute()
        width = max(x - gap + MARGIN, 1.0)
        height = HEADER_H + tallest + LEGEND_H + MARGIN
        self.scene().setSceneRect(QRectF(0, 0, width, height))
        if not self.user_zoomed:
            self.fit_all()
        self.layoutChanged.emit()

    def _title(self, col: int, column: list[Row]) -> str:
        names = {m for r in column for m in r.members}
        grouped = any(r.role != NODE for r in column) and col != 1
        groups = len({group_of(column[0].kind, m) for m in names}) if grouped else 0
        extra = f" IN {groups} APPS" if groups else ""
        return f"{COLUMN_TITLES[col]} · {len(names):,}{extra}" if names else COLUMN_TITLES[col]
