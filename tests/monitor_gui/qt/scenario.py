"""Realistic synthetic traffic (login flow of a Django site) built with django_probe.wire.

Frames are protocol 2 as the probe sends them: names interned (ids), each defined by a
Strings event before its first use, so every GUI test also exercises resolution.
"""

from __future__ import annotations

import itertools
import random

from django_probe import wire
from django_probe.strings import Interner
from tests.monitor_gui.core.events import interned

PROC = wire.Proc(4242, "devbox", "b00t1234")
SIG = "django.db.models.signals."
CORE = "django.core.signals."
AUTH = "django.contrib.auth.signals."


def receiver(name: str, module: str, dur: int, raised: str | None = None,
             skipped: bool = False) -> wire.ReceiverCall:
    if skipped:
        return wire.ReceiverCall(name, module, f"/app/{module.replace('.', '/')}.py", 10,
                                 False, 0, wire.SKIPPED, None, None, None)
    if raised:
        return wire.ReceiverCall(name, module, f"/app/{module.replace('.', '/')}.py", 42,
                                 False, dur, wire.RAISED, None, raised, "boom: audit db down")
    return wire.ReceiverCall(name, module, f"/app/{module.replace('.', '/')}.py", 12,
                             False, dur, wire.RETURNED, "None", None, None)


class Scenario:
    """Generates requests: request_started, login (pre/post_save User + Session,
    user_logged_in with update_last_login + audit), login_succeeded, request_finished."""

    def __init__(self, seed: int = 7, start_ns: int = 1_764_000_000_000_000_000) -> None:
        self.rng = random.Random(seed)
        self.t = start_ns
        self.ids = itertools.count(1)
        self.seq = 0
        self.requests = itertools.count(1)
        self.interner = Interner()
        self.defined = 0  # ids sent in Strings events so far

    def _dispatch(self, signal: str, sender: str, dur: int, receivers: list[wire.ReceiverCall],
                  parent: int | None, request: wire.RequestInfo | None, raised: bool = False,
                  kwargs: dict[str, str] | None = None) -> wire.Dispatch:
        did = next(self.ids)
        event = wire.Dispatch(
            wire.KIND_DISPATCH, self.t, did, parent, signal, sender, "send", dur,
            "MainThread", 140001, wire.CallSite("/app/accounts/views.py", 31, "login_view"),
            request, kwargs or {"instance": f"<{sender} pk=1>", "created": "False"},
            receivers, raised, None)
        self.t += dur + self.rng.randint(2_000, 20_000)
        return event

    def request(self, fail: bool = False, slow: bool = False) -> list[wire.Dispatch]:
        """One POST /login/ with its nested dispatches, in the order the probe emits them."""
        r = self.rng
        req = wire.RequestInfo(f"req-{next(self.requests)}", "POST", "/accounts/login/")
        ev = [self._dispatch(CORE + "request_started", "django.core.handlers.wsgi.WSGIHandler",
                             r.randint(20_000, 60_000),
                             [receiver("reset_queries", "django.db", 8_000),
                              receiver("close_old_connections", "django.db", 12_000)],
                             None, req, kwargs={"environ": "{...}"})]
        for sender in ("auth.User", "sessions.Session"):
            ev.append(self._dispatch(SIG + "pre_save", sender, r.randint(5_000, 15_000),
                                     [receiver("stamp_updated", "accounts.receivers", 3_000)],
                                     None, req))
            ev.append(self._dispatch(
                SIG + "post_save", sender, r.randint(40_000, 400_000),
                [receiver("create_profile", "accounts.receivers", r.randint(30_000, 300_000)),
                 receiver("invalidate_cache", "articles.cache", 9_000)], None, req))
        login_dur = 180_000_000 if slow else r.randint(400_000, 2_500_000)
        audit = receiver("on_login", "accounts.audit.AuditLog", r.randint(100_000, 900_000),
                         raised="accounts.audit.AuditError" if fail else None)
        login = self._dispatch(
            AUTH + "user_logged_in", "auth.User", login_dur,
            [receiver("update_last_login", "django.contrib.auth.models", 250_000), audit,
             receiver("notify", "accounts.notifications", 0, skipped=True) if fail else
             receiver("notify", "accounts.notifications", 90_000)],
            None, req, raised=fail, kwargs={"user": "<User: alice>", "request": "<WSGIRequest>"})
        self.t = login.ts + 30_000  # the nested save happens inside update_last_login
        nested = self._dispatch(SIG + "post_save", "auth.User", 60_000,
                                [receiver("create_profile", "accounts.receivers", 40_000)],
                                login.id, req)
        self.t = login.ts + login.dur + 10_000
        ev += [login, nested]
        if not fail:
            ev.append(self._dispatch("accounts.signals.login_succeeded", "accounts.views",
                                     r.randint(50_000, 200_000),
                                     [receiver("send_welcome_back", "accounts.notifications",
                                               r.randint(30_000, 150_000))], None, req))
        ev.append(self._dispatch(CORE + "request_finished",
                                 "django.core.handlers.wsgi.WSGIHandler", 30_000,
                                 [receiver("close_old_connections", "django.db", 15_000)],
                                 None, req))
        self.t += r.randint(5_000_000, 40_000_000)
        return ev

    def topology(self) -> wire.Topology:
        def conn(name: str, module: str) -> wire.ConnectedReceiver:
            return wire.ConnectedReceiver(name, module, "/app/x.py", 1, False, None, True)

        return wire.Topology(wire.KIND_TOPOLOGY, self.t, [
            wire.SignalWiring(AUTH + "user_login_failed",
                              [conn("on_failed_login", "accounts.audit.AuditLog")]),
            wire.SignalWiring(SIG + "post_delete", [conn("purge_avatar", "accounts.receivers")]),
            wire.SignalWiring(AUTH + "user_logged_in",
                              [conn("update_last_login", "django.contrib.auth.models")]),
        ])

    def _definitions(self) -> list:
        new = self.interner.definitions(self.defined)
        self.defined = len(self.interner.values)
        return new

    def _encode(self, events: list) -> bytes:
        data = wire.encode_frame(PROC, self.seq, events)
        self.seq += len(events)
        return data

    def frame(self, events: list) -> bytes:
        """One frame of ``events`` with interned names, led by the definitions of new ones."""
        ids = [interned(e, self.interner.ref) for e in events]
        return self._encode([*self._definitions(), *ids])

    def frames(self, requests: int, fail_every: int = 7, slow_every: int = 11) -> list[bytes]:
        """Hello and topology, then ``requests`` requests a frame each; new names are
        defined in a frame of their own first (as the probe's publisher does)."""
        out: list[bytes] = []
        batches = [[wire.Hello(wire.KIND_HELLO, self.t, {"django": "5.2"}), self.topology()]]
        batches += [self.request(fail=i % fail_every == 0, slow=i % slow_every == 0)
                    for i in range(1, requests + 1)]
        for events in batches:
            ids = [interned(e, self.interner.ref) for e in events]
            new = self._definitions()
            if new:
                out.append(self._encode(new))
            out.append(self._encode(ids))
        return out


# Driving the real window (tests/monitor_gui/qt/test_window_*.py).

def feed(monitor, frames) -> None:
    monitor.controller.enqueue(frames)
    monitor.controller.drain()


def table_signals(window) -> set[str]:
    model = window.table_model
    return {model.dispatch(r).signal for r in range(model.rowCount())}


def timeline_signals(window) -> set[str]:
    data = window.timeline_data
    return {data.name_of(int(s)) for s in data.signal[data.lo:data.hi]}
