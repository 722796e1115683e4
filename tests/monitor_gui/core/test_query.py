"""MonitorState.select: every filter criterion, alone and combined, over a wrapped ring."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from django_probe import wire
from monitor_gui.core.query import Filter
from monitor_gui.core.state import MonitorState
from tests.monitor_gui.core.events import OTHER, PROC, dispatch, frame, receiver

BASE = 1_700_000_000_000_000_000


@pytest.fixture
def state() -> MonitorState:
    """Ten dispatches with known properties, in a ring that has wrapped (capacity 8)."""
    state = MonitorState(capacity=8)
    events = []
    for i in range(10):
        events.append(dispatch(
            i, ts=BASE + i * 10**9,
            signal="app.signals.a" if i % 2 else "app.signals.b",
            sender="shop.Order" if i < 5 else "auth.User",
            dur=(200 if i == 7 else 1) * 1_000_000,
            receivers=[receiver("audit", "logs", outcome=wire.RAISED)] if i == 6 else None,
            raised=i == 9, request=f"req-{i // 3}",
            kwargs={"instance": f"<Order: #{i}>", "note": "Needle here" if i == 8 else "-"},
        ))
    state.apply([frame(events[:6]), frame(events[6:], seq=6, proc=OTHER)])
    assert (state.store.first, state.store.end) == (2, 10)
    return state


def rows(state: MonitorState, **kw) -> list[int]:
    result = state.select(Filter(**kw))
    assert result.dtype == np.int64
    return result.tolist()


def test_no_filter_returns_every_live_row(state):
    assert rows(state) == list(range(2, 10))
    assert Filter().is_empty and not Filter(text="x").is_empty


def test_by_signal(state):
    assert rows(state, signals=frozenset({"app.signals.a"})) == [3, 5, 7, 9]
    assert rows(state, signals=frozenset({"app.signals.a", "app.signals.b"})) == list(range(2, 10))
    assert rows(state, signals=frozenset({"never.sent"})) == []


def test_by_sender(state):
    assert rows(state, senders=frozenset({"shop.Order"})) == [2, 3, 4]


def test_by_receiver(state):
    assert rows(state, receivers=frozenset({"logs.audit"})) == [6]
    assert rows(state, receivers=frozenset({"accounts.receivers.create_profile"})) == [
        2, 3, 4, 5, 7, 8, 9]


def test_by_process_key_or_label(state):
    assert rows(state, processes=frozenset({("web2", 202, "boot-b")})) == [6, 7, 8, 9]
    assert rows(state, processes=frozenset({"web1:101"})) == [2, 3, 4, 5]
    assert rows(state, processes=frozenset({"nobody:1"})) == []


def test_by_request(state):
    assert rows(state, request="req-1") == [3, 4, 5]
    assert rows(state, request="req-404") == []


def test_by_outcome(state):
    assert rows(state, outcome="raised") == [6, 9]  # a receiver raised / the dispatch raised
    assert rows(state, outcome="slow", slow_ms=100) == [7]
    assert rows(state, outcome="slow", slow_ms=0.5) == list(range(2, 10))


def test_by_text_over_names_and_kwargs(state):
    assert rows(state, text="NEEDLE") == [8]
    assert rows(state, text="instance=<order: #3") == [3]
    assert rows(state, text="shop.ord") == [2, 3, 4]  # sender name
    assert rows(state, text="logs.aud") == [6]  # receiver name
    assert rows(state, text="signals.a") == [3, 5, 7, 9]


def test_by_time_window(state):
    assert rows(state, t0=BASE + 4 * 10**9, t1=BASE + 7 * 10**9) == [4, 5, 6]


def test_combined(state):
    assert rows(state, signals=frozenset({"app.signals.a"}), senders=frozenset({"auth.User"}),
                t0=BASE + 6 * 10**9, outcome="raised") == [9]


def test_result_indexes_columns_without_copying_the_store(state):
    result = state.select(Filter(signals=frozenset({"app.signals.b"})))
    ids = state.store.column("did", result)
    assert ids.tolist() == [2, 4, 6, 8]
    ring = state.store.dispatches
    assert all(not np.shares_memory(result, col) for col in ring.columns.values()
               if col.dtype != object)


def test_select_on_empty_state():
    assert MonitorState(capacity=4).select(Filter(text="x")).tolist() == []


def test_evicted_receiver_rows_never_match():
    state = MonitorState(capacity=2, receiver_capacity=2)
    state.apply([frame([dispatch(1, receivers=[receiver("old", "m")]), dispatch(2), dispatch(3)],
                       proc=PROC)])
    assert rows(state, receivers=frozenset({"m.old"})) == []


@pytest.mark.parametrize("since", [0, 2, 5, 9, 10, 12])
@pytest.mark.parametrize("kw", [{}, {"text": "needle"}, {"text": "order"},
                                {"receivers": frozenset({"logs.audit"})},
                                {"signals": frozenset({"app.signals.a"}), "outcome": "raised"}])
def test_since_keeps_only_rows_from_there_on(state, kw, since):
    every = rows(state, **kw)
    assert state.select(Filter(**kw), since=since).tolist() == [r for r in every if r >= since]


def test_case_to_ascii_lists_every_char_whose_lowercase_has_ascii():
    from monitor_gui.core.query import CASE_TO_ASCII

    found = {"".join(x for x in chr(c).lower() if ord(x) < 128).encode(): chr(c).encode()
             for c in range(128, 0x110000) if any(ord(x) < 128 for x in chr(c).lower())}
    assert found == CASE_TO_ASCII


KW_TEXT = st.text(alphabet="abcdefAK=é É\u212a\u0130i#:<>\x1f", max_size=6)


@settings(max_examples=200, deadline=None)
@given(kwargs=st.lists(st.dictionaries(KW_TEXT, KW_TEXT, max_size=3), min_size=1, max_size=30),
       data=st.data(), step=st.integers(1, 3))
def test_kwargs_text_search_agrees_with_the_plain_definition(kwargs, data, step):
    from monitor_gui.core.query import _kwargs_hits

    def text(k):
        return " ".join(f"{a}={b}" for a, b in k.items()).lower()

    # Two frames (two blocks), in a ring that may have evicted the first rows.
    state = MonitorState(capacity=data.draw(st.integers(max(1, len(kwargs) - 12), 64)))
    half = len(kwargs) // 2
    state.apply([frame([dispatch(i, kwargs=k) for i, k in enumerate(kwargs[:half])]),
                 frame([dispatch(i + half, kwargs=k) for i, k in enumerate(kwargs[half:])],
                       seq=half)])
    # Mostly a piece of some row's text (selective), sometimes anything.
    some = text(data.draw(st.sampled_from(kwargs)))
    start = data.draw(st.integers(0, len(some)))
    needle = data.draw(st.one_of(st.just(some[start:start + data.draw(st.integers(1, 5))]),
                                 KW_TEXT)).lower()
    if not needle:
        return
    every = np.arange(state.store.first, state.store.end)[::step]  # all rows, or a subset
    assert _kwargs_hits(state.store, every, needle) == [needle in text(kwargs[i]) for i in every]


def test_kwargs_text_search_over_blocks_and_row_subsets():
    from monitor_gui.core.query import _kwargs_hits

    state = MonitorState(capacity=100)
    kwargs = [{"instance": f"<Order: #{i}>", "by": "\u212aelvin" if i == 33 else "x"}
              for i in range(60)]
    state.apply([frame([dispatch(i, kwargs=k) for i, k in enumerate(kwargs[:40])]),
                 frame([dispatch(i + 40, kwargs=k) for i, k in enumerate(kwargs[40:])], seq=40)])
    assert rows(state, text="#17>") == [17]
    assert rows(state, text="order: #1") == [1, *range(10, 20)]
    assert rows(state, text="by=kel") == [33]  # KELVIN SIGN lowers to "k"
    assert rows(state, text="x instance") == []  # "instance=... by=x": items in their order
    assert rows(state, text="#5> by=x") == [5]
    odd = np.arange(1, 60, 2)
    assert _kwargs_hits(state.store, odd, "#17>") == [i == 17 for i in odd.tolist()]
    assert _kwargs_hits(state.store, odd, "#18>") == [False] * len(odd)
