"""Live control's monitor-side state: the rule set, its control message, who applies it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django_probe import wire
from monitor_gui.core.processes import ProcessInfo

LEASE_MS = 10_000  # probes drop the rules when no message came for this long
RESEND_S = 2.0  # the rule set goes again this often (a probe may have missed it)
# A process whose latest heartbeat is older than this is not counted either way (it may
# have exited): heartbeats come every second.
STALE_NS = 5_000_000_000


@dataclass(frozen=True)
class Coverage:
    """How many live processes report applying the monitor's current rules."""

    applying: int
    live: int
    rules: int
    waiting: tuple[str, ...] = ()  # labels of live processes not applying them (yet)

    @property
    def complete(self) -> bool:
        return self.applying == self.live

    def text(self) -> str:
        rules = f"{self.rules} rule{'s' if self.rules != 1 else ''}"
        if not self.live:
            return f"{rules}, no process listening to control"
        if not self.rules:
            return f"no rules · {self.applying} of {self.live} processes clear"
        text = f"{self.applying} of {self.live} processes apply {rules}"
        if self.waiting:
            more = len(self.waiting) - 3
            text += f" · waiting for {', '.join(self.waiting[:3])}" + (
                f" and {more} more" if more > 0 else "")
        return text


def describe(rule: wire.Rule, short: bool = False) -> str:
    """A rule in words: "mute post_save from auth.User", "sample 1 in 10 of post_init"
    (``short``: a signal by the last part of its dotted name)."""
    signal = rule.signal.rsplit(".", 1)[-1] if short and rule.signal else rule.signal
    what = " from ".join(x for x in (signal, rule.sender) if x is not None)
    if rule.signal is None:
        what = f"everything from {rule.sender}"
    return f"mute {what}" if rule.every == 0 else f"sample 1 in {rule.every:,} of {what}"


@dataclass(frozen=True)
class NodeMark:
    """What the graph shows on a sender or signal that rules cover: a short badge
    ("muted", "1 in 4", "partly": only some of its pairs) and the rules in words."""

    badge: str
    rules: tuple[str, ...]


def node_marks(rules: Iterable[wire.Rule]) -> dict[tuple[str, str], NodeMark]:
    """The graph's marks, keyed by (kind, name) as its nodes are: a signal's or sender's
    own rule gives "muted" / "1 in N"; rules for (signal, sender) pairs only, "partly"."""
    own: dict[tuple[str, str], str] = {}
    said: dict[tuple[str, str], list[str]] = {}
    for rule in rules:
        nodes = [("signal", rule.signal), ("sender", rule.sender)]
        for kind, name in nodes:
            if name is None:
                continue
            said.setdefault((kind, name), []).append(describe(rule, short=True))
            if None in (rule.signal, rule.sender):
                own[(kind, name)] = "muted" if rule.every == 0 else f"1 in {rule.every:,}"
    return {key: NodeMark(own.get(key, "partly"), tuple(lines)) for key, lines in said.items()}



def group_mark(marks: Mapping[tuple[str, str], NodeMark], kind: str,
               members: Iterable[str]) -> NodeMark | None:
    """The mark of a row that stands for several nodes (a collapsed app, "N more"): how
    many of its members rules cover ("2 muted", "1 sampled", "3 with rules" when mixed),
    so a muted sender never hides in a group. None when no member is covered."""
    if not marks:
        return None
    found = [m for m in (marks.get((kind, name)) for name in members) if m is not None]
    if not found:
        return None
    kinds = {"muted" if m.badge == "muted" else "sampled" if m.badge.startswith("1 in")
             else "with rules" for m in found}  # ("partly": rules for some of its pairs)
    word = kinds.pop() if len(kinds) == 1 else "with rules"
    rules = tuple(dict.fromkeys(line for m in found for line in m.rules))
    return NodeMark(f"{len(found):,} {word}", rules)

class LiveControl:
    """The monitor's rule set (the GUI thread's; the socket thread gets ``message()``s).

    Rules are keyed by (signal, sender), either may be None for "any"; setting a key
    again replaces its rule. ``version`` grows with every change, so whoever sends the
    messages knows when to send at once rather than at the next resend.
    """

    def __init__(self, lease_ms: int = LEASE_MS) -> None:
        self.lease_ms = lease_ms
        self._rules: dict[tuple[str | None, str | None], int] = {}
        self.version = 0

    def set(self, signal: str | None, sender: str | None, every: int = 0) -> wire.Rule:
        """Mute (``every`` 0) or sample 1 in ``every`` the dispatches of ``signal`` by
        ``sender`` (None: any). ValueError for what the probes would refuse."""
        rule = wire.Rule(signal, sender, every)
        if signal is None and sender is None:
            raise ValueError("a rule names a signal or a sender")
        if not 0 <= every <= wire.MAX_SAMPLE or every == 1:
            raise ValueError(f"sample 1 in N needs 2 <= N <= {wire.MAX_SAMPLE:,}")
        if (signal, sender) not in self._rules and len(self._rules) >= wire.MAX_RULES:
            raise ValueError(f"at most {wire.MAX_RULES} rules")
        if self._rules.get((signal, sender)) != every:
            self._rules[(signal, sender)] = every
            self.version += 1
        return rule

    def remove(self, signal: str | None, sender: str | None) -> bool:
        if self._rules.pop((signal, sender), None) is None:
            return False
        self.version += 1
        return True

    def clear(self) -> None:
        if self._rules:
            self._rules.clear()
            self.version += 1

    def rule_for(self, signal: str | None, sender: str | None) -> wire.Rule | None:
        every = self._rules.get((signal, sender))
        return None if every is None else wire.Rule(signal, sender, every)

    @property
    def rules(self) -> list[wire.Rule]:
        """The rules in canonical order (as sent, as digested)."""
        return wire.canonical_rules([wire.Rule(sig, snd, every)
                                     for (sig, snd), every in self._rules.items()])

    @property
    def digest(self) -> str:
        return wire.rules_digest(self.rules)

    def __len__(self) -> int:
        return len(self._rules)

    def message(self, ts: int) -> bytes:
        """The control message carrying the whole rule set, sent at ``ts`` (Unix ns)."""
        return wire.encode_rules(ts, self.lease_ms, self.rules)

    def muted_per_rule(self, muted_counts: dict[tuple[str, str, str], list[int]]
                       ) -> dict[tuple[str | None, str | None], int]:
        """Dispatches the probes reported kept from streaming, per current rule: each
        (signal, sender) counted under the rule the probes apply to it (the most specific:
        the pair's, the signal's, then the sender's)."""
        out: dict[tuple[str | None, str | None], int] = {}
        rules = self._rules
        for (signal, sender, _method), (n, _raised) in muted_counts.items():
            for key in ((signal, sender), (signal, None), (None, sender)):
                if key in rules:
                    out[key] = out.get(key, 0) + n
                    break
        return out

    def coverage(self, processes: Iterable[ProcessInfo], now: int,
                 stale_ns: int = STALE_NS) -> Coverage:
        """Of the processes heard from within ``stale_ns`` (monitor clock ``now``) that
        listen to control (their Hello names a control endpoint), how many report the
        current digest in their latest heartbeat."""
        digest, live, applying, waiting = self.digest, 0, 0, []
        for info in processes:
            beat = info.heartbeat
            if beat is None or now - info.last_seen > stale_ns:
                continue
            if not info.info.get("control"):
                continue  # control off in that probe (or a probe before live control)
            live += 1
            if beat.rules == digest:
                applying += 1
            else:
                waiting.append(info.label)
        return Coverage(applying, live, len(self._rules), tuple(waiting))
