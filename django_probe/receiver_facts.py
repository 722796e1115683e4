"""What a receiver accepts and how it is named, read from code objects (never by
``inspect.signature``, which can run the app's ``__signature__``/``__getattr__``), cached
per code where that is exact. Used where receivers are connected (``_dispatch_connect``)
and in topology snapshots.
"""

from __future__ import annotations

import functools
import types
from inspect import CO_VARKEYWORDS
from typing import Any

from .introspect import static_lookup
from .naming import Description, receiver_description

_MAX_FACTS = 20_000  # bounded for code generated at run time
_method_func = types.MethodType.__dict__["__func__"].__get__
_func_defaults = types.FunctionType.__dict__["__defaults__"].__get__
_func_kwdefaults = types.FunctionType.__dict__["__kwdefaults__"].__get__

Params = tuple[list[str], list[str], bool]  # (keyword names, required names, **kwargs)


def params_of(receiver: Any) -> Params | None:
    """The keyword names a call can pass, the required ones, and whether it takes
    **kwargs; None when it is not a plain function, method or instance with one."""
    cls = type(receiver)
    bound = True
    if cls is types.MethodType:
        func = _method_func(receiver)
    elif cls is types.FunctionType:
        func, bound = receiver, False
    else:  # a callable instance: its class's __call__, looked up past any metaclass
        func = static_lookup(cls, "__call__")
    if type(func) is not types.FunctionType:
        return None
    code = func.__code__  # the called function's own code (a wrapper's, not __wrapped__)
    n, kwonly, posonly = code.co_argcount, code.co_kwonlyargcount, code.co_posonlyargcount
    names = code.co_varnames[:n + kwonly]
    first = 1 if bound else 0
    if bound and n == 0:
        return None  # (self taken by *args: not a shape we read)
    positional = list(names[first:n])
    defaults = _func_defaults(func) or ()
    kwdefaults = _func_kwdefaults(func) or {}
    required = [p for i, p in enumerate(positional) if first + i < n - len(defaults)]
    required += [p for p in names[n:] if p not in kwdefaults]
    accepts = positional[max(posonly - first, 0):] + list(names[n:])
    return accepts, required, bool(code.co_flags & CO_VARKEYWORDS)


# (description, params) per the code behind a receiver: Django's test client connects a
# new partial and a bound method on every request, and describing them afresh cost ~10 µs
# a connect() (docs/performance.md, scenario d). The key pins the code object; a function
# that wraps another (``__wrapped__``) or any other callable is described each time.
_FACTS: dict[tuple, tuple[Description, Params | None]] = {}
_partial_func = functools.partial.__dict__["func"].__get__
_function_dict = types.FunctionType.__dict__["__dict__"].__get__


def _facts_key(receiver: Any) -> tuple | None:
    cls = type(receiver)
    if cls is functools.partial:
        inner = _facts_key(_partial_func(receiver))
        return None if inner is None else ("partial", *inner)
    if cls is types.MethodType:
        func, bound = _method_func(receiver), True
    elif cls is types.FunctionType:
        func, bound = receiver, False
    else:
        return None
    if type(func) is not types.FunctionType or "__wrapped__" in _function_dict(func):
        return None
    kwdefaults = _func_kwdefaults(func)
    return (func.__code__, bound, func.__qualname__, func.__module__,
            len(_func_defaults(func) or ()), tuple(kwdefaults) if kwdefaults else ())


def receiver_facts(receiver: Any) -> tuple[Description, Params | None]:
    """(description, params) of ``receiver``, cached per code where that is exact."""
    try:
        key = _facts_key(receiver)
        hit = _FACTS.get(key) if key is not None else None
    except TypeError:  # an unhashable piece (a __module__ that is no str): no cache
        key = hit = None
    if hit is not None:
        return hit
    facts = (receiver_description(receiver), params_of(receiver))
    if key is not None:
        if len(_FACTS) >= _MAX_FACTS:
            _FACTS.clear()
        _FACTS[key] = facts
    return facts
