"""Stable dotted names for Signal instances, and the registry of every signal known to the probe.

A signal has no name of its own, so we find the module attribute that holds it:
``django.db.models.signals.post_save``. Signals that existed before the probe was
installed are found by scanning ``sys.modules`` once; signals created later are
recorded at creation (``_dispatch`` patches ``Signal.__init__``) with their creating
module, so naming them later costs one dict lookup in that module.
"""

from __future__ import annotations

import functools
import sys
import threading
import types
import weakref
from collections.abc import Callable
from types import FrameType, ModuleType
from typing import Any

from django.dispatch import Signal

from .introspect import (
    class_dict,
    class_module,
    class_qualname,
    function_of,
    plain_str,
    static_lookup,
)

_PROBE_PREFIX = "django_probe"


def _rank(module: str, attr: str) -> tuple[int, int, str]:
    # Prefer the defining module: "x.signals" over a module that merely imported it,
    # then the shortest path (the public location), then alphabetical for stability.
    defining = 0 if module.rsplit(".", 1)[-1] == "signals" or ".signals." in module else 1
    return (defining, len(module), f"{module}.{attr}")


def as_is(name: str) -> str:
    """Names as themselves (no interning): the default where an ``intern`` is taken."""
    return name


class SignalRegistry:
    """id(signal) -> name and its ref (``intern``: the probe's ``Interner.ref``), plus a
    weak set of every signal seen (for topology)."""

    def __init__(self, intern: Callable[[str], int | str] = as_is) -> None:
        self.names: dict[int, str] = {}
        self.refs: dict[int, int | str] = {}  # id(signal) -> its name's ref
        self._intern = self.intern = intern  # (public: topology interns connect sites)
        self._created: dict[int, tuple[str, str, int]] = {}  # id -> (module, scope, line)
        self.known: weakref.WeakSet[Signal] = weakref.WeakSet()
        self._scanned_modules = 0  # len(sys.modules) at the last scan
        self._scanned: dict[str, int] = {}  # module name -> id(module) already scanned
        self._lock = threading.RLock()  # scans run on app and publisher threads; lookups don't lock
        self._unnamed = 0

    # ------------------------------------------------------------------ lookups

    def name(self, signal: Signal) -> str:
        """The dotted name; the hot path is a single dict lookup."""
        name = self.names.get(id(signal))
        if name is None:
            name = self._resolve(signal)
        return name

    def ref(self, signal: Signal) -> int | str:
        """The name's ref (an interned id, or the name past the interner's limit)."""
        ref = self.refs.get(id(signal))
        if ref is None:
            name = self.name(signal)
            ref = self.refs.get(id(signal))
            if ref is None:  # (forgotten meanwhile: its signal died on another thread)
                ref = self._intern(name)
        return ref

    def _remember(self, signal: Signal, name: str) -> None:
        key = id(signal)
        if key not in self.names:
            # Forget the name when the signal dies so a reused id is never mislabelled.
            weakref.finalize(signal, self._forget, key)
        self.refs[key] = self._intern(name)  # (before the name: readers test refs first)
        self.names[key] = name
        self.known.add(signal)

    def _forget(self, key: int) -> None:
        self.names.pop(key, None)
        self.refs.pop(key, None)
        self._created.pop(key, None)

    # ------------------------------------------------------------------ discovery

    def note_created(self, signal: Signal, frame: FrameType | None) -> None:
        """Called from the patched ``Signal.__init__`` with the creating frame."""
        if frame is None:
            return
        module = frame.f_globals.get("__name__", "?")
        self._created[id(signal)] = (module, frame.f_code.co_name, frame.f_lineno)
        self.known.add(signal)

    def _resolve(self, signal: Signal) -> str:
        with self._lock:
            name = self.names.get(id(signal))
            if name is not None:
                return name
            created = self._created.get(id(signal))
            if created is not None:
                name = self._from_creation_site(signal, *created)
            if name is None:
                self.scan()
                name = self.names.get(id(signal))
            if name is None:
                self._unnamed += 1
                if created is not None:
                    module, _scope, line = created
                    name = f"{module}.<signal line {line}>"
                else:
                    name = f"<unnamed {type(signal).__qualname__} #{self._unnamed}>"
            self._remember(signal, name)
            return name

    def _from_creation_site(self, signal: Signal, module: str, scope: str,
                            line: int) -> str | None:
        mod = sys.modules.get(module)
        if type(mod) is not ModuleType:  # (sys.modules may hold any object: not read)
            return None
        namespace = vars(mod)
        for attr, value in list(namespace.items()):
            if value is signal:
                return f"{module}.{attr}"
        owner = namespace.get(scope)  # a signal defined in a class body
        if issubclass(type(owner), type):
            for attr, value in list(class_dict(owner).items()):
                if value is signal:
                    return f"{module}.{scope}.{attr}"
        return None

    def scan(self) -> None:
        """Name every Signal reachable as a module attribute (newly imported modules only)."""
        with self._lock:
            self._scan()

    def _scan(self) -> None:
        if len(sys.modules) == self._scanned_modules:
            return  # (checked before copying: the publisher thread polls this)
        modules = list(sys.modules.items())
        self._scanned_modules = len(modules)
        scanned = self._scanned
        best: dict[int, tuple[tuple[int, int, str], Signal]] = {}
        for module_name, module in modules:
            # Only modules not read before (or replaced since): a lazy import in a big
            # project must not make the sender thread re-read thousands of modules while
            # holding the GIL (a full scan of ~650 modules measured ~3-20 ms here).
            if scanned.get(module_name) == id(module):
                continue
            if type(module) is not ModuleType or module_name.startswith(_PROBE_PREFIX):
                continue
            # From the module's own dict: a module __getattr__ (PEP 562) is its code.
            spec = vars(module).get("__spec__")
            if not getattr(spec, "_initializing", False):  # (one still importing: again)
                scanned[module_name] = id(module)
            try:
                items = list(vars(module).items())
            except Exception:  # exotic module objects
                continue
            for attr, value in items:
                # type() and never isinstance(): isinstance reads __class__, which makes a
                # lazy object (e.g. staticfiles_storage) evaluate itself.
                kind = type(value)
                if issubclass(kind, Signal):
                    self._consider(best, module_name, attr, value)
                elif issubclass(kind, type) and class_module(value) == module_name:
                    # Signals as class attributes of classes defined in this module (read
                    # past any metaclass: its hooks are the app's code).
                    for cls_attr, cls_value in list(class_dict(value).items()):
                        if issubclass(type(cls_value), Signal):
                            self._consider(best, module_name, f"{attr}.{cls_attr}", cls_value)
        for _key, (rank, signal) in best.items():
            created = self._created.get(id(signal))
            if created is not None:  # the creating module wins over any importer
                name = self._from_creation_site(signal, *created)
                if name is not None:
                    self._remember(signal, name)
                    continue
            if id(signal) not in self.names:
                self._remember(signal, rank[2])

    @staticmethod
    def _consider(best: dict, module_name: str, attr: str, signal: Signal) -> None:
        rank = _rank(module_name, attr)
        current = best.get(id(signal))
        if current is None or rank < current[0]:
            best[id(signal)] = (rank, signal)

    def signals(self) -> list[tuple[str, Signal]]:
        """(name, signal) for every known signal, sorted by name."""
        out = []
        for signal in list(self.known):
            out.append((self.name(signal), signal))
        out.sort(key=lambda item: item[0])
        return out


