"""Request table: the HTTP requests live rows belong to, forgotten once their rows are evicted."""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter

from django_probe import wire
from monitor_gui.core.evictable import EvictableTable
from monitor_gui.core.strings import NO_STRING, StringTable

NO_REQUEST = NO_STRING  # the "request" column value of a dispatch outside any request
_FIRST = itemgetter(0)


class RequestTable(EvictableTable[tuple[str, int, str, str | None]]):
    """Maps request id strings to int ids (the ``request`` column) and back to the request.

    Unlike ``StringTable`` this vocabulary is unbounded (one id per HTTP request, and
    paths carry object ids: ``/articles/17/edit/``), so an entry owns its id and path
    strings and ``retain`` drops the entries no live row uses (``EvictableTable``, which
    also says how ids are handed out). The method is a tiny vocabulary and stays
    interned in the shared ``StringTable``.
    """

    __slots__ = ("_strings",)

    def __init__(self, strings: StringTable) -> None:
        super().__init__()
        self._strings = strings

    def intern_many(self, requests: Sequence[Sequence[str] | None]) -> list[int]:
        """Column ids for ``requests`` ((id, method, path, traceparent) or None), in order.

        The first (method, path, traceparent) seen for a request id is kept.
        """
        if None in requests:
            return self._intern([r and r[0] for r in requests], requests)
        return self._intern(list(map(_FIRST, requests)), requests)

    def _value(self, key: str, item: Sequence[str | None]) -> tuple[str, int, str, str | None]:
        return (key, self._strings.intern(item[1]), item[2], item[3])

    def _key(self, value: tuple[str, int, str, str | None]) -> str:
        return value[0]

    def get(self, rid: int) -> wire.RequestInfo | None:
        """The request behind column value ``rid``; None for NO_REQUEST or a forgotten id."""
        found = self._values.get(rid)
        if found is None:
            return None
        key, method, path, traceparent = found
        return wire.RequestInfo(key, self._strings.get(method) or "", path, traceparent)
