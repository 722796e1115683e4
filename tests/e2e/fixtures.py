"""Fixtures shared by tests/e2e and tests/demo_site: a migrated demo database, servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.monitor import HeadlessMonitor
from tests.e2e.support import DemoServer, copy_db, free_port, run_setup


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once per session; each test gets a copy (migrating takes seconds)."""
    db = tmp_path_factory.mktemp("demo-db") / "template.sqlite3"
    run_setup(db)
    return db


@pytest.fixture
def demo_db(demo_db_template: Path, tmp_path: Path) -> Path:
    return copy_db(demo_db_template, tmp_path / "demo.sqlite3")


@pytest.fixture
def start_site(demo_db: Path, tmp_path: Path) -> Iterator[Callable[..., DemoServer]]:
    """Start demo servers on free ports; every one is stopped at teardown, even on failure."""
    servers: list[DemoServer] = []

    def start(**kwargs) -> DemoServer:
        server = DemoServer(demo_db, tmp_path / f"server-{len(servers)}.log", **kwargs)
        servers.append(server)
        server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def monitor_endpoint() -> str:
    return f"tcp://127.0.0.1:{free_port()}"


@pytest.fixture
def monitor(monitor_endpoint: str) -> Iterator[HeadlessMonitor]:
    """The real listener + monitor core, bound before any site starts."""
    headless = HeadlessMonitor(monitor_endpoint)
    yield headless
    headless.close()
