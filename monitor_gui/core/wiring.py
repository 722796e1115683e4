"""What the graph shows at real scale: senders and receivers grouped by app, folded to fit.

Qt-free. ``build_wiring`` turns the graph's edges (hundreds of senders, thousands of
edges) into the rows of three columns that fit a given height: each app or module is
one group row with its count, an expanded group shows its busiest ``top_n`` members and a
"+N more" row, and the groups that do not fit fold into one "+N more apps" row. Edges
are summed onto the rows their ends are drawn in; the columns are ordered by barycentre
sweeps to keep edges from crossing. The Qt view only turns rows into pixels.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from monitor_gui.core.barycentre import order_columns
from monitor_gui.core.graph import SENDER_TO_SIGNAL, SIGNAL_TO_RECEIVER, Edge, EdgeKey

NODE, GROUP, MORE, FOLD = "node", "group", "more", "fold"  # Row.role
COLUMN_KINDS = ("sender", "signal", "receiver")
_ENDS = {SENDER_TO_SIGNAL: ("sender", "signal"), SIGNAL_TO_RECEIVER: ("signal", "receiver")}


def group_of(kind: str, name: str) -> str:
    """The app or top-level module a sender or receiver belongs to.

    A model sender is "app_label.Model" and an instance "<pkg.mod.Class>": both give the
    first dotted component. ``django.contrib.<app>`` is one Django app of its own, not
    part of "django", because that is how a Django developer thinks of auth or admin.
    """
    bare = name.strip("<>'\" ")
    parts = bare.split(".")
    if kind == "signal" or not bare:
        return bare or name
    if parts[0] == "django" and len(parts) > 2 and parts[1] == "contrib":
        return ".".join(parts[:3])
    return parts[0]


@dataclass(slots=True)
class Row:
    """One box in a column: a node, an app group, its "+N more", or the column's fold."""

    key: str  # unique in the layout, e.g. "sender:auth.User", "sender@auth", "sender+auth"
    kind: str  # the column: "sender" | "signal" | "receiver"
    role: str  # NODE | GROUP | MORE | FOLD
    label: str
    group: str
    members: tuple[str, ...]  # the sender/signal/receiver names drawn in this row
    count: int = 0  # calls under the current filter (all calls when unfiltered)
    total: int = 0  # calls regardless of the filter
    errors: int = 0
    known_only: bool = False  # connected, never fired
    expanded: bool = False  # a GROUP row whose members are shown below it
    indent: int = 0  # members of an expanded group are indented under it


@dataclass(slots=True)
class RowEdge:
    """The sum of the graph edges between two rows."""

    src: str
    dst: str
    kind: str
    count: int = 0
    total: int = 0
    errors: int = 0
    total_ns: int = 0
    max_ns: int = 0
    known: bool = False
    edges: list[EdgeKey] = field(default_factory=list)


@dataclass
class WiringOptions:
    """What the user asked to see: expanded groups, opened folds, the row budget."""

    max_rows: int = 30  # rows per column that fit the view at 100 % zoom
    top_n: int = 5  # members shown one by one in an expanded group
    expanded: set[str] = field(default_factory=set)  # GROUP keys
    collapsed: set[str] = field(default_factory=set)  # GROUP keys closed by the user
    opened: set[str] = field(default_factory=set)  # MORE / FOLD keys shown in full
    signals: frozenset[str] | None = None  # the signal filter (None: all)
    pinned: set[tuple[str, str]] = field(default_factory=set)  # (kind, name) kept visible


@dataclass
class Wiring:
    columns: tuple[list[Row], list[Row], list[Row]]
    edges: list[RowEdge]
    row_of: dict[tuple[str, str], str]  # (kind, name) -> the key of the row drawing it

    def row(self, key: str) -> Row | None:
        for column in self.columns:
            for row in column:
                if row.key == key:
                    return row
        return None


@dataclass(slots=True)
class _Member:
    name: str
    count: int = 0
    total: int = 0
    errors: int = 0
    known_only: bool = True


def _members(edges: Iterable[Edge], counts: Mapping[EdgeKey, int] | None,
             signals: frozenset[str] | None) -> dict[str, dict[str, _Member]]:
    out: dict[str, dict[str, _Member]] = {k: {} for k in COLUMN_KINDS}

    def add(kind: str, name: str, e: Edge, n: int, counted: bool) -> None:
        m = out[kind].get(name) or out[kind].setdefault(name, _Member(name))
        if counted:
            m.count += n
            m.total += e.count
            m.errors += e.errors
        m.known_only &= e.last_ts == 0 and e.count == 0

    for e in edges:
        signal = e.dst if e.kind == SENDER_TO_SIGNAL else e.src
        if signals is not None and signal not in signals:
            continue
        n = e.count if counts is None else counts.get(e.key, 0)
        if e.kind == SENDER_TO_SIGNAL:
            add("sender", e.src, e, n, True)
            add("signal", e.dst, e, n, True)
        else:
            add("signal", e.src, e, n, False)
            add("receiver", e.dst, e, n, True)
    return out


def _fill(row: Row, members: list[_Member]) -> Row:
    row.count = sum(m.count for m in members)
    row.total = sum(m.total for m in members)
    row.errors = sum(m.errors for m in members)
    row.known_only = all(m.known_only for m in members)
    return row


def _rank(m: _Member) -> tuple[bool, int, int, str]:
    return (m.known_only, -m.count, -m.total, m.name)


def _outer_blocks(kind: str, members: dict[str, _Member], opts: WiringOptions
                  ) -> list[list[Row]]:
    """The rows of the senders or receivers column, in blocks kept together when ordering."""
    groups: dict[str, list[_Member]] = defaultdict(list)
    for m in members.values():
        groups[group_of(kind, m.name)].append(m)
    pinned_groups = {group_of(kind, n) for k, n in opts.pinned if k == kind}

    def block(group: str, ms: list[_Member], auto: bool = False) -> list[Row]:
        ms.sort(key=_rank)
        gkey = f"{kind}@{group}"
        if len(ms) == 1:
            m = ms[0]
            return [_fill(Row(f"{kind}:{m.name}", kind, NODE, m.name, group, (m.name,)), ms)]
        expanded = auto or gkey in opts.expanded or group in pinned_groups
        head = _fill(Row(gkey, kind, GROUP, group, group, tuple(m.name for m in ms),
                         expanded=expanded), ms)
        if not expanded:
            return [head]
        more_key = f"{kind}+{group}"
        shown = ms if more_key in opts.opened else ms[:opts.top_n]
        pins = {n for k, n in opts.pinned if k == kind}
        shown = shown + [m for m in ms[len(shown):] if m.name in pins]
        rows = [head] + [_fill(Row(f"{kind}:{m.name}", kind, NODE, m.name, group, (m.name,),
                                   indent=1), [m]) for m in shown]
        rest = [m for m in ms if m not in shown]
        if rest:
            rows.append(_fill(Row(more_key, kind, MORE, f"+{len(rest)} more", group,
                                  tuple(m.name for m in rest), indent=1), rest))
        return rows

    if len(members) <= opts.max_rows:  # a small project: every node fits, no groups needed
        ms = sorted(members.values(), key=_rank)
        return [[_fill(Row(f"{kind}:{m.name}", kind, NODE, m.name, group_of(kind, m.name),
                           (m.name,)), [m])] for m in ms]
    blocks = [block(g, ms) for g, ms in groups.items()]
    # Room left once every app is one row: open the busiest apps that fit, unless the user
    # closed them (a project with a few apps shows its receivers, not just their apps).
    spare = opts.max_rows - sum(map(len, blocks))
    for i in sorted(range(len(blocks)), key=lambda i: (-blocks[i][0].count, blocks[i][0].key)):
        head = blocks[i][0]
        if head.role != GROUP or head.expanded or head.key in opts.collapsed:
            continue
        n = len(head.members)
        cost = min(n, opts.top_n) + (n > opts.top_n)
        if cost <= spare:
            blocks[i] = block(head.group, groups[head.group], auto=True)
            spare -= len(blocks[i]) - 1
    # The busiest groups first; what the user expanded or is looking for comes before them.
    blocks.sort(key=lambda b: (not (b[0].expanded or b[0].group in pinned_groups),
                               b[0].known_only, -b[0].count, -b[0].total, b[0].group))
    return _budget(kind, blocks, opts, "apps")


