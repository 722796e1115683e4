"""``python -m demo_site setup|demo|traffic|screenshot|docshots``: run or drive the demo."""

from __future__ import annotations

import argparse
import sys

from demo_site import docshots, launcher, screenshot, seed, traffic


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m demo_site", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    setup = sub.add_parser("setup", help="migrate the demo database and create the demo users")
    setup.add_argument("-v", "--verbosity", type=int, default=1)

    demo = sub.add_parser("demo", help="setup, then run the site and the monitor (Ctrl-C stops)")
    launcher.add_arguments(demo)

    drive = sub.add_parser("traffic", help="generate real HTTP traffic against a running site")
    traffic.add_arguments(drive)

    shot = sub.add_parser("screenshot", help="PNG of the monitor window showing demo traffic")
    screenshot.add_arguments(shot)

    docs = sub.add_parser("docshots", help="two real recordings, then the diff and OTLP "
                                           "pictures of docs/")
    docshots.add_arguments(docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "setup":
        seed.run_setup(verbosity=args.verbosity)
        return 0
    if args.command == "demo":
        return launcher.run(args)
    if args.command == "screenshot":
        return screenshot.run(args)
    if args.command == "docshots":
        return docshots.run(args)
    return traffic.run(args)


if __name__ == "__main__":
    sys.exit(main())
