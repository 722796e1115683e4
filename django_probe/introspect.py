"""Reading classes and instances without running their code (docs/probe.md, "What
describing a value may do").

``obj.attr``, ``getattr()``, ``hasattr()`` and ``isinstance()`` may run application code: a
``__getattr__``/``__getattribute__``, a property, a metaclass's hooks, ``__class__``. These
helpers go to the C-level descriptors of ``type`` and to class ``__dict__``s instead,
so they read only what is stored.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

from django.db.models.options import Options

# The C getters behind type's own attributes: a metaclass cannot intercept them.
_mro_of = type.__dict__["__mro__"].__get__
_namespace_of = type.__dict__["__dict__"].__get__
_qualname_of = type.__dict__["__qualname__"].__get__
_name_of = type.__dict__["__name__"].__get__
_module_of = type.__dict__["__module__"].__get__
_MISSING = object()


def plain_str(value: Any) -> str | None:
    """``value`` as an exact ``str`` if it is one or a subclass of one (copied by
    ``str.__str__``, which runs no override), else None."""
    if type(value) is str:
        return value
    if issubclass(type(value), str):
        return str.__str__(value)
    return None


def builtin_base(cls: type, method: str) -> type | None:
    """The first built-in class in ``cls``'s MRO, if no class before it defines ``method``
    (read from the class namespaces, past any metaclass); None if one does."""
    for klass in _mro_of(cls):
        if _module_of(klass) == "builtins":
            return klass
        if method in _namespace_of(klass):
            return None
    return None


def class_dict(cls: type) -> Any:
    """The class's own namespace (a read-only mapping), past any metaclass."""
    return _namespace_of(cls)


def class_qualname(cls: type) -> str:
    return plain_str(_qualname_of(cls)) or "?"


def class_name(cls: type) -> str:
    return plain_str(_name_of(cls)) or "?"


def class_module(cls: type) -> str:
    try:
        return plain_str(_module_of(cls)) or "?"
    except Exception:  # (a heap type whose __dict__ lost '__module__')
        return "?"


def class_path(cls: type) -> str:
    """``module.Qualname``, or just the qualname for builtins."""
    module = class_module(cls)
    name = class_qualname(cls)
    return name if module == "builtins" else f"{module}.{name}"


def static_lookup(cls: type, name: str, default: Any = None) -> Any:
    """What ``cls.name`` is stored as along the MRO (no descriptor is called)."""
    for klass in _mro_of(cls):
        value = _namespace_of(klass).get(name, _MISSING)
        if value is not _MISSING:
            return value
    return default


def instance_dict_getter(cls: type) -> Callable[[Any], dict] | None:
    """A callable giving the instance ``__dict__`` of ``cls``'s instances without running
    their code (no ``__getattribute__``), or None (no ``__dict__``, or a replaced one).
    It holds no reference to ``cls``, so it can be cached beside a weak reference."""
    mro = _mro_of(cls)
    index = next((i for i, klass in enumerate(mro) if "__dict__" in _namespace_of(klass)),
                 None)
    if index is None:
        return None
    if type(_namespace_of(mro[index])["__dict__"]) is not types.GetSetDescriptorType:
        return None  # (the one a class gets for its instance dict, not a user's object)
    if static_lookup(cls, "__getattribute__") is _OBJECT_GETATTRIBUTE:
        return _plain_dict  # (finds that descriptor first: nothing else runs)
    return functools.partial(_dict_through_descriptor, index)


def _plain_dict(obj: Any) -> dict:
    return obj.__dict__


def _dict_through_descriptor(index: int, obj: Any) -> dict:
    return _namespace_of(_mro_of(type(obj))[index])["__dict__"].__get__(obj)


_OBJECT_GETATTRIBUTE = object.__dict__["__getattribute__"]


def function_of(obj: Any) -> types.FunctionType | None:
    """The plain function behind ``obj``: itself, a bound method's ``__func__``, the
    innermost of a chain of ``functools.wraps`` wrappers (read from function
    ``__dict__``s only), or None."""
    if type(obj) is types.MethodType:
        obj = _method_func(obj)
    if type(obj) is not types.FunctionType:
        return None
    for _ in range(100):  # (a cycle of __wrapped__ must not hang us)
        inner = _function_dict(obj).get("__wrapped__")
        if type(inner) is types.MethodType:
            inner = _method_func(inner)
        if type(inner) is not types.FunctionType:
            break
        obj = inner
    return obj


_method_func = types.MethodType.__dict__["__func__"].__get__
_function_dict = types.FunctionType.__dict__["__dict__"].__get__


def model_facts(cls: type) -> tuple[str | None, str] | None:
    """(pk attname, label) of a class with a ``_meta``, or None: Django's ``Options`` read
    as Django does; anything else only through plain stored strings."""
    meta = static_lookup(cls, "_meta")
    if meta is None:
        return None
    if type(meta) is Options:
        pk = meta.pk
        attname = getattr(pk, "attname", None) if pk is not None else None
        return (attname if type(attname) is str else None), str(meta.label)
    label = stored(meta, "label")
    pk = stored(meta, "pk")
    attname = stored(pk, "attname") if pk is not None else None
    return (attname if type(attname) is str else None,
            label if type(label) is str else f"{class_module(cls)}.{class_qualname(cls)}")


def stored(obj: Any, name: str) -> Any:
    """``obj.name`` as stored in its instance or class ``__dict__``; None if it is missing
    or a descriptor (whose ``__get__`` would run code)."""
    getter = instance_dict_getter(type(obj))
    if getter is not None:
        fields = getter(obj)
        if name in fields:
            return fields[name]
    value = static_lookup(type(obj), name)
    return None if static_lookup(type(value), "__get__") is not None else value
