"""``signal-monitor diagnose RECORDING``: the wiring findings of a recording, for people and CI.

Exit status: 0 no finding of the ``--fail-on`` kinds, 1 some, 2 trouble (a usage error,
or a recording that cannot be read).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from monitor_gui import cli_common

EXIT_CLEAN, EXIT_FOUND, EXIT_TROUBLE = 0, 1, 2
SEVERITIES = ("error", "warning", "info")
DEFAULT_FAIL_ON = ("error", "warning")


def add_parser(sub: Any) -> None:
    """Register the ``diagnose`` subcommand on ``sub`` (argparse subparsers)."""
    from monitor_gui.core.diagnostics import KINDS

    p = sub.add_parser("diagnose", help="list wiring findings of a recording (for CI)")
    p.add_argument("recording", metavar="RECORDING", help="a recording (.jsonl, .gz, .zst)")
    p.add_argument("--fail-on", default=",".join(DEFAULT_FAIL_ON), metavar="LIST",
                   help=f"comma-separated kinds or severities that make the exit status 1: "
                        f"{', '.join(KINDS)}; {', '.join(SEVERITIES)}; all or none "
                        f"(default: {','.join(DEFAULT_FAIL_ON)})")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")


def fail_on(value: str) -> list[str]:
    """The kinds named by ``--fail-on`` (severities expand to their kinds); ValueError for
    an unknown name."""
    from monitor_gui.core.diagnostics import KINDS

    names = [v.strip() for v in value.split(",") if v.strip()]
    if names == ["all"]:
        return list(KINDS)
    if names in ([], ["none"]):
        return []
    unknown = [n for n in names if n not in KINDS and n not in SEVERITIES]
    if unknown:
        raise ValueError(f"--fail-on: unknown kind {', '.join(unknown)} (choose from "
                         f"{', '.join(KINDS)}, {', '.join(SEVERITIES)}, all, none)")
    return [k for k, (severity, _short, _title) in KINDS.items() if k in names or severity in names]


def run(args: argparse.Namespace) -> int:
    from monitor_gui.core import diagnostics
    from monitor_gui.core.diff import load_state

    def err(message: str) -> int:
        cli_common.err(message)
        return EXIT_TROUBLE

    try:
        kinds = fail_on(args.fail_on)
    except ValueError as exc:
        return err(str(exc))
    if not Path(args.recording).is_file():
        return err(f"no such recording: {args.recording}")
    try:
        state = load_state(args.recording)
    except (OSError, RuntimeError) as exc:
        return err(f"cannot read the recording: {exc}")
    findings = diagnostics.diagnose(state)
    failing = [f for f in findings if f.kind in kinds]
    if args.json:
        json.dump({"fail_on": kinds, "failed": bool(failing),
                   "counts": diagnostics.counts(findings),
                   "findings": [f.to_json() for f in findings]}, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(diagnostics.format_text(findings))
    return EXIT_FOUND if failing else EXIT_CLEAN