def creation_frame(start: FrameType | None) -> FrameType | None:
    """Skip ``__init__`` frames of Signal subclasses to reach the code that created it."""
    frame = start
    while frame is not None and frame.f_code.co_name == "__init__":
        candidate: Any = frame.f_locals.get("self")
        if not issubclass(type(candidate), Signal):  # (isinstance reads __class__)
            break
        frame = frame.f_back
    return frame


_method_func = types.MethodType.__dict__["__func__"].__get__
_partial_func = functools.partial.__dict__["func"].__get__
_builtin_name = types.BuiltinFunctionType.__dict__["__name__"].__get__
Description = tuple[str, str, str, int]  # (qualified name, module, file, first line)
# The same with each name as its ref (an interned id or the string): what events carry.
Refs = tuple[int | str, int | str, int | str, int]


class ReceiverNames:
    """Names receivers from their type and stored attributes only: never the instance's
    ``__getattr__`` (a ``MagicMock`` gains no attribute, a slow ``__getattr__`` costs
    nothing), and once per function or class (weakly, bounded). ``describe`` gives the
    names as refs (``intern``: the probe's ``Interner.ref``), interned once per entry."""

    def __init__(self, intern: Callable[[str], int | str] = as_is) -> None:
        self._intern = intern
        # id(key) -> (weakref(key), description); the key is the function (also of a bound
        # method, made afresh on every dispatch), the class of a callable instance (its
        # __call__ names it, never the instance), or the partial object itself.
        self._known: dict[int, tuple[weakref.ref, Refs]] = {}

    def describe(self, receiver: Any) -> Refs:
        # Fast path for plain functions (the usual receivers): one dict lookup and a weak
        # reference check, so a weakly connected receiver is never kept alive by us.
        hit = self._known.get(id(receiver))
        if hit is not None and hit[0]() is receiver:
            return hit[1]
        cls = type(receiver)
        if cls is types.FunctionType or cls is functools.partial:
            key = receiver
        elif cls is types.MethodType:
            key = _method_func(receiver)
        else:
            key = cls
        if key is not receiver:
            hit = self._known.get(id(key))
            if hit is not None and hit[0]() is key:
                return hit[1]
        try:
            desc = _callable(receiver, 0)
        except Exception:
            desc = (class_qualname(cls), class_module(cls), "?", 0)
        intern = self._intern
        desc = (intern(desc[0]), intern(desc[1]), intern(desc[2]), desc[3])
        if len(self._known) > 10_000:  # bound it for callables made at run time
            self._known.clear()
        try:
            self._known[id(key)] = (weakref.ref(key), desc)
        except TypeError:  # (not weakly referenceable: described again next time)
            pass
        return desc


def _callable(receiver: Any, depth: int) -> Description:
    func = function_of(receiver)  # a function, a bound method's, the innermost wrapped
    if func is not None:
        code = func.__code__
        return (func.__qualname__, plain_str(func.__module__) or "?", code.co_filename,
                code.co_firstlineno)
    cls = type(receiver)
    if issubclass(cls, functools.partial) and depth < 10:
        name, module, file, line = _callable(_partial_func(receiver), depth + 1)
        return f"partial({name})", module, file, line
    if cls is types.BuiltinFunctionType:
        return _builtin_name(receiver), "?", "?", 0
    # A callable instance: named by its class's __call__, looked up on the class.
    call = function_of(static_lookup(cls, "__call__"))
    name, module = f"{class_qualname(cls)}.__call__", class_module(cls)
    if call is None:
        return name, module, "?", 0
    return name, module, call.__code__.co_filename, call.__code__.co_firstlineno


def receiver_description(receiver: Any) -> Description:
    """(qualified name, module, file, first line) of a receiver, as strings; never raises."""
    try:
        return _callable(receiver, 0)
    except Exception:
        cls = type(receiver)
        return class_qualname(cls), class_module(cls), "?", 0
