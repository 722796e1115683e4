"""The context a dispatch runs in: the innermost running dispatch and the HTTP request
(``ContextVar``s), and how a recorder notices the request from ``request_started``."""

from __future__ import annotations

import itertools
import re
import secrets
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.core import signals as core_signals
from django.dispatch import Signal

from . import wire

if TYPE_CHECKING:
    from .capture import Nest

_request_started = core_signals.request_started
# Only a well-formed header travels: the monitor refuses a dispatch whose traceparent does
# not match wire's pattern, and the regex runs only when a request carries the header.
_traceparent_ok = re.compile(wire.TRACEPARENT_PATTERN).fullmatch


def _traceparent(value: object) -> str | None:
    """The W3C ``traceparent`` header if ``value`` is a well-formed one, else None."""
    return value if type(value) is str and _traceparent_ok(value) is not None else None

# The innermost dispatch this code runs in: the parent of any dispatch it starts. A
# ContextVar (not a thread-local) so what asend() gathers, and what asgiref runs in other
# threads, see it. A dispatch sets it once when it starts (Recorder.enter) and marks its
# nest done when it ends instead of resetting it: a reset costs a second context update
# on every dispatch. Readers skip ended nests, so the parent is always the innermost
# dispatch *still running*, also for work a receiver scheduled to run later.
current_dispatch: ContextVar[Nest | None] = ContextVar("django_probe_dispatch", default=None)
_current_nest = current_dispatch.get


def innermost_running(nest: Nest | None) -> Nest | None:
    """The innermost nest still running from ``nest`` on (readers skip ended ones)."""
    while nest is not None and nest.done:
        nest = nest.up
    return nest


def current_parent() -> int | None:
    """Id of the innermost running dispatch around the caller, or None."""
    nest = innermost_running(_current_nest())
    return None if nest is None else nest.id


# The HTTP request being handled, noticed from request_started itself (no middleware).
current_request: ContextVar[wire.RequestInfo | None] = ContextVar(
    "django_probe_request", default=None
)


class RequestContext:
    """The part of ``capture.Recorder`` that notices HTTP requests: ``begin_request()``
    (from the mirrors and ``empty()``) and the request ids. Uses the recorder's
    ``intern`` and ``describe``; ``__init__`` calls ``_reseed_request_ids()``."""

    intern: Any
    describe: Any

    def _reseed_request_ids(self) -> None:
        # Also called in a forked child (gunicorn --preload): workers must not share ids.
        self._request_prefix = secrets.token_hex(4) + "-"
        self._request_counter = itertools.count(1)

    def _new_request_id(self) -> str:
        # A random per-probe prefix and a counter: os.urandom per request measured ~40 µs
        # on this VM. Unique per process instance, which is how the monitor keys them.
        return f"{self._request_prefix}{next(self._request_counter):x}"

    def begin_request(self, signal: Signal, named: dict[str, Any]) -> None:
        """request_started carries the WSGI environ or ASGI scope: remember the request."""
        if signal is not _request_started:
            return
        # Exact types only, and never str() of a value: what is not a plain dict of plain
        # strings is not read (docs/probe.md, "What describing a value may do").
        environ = named.get("environ")
        if type(environ) is dict:  # WSGI: a built-in dict of plain strings (PEP 3333)
            request_id = environ.get("HTTP_X_REQUEST_ID")
            method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
            traceparent = _traceparent(environ.get("HTTP_TRACEPARENT"))
        else:
            scope = named.get("scope")
            if type(scope) is not dict:
                return
            request_id = traceparent = None
            headers = scope.get("headers")
            for header in headers if type(headers) is list or type(headers) is tuple else ():
                if (type(header) is tuple or type(header) is list) and len(header) == 2 \
                        and type(header[0]) is bytes and type(header[1]) is bytes:
                    if header[0] == b"x-request-id":
                        request_id = header[1].decode("latin-1")
                    elif header[0] == b"traceparent":
                        traceparent = _traceparent(header[1].decode("latin-1"))
            method, path = scope.get("method"), scope.get("path")
        intern = self.intern  # (method and path are names too; a path past the interner's
        # limit, e.g. with ids in it, travels as itself)
        info = (request_id[:64] if type(request_id) is str and request_id
                else self._new_request_id(),
                intern(method) if type(method) is str else "",
                intern(self.describe.redact_path(path[:512])) if type(path) is str else "",
                traceparent)
        current_request.set(info)
