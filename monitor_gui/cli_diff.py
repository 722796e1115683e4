"""``signal-monitor diff A B``: what changed in signal traffic between two recordings.

Exit status, as diff(1): 0 nothing differs by the ``--fail-on`` criteria, 1 something
does, 2 trouble (a usage error, or a recording that cannot be read).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from monitor_gui import cli_common

EXIT_SAME, EXIT_DIFFERS, EXIT_TROUBLE = 0, 1, 2


def add_parser(sub: Any) -> None:
    """Register the ``diff`` subcommand on ``sub`` (argparse subparsers)."""
    from monitor_gui.core.diff import CRITERIA, DEFAULT_FAIL_ON

    p = sub.add_parser("diff", help="compare the signal traffic of two recordings (for CI)")
    p.add_argument("a", metavar="A", help="the recording before (the baseline)")
    p.add_argument("b", metavar="B", help="the recording after")
    p.add_argument("--fail-on", default=",".join(DEFAULT_FAIL_ON), metavar="LIST",
                   help=f"comma-separated criteria that make the exit status 1: "
                        f"{', '.join(CRITERIA)}, all or none (default: "
                        f"{','.join(DEFAULT_FAIL_ON)})")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def fail_on(value: str) -> list[str]:
    """The criteria named by ``--fail-on``; raises ValueError for an unknown one."""
    from monitor_gui.core.diff import CRITERIA

    names = [v.strip() for v in value.split(",") if v.strip()]
    if names == ["all"]:
        return list(CRITERIA)
    if names in ([], ["none"]):
        return []
    unknown = [n for n in names if n not in CRITERIA]
    if unknown:
        raise ValueError(f"--fail-on: unknown criterion {', '.join(unknown)} "
                         f"(choose from {', '.join(CRITERIA)}, all, none)")
    return [c for c in CRITERIA if c in names]


def run(args: argparse.Namespace) -> int:
    from monitor_gui.core import diff, diff_text

    def err(message: str) -> int:
        cli_common.err(message)
        return EXIT_TROUBLE

    try:
        criteria = fail_on(args.fail_on)
    except ValueError as exc:
        return err(str(exc))
    for path in (args.a, args.b):
        if not Path(path).is_file():
            return err(f"no such recording: {path}")
    try:
        report = diff.diff_recordings(args.a, args.b)
    except (OSError, RuntimeError) as exc:
        return err(f"cannot read a recording: {exc}")
    if args.json:
        json.dump(report.to_json(criteria), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(diff_text.format_report(report, criteria))
    return EXIT_DIFFERS if report.found(criteria) else EXIT_SAME
