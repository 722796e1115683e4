"""Wiring diagnostics: each kind of finding from topology and traffic, and the real recording."""

from __future__ import annotations

import time

from django_probe import wire
from monitor_gui.core.diagnostics import KINDS, counts, diagnose, format_text
from monitor_gui.core.state import MonitorState
from tests.monitor_gui.core.events import Interning, dispatch, receiver

POST_SAVE = "django.db.models.signals.post_save"
CUSTOM = "shop.signals.paid"
NOW = 1_700_000_000_000_000_000


def wired(name: str, *, sender: str | None = None, site_line: int | None = 10,
          **facts) -> wire.ConnectedReceiver:
    site = None if site_line is None else wire.CallSite("shop/apps.py", site_line, "ready")
    facts = {"params": ["sender"], "required": ["sender"], "varkw": True, **facts}
    return wire.ConnectedReceiver(name, "shop.receivers", "shop/receivers.py", 5, False,
                                  sender, True, site=site, connected_at=NOW,
                                  after_startup=False, **facts)


def topology(*signals: wire.SignalWiring) -> wire.Topology:
    return wire.Topology(wire.KIND_TOPOLOGY, NOW, list(signals))


def state_of(*events) -> MonitorState:
    state = MonitorState(capacity=1000)
    state.apply(Interning().frames(list(events)), now=NOW)
    return state


def ran(name: str, **kwargs) -> wire.ReceiverCall:
    return receiver(name, "shop.receivers", **kwargs)


def only(findings, kind):
    return [f for f in findings if f.kind == kind]


def test_a_function_connected_under_two_keys_is_found_at_both_sites():
    state = state_of(topology(wire.SignalWiring(POST_SAVE, [
        wired("create_profile", target=0),
        wired("create_profile", site_line=20, uid="profile", target=0),
        wired("other", target=2)])))
    (twice,) = only(diagnose(state), "twice")
    assert (twice.receiver, twice.file, twice.line, twice.site_known) == (
        "shop.receivers.create_profile", "shop/apps.py", 20, True)
    assert "dispatch_uid 'profile'" in twice.detail and "shop/apps.py:10" in twice.detail


def test_late_and_dead_receivers():
    late = wired("late_one", target=0)._replace(after_startup=True)
    dead = wired("gone", site_line=30)._replace(died_at=NOW + 5)
    state = state_of(topology(wire.SignalWiring(CUSTOM, [late], [dead])))
    findings = diagnose(state)
    assert [f.receiver for f in only(findings, "late")] == ["shop.receivers.late_one"]
    (died,) = only(findings, "died")
    assert died.receiver == "shop.receivers.gone" and died.line == 30


def test_a_receiver_for_a_sender_that_never_sends_and_one_that_never_fires():
    state = state_of(
        topology(wire.SignalWiring(POST_SAVE, [wired("for_orders", sender="shop.Order", target=0),
                                               wired("create_profile", target=1)])),
        dispatch(1, sender="auth.User", receivers=[ran("create_profile")]))
    findings = diagnose(state)
    (silent,) = only(findings, "sender-silent")
    assert silent.sender == "shop.Order" and silent.receiver == "shop.receivers.for_orders"
    assert [f.receiver for f in only(findings, "never-fired")] == ["shop.receivers.for_orders"]


def test_the_probes_own_receiver_is_not_a_finding():
    own = wire.ConnectedReceiver("_on_setting_changed", "django_probe.apps",
                                 "django_probe/apps.py", 58, False, None, True)
    state = state_of(topology(wire.SignalWiring("django.test.signals.setting_changed", [
        own, wired("reset_cache", target=1)])))
    assert [f.receiver for f in only(diagnose(state), "never-fired")] == [
        "shop.receivers.reset_cache"]


def test_a_signal_sent_to_nobody_is_unheard():
    counted = wire.Counts(wire.KIND_COUNTS, NOW, 10, [
        wire.EmptyCount(CUSTOM, "shop.Order", "send", 7)])
    state = state_of(topology(wire.SignalWiring(CUSTOM, [])), counted)
    (unheard,) = only(diagnose(state), "unheard")
    assert unheard.signal == CUSTOM and unheard.count == 7 and "shop.Order" in unheard.detail
    # Once a receiver runs, it is heard.
    state.apply(Interning(seq=10).frames([dispatch(2, signal=CUSTOM, sender="shop.Order",
                                                   receivers=[ran("late")])]), now=NOW)
    assert only(diagnose(state), "unheard") == []


def test_a_signature_that_cannot_take_the_keywords_sent_would_raise_typeerror():
    strict = wired("strict", target=0, params=["sender", "instance"],
                   required=["sender", "instance", "using"], varkw=False)
    fine = wired("fine", target=1, params=["signal", "sender", "instance", "created"],
                 required=["sender"], varkw=False)
    state = state_of(topology(wire.SignalWiring(POST_SAVE, [strict, fine])),
                     dispatch(1, kwargs={"instance": "u1", "created": "True"},
                              receivers=[ran("fine")]))
    (found,) = only(diagnose(state), "signature")
    assert found.receiver == "shop.receivers.strict"
    assert "created" in found.detail and "using" in found.detail and "signal" in found.detail
    # A summary cut short ("…") may lack names: nothing is called missing then.
    state = state_of(topology(wire.SignalWiring(POST_SAVE, [strict])),
                     dispatch(1, kwargs={"instance": "u1", "…": "3 more"},
                              receivers=[ran("fine")]))
    (found,) = only(diagnose(state), "signature")
    assert "using" not in found.detail