def _budget(kind: str, blocks: list[list[Row]], opts: WiringOptions, noun: str
            ) -> list[list[Row]]:
    """Keep the blocks that fit ``max_rows``; fold the rest into one "+N more" row."""
    fold_key = f"{kind}+*"
    if fold_key in opts.opened:
        return blocks
    kept, used = [], 0
    for i, b in enumerate(blocks):
        left = len(blocks) - i - 1
        if used + len(b) + (1 if left else 0) > opts.max_rows and kept and not b[0].expanded:
            rest = blocks[i:]
            members = tuple(n for blk in rest for n in blk[0].members)
            fold = Row(fold_key, kind, FOLD, f"+{len(rest)} more {noun}", "", members)
            fold.count = sum(blk[0].count for blk in rest)
            fold.total = sum(blk[0].total for blk in rest)
            fold.errors = sum(blk[0].errors for blk in rest)
            fold.known_only = all(blk[0].known_only for blk in rest)
            kept.append([fold])
            break
        kept.append(b)
        used += len(b)
    return kept


def _signal_blocks(members: dict[str, _Member], opts: WiringOptions) -> list[list[Row]]:
    ms = sorted(members.values(), key=_rank)
    blocks = [[_fill(Row(f"signal:{m.name}", "signal", NODE, m.name, m.name, (m.name,)), [m])]
              for m in ms]
    pinned = {n for k, n in opts.pinned if k == "signal"}
    blocks.sort(key=lambda b: b[0].label not in pinned)  # stable: keeps the busiest order
    return _budget("signal", blocks, opts, "signals")


def _row_edges(edges: Iterable[Edge], counts: Mapping[EdgeKey, int] | None,
               row_of: dict[tuple[str, str], str], signals: frozenset[str] | None
               ) -> list[RowEdge]:
    # Runs on every graph update (thousands of edges): the per-edge work is kept to dict
    # lookups and additions (no str.split, no Edge.key property, no max()).
    out: dict[tuple[str, str], RowEdge] = {}
    for e in edges:
        kind = e.kind
        src_kind, dst_kind = _ENDS.get(kind) or kind.split("->")
        a, b = row_of.get((src_kind, e.src)), row_of.get((dst_kind, e.dst))
        if a is None or b is None:
            continue
        re = out.get((a, b))
        if re is None:
            re = out[(a, b)] = RowEdge(a, b, kind)
        key = (kind, e.src, e.dst)
        re.count += e.count if counts is None else counts.get(key, 0)
        re.total += e.count
        re.errors += e.errors
        re.total_ns += e.total_ns
        if e.max_ns > re.max_ns:
            re.max_ns = e.max_ns
        re.known |= e.known
        re.edges.append(key)
    return list(out.values())


def build_wiring(edges: list[Edge], opts: WiringOptions,
                 counts: Mapping[EdgeKey, int] | None = None,
                 known_signals: Iterable[str] = ()) -> Wiring:
    """The three columns of rows and the edges between them (see the module docstring).

    ``counts`` are the edges' calls under the current filter (None: unfiltered); a row's
    ``count`` is then the filtered figure and ``total`` the overall one.
    """
    members = _members(edges, counts, opts.signals)
    for name in known_signals:
        if opts.signals is None or name in opts.signals:
            members["signal"].setdefault(name, _Member(name))
    blocks = [_outer_blocks("sender", members["sender"], opts),
              _signal_blocks(members["signal"], opts),
              _outer_blocks("receiver", members["receiver"], opts)]
    row_of: dict[tuple[str, str], str] = {}
    for column in blocks:
        for b in column:
            for r in b:
                if r.role == GROUP and r.expanded:
                    continue  # its members are drawn in their own rows
                for name in r.members:
                    row_of[(r.kind, name)] = r.key
    row_edges = _row_edges(edges, counts, row_of, opts.signals)
    order_columns(blocks, row_edges)
    columns = tuple([r for b in column for r in b] for column in blocks)
    return Wiring(columns, row_edges, row_of)  # type: ignore[arg-type]
