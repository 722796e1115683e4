"""The time span of the bulk of the traffic, ignoring marks stamped by a mocked clock."""

from __future__ import annotations

import numpy as np

OUTLIER_GAP_FACTOR = 10
MIN_CLUSTER_GAP_NS = 60e9  # gaps shorter than a minute never split the traffic


def bulk_extent(ts: np.ndarray, end: np.ndarray) -> tuple[float, float, int]:
    """(start, end, marks left out) of the bulk of marks starting at ``ts``, ending at ``end``.

    Sorted start times are cut at gaps of over a minute; from the cluster with the
    most marks, neighbours are taken in while the gap to them is at most
    OUTLIER_GAP_FACTOR times the span taken so far (an evening's pauses between
    requests stay in; a dispatch stamped 16 years earlier by a test's frozen clock
    does not).
    """
    s = np.sort(ts)
    if not len(s):
        return 0.0, 0.0, 0
    cuts = np.flatnonzero(np.diff(s) > MIN_CLUSTER_GAP_NS)
    starts = np.concatenate(([0], cuts + 1))
    ends = np.concatenate((cuts + 1, [len(s)]))  # exclusive
    i = j = int(np.argmax(ends - starts))
    while True:
        span = s[ends[j] - 1] - s[starts[i]] + MIN_CLUSTER_GAP_NS
        left = s[starts[i]] - s[ends[i - 1] - 1] if i > 0 else np.inf
        right = s[starts[j + 1]] - s[ends[j] - 1] if j + 1 < len(starts) else np.inf
        if min(left, right) > OUTLIER_GAP_FACTOR * span:
            break
        if left <= right:
            i -= 1
        else:
            j += 1
    lo, hi = int(starts[i]), int(ends[j])
    in_core = (ts >= s[lo]) & (ts <= s[hi - 1])
    return float(s[lo]), float(end[in_core].max()), len(s) - (hi - lo)
