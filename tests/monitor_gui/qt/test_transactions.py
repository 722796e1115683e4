"""Transactions in the window: list marks, the details' callbacks, the Transaction filter."""

from __future__ import annotations

from PySide6.QtCore import Qt

from django_probe import wire
from tests.monitor_gui.qt.scenario import PROC, SIG, feed, receiver

TX = wire.TxContext("default", 1)


def dispatch(did: int, tx: wire.TxContext | None) -> wire.Dispatch:
    return wire.Dispatch("D", 1_000 + did, did, None, SIG + "post_save", "articles.Article",
                         "send", 2_000, "MainThread", 1, None, None, {},
                         [receiver("queue_email", "articles.receivers", 1_000)], False, tx)


def callback(did: int, outcome: str) -> wire.OnCommit:
    return wire.OnCommit("O", 1_500 + did, did, "default", 1, "send_published_email",
                         "articles.receivers", "/app/articles/receivers.py", 40,
                         wire.CallSite("/app/articles/receivers.py", 52, "queue_email"),
                         False, outcome, 9_000, 3_000 if outcome == wire.RETURNED else 0,
                         None, None)


def outcome_texts(model) -> list[str]:
    return [model.data(model.index(r, 5)) for r in range(model.rowCount())]


def test_marks_details_and_filter(qtbot, qtmodeltester, monitor):
    window, model = monitor.window, monitor.window.table_model
    feed(monitor, [wire.encode_frame(PROC, 0, [dispatch(1, None), dispatch(2, TX),
                                               dispatch(3, TX)])])
    assert sorted(outcome_texts(model)) == ["ok", "ok · in tx", "ok · in tx"]
    qtmodeltester.check(model, force_py=True)  # and it keeps checking every change below
    # The commit and the rollback are learnt later: the rows are marked then.
    feed(monitor, [wire.encode_frame(PROC, 3, [callback(2, wire.RETURNED),
                                               callback(3, wire.DISCARDED)])])
    assert sorted(outcome_texts(model)) == ["ok", "ok · in tx", "ok · rolled back"]
    rolled = outcome_texts(model).index("ok · rolled back")
    assert "discarded an on_commit() callback" in model.data(
        model.index(rolled, 5), Qt.ItemDataRole.ToolTipRole)
    assert "↳ on_commit send_published_email (discarded by rollback)" in model.data(
        model.index(rolled, 3), Qt.ItemDataRole.ToolTipRole)
    with qtbot.waitSignal(window.rowSelected):
        window.table.selectRow(rolled)
    text = window.details.toPlainText()
    for part in ("transaction", "atomic on default, depth 1", "rolled back",
                 "on_commit callbacks (1)", "send_published_email", "discarded by rollback",
                 "queued at /app/articles/receivers.py:52 in queue_email"):
        assert part in text, part
    committed = outcome_texts(model).index("ok · in tx")
    window.table.selectRow(committed)
    assert "ran after the commit" in window.details.toPlainText()

    window.filters.transaction.setCurrentIndex(1)  # inside a transaction
    assert model.rowCount() == 2
    window.filters.transaction.setCurrentIndex(2)  # rolled back
    assert [model.dispatch(r).id for r in range(model.rowCount())] == [3]
    # Live: a dispatch whose rollback comes later joins the filtered list then.
    feed(monitor, [wire.encode_frame(PROC, 5, [dispatch(4, TX)])])
    assert model.rowCount() == 1
    feed(monitor, [wire.encode_frame(PROC, 6, [callback(4, wire.DISCARDED)])])
    assert [model.dispatch(r).id for r in range(model.rowCount())] == [3, 4]
    window.filters.transaction.setCurrentIndex(0)
    assert model.rowCount() == 4


def test_the_details_follow_a_fate_learnt_later(qtbot, monitor):
    window, model = monitor.window, monitor.window.table_model
    feed(monitor, [wire.encode_frame(PROC, 0, [dispatch(1, TX)])])
    with qtbot.waitSignal(window.rowSelected):
        window.table.selectRow(0)
    assert "uncommitted when it ran" in window.details.toPlainText()
    assert "on_commit callbacks" not in window.details.toPlainText()
    feed(monitor, [wire.encode_frame(PROC, 1, [callback(1, wire.DISCARDED)])])
    assert "discarded by rollback" in window.details.toPlainText()
    assert model.data(model.index(0, 5)) == "ok · rolled back"



def test_a_rollback_learnt_later_marks_every_row_it_undid(qtbot, monitor):
    window, model = monitor.window, monitor.window.table_model
    tx = wire.TxContext("default", 1, 7)
    feed(monitor, [wire.encode_frame(PROC, 0, [dispatch(1, tx), dispatch(2, tx._replace(
        depth=2)), dispatch(3, None)])])
    window.filters.transaction.setCurrentIndex(2)  # rolled back
    assert model.rowCount() == 0
    rollback = wire.Rollback("B", 10_000, "default", 7, 1, True, 0)
    feed(monitor, [wire.encode_frame(PROC, 3, [rollback])])
    assert [model.dispatch(r).id for r in range(model.rowCount())] == [1, 2]
    assert outcome_texts(model) == ["ok · rolled back", "ok · rolled back"]
    assert "Its transaction (or a savepoint around it) was rolled back" in model.data(
        model.index(0, 5), Qt.ItemDataRole.ToolTipRole)
    window.filters.transaction.setCurrentIndex(0)
    assert sorted(outcome_texts(model)) == ["ok", "ok · rolled back", "ok · rolled back"]

def test_the_export_details_the_newest_rollback(tmp_path, capsys, monitor):
    from PySide6.QtGui import QImage

    from monitor_gui.cli import main
    from monitor_gui.core.recording import RecordingWriter
    from monitor_gui.qt.snapshot import _select_latest_rolled_back

    events = [dispatch(1, TX), dispatch(2, TX), dispatch(3, None), callback(1, wire.DISCARDED),
              callback(2, wire.RETURNED)]
    feed(monitor, [wire.encode_frame(PROC, 0, events)])
    _select_latest_rolled_back(monitor)
    assert monitor.state.store.row(monitor.window.details.current).id == 1
    recording = tmp_path / "tx.jsonl"
    with RecordingWriter(recording) as writer:
        writer.write(wire.Frame(PROC, 0, events, 0))
    out = tmp_path / "tx.png"
    assert main(["export", "--format", "png", str(recording), "--transactions",
                 "--out", str(out)]) == 0
    assert QImage(str(out)).size().toTuple() == (1600, 1000)
    assert "drew the window of 2 dispatches" in capsys.readouterr().err
    assert main(["export", str(recording), "--transactions"]) == 2
