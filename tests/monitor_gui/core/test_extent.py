"""core.extent: the bulk of the traffic, without the marks a mocked clock stamped years away."""

from __future__ import annotations

import numpy as np

from monitor_gui.core.extent import MIN_CLUSTER_GAP_NS, bulk_extent

S = 1e9
YEAR = 365 * 86400 * S


def test_far_off_marks_are_left_out_and_counted():
    run = np.arange(0, 100 * S, S)  # a 100 s run, one dispatch a second
    ts = np.concatenate((run, [-16 * YEAR, 3 * YEAR]))
    end = ts + 0.5 * S
    assert bulk_extent(ts, end) == (0.0, 99.5 * S, 2)


def test_pauses_between_bursts_stay_in():
    # bursts an hour apart over an evening: each gap is small beside the span so far
    ts = np.concatenate([np.arange(h * 3600 * S, h * 3600 * S + 600 * S, S) for h in range(5)])
    start, stop, left_out = bulk_extent(ts, ts + 1)
    assert (start, stop, left_out) == (0.0, float(ts[-1] + 1), 0)


def test_empty_and_single():
    assert bulk_extent(np.zeros(0), np.zeros(0)) == (0.0, 0.0, 0)
    assert bulk_extent(np.asarray([5.0]), np.asarray([7.0])) == (5.0, 7.0, 0)
    assert MIN_CLUSTER_GAP_NS == 60 * S
