"""The demo-site tests drive real server subprocesses, with the end-to-end fixtures."""

from tests.e2e.fixtures import demo_db, demo_db_template, start_site  # noqa: F401
