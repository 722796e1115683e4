"""Transactions: each dispatch's transaction context, and the fate of every on_commit()
callback a receiver queued (ran, raised, skipped, or discarded by a rollback)."""

from __future__ import annotations

import gc
import inspect
import logging
import weakref

import pytest
from django.db import connection, transaction
from django.dispatch import Signal
from django.test.utils import CaptureQueriesContext

from django_probe import _transactions, runtime, wire
from tests.django_probe.testapp.models import Note

pytestmark = pytest.mark.django_db(transaction=True)  # real commits and rollbacks


def dispatches(events):
    return [e for e in events if e.kind == wire.KIND_DISPATCH]


def callbacks(events):
    return [e for e in events if e.kind == wire.KIND_ON_COMMIT]


def send_email():
    """An on_commit callback with a name of its own."""


def queueing(signal: Signal, *funcs, robust: bool = False):
    """Connect a receiver that queues ``funcs`` with on_commit; returns its line."""
    def on_signal(sender, **kwargs):
        for func in funcs:
            transaction.on_commit(func, robust=robust)  # the registration site

    signal.connect(on_signal, weak=False)
    return inspect.getsourcelines(on_signal)[1] + 2


def test_a_dispatch_records_its_transaction_context(events):
    signal = Signal()
    signal.connect(lambda sender, **kw: None, weak=False)
    Note.objects.count()  # the connection exists outside atomic too
    signal.send(sender=None)
    with transaction.atomic():
        signal.send(sender=None)
        with transaction.atomic():
            signal.send(sender=None)
    with transaction.atomic():
        signal.send(sender=None)
    none, first, nested, second = (e.tx for e in dispatches(events))
    assert none is None
    assert (first.alias, first.depth, nested.alias, nested.depth) == ("default", 1, "default", 2)
    # One serial per transaction: the same for both depths, a new one for the next.
    assert first.serial == nested.serial >= 1 and second.serial > first.serial


def test_a_committed_callback_ran_and_says_where_it_was_queued(events):
    signal = Signal()
    line = queueing(signal, send_email)
    with transaction.atomic():
        signal.send(sender=None)
        Note.objects.create(text="x")
    (dispatch,) = dispatches(events)
    (cb,) = callbacks(events)
    assert (cb.dispatch, cb.alias, cb.depth, cb.outcome) == (dispatch.id, "default", 1,
                                                              wire.RETURNED)
    assert (cb.name, cb.module) == ("send_email", __name__)
    assert cb.site.file == __file__ and cb.site.line == line
    assert cb.site.func == "on_signal"
    assert cb.end >= cb.ts and cb.dur > 0 and not cb.robust


def test_a_rollback_discards_the_callback(events):
    signal = Signal()
    queueing(signal, send_email)
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        signal.send(sender=None)
        1 / 0  # noqa: B018
    (cb,) = callbacks(events)
    assert (cb.outcome, cb.dur) == (wire.DISCARDED, 0)
    assert dispatches(events)[0].tx[:2] == ("default", 1)


def test_a_savepoint_rollback_discards_only_its_own_callbacks(events):
    outer, inner = Signal(), Signal()
    queueing(outer, send_email)
    queueing(inner, send_email)
    with transaction.atomic():
        outer.send(sender=None)
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            inner.send(sender=None)
            1 / 0  # noqa: B018
        assert not callbacks(events) or callbacks(events)[0].depth == 2
    by_depth = {cb.depth: cb.outcome for cb in callbacks(events)}
    assert by_depth == {1: wire.RETURNED, 2: wire.DISCARDED}


def test_in_autocommit_the_callback_runs_at_once(events):
    signal = Signal()
    queueing(signal, send_email)
    signal.send(sender=None)
    (cb,) = callbacks(events)
    assert (cb.depth, cb.outcome) == (0, wire.RETURNED)
    assert cb.dispatch == dispatches(events)[0].id


