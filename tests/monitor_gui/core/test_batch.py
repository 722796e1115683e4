"""batch._groups: the numpy group-by behind the graph's edge aggregates, against plain Python."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor_gui.core.batch import _groups

rows = st.lists(st.tuples(st.integers(0, 5), st.booleans(), st.integers(0, 2**62),
                          st.integers(0, 2**62), st.booleans()), min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(rows=rows)
def test_groups_match_a_plain_group_by_exactly(rows):
    keys, ran, dur, ts, err = (np.asarray(c) for c in zip(*rows, strict=True))
    expected: dict[int, list[int]] = {}
    for key, r, d, t, e in rows:
        s = expected.setdefault(key, [0, 0, 0, 0, 0, 0])
        s[0] += r
        s[1] += not r
        s[2] += e
        s[3] += d if r else 0
        s[4] = max(s[4], d if r else 0)
        s[5] = max(s[5], t if r else 0)
    uniq, stats = _groups(keys.astype(np.int64), ran.astype(bool), dur.astype(np.int64),
                          ts.astype(np.int64), err.astype(bool))
    # Sums wrap like the int64 columns they come from (2**62 durations, 60 rows).
    wrap = {k: [*s[:3], (s[3] + 2**63) % 2**64 - 2**63, *s[4:]] for k, s in expected.items()}
    assert dict(zip(uniq, stats, strict=True)) == wrap
