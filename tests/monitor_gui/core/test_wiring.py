"""The graph's rows at real scale: app groups, "+N more", the fold, ordering and focus."""

from __future__ import annotations

from collections import Counter

from monitor_gui.core.cascade import cascade_links, neighbourhood
from monitor_gui.core.graph import SENDER_TO_SIGNAL, SIGNAL_TO_RECEIVER, Edge
from monitor_gui.core.wiring import FOLD, GROUP, MORE, NODE, WiringOptions, build_wiring, group_of

POST_SAVE = "django.db.models.signals.post_save"


def test_group_of_uses_the_app_label_or_the_top_level_module():
    assert group_of("sender", "auth.User") == "auth"
    assert group_of("sender", "<django.template.base.Template>") == "django"
    assert group_of("sender", "django.core.handlers.wsgi.WSGIHandler") == "django"
    assert group_of("sender", "<django.contrib.auth.apps.AuthConfig>") == "django.contrib.auth"
    assert group_of("receiver", "auditlog.receivers.log_create") == "auditlog"
    assert group_of("receiver", "django.contrib.auth.models.update_last_login") \
        == "django.contrib.auth"
    assert group_of("sender", "None") == "None"


def _wiring(state, **options):
    return build_wiring(state.graph.edges(), WiringOptions(**options),
                        known_signals=state.graph.known_signals)


def test_real_traffic_fits_the_row_budget_in_every_column(real_state):
    w = _wiring(real_state, max_rows=24)
    assert all(len(column) <= 24 for column in w.columns)
    senders = w.columns[0]
    # 281 senders: grouped by app, the least busy apps folded into one row.
    assert any(r.role == GROUP for r in senders)
    fold = [r for r in senders if r.role == FOLD]
    assert len(fold) == 1 and fold[0] is senders[-1]
    # Every sender is drawn somewhere, exactly once, and the counts add up.
    drawn = Counter(n for r in senders for n in r.members)
    all_senders = {e.src for e in real_state.graph.edges() if e.kind == SENDER_TO_SIGNAL}
    assert set(drawn) == all_senders and max(drawn.values()) == 1
    assert sum(r.count for r in senders) == sum(
        e.count for e in real_state.graph.edges() if e.kind == SENDER_TO_SIGNAL)


def test_a_group_expands_to_its_busiest_members_and_a_more_row(real_state):
    collapsed = _wiring(real_state, max_rows=24)
    auth = collapsed.row("sender@auth")
    assert auth is not None and auth.role == GROUP and not auth.expanded
    w = _wiring(real_state, max_rows=24, top_n=3, expanded={"sender@auth"})
    rows = w.columns[0]
    i = next(i for i, r in enumerate(rows) if r.key == "sender@auth")
    block = rows[i:i + 5]
    assert block[0].expanded and [r.role for r in block] == [GROUP, NODE, NODE, NODE, MORE]
    counts = sorted((e.count for e in real_state.graph.edges()
                     if e.kind == SENDER_TO_SIGNAL and e.src.startswith("auth.")), reverse=True)
    members = Counter()
    for e in real_state.graph.edges():
        if e.kind == SENDER_TO_SIGNAL and group_of("sender", e.src) == "auth":
            members[e.src] += e.count
    top3 = [name for name, _ in members.most_common(3)]
    assert sorted(r.label for r in block[1:4]) == sorted(top3)
    assert block[4].label == f"+{len(members) - 3} more"
    assert block[4].count == sum(members.values()) - sum(members[n] for n in top3)
    assert counts  # auth sends
    # Collapsing again gives the single group row back.
    again = _wiring(real_state, max_rows=24, top_n=3)
    assert again.row("sender@auth").role == GROUP and not again.row("sender@auth").expanded


def test_opening_the_fold_shows_every_group(real_state):
    w = _wiring(real_state, max_rows=24, opened={"sender+*"})
    assert not any(r.role == FOLD for r in w.columns[0])
    groups = {group_of("sender", e.src) for e in real_state.graph.edges()
              if e.kind == SENDER_TO_SIGNAL}
    assert {r.group for r in w.columns[0]} == groups


