"""The data channel's events (probe -> monitor): one NamedTuple each, and the frame."""

from __future__ import annotations

# Each class's annotations are the wire's rules (types, ranges, lengths): msgspec derives
# encoding, decoding and validation from them (codec.py). Field meanings are documented
# in docs/protocol.md, and a test keeps the two in step.
from typing import Annotated, Literal, NamedTuple

import msgspec

from .base import (
    DIGEST_LEN,
    KIND_COUNTS,
    KIND_DISPATCH,
    KIND_HEARTBEAT,
    KIND_HELLO,
    KIND_MUTED,
    KIND_ON_COMMIT,
    KIND_ROLLBACK,
    KIND_STRINGS,
    KIND_TOPOLOGY,
    MAX_EVENTS_PER_FRAME,
    MAX_ITEMS,
    CallbackOutcome,
    Count,
    Method,
    Outcome,
    Ref,
    Str,
    StringId,
    StrMap,
    Traceparent,
)


class Proc(NamedTuple):
    """Identifies one probe process instance (a restart or fork gets a new ``boot``)."""

    pid: int
    host: Str
    boot: Str  # random token per process instance, regenerated after fork()


class CallSite(NamedTuple):
    file: Ref
    line: int
    func: Ref


class RequestInfo(NamedTuple):
    id: Str
    method: Ref
    path: Ref
    traceparent: Traceparent | None = None  # the request's W3C ``traceparent`` header


class ReceiverCall(NamedTuple):
    """One receiver that a dispatch called (or skipped), in call order."""

    name: Ref  # qualified name, e.g. "create_profile" or "AuditLog.on_login"
    module: Ref
    file: Ref
    line: int
    is_async: bool
    dur: Count  # nanoseconds; 0 when skipped
    outcome: Outcome
    value: Str | None  # summary of the return value (returned)
    exc_type: Ref | None  # exception class path (raised)
    exc_msg: Str | None  # bounded exception message (raised)


class TxContext(NamedTuple):
    """The transaction a dispatch ran in: the first connection inside ``atomic()``."""

    alias: Ref  # database alias, e.g. "default"
    depth: Annotated[int, msgspec.Meta(ge=1)]  # atomic blocks open on it (1: outermost)
    # The transaction, numbered per process instance (1, 2, ...: a Rollback names it);
    # 0 in recordings made before version 4.
    serial: Count = 0


class Dispatch(NamedTuple):
    """One call of send/send_robust/asend/asend_robust that reached at least one receiver."""

    kind: Literal["D"]
    ts: int  # start, Unix epoch nanoseconds
    id: int  # dispatch id, unique within the process instance
    parent: int | None  # id of the dispatch whose receiver sent this one
    signal: Ref  # dotted name, e.g. "django.db.models.signals.post_save"
    sender: Ref  # "auth.User", "module.Class" or a short repr
    method: Method
    dur: Count  # total nanoseconds
    thread: Ref
    tid: int
    site: CallSite | None  # the frame that called send()
    request: RequestInfo | None
    kwargs: StrMap  # bounded, redacted summaries
    receivers: Annotated[list[ReceiverCall], msgspec.Meta(max_length=MAX_ITEMS)]
    raised: bool  # the dispatch propagated an exception to its caller
    tx: TxContext | None  # None: no connection of its thread was inside atomic()


class OnCommit(NamedTuple):
    """One ``transaction.on_commit()`` callback queued while a dispatch's receivers ran,
    sent once its fate is known (it ran, or a rollback discarded it)."""

    kind: Literal["O"]
    ts: int  # when on_commit() was called, Unix epoch nanoseconds
    dispatch: int  # id of the running dispatch whose receiver (or deeper code) queued it
    alias: Ref  # database alias of the connection it was queued on
    depth: Count  # atomic blocks open when it was queued (0: autocommit, ran at once)
    name: Ref  # the callback's qualified name, named like a receiver
    module: Ref
    file: Ref
    line: int
    site: CallSite | None  # the code that called on_commit()
    robust: bool  # on_commit(..., robust=True): an exception is logged, not raised
    outcome: CallbackOutcome
    end: int  # when it finished running or was discarded, Unix epoch nanoseconds
    dur: Count  # nanoseconds it ran; 0 when it never ran
    exc_type: Ref | None  # exception class path (raised)
    exc_msg: Str | None  # bounded exception message (raised)



class Rollback(NamedTuple):
    """A transaction, or a savepoint in one, was rolled back after dispatches ran in it:
    what their receivers wrote to the database is gone. Sent only for transactions that
    had a dispatch (a ``TxContext.serial``)."""

    kind: Literal["B"]
    ts: int  # when it was rolled back, Unix epoch nanoseconds
    alias: Ref  # database alias of the connection
    serial: Annotated[int, msgspec.Meta(ge=1)]  # the transaction (TxContext.serial)
    tid: int  # the thread whose connection it is (Dispatch.tid)
    # The whole transaction (rollback(), or the connection closed inside it); else a
    # savepoint: everything since ``since``.
    whole: bool
    since: int  # when the savepoint was made, Unix epoch ns; 0: the transaction's start
    # Django's test framework did it (a TestCase ending a test or its class): expected.
    by_test: bool = False

