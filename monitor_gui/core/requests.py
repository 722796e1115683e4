"""Request table: the HTTP requests live rows belong to, forgotten once their rows are evicted."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from django_probe import wire
from monitor_gui.core.strings import NO_STRING, StringTable

NO_REQUEST = NO_STRING  # the "request" column value of a dispatch outside any request
_MAX_ID = 2**31 - 1  # the "request" column is int32


class RequestTable:
    """Maps request id strings to int ids (the ``request`` column) and back to the request.

    Unlike ``StringTable`` this vocabulary is unbounded (one id per HTTP request, and
    paths carry object ids: ``/articles/17/edit/``), so an entry owns its id and path
    strings and ``retain`` drops the entries no live row uses. The method is a tiny
    vocabulary and stays interned in the shared ``StringTable``.

    Int ids are handed out in increasing order and not reused until the counter wraps at
    2**31 (ids still in use are skipped), so a view that cached a label for an id never
    sees it name another request.
    """

    __slots__ = ("_ids", "_info", "_next", "_strings")

    def __init__(self, strings: StringTable) -> None:
        self._strings = strings
        # None maps to NO_REQUEST so dispatches outside a request need no per-item branch.
        self._ids: dict[str | None, int] = {None: NO_REQUEST}
        self._info: dict[int, tuple[str, int, str]] = {}  # id -> (request id, method id, path)
        self._next = 0

    def intern_many(self, requests: Sequence[Sequence[str] | None]) -> list[int]:
        """Column ids for ``requests`` ((id, method, path) triples or None), in order.

        The first (method, path) seen for a request id is kept. The common case, every
        request already known, runs at C speed.
        """
        keys = [r and r[0] for r in requests]
        getitem = self._ids.__getitem__
        try:
            return list(map(getitem, keys))
        except KeyError:
            ids, add = self._ids, self._add
            # A key missing from ids is never None (None maps to NO_REQUEST), so r is a triple.
            return [ids[k] if k in ids else add(r)  # type: ignore[arg-type]
                    for k, r in zip(keys, requests, strict=True)]

    def _add(self, request: Sequence[str]) -> int:
        rid = self._next
        while rid in self._info:  # only after the counter wrapped
            rid = rid + 1 if rid < _MAX_ID else 0
        self._next = rid + 1 if rid < _MAX_ID else 0
        key, method, path = request[0], request[1], request[2]
        self._ids[key] = rid
        self._info[rid] = (key, self._strings.intern(method), path)
        return rid

    def get(self, rid: int) -> wire.RequestInfo | None:
        """The request behind column value ``rid``; None for NO_REQUEST or a forgotten id."""
        found = self._info.get(rid)
        if found is None:
            return None
        key, method, path = found
        return wire.RequestInfo(key, self._strings.get(method) or "", path)

    def lookup(self, request_id: str) -> int | None:
        """The int id of request ``request_id`` if a remembered one has it (never adds)."""
        if request_id is None:
            return None
        return self._ids.get(request_id)

    def retain(self, live: np.ndarray) -> int:
        """Forget every request whose id is not in ``live`` (ids of live rows); return how many.

        Called after evictions, amortized (see ``DispatchStore``): it costs a pass over
        the live rows, never work per appended row.
        """
        keep = set(np.unique(live).tolist())
        dropped = [rid for rid in self._info if rid not in keep]
        ids, info = self._ids, self._info
        for rid in dropped:
            del ids[info.pop(rid)[0]]
        return len(dropped)

    def __len__(self) -> int:
        return len(self._info)

    def clear(self) -> None:
        self._ids.clear()
        self._ids[None] = NO_REQUEST
        self._info.clear()
        self._next = 0