def test_edges_are_summed_onto_the_rows_that_draw_their_ends(real_state):
    w = _wiring(real_state, max_rows=24)
    total = sum(e.count for e in w.edges if e.kind == SIGNAL_TO_RECEIVER)
    assert total == sum(e.count for e in real_state.graph.edges() if e.kind == SIGNAL_TO_RECEIVER)
    keys = {r.key for c in w.columns for r in c}
    assert all(e.src in keys and e.dst in keys for e in w.edges)


def _crossings(w) -> int:
    pos = {r.key: i for c in w.columns for i, r in enumerate(c)}
    crossings = 0
    for kind in (SENDER_TO_SIGNAL, SIGNAL_TO_RECEIVER):
        es = [(pos[e.src], pos[e.dst]) for e in w.edges if e.kind == kind]
        crossings += sum(1 for i, (a, b) in enumerate(es) for c, d in es[i + 1:]
                         if (a - c) * (b - d) < 0)
    return crossings


def test_barycentre_ordering_crosses_fewer_edges_than_alphabetical(real_state, monkeypatch):
    ordered = _wiring(real_state, max_rows=24)
    import monitor_gui.core.wiring as wiring

    monkeypatch.setattr(wiring, "order_columns", lambda blocks, edges: None)
    unordered = _wiring(real_state, max_rows=24)
    assert _crossings(ordered) < _crossings(unordered)


def test_a_small_project_shows_every_node_without_groups():
    edges = [Edge(SENDER_TO_SIGNAL, "auth.User", POST_SAVE, count=3, last_ts=1),
             Edge(SENDER_TO_SIGNAL, "auth.Group", POST_SAVE, count=1, last_ts=1),
             Edge(SIGNAL_TO_RECEIVER, POST_SAVE, "accounts.receivers.create_profile",
                  count=4, last_ts=1)]
    w = build_wiring(edges, WiringOptions(max_rows=20))
    assert [r.role for c in w.columns for r in c] == [NODE] * 4


def test_filtered_counts_and_totals():
    edges = [Edge(SENDER_TO_SIGNAL, "auth.User", POST_SAVE, count=10, last_ts=1),
             Edge(SENDER_TO_SIGNAL, "auth.Group", POST_SAVE, count=5, last_ts=1)]
    counts = {(SENDER_TO_SIGNAL, "auth.User", POST_SAVE): 2}
    w = build_wiring(edges, WiringOptions(max_rows=20), counts=counts)
    user = w.row("sender:auth.User")
    assert (user.count, user.total) == (2, 10)
    assert w.row(f"signal:{POST_SAVE}").count == 2
    assert w.row("sender:auth.Group").count == 0


def test_pinning_a_member_expands_its_group_and_shows_it(real_state):
    quiet = "auth.NewPermission"  # one call: never among the busiest of auth
    w = _wiring(real_state, max_rows=24, top_n=2, pinned={("sender", quiet)})
    row = w.row(f"sender:{quiet}")
    assert row is not None and row.role == NODE
    assert w.row_of[("sender", quiet)] == row.key


def test_focus_on_post_save_follows_the_cascade(real_state):
    links = cascade_links(real_state)
    # auditlog's log_create receiver of post_save sends auditlog's pre_log/post_log.
    assert ("test_app.SimpleModel", "auditlog.signals.pre_log") in \
        links[(POST_SAVE, "auditlog.receivers.log_create")]
    nodes, edges = neighbourhood(real_state.graph.edges(), links, "signal", POST_SAVE)
    assert ("receiver", "auditlog.receivers.log_create") in nodes
    assert ("signal", "auditlog.signals.pre_log") in nodes  # the cascade...
    assert ("receiver", "auditlog.context.partial(_set_extra_data)") in nodes  # ...followed on
    assert ("signal", "django.core.signals.request_started") not in nodes
    assert ("sender", "django.test.client.ClientHandler") not in nodes
    assert (SIGNAL_TO_RECEIVER, POST_SAVE, "auditlog.receivers.log_create") in edges


