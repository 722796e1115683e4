"""Short, bounded, redacted descriptions of senders, receivers and values, without side effects.

Describing never runs application code (docs/probe.md, "What describing a value may
do"): ``repr()`` only for exact types whose repr is CPython's or the stdlib's, never
``str()``/``repr()``/``__getattr__``/``__iter__``/``.get`` of a user class; classes and
instances are read through ``introspect``. A model's ``__str__`` may hit the database, a
lazy object may evaluate, a QuerySet would run. Model instances are described from their
``__dict__`` only, so deferred fields are never loaded. Every public function here
returns a string and never raises.
"""

from __future__ import annotations

import datetime
import types
import weakref
import zoneinfo
from collections.abc import Callable, Sequence
from itertools import islice
from typing import Any

from django.utils.functional import empty

from .exceptions import exception_message
from .introspect import (
    class_module,
    class_name,
    class_path,
    class_qualname,
    model_facts,
)
from .naming import ReceiverNames, as_is
from .paths import PathRedactor
from .redact import REDACTED, SensitiveNames
from .value_kinds import (
    DATETIME,
    ENUM,
    EXCEPTION,
    FUNCTION,
    LAZY,
    NUMBER,
    PROMISE,
    QUERYSET,
    REPR,
    REQUEST,
    SEQUENCE,
    SIZED,
    STR_SUBCLASS,
    TYPE,
    classify,
)

_SAFE_TZ = frozenset({type(None), datetime.timezone, zoneinfo.ZoneInfo})
_EXACT_SAFE = frozenset({int, bool, type(None), float})
_method_func = types.MethodType.__dict__["__func__"].__get__


