"""``signal-monitor export --format otlp`` (a recording as OpenTelemetry spans) and
``record --otlp`` (the same, live): docs/otel.md."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from monitor_gui import cli_common

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def add_arguments(exp: argparse.ArgumentParser) -> None:
    """The ``export`` options that only ``--format otlp`` uses."""
    exp.add_argument("--endpoint", metavar="URL",
                     help="otlp: send to this OTLP/HTTP collector (e.g. http://localhost:4318) "
                          "instead of writing a file")
    exp.add_argument("--service-name", default="django", metavar="NAME",
                     help="otlp: the spans' service.name (default django)")
    exp.add_argument("--timeout", type=float, default=10.0, metavar="S",
                     help="otlp: seconds to wait for the collector per request (default 10)")


def check(args: argparse.Namespace) -> str | None:
    """A usage problem of the otlp options with another format, or None."""
    if args.format != "otlp" and (args.endpoint is not None or args.service_name != "django"):
        return "--endpoint and --service-name need --format otlp"
    return None


def run(args: argparse.Namespace) -> int:
    from monitor_gui.core import otlp, otlp_export
    from monitor_gui.core.recording import RecordingReader

    def err(message: str, status: int = EXIT_ERROR) -> int:
        cli_common.err(message)
        return status

    if args.endpoint is not None and args.out is not None:
        return err("give --out (a file) or --endpoint (a collector), not both", EXIT_USAGE)
    if args.signal or args.timeline or args.window:
        return err("--signal, --timeline and --window draw pictures: use --format svg or png",
                   EXIT_USAGE)
    if args.timeout <= 0:
        return err("--timeout must be positive", EXIT_USAGE)
    reader = RecordingReader(args.file)
    try:
        if args.endpoint is not None:
            summary: Any = otlp_export.send(reader, args.endpoint, args.service_name, args.timeout)
            where = otlp_export.traces_url(args.endpoint)
        else:
            where = args.out or f"{args.file}.otlp.json"
            summary = otlp_export.write_json(reader, where, args.service_name)
    except otlp.OtlpError as exc:
        return err(str(exc))
    except (OSError, RuntimeError) as exc:
        return err(f"cannot export {args.file}: {exc}")
    print(f"exported {summary.dispatches:,} dispatches as {summary.spans:,} spans in "
          f"{summary.requests} OTLP requests to {where}", file=sys.stderr)
    if reader.warning is not None:
        print(f"signal-monitor: warning: {reader.warning}", file=sys.stderr)
    return EXIT_OK


class Tee:
    """The recording's writer interface over a file and/or the OTLP relay."""

    def __init__(self, writers: list[Any]) -> None:
        self.writers = writers

    def write(self, frame: Any) -> None:
        for w in self.writers:
            w.write(frame)

    def write_bad_frame(self, proc: Any) -> None:
        for w in self.writers:
            w.write_bad_frame(proc)

    def flush(self) -> None:
        for w in self.writers:
            w.flush()

    def close(self) -> None:
        for w in self.writers:
            w.close()


def relay(args: argparse.Namespace) -> tuple[Any, str]:
    """``record --otlp``: (the live relay, "") or (None, why not)."""
    from urllib.parse import urlsplit

    from monitor_gui.core import otlp, otlp_export
    from monitor_gui.core.otlp_relay import OtlpRelay

    if urlsplit(args.otlp).scheme not in ("http", "https"):
        return None, f"--otlp needs an http:// or https:// URL, not {args.otlp!r}"
    try:
        otlp._sdk()  # the SDK and its exporter are an extra: say so before listening
        import opentelemetry.exporter.otlp.proto.http.trace_exporter  # noqa: F401
    except (otlp.OtlpError, ImportError) as exc:
        return None, (str(exc) if isinstance(exc, otlp.OtlpError) else
                      "sending to a collector needs opentelemetry-exporter-otlp-proto-http: "
                      "pip install 'django-signal-monitor[otel]'")

    def send(frames: list[Any]) -> Any:
        return otlp_export.send(frames, args.otlp, args.service_name)

    return OtlpRelay(send), ""
