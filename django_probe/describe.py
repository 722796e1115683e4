"""Short, bounded, redacted descriptions of senders, receivers and values, without side effects.

Nothing here calls an object's ``__str__``/``__repr__`` unless its type is known to be
harmless: a model's ``__str__`` may hit the database, a lazy object may evaluate, a
QuerySet would run. Model instances are described from ``__dict__`` only, so deferred
fields are never loaded. Every public function here returns a string and never raises.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import inspect
import pathlib
import re
import types
import uuid
import weakref
from itertools import islice
from typing import Any

from django.db.models.query import QuerySet
from django.utils.functional import LazyObject, Promise, empty

REDACTED = "********************"  # the same mask Django's error reporter uses

# Django's own rule for sensitive setting names (SafeExceptionReporterFilter.hidden_settings)
# plus names that carry sessions and cookies.
DJANGO_SENSITIVE = "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE"
EXTRA_SENSITIVE = "COOKIE|SESSION|CSRF|CREDENTIAL|PWD|PRIVATE|BEARER"

_SAFE_REPR = (int, float, bool, type(None), complex, decimal.Decimal, uuid.UUID,
              datetime.date, datetime.time, datetime.timedelta, pathlib.PurePath, range)
_EXACT_SAFE = frozenset({int, bool, type(None), float})
# Branches of Describer._value, decided once per class (compared with "is").
_REPR, _STR_SUBCLASS, _BYTES, _TYPE, _LAZY, _PROMISE = (
    "repr", "str subclass", "bytes", "type", "lazy object", "promise")
_EXCEPTION, _REQUEST, _QUERYSET, _MAPPING, _SEQUENCE, _FUNCTION, _OTHER = (
    "exception", "request", "queryset", "mapping", "sequence", "function", "other")


class Describer:
    """Holds the redaction rule and the bounds; one per installed probe."""

    def __init__(self, max_len: int = 120, max_items: int = 16,
                 extra_pattern: str | None = None) -> None:
        pattern = f"{DJANGO_SENSITIVE}|{EXTRA_SENSITIVE}"
        if extra_pattern:
            pattern = f"{pattern}|{extra_pattern}"
        self.sensitive = re.compile(pattern, re.IGNORECASE)
        self.max_len = max_len
        self.max_items = max_items
        # id(type) -> (weakref(type), label): classes are long-lived, but a weak
        # reference keeps a dynamically created sender class collectable.
        self._type_labels: dict[int, tuple[weakref.ref, str]] = {}
        # id(code) -> (code, qualname, description): the code object (not the function or
        # its instance) is kept to pin the id; the qualname tells factory closures apart.
        self._receivers: dict[int, tuple[Any, str, tuple[str, str, str, int]]] = {}
        self._functions: dict[int, tuple[weakref.ref, tuple[str, str, str, int]]] = {}
        self._sensitive_names: dict[str, bool] = {}
        # id(class) -> (weakref(class), branch, model facts or None): see _value.
        self._kinds: dict[int, tuple[Any, str, tuple[str | None, str] | None]] = {}

    # ------------------------------------------------------------------ senders

    def type_label(self, cls: type) -> str:
        cached = self._type_labels.get(id(cls))
        if cached is not None and cached[0]() is cls:
            return cached[1]
        meta = cls.__dict__.get("_meta")
        label = getattr(meta, "label", None) if meta is not None else None
        if not isinstance(label, str):
            label = f"{cls.__module__}.{cls.__qualname__}"
        try:
            self._type_labels[id(cls)] = (weakref.ref(cls), label)
        except TypeError:
            pass
        return label

    def sender(self, sender: Any) -> str:
        if sender is None:
            return "None"
        if issubclass(type(sender), type):
            return self.type_label(sender)
        return self.value(sender)

    # ------------------------------------------------------------------ receivers

    def receiver(self, receiver: Any) -> tuple[str, str, str, int]:
        """(qualified name, module, file, first line) of a receiver callable."""
        # Fast path for plain functions (the usual receivers): one dict lookup and a weak
        # reference check, so a weakly connected receiver is never kept alive by us.
        hit = self._functions.get(id(receiver))
        if hit is not None and hit[0]() is receiver:
            return hit[1]
        desc = self._receiver(receiver)
        if type(receiver) is types.FunctionType:
            if len(self._functions) > 10_000:
                self._functions.clear()
            self._functions[id(receiver)] = (weakref.ref(receiver), desc)
        return desc

    def _receiver(self, receiver: Any) -> tuple[str, str, str, int]:
        func = getattr(receiver, "__func__", receiver)
        code = getattr(func, "__code__", None)
        qualname = getattr(func, "__qualname__", None)
        if code is not None:
            cached = self._receivers.get(id(code))
            if cached is not None and cached[0] is code and cached[1] is qualname:
                return cached[2]
        try:
            desc = self._describe_callable(func)
        except Exception:
            desc = (type(receiver).__qualname__, type(receiver).__module__, "?", 0)
        if code is not None:
            if len(self._receivers) > 10_000:  # bound the cache for code generated at run time
                self._receivers.clear()
            self._receivers[id(code)] = (code, qualname, desc)
        return desc

    @staticmethod
    def _describe_callable(func: Any) -> tuple[str, str, str, int]:
        target = inspect.unwrap(func) if callable(func) else func
        if isinstance(target, (types.FunctionType, types.BuiltinFunctionType)):
            name = target.__qualname__
            module = target.__module__ or "?"
        elif hasattr(target, "func"):  # functools.partial
            inner = target.func
            name = f"partial({getattr(inner, '__qualname__', type(inner).__qualname__)})"
            module = getattr(inner, "__module__", None) or "?"
            target = inner
        else:  # a callable instance
            name = f"{type(target).__qualname__}.__call__"
            module = type(target).__module__
            target = type(target).__call__
        code = getattr(target, "__code__", None)
        if code is None:
            return name, module, "?", 0
        return name, module, code.co_filename, code.co_firstlineno

    # ------------------------------------------------------------------ values

    def is_sensitive(self, name: str) -> bool:
        # Keyword names come from a small, fixed vocabulary: remember each verdict.
        verdict = self._sensitive_names.get(name)
        if verdict is None:
            verdict = bool(self.sensitive.search(name))
            if len(self._sensitive_names) < 4096:
                self._sensitive_names[name] = verdict
        return verdict

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
            text = f"<{type(value).__qualname__}>"
        if len(text) > self.max_len:
            text = text[: self.max_len - 1] + "…"
        return text

    def _value(self, value: Any, depth: int) -> str:
        # Only type(value) and the instance __dict__ are consulted: isinstance() and
        # hasattr() would make a lazy object (request.user, a lazy storage...) evaluate,
        # which may query the database.
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
        kind, model = hit[1], hit[2]
        if model is not None and "_state" in value.__dict__:  # a model instance
            return _model_instance(value, *model)
        if kind is _REPR:
            return repr(value)
        if kind is _REQUEST:
            # method and path are plain attributes; headers and cookies are not read.
            return f"{cls.__name__} {value.__dict__.get('method')} {value.__dict__.get('path')}"
        if kind is _STR_SUBCLASS:
            return repr(str.__str__(value)[: self.max_len])
        if kind is _BYTES:
            return f"<{cls.__name__} len={len(value)}>"
        if kind is _TYPE:
            return self.type_label(value)
        if kind is _LAZY:
            wrapped = value.__dict__.get("_wrapped", empty)
            if wrapped is empty:
                return f"<{cls.__name__} (not evaluated)>"
            return self._value(wrapped, depth)
        if kind is _PROMISE:
            return f"<lazy {cls.__name__}>"  # e.g. gettext_lazy: never forced
        if kind is _EXCEPTION:
            return f"{cls.__qualname__}: {self._exc_message(value)}"
        if kind is _QUERYSET:
            model = value.__dict__.get("model")
            label = self.type_label(model) if issubclass(type(model), type) else "?"
            return f"<QuerySet {label}>"  # never evaluated
        if kind is _MAPPING:
            return self._mapping(value, depth)
        if kind is _SEQUENCE:
            return self._sequence(value, depth)
        if kind is _FUNCTION:
            return f"<function {value.__qualname__}>"
        return f"<{cls.__module__}.{cls.__qualname__}>"

    def _classify(self, cls: type) -> tuple[Any, str, tuple[str | None, str] | None]:
        """(weakref to cls, branch of _value, (pk attname, label) if cls has a _meta)."""
        model = None
        if issubclass(cls, _SAFE_REPR) or issubclass(cls, enum.Enum):
            kind = _REPR
        elif issubclass(cls, str):
            kind = _STR_SUBCLASS
        elif issubclass(cls, (bytes, bytearray, memoryview)):
            kind = _BYTES
        elif issubclass(cls, type):
            kind = _TYPE
        elif issubclass(cls, LazyObject):
            kind = _LAZY
        elif issubclass(cls, Promise):
            kind = _PROMISE
        else:
            # From here on a model instance (class with _meta, instance with _state) wins.
            meta = getattr(cls, "_meta", None)
            if meta is not None:  # plain strings: nothing of the model is kept alive
                attname = getattr(getattr(meta, "pk", None), "attname", None)
                model = (attname, getattr(meta, "label", cls.__qualname__))
            if issubclass(cls, BaseException):
                kind = _EXCEPTION
            elif cls.__name__ in ("WSGIRequest", "ASGIRequest", "HttpRequest"):
                kind = _REQUEST
            elif issubclass(cls, QuerySet):
                kind = _QUERYSET
            elif issubclass(cls, dict):
                kind = _MAPPING
            elif issubclass(cls, (list, tuple, set, frozenset)):
                kind = _SEQUENCE
            elif issubclass(cls, (types.FunctionType, types.MethodType)):
                kind = _FUNCTION
            else:
                kind = _OTHER
        # A weak reference: a dynamically created class stays collectable (and its id
        # reusable: the reference is checked on every hit).
        entry = (weakref.ref(cls), kind, model)
        if len(self._kinds) > 10_000:  # bound it for classes created at run time
            self._kinds.clear()
        self._kinds[id(cls)] = entry
        return entry

    def _mapping(self, value: dict, depth: int) -> str:
        if depth >= 1:
            return f"<dict len={len(value)}>"
        # request_started's WSGI environ / ASGI scope: the request line says what matters
        # (headers and cookies are never read), and costs a fraction of six key summaries.
        method = value.get("REQUEST_METHOD")
        if type(method) is str and type(value.get("PATH_INFO")) is str:
            return (f"<WSGI environ {method[:16]} {value['PATH_INFO'][:self.max_len]} "
                    f"({len(value)} keys)>")
        kind = value.get("type")
        if kind in ("http", "websocket") and type(value.get("path")) is str:
            method = value.get("method")
            method = method[:16] + " " if type(method) is str else ""
            return f"<ASGI {kind} scope {method}{value['path'][:self.max_len]}>"
        parts = []
        for index, (k, v) in enumerate(value.items()):
            if index >= 6:
                parts.append("…")
                break
            key = k if type(k) is str else type(k).__name__
            shown = REDACTED if self.is_sensitive(key) else self._value(v, depth + 1)
            parts.append(f"{key!r}: {shown}")
        return "{" + ", ".join(parts) + "}"

    def _sequence(self, value: Any, depth: int) -> str:
        kind = type(value).__name__
        if depth >= 1:
            return f"<{kind} len={len(value)}>"
        items = [self._value(v, depth + 1) for _, v in zip(range(4), value, strict=False)]
        more = ", …" if len(value) > 4 else ""
        return f"{kind}[{', '.join(items)}{more}] len={len(value)}"

    def _exc_message(self, exc: BaseException) -> str:
        try:
            message = str(exc)
        except Exception:
            message = "<unprintable>"
        return message[: self.max_len * 4]

    def exception(self, exc: BaseException) -> tuple[str, str]:
        cls = type(exc)
        module = cls.__module__
        name = cls.__qualname__ if module in ("builtins", None) else f"{module}.{cls.__qualname__}"
        return name, self._exc_message(exc)


def _model_instance(instance: Any, attname: str | None, label: str) -> str:
    pk = instance.__dict__.get(attname) if attname else None  # no deferred load
    if pk is None:
        return f"{label} (unsaved)"
    return f"{label} pk={pk!r}" if not isinstance(pk, (int, str)) else f"{label} pk={pk}"