def test_a_raising_callback_is_reported_and_the_rest_are_skipped(events):
    def broken():
        raise KeyError("k")

    signal = Signal()
    queueing(signal, broken, send_email)
    with pytest.raises(KeyError), transaction.atomic():
        signal.send(sender=None)
    assert [(cb.name, cb.outcome) for cb in callbacks(events)] == [
        ("test_a_raising_callback_is_reported_and_the_rest_are_skipped.<locals>.broken",
         wire.RAISED), ("send_email", wire.SKIPPED)]
    assert (callbacks(events)[0].exc_type, callbacks(events)[0].exc_msg) == (
        "KeyError", "'k'")


def test_a_robust_callback_raises_into_the_log_and_the_next_one_runs(events, caplog):
    def broken():
        raise KeyError("k")

    signal = Signal()
    queueing(signal, broken, send_email, robust=True)
    with caplog.at_level(logging.ERROR, "django.db.backends.base"), transaction.atomic():
        signal.send(sender=None)
    assert [cb.outcome for cb in callbacks(events)] == [wire.RAISED, wire.RETURNED]
    assert all(cb.robust for cb in callbacks(events))
    assert "Error calling" in caplog.text and "broken" in caplog.text


def test_callbacks_queued_outside_any_dispatch_are_not_recorded(events):
    with transaction.atomic():
        transaction.on_commit(send_email)
    assert callbacks(events) == []


def run_scenario() -> tuple[list, int, list]:
    """What the application observes: callbacks in order, their stack depth, the SQL."""
    seen: list = []
    depth: list[int] = []

    def first():
        seen.append("first")
        depth.append(len(inspect.stack(0)))

    signal = Signal()
    queueing(signal, first, send_email)
    with CaptureQueriesContext(connection) as queries:
        with transaction.atomic():
            signal.send(sender=None)
            Note.objects.create(text="a")
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            signal.send(sender=None)
            1 / 0  # noqa: B018
    return seen, depth[0], [q["sql"] for q in queries]


def test_the_application_sees_the_same_callbacks_depth_and_sql(events):
    with_probe = run_scenario()
    assert len(callbacks(events)) == 4
    runtime.stop()
    assert not _transactions.installed()
    assert run_scenario() == with_probe


def test_captured_callbacks_are_the_very_functions_given(events):
    signal = Signal()
    queueing(signal, send_email)
    with transaction.atomic():
        # (TestCase.captureOnCommitCallbacks reads run_on_commit the same way)
        start = len(connection.run_on_commit)
        signal.send(sender=None)
        assert [f for _, f, _ in connection.run_on_commit[start:]] == [send_email]
        transaction.set_rollback(True)


def test_nothing_is_kept_alive_by_a_queued_callback(events):
    class Callback:
        def __call__(self):
            pass

    callback = Callback()
    ref = weakref.ref(callback)
    signal = Signal()
    queueing(signal, callback)
    with transaction.atomic():
        signal.send(sender=None)
    signal.receivers.clear()
    signal.sender_receivers_cache.clear()
    del callback
    gc.collect()
    assert ref() is None
    assert callbacks(events)[0].name == "test_nothing_is_kept_alive_by_a_queued_callback" \
        ".<locals>.Callback.__call__"


def test_a_probe_failure_never_breaks_the_commit(events, monkeypatch):
    def failing_sink(event):
        raise RuntimeError("probe bug")

    probe = runtime.active()
    monkeypatch.setattr(probe.recorder, "sink", failing_sink)
    ran = []
    signal = Signal()
    queueing(signal, lambda: ran.append(1))
    with transaction.atomic():
        signal.send(sender=None)
    assert ran == [1]
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        signal.send(sender=None)
        1 / 0  # noqa: B018
    assert ran == [1]


def test_stopping_the_probe_restores_django(events):
    from django.db.backends.base.base import BaseDatabaseWrapper

    assert _transactions.installed()
    runtime.stop()
    for name, original in _transactions._ORIGINALS.items():
        assert BaseDatabaseWrapper.__dict__[name] is original


def test_the_public_fallback_reads_the_same_context(events):
    Note.objects.count()
    assert _transactions.tx_context() is None is _transactions.tx_context_public()
    with transaction.atomic(), transaction.atomic():
        assert _transactions.tx_context() == _transactions.tx_context_public()
        assert _transactions.tx_context()[1] == 2
