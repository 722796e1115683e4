"""Monitor late or restarted, gunicorn workers: nothing hangs, processes apart, loss counted."""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

from demo_site.seed import DEMO_USERS
from demo_site.traffic import Browser
from django_probe.sender import CONNECT_GRACE
from tests.e2e.monitor import HeadlessMonitor, count_rows
from tests.e2e.support import wait_until

pytestmark = pytest.mark.e2e

LOGIN_SUCCEEDED = "demo_site.accounts.signals.login_succeeded"
# Seconds of traffic with no monitor: well past the probe's connect grace and flush interval.
OUTAGE = max(1.5, 3 * CONNECT_GRACE)


def user_pk(index: int) -> str:
    # seed.DEMO_USERS are created in order on a fresh database: demo=1, alice=2, bob=3.
    return f"auth.User pk={index + 1}"


def login(site, index: int) -> None:
    user = DEMO_USERS[index]
    assert Browser(site.base_url).login(user.username, user.password)


def logins_of(monitor: HeadlessMonitor) -> list[str]:
    return [row.kwargs.get("user", "") for row in monitor.rows_of(LOGIN_SUCCEEDED)]


@pytest.fixture
def monitors(monitor_endpoint):
    """Start (and restart) headless monitors on one endpoint; all closed at teardown."""
    started: list[HeadlessMonitor] = []

    def start() -> HeadlessMonitor:
        monitor = HeadlessMonitor(monitor_endpoint)
        started.append(monitor)
        return monitor

    yield start
    for monitor in started:
        monitor.close()


def keep_busy(site, index: int, seconds: float) -> int:
    """Log in again and again for ``seconds``; return how many logins were made.

    Time-based on purpose: the probe legitimately holds events for short windows (the
    connect grace of a new socket, the flush interval), so a monitor outage shorter than
    those loses nothing. An outage with traffic well beyond them must show as loss.
    """
    deadline = time.monotonic() + seconds
    made = 0
    while made < 2 or time.monotonic() < deadline:
        login(site, index)
        made += 1
    return made


def test_monitor_started_after_the_site(monitor_endpoint, monitors, start_site):
    site = start_site(env={"SIGNAL_PROBE_ENDPOINT": monitor_endpoint})
    early = keep_busy(site, 0, OUTAGE)  # nobody listens: dropped by the probe, and counted

    monitor = monitors()
    monitor.wait_for(lambda s: len(s.processes) == 1, "the running site to connect")
    login(site, 1)
    monitor.wait_for(lambda s: user_pk(1) in logins_of(monitor), "the login after the start")
    # The heartbeat's cumulative counters report what was dropped before we listened.
    monitor.wait_for(lambda s: s.totals.dropped > 0, "the drops to be reported")
    # Stale events were not queued up for a monitor that came late.
    assert logins_of(monitor).count(user_pk(0)) < early
    (info,) = monitor.state.processes.values()
    assert info.dropped_send > 0 and info.pid == site.proc.pid

    assert site.stop() == 0 and site.stopped_by == signal.SIGINT


def test_monitor_restarted_mid_stream(monitor_endpoint, monitors, start_site):
    first = monitors()
    site = start_site(env={"SIGNAL_PROBE_ENDPOINT": monitor_endpoint})
    first.wait_for(lambda s: len(s.processes) == 1, "the site to connect")
    login(site, 0)
    first.wait_for(lambda s: count_rows(s, LOGIN_SUCCEEDED) == 1, "the first login")
    first.close()

    during = keep_busy(site, 1, OUTAGE)  # the monitor is down: the site must not wait for it
    second = monitors()
    second.wait_for(lambda s: len(s.processes) == 1, "the site to reconnect")
    login(site, 2)
    second.wait_for(lambda s: user_pk(2) in logins_of(second), "the login after the restart")
    assert user_pk(0) not in logins_of(second)
    assert logins_of(second).count(user_pk(1)) < during
    second.wait_for(lambda s: s.totals.lost > 0, "the loss while down to be counted")
    (info,) = second.state.processes.values()
    assert info.pid == site.proc.pid

    assert site.stop() == 0 and site.stopped_by == signal.SIGINT


@pytest.mark.slow
@pytest.mark.parametrize("preload", [False, True], ids=["import-per-worker", "preload-fork"])
def test_gunicorn_workers_are_told_apart(monitor, start_site, preload):
    workers = 3
    extra = {"GUNICORN_CMD_ARGS": "--preload"} if preload else {}
    site = start_site(server="gunicorn", workers=workers,
                      env={"SIGNAL_PROBE_ENDPOINT": monitor.endpoint, **extra})
    master = psutil.Process(site.proc.pid)
    wait_until(lambda: len(master.children()) == workers, "gunicorn to boot its workers")
    worker_pids = {child.pid for child in master.children()}

    def serving_pids() -> set[int]:
        procs = monitor.state.processes
        return {procs[row.proc_key].pid for row in monitor.rows() if row.request is not None}

    # A busy sync worker cannot accept, so concurrent logins spread over the workers;
    # a few rounds make "at least two served" certain rather than likely.
    logins = 0
    for _round in range(10):
        with ThreadPoolExecutor(max_workers=workers * 2) as pool:
            list(pool.map(lambda i: login(site, i % len(DEMO_USERS)), range(workers * 2)))
        logins += workers * 2
        monitor.wait_for(lambda s: count_rows(s, LOGIN_SUCCEEDED) == logins,
                         f"all {logins} logins")
        if len(serving_pids()) >= 2:
            break
    serving = serving_pids()
    assert len(serving) >= 2 and serving <= worker_pids

    rows = monitor.rows()
    procs = monitor.state.processes
    # Every dispatch of a request comes from one worker process instance.
    request_procs: dict[str, set] = {}
    for row in rows:
        if row.request is not None:
            request_procs.setdefault(row.request.id, set()).add(row.proc_key)
    assert all(len(keys) == 1 for keys in request_procs.values())
    login_requests = {row.request.id for row in rows if row.signal == LOGIN_SUCCEEDED}
    assert len(login_requests) == logins
    # A worker is one process instance: one identity (boot) per pid, forked or not.
    worker_keys = [key for key, info in procs.items() if info.pid in worker_pids]
    assert len(worker_keys) == len({procs[key].pid for key in worker_keys})
    assert site.proc.pid not in serving
    # Loss accounting is per process and adds up to the total.
    assert monitor.state.totals.lost == sum(info.lost for info in procs.values())

    assert site.stop() == 0
