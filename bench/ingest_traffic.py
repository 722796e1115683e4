"""Synthetic protocol-2 traffic for bench_ingest: dispatches, their frames, the publisher."""

from __future__ import annotations

import os
import platform
import time
from typing import Any

from django_probe import wire
from django_probe.strings import Interner

SIGNALS = [f"django.db.models.signals.{n}" for n in ("pre_save", "post_save", "pre_init",
                                                      "post_init", "pre_delete", "post_delete")]
SIGNALS += [f"app.signals.custom_{i}" for i in range(14)]
SENDERS = ["auth.User", "articles.Article", "articles.Comment", "accounts.Profile",
           "sessions.Session"]
FRAME_EVENTS = 200
POOL = 5_000  # distinct synthetic events, reused with fresh ids


def synthetic_events(count: int, interner: Interner | None = None) -> list[wire.Dispatch]:
    """A plausible mix: 1-3 receivers, 20% nested, 2% raising, kwargs summaries. With an
    ``interner``, names are its ids, as the probe sends them (protocol 2)."""
    ref = interner.ref if interner is not None else str
    events = []
    for i in range(count):
        receivers = [
            wire.ReceiverCall(ref(f"on_{SIGNALS[i % 20].rsplit('.', 1)[1]}_{k}"),
                              ref(f"app{k}.receivers"), ref(f"app{k}/receivers.py"), 10 + k,
                              False, 2_000 + 97 * (i % 50),
                              wire.RAISED if (i % 50 == 0 and k == 0) else wire.RETURNED,
                              None if i % 50 == 0 and k == 0 else "None",
                              ref("builtins.ValueError") if i % 50 == 0 and k == 0 else None,
                              "bad value" if i % 50 == 0 and k == 0 else None)
            for k in range(1 + i % 3)
        ]
        events.append(wire.Dispatch(
            wire.KIND_DISPATCH, 0, i, None if i % 5 else i + 1, ref(SIGNALS[i % 20]),
            ref(SENDERS[i % 5]), "send", 10_000 + i % 1000, ref("MainThread"),
            140_000 + i % 4, wire.CallSite(ref("app/views.py"), 40 + i % 30, ref("create")),
            wire.RequestInfo(f"req-{i // 20}", ref("POST"), ref("/articles/new/")),
            {"instance": f"<Article: {i}>", "created": "True", "using": "default"},
            receivers, False, None))
    return events


def interned_pool(count: int) -> tuple[list[wire.Dispatch], list[Any]]:
    """``count`` synthetic dispatches with interned names, and the Strings events that
    define their ids (sent first, in a frame of their own, as the probe does)."""
    interner = Interner()
    pool = synthetic_events(count, interner)
    return pool, interner.definitions()


def numbered(pool: list[wire.Dispatch], base: int) -> list[wire.Dispatch]:
    """The next frame of pool events, renumbered from dispatch id ``base`` (POOL is a
    multiple of FRAME_EVENTS, so a frame never wraps around the pool)."""
    return [e._replace(id=base + i, parent=None if e.parent is None else base + i + 1)
            for i, e in enumerate(pool[base % POOL: base % POOL + FRAME_EVENTS])]


def repeated_frames(proc: wire.Proc, events: int) -> list[bytes]:
    """The Strings frame, then events // FRAME_EVENTS frames of one synthetic frame's
    events, numbered in sequence (in-process measurements: the same decode work each frame)."""
    pool, strings = interned_pool(FRAME_EVENTS)
    return [wire.encode_frame(proc, 0, strings)] + [
        wire.encode_frame(proc, len(strings) + i * FRAME_EVENTS, pool)
        for i in range(events // FRAME_EVENTS)]


def publisher(endpoint: str, mode: str, total: int, rate: float, duration: float) -> None:
    """Child process: flood (blocking sends) or pace (non-blocking, drops counted)."""
    import zmq

    proc = wire.Proc(os.getpid(), platform.node(), f"bench-{mode}")
    pool, strings = interned_pool(POOL)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUSH)
    if mode == "paced":
        sock.setsockopt(zmq.IMMEDIATE, 1)  # like the probe: no monitor -> drop, not queue
    sock.connect(endpoint)
    names = wire.encode_frame(proc, 0, strings)  # sent first, as the probe does
    seq = len(strings)
    sent = dropped = 0
    if mode != "prebuilt":
        sock.send(names)  # blocking: delivered (IMMEDIATE waits for the connection)
    else:
        # Every frame encoded before the first send: the monitor's side alone is measured
        # (the probe's own encoding cost is bench_probe's business), not this process's.
        frames = [names]
        while sent < total:
            events = numbered(pool, sent)
            frames.append(wire.encode_frame(proc, seq, events))
            seq += len(events)
            sent += len(events)
        for frame in frames:
            sock.send(frame)  # sent == total: the loop below ends at once
    per_frame = FRAME_EVENTS if mode != "paced" else max(1, int(rate / 500))  # 2 ms frames
    start = time.monotonic()
    next_send = start
    while True:
        if mode != "paced" and sent >= total:
            break
        if mode == "paced":
            if time.monotonic() - start >= duration:
                break
            next_send += per_frame / rate
            delay = next_send - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        base = sent + dropped
        now = time.time_ns()
        events = [e._replace(id=base + j, ts=now,
                             parent=None if e.parent is None else base + j + 1)
                  for j, e in enumerate(pool[base % POOL: base % POOL + per_frame])]
        if len(events) < per_frame:
            events += [e._replace(id=base + len(events) + j, ts=now, parent=None)
                       for j, e in enumerate(pool[: per_frame - len(events)])]
        frame = wire.encode_frame(proc, seq, events)
        try:
            sock.send(frame, 0 if mode == "flood" else zmq.NOBLOCK)
        except zmq.Again:
            dropped += len(events)  # not sent, so no seq assigned: counted in the heartbeat
            continue
        seq += len(events)
        sent += len(events)
    hb = wire.Heartbeat(wire.KIND_HEARTBEAT, time.time_ns(), sent + dropped, sent, 0, dropped,
                        0, 0)
    sock.send(wire.encode_frame(proc, seq, [hb]))  # blocking: the end marker must arrive
    sock.close(linger=30_000)
    ctx.term()
