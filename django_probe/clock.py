"""The probe's clocks: the real monotonic clock, out of reach of time-mocking libraries.

A user's test that freezes or travels time must behave exactly as without the probe, so
after start the probe never calls a clock such a library replaces: ``time.time``,
``time.time_ns``, ``datetime.now``, ``clock_gettime(CLOCK_REALTIME)``... Wall time is the
monotonic clock plus an offset read once, when this module is imported (the probe's
start): ``wall = anchor_wall + (mono - anchor_mono)``. A step of the system clock after
that is not followed (NTP's slewing is: it slews the monotonic clock too).

The monotonic functions themselves must be out of reach too: freezegun replaces
``time.monotonic``/``perf_counter`` (and their ``_ns`` forms) in the ``time`` module and,
when a freeze starts, every module attribute anywhere in ``sys.modules`` that *is* one of
the real functions (``_now = time.perf_counter_ns`` would be swapped for its fake). So the
probe takes its clocks from a private instance of the ``time`` extension module, never
registered in ``sys.modules``: the same C functions as distinct objects, which neither
freezegun's patching nor its scan recognises, at no cost per call. (time-machine
patches the C functions behind ``time``/``time_ns``/``clock_gettime`` and datetime's
``now``, shared by every instance of the module, but no monotonic clock; the anchor is
read before any travel, or through its escape hatch during one.)
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import time
from collections.abc import Callable
from types import ModuleType


def _private_time_module() -> ModuleType | None:
    """A second instance of the ``time`` module whose functions are not the ones that
    ``sys.modules["time"]`` (and freezegun's list of real clocks) holds, or None."""
    try:
        spec = importlib.machinery.BuiltinImporter.find_spec("time")
        if spec is None or spec.loader is None:
            return None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if module.perf_counter_ns is time.perf_counter_ns:
            return None  # (a single-phase module returns the cached instance)
        return module
    except Exception:
        return None


_private = _private_time_module()
if _private is not None:
    perf_counter_ns: Callable[[], int] = _private.perf_counter_ns
    monotonic: Callable[[], float] = _private.monotonic
    _time_ns: Callable[[], int] = _private.time_ns
else:  # (no such module instance, e.g. another interpreter): wrappers, which freezegun
    # does not recognise either; the functions they call were taken before any freeze.
    def _wrap(function: Callable[[], float | int]) -> Callable[[], float | int]:
        return lambda: function()

    perf_counter_ns = _wrap(time.perf_counter_ns)  # type: ignore[assignment]
    monotonic = _wrap(time.monotonic)
    _time_ns = _wrap(time.time_ns)  # type: ignore[assignment]


def _anchor() -> int:
    """Wall-clock ns minus perf_counter_ns, read once (real time even inside a travel)."""
    machine = sys.modules.get("time_machine")
    hatch = getattr(machine, "escape_hatch", None)
    try:
        travelling = hatch is not None and hatch.is_travelling()
    except Exception:
        travelling = False
    wall = hatch.time.time_ns() if travelling else _time_ns()
    return wall - perf_counter_ns()


# time.time_ns() at perf_counter_ns() == 0: a dispatch that started at monotonic t0 started
# at wall-clock time t0 + WALL_OFFSET_NS.
WALL_OFFSET_NS: int = _anchor()


def wall_ns() -> int:
    """The current wall-clock time in ns, from the monotonic clock (never a mocked clock)."""
    return perf_counter_ns() + WALL_OFFSET_NS
