"""MODE="receivers": public API only, a catch-all receiver connected to every known signal.

Trade-offs (documented in README): no per-receiver timing or outcomes, no nesting, a
dispatch is missed when an earlier receiver raises under send(), signals created after
start-up are not covered, and it adds a receiver to each signal (``has_listeners()``
becomes true). Connecting to pre_delete/post_delete/m2m_changed switches off Django's
fast-delete path and changes delete SQL, so those are skipped unless
INCLUDE_DELETE_SIGNALS is true.
"""

from __future__ import annotations

import sys
from typing import Any

from django.db.models import signals as model_signals
from django.dispatch import Signal, dispatcher

from .capture import Recorder
from .naming import SignalRegistry

DISPATCH_UID = "django_probe.catch_all"
FAST_DELETE_SIGNALS = (model_signals.pre_delete, model_signals.post_delete,
                       model_signals.m2m_changed)


class CatchAllReceivers:
    def __init__(self, recorder: Recorder, registry: SignalRegistry,
                 include_delete_signals: bool = False) -> None:
        self.recorder = recorder
        self.registry = registry
        self.include_delete_signals = include_delete_signals
        self.connected: list[Signal] = []

    def connect_all(self) -> None:
        self.registry.scan()
        for _name, signal in self.registry.signals():
            if not self.include_delete_signals and signal in FAST_DELETE_SIGNALS:
                continue
            signal.connect(self.on_signal, weak=False, dispatch_uid=DISPATCH_UID)
            self.connected.append(signal)

    def disconnect_all(self) -> None:
        for signal in self.connected:
            signal.disconnect(dispatch_uid=DISPATCH_UID)
        self.connected.clear()

    def on_signal(self, signal: Signal, sender: Any, **named: Any) -> None:
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename == dispatcher.__file__:
            frame = frame.f_back
        rec = self.recorder
        intern = rec.intern
        site = ((intern(frame.f_code.co_filename), frame.f_lineno, intern(frame.f_code.co_name))
                if frame is not None else None)  # wire.CallSite, as an exact tuple of refs
        rec.begin_request(signal, named)
        # A receiver sees no dispatch of its own: nothing nests in it.
        rec.finish(signal, sender, "receiver", named, rec.detached_nest(site), [], [], False)
