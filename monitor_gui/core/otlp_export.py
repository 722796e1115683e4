"""Export a recording to OpenTelemetry: OTLP/JSON in a file, or OTLP/HTTP to a collector.

The spans come from ``otlp.SpanBuilder`` (the span model); they are encoded by the SDK's
OTLP encoder and either sent by its ``OTLPSpanExporter`` or written as protobuf JSON with
the one change the OTLP/JSON spec asks for: trace and span ids in hex, not base64.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from django_probe import wire
from monitor_gui.core.otlp import BATCH_SPANS, OtlpError, SpanBuilder, Summary

_HEX_FIELDS = ("traceId", "spanId", "parentSpanId")


def _hex_ids(doc: dict[str, Any]) -> None:
    """OTLP/JSON writes trace and span ids in hex where protobuf's JSON has base64."""
    def fix(d: dict[str, Any]) -> None:
        for k in _HEX_FIELDS:
            v = d.get(k)
            if v is not None:
                d[k] = base64.b64decode(v).hex()

    for rs in doc.get("resourceSpans", ()):
        for ss in rs.get("scopeSpans", ()):
            for span in ss.get("spans", ()):
                fix(span)
                for link in span.get("links", ()):
                    fix(link)


def otlp_json(builder: SpanBuilder, spans: list[Any]) -> dict[str, Any]:
    """The OTLP/JSON ``ExportTraceServiceRequest`` of ``spans``."""
    from google.protobuf import json_format

    doc = json_format.MessageToDict(builder.encode_spans(spans),
                                    use_integers_for_enums=True)  # as OTLP/JSON wants
    _hex_ids(doc)
    return doc


def write_json(frames: Iterable[wire.Frame], out: str | Path | IO[str],
               service_name: str = "django", batch: int = BATCH_SPANS) -> Summary:
    """Write one OTLP/JSON ``ExportTraceServiceRequest`` per line (``batch`` spans each):
    the format of the OpenTelemetry Collector's file exporter and otlpjsonfile receiver."""
    builder = SpanBuilder(frames, service_name)
    summary = Summary(dispatches=len(builder.dispatches))

    def write(f: IO[str]) -> None:
        for spans in builder.batches(batch):
            f.write(json.dumps(otlp_json(builder, spans), separators=(",", ":")) + "\n")
            summary.spans += len(spans)
            summary.requests += 1

    if isinstance(out, (str, Path)):
        with open(out, "w", encoding="utf-8") as f:
            write(f)
    else:
        write(out)
    return summary


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL: ``endpoint`` as given, or with ``/v1/traces`` added when
    it names only a host (``http://collector:4318``)."""
    from urllib.parse import urlsplit

    if urlsplit(endpoint).path in ("", "/"):
        return endpoint.rstrip("/") + "/v1/traces"
    return endpoint


def send(frames: Iterable[wire.Frame], endpoint: str, service_name: str = "django",
         timeout: float = 10.0, batch: int = BATCH_SPANS,
         exporter_factory: Callable[..., Any] | None = None) -> Summary:
    """POST the spans to an OTLP/HTTP collector with the SDK's exporter (protobuf).

    Headers, certificates and compression come from the usual ``OTEL_EXPORTER_OTLP_*``
    environment variables. Raises OtlpError when a batch is refused.
    """
    builder = SpanBuilder(frames, service_name)
    if exporter_factory is None:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter,
            )
        except ImportError as exc:
            raise OtlpError(f"sending to a collector needs {exc.name}: pip install "
                            "'django-signal-monitor[otel]'") from None
        exporter_factory = OTLPSpanExporter
    url = traces_url(endpoint)
    exporter = exporter_factory(endpoint=url, timeout=timeout)
    summary = Summary(dispatches=len(builder.dispatches))
    try:
        for spans in builder.batches(batch):
            result = exporter.export(spans)
            if getattr(result, "name", "") != "SUCCESS":
                raise OtlpError(f"the collector at {url} did not accept the spans "
                                f"({summary.spans} of them were sent before)")
            summary.spans += len(spans)
            summary.requests += 1
    finally:
        exporter.shutdown()
    return summary
