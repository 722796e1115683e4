"""Live control end to end: a real demo-site process, a real monitor, real sockets both ways."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest
import zmq

from demo_site.traffic import Browser
from django_probe import wire
from monitor_gui.control import ControlSender, open_control
from monitor_gui.core.control import LiveControl
from monitor_gui.listener import CurveServer, Listener
from tests.e2e.monitor import HeadlessMonitor, count_rows
from tests.e2e.support import free_port_pair

pytestmark = pytest.mark.e2e

REQUEST_STARTED = "django.core.signals.request_started"
REQUEST_FINISHED = "django.core.signals.request_finished"


@dataclasses.dataclass(frozen=True)
class KeyPairServer(CurveServer):
    """A CurveServer from keys made with zmq.curve_keypair() (no certificate files)."""

    public: bytes = b""
    secret: bytes = b""

    def keys(self) -> tuple[bytes, bytes]:
        return self.public, self.secret


class ControlledMonitor(HeadlessMonitor):
    """The headless monitor plus live control: the PUB socket on the same thread as the
    PULL socket, sending the rule set as the window's listener thread does."""

    def __init__(self, endpoint: str, curve: CurveServer | None = None) -> None:
        self.endpoint = endpoint
        self.listener = Listener(endpoint, curve=curve)
        from monitor_gui.core.state import MonitorState

        self.state = MonitorState(capacity=200_000)
        self.raw: list[bytes] = []
        self.live = LiveControl()
        self.sender = ControlSender(self.live.message, resend_s=0.5)
        self.control = open_control(self.listener)

    def pump(self, timeout_ms: int = 100) -> int:
        n = super().pump(timeout_ms)
        self.sender.tick(self.control)
        return n

    def set_rules(self, *rules: tuple[str | None, str | None, int]) -> str:
        self.live.clear()
        for signal, sender, every in rules:
            self.live.set(signal, sender, every)
        self.sender.offer(self.live.message)
        return self.live.digest

    def applying(self, digest: str, since: int = 0) -> bool:
        """Every process seen has sent a heartbeat reporting ``digest`` (after ``since``)."""
        procs = list(self.state.processes.values())
        return bool(procs) and all(p.heartbeat is not None and p.heartbeat.rules == digest
                                   and p.heartbeat.ts > since for p in procs)

    def close(self) -> None:
        self.control.close(linger=0)
        super().close()


@pytest.fixture
def controlled() -> Iterator[ControlledMonitor]:
    monitor = ControlledMonitor(f"tcp://127.0.0.1:{free_port_pair()}")
    yield monitor
    monitor.close()


def muted(state, signal: str) -> int:
    return sum(n for (sig, _snd, _m), (n, _r) in state.muted_counts.items() if sig == signal)


def test_mute_counts_unmute_and_a_restarted_process_gets_the_rule(controlled, start_site):
    monitor = controlled
    site = start_site(env={"SIGNAL_PROBE_ENDPOINT": monitor.endpoint})
    browser = Browser(site.base_url)
    browser.get("/")
    monitor.wait_for(lambda s: count_rows(s, REQUEST_STARTED) >= 1, "a first request")

    digest = monitor.set_rules((REQUEST_STARTED, None, 0))
    monitor.wait_for(lambda s: monitor.applying(digest), "the probe to apply the mute")
    (info,) = monitor.state.processes.values()
    assert info.info["control"] == monitor.endpoint.rsplit(":", 1)[0] + \
        f":{int(monitor.endpoint.rsplit(':', 1)[1]) + 1}"
    started, finished = (count_rows(monitor.state, REQUEST_STARTED),
                         count_rows(monitor.state, REQUEST_FINISHED))
    for _ in range(3):
        browser.get("/")
    # Muted: not streamed, but counted (Muted events) and reported in heartbeats.
    monitor.wait_for(lambda s: count_rows(s, REQUEST_FINISHED) >= finished + 3
                     and muted(s, REQUEST_STARTED) >= 3, "3 requests, request_started muted")
    assert count_rows(monitor.state, REQUEST_STARTED) == started
    assert monitor.state.signals[REQUEST_STARTED].muted >= 3
    monitor.wait_for(lambda s: info.heartbeat.muted >= 3, "a heartbeat counting them")
    # The receivers still ran: the request's own context is there for the finished rows.
    assert all(row.request is not None for row in monitor.rows_of(REQUEST_FINISHED)[-3:])

    monitor.set_rules()  # unmute: the empty rule set
    monitor.wait_for(lambda s: monitor.applying(""), "the probe to drop the mute")
    browser.get("/")
    monitor.wait_for(lambda s: count_rows(s, REQUEST_STARTED) > started, "streaming again")

    # A restarted process (a new instance) receives the current rules on its own.
    digest = monitor.set_rules((REQUEST_STARTED, None, 0))
    monitor.wait_for(lambda s: monitor.applying(digest), "the mute again")
    site.stop()
    site2 = start_site(env={"SIGNAL_PROBE_ENDPOINT": monitor.endpoint})
    monitor.wait_for(lambda s: len(s.processes) == 2, "the restarted process")
    new = next(p for p in monitor.state.processes.values() if p is not info)
    monitor.wait_for(lambda s: new.heartbeat is not None and new.heartbeat.rules == digest,
                     "the restarted process to apply the mute")
    before = count_rows(monitor.state, REQUEST_STARTED)
    Browser(site2.base_url).get("/")
    monitor.wait_for(lambda s: any(r.proc_key == new.key
                                   for r in monitor.rows_of(REQUEST_FINISHED)),
                     "the new process's request")
    assert count_rows(monitor.state, REQUEST_STARTED) == before


def test_sampling_streams_one_in_n(controlled, start_site):
    monitor = controlled
    site = start_site(env={"SIGNAL_PROBE_ENDPOINT": monitor.endpoint})
    digest = monitor.set_rules((REQUEST_STARTED, None, 3))
    monitor.wait_for(lambda s: monitor.applying(digest), "the probe to apply the sampling")
    started = count_rows(monitor.state, REQUEST_STARTED)
    browser = Browser(site.base_url)
    for _ in range(6):
        browser.get("/")
    monitor.wait_for(lambda s: muted(s, REQUEST_STARTED) >= 4
                     and count_rows(s, REQUEST_STARTED) >= started + 2, "6 requests sampled")
    assert count_rows(monitor.state, REQUEST_STARTED) - started == 2  # 1 in 3 of 6


def test_curve_control_and_a_monitor_without_the_key_gets_no_say(start_site):
    server_public, server_secret = zmq.curve_keypair()
    client_public, client_secret = zmq.curve_keypair()
    keys = {"SIGNAL_PROBE_CURVE_SERVER_KEY": server_public.decode(),
            "SIGNAL_PROBE_CURVE_PUBLIC_KEY": client_public.decode(),
            "SIGNAL_PROBE_CURVE_SECRET_KEY": client_secret.decode()}
    curve = KeyPairServer(secret_file=None, public=server_public,  # type: ignore[arg-type]
                          secret=server_secret)
    monitor = ControlledMonitor(f"tcp://127.0.0.1:{free_port_pair()}", curve=curve)
    try:
        site = start_site(env={"SIGNAL_PROBE_ENDPOINT": monitor.endpoint, **keys})
        digest = monitor.set_rules((REQUEST_STARTED, None, 0))
        monitor.wait_for(lambda s: monitor.applying(digest), "the mute, over CurveZMQ")
        started = count_rows(monitor.state, REQUEST_STARTED)
        Browser(site.base_url).get("/")
        monitor.wait_for(lambda s: muted(s, REQUEST_STARTED) >= 1, "a muted request")
        assert count_rows(monitor.state, REQUEST_STARTED) == started
    finally:
        monitor.close()

    # An impostor on the probe's control endpoint, with a key pair of its own (and the
    # real monitor's data endpoint with control off): the probe never applies its rules.
    data_port = free_port_pair()
    real = HeadlessMonitor.__new__(HeadlessMonitor)
    HeadlessMonitor.__init__(real, f"tcp://127.0.0.1:{data_port}")
    real.listener.close()
    real.listener = Listener(real.endpoint, curve=curve)
    impostor_public, impostor_secret = zmq.curve_keypair()
    context = zmq.Context()
    pub = context.socket(zmq.PUB)
    pub.curve_secretkey, pub.curve_publickey, pub.curve_server = (
        impostor_secret, impostor_public, True)
    pub.bind(f"tcp://127.0.0.1:{data_port + 1}")
    try:
        start_site(env={"SIGNAL_PROBE_ENDPOINT": real.endpoint, **keys})
        message = wire.encode_rules(time.time_ns(), 10_000, [wire.Rule(REQUEST_STARTED, None, 0)])
        deadline = time.monotonic() + 4.0  # four heartbeats of the probe
        while time.monotonic() < deadline:
            pub.send(message)
            real.pump()
        real.wait_for(lambda s: any(p.heartbeat is not None for p in s.processes.values()),
                      "the probe's heartbeats (data still flows)")
        assert all(p.heartbeat.rules == "" for p in real.state.processes.values())
    finally:
        pub.close(linger=0)
        context.term()
        real.close()


def test_the_window_mutes_a_signal_from_the_graph_menu(qtbot, start_site):
    """The real window (offscreen) and a real site: right-click → Mute, see it applied."""
    from monitor_gui.qt.app import build

    wait_ms = 30_000
    gui = build(f"tcp://127.0.0.1:{free_port_pair()}", capacity=100_000, settings=None)
    qtbot.addWidget(gui.window)
    gui.window.show()
    try:
        window, state, panel = gui.window, gui.state, gui.window.live_control
        qtbot.waitUntil(lambda: panel.endpoint is not None, timeout=wait_ms)
        site = start_site(env={"SIGNAL_PROBE_ENDPOINT": window.status.endpoint})
        browser = Browser(site.base_url)
        browser.get("/")
        qtbot.waitUntil(lambda: count_rows(state, REQUEST_STARTED) >= 1, timeout=wait_ms)
        menu = window._node_menu("signal", REQUEST_STARTED)
        next(a for a in menu.actions() if a.text().startswith("Mute")).trigger()
        qtbot.waitUntil(lambda: "1 of 1 processes apply 1 rule" in panel.status_label.text(),
                        timeout=wait_ms)
        started = count_rows(state, REQUEST_STARTED)
        browser.get("/")
        browser.get("/")
        qtbot.waitUntil(lambda: panel.model.data(panel.model.index(0, 1)) == "2",
                        timeout=wait_ms)  # "Kept back" from the Muted events
        assert count_rows(state, REQUEST_STARTED) == started
        assert state.signals[REQUEST_STARTED].muted == 2
    finally:
        gui.shutdown()
