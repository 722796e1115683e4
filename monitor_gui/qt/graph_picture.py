"""The graph view's picture: its legend and what export writes (exactly what is drawn)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPen


class GraphPicture:
    """Mixed into GraphView (a QGraphicsView with ``theme``, ``slow_ns``, ``font_normal``
    and ``metrics``)."""

    theme: Any
    slow_ns: int
    font_normal: Any
    metrics: Any

    def legend(self) -> list[tuple[QColor, str]]:
        t = self.theme
        return [(t.edge, "width = calls"), (t.error, "errors"),
                (t.slow, f"slow: mean ≥ {self.slow_ns / 1e6:g} ms"), (t.flash, "just fired"),
                (t.muted, "dashed = connected, never fired / folded")]

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        # Pinned to the viewport's bottom-left corner (view, not scene, coordinates).
        painter.save()
        painter.resetTransform()
        painter.setFont(self.font_normal)
        y, x = self.viewport().height() - 9, 12.0
        strip = QColor(self.theme.background)
        strip.setAlpha(225)  # keeps the legend legible over nodes scrolled beneath it
        painter.fillRect(QRectF(0, y - 16, self.viewport().width(), 25), strip)
        for colour, text in self.legend():
            painter.setPen(QPen(colour, 3))
            painter.drawLine(QPointF(x, y - 4), QPointF(x + 14, y - 4))
            painter.setPen(self.theme.muted)
            painter.drawText(QPointF(x + 19, y), text)
            x += 19 + self.metrics.horizontalAdvance(text) + 16
        painter.restore()

    def render_image(self) -> QImage:
        """The view exactly as drawn on screen (also what `signal-monitor export` writes)."""
        image = QImage(self.viewport().size(), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(self.theme.background)
        painter = QPainter(image)
        self.render(painter, QRectF(image.rect()), self.viewport().rect())
        painter.end()
        return image

    def export(self, path: str) -> bool:
        """Write the view as drawn, as SVG (by suffix) or PNG; True on success."""
        if not path.lower().endswith(".svg"):
            return self.render_image().save(path)
        from PySide6.QtSvg import QSvgGenerator

        size = self.viewport().size()
        gen = QSvgGenerator()
        gen.setFileName(path)
        gen.setSize(size)
        gen.setViewBox(QRectF(0, 0, size.width(), size.height()))
        gen.setTitle("Django signal graph")
        painter = QPainter(gen)
        painter.fillRect(QRectF(0, 0, size.width(), size.height()), self.theme.background)
        self.render(painter, QRectF(0, 0, size.width(), size.height()), self.viewport().rect())
        return painter.end()

