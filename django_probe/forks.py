"""The probe's after-fork hooks, run in a forked child however it was forked.

``os.fork()`` runs them through ``os.register_at_fork``. A process forked in C runs no
Python hooks unless its forker calls ``PyOS_AfterFork_Child()`` (uWSGI forks its workers
from a preloaded master and does so only with ``py-call-osafterfork`` or
``py-call-uwsgi-fork-hooks``): there the publisher notices the changed pid the next time
it wakes its sender thread (``Publisher._wake_up``) and runs them then. Either way they
run once per child: ``noticed()`` is a no-op in the process that registered them.
"""

from __future__ import annotations

import os
from collections.abc import Callable

_hooks: list[Callable[[], None]] = []
_pid = os.getpid()  # the process the hooks have last run for (or were registered in)


def register(hook: Callable[[], None]) -> None:
    """Run ``hook`` in every forked child (in registration order)."""
    _hooks.append(hook)


def _run() -> None:
    global _pid
    _pid = os.getpid()
    for hook in list(_hooks):
        try:
            hook()
        except Exception:  # a fork hook must never break the child
            pass


def noticed() -> bool:
    """In a child whose fork ran no hooks, run them now; True if it did."""
    if os.getpid() == _pid:
        return False
    _run()
    return True


os.register_at_fork(after_in_child=_run)