class Describer:
    """Holds the redaction rule and the bounds; one per installed probe."""

    def __init__(self, max_len: int = 120, max_items: int = 16,
                 extra_pattern: str | None = None,
                 intern: Callable[[str], int | str] = as_is,
                 path_patterns: Sequence[str] = ()) -> None:
        self.is_sensitive = SensitiveNames(extra_pattern)
        self.max_len = max_len
        self.max_items = max_items
        # Every request path leaves through this (a password-reset link holds a token).
        self.redact_path = PathRedactor(path_patterns)
        # Names that events carry go through ``intern`` (the probe's Interner.ref: an id,
        # or the name itself past its limit); by default the names themselves.
        self._intern = intern
        # id(type) -> (weakref(type), label, its ref): classes are long-lived, but a weak
        # reference keeps a dynamically created sender class collectable.
        self._type_labels: dict[int, tuple[weakref.ref, str, int | str]] = {}
        # (qualified name, module, file, first line) of a receiver callable as refs, cached.
        self.receiver = ReceiverNames(intern).describe
        self._sensitive_names = self.is_sensitive.verdicts  # read inline by kwargs()
        # id(class) -> (weakref(class), branch, model facts or None, branch data): _value.
        self._kinds: dict[int, tuple[Any, str, Any, Any]] = {}

    # ------------------------------------------------------------------ senders

    def type_label(self, cls: type) -> str:
        cached = self._type_labels.get(id(cls))
        if cached is not None and cached[0]() is cls:
            return cached[1]
        return self._label_entry(cls)[1]

    def _label_entry(self, cls: type) -> tuple[Any, str, int | str]:
        model = model_facts(cls)
        label = model[1] if model is not None else f"{class_module(cls)}.{class_qualname(cls)}"
        entry = (None, label, self._intern(label))
        try:
            entry = (weakref.ref(cls), label, entry[2])
            self._type_labels[id(cls)] = entry
        except TypeError:
            pass
        return entry

    def sender(self, sender: Any) -> str:
        if sender is None:
            return "None"
        if issubclass(type(sender), type):
            return self.type_label(sender)
        return self.value(sender)

    def sender_ref(self, sender: Any) -> int | str:
        """``sender(sender)`` as a ref; a class's is cached with its label."""
        if issubclass(type(sender), type):
            cached = self._type_labels.get(id(sender))
            if cached is not None and cached[0]() is sender:
                return cached[2]
            return self._label_entry(sender)[2]
        return self._intern(self.sender(sender))

    # ------------------------------------------------------------------ values

    def kwargs(self, named: dict[str, Any]) -> dict[str, str]:
        more = len(named) - self.max_items
        items = named.items() if more <= 0 else islice(named.items(), self.max_items)
        out: dict[str, str] = {}
        verdicts = self._sensitive_names
        for key, value in items:
            # The verdict cache and the commonest values (True, False, None) inline: this runs
            # for every dispatch with keyword arguments.
            sensitive = verdicts.get(key)
            if sensitive is None:
                sensitive = self.is_sensitive(key)
            if sensitive:
                out[key] = REDACTED
            elif value is None or value is True or value is False:
                out[key] = repr(value)  # never longer than max_len, unlike a huge int
            else:
                out[key] = self.value(value)
        if more > 0:
            out["…"] = f"{more} more"
        return out

    def value(self, value: Any) -> str:
        try:
            text = self._value(value, depth=0)
        except Exception:  # describing must never break the app
            text = f"<{class_qualname(type(value))}>"
        if len(text) > self.max_len:
            text = text[: self.max_len - 1] + "…"
        return text

    def _value(self, value: Any, depth: int) -> str:
        # Only type(value) and, through the class's own descriptor, the instance __dict__
        # are consulted: isinstance() and hasattr() would make a lazy object (request.user,
        # a lazy storage...) evaluate, which may query the database.
        cls = type(value)
        if cls is str:
            return repr(value[: self.max_len])
        if cls in _EXACT_SAFE:  # True, None, 3: the most common values, no subclass walk
            return repr(value)
        if cls is dict:
            return self._mapping(value, depth)
        # Which branch a class takes is decided once per class (a walk of up to a dozen
        # issubclass() checks) and remembered; only the model check looks at the instance.
        hit = self._kinds.get(id(cls))
        if hit is None or hit[0]() is not cls:
            hit = self._classify(cls)
        kind, model, data = hit[1], hit[2], hit[3]
        if model is not None:
            fields = model[2](value)
            if "_state" in fields:  # a model instance
                return self._model_instance(fields, model[0], model[1])
        if kind is REPR:
            return repr(value)
        if kind is STR_SUBCLASS:
            return repr(str.__str__(value)[: self.max_len])
        if kind is SEQUENCE:
            return self._sequence(value, depth)
        if kind is SIZED:  # a dict/list/tuple/set/bytes subclass: its base's length only
            return f"<{class_name(cls)} len={data(value)}>"
        if kind is NUMBER:  # the base class's repr: the stored number, no override
            return f"<{class_qualname(cls)} {data(value)}>"
        if kind is DATETIME:
            tz = value.tzinfo  # (exact datetime/time: C getters)
            if type(tz) in _SAFE_TZ:
                return repr(value)
            return f"{value.replace(tzinfo=None)!r} tz=<{class_path(type(tz))}>"
        if kind is ENUM:
            fields = data(value) if data is not None else {}
            name = fields.get("_name_")
            shown = class_qualname(cls) + (f".{name}" if type(name) is str else "")
            if "_value_" not in fields:
                return f"<{shown}>"
            return f"<{shown}: {self._value(fields['_value_'], depth + 1)}>"
        if kind is REQUEST:
            # method and path are plain attributes; headers and cookies are not read.
            fields = data(value)
            method, path = fields.get("method"), fields.get("path")
            return (f"{class_name(cls)} {method if type(method) is str else '?'} "
                    f"{self.redact_path(path) if type(path) is str else '?'}")
        if kind is TYPE:
            return self.type_label(value)
        if kind is LAZY:
            wrapped = data(value).get("_wrapped", empty)
            if wrapped is empty:
                return f"<{class_name(cls)} (not evaluated)>"
            return self._value(wrapped, depth)
        if kind is PROMISE:
            return f"<lazy {class_name(cls)}>"  # e.g. gettext_lazy: never forced
        if kind is EXCEPTION:
            message = exception_message(value, self.max_len * 4)
            return f"{class_qualname(cls)}: {message}" if message else class_qualname(cls)
        if kind is QUERYSET:
            model_class = data(value).get("model")
            label = self.type_label(model_class) if issubclass(type(model_class), type) else "?"
            return f"<QuerySet {label}>"  # never evaluated
        if kind is FUNCTION:
            func = _method_func(value) if cls is types.MethodType else value
            name = class_qualname(type(func)) if type(func) is not types.FunctionType \
                else func.__qualname__
            return f"<function {name}>"
        return f"<{class_module(cls)}.{class_qualname(cls)}>"

    def _classify(self, cls: type) -> tuple[Any, str, Any, Any]:
        entry = classify(cls)
        if len(self._kinds) > 10_000:  # bound it for classes created at run time
            self._kinds.clear()
        self._kinds[id(cls)] = entry
        return entry

    def _model_instance(self, fields: dict, attname: str | None, label: str) -> str:
        pk = fields.get(attname) if attname else None  # no deferred load
        if pk is None:
            return f"{label} (unsaved)"
        if type(pk) is int or type(pk) is str:
            return f"{label} pk={pk}"
        return f"{label} pk={self._value(pk, 1)}"

    def _mapping(self, value: dict, depth: int) -> str:
        """An exact dict (subclasses are SIZED: their methods may be the app's)."""
        if depth >= 1:
            return f"<dict len={len(value)}>"
        # request_started's WSGI environ / ASGI scope: the request line says what matters
        # (headers and cookies are never read), and costs a fraction of six key summaries.
        method = value.get("REQUEST_METHOD")
        if type(method) is str and type(value.get("PATH_INFO")) is str:
            path = self.redact_path(value["PATH_INFO"][:self.max_len])
            return (f"<WSGI environ {method[:16]} {path} "
                    f"({len(value)} keys)>")
        kind = value.get("type")
        if type(kind) is str and kind in ("http", "websocket") \
                and type(value.get("path")) is str:
            method = value.get("method")
            method = method[:16] + " " if type(method) is str else ""
            return f"<ASGI {kind} scope {method}{self.redact_path(value['path'][:self.max_len])}>"
        parts = []
        for index, (k, v) in enumerate(value.items()):
            if index >= 6:
                parts.append("…")
                break
            key = k if type(k) is str else class_qualname(type(k))
            shown = REDACTED if self.is_sensitive(key) else self._value(v, depth + 1)
            parts.append(f"{key!r}: {shown}")
        return "{" + ", ".join(parts) + "}"

    def _sequence(self, value: Any, depth: int) -> str:
        """An exact list, tuple, set or frozenset."""
        kind = type(value).__name__
        if depth >= 1:
            return f"<{kind} len={len(value)}>"
        items = [self._value(v, depth + 1) for _, v in zip(range(4), value, strict=False)]
        more = ", …" if len(value) > 4 else ""
        return f"{kind}[{', '.join(items)}{more}] len={len(value)}"

    def exception(self, exc: BaseException) -> tuple[int | str, str]:
        """(class path as a ref, message) of an exception a receiver raised: see
        ``exceptions.exception_message``."""
        return self._intern(class_path(type(exc))), exception_message(exc, self.max_len * 4)
