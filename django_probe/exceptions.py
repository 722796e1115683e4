"""An exception's message as its built-in ``__str__`` would format it, without running it."""

from __future__ import annotations

import builtins

from .introspect import builtin_base

# Built-in exception classes: only theirs (exact) get a message, built from plain args.
_BUILTIN_EXCEPTIONS = frozenset(
    v for v in vars(builtins).values() if isinstance(v, type) and issubclass(v, BaseException))
_exception_args = BaseException.__dict__["args"].__get__


def exception_message(exc: BaseException, limit: int) -> str:
    """A bounded message built from ``args`` (plain str/int only), as the built-in
    ``__str__`` that would run formats it; never ``str(exc)``. "" when a class of the
    exception's own defines ``__str__`` (its message is code we do not run)."""
    cls = builtin_base(type(exc), "__str__")
    if cls not in _BUILTIN_EXCEPTIONS:
        return ""
    args = _exception_args(exc)
    shown = []
    for arg in args:
        if type(arg) is str:
            shown.append(arg[:limit])
        elif (type(arg) is int and -(10**60) < arg < 10**60) or type(arg) is bool:
            shown.append(arg)
        else:
            return ""
    if not shown:
        return ""
    if issubclass(cls, OSError) and len(shown) == 2 and type(shown[0]) is int:
        message = f"[Errno {shown[0]}] {shown[1]}"  # as str() shows it
    elif len(shown) > 1:
        message = repr(tuple(shown))
    elif cls is KeyError:
        message = repr(shown[0])  # as str() shows it
    else:
        message = str(shown[0])  # (an exact str, int or bool)
    return message[:limit]
