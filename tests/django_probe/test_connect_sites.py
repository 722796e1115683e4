"""Where receivers were connected: Signal.connect unchanged, and the facts topology sends."""

from __future__ import annotations

import gc
import weakref

import pytest
from django.dispatch import Signal, receiver
from django.test import override_settings

from django_probe import _dispatch_connect, runtime
from django_probe._dispatch import connected_receivers
from django_probe.receiver_facts import params_of
from tests.django_probe.support import resolved, start_recording


@pytest.fixture
def probe():
    started, _events = start_recording()
    yield started
    runtime.stop()


def wiring(probe, signal_name: str):
    snapshot = resolved(probe.strings, probe.watcher.snapshot())
    (found,) = [s for s in snapshot.signals if s.name == signal_name]
    return found


def handler(sender, **kwargs):
    pass


class Owner:
    def method(self, sender, **kwargs):
        pass


def entries(signal: Signal) -> list[tuple]:
    """What Django keeps per receiver: lookup key, kind of reference, what it refers to."""
    return [(e[0], type(e[1]), e[1]() if isinstance(e[1], weakref.ref) else e[1])
            for e in signal.receivers]


def connect_all(signal: Signal, owner: Owner) -> list:
    results = [signal.connect(handler), signal.connect(handler, dispatch_uid="uid"),
               signal.connect(owner.method, weak=True), signal.connect(handler, sender=Owner),
               signal.connect(lambda **kw: None, weak=False)]
    with pytest.raises(TypeError):
        signal.connect(handler, None, True, "x", "extra")
    results.append(signal.connect(handler, dispatch_uid=["not", "hashable"]))  # Django: fine
    return results


@override_settings(DEBUG=True)
def test_connect_behaves_exactly_as_djangos():
    owner = Owner()
    _dispatch_connect.unwatch()
    plain = Signal()
    results_plain = connect_all(plain, owner)
    with pytest.raises(ValueError, match="keyword arguments"):
        plain.connect(lambda sender: None)
    with pytest.raises(TypeError, match="callable"):
        plain.connect(42)
    _dispatch_connect.watch()
    try:
        watched = Signal()
        results_watched = connect_all(watched, owner)
        with pytest.raises(ValueError, match="keyword arguments"):
            watched.connect(lambda sender: None)
        with pytest.raises(TypeError, match="callable"):
            watched.connect(42)
        assert results_watched == results_plain == [None] * 6
        # Same lookup keys (up to the lambda's id), same weak/strong references.
        shape = [(type(k[0]).__name__, k[1], kind) for (k, kind, _r) in entries(plain)]
        assert [(type(k[0]).__name__, k[1], kind) for (k, kind, _r) in entries(watched)] == shape
        assert [e[0] for e in entries(watched)[:4]] == [e[0] for e in entries(plain)[:4]]
        del owner
        gc.collect()  # a weakly connected method dies as it does without the probe
        def live(signal):
            return sum(r[0] is not None for r in connected_receivers(signal))

        assert live(watched) == live(plain) == 5
        assert Signal.connect.__wrapped__ is _dispatch_connect._ORIGINAL
    finally:
        _dispatch_connect.unwatch()


# Module-level so the snapshot can name it.
diagnosed = Signal()


def test_topology_says_where_and_how_each_receiver_was_connected(probe):
    _dispatch_connect.unwatch()
    diagnosed.connect(Owner().method, weak=False)  # before the probe watched: site unknown
    _dispatch_connect.watch()
    line = test_topology_says_where_and_how_each_receiver_was_connected.__code__.co_firstlineno
    diagnosed.connect(handler)  # connected twice, under two keys
    diagnosed.connect(handler, dispatch_uid="second")

    @receiver(diagnosed, sender=Owner)
    def decorated(sender, instance, *, created=False):
        pass

    try:
        found = wiring(probe, "tests.django_probe.test_connect_sites.diagnosed")
        early, first, second, deco = found.receivers
        assert early.site is None and early.connected_at is None
        assert early.params == ["sender"] and early.varkw is True  # from the live method
        assert first.site.file == __file__ and first.site.line == line + 5
        assert second.site.line == line + 6 and deco.site.line in (line + 8, line + 9)
        assert first.uid is None and second.uid == "second"
        assert (first.target, second.target, deco.target) == (1, 1, 3)
        assert first.after_startup is True and first.connected_at > 0
        # Named as dispatches name it, also where Django < 6.0 keeps only its id.
        assert deco.sender == "tests.django_probe.test_connect_sites.Owner"
        assert deco.params == ["sender", "instance", "created"]
        assert deco.required == ["sender", "instance"] and deco.varkw is False
        assert found.died == []
    finally:
        for r in list(diagnosed.receivers):
            diagnosed.receivers.remove(r)
        diagnosed.sender_receivers_cache.clear()