def test_only_signals_with_a_receiver_that_could_refuse_a_keyword_are_read():
    from monitor_gui.core.diagnostics_traffic import keyword_sets

    state = state_of(dispatch(1, kwargs={"instance": "u1"}, receivers=[ran("a")]),
                     dispatch(2, signal=CUSTOM, kwargs={"amount": "3"}, receivers=[ran("b")]))
    assert set(keyword_sets(state)) == {(POST_SAVE, "auth.User"), (CUSTOM, "auth.User")}
    assert keyword_sets(state, {CUSTOM}) == {
        (CUSTOM, "auth.User"): {frozenset({"signal", "sender", "amount"})}}
    assert keyword_sets(state, {"never.sent"}) == {}


def test_raising_under_send_and_under_send_robust_are_told_apart():
    boom = ran("create_profile", outcome=wire.RAISED, exc=("shop.Broken", "x"))
    state = state_of(
        topology(wire.SignalWiring(POST_SAVE, [wired("create_profile", target=0)])),
        dispatch(1, receivers=[boom], raised=True),
        dispatch(2, receivers=[boom], method="send_robust"),
        dispatch(3, receivers=[boom], method="send_robust"))
    findings = diagnose(state)
    (send,) = only(findings, "raises-send")
    (robust,) = only(findings, "raises-robust")
    assert (send.count, robust.count) == (1, 2)
    assert "shop.Broken" in send.detail and send.line == 10 and send.site_known
    assert [f.kind for f in findings].index("raises-send") == 0  # errors first



def test_receivers_that_ran_for_rolled_back_work_without_on_commit():
    tx = wire.TxContext("default", 1, 3)
    receivers = [ran("index_order"), ran("email_receipt"),
                 ran("fails", outcome=wire.RAISED)]
    queued = wire.OnCommit(  # email_receipt used on_commit(): the right way
        "O", NOW, 2, "default", 1, "send", "shop.mail", "shop/mail.py", 1,
        wire.CallSite("shop/receivers.py", 30, "email_receipt"), False, wire.DISCARDED,
        NOW, 0, None, None)
    state = state_of(
        topology(wire.SignalWiring(POST_SAVE, [wired("index_order"), wired("email_receipt"),
                                               wired("fails")])),
        dispatch(1, receivers=receivers),  # autocommit: nothing was undone
        dispatch(2, receivers=receivers, tx=tx),
        dispatch(3, receivers=receivers, tx=tx),
        queued, queued._replace(dispatch=3),
        wire.Rollback("B", NOW + 10**9, "default", 3, 4242, True, 0))
    (finding,) = only(diagnose(state), "rolled-back")
    assert (finding.signal, finding.receiver, finding.count) == (
        POST_SAVE, "shop.receivers.index_order", 2)
    assert finding.site_known and finding.line == 10
    assert "queued no on_commit() callback" in finding.detail
    assert only(diagnose(state_of(dispatch(1, receivers=receivers, tx=tx))), "rolled-back") == []
    # Rollbacks by Django's test framework (a TestCase ending a test) are expected.
    by_test = state_of(dispatch(2, receivers=receivers, tx=tx),
                       wire.Rollback("B", NOW + 10**9, "default", 3, 4242, True, 0, True))
    assert only(diagnose(by_test), "rolled-back") == []

def test_without_connect_facts_the_definition_site_is_given_and_said():
    old = wire.ConnectedReceiver("create_profile", "shop.receivers", "shop/receivers.py", 5,
                                 False, "shop.Order", True)
    state = state_of(topology(wire.SignalWiring(POST_SAVE, [old])))
    (silent,) = only(diagnose(state), "sender-silent")
    assert (silent.file, silent.line, silent.site_known) == ("shop/receivers.py", 5, False)
    assert "connect site unknown" in silent.where
    assert only(diagnose(state), "signature") == [] and only(diagnose(state), "twice") == []


def test_the_real_recording_gives_sensible_findings_fast(real_state):
    start = time.perf_counter()
    findings = diagnose(real_state)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0  # ~25 ms here for 42k dispatches
    by_kind = counts(findings)
    assert set(by_kind) == set(KINDS)
    # The settings tests' receiver raises on purpose, under both kinds of send.
    raising = {f.receiver for f in findings if f.kind in ("raises-send", "raises-robust")}
    assert "settings_tests.tests.OverrideSettingsIsolationOnExceptionTests.receiver" in raising
    assert by_kind["raises-send"] >= 1 and by_kind["raises-robust"] >= 1
    # An old recording: no connect facts, so no twins, no signature findings, def sites.
    assert by_kind["twice"] == by_kind["signature"] == 0
    assert all(not f.site_known for f in findings)
    # Senders known only by id cannot be matched with dispatches: never reported.
    assert not any(f.sender.startswith("<object id") for f in findings)
    assert "Raises under send()" in format_text(findings)
