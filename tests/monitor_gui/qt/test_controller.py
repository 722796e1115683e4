"""The controller's time-sliced apply: slices, separate flush ticks, pause, bounded backlog."""

from __future__ import annotations

import monitor_gui.qt.controller as controller_module


def test_tick_applies_in_slices_and_flushes_on_its_own_tick(monkeypatch, monitor, scenario):
    c = monitor.controller
    monkeypatch.setattr(controller_module, "APPLY_BUDGET_S", 0.0)  # one chunk per slice
    monkeypatch.setattr(controller_module, "CHUNK_BYTES", 1)  # one frame per chunk
    frames = scenario.frames(5)
    c.enqueue(frames)
    announced = []
    c.rowsAppended.connect(lambda rows: announced.append(len(rows)))
    c._last_flush = 0.0  # the views were last told long ago: a flush is due
    c.tick()
    assert len(c.pending) == len(frames) - 1  # exactly one frame applied
    assert not announced  # views are told on a later tick, not inside the slice
    assert c.timer.interval() == 0  # and that tick comes at once
    c.tick()
    assert c._last_flush > 0.0 and sum(announced) == len(monitor.state.store)  # told
    assert c.timer.interval() == 0  # a backlog remains: straight back to applying
    # Within the view interval the rest is applied tick by tick without telling the views.
    monkeypatch.setattr(controller_module, "VIEW_INTERVAL_S", 3600.0)
    told, ticks = sum(announced), 0
    while c.pending:
        c.tick()
        ticks += 1
    assert ticks == len(frames) - 1 and sum(announced) == told
    c.tick()  # caught up: the timer waits for the interval to end instead of flushing now
    assert sum(announced) == told and c.timer.interval() > c.interval_ms
    monkeypatch.setattr(controller_module, "VIEW_INTERVAL_S", 0.0)
    c.tick()  # due: the views learn about everything
    assert sum(announced) == len(monitor.state.store) == monitor.window.table_model.rowCount()
    assert c.timer.interval() == c.interval_ms  # caught up: back to the normal period


def test_a_lone_frame_after_a_quiet_spell_is_shown_at_once(monitor, scenario):
    c = monitor.controller
    announced = []
    c.rowsAppended.connect(lambda rows: announced.append(len(rows)))
    c._last_flush -= controller_module.VIEW_INTERVAL_S  # nothing was shown for a while
    c.enqueue(scenario.frames(1))
    c.tick()  # apply
    c.tick()  # and tell the views on the very next tick, no waiting
    assert sum(announced) == len(monitor.state.store) > 0


def test_paused_ticks_apply_nothing(monitor, scenario):
    c = monitor.controller
    c.set_paused(True)
    frames = scenario.frames(3)
    c.enqueue(frames)
    c.tick()
    c.drain()
    assert len(monitor.state.store) == 0 and len(c.pending) == len(frames)
    c.set_paused(False)
    c.drain()
    assert len(monitor.state.store) > 0 and not c.pending


def test_backlog_is_bounded_by_bytes(monkeypatch, monitor, scenario):
    c = monitor.controller
    frames = scenario.frames(12)
    c.enqueue(frames[:2])  # the monitor has seen this process: later gaps are losses
    c.drain()
    frames = frames[2:]
    limit = sum(len(f) for f in frames[:4])
    monkeypatch.setattr(controller_module, "MAX_PENDING_BYTES", limit)
    c.set_paused(True)
    c.enqueue(frames)
    assert c.pending_bytes <= limit and c.discarded == len(frames) - len(c.pending)
    assert list(c.pending) == frames[len(frames) - len(c.pending):]  # the newest are kept
    c.set_paused(False)
    c.drain()
    assert monitor.state.totals.lost > 0  # the discarded frames show up as a sequence gap


def test_filtered_flush_only_looks_at_new_rows(monkeypatch, monitor, scenario):
    """A text filter scans kwargs in Python: a flush must not rescan the whole store."""
    import monitor_gui.core.query as query

    c = monitor.controller
    c.set_filter(query.Filter(text="no such text"))
    c.enqueue(scenario.frames(30))
    c.drain()
    stored = len(monitor.state.store)
    scanned = []
    real = query._text_match
    monkeypatch.setattr(query, "_text_match", lambda *a: scanned.append(1) or real(*a))
    c.enqueue([scenario.frame(scenario.request())])
    c.drain()
    new = len(monitor.state.store) - stored
    assert 0 < len(scanned) <= new
