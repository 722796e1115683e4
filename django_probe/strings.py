"""Interned names on the wire (protocol 2): the probe's Interner, the monitor's Vocabulary.

A process instance gives each name it sends (signal, sender, receiver, call site, thread,
request method and path) a small id the first time, in a ``wire.Strings`` event queued
before the first event that uses it; later events carry the id alone. The publisher
sends every definition again every few seconds and after a reconnect, so a monitor that
starts or restarts late learns all of them; until it has, it holds that process's frames
back (``Vocabulary.resolved`` raises ``Unresolved``). docs/protocol.md, "Interned names".

Imports neither Django, zmq nor Qt (like wire).
"""

from __future__ import annotations

import threading
from typing import Any

from django_probe import wire

# Names a probe interns before the rest travel as themselves. Far below wire.MAX_STRINGS:
# every definition is sent again every few seconds, and open-ended names (instance senders,
# request paths with ids in them) should not make that costly.
DEFAULT_LIMIT = 16_384
DEFINITION_CHARS = 1 << 20  # characters per Strings event (a frame holds 16 MiB)


class Interner:
    """Ids for the names one process sends. ``ref`` is safe from any thread (GIL).

    ``values`` only grows and an id is handed out only after its value is appended, so a
    reader that saw an id in an event finds its value in ``values[:len(values)]`` taken
    any time later. Past ``limit`` names (unbounded vocabularies: request paths with ids in
    them), a name travels as itself.
    """

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.ids: dict[str, int] = {}
        self.values: list[str] = []
        self.limit = min(limit, wire.MAX_STRINGS)
        self._lock = threading.Lock()

    def after_fork(self) -> None:
        """In a forked child: a lock another thread held at the fork would never be freed."""
        self._lock = threading.Lock()

    def ref(self, name: str) -> int | str:
        found = self.ids.get(name)
        return found if found is not None else self._add(name)

    def _add(self, name: str) -> int | str:
        if type(name) is not str or len(name) > wire.MAX_STR:
            return name  # not a name we can define; the encoder judges it as it is
        with self._lock:
            found = self.ids.get(name)
            if found is not None:
                return found
            if len(self.values) >= self.limit:
                return name
            index = len(self.values)
            self.values.append(name)
            self.ids[name] = index
            return index

    def definitions(self, start: int = 0) -> list[tuple[str, int, list[str]]]:
        """Strings events for the ids from ``start`` on, each at most wire.MAX_ITEMS names
        and about DEFINITION_CHARS characters (so one always fits in a frame)."""
        end = len(self.values)
        out = []
        first, chars = start, 0
        for i in range(start, end):
            chars += len(self.values[i])
            if i + 1 - first >= wire.MAX_ITEMS or chars >= DEFINITION_CHARS or i + 1 == end:
                out.append((wire.KIND_STRINGS, first, self.values[first:i + 1]))
                first, chars = i + 1, 0
        return out


class Unresolved(LookupError):
    """An event refers to an id its process has not defined (yet)."""


_STR_OR_NONE = frozenset({str, type(None)})

class Vocabulary:
    """The names one process instance defined, to read its events."""

    def __init__(self) -> None:
        self.values: list[str | None] = []
        self.redefined = 0  # definitions that contradicted earlier ones (kept the new one)

    def define(self, first: int, values: list[str]) -> None:
        end = first + len(values)
        if end > wire.MAX_STRINGS:
            raise wire.WireError("string ids beyond the protocol's limit")
        known = self.values
        if first > len(known):
            known.extend([None] * (first - len(known)))  # a gap: filled by a later snapshot
        for i, value in enumerate(values, first):
            if i < len(known):
                if known[i] is not None and known[i] != value:
                    self.redefined += 1
                known[i] = value
            else:
                known.append(value)

    def get(self, ref: int | str | None) -> str | None:
        if ref is None or type(ref) is str:
            return ref
        try:
            value = self.values[ref]
        except IndexError:
            value = None
        if value is None:
            raise Unresolved(ref)
        return value

    def column(self, refs: list[Any]) -> list[Any]:
        """``refs`` resolved, at C speed when all are defined ids (the usual case)."""
        values = self.values
        try:
            out = list(map(values.__getitem__, refs))
        except (IndexError, TypeError):
            # Names travel as strings past the interner's limit, and a recording holds
            # only strings: a column of nothing else is itself (checked at C speed).
            if set(map(type, refs)) <= _STR_OR_NONE:
                return list(refs)
            return [self.get(r) for r in refs]  # ids among them: each one resolved
        if None in out:
            return [self.get(r) for r in refs]  # a gap, or a None the refs held on purpose
        return out

    def resolved(self, event: Any) -> Any:
        """``event`` with its names as strings (the same NamedTuple type)."""
        kind = event[0] if type(event) is tuple or hasattr(event, "_fields") else None
        get = self.get
        if kind == wire.KIND_DISPATCH:
            site, request, tx = event.site, event.request, event.tx
            return event._replace(
                tx=None if tx is None else wire.TxContext(get(tx.alias), tx.depth, tx.serial),
                signal=get(event.signal), sender=get(event.sender), thread=get(event.thread),
                site=None if site is None else wire.CallSite(get(site.file), site.line,
                                                             get(site.func)),
                request=None if request is None else wire.RequestInfo(
                    request.id, get(request.method), get(request.path), request.traceparent),
                receivers=[r._replace(name=get(r.name), module=get(r.module),
                                      file=get(r.file), exc_type=get(r.exc_type))
                           for r in event.receivers])
        if kind == wire.KIND_ON_COMMIT:
            site = event.site
            return event._replace(
                alias=get(event.alias), name=get(event.name), module=get(event.module),
                file=get(event.file), exc_type=get(event.exc_type),
                site=None if site is None else wire.CallSite(get(site.file), site.line,
                                                             get(site.func)))
        if kind == wire.KIND_ROLLBACK:
            return event._replace(alias=get(event.alias))
        if kind == wire.KIND_COUNTS or kind == wire.KIND_MUTED:
            return event._replace(items=[i._replace(signal=get(i.signal), sender=get(i.sender))
                                         for i in event.items])
        if kind == wire.KIND_TOPOLOGY:
            def receiver(r: Any) -> Any:
                site = r.site
                return r._replace(
                    name=get(r.name), module=get(r.module), file=get(r.file),
                    sender=get(r.sender),
                    site=None if site is None else wire.CallSite(get(site.file), site.line,
                                                                 get(site.func)))

            return event._replace(signals=[wire.SignalWiring(
                get(s.name), [receiver(r) for r in s.receivers],
                None if s.died is None else [receiver(r) for r in s.died])
                for s in event.signals])
        return event
