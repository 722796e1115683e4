"""Describing values never runs application code: numbers, enums, strings, containers, errors."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from collections import namedtuple

from django.dispatch import Signal

from tests.django_probe.support import calls, dispatch


def tripwire(*names: str):
    """A class decorator: each named method records its call, then does the base's work."""
    def wrap(cls):
        for name in names:
            def hook(self, *args, _name=name, **kwargs):
                calls.append(f"{cls.__name__}.{_name}")
                return getattr(super(cls, self), _name)(*args, **kwargs)
            setattr(cls, name, hook)
        return cls
    return wrap


NUMBER_HOOKS = ("__repr__", "__str__", "__format__")


@tripwire(*NUMBER_HOOKS)
class Money(decimal.Decimal):
    pass


@tripwire(*NUMBER_HOOKS)
class Ratio(float):
    pass


@tripwire(*NUMBER_HOOKS)
class Count(int):
    pass


class Level(enum.IntEnum):
    LOW = 1

    def __repr__(self):
        calls.append("Level.__repr__")
        return "Level!"

    def __str__(self):
        calls.append("Level.__str__")
        return "Level!"

    def __format__(self, spec):
        calls.append("Level.__format__")
        return "Level!"


@tripwire("__repr__", "__str__", "__format__", "__len__", "__getitem__", "__iter__")
class Name(str):
    pass


@tripwire("get", "__iter__", "items", "keys", "values", "__len__", "__getitem__",
          "__repr__", "__contains__")
class Bag(dict):
    pass


@tripwire("__iter__", "__len__", "__getitem__", "__repr__")
class Items(list):
    pass


@tripwire("__iter__", "__len__", "__getitem__", "__repr__")
class Pair(namedtuple("PairBase", "a b")):
    pass


@tripwire("__len__", "__repr__", "__str__")
class Blob(bytes):
    pass


class Boom(Exception):
    def __str__(self):
        calls.append("Boom.__str__")
        return "boom"

    def __repr__(self):
        calls.append("Boom.__repr__")
        return "Boom()"


class Unreachable(ConnectionError):
    """Like the demo's WebhookUnreachable: a user class with the built-in __str__."""


class MissingKey(KeyError):
    pass


class Spy:
    """Any object: every attribute read past the stored ones is recorded."""

    def __getattribute__(self, name):
        calls.append(f"Spy.__getattribute__({name})")
        return object.__getattribute__(self, name)

    def __getattr__(self, name):
        calls.append(f"Spy.__getattr__({name})")
        raise AttributeError(name)


class Zone(dt.tzinfo):
    def utcoffset(self, when):
        calls.append("Zone.utcoffset")
        return dt.timedelta(0)

    def __repr__(self):
        calls.append("Zone.__repr__")
        return "Zone()"


def returning(value):
    def receiver(sender, **kwargs):
        return value
    return receiver


def raising(exc):
    def receiver(sender, **kwargs):
        raise exc
    return receiver


def test_user_number_subclasses_are_shown_through_their_base_never_their_repr(events):
    signal = Signal()
    signal.connect(returning(Count(7)), weak=False)
    event = dispatch(events, signal, price=Money("1.50"), ratio=Ratio(0.5), count=Count(3))
    assert event.kwargs == {"price": f"<{Money.__module__}.Money>", "ratio": "<Ratio 0.5>",
                            "count": "<Count 3>"}
    assert event.receivers[0].value == "<Count 7>"


def test_enum_members_are_named_from_their_stored_name_and_value(events):
    signal = Signal()
    signal.connect(returning(Level.LOW), weak=False)
    event = dispatch(events, signal, level=Level.LOW)
    assert event.kwargs == {"level": "<Level.LOW: 1>"}
    assert event.receivers[0].value == "<Level.LOW: 1>"


def test_str_subclasses_are_copied_by_str_never_by_their_own_methods(events):
    signal = Signal()
    signal.connect(returning(Name("bob")), weak=False)
    event = dispatch(events, signal, name=Name("alice"))
    assert event.kwargs == {"name": "'alice'"}
    assert event.receivers[0].value == "'bob'"


def test_dict_list_tuple_and_bytes_subclasses_are_shown_by_class_and_base_size(events):
    signal = Signal()
    signal.connect(returning(Bag(a=1)), weak=False)
    event = dispatch(events, signal, bag=Bag(a=1, b=2), items=Items([1, 2, 3]),
                     pair=Pair(1, 2), blob=Blob(b"xyz"), nested={"inner": Bag(c=3)})
    assert event.kwargs == {"bag": "<Bag len=2>", "items": "<Items len=3>",
                            "pair": "<Pair len=2>", "blob": "<Blob len=3>",
                            "nested": "{'inner': <Bag len=1>}"}
    assert event.receivers[0].value == "<Bag len=1>"


def test_user_exceptions_as_kwargs_are_shown_by_class_never_str(events):
    signal = Signal()
    signal.connect(returning(None), weak=False)
    event = dispatch(events, signal, error=Boom("secret"), plain=ValueError("bad value"),
                     odd=ValueError(Name("user str")))
    assert event.kwargs == {"error": "Boom", "plain": "ValueError: bad value",
                            "odd": "ValueError"}


def test_exceptions_raised_by_receivers_get_a_message_only_from_plain_builtin_args(events):
    described = []
    for exc in (Boom("secret"), ValueError("plain"), KeyError("k"),
                FileNotFoundError(2, "No such file"), ValueError(Count(3)),
                Unreachable("POST https://hooks.invalid/: unreachable"), MissingKey("m")):
        signal = Signal()
        signal.connect(raising(exc), weak=False)
        row = dispatch(events, signal, method="send").receivers[0]  # (send() logs nothing)
        described.append((row.exc_type, row.exc_msg))
    # A user class that does not define __str__ has the built-in message str() would give
    # (built from its args, not by calling it); one that defines __str__ has none.
    assert described == [
        (f"{__name__}.Boom", ""), ("ValueError", "plain"), ("KeyError", "'k'"),
        ("FileNotFoundError", "[Errno 2] No such file"), ("ValueError", ""),
        (f"{__name__}.Unreachable", "POST https://hooks.invalid/: unreachable"),
        (f"{__name__}.MissingKey", "'m'")]
    assert [str(e) for e in (Unreachable("x"), MissingKey("m"))] == ["x", "'m'"]
    assert "Boom.__str__" not in calls and "Boom.__repr__" not in calls


def test_objects_are_read_past_their_getattribute_and_getattr(events):
    signal = Signal()
    signal.connect(returning(Spy()), weak=False)
    event = dispatch(events, signal, sender=Spy(), spy=Spy())
    assert event.sender == event.kwargs["spy"] == f"<{__name__}.Spy>"
    assert event.receivers[0].value == f"<{__name__}.Spy>"


def test_datetimes_with_a_user_tzinfo_never_call_it(events):
    signal = Signal()
    signal.connect(returning(None), weak=False)
    when = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=Zone())
    event = dispatch(events, signal, when=when, utc=when.replace(tzinfo=dt.timezone.utc))
    assert event.kwargs["when"] == (
        f"datetime.datetime(2024, 5, 6, 7, 8, 9) tz=<{__name__}.Zone>")
    assert event.kwargs["utc"] == repr(when.replace(tzinfo=dt.timezone.utc))
