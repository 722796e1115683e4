"""End-to-end fixtures: real demo-server subprocesses, real sockets, a real monitor core."""

from tests.e2e.fixtures import demo_db, demo_db_template, start_site  # noqa: F401
