"""Interned names: the probe's Interner hands out ids, a monitor's Vocabulary reads them."""

from __future__ import annotations

import threading

import pytest

from django_probe import wire
from django_probe.strings import Interner, Unresolved, Vocabulary


def test_each_name_gets_one_id_and_definitions_cover_them_in_order():
    interner = Interner()
    refs = [interner.ref(n) for n in ["post_save", "auth.User", "post_save", "MainThread"]]
    assert refs == [0, 1, 0, 2]
    assert interner.definitions() == [("S", 0, ["post_save", "auth.User", "MainThread"])]
    assert interner.definitions(2) == [("S", 2, ["MainThread"])]
    assert interner.definitions(3) == []


def test_definitions_are_split_at_the_protocols_item_limit():
    interner = Interner()
    for i in range(wire.MAX_ITEMS + 5):
        interner.ref(f"name-{i}")
    events = interner.definitions()
    assert [(e[1], len(e[2])) for e in events] == [(0, wire.MAX_ITEMS), (wire.MAX_ITEMS, 5)]
    for event in events:
        wire.typed(event)  # each is a valid Strings event


def test_past_the_limit_and_for_non_names_the_string_itself_travels():
    interner = Interner(limit=2)
    assert [interner.ref(n) for n in ["a", "b", "c", "a"]] == [0, 1, "c", 0]
    long = "x" * (wire.MAX_STR + 1)
    assert interner.ref(long) is long and long not in interner.ids


def test_ids_are_unique_across_threads():
    interner = Interner()
    names = [f"n{i % 500}" for i in range(5_000)]
    results: list[list] = [[] for _ in range(4)]

    def work(out: list) -> None:
        out.extend(interner.ref(n) for n in names)

    threads = [threading.Thread(target=work, args=(r,)) for r in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == results[0] for r in results)
    assert sorted(interner.ids.values()) == list(range(500))
    assert [interner.values[i] for i in results[0][:500]] == names[:500]


def test_a_vocabulary_resolves_ids_and_passes_strings_through():
    vocab = Vocabulary()
    vocab.define(0, ["a", "b"])
    assert vocab.column([1, 0, "literal", 1]) == ["b", "a", "literal", "b"]
    assert vocab.get(None) is None
    with pytest.raises(Unresolved):
        vocab.column([0, 2])
    # A column of strings only (a recording's) is itself; an id among them still resolves.
    column = ["x", None, "y"]
    assert vocab.column(column) == column and vocab.column(column) is not column
    assert Vocabulary().column(["x", "y"]) == ["x", "y"]
    assert vocab.column(["x", 0, None]) == ["x", "a", None]
    with pytest.raises(Unresolved):
        Vocabulary().column(["x", 0])


def test_a_gap_waits_for_a_later_snapshot():
    vocab = Vocabulary()
    vocab.define(2, ["c"])  # the definitions of 0 and 1 were lost in transit
    with pytest.raises(Unresolved):
        vocab.get(0)
    assert vocab.get(2) == "c"
    vocab.define(0, ["a", "b", "c"])  # the periodic full snapshot
    assert vocab.column([0, 1, 2]) == ["a", "b", "c"] and vocab.redefined == 0
    vocab.define(0, ["z"])
    assert vocab.get(0) == "z" and vocab.redefined == 1
    with pytest.raises(wire.WireError):
        vocab.define(wire.MAX_STRINGS - 1, ["x", "y"])


def test_resolved_events_have_strings_everywhere_a_name_was_an_id():
    interner = Interner()
    r = interner.ref
    event = wire.typed(("D", 1, 2, None, r("post_save"), r("auth.User"), "send", 10,
                        r("MainThread"), 7, (r("/v.py"), 3, r("view")),
                        ("req", r("POST"), r("/login/")), {},
                        [(r("on_save"), r("app"), r("/app.py"), 9, False, 5, "raised", None,
                          r("ValueError"), "boom")], True, (r("default"), 1)))
    vocab = Vocabulary()
    for _, first, values in interner.definitions():
        vocab.define(first, values)
    d = vocab.resolved(event)
    assert (d.signal, d.sender, d.thread) == ("post_save", "auth.User", "MainThread")
    assert d.site == wire.CallSite("/v.py", 3, "view")
    assert d.request == wire.RequestInfo("req", "POST", "/login/")
    assert d.receivers[0][:3] == ("on_save", "app", "/app.py")
    assert d.receivers[0].exc_type == "ValueError"
    assert d.tx == wire.TxContext("default", 1)
    queued = wire.typed(("O", 1, 2, r("default"), 1, r("send_email"), r("app"), r("/app.py"),
                         4, (r("/v.py"), 5, r("view")), False, "raised", 3, 1,
                         r("KeyError"), "'k'"))
    for _, first, values in interner.definitions(len(vocab.values)):
        vocab.define(first, values)
    o = vocab.resolved(queued)
    assert (o.alias, o.name, o.module, o.file, o.exc_type) == (
        "default", "send_email", "app", "/app.py", "KeyError")
    assert o.site == wire.CallSite("/v.py", 5, "view")
    counts = vocab.resolved(wire.Counts("C", 1, 2, [wire.EmptyCount(0, 1, "send", 4)]))
    assert counts.items == [wire.EmptyCount("post_save", "auth.User", "send", 4)]


def test_definitions_are_split_by_size_too_so_each_fits_a_frame():
    from django_probe.strings import DEFINITION_CHARS

    interner = Interner()
    long = wire.MAX_STR
    for i in range(3 * DEFINITION_CHARS // long):
        interner.ref(f"{i:08d}" + "x" * (long - 8))
    events = interner.definitions()
    assert len(events) >= 3
    assert [e[1] for e in events] == sorted(e[1] for e in events)
    assert sum(len(e[2]) for e in events) == len(interner.values)
    for event in events:
        assert len(wire.pack_event(event)) < wire.MAX_FRAME_BYTES // 8
        wire.typed(event)


def test_after_fork_gives_the_child_a_free_lock():
    interner = Interner()
    interner._lock.acquire()  # as if another thread held it when the process forked
    interner.after_fork()
    assert interner.ref("new") == 0