def test_a_weak_receiver_collected_while_connected_is_reported_dead(probe):
    def short_lived(sender, **kwargs):
        pass

    def disconnected(sender, **kwargs):
        pass

    diagnosed.connect(short_lived)
    diagnosed.connect(disconnected)
    diagnosed.disconnect(disconnected)
    del short_lived, disconnected
    gc.collect()
    try:
        found = wiring(probe, "tests.django_probe.test_connect_sites.diagnosed")
        assert found.receivers == []
        (dead,) = found.died
        assert dead.name.endswith("short_lived") and dead.died_at >= dead.connected_at
        assert dead.site.file == __file__
    finally:
        _dispatch_connect.died.clear()


class HashIsAppCode:
    def __hash__(self):
        raise AssertionError("hashed")

    def __eq__(self, other):
        return self is other


def test_a_dispatch_uid_of_the_apps_own_type_is_never_hashed_by_the_probe(probe):
    uid = HashIsAppCode()
    diagnosed.connect(handler, dispatch_uid=uid, weak=False)
    try:
        (found,) = wiring(probe, "tests.django_probe.test_connect_sites.diagnosed").receivers
        assert found.uid == "<HashIsAppCode>" and found.site.file == __file__
    finally:
        diagnosed.disconnect(dispatch_uid=uid)


class Exploding:
    """Any attribute read through the instance raises: describing must not read one."""

    def __getattr__(self, name):
        raise AssertionError(f"read {name}")

    @property
    def __signature__(self):
        raise AssertionError("inspect.signature was used")

    def __call__(self, sender, *, instance, **kwargs):
        pass


def positional_only(a, /, sender, **kwargs):
    pass


@pytest.mark.parametrize("target,expected", [
    (handler, (["sender"], ["sender"], True)),
    (Owner().method, (["sender"], ["sender"], True)),
    (Exploding(), (["sender", "instance"], ["sender", "instance"], True)),
    (positional_only, (["sender"], ["a", "sender"], True)),
    (lambda sender, extra=1: None, (["sender", "extra"], ["sender"], False)),
    (len, None),
], ids=["function", "method", "callable instance", "positional-only", "lambda", "builtin"])
def test_params_are_read_from_code_objects_only(target, expected):
    assert params_of(target) == expected


late_signal = Signal()


def test_after_start_up_a_line_already_noted_is_not_noted_again(probe):
    # Django's test client connects receivers from the same two lines on every request:
    # the first connect() from a line is noted, later ones from it are Django's alone.
    keys = []
    owner = Owner()
    try:
        for i in range(3):  # one line, three connects
            late_signal.connect(handler, dispatch_uid=f"per-request-{i}")
            keys.append(late_signal.receivers[-1][0])
        late_signal.connect(owner.method, weak=False, dispatch_uid="other-line")
        noted = [_dispatch_connect.record_for(late_signal, key, handler) is not None
                 for key in keys]
        assert noted == [True, False, False]
        assert _dispatch_connect.record_for(late_signal, late_signal.receivers[-1][0],
                                            owner.method) is not None
        # What is not noted still has its facts in the wiring (from the live receiver).
        found = wiring(probe, "tests.django_probe.test_connect_sites.late_signal").receivers
        assert len(found) == 4 and found[2].params == ["sender"] and found[2].varkw is True
        assert found[2].site is None and found[0].site is not None and found[3].site is not None
    finally:
        late_signal.receivers.clear()
        late_signal.sender_receivers_cache.clear()


def test_the_probes_own_receiver_is_not_in_the_wiring(probe):
    from django.test.signals import setting_changed

    from django_probe.apps import _on_setting_changed

    assert any(entry[1] is _on_setting_changed or
               (callable(entry[1]) and entry[1]() is _on_setting_changed)
               for entry in setting_changed.receivers)  # connected: Django calls it
    found = wiring(probe, "django.core.signals.setting_changed").receivers
    assert found and all(r.name != "_on_setting_changed" for r in found)


def test_the_probes_own_receivers_are_told_from_the_apps():
    from django_probe.apps import _on_setting_changed
    from django_probe.receivers_mode import CatchAllReceivers
    from django_probe.topology import _probes_own

    assert _probes_own(_on_setting_changed)
    assert _probes_own(object.__new__(CatchAllReceivers).on_signal)  # the catch-all, bound
    assert not _probes_own(handler) and not _probes_own(Owner().method)
    assert not _probes_own(lambda **kw: None) and not _probes_own(print)
