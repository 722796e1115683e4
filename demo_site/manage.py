#!/usr/bin/env python
"""Django's command-line utility for the demo site: ``python demo_site/manage.py runserver``."""

import os
import sys
from pathlib import Path


def main() -> None:
    # Run as a script, sys.path[0] is demo_site/ itself, which would make "accounts"
    # importable twice (as accounts and demo_site.accounts); the project root is what we want.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
