"""A tiny loopback OTLP/HTTP collector for tests: accepts protobuf POSTs and keeps them.

``otlp_collector`` (a fixture, registered in tests/conftest.py) yields (server, handler):
the server's port is ``server.server_address[1]``; ``handler.received`` holds (path,
content type, body) per POST; ``handler.status`` is the answer (200, or 400 to refuse).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]]
    status = 200

    def do_POST(self):  # noqa: N802 - http.server's name
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceResponse,
        )

        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body))
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def otlp_collector() -> Iterator[tuple[ThreadingHTTPServer, type[Collector]]]:
    handler = type("Handler", (Collector,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()
    thread.join(10)
