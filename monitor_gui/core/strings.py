"""Interned string table: every repeated name is stored once and referenced by an int id."""

from __future__ import annotations

from collections.abc import Sequence

NO_STRING = -1  # id stored in a column when the value is absent (None)


class StringTable:
    """Maps strings to dense int ids and back.

    Ids are never reused or removed until ``clear()``: columns in the store hold ids,
    so a table that forgot a string would make old rows unreadable. Only bounded
    vocabularies (signal, sender, receiver, file, function, HTTP methods) are interned;
    free-form values (kwargs, return values) live in object columns, and request ids
    and paths (one per request) and thread names (runserver names a thread per request)
    in the store's evictable tables (``evictable.py``), which forget them with their rows.
    """

    __slots__ = ("_ids", "_strings")

    def __init__(self) -> None:
        # None maps to NO_STRING so optional fields intern without a per-item branch.
        self._ids: dict[str | None, int] = {None: NO_STRING}
        self._strings: list[str] = []

    def intern(self, value: str | None) -> int:
        """Return the id of ``value``, adding it if it is new (None -> NO_STRING)."""
        ids = self._ids
        found = ids.get(value)
        if found is None:
            found = ids[value] = len(self._strings)
            self._strings.append(value)  # type: ignore[arg-type]
        return found

    def intern_many(self, values: Sequence[str | None]) -> list[int]:
        """Ids of ``values`` (a sequence: read twice if new strings appear), in order.

        The common case, every string already known, runs at C speed.
        """
        getitem = self._ids.__getitem__
        try:
            return list(map(getitem, values))
        except KeyError:
            intern = self.intern
            return [intern(v) for v in values]

    def get(self, string_id: int) -> str | None:
        """The string for ``string_id``; None for NO_STRING."""
        if string_id < 0:
            return None
        return self._strings[string_id]

    def lookup(self, value: str) -> int | None:
        """The id of ``value`` if it was ever interned, else None (never adds)."""
        if value is None:
            return None
        return self._ids.get(value)

    def matching(self, needle: str) -> list[int]:
        """Ids of every string containing ``needle`` (case-insensitive)."""
        needle = needle.lower()
        return [i for i, s in enumerate(self._strings) if needle in s.lower()]

    def __len__(self) -> int:
        return len(self._strings)

    def clear(self) -> None:
        self._ids.clear()
        self._ids[None] = NO_STRING
        self._strings.clear()
