"""The probe keeps nothing alive, connects nothing, keeps weak receivers weak, ignores itself."""

from __future__ import annotations

import gc
import weakref

from django.dispatch import Signal

from django_probe import _dispatch, runtime
from django_probe.conf import ProbeConfig


def test_nothing_is_kept_alive_after_dispatch():
    class Sender:
        pass

    def scenario(raising):
        signal = Signal()

        def receiver(sender, **kwargs):
            if raising:
                raise RuntimeError("x")
            return kwargs["payload"]

        signal.connect(receiver, weak=False)
        sender, payload = Sender(), Sender()
        refs = weakref.ref(sender), weakref.ref(payload)
        try:
            signal.send(sender=sender, payload=payload)
        except RuntimeError:
            pass
        del sender, payload
        alive_without_gc = [r() is not None for r in refs]
        gc.collect()
        return alive_without_gc, [r() is not None for r in refs]

    for raising in (False, True):
        runtime.stop()
        without = scenario(raising)
        runtime.start(ProbeConfig(), sink=lambda e: None)
        try:
            with_probe = scenario(raising)
        finally:
            runtime.stop()
        assert with_probe == without == ([False, False], [False, False])


def test_weak_receivers_stay_weak_and_dispatch_uid_disconnect_unchanged(events):
    signal = Signal()

    class Handler:
        def __init__(self):
            self.calls = 0

        def on(self, sender, **kwargs):
            self.calls += 1

    handler = Handler()
    signal.connect(handler.on)  # weak by default
    signal.connect(handler.on)  # duplicate: ignored by Django
    signal.send(sender=None)
    assert handler.calls == 1
    ref = weakref.ref(handler)
    del handler
    assert ref() is None
    assert signal.send(sender=None) == []
    assert not signal.has_listeners()

    def receiver(sender, **kwargs):
        return 1

    signal.connect(receiver, dispatch_uid="uid")
    signal.connect(receiver, dispatch_uid="uid")
    assert len(signal.receivers) == 1
    assert signal.disconnect(dispatch_uid="uid") is True
    assert signal.disconnect(dispatch_uid="uid") is False


def test_probe_connects_nothing_and_patches_idempotently(events):
    from django.db.models import signals as model_signals

    before = {name: len(getattr(model_signals, name).receivers)
              for name in ("pre_delete", "post_delete", "m2m_changed", "pre_save", "post_save")}
    probe = runtime.start()  # already running: returned as is
    assert probe is runtime.active()
    from django.apps import apps

    apps.get_app_config("django_probe").ready()  # Django may call ready() twice
    after = {name: len(getattr(model_signals, name).receivers) for name in before}
    assert after == before
    assert _dispatch.installed()


def test_reentrancy_guard_ignores_dispatches_caused_by_the_probe():
    inner = Signal()
    inner.connect(lambda sender, **kw: None, weak=False)
    seen: list = []

    def sink(event):
        seen.append(event)
        inner.send(sender=None)  # a sink that (wrongly) dispatches must not recurse

    runtime.stop()
    runtime.start(ProbeConfig(), sink=sink)
    try:
        outer = Signal()
        outer.connect(lambda sender, **kw: None, weak=False)
        outer.send(sender=None)
    finally:
        runtime.stop()
    assert len(seen) == 1
