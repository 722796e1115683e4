"""Evictable string tables: one store column's strings, forgotten once no live row uses them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from monitor_gui.core.strings import NO_STRING

MAX_ID = 2**31 - 1  # the columns these ids live in are int32
V = TypeVar("V")


class EvictableTable(Generic[V]):
    """Maps string keys to int ids (one store column's values) and ids to a value ``V``.

    For vocabularies that grow without bound over a long session (one request id per
    HTTP request; one thread name per request under Django's threaded dev server:
    ``Thread-1234 (process_request_thread)``), which the shared ``StringTable`` must
    not hold forever. ``retain(live)`` drops the ids no live row uses; the store calls
    it amortized after evictions (``DispatchStore.sweep``).

    Ids are handed out in increasing order and not reused until the counter wraps at
    2**31 (ids still in use are skipped), so a view that cached a label for an id never
    sees it name another key. The key None maps to NO_STRING. Subclasses say what a
    value is (``_value``) and how to read it back (their own ``get``).
    """

    __slots__ = ("_ids", "_next", "_values")

    def __init__(self) -> None:
        # None maps to NO_STRING so optional values intern without a per-item branch.
        self._ids: dict[str | None, int] = {None: NO_STRING}
        self._values: dict[int, V] = {}
        self._next = 0

    def _intern(self, keys: Sequence[str | None], items: Sequence[Any]) -> list[int]:
        """Ids of ``keys``; a new key's value is ``_value(key, item)`` of its ``items`` entry.

        The common case, every key already known, runs at C speed.
        """
        getitem = self._ids.__getitem__
        try:
            return list(map(getitem, keys))
        except KeyError:
            ids, add = self._ids, self._add
            # A key missing from ids is never None (None maps to NO_STRING).
            return [ids[k] if k in ids else add(k, item)  # type: ignore[arg-type]
                    for k, item in zip(keys, items, strict=True)]

    def _add(self, key: str, item: Any) -> int:
        sid = self._next
        while sid in self._values:  # only after the counter wrapped
            sid = sid + 1 if sid < MAX_ID else 0
        self._next = sid + 1 if sid < MAX_ID else 0
        self._ids[key] = sid
        self._values[sid] = self._value(key, item)
        return sid

    def _value(self, key: str, item: Any) -> V:
        raise NotImplementedError

    def _key(self, value: V) -> str:
        raise NotImplementedError

    def lookup(self, key: str) -> int | None:
        """The id of ``key`` if a remembered entry has it (never adds)."""
        if key is None:
            return None
        return self._ids.get(key)

    def retain(self, live: np.ndarray) -> int:
        """Forget every id not in ``live`` (the column of the live rows); return how many.

        Costs a pass over the live rows, so the store calls it amortized, never per batch.
        """
        keep = set(np.unique(live).tolist())
        values = self._values
        dropped = [sid for sid in values if sid not in keep]
        ids, key = self._ids, self._key
        for sid in dropped:
            del ids[key(values.pop(sid))]
        return len(dropped)

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        self._ids.clear()
        self._ids[None] = NO_STRING
        self._values.clear()
        self._next = 0


class EvictableStrings(EvictableTable[str]):
    """An evictable table whose value is the string itself (thread names)."""

    __slots__ = ()

    def intern_many(self, values: Sequence[str | None]) -> list[int]:
        """Ids of ``values`` (read twice if new strings appear), in order."""
        return self._intern(values, values)

    def get(self, string_id: int) -> str | None:
        """The string behind ``string_id``; None for NO_STRING or a forgotten id."""
        return self._values.get(string_id)

    def _value(self, key: str, item: Any) -> str:
        return key

    def _key(self, value: str) -> str:
        return value
