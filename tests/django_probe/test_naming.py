"""How signals are named: module, class and late signals; incremental module scans."""

from __future__ import annotations

from django.dispatch import Signal

module_level_signal = Signal()


class Holder:
    changed = Signal()


def test_signal_names_for_module_class_and_late_signals(probe):
    for signal in (module_level_signal, Holder.changed):
        signal.connect(lambda sender, **kw: None, weak=False)
        signal.send(sender=None)
    late = Signal()  # created after the probe started, only a local name
    late.connect(lambda sender, **kw: None, weak=False)
    late.send(sender=None)
    names = [e.signal for e in probe.events]
    assert names[0] == "tests.django_probe.test_naming.module_level_signal"
    assert names[1] == "tests.django_probe.test_naming.Holder.changed"
    assert names[2].startswith("tests.django_probe.test_naming.<signal line ")


def test_a_scan_reads_only_modules_imported_or_replaced_since_the_last(monkeypatch):
    import sys
    import types

    from django_probe.naming import SignalRegistry

    registry = SignalRegistry()
    registry.scan()
    old = types.ModuleType("probe_scan_old")
    old.ready = Signal()
    monkeypatch.setitem(sys.modules, old.__name__, old)
    registry.scan()
    assert registry.names[id(old.ready)] == "probe_scan_old.ready"
    new = types.ModuleType("probe_scan_new")
    new.done = Signal()
    monkeypatch.setitem(sys.modules, new.__name__, new)
    old.later = Signal()  # added to a module already read: not seen by the next scan
    registry.scan()
    assert registry.names[id(new.done)] == "probe_scan_new.done"
    assert id(old.later) not in registry.names
    replaced = types.ModuleType("probe_scan_old")  # a reloaded module is read again
    replaced.ready, replaced.later = old.ready, old.later
    monkeypatch.setitem(sys.modules, old.__name__, replaced)
    monkeypatch.setitem(sys.modules, "probe_scan_pad", types.ModuleType("probe_scan_pad"))
    registry.scan()
    assert registry.names[id(old.later)] == "probe_scan_old.later"
    assert registry.names[id(old.ready)] == "probe_scan_old.ready"
