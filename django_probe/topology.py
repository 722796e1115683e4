"""Snapshots of which receivers are connected to which signals, sent when they change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _dispatch_connect as connects
from . import clock, wire
from ._dispatch import connected_receivers
from .describe import Describer
from .introspect import function_of
from .naming import SignalRegistry
from .receiver_facts import params_of


def _probes_own(receiver: Any) -> bool:
    """Whether ``receiver`` is one of the probe's own (its function lives in django_probe)."""
    func = function_of(receiver)  # exact functions only: reading __module__ runs no app code
    module = func.__module__ if func is not None else None
    return type(module) is str and module.startswith("django_probe.")


class TopologyWatcher:
    """Called periodically from the publisher thread; returns a Topology when wiring changed.

    Reading ``signal.receivers`` from another thread is safe: ``list()`` of it is atomic
    under the GIL and we never mutate it. The scan only picks up newly imported modules.
    """

    def __init__(self, registry: SignalRegistry, describer: Describer,
                 interval: float = 2.0, refresh: float = 15.0,
                 monotonic: Callable[[], float] = clock.monotonic) -> None:
        self.registry = registry
        self._monotonic = monotonic  # the probe's own clock: never one a test mocks
        self.describe = describer
        self.interval = interval  # TOPOLOGY_INTERVAL: how often the wiring is compared
        self.refresh = refresh  # resend unchanged wiring so a late-started monitor gets it
        self._last: Any = None
        self._last_sent = 0.0
        self._last_checked = float("-inf")
        self._fingerprint: Any = None
        # After a change was sent, the next change waits at least this long: doubled on
        # every change that follows within it (up to `refresh`), reset once a poll finds
        # the wiring quiet. Wiring that keeps changing (Django's test client connects two
        # receivers around every request) is sent every few seconds, not at every poll.
        self._gap = interval

    def _sender_labels(self) -> dict[int, str]:
        # Senders are only stored as ids before Django 6.0; models are the usual senders.
        try:
            from django.apps import apps

            labels = {id(config): f"<AppConfig {config.label}>"
                      for config in apps.get_app_configs()}  # pre/post_migrate senders
            labels.update((id(model), model._meta.label)
                          for model in apps.get_models(include_auto_created=True))
            return labels
        except Exception:
            return {}

    def snapshot(self) -> wire.Topology:
        self.registry.scan()
        labels = self._sender_labels()
        signals = []
        # Names as the refs dispatches carry (cached with them); labels of senders known
        # only by id stay strings (a ref may always be the string).
        for _name, signal in self.registry.signals():
            receivers: list[wire.ConnectedReceiver] = []
            targets: dict[Any, int] = {}  # a callable's identity -> its first index
            for receiver, sender_id, sender, weak, is_async, key in connected_receivers(signal):
                if receiver is None:
                    continue  # a dead weak reference Django has not cleaned up yet
                if _probes_own(receiver):
                    continue  # (settings re-read, receivers mode's catch-all): not the app's
                rname, module, file, line = self.describe.receiver(receiver)
                record = connects.record_for(signal, key, receiver)
                if sender is None and sender_id is not None and record is not None \
                        and record.sender is not None:
                    sender = record.sender()  # (Django < 6.0 keeps only the sender's id)
                if sender_id is None:
                    sender_label = None
                elif sender is not None:
                    sender_label = self.describe.sender_ref(sender)
                else:
                    sender_label = labels.get(sender_id, f"<object id {sender_id}>")
                target = targets.setdefault(connects.identity(receiver), len(receivers))
                params = record.params if record is not None else params_of(receiver)
                receivers.append(wire.ConnectedReceiver(
                    rname, module, file, line, is_async, sender_label, weak,
                    target=target, **self._connect_facts(record, params)))
            died = [self._died(record, at, labels)
                    for record, at in list(connects.died.get(id(signal), ()))]
            signals.append(wire.SignalWiring(self.registry.ref(signal), receivers, died))
        return wire.Topology(wire.KIND_TOPOLOGY, clock.wall_ns(), signals)

    def _connect_facts(self, record: connects.ConnectRecord | None,
                       params: connects.Params | None) -> dict[str, Any]:
        """The diagnostic fields (wire.ConnectedReceiver after ``weak``) but ``target``."""
        accepts, required, varkw = params if params is not None else (None, None, None)
        facts: dict[str, Any] = {"params": accepts, "required": required, "varkw": varkw}
        if record is not None:
            intern = self.registry.intern
            site = record.site
            if site is not None:
                site = wire.CallSite(intern(site[0]), site[1], intern(site[2]))
            facts.update(site=site, connected_at=record.connected_at,
                         after_startup=record.after_startup, uid=record.uid)
        return facts

    def _died(self, record: connects.ConnectRecord, at: int,
              labels: dict[int, str]) -> wire.ConnectedReceiver:
        intern = self.registry.intern
        name, module, file, line = record.description
        live = None if record.sender is None else record.sender()
        sender = None if record.sender_id is None else (
            self.describe.sender_ref(live) if live is not None
            else labels.get(record.sender_id, f"<object id {record.sender_id}>"))
        return wire.ConnectedReceiver(intern(name), intern(module), intern(file), line,
                                      record.is_async, sender, record.weak, died_at=at,
                                      **self._connect_facts(record, record.params))

    def fingerprint(self) -> tuple:
        """What the wiring depends on, without describing anything: every known signal's
        receiver keys and dead-receiver flag (~1/30 of a snapshot's cost)."""
        self.registry.scan()  # new modules may bring new signals
        return tuple(sorted(
            (id(signal), tuple(entry[0] for entry in list(signal.receivers)),
             bool(getattr(signal, "_dead_receivers", False)),
             len(connects.died.get(id(signal), ())))
            for signal in list(self.registry.known)))

    def poll(self) -> wire.Topology | None:
        now = self._monotonic()
        if now - self._last_checked < self.interval:
            return None
        self._last_checked = now
        fingerprint = self.fingerprint()
        changed = fingerprint != self._fingerprint
        due = now - self._last_sent >= self.refresh
        if not changed and not due:
            self._gap = self.interval  # quiet: the next change goes out at the next poll
            return None  # nothing can have changed: no snapshot to build and compare
        if not due and now - self._last_sent < self._gap:
            return None  # it keeps changing: wait out the gap (compared again next poll)
        self._fingerprint = fingerprint
        snapshot = self.snapshot()
        if snapshot.signals == self._last and not due:
            return None
        if changed and self._last is not None:
            self._gap = min(self.refresh, max(2 * self._gap, self.interval))
        self._last = snapshot.signals
        self._last_sent = now
        return snapshot
