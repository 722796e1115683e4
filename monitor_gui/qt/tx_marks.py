"""How the window shows transactions: the list's marks and the details pane's sections."""

from __future__ import annotations

from html import escape
from typing import Any

from django_probe import wire
from monitor_gui.core.rollbacks import ROLLED_BACK, ROLLED_BACK_BY_TEST, UNDONE
from monitor_gui.core.transactions import DISCARDED, FAILED, HAS_CALLBACKS
from monitor_gui.qt.theme import format_ns, short_receiver

# The Transaction filter's choices, in the combo's order, and the Filter.tx they make.
TX_CHOICES = (("Any transaction", None), ("Inside a transaction", "inside"),
              ("Rolled back", "discarded"))
ROLLED_BACK_TEXT = "rolled back"


def tx_mark(tx_depth: int, cb: int) -> str:
    """The Outcome column's suffix: what the transaction around the dispatch did."""
    if cb & (DISCARDED | UNDONE):
        return " · " + ROLLED_BACK_TEXT
    if tx_depth > 0:
        return " · in tx"
    return ""


def tx_tooltip(tx_depth: int, cb: int) -> str:
    lines = []
    if tx_depth > 0:
        lines.append(f"Ran inside transaction.atomic() (depth {tx_depth}), before its commit: "
                     "what the receivers did could still be rolled back.")
    if cb & ROLLED_BACK:
        lines.append("Its transaction (or a savepoint around it) was rolled back: what its "
                     "receivers wrote to the database is gone.")
    elif cb & ROLLED_BACK_BY_TEST:
        lines.append("Django's test framework rolled its transaction back (a TestCase ends "
                     "every test so): what its receivers wrote is gone, as expected.")
    if cb & DISCARDED:
        lines.append("A rollback discarded an on_commit() callback its receivers queued.")
    if cb & FAILED:
        lines.append("An on_commit() callback it queued raised, or was skipped after one did.")
    elif cb & HAS_CALLBACKS and not cb & DISCARDED:
        lines.append("Its receivers queued on_commit() callbacks (see the details).")
    return "\n".join(lines)


FATES = {wire.RETURNED: "ran", wire.RAISED: "raised", wire.SKIPPED: "skipped",
         wire.DISCARDED: "discarded by rollback"}


def callback_lines(d: Any) -> list[str]:
    """The Receivers column's tooltip lines for the on_commit() callbacks a dispatch queued."""
    return [f"  ↳ on_commit {c.name} ({FATES[c.outcome]})" for c in d.callbacks]


def tx_row_html(d: Any) -> str:
    """The details table's "transaction" line (a dispatch that ran in autocommit: none)."""
    if d.tx is None:
        return ""
    verdict = ("<span class='muted'>rolled back by the test framework</span>" if d.by_test
               else "<span class='err'>rolled back</span>"
               if d.rolled_back or any(c.outcome == wire.DISCARDED for c in d.callbacks)
               else "uncommitted when it ran")
    return (f"<tr><th>transaction</th><td>atomic on <code>{escape(d.tx.alias)}</code>, "
            f"depth {d.tx.depth} · {verdict}</td></tr>")


def callbacks_html(d: Any) -> str:
    """The on_commit() callbacks the dispatch's receivers queued, each with its fate."""
    if not d.callbacks:
        return ""
    e = escape
    parts = [f"<h4>on_commit callbacks ({len(d.callbacks)})</h4>"]
    for c in d.callbacks:
        cls = {wire.RAISED: "err", wire.DISCARDED: "err", wire.SKIPPED: "muted"}.get(
            c.outcome, "")
        fate = {wire.RETURNED: "ran after the commit" if c.depth else "ran at once (autocommit)",
                wire.RAISED: "raised", wire.SKIPPED: "skipped (an earlier callback raised)",
                wire.DISCARDED: "discarded by rollback"}[c.outcome]
        dur = f" &nbsp;{format_ns(c.dur)}" if c.outcome in (wire.RETURNED, wire.RAISED) else ""
        parts.append(
            f"<div style='margin-top:4px'>↳ <code title='{e(c.module)}.{e(c.name)}'><b>"
            f"{e(short_receiver(c.module + '.' + c.name))}</b></code>{dur}"
            f" · <span class='{cls}'>{e(fate)}</span>"
            f"{' · robust' if c.robust else ''}</div>")
        if c.outcome == wire.RAISED:
            parts.append(f"<div class='err'>&nbsp;&nbsp;{e(c.exc_type or '')}: "
                         f"{e(c.exc_msg or '')}</div>")
        if c.site is not None:
            parts.append(f"<div class='muted'>&nbsp;&nbsp;queued at {e(c.site.file)}:"
                         f"{c.site.line} in {e(c.site.func)} · on <code>{e(c.alias)}</code>"
                         f"</div>")
    return "".join(parts)
