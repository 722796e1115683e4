"""Live control's monitor core: the rule set, its message, who applies it, muted counts."""

from __future__ import annotations

import pytest

from django_probe import wire
from monitor_gui.core.control import LiveControl, describe, group_mark, node_marks
from monitor_gui.core.state import MonitorState
from tests.monitor_gui.core.events import PROC, Interning

POST_SAVE = "django.db.models.signals.post_save"
NOW = 1_800_000_000_000_000_000


def test_rules_are_state_keyed_by_signal_and_sender():
    live = LiveControl()
    live.set(POST_SAVE, None, 0)
    live.set(None, "auth.User", 10)
    version = live.version
    live.set(POST_SAVE, None, 0)  # the same rule again: no change
    assert live.version == version
    live.set(POST_SAVE, None, 5)  # replaces
    assert live.rule_for(POST_SAVE, None) == wire.Rule(POST_SAVE, None, 5)
    assert len(live) == 2 and live.rules == wire.canonical_rules(live.rules)
    message = wire.decode_rules(live.message(NOW))
    assert message.rules == live.rules and message.digest == live.digest != ""
    assert message.lease == live.lease_ms and message.ts == NOW
    assert live.remove(None, "auth.User") and not live.remove(None, "auth.User")
    live.clear()
    assert live.digest == "" and wire.decode_rules(live.message(NOW)).rules == []


@pytest.mark.parametrize("signal,sender,every", [(None, None, 0), ("s", None, 1),
                                                 ("s", None, -1),
                                                 ("s", None, wire.MAX_SAMPLE + 1)])
def test_rules_the_probes_would_refuse_are_refused_here(signal, sender, every):
    with pytest.raises(ValueError):
        LiveControl().set(signal, sender, every)


def test_at_most_max_rules():
    live = LiveControl()
    for i in range(wire.MAX_RULES):
        live.set(f"s{i}", None, 0)
    with pytest.raises(ValueError):
        live.set("one.more", None, 0)
    assert len(wire.decode_rules(live.message(NOW)).rules) == wire.MAX_RULES


def test_describe():
    assert describe(wire.Rule(POST_SAVE, None, 0)) == f"mute {POST_SAVE}"
    assert describe(wire.Rule(None, "auth.User", 0)) == "mute everything from auth.User"
    assert describe(wire.Rule(POST_SAVE, "auth.User", 1000)) == \
        f"sample 1 in 1,000 of {POST_SAVE} from auth.User"


def beat(rules: str = "", muted: int = 0) -> wire.Heartbeat:
    return wire.Heartbeat("H", 1, 0, 0, 0, 0, 0, 10, rules, muted)


def hello(control: str = "tcp://127.0.0.1:5600") -> wire.Hello:
    return wire.Hello("I", 1, {"control": control})


def test_coverage_counts_live_processes_that_report_the_digest():
    live = LiveControl()
    state = MonitorState(capacity=100)
    live.set(POST_SAVE, None, 0)
    procs = [wire.Proc(i, "h", f"b{i}") for i in range(4)]
    # 0 applies the rules, 1 applies none yet, 2 has control off, 3 was silent too long.
    for proc, events in zip(procs, [[hello(), beat(live.digest, 3)], [hello(), beat()],
                                    [hello(""), beat()], [hello(), beat(live.digest)]],
                            strict=True):
        state.apply([wire.encode_frame(proc, 0, events)])
    stale = state.processes[("h", 3, "b3")]
    stale.last_seen -= 10_000_000_000
    now = max(p.last_seen for p in state.processes.values())
    coverage = live.coverage(state.processes.values(), now)
    assert (coverage.applying, coverage.live, coverage.rules) == (1, 2, 1)
    assert coverage.text() == "1 of 2 processes apply 1 rule · waiting for h:1"
    assert not coverage.complete
    assert state.process_table.lying == []  # a digest is no counter
    live.clear()
    assert live.coverage(state.processes.values(), now).text() == \
        "no rules · 1 of 2 processes clear"
    many = type(coverage)(0, 5, 1, ("a", "b", "c", "d", "e"))
    assert many.text().endswith("waiting for a, b, c and 2 more")


def test_muted_events_are_counted_per_signal_and_attributed_to_the_rule_that_applies():
    state = MonitorState(capacity=100)
    stream = Interning(PROC)
    muted = wire.Muted("M", 5, 1000, [
        wire.MutedCount(POST_SAVE, "auth.User", "send", 4, 1),
        wire.MutedCount(POST_SAVE, "blog.Post", "send_robust", 2, 0),
        wire.MutedCount("x.other", "auth.User", "send", 3, 0)])
    state.apply(stream.frames([muted, muted]))  # names as ids, as the probe sends them
    assert state.muted_counts[(POST_SAVE, "auth.User", "send")] == [8, 2]
    assert state.signals[POST_SAVE].muted == 12 and state.signals["x.other"].muted == 6
    live = LiveControl()
    live.set(POST_SAVE, None, 0)
    live.set(POST_SAVE, "auth.User", 0)  # the pair's own rule wins for its dispatches
    live.set(None, "auth.User", 0)
    assert live.muted_per_rule(state.muted_counts) == {
        (POST_SAVE, "auth.User"): 8, (POST_SAVE, None): 4, (None, "auth.User"): 6}
    state.clear()
    assert state.muted_counts == {}


def test_node_marks_name_each_sender_and_signal_the_rules_cover():
    marks = node_marks([wire.Rule("x.post_save", None, 0), wire.Rule(None, "auth.User", 4),
                        wire.Rule("x.pre_save", "blog.Post", 0)])
    assert marks[("signal", "x.post_save")].badge == "muted"
    assert marks[("sender", "auth.User")].badge == "1 in 4"
    assert marks[("signal", "x.pre_save")].badge == "partly"
    assert marks[("sender", "blog.Post")].rules == ("mute pre_save from blog.Post",)
    assert node_marks([]) == {}


def test_a_group_row_counts_the_members_rules_cover():
    marks = node_marks([wire.Rule(None, "blog.Post", 0), wire.Rule(None, "blog.Tag", 0),
                        wire.Rule(None, "shop.Order", 3), wire.Rule("x.pre_save", "shop.Cart", 0)])
    blog = group_mark(marks, "sender", ["blog.Post", "blog.Tag", "blog.Comment"])
    assert blog.badge == "2 muted"
    assert blog.rules == ("mute everything from blog.Post", "mute everything from blog.Tag")
    assert group_mark(marks, "sender", ["shop.Order"]).badge == "1 sampled"
    assert group_mark(marks, "sender", ["shop.Order", "shop.Cart"]).badge == "2 with rules"
    assert group_mark(marks, "sender", ["blog.Comment"]) is None
    assert group_mark(marks, "signal", ["blog.Post"]) is None  # a sender's rule, not a signal's
    assert group_mark({}, "sender", ["blog.Post"]) is None
