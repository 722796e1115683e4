"""Timeline axis ticks: clock-friendly steps placed at exact wall-clock multiples."""

from __future__ import annotations

import math
import time

SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
# Below a second, decimal steps; above, the steps a clock or a calendar uses, so a tick
# lands on 18:02:30 or on midnight rather than on "100 s after the first event".
STEPS: list[int] = (
    [m * 10 ** e for e in range(0, 9) for m in (1, 2, 5)]
    + [s * SECOND for s in (1, 2, 5, 10, 15, 30)]
    + [m * MINUTE for m in (1, 2, 5, 10, 15, 30)]
    + [h * HOUR for h in (1, 2, 3, 6, 12)]
    + [d * DAY for d in (1, 2, 7, 14, 30, 91, 365, 730, 1826, 3652, 36524)]
)
MIN_TICK_PX = 90  # labels are ~70 px wide at the axis font


def tick_step(span_ns: float, width_px: int) -> int:
    """The smallest step that keeps ticks at least MIN_TICK_PX apart."""
    for step in STEPS:
        if step * width_px / span_ns >= MIN_TICK_PX:
            return step
    return STEPS[-1]


def _utc_offset_ns(ns: int) -> int:
    return int(time.localtime(ns // SECOND).tm_gmtoff) * SECOND


def ticks(base: int, t0: float, t1: float, width_px: int) -> tuple[int, list[tuple[float, str]]]:
    """(step, [(time relative to ``base``, label)]) for the view window [t0, t1).

    Ticks are computed on absolute integer nanoseconds (``base`` is ~1.8e18, beyond a
    float's exact range) so each label names exactly the instant its tick is drawn at.
    Steps of an hour or more are aligned to local time (midnight, 06:00 ...).
    """
    if t1 <= t0 or width_px <= 0:
        return STEPS[0], []
    step = tick_step(t1 - t0, width_px)
    start = base + math.floor(t0)
    offset = _utc_offset_ns(start) if step >= HOUR else 0
    first = -(-(start + offset) // step) * step - offset  # ceil to a local multiple
    out: list[tuple[float, str]] = []
    t = first
    while t - base < t1 and len(out) < 1000:
        out.append((float(t - base), clock(t, step)))
        t += step
    return step, out


def clock(ns: int, step: float) -> str:
    """Wall-clock label with as much precision as the tick step needs (integer maths)."""
    secs, frac = divmod(int(ns), SECOND)
    if step >= DAY:
        return time.strftime("%Y-%m-%d", time.localtime(secs))
    if step >= MINUTE:
        return time.strftime("%H:%M", time.localtime(secs))
    text = time.strftime("%H:%M:%S", time.localtime(secs))
    if step < SECOND:
        # Milliseconds at least, then as many digits as the step has: ".7865", not ".786500".
        digits = max(3, 10 - len(str(int(step))))  # step 500000 (6 digits) -> 4
        text += f".{frac // 10 ** (9 - digits):0{digits}d}"
    return text