class Heartbeat(NamedTuple):
    """Periodic health of the probe: cumulative counters since the process started."""

    kind: Literal["H"]
    ts: Count
    captured: Count  # events handed to the queue
    sent: Count  # events handed to zmq
    dropped_queue: Count  # dropped because the queue was full
    dropped_send: Count  # dropped because zmq would block (monitor absent/slow)
    queue_depth: Count
    queue_max: Count
    # Live control (docs/live-control.md): the digest of the rules this process applies
    # ("" for none) and the dispatches they kept from streaming so far. Defaults: a
    # heartbeat that ends before them reads as "no rules".
    rules: Annotated[str, msgspec.Meta(max_length=DIGEST_LEN)] = ""
    muted: Count = 0


class EmptyCount(NamedTuple):
    signal: Ref
    sender: Ref
    method: Method
    count: Count


class Counts(NamedTuple):
    """Dispatches that found no receiver, aggregated over a window."""

    kind: Literal["C"]
    ts: int  # end of the window
    window: int  # nanoseconds
    items: Annotated[list[EmptyCount], msgspec.Meta(max_length=MAX_EVENTS_PER_FRAME)]


Names = Annotated[list[Str], msgspec.Meta(max_length=256)]


class MutedCount(NamedTuple):
    signal: Ref
    sender: Ref
    method: Method
    count: Count  # dispatches a rule kept from streaming (muted or sampled out)
    raised: Count  # of which propagated an exception to their caller


class Muted(NamedTuple):
    """Dispatches that live-control rules kept from streaming, aggregated over a window."""

    kind: Literal["M"]
    ts: int  # end of the window
    window: int  # nanoseconds
    items: Annotated[list[MutedCount], msgspec.Meta(max_length=MAX_EVENTS_PER_FRAME)]


class ConnectedReceiver(NamedTuple):
    """A connected receiver. The fields after ``weak`` are facts for wiring diagnostics;
    each may be None (unknown), so recordings made before them still read."""

    name: Ref
    module: Ref
    file: Ref  # where the receiver is defined
    line: int
    is_async: bool
    sender: Ref | None  # None: any sender
    weak: bool
    site: CallSite | None = None  # the connect() call or @receiver; None: before the probe
    connected_at: int | None = None  # Unix ns of the connect() call, when it was seen
    after_startup: bool | None = None  # connected once Django's app registry was ready
    uid: Str | None = None  # the dispatch_uid it was connected with (None: keyed by itself)
    target: Count | None = None  # index of this signal's first receiver calling the same callable
    params: Names | None = None  # names it accepts as keywords; None: not a plain function
    required: Names | None = None  # parameters without a default (beyond self)
    varkw: bool | None = None  # it accepts **kwargs
    died_at: int | None = None  # (SignalWiring.died only) Unix ns its weak reference died


class SignalWiring(NamedTuple):
    name: Ref
    receivers: Annotated[list[ConnectedReceiver], msgspec.Meta(max_length=MAX_ITEMS)]
    # Weak receivers garbage-collected while still connected (never disconnected).
    died: Annotated[list[ConnectedReceiver], msgspec.Meta(max_length=MAX_ITEMS)] | None = None


class Topology(NamedTuple):
    """Every known signal and the receivers connected to it right now."""

    kind: Literal["T"]
    ts: int
    signals: Annotated[list[SignalWiring], msgspec.Meta(max_length=MAX_ITEMS)]


class Hello(NamedTuple):
    """First event of every process instance: versions and configuration."""

    kind: Literal["I"]
    ts: int
    info: Annotated[dict[Str, Str], msgspec.Meta(max_length=256)]


class Strings(NamedTuple):
    """Defines ids ``first``, ``first + 1``... of this process instance as ``values``.

    The probe sends each name once, before the first event that uses its id, and all of
    them again every few seconds and after a reconnect, so a monitor that starts or
    restarts later learns them too (docs/protocol.md, "Interned names").
    """

    kind: Literal["S"]
    first: StringId
    values: Annotated[list[Str], msgspec.Meta(max_length=MAX_ITEMS)]


Event = (Dispatch | Heartbeat | Counts | Topology | Hello | Strings | OnCommit | Muted
         | Rollback)
EVENT_TYPES: dict[str, type] = {
    KIND_DISPATCH: Dispatch, KIND_HEARTBEAT: Heartbeat, KIND_COUNTS: Counts,
    KIND_TOPOLOGY: Topology, KIND_HELLO: Hello, KIND_STRINGS: Strings,
    KIND_ON_COMMIT: OnCommit, KIND_MUTED: Muted, KIND_ROLLBACK: Rollback,
}


class Frame(NamedTuple):
    proc: Proc
    seq: int  # sequence number of events[0]; events are numbered consecutively
    events: list[Event]
    malformed: int  # events in this frame that failed validation and were skipped
