"""What the ``signal-monitor`` subcommands share: exit statuses, usage errors, messages,
the CurveZMQ options' server."""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def err(message: str) -> None:
    print(f"signal-monitor: {message}", file=sys.stderr)


class UsageError(Exception):
    """Options that cannot work together: reported by main() with exit status 2."""


def curve_server(args: argparse.Namespace) -> Any:
    """The CurveServer the options ask for, None for none; raises UsageError on misuse.
    Warns when listening beyond loopback without it."""
    from monitor_gui.listener import CurveServer, is_loopback

    curve = None
    if args.curve_secret is not None:
        curve = CurveServer(args.curve_secret, args.curve_clients)
    elif args.curve_clients is not None:
        raise UsageError("--curve-clients needs --curve-secret")
    if curve is None and args.listen and not is_loopback(args.listen):
        err(f"warning: {args.listen} is not a loopback address and CurveZMQ is off: any host "
            "that reaches it can send events. See `signal-monitor keys` and --curve-secret.")
    return curve
