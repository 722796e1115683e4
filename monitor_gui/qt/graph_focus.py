"""The graph view's focus and fading: what stays lit, what a filter or a focus leaves out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor_gui.core.graph import EdgeKey
from monitor_gui.core.wiring import NODE, Wiring, WiringOptions
from monitor_gui.qt.graph_items import FADED, NodeItem


class GraphFocus:
    """Mixed into GraphView (which provides the attributes below, ``rebuild`` and
    ``set_counts``): the focused node's neighbourhood lit, filtered-out parts faded."""

    nodes: dict[tuple[str, str], NodeItem]
    edges: dict[tuple[str, str, str], Any]
    wiring: Wiring | None
    opts: WiringOptions
    focus: tuple[str, str] | None
    _focus_nodes: set[tuple[str, str]]
    _focus_edges: set[EdgeKey]
    _counts: Mapping[EdgeKey, int] | None
    _selected: tuple[str, str] | None

    def set_focus(self, node: tuple[str, str] | None, nodes: set[tuple[str, str]] = frozenset(),
                  edges: set[EdgeKey] = frozenset()) -> None:
        """Fade everything but ``nodes``/``edges`` (None: no focus); the node is made visible."""
        self.focus = node
        self._focus_nodes, self._focus_edges = set(nodes), set(edges)
        self.opts.pinned = {node} if node else set()
        self.rebuild()

    def _fade(self) -> None:
        counted = self._counts
        for item in self.nodes.values():
            row = item.row
            keep = counted is None or row.count > 0
            if self.focus is not None:
                keep = keep and any((row.kind, m) in self._focus_nodes for m in row.members)
            item.setOpacity(1.0 if keep else FADED * 2)
        for item in self.edges.values():
            keep = counted is None or item.edge.count > 0
            if self.focus is not None:
                keep = keep and any(k in self._focus_edges for k in item.edge.edges)
            item.setOpacity(1.0 if keep else FADED)

    def set_dimmed(self, used: set[EdgeKey] | None) -> None:
        """Fade what the filtered dispatches never used (None: nothing faded)."""
        self.set_counts(None if used is None else dict.fromkeys(used, 1))

    def is_dimmed(self, kind: str, name: str) -> bool:
        item = self.item_for(kind, name)
        return item is not None and item.opacity() < 1.0

    def item_for(self, kind: str, name: str) -> NodeItem | None:
        """The box that draws (kind, name): its own, its group's or a "+N more"."""
        if self.wiring is None:
            return None
        key = self.wiring.row_of.get((kind, name))
        return next((i for i in self.nodes.values() if i.row.key == key), None)

    def set_selected_node(self, key: tuple[str, str] | None) -> None:
        self._selected = key
        for k, item in self.nodes.items():
            item.selected_node = k == key and item.row.role == NODE
            item.update()

    def is_node_visible(self, kind: str, name: str) -> bool:
        item = self.nodes.get((kind, name))
        return item is not None and item.isVisible()

    def names(self) -> list[tuple[str, str]]:
        """Every (kind, name) the graph knows, shown or folded (for search)."""
        return sorted(self.wiring.row_of) if self.wiring else []