def test_focus_on_a_receiver_goes_upstream_to_its_senders():
    edges = [Edge(SENDER_TO_SIGNAL, "auth.User", POST_SAVE, count=1, last_ts=1),
             Edge(SENDER_TO_SIGNAL, "blog.Post", "blog.signals.published", count=1, last_ts=1),
             Edge(SIGNAL_TO_RECEIVER, POST_SAVE, "a.create_profile", count=1, last_ts=1),
             Edge(SIGNAL_TO_RECEIVER, POST_SAVE, "a.other", count=1, last_ts=1),
             Edge(SIGNAL_TO_RECEIVER, "blog.signals.published", "a.notify", count=1, last_ts=1)]
    nodes, _ = neighbourhood(edges, {}, "receiver", "a.create_profile")
    assert nodes == {("receiver", "a.create_profile"), ("signal", POST_SAVE),
                     ("sender", "auth.User")}


def _demo_like_edges() -> list[Edge]:
    """A demo-sized project: 28 receivers in 4 apps, more than a 20-row column holds."""
    edges = [Edge(SENDER_TO_SIGNAL, "auth.User", POST_SAVE, count=50, last_ts=1)]
    apps = {"demo_site": 10, "django": 11, "django.contrib.auth": 3, "tests": 4}
    for app, n in apps.items():
        for i in range(n):
            edges.append(Edge(SIGNAL_TO_RECEIVER, POST_SAVE, f"{app}.receivers.r{i}",
                              count=100 - i, last_ts=1))
    return edges


def test_room_left_opens_the_busiest_apps_unless_the_user_closed_them():
    edges = _demo_like_edges()
    w = build_wiring(edges, WiringOptions(max_rows=20, top_n=5))
    receivers = w.columns[2]
    assert len(receivers) <= 20
    opened = [r for r in receivers if r.role == GROUP and r.expanded]
    assert opened and sum(1 for r in receivers if r.role == NODE) >= 10
    assert all(r.role != GROUP or r.expanded or len(r.members) > 1 for r in receivers)
    # A group the user closed stays closed; the room goes to another.
    closed = opened[0].key
    again = build_wiring(edges, WiringOptions(max_rows=20, top_n=5, collapsed={closed}))
    assert not again.row(closed).expanded
    assert sum(1 for r in again.columns[2] if r.role == GROUP and r.expanded) >= 1
    # No room: nothing opens by itself.
    tight = build_wiring(edges, WiringOptions(max_rows=5, top_n=5))
    assert not any(r.expanded for r in tight.columns[2])


def test_the_cascade_names_the_receiver_whose_time_slice_holds_each_child():
    """Receivers run one after the other: a child that starts inside the second one's slice
    of its parent's time was sent by the second one (and past the end: by the last)."""
    from monitor_gui.core.state import MonitorState
    from tests.monitor_gui.core.events import dispatch, frame, receiver

    t0 = 1_700_000_000_000_000_000
    calls = [receiver(name, "app.receivers", dur) for name, dur in
             (("first", 10_000), ("second", 20_000), ("third", 30_000))]
    events = [dispatch(2, ts=t0 + 15_000, parent=1, signal="app.signals.from_second",
                       sender="app.A"),
              dispatch(3, ts=t0 + 45_000, parent=1, signal="app.signals.from_third",
                       sender="app.B"),
              dispatch(4, ts=t0 + 5_000, parent=1, signal="app.signals.from_first",
                       sender="app.C"),
              dispatch(5, ts=t0 + 90_000, parent=1, signal="app.signals.late", sender="app.D"),
              dispatch(1, ts=t0, receivers=calls, dur=60_000)]
    state = MonitorState(capacity=100)
    state.apply([frame(events)])
    links = cascade_links(state)
    assert links == {
        (POST_SAVE, "app.receivers.first"): {("app.C", "app.signals.from_first")},
        (POST_SAVE, "app.receivers.second"): {("app.A", "app.signals.from_second")},
        (POST_SAVE, "app.receivers.third"): {("app.B", "app.signals.from_third"),
                                             ("app.D", "app.signals.late")},
    }
