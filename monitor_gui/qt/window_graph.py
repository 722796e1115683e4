"""The window's graph wiring: focus, filtered counts, edge figures (mixed into MainWindow)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from monitor_gui.core.cascade import cascade_links, neighbourhood
from monitor_gui.core.graph import SENDER_TO_SIGNAL, SIGNAL_TO_RECEIVER
from monitor_gui.core.stats import stats_for
from monitor_gui.core.wiring import RowEdge
from monitor_gui.qt.graph_filter import add_counts, edge_counts, needs_dimming
from monitor_gui.qt.stats_view import edge_tooltip


class GraphWiring:
    """Mixed into MainWindow (which provides the widgets and state used here)."""

    state: Any
    controller: Any
    graph: Any
    graph_panel: Any
    filters: Any
    _counts: dict[tuple[str, str, str], int]
    _dim_rows: list[np.ndarray]
    _dimmed_at: float
    _graph_at: float
    _graph_fired: set[tuple[str, str, str]]
    _graph_timer: Any

    def _update_graph(self) -> None:
        self._graph_timer.stop()
        self._graph_at = time.monotonic()
        if not self.state.graph.edges() and self.graph.nodes:
            self.graph.clear_graph()
        fired, self._graph_fired = self._graph_fired, set()
        self.graph.update_graph(self.state.graph.edges(), self.state.graph.known_signals, fired)

    def _dim_graph(self) -> None:
        """Fade graph edges the filtered dispatches do not use (process/outcome/node filters).

        On a new selection (filter change, clear) this scans all of it (a user action,
        ~150 ms at 1M rows); while live, only rows that arrived since (see _collect_dim_rows).
        """
        self._dimmed_at = time.monotonic()
        self._dim_rows = []
        if needs_dimming(self.controller.filter) and self.graph.focus is None:
            self._counts = edge_counts(self.state, self.controller.selection.rows)
            self.graph.set_counts(self._counts)
        else:
            self._counts = {}
            self.graph.set_counts(None)

    def _collect_dim_rows(self, rows: np.ndarray) -> None:
        if needs_dimming(self.controller.filter) and self.graph.focus is None:
            self._dim_rows.append(rows)

    def _update_dimming(self) -> None:
        if not self._dim_rows or time.monotonic() - self._dimmed_at < 1.0:
            return  # at most once a second
        self._dimmed_at = time.monotonic()
        rows, self._dim_rows = np.concatenate(self._dim_rows), []
        add_counts(self._counts, edge_counts(self.state, rows))
        self.graph.set_counts(self._counts)

    def on_node_clicked(self, kind: str, name: str) -> None:
        """Focus the node; clicking the focused node again leaves the focus."""
        if self.graph.focus == (kind, name):
            self.leave_focus()
        else:
            self.focus_node(kind, name)

    def focus_node(self, kind: str, name: str) -> None:
        """Light the node's neighbourhood and cascade in the graph; filter the rest to it."""
        nodes, edges = neighbourhood(self.state.graph.edges(), cascade_links(self.state),
                                     kind, name)
        self.graph.set_focus((kind, name), nodes, edges)
        self.graph.set_selected_node((kind, name))
        n = {k: sum(1 for kk, _ in nodes if kk == k) for k in ("sender", "signal", "receiver")}
        self.graph_panel.set_crumb((kind, name), f"{n['sender']} senders, {n['signal']} "
                                   f"signals, {n['receiver']} receivers")
        self.filters.focus_on((kind, name))

    def _edge_figures(self, edge: RowEdge) -> str | None:
        """The Top table's figures for a graph edge that stands for one (signal, node) pair."""
        if len(edge.edges) != 1:
            return None  # a group's edge: the view's own sums
        rows = self.controller.selection.rows if self.controller.filter is not None else None
        found = stats_for(self.state, *edge.edges[0], rows=rows)
        return edge_tooltip(found) if found is not None else None

    def on_edge_activated(self, kind: str, src: str, dst: str) -> None:
        """A row of the Top table: filter every view to that (signal, sender/receiver)."""
        if kind == SENDER_TO_SIGNAL:
            self.filters.focus_on(("sender", src), signal=dst)
        else:
            self.filters.focus_on(("receiver", dst), signal=src)

    def on_finding_activated(self, signal: str, receiver: str) -> None:
        """A row of the Diagnostics tab: filter every view to that receiver or signal."""
        if receiver:
            self.on_edge_activated(SIGNAL_TO_RECEIVER, signal, receiver)
        else:
            self.filters.focus_on(("signal", signal))

    def leave_focus(self) -> None:
        if self.graph.focus is None:
            return
        self.graph.set_focus(None)
        self.graph.set_selected_node(None)
        self.graph_panel.set_crumb(None)
        self.filters.focus_on(None)
