"""Decoded frames to store columns, each process's names resolved with its Vocabulary.

Decoding and validation are ``django_probe.wire``'s, derived from its one definition (a
frame of dispatches in one msgspec call, anything else envelope first and event by event):
this module only transposes the decoded NamedTuples (``zip(*events)`` runs at C speed) and
resolves their Ref columns (an id defined by an earlier ``Strings`` event of the same
process instance, or the string itself) with ``Vocabulary.column``. Columns are resolved per
process, before the columns of several processes are concatenated.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from itertools import chain
from operator import is_not
from typing import Any, NamedTuple

from django_probe import wire
from django_probe.strings import Unresolved, Vocabulary

# Bytes of names one process instance may define (a real one defines a few thousand names,
# well under 1 MB; MAX_STRINGS ids of MAX_STR characters would be 512 MB), and all of them
# together. Past these, a definition is refused: events that use its ids stay unresolved.
MAX_VOCABULARY_BYTES = 4 * 1024 * 1024
MAX_VOCABULARIES_BYTES = 64 * 1024 * 1024

_NO_SITE = (None, 0, None)
_IS_NOT_NONE = partial(is_not, None)
_NO_REQUEST_COLS: tuple[Sequence[Any], ...] = ((), (), ())
NO_RECEIVERS: tuple[Sequence[Any], ...] = ((),) * 10


class Columns(NamedTuple):
    """A frame's dispatches as resolved columns, and its other events resolved."""

    count: int  # dispatches
    dispatch: tuple[Sequence[Any], ...]  # wire.Dispatch field order; names resolved (tx too)
    sites: tuple[Sequence[Any], Sequence[Any], Sequence[Any]]  # file, line, func
    requests: list[Any]  # (id, method, path, traceparent) or None per dispatch, resolved
    receivers: tuple[Sequence[Any], ...]  # all receiver calls, wire.ReceiverCall order
    others: list[wire.Event]  # heartbeats, counts, topology, hello (resolved; no Strings)


def decode(data: Any) -> wire.Frame:
    """``wire.decode_frame``, with whatever a hostile frame provokes besides WireError
    (msgspec raises RecursionError for deeply nested arrays) turned into WireError."""
    try:
        return wire.decode_frame(data)
    except wire.WireError:
        raise
    except Exception as exc:
        raise wire.WireError(f"not a signal-monitor frame: {type(exc).__name__}") from None


def _column(vocab: Vocabulary, refs: Sequence[Any]) -> list[Any]:
    """``refs`` of optional names resolved, at C speed also when some are None (the
    exception type of the few receivers that raised among many that returned)."""
    if type(refs) is not list:
        refs = list(refs)
    absent = refs.count(None)
    if not absent:
        return vocab.column(refs)
    if absent == len(refs):
        return refs
    present = list(filter(_IS_NOT_NONE, refs))
    lookup = dict(zip(present, vocab.column(present), strict=True))
    lookup[None] = None
    return list(map(lookup.__getitem__, refs))


class Definer:
    """Applies Strings events to process vocabularies, bounded in bytes (per process and in
    all); ``refused`` counts the definitions left out."""

    def __init__(self) -> None:
        self.total = 0  # bytes of names defined, all processes
        self.refused = 0

    def define(self, info: Any, event: wire.Strings) -> None:
        vocab: Vocabulary = info.vocabulary
        known, first, values = vocab.values, event.first, event.values
        end = first + len(values)
        if end > wire.MAX_STRINGS:
            self.refused += 1
            return
        if known[first:end] == values:  # the periodic repeat: nothing new
            return
        grown = (sum(map(len, values))
                 - sum(len(v) for v in known[first:end] if v is not None))
        if grown > 0 and (info.vocabulary_bytes + grown > MAX_VOCABULARY_BYTES
                          or self.total + grown > MAX_VOCABULARIES_BYTES):
            self.refused += 1
            return
        vocab.define(first, values)
        info.vocabulary_bytes += grown
        self.total += grown


def resolve_events(events: Sequence[wire.Event], vocab: Vocabulary) -> list[wire.Event]:
    """Events with their names as strings, Strings events left out; raises Unresolved."""
    resolved = vocab.resolved
    return [resolved(e) for e in events if e[0] != wire.KIND_STRINGS]


def resolved_frame(frame: wire.Frame, vocab: Vocabulary) -> wire.Frame:
    """``frame`` as a recording keeps it: names as strings, and each Strings event (whose
    definitions are no longer needed) emptied but kept, so sequence numbers stay exact.
    Raises Unresolved."""
    resolved = vocab.resolved
    return frame._replace(events=[resolved(e) if e[0] != wire.KIND_STRINGS
                                  else e._replace(values=[]) for e in frame.events])


def frame_columns(frame: wire.Frame, vocab: Vocabulary) -> Columns:
    """``columns`` of a frame's events."""
    return columns(frame.events, vocab)


def columns(events: Sequence[wire.Event], vocab: Vocabulary) -> Columns:
    """The events of one frame (of one process) as resolved columns; raises Unresolved."""
    dispatches: Sequence[Any] = events
    others: list[wire.Event] = []
    if any(e[0] != wire.KIND_DISPATCH for e in events):
        dispatches = [e for e in events if e[0] == wire.KIND_DISPATCH]
        others = resolve_events([e for e in events if e[0] != wire.KIND_DISPATCH], vocab)
    if not dispatches:
        return Columns(0, (), ((), (), ()), [], NO_RECEIVERS, others)
    cols = list(zip(*dispatches, strict=True))
    for i in (4, 5, 8):  # signal, sender, thread
        cols[i] = vocab.column(list(cols[i]))
    sites = cols[10]
    if None in sites:
        sites = [s or _NO_SITE for s in sites]
    files, lines, funcs = zip(*sites, strict=True)
    reqs: list[Any] = list(cols[11])
    present = [r for r in reqs if r is not None]
    if present:
        rids, methods, paths, parents = zip(*present, strict=True)
        resolved = zip(rids, vocab.column(list(methods)), vocab.column(list(paths)), parents,
                       strict=True)
        if len(present) == len(reqs):
            reqs = list(resolved)
        else:
            it = iter(resolved)
            reqs = [None if r is None else next(it) for r in reqs]
    if any(cols[15]):  # the transaction contexts: (alias, depth, serial) or None
        get = vocab.get
        cols[15] = [None if t is None else (get(t[0]), t[1], t[2]) for t in cols[15]]
    flat = list(chain.from_iterable(cols[13]))
    rcols: tuple[Sequence[Any], ...] = NO_RECEIVERS
    if flat:
        r = list(zip(*flat, strict=True))
        for i in (0, 1, 2):  # name, module, file
            r[i] = vocab.column(list(r[i]))
        r[8] = _column(vocab, r[8])  # exception type, mostly None
        rcols = tuple(r)
    return Columns(len(dispatches), tuple(cols),
                   (_column(vocab, files), lines, _column(vocab, funcs)), reqs, rcols, others)


__all__ = ["Columns", "Definer", "Unresolved", "columns", "decode", "frame_columns",
           "resolve_events", "resolved_frame"]
