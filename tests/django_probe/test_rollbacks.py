"""Rollbacks: a transaction, or a savepoint in one, rolled back after dispatches ran in it
is reported (``wire.Rollback``) with what the monitor needs to mark those dispatches; a
transaction nobody dispatched in, or one that commits, sends nothing."""

from __future__ import annotations

import contextlib
import os
import threading

import pytest
from django.db import connection, transaction
from django.dispatch import Signal

from django_probe import wire
from tests.django_probe.testapp.models import Note

pytestmark = pytest.mark.django_db(transaction=True)  # real commits and rollbacks


class Boom(Exception):
    pass


def of_kind(events, kind):
    return [e for e in events if e.kind == kind]


@pytest.fixture
def signal():
    signal = Signal()
    signal.connect(lambda sender, **kw: Note.objects.create(text="by a receiver"), weak=False)
    return signal


def test_a_rolled_back_transaction_names_the_dispatches_that_ran_in_it(events, signal):
    with pytest.raises(Boom), transaction.atomic():
        signal.send(sender=None)
        signal.send(sender=None)
        raise Boom
    first, second = of_kind(events, wire.KIND_DISPATCH)
    (rollback,) = of_kind(events, wire.KIND_ROLLBACK)
    assert Note.objects.count() == 0  # what the receivers wrote is gone
    assert first.tx.serial == second.tx.serial == rollback.serial
    assert (rollback.alias, rollback.tid, rollback.whole, rollback.since) == (
        "default", threading.get_ident(), True, 0)
    assert rollback.tid == first.tid
    assert rollback.ts >= second.ts + second.dur


def test_a_committed_transaction_or_one_without_dispatches_sends_nothing(events, signal):
    with transaction.atomic():
        signal.send(sender=None)
    with pytest.raises(Boom), transaction.atomic():
        Note.objects.create(text="no dispatch with receivers here")
        raise Boom
    assert len(of_kind(events, wire.KIND_DISPATCH)) == 1
    assert of_kind(events, wire.KIND_ROLLBACK) == []
    assert Note.objects.count() == 1


def test_a_savepoint_rollback_says_since_when(events, signal):
    with transaction.atomic():
        signal.send(sender=None)  # kept: before the savepoint
        with pytest.raises(Boom), transaction.atomic():  # a savepoint
            signal.send(sender=None)  # undone
            raise Boom
        with transaction.atomic():
            signal.send(sender=None)  # kept: a savepoint released
    kept, undone, released = of_kind(events, wire.KIND_DISPATCH)
    (rollback,) = of_kind(events, wire.KIND_ROLLBACK)  # the outer transaction committed
    assert not rollback.whole and rollback.serial == kept.tx.serial == undone.tx.serial
    assert kept.ts < rollback.since <= undone.ts < rollback.ts < released.ts
    assert Note.objects.count() == 2


def test_a_savepoint_made_before_the_first_dispatch_still_says_since_when(events, signal):
    with transaction.atomic():
        with pytest.raises(Boom), transaction.atomic():
            signal.send(sender=None)
            raise Boom
    (dispatch,) = of_kind(events, wire.KIND_DISPATCH)
    (rollback,) = of_kind(events, wire.KIND_ROLLBACK)
    assert not rollback.whole and 0 < rollback.since <= dispatch.ts


def test_a_dispatch_around_a_rolled_back_savepoint_began_before_it(events):
    inner, outer = Signal(), Signal()
    inner.connect(lambda sender, **kw: Note.objects.create(text="undone"), weak=False)

    def tries(sender, **kwargs):
        with contextlib.suppress(Boom), transaction.atomic():  # the first savepoint
            inner.send(sender=None)
            raise Boom

    outer.connect(tries, weak=False)
    with transaction.atomic():
        outer.send(sender=None)  # its dispatch is the transaction's second: it ends last
    inner_d, outer_d = of_kind(events, wire.KIND_DISPATCH)
    (rollback,) = of_kind(events, wire.KIND_ROLLBACK)
    assert outer_d.ts < rollback.since <= inner_d.ts < rollback.ts < outer_d.ts + outer_d.dur
    # (tests/monitor_gui/core/test_rollbacks.py: a monitor then marks the inner one only)


def test_each_rolled_back_savepoint_and_then_the_transaction_are_reported(events, signal):
    with pytest.raises(Boom), transaction.atomic():
        for _ in range(2):
            with pytest.raises(Boom), transaction.atomic():
                signal.send(sender=None)
                raise Boom
        raise Boom
    rollbacks = of_kind(events, wire.KIND_ROLLBACK)
    assert [r.whole for r in rollbacks] == [False, False, True]
    assert len({r.serial for r in rollbacks}) == 1
    assert rollbacks[0].since < rollbacks[1].since  # each its own savepoint


def test_rollbacks_change_no_sql_and_no_return_value(events, signal):
    from django.test.utils import CaptureQueriesContext

    def run():
        with CaptureQueriesContext(connection) as queries:
            with transaction.atomic():
                sid = transaction.savepoint()
                signal.send(sender=None)
                transaction.savepoint_rollback(sid)
            with pytest.raises(Boom), transaction.atomic():
                signal.send(sender=None)
                raise Boom
        return sid, [q["sql"] for q in queries]

    sid, with_probe = run()
    assert isinstance(sid, str) and sid
    from django_probe import runtime

    runtime.stop()
    _sid, without = run()
    assert [_strip_ids(q) for q in with_probe] == [_strip_ids(q) for q in without]
    assert len(of_kind(events, wire.KIND_ROLLBACK)) == 2


def _strip_ids(sql: str) -> str:
    import re

    return re.sub(r'"s\d+_x\d+"|s\d+_x\d+', "SID", re.sub(r"\d+", "N", sql))


def test_rollbacks_by_djangos_test_framework_say_so(events, signal):
    import unittest

    from django.test import TestCase

    class Inner(TestCase):
        databases = {"default"}

        def test_sends(self):
            signal.send(sender=None)

    with open(os.devnull, "w") as quiet:  # a suite: the class's setUpClass runs too
        result = unittest.TextTestRunner(stream=quiet).run(unittest.TestSuite(
            [Inner("test_sends")]))
    assert result.wasSuccessful()
    rollbacks = of_kind(events, wire.KIND_ROLLBACK)
    # The test's savepoint, then the class's transaction: both Django's TestCase.
    assert [(r.whole, r.by_test) for r in rollbacks] == [(False, True), (True, True)]
    with pytest.raises(Boom), transaction.atomic():  # the application's own rollback
        signal.send(sender=None)
        raise Boom
    assert of_kind(events, wire.KIND_ROLLBACK)[-1].by_test is False
