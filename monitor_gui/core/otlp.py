"""A recording as OpenTelemetry spans: the span model (``otlp_export`` writes or sends them).

The spans are the OpenTelemetry SDK's own ``ReadableSpan``s, encoded by the SDK's OTLP
encoder (``opentelemetry.exporter.otlp.proto.common.trace_encoder.encode_spans``) and
either sent by its ``OTLPSpanExporter`` or written as protobuf JSON (``json_format``)
with the one change the OTLP/JSON spec asks for: trace and span ids in hex, not base64.
Nothing of OTLP is written by hand. Needs the ``otel`` extra.

The span model (docs/otel.md):

* one span per dispatch, named by the signal's short name (``post_save``), from ``ts`` to
  ``ts + dur``; a child span per receiver that ran, laid end to end from the dispatch's
  start as the timeline does (the wire has receiver durations, not start times); a
  receiver that raised has status ERROR and an ``exception`` event;
* a nested dispatch is a child of the receiver span of its parent dispatch whose time
  slice holds its start (the parent's dispatch span when none does);
* trace ids: a dispatch shares its parent's trace; a top-level dispatch served within a
  request that carried a W3C ``traceparent`` header joins that trace, as a child of the
  header's parent span (the application's own tracing); within any other request it gets
  the trace derived from the request id (so every dispatch of one request, and of one
  ``X-Request-ID`` across processes, is in one trace); any other top-level dispatch
  starts a trace of its own. Ids are hashes (blake2b) of the request id or of the
  process instance and dispatch id, so exporting twice gives the same ids.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django_probe import wire
from monitor_gui.core.graph import receiver_label

BATCH_SPANS = 2_000  # spans per OTLP request (and per line of the JSON file)
SCOPE = "django_signal_monitor"
_HEX_FIELDS = ("traceId", "spanId", "parentSpanId")


class OtlpError(Exception):
    """The export could not be done (the SDK is missing, or the collector refused)."""


def _sdk() -> Any:
    """The OpenTelemetry modules used here, imported on first use (an optional extra)."""
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
        from opentelemetry.sdk import resources
        from opentelemetry.sdk import trace as sdk_trace
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    except ImportError as exc:
        raise OtlpError(f"exporting to OpenTelemetry needs {exc.name}: pip install "
                        "'django-signal-monitor[otel]'") from None
    return trace, encode_spans, resources, sdk_trace, InstrumentationScope


def _id(size: int, *parts: object) -> int:
    """A non-zero id of ``size`` bytes hashed from ``parts`` (deterministic)."""
    h = hashlib.blake2b("\0".join(map(str, parts)).encode("utf-8", "surrogatepass"),
                        digest_size=size)
    return int.from_bytes(h.digest(), "big") or 1


def request_trace_id(request_id: str) -> int:
    """The trace id of every dispatch served within the request ``request_id``."""
    return _id(16, "django-signal-monitor request", request_id)


def remote_parent(request: wire.RequestInfo | None) -> tuple[int, int, int] | None:
    """(trace id, parent span id, flags) of the request's ``traceparent`` header, or None
    without one or when W3C calls it invalid (version ff, an all-zero id)."""
    header = request.traceparent if request is not None else None
    if not header or header.startswith("ff"):
        return None
    trace, span = int(header[3:35], 16), int(header[36:52], 16)
    return (trace, span, int(header[53:55], 16)) if trace and span else None


@dataclass(slots=True)
class Summary:
    dispatches: int = 0
    spans: int = 0
    requests: int = 0  # OTLP requests sent, or lines written


class SpanBuilder:
    """Turns a recording's dispatches into SDK spans, with parents and trace ids."""

    def __init__(self, frames: Iterable[wire.Frame], service_name: str = "django") -> None:
        self.trace_api, self.encode_spans, resources, self.sdk, scope = _sdk()
        self.scope = scope(SCOPE)
        self.dispatches: list[tuple[wire.Proc, wire.Dispatch]] = []
        for frame in frames:
            self.dispatches.extend((frame.proc, e) for e in frame.events
                                   if e[0] == wire.KIND_DISPATCH)
        self.by_id = {(p, d.id): d for p, d in self.dispatches}
        self._traces: dict[tuple[wire.Proc, int], int] = {}
        self._resources: dict[wire.Proc, Any] = {}
        self._resource = lambda proc: resources.Resource({
            "service.name": service_name, "service.instance.id": f"{proc.host}:{proc.pid}:"
            f"{proc.boot}", "host.name": proc.host, "process.pid": proc.pid})

    # ------------------------------------------------------------------ ids
    def trace_id(self, proc: wire.Proc, d: wire.Dispatch) -> int:
        """Its parent's trace; at top level, its request's trace or one of its own."""
        chain = []
        key = (proc, d.id)
        while key not in self._traces:
            chain.append(key)
            parent = self.by_id.get((proc, d.parent)) if d.parent is not None else None
            if parent is None:
                remote = remote_parent(d.request)
                self._traces[key] = (remote[0] if remote is not None
                                     else request_trace_id(d.request.id) if d.request is not None
                                     else _id(16, "dispatch", *proc, d.id))
                break
            if (proc, parent.id) in chain:  # a cycle (hostile input): stop here
                self._traces[key] = _id(16, "dispatch", *proc, d.id)
                break
            d, key = parent, (proc, parent.id)
        trace = self._traces[key]
        for k in chain:
            self._traces[k] = trace
        return trace

    @staticmethod
    def span_id(proc: wire.Proc, did: int, receiver: int = -1) -> int:
        return _id(8, "span", *proc, did, receiver)

    def parent_span(self, proc: wire.Proc, d: wire.Dispatch) -> int | None:
        """The span a nested dispatch is a child of: the parent's receiver whose time slice
        holds its start (receivers laid end to end), else the parent's dispatch span."""
        if d.parent is None:
            return None
        parent = self.by_id.get((proc, d.parent))
        if parent is None:
            return None
        starts, index, t = [], [], parent.ts
        for i, r in enumerate(parent.receivers):
            if r.outcome != wire.SKIPPED:
                starts.append(t)
                index.append(i)
                t += r.dur
        k = bisect_right(starts, d.ts) - 1
        if k < 0:
            return self.span_id(proc, parent.id)
        return self.span_id(proc, parent.id, index[k])

    # ------------------------------------------------------------------ spans
    def spans(self) -> Iterator[Any]:
        """The SDK spans (``ReadableSpan``) of every dispatch and receiver call."""
        for proc, d in self.dispatches:
            yield from self._dispatch_spans(proc, d)

    def _dispatch_spans(self, proc: wire.Proc, d: wire.Dispatch) -> Iterator[Any]:
        api, sdk = self.trace_api, self.sdk
        resource = self._resources.get(proc)
        if resource is None:
            resource = self._resources[proc] = self._resource(proc)
        trace = self.trace_id(proc, d)
        sampled = api.TraceFlags(api.TraceFlags.SAMPLED)

        def context(span: int) -> Any:
            return api.SpanContext(trace, span, is_remote=False, trace_flags=sampled)

        parent = self.parent_span(proc, d)
        remote = remote_parent(d.request) if d.parent is None else None
        me = context(self.span_id(proc, d.id))
        up = (None if parent is None and remote is None else context(parent)
              if remote is None else api.SpanContext(remote[0], remote[1], is_remote=True,
                                                     trace_flags=api.TraceFlags(remote[2])))
        ran = [r for r in d.receivers if r.outcome != wire.SKIPPED]
        receiver_raised = any(r.outcome == wire.RAISED for r in ran)
        attrs: dict[str, Any] = {
            "django.signal": d.signal, "django.signal.sender": d.sender,
            "django.signal.method": d.method,
            "django.signal.outcome": ("raised" if d.raised else "receiver_raised"
                                      if receiver_raised else "ok"),
            "django.signal.dispatch_id": d.id, "django.signal.receivers": len(ran),
            "thread.name": d.thread, "thread.id": d.tid,
        }
        skipped = [receiver_label(r.module, r.name) for r in d.receivers
                   if r.outcome == wire.SKIPPED]
        if skipped:
            attrs["django.signal.skipped"] = skipped
        if d.site is not None:
            attrs.update({"code.file.path": d.site.file, "code.line.number": d.site.line,
                          "code.function.name": d.site.func})
        if d.request is not None:
            attrs.update({"django.request.id": d.request.id,
                          "http.request.method": d.request.method,
                          "url.path": d.request.path})
            if d.request.traceparent:
                attrs["django.request.traceparent"] = d.request.traceparent
        attrs.update((f"django.signal.kwargs.{k}", v) for k, v in d.kwargs.items())
        start = max(d.ts, 0)
        status = (api.Status(api.StatusCode.ERROR, "the dispatch raised") if d.raised
                  else api.Status(api.StatusCode.UNSET))
        yield sdk.ReadableSpan(
            d.signal.rsplit(".", 1)[-1], context=me,
            parent=up, resource=resource,
            attributes=attrs, status=status, start_time=start, end_time=start + d.dur,
            instrumentation_scope=self.scope)
        t = start
        for i, r in enumerate(d.receivers):
            if r.outcome == wire.SKIPPED:
                continue
            label = receiver_label(r.module, r.name)
            rattrs: dict[str, Any] = {
                "django.receiver": label, "code.function.name": r.name,
                "django.receiver.module": r.module, "code.file.path": r.file,
                "code.line.number": r.line, "django.receiver.outcome": r.outcome,
                "django.receiver.is_async": r.is_async, "django.signal": d.signal}
            events: list[Any] = []
            rstatus = api.Status(api.StatusCode.UNSET)
            if r.outcome == wire.RAISED:
                exc = {"exception.type": r.exc_type or "", "exception.message": r.exc_msg or ""}
                rattrs.update(exc)
                events.append(sdk.Event("exception", exc, timestamp=t + r.dur))
                rstatus = api.Status(api.StatusCode.ERROR,
                                     f"{r.exc_type}: {r.exc_msg or ''}"[:1000])
            elif r.value is not None:
                rattrs["django.receiver.value"] = r.value
            yield sdk.ReadableSpan(
                label, context=context(self.span_id(proc, d.id, i)), parent=me,
                resource=resource, attributes=rattrs, events=events, status=rstatus,
                start_time=t, end_time=t + r.dur, instrumentation_scope=self.scope)
            t += r.dur

    def batches(self, size: int = BATCH_SPANS) -> Iterator[list[Any]]:
        batch: list[Any] = []
        for span in self.spans():
            batch.append(span)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch
