"""``python -m monitor_gui``: the same as the ``signal-monitor`` command."""

from monitor_gui.cli import main

raise SystemExit(main())
