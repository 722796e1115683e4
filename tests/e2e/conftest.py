"""End-to-end fixtures: real demo-server subprocesses, real sockets, a real monitor core."""

from tests.e2e.fixtures import (  # noqa: F401
    demo_db,
    demo_db_template,
    monitor,
    monitor_endpoint,
    start_site,
)
