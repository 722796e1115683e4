"""Wiring diagnostics: findings about how receivers are connected, from topology and traffic."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from django_probe import wire
from monitor_gui.core.graph import receiver_label

# Kind -> (severity, short title, title), in the order findings are listed.
KINDS: dict[str, tuple[str, str, str]] = {
    "raises-send": ("error", "Raises under send()", "Raises under send(): the caller fails"),
    "signature": ("error", "Signature mismatch",
                  "Cannot accept the keyword arguments it is sent"),
    "twice": ("warning", "Connected twice", "Connected twice under different keys"),
    "died": ("warning", "Died while connected", "Weak receiver died while connected"),
    "raises-robust": ("warning", "Raises under send_robust()",
                      "Raises under send_robust(): swallowed, only logged"),
    "sender-silent": ("info", "Sender never sends", "Connected for a sender that never sends"),
    "never-fired": ("info", "Never fired", "Connected but never fired"),
    "unheard": ("info", "Nobody receives it", "Sent, but nothing receives it"),
    "late": ("info", "Connected late", "Connected after start-up"),
    "rolled-back": ("info", "Ran for rolled-back work",
                    "Ran in dispatches a rollback undid, without on_commit()"),
}


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # a KINDS key
    signal: str
    receiver: str  # "module.qualname", or "" for a finding about the signal alone
    sender: str  # the sender it concerns ("" any)
    file: str  # where the receiver was connected (or, site_known False, defined)
    line: int
    site_known: bool  # file:line is the connect()/@receiver site, not the def line
    detail: str
    count: int = 0  # the calls, dispatches or connections the finding counts

    @property
    def severity(self) -> str:
        return KINDS[self.kind][0]

    @property
    def where(self) -> str:
        if not self.file:
            return ""
        place = f"{self.file}:{self.line}"
        return place if self.site_known else f"{place} (defined; connect site unknown)"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "severity": self.severity, "where": self.where}


@dataclass(slots=True)
class Wired:
    """One connected receiver as the snapshots tell it (the first process that has it)."""

    signal: str
    label: str
    receiver: wire.ConnectedReceiver

    @property
    def place(self) -> tuple[str, int, bool]:
        site = self.receiver.site
        if site is not None:
            return str(site.file), site.line, True
        return str(self.receiver.file), self.receiver.line, False


def _label(r: wire.ConnectedReceiver) -> str:
    return receiver_label(str(r.module), str(r.name))


def _key(r: wire.ConnectedReceiver) -> str:
    return f"dispatch_uid {r.uid!r}" if r.uid is not None else "its own identity"


def wiring_findings(topologies: Iterable[wire.Topology]) -> Iterator[Finding]:
    """Findings the snapshots alone show: twins, late connections, dead weak receivers."""
    for topology in topologies:
        for wiring in topology.signals:
            signal = str(wiring.name)
            receivers = wiring.receivers
            for i, r in enumerate(receivers):
                w = Wired(signal, _label(r), r)
                sender = "" if r.sender is None else str(r.sender)
                if r.target is not None and r.target != i and r.target < len(receivers):
                    twin = Wired(signal, w.label, receivers[r.target])
                    tf, tl, _known = twin.place
                    yield Finding("twice", signal, w.label, sender, *w.place,
                                  f"connected by {_key(r)}, and already by {_key(twin.receiver)}"
                                  f" at {tf}:{tl}: it runs twice per dispatch", 2)
                if r.after_startup:
                    yield Finding("late", signal, w.label, sender, *w.place,
                                  "connected after every AppConfig.ready() had run", 1)
            for r in wiring.died or ():
                w = Wired(signal, _label(r), r)
                yield Finding("died", signal, w.label, "" if r.sender is None else str(r.sender),
                              *w.place, "garbage-collected without disconnect(): it no longer"
                              " runs (connect it with weak=False, or keep a reference)", 1)


PROBE_RECEIVERS = "django_probe."


def diagnose(state: Any) -> list[Finding]:
    """Every finding about ``state`` (a MonitorState), most severe kinds first."""
    topologies = list(state.topology.values())
    wired: dict[tuple[str, str], Wired] = {}  # (signal, label) -> best-known connection
    for topology in topologies:
        for wiring in topology.signals:
            for r in wiring.receivers:
                key = (str(wiring.name), _label(r))
                if key not in wired or (wired[key].receiver.site is None and r.site is not None):
                    wired[key] = Wired(key[0], key[1], r)
    findings = list(wiring_findings(topologies))
    findings += _traffic_findings(state, wired)
    # The probe's own receiver (it re-reads SIGNAL_PROBE on setting_changed) is not the
    # application's wiring: it would always show as "never fired".
    unique = {(f.kind, f.signal, f.receiver, f.sender, f.file, f.line): f for f in findings
              if not f.receiver.startswith(PROBE_RECEIVERS)}
    order = list(KINDS)
    return sorted(unique.values(), key=lambda f: (order.index(f.kind), f.signal, f.receiver,
                                                  f.sender))


def _traffic_findings(state: Any, wired: dict[tuple[str, str], Wired]) -> Iterator[Finding]:
    # (numpy is imported here, not with the module: the command line reads KINDS to build
    # its parser where only the probe's dependencies are installed.)
    from monitor_gui.core.diagnostics_traffic import raised_receivers, undone_receivers

    sent = {(e.src, e.dst) for e in state.graph.sent.values() if e.count}  # (sender, signal)
    sent |= {(sender, signal) for signal, sender, _method in state.empty_counts}
    signals_sent = {signal for _sender, signal in sent}
    for (signal, label), w in wired.items():
        r = w.receiver
        # A sender known to the probe only by id ("<object id N>") cannot be matched.
        if r.sender is not None and (str(r.sender), signal) not in sent \
                and not str(r.sender).startswith("<object id"):
            yield Finding("sender-silent", signal, label, str(r.sender), *w.place,
                          f"{r.sender} has not sent this signal"
                          + ("" if signal in signals_sent else " (nobody has)"), 0)
    for edge in state.graph.never_fired():
        w = wired.get((edge.src, edge.dst))
        file, line, known = w.place if w is not None else ("", 0, False)
        how = "sent, but never to it" if edge.src in signals_sent else "never sent"
        yield Finding("never-fired", edge.src, edge.dst, "", file, line, known,
                      f"connected, never called (the signal was {how})", 0)
    for stats in state.signals.values():
        if stats.empty_count and not stats.count:
            senders = sorted({s for sig, s, _m in state.empty_counts if sig == stats.name})
            shown = ", ".join(senders[:3]) + (f" and {len(senders) - 3} more"
                                              if len(senders) > 3 else "")
            yield Finding("unheard", stats.name, "", "", "", 0, False,
                          f"sent {stats.empty_count} times (by {shown}), no receiver ran",
                          stats.empty_count)
    yield from _signature_findings(state, wired)
    for (signal, label, robust), hit in raised_receivers(state).items():
        w = wired.get((signal, label))
        file, line, known = w.place if w is not None else (hit.file, hit.line, False)
        errors = ", ".join(f"{name}: {n}" for name, n in hit.exceptions.most_common(3))
        what = ("the error was logged and the other receivers still ran" if robust else
                "the exception reached the caller of send(), and later receivers were skipped")
        yield Finding("raises-robust" if robust else "raises-send", signal, label, "",
                      file, line, known, f"raised {hit.count} times ({errors}): {what}",
                      hit.count)
    for (signal, label), undone in undone_receivers(state).items():
        w = wired.get((signal, label))
        file, line, known = w.place if w is not None else (undone.file, undone.line, False)
        times = "once" if undone.count == 1 else f"{undone.count} times"
        yield Finding("rolled-back", signal, label, "", file, line, known,
                      f"ran {times} in a transaction that was then rolled back, and queued "
                      "no on_commit() callback there: whatever it did outside the database "
                      "(an email, a task, a cache) happened anyway (rollbacks by Django's "
                      "test framework are not counted)", undone.count)


ALWAYS_SENT = frozenset({"signal", "sender"})  # what every dispatch passes a receiver


def _signature_findings(state: Any, wired: dict[tuple[str, str], Wired]) -> Iterator[Finding]:
    from monitor_gui.core.diagnostics_traffic import keyword_sets, mismatches

    # Only receivers that could refuse a keyword need the traffic: one without **kwargs,
    # or one requiring more than Django always passes (most take **kwargs: nothing to read).
    checked = {(signal, label): w for (signal, label), w in wired.items()
               if w.receiver.params is not None and w.receiver.required is not None
               and w.receiver.varkw is not None
               and (not w.receiver.varkw or set(w.receiver.required) - ALWAYS_SENT)}
    if not checked:
        return
    keysets = keyword_sets(state, {signal for signal, _label in checked})
    by_signal: dict[str, set[frozenset[str]]] = {}
    for (signal, _sender), sets in keysets.items():
        by_signal.setdefault(signal, set()).update(sets)
    for (signal, label), w in checked.items():
        r = w.receiver
        # Its sender's dispatches if it has sent any, else the signal's (what it would get).
        sets = keysets.get((signal, str(r.sender))) if r.sender is not None else None
        if not sets:
            sets = by_signal.get(signal, set())
        unexpected, missing = mismatches(sets, r.params, r.required, r.varkw)
        if not unexpected and not missing:
            continue
        parts = []
        if unexpected:
            parts.append(f"sent {', '.join(unexpected)}, which it does not accept")
        if missing:
            parts.append(f"requires {', '.join(missing)}, which some dispatches do not send")
        yield Finding("signature", signal, label, "" if r.sender is None else str(r.sender),
                      *w.place, "; ".join(parts) + ": calling it raises TypeError",
                      len(unexpected) + len(missing))


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per kind (every kind present, in order)."""
    out = dict.fromkeys(KINDS, 0)
    for f in findings:
        out[f.kind] += 1
    return out


def format_text(findings: list[Finding]) -> str:
    """The findings grouped by kind, for a terminal."""
    if not findings:
        return "No wiring findings."
    lines = []
    for kind, n in counts(findings).items():
        if not n:
            continue
        severity, _short, title = KINDS[kind]
        lines.append(f"{title} [{kind}, {severity}]: {n}")
        for f in findings:
            if f.kind == kind:
                who = f.receiver or "(no receiver)"
                sender = f" for {f.sender}" if f.sender else ""
                lines.append(f"  {f.signal} -> {who}{sender}")
                lines.append(f"    {f.detail}")
                if f.where:
                    lines.append(f"    at {f.where}")
    return "\n".join(lines)
