"""The main window under traffic: views fill, slow thresholds, late depths, lanes, redraws."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.monitor_gui.qt.scenario import AUTH, SIG, feed


def test_synthetic_events_fill_all_three_views(monitor, scenario):
    window = monitor.window
    feed(monitor, scenario.frames(6))
    stored = len(monitor.state.store)
    assert window.table_model.rowCount() == stored
    assert len(window.timeline_data) == stored
    assert window.timeline_data.lane_names  # one lane per signal
    assert {"signal", "sender", "receiver"} == {k for k, _ in window.graph.nodes}
    assert f"{stored:,} dispatches" in window.status.labels["total"].text()


def test_untrusted_names_are_never_rendered_as_html(monitor):
    from django_probe import wire
    from tests.monitor_gui.qt.scenario import PROC, receiver

    evil = "<img src='file:///etc/passwd'><b>x</b>"
    event = wire.Dispatch("D", 1_000, 1, None, evil, evil, "send", 5, "T", 1, None,
                          wire.RequestInfo("r", "GET", evil), {evil: evil},
                          [receiver(evil, "mod", 3)], False, None)
    feed(monitor, [wire.encode_frame(PROC, 0, [event])])
    window = monitor.window
    for edge in window.graph.edges.values():
        edge.update_tooltip()  # what a hover makes
    tips = [item.toolTip() for item in [*window.graph.nodes.values(),
                                        *window.graph.edges.values()]]
    model = window.table_model
    tips += [model.index(0, c).data(3) for c in range(model.columnCount())]  # ToolTipRole
    tips.append(window.signal_model.index(0, 0).data(3))
    window.select_row(monitor.state.store.first)
    tips.append(window.details.toHtml())
    for tip in tips:
        assert "<img" not in tip, tip
    assert any("&lt;img" in tip for tip in tips)
    assert evil in window.details.toPlainText()  # shown literally


def test_slow_threshold_restyles_graph_edges(monitor, scenario):
    window = monitor.window
    feed(monitor, scenario.frames(3))
    edge = window.graph.edges[("signal->receiver", AUTH + "user_logged_in",
                               "accounts.audit.AuditLog.on_login")]
    for e in window.graph.edges.values():
        e.heat = 0.0
    window.filters.slow_ms.setValue(1000)
    normal = edge.pen().color()
    window.filters.slow_ms.setValue(1)  # 1 ms: the ~0.5 ms audit receiver is still fast
    assert edge.pen().color() == normal
    slow_edge = window.graph.edges[("sender->signal", "auth.User", AUTH + "user_logged_in")]
    assert slow_edge.edge.total_ns / slow_edge.edge.total >= 1_000_000  # logins take >= 1 ms
    from monitor_gui.qt.theme import LIGHT

    assert slow_edge.pen().color().rgb() == LIGHT.slow.rgb()


def test_depth_learned_later_reaches_table_and_timeline(monitor):
    """A grandchild shown before its parent arrived is re-indented once the parent comes."""
    from django_probe import wire
    from tests.monitor_gui.qt.scenario import PROC

    def dispatch(did: int, parent: int | None, ts: int) -> wire.Dispatch:
        return wire.Dispatch(wire.KIND_DISPATCH, ts, did, parent, SIG + "post_save", "auth.User",
                             "send", 1_000, "MainThread", 1, None, None, {}, [], False, None)

    # The probe emits a dispatch when it ends: grandchild, then child, then root.
    feed(monitor, [wire.encode_frame(PROC, 0, [dispatch(3, 2, 1_000_300)])])
    window, grandchild = monitor.window, monitor.state.store.first
    window.table_model.data(window.table_model.index(0, 1))  # painted (and cached) at depth 1
    feed(monitor, [wire.encode_frame(PROC, 1, [dispatch(2, 1, 1_000_200)])])
    feed(monitor, [wire.encode_frame(PROC, 2, [dispatch(1, None, 1_000_100)])])
    assert monitor.state.store.row(grandchild).depth == 2
    model = window.table_model  # now listed parent first: root, child, grandchild
    assert [model.absolute_row(r) for r in range(3)] == [grandchild + 2, grandchild + 1,
                                                         grandchild]
    assert model.line(2).depth == 2
    assert model.data(model.index(2, 1)) == "   └ post_save"
    data = window.timeline_data
    assert int(data.depth[data.lo]) == 2
    assert data.lane_depth[data.lane[data.lo]] == 2
    assert data.drow[data.lo] == data.display_row(data.lo)


def test_thread_lanes_name_live_threads_after_evictions(make_monitor):
    from tests.monitor_gui.core.events import dispatch, frame

    monitor = make_monitor(capacity=40)
    names = [f"Thread-{i // 2} (process_request_thread)" for i in range(400)]
    feed(monitor, [frame([dispatch(i, thread=names[i]) for i in range(s, s + 20)], seq=s)
                   for s in range(0, 400, 20)])
    store = monitor.state.store
    assert len(store.threads) <= 40 and len(monitor.state.strings) < 40
    monitor.window.lanes.setCurrentText("Lanes: thread")
    live = list(dict.fromkeys(names[store.first:store.end]))
    assert monitor.window.timeline_data.lane_names == live


def test_one_slow_threshold_marks_the_demos_slow_receiver_everywhere(monitor):
    """The demo's indexer takes 30-80 ms: slow by default in the graph, list and details."""
    from django_probe import wire
    from monitor_gui.core.query import DEFAULT_SLOW_MS
    from monitor_gui.qt.theme import LIGHT
    from tests.monitor_gui.qt.scenario import PROC, receiver

    indexer = receiver("reindex_article", "articles.receivers", 30_000_000)
    event = wire.Dispatch("D", 1_000, 1, None, SIG + "post_save", "articles.Article", "send",
                          31_000_000, "MainThread", 1, None, None, {}, [indexer], False, None)
    feed(monitor, [wire.encode_frame(PROC, 0, [event])])
    window = monitor.window
    assert window.filters.slow_ms.value() == DEFAULT_SLOW_MS <= 30
    edge = window.graph.edges[("signal->receiver", SIG + "post_save",
                               "articles.receivers.reindex_article")]
    edge.heat = 0.0
    edge.refresh()
    assert edge.pen().color().rgb() == LIGHT.slow.rgb()
    assert any(f"≥ {DEFAULT_SLOW_MS:g} ms" in text for _, text in window.graph.legend())
    model = window.table_model
    assert model.index(0, 4).data(Qt.ItemDataRole.ForegroundRole) == window.theme.slow
    window.select_row(monitor.state.store.first)
    assert "class='slow'" in window.details.render_html(monitor.state.store.row(0))
    window.filters.slow_ms.setValue(100)  # one setting moves every view
    edge.refresh()
    assert edge.pen().color().rgb() != LIGHT.slow.rgb()
    assert any("≥ 100 ms" in text for _, text in window.graph.legend())
    assert model.index(0, 4).data(Qt.ItemDataRole.ForegroundRole) is None
    assert "class='slow'" not in window.details.render_html(monitor.state.store.row(0))


def test_a_busy_stream_redraws_the_graph_at_most_every_quarter_second(qtbot, monitor,
                                                                     scenario):
    from monitor_gui.qt import window as window_module

    window, graph = monitor.window, monitor.window.graph
    feed(monitor, scenario.frames(2))
    before = graph.edges[("signal->receiver", SIG + "post_save",
                          "accounts.receivers.create_profile")].count
    monitor.controller.rate = 50_000.0  # as the rate timer reports under a flood
    window._graph_at = window_module.time.monotonic()  # the graph was just redrawn
    feed(monitor, scenario.frames(2))
    edge = graph.edges[("signal->receiver", SIG + "post_save",
                        "accounts.receivers.create_profile")]
    assert edge.count == before and window._graph_timer.isActive()  # not yet...
    qtbot.waitUntil(lambda: graph.edges[("signal->receiver", SIG + "post_save",
                                         "accounts.receivers.create_profile")].count > before,
                    timeout=5000)  # ...but soon, without another tick
    monitor.controller.rate = 0.0  # quiet again: each change at once
    feed(monitor, scenario.frames(1))
    assert not window._graph_timer.isActive()
