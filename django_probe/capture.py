"""Turns an instrumented dispatch into a ``wire.Dispatch`` and hands it to a sink.

Runs on the application's threads, so it only does cheap work: look up cached
names, summarise values into short strings (no database, no ``__str__``), build
one NamedTuple and append it to the publisher's queue. Nothing it builds refers to
application objects, so nothing is kept alive once the dispatch returns.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable
from typing import Any

from django.core import signals as core_signals
from django.dispatch import Signal

from . import clock, forks, wire
from .context import RequestContext, current_dispatch, current_request, innermost_running
from .counts import NoReceiverCounts
from .describe import Describer
from .naming import SignalRegistry, as_is
from .rules import MutedDispatches

RETURNED, RAISED, SKIPPED = wire.RETURNED, wire.RAISED, wire.SKIPPED
# The real monotonic clock, as no time-mocking library sees it (django_probe.clock); a
# dispatch's wall-clock time is its monotonic start plus the offset read at start-up.
_now = clock.perf_counter_ns
_WALL_OFFSET_NS = clock.WALL_OFFSET_NS


class Nest:
    """One dispatch in the nesting chain, and what its receivers did.

    ``id``; the dispatch that was running around it when it started (``up``); whether it
    has ended (``done``, set by finish); the call site of ``send()``; ``calls``, a row
    (receiver, ns, outcome, result) per receiver that ended, in completion order, timed
    from ``t0`` (when ``_dispatch.enter()`` made it) and ``t_last`` (the last mark). The
    mirror marks each receiver with returned()/raised() (``send()`` inline); async
    receivers, timed by their tasks, are record()ed. finish() empties ``calls``.

    Once its dispatch has ended a nest refers only to ints, a bool, a tuple of strings and
    older nests: it holds nothing of the application.
    """

    __slots__ = ("calls", "done", "id", "site", "t0", "t_last", "up")

    def __init__(self, dispatch_id: int, up: Nest | None,
                 site: wire.CallSite | None = None) -> None:
        self.id = dispatch_id
        self.up = up
        self.done = False
        self.site = site
        self.calls: list = []
        self.t0 = self.t_last = _now()

    def returned(self, receiver: Any, response: Any) -> None:
        end = _now()
        self.calls.append((receiver, end - self.t_last, RETURNED, response))
        self.t_last = end

    def raised(self, receiver: Any, exc: BaseException) -> None:
        end = _now()
        self.calls.append((receiver, end - self.t_last, RAISED, exc))
        self.t_last = end

    def record(self, receiver: Any, ns: int, outcome: str, result: Any) -> None:
        """A call timed by the caller (async receivers); ignored once the dispatch has
        ended (the sync receivers of a cancelled asend() go on in their thread)."""
        if not self.done:
            self.calls.append((receiver, ns, outcome, result))

    def resume(self) -> None:
        """Time the next mark from now (after work that is no receiver's)."""
        self.t_last = _now()


# The innermost dispatch (context.current_dispatch): set once per dispatch by
# _dispatch.enter(), read through innermost_running().
_current_nest = current_dispatch.get


class _ThreadState:
    """Per-thread probe state, reached with one thread-local lookup per dispatch (each
    attribute of a ``threading.local`` costs a per-thread dict lookup; a slot does not).

    ``busy`` is the re-entrancy guard: dispatches caused by the probe's own work are not
    recorded. Thread-local, not a ContextVar: finish() never awaits, so the flag only has
    to cover synchronous code on one thread. ``thread`` caches the ref of the thread's
    name (interned by its recorder: each recorder has its own thread-locals, so a ref
    never outlives its interner); it dies with its thread, so a reused thread id never
    inherits a stale name (a thread renamed after its first dispatch keeps its first
    name); ``ident`` likewise.
    """

    __slots__ = ("busy", "ident", "thread")

    def __init__(self, intern: Callable[[str], int | str]) -> None:
        self.busy = False
        self.thread: int | str = intern(_current_thread().name)
        self.ident: int = _get_ident()  # constant for the thread's life


Sink = Callable[[Any], None]

_KIND = wire.KIND_DISPATCH
# Events leave the hot path as *exact* tuples in the field order of the wire NamedTuples
# (wire.Dispatch, wire.ReceiverCall, wire.CallSite, wire.RequestInfo); they pack to the same
# msgpack arrays. CPython's GC untracks exact tuples of strings and numbers after one pass
# but never tuple subclasses, so queued NamedTuples would be promoted and rescanned by
# full collections (measured: ~2 µs per dispatch). wire.typed() gives them names back.
_current_thread = threading.current_thread
_get_ident = threading.get_ident
_request_finished = core_signals.request_finished
_request_now = current_request.get  # bound once: read on every dispatch


_recorders: weakref.WeakSet[Recorder] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for recorder in list(_recorders):
        recorder._reseed_request_ids()
        recorder.forget_empty()  # the parent reports what it counted before the fork
        recorder.forget_muted()


forks.register(_after_fork_in_child)


class Recorder(NoReceiverCounts, MutedDispatches, RequestContext):
    """Everything the instrumented ``send`` needs, bundled so install/uninstall swap one
    object. Dispatches without receivers are counts.py's part of it, requests context.py's,
    live-control rules rules.py's."""

    def __init__(self, sink: Sink, describer: Describer, registry: SignalRegistry, *,
                 intern: Callable[[str], int | str] = as_is, stream_empty: bool = False,
                 ignore: frozenset[str] = frozenset()) -> None:
        self.sink = sink  # called with each event (a plain tuple); Publisher.submit when streaming
        self.describe = describer
        self.registry = registry
        # The refs events carry for names (the process's Interner.ref; registry and
        # describer intern with the same one): ids cached where the names are cached.
        self.intern = intern
        self.stream_empty = stream_empty
        self.ignore = ignore  # names of signals that are never recorded
        # The same as refs, compared with the signal's cached ref on the hot path. (The
        # ignored names get ids too: a ref is the same for a name every time it is asked.)
        self._ignored = frozenset(map(intern, ignore))
        self._none = intern("None")  # the sender None
        self._tls = threading.local()  # .state: this recorder's _ThreadState per thread
        # Called when building an event failed (a probe bug): the publisher counts it as
        # dropped. Without a publisher, failures are only counted here.
        self.failures = itertools.count()
        self.on_failure: Callable[[], Any] = self.failures.__next__
        self._signal_refs = registry.refs  # id(signal) -> ref: read directly on the hot path
        # (id(signal), id(sender), method) -> [signal ref, sender ref, count]. The send()
        # mirrors count known pairs inline (_dispatch.send); empty() adds new ones.
        # request_started/finished are keyed with a fourth element: see empty().
        self.empty_counts: dict[tuple, list] = {}
        self._empty_since = _now()
        self._init_rules()  # live control: no rules until the monitor sends some
        self._reseed_request_ids()
        _recorders.add(self)
        self.next_id = itertools.count(1).__next__  # atomic under the GIL

    # The transaction context of the calling thread (_transactions.tx_context, set by its
    # install): a wire.TxContext tuple, or None.
    tx: Callable[[], tuple | None] = staticmethod(lambda: None)

    def detached_nest(self, site: wire.CallSite | None) -> Nest:
        """An ended nest for an event that is no dispatch of ours (receivers mode): a new
        id and the running dispatch around the caller as parent; the context is left as
        it is."""
        nest = Nest(self.next_id(), innermost_running(_current_nest()), site)
        nest.done = True
        return nest

    def thread_state(self) -> _ThreadState:
        """This thread's state (made on its first dispatch)."""
        try:
            return self._tls.state
        except AttributeError:
            state = self._tls.state = _ThreadState(self.intern)
            return state

    def use_publisher(self, publisher: Any) -> None:
        """Stream to ``publisher``: its submit() is the sink, its count_lost() counts
        failures."""
        self.sink = publisher.submit
        self.on_failure = publisher.count_lost


    # ------------------------------------------------------------------ dispatches

    def finish(self, signal: Signal, sender: Any, method: str, named: dict[str, Any],
               nest: Nest, receivers: list, async_receivers: list, raised: bool) -> None:
        """End the dispatch and build its event from what ``nest`` (what ``_dispatch.enter()``
        returned) recorded. Never raises into the app."""
        nest.done = True
        calls = nest.calls
        try:
            state = self._tls.state
        except AttributeError:
            state = self.thread_state()
        if state.busy:
            calls.clear()
            return  # caused by the probe's own work (e.g. a sink): never record or recurse
        state.busy = True
        t0 = nest.t0
        # The last receiver's end is the dispatch's end, unless it was cut short.
        duration = (_now() if raised else nest.t_last) - t0
        try:
            name = self._signal_refs.get(id(signal))  # its ref (an id, or the name)
            if name is None:
                name = self.registry.ref(signal)
            # Live control: one attribute check while no rule is active.
            if name not in self._ignored and (self.rules is None or self.streams(
                    name, sender, method, raised)):
                if len(calls) == 1 and len(receivers) == 1 and not async_receivers:
                    # The most common dispatch of all: one sync receiver that ran.
                    r, ns, outcome, result = calls[0]
                    if outcome is RETURNED:
                        value = None if result is None else self.describe.value(result)
                        # Concatenating two tuples is ~60 ns cheaper than *-unpacking;
                        # rows are tuples (plain data, packed at once by the sink).
                        rows = (self.describe.receiver(r) + (  # noqa: RUF005
                            False, ns, RETURNED, value, None, None),)
                    else:
                        rows = (self._raised(r, ns, result, False),)
                elif not async_receivers and len(calls) == len(receivers):
                    # Every sync receiver ran, in order (a plain loop: no call per row).
                    receiver_of, value_of = self.describe.receiver, self.describe.value
                    out = []
                    for r, ns, outcome, result in calls:
                        if outcome is RETURNED:
                            out.append(receiver_of(r) + (  # noqa: RUF005
                                False, ns, RETURNED,
                                None if result is None else value_of(result), None, None))
                        else:
                            out.append(self._raised(r, ns, result, False))
                    rows = tuple(out)
                else:
                    rows = self._receiver_calls(calls, receivers, async_receivers)
                up = nest.up
                self.sink((
                    _KIND, t0 + _WALL_OFFSET_NS, nest.id, None if up is None else up.id, name,
                    self._none if sender is None else self.describe.sender_ref(sender), method,
                    duration, state.thread, state.ident, nest.site,
                    _request_now(), self.describe.kwargs(named) if named else {},
                    rows, raised, self.tx()))
            if signal is _request_finished:
                current_request.set(None)
        except Exception:  # the probe must never break a dispatch; the loss is counted
            self.on_failure()
        finally:
            state.busy = False
            # What the receivers gave goes now: an exception's traceback leads back to the
            # mirror's frame, which holds the nest (a cycle until collected).
            calls.clear()

    def _receiver_calls(self, calls: list, receivers: list,
                        async_receivers: list) -> tuple[wire.ReceiverCall, ...]:
        """Receiver rows in connection order (sync first, as Django runs them).

        ``calls`` holds (receiver, ns, outcome, result) in completion order; receivers
        without an entry never ran because an earlier one raised: they are SKIPPED.
        """
        describe = self.describe
        by_id = {id(call[0]): call for call in calls}
        out = []
        for is_async, group in ((False, receivers), (True, async_receivers)):
            for receiver in group:
                call = by_id.get(id(receiver))
                if call is None:
                    out.append((*describe.receiver(receiver), is_async, 0, SKIPPED,
                                None, None, None))
                elif call[2] is RAISED:
                    out.append(self._raised(receiver, call[1], call[3], is_async))
                else:
                    result = call[3]
                    value = None if result is None else describe.value(result)
                    out.append((*describe.receiver(receiver), is_async, call[1], RETURNED,
                                value, None, None))
        return tuple(out)

    def _raised(self, receiver: Any, ns: int, exc: BaseException,
                is_async: bool) -> wire.ReceiverCall:
        exc_type, message = self.describe.exception(exc)
        return self.describe.receiver(receiver) + (  # noqa: RUF005
            is_async, ns, RAISED, None, exc_type, message)
