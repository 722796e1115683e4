"""Recordings: JSON Lines of wire events (self-describing dict form), optionally compressed.

One line per event: ``wire.event_to_dict(event)`` plus ``proc`` ({pid, host, boot}) and
``seq`` (its sequence number). Events rejected by validation are kept as a
``{"kind": "malformed", "count": n, ...}`` line so loss accounting survives a round trip
(the exact seq of an event that followed a rejected one within a frame is approximate).
``.gz`` and ``.zst`` suffixes compress (zstd needs the ``zstandard`` package).
Reading is as untrusted as the socket: bad lines are counted, never raised.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django_probe import wire
from monitor_gui.core.lines import decode_dispatch_line

try:  # msgspec is a dependency; the stdlib json is the fallback for odd environments
    import msgspec

    _encode = msgspec.json.Encoder().encode
    _json_decode = msgspec.json.Decoder().decode
except ImportError:  # pragma: no cover
    def _encode(record: Any) -> bytes:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()

    _json_decode = json.loads

MALFORMED = "malformed"
MAX_EVENTS_PER_FRAME = 1_000  # consecutive lines of one process are regrouped into frames
MAX_LINE = wire.MAX_FRAME_BYTES


def _open(path: str | Path, mode: str) -> IO[Any]:
    """Read as text (errors replaced: the file is untrusted); write UTF-8 bytes."""
    name = str(path)
    text = mode == "r"
    if name.endswith(".gz"):
        if text:
            return gzip.open(name, "rt", encoding="utf-8", errors="replace")
        return gzip.open(name, "wb", compresslevel=3)  # level 9 (the default) halves speed
    if name.endswith(".zst"):
        try:
            import zstandard
        except ImportError:
            raise RuntimeError("reading/writing .zst needs the 'zstandard' package "
                               "(pip install 'django-signal-monitor[compress]')") from None
        raw = open(name, "rb" if text else "wb")  # noqa: SIM115 - closed with its wrapper
        if text:
            stream = zstandard.ZstdDecompressor().stream_reader(raw)
            return io.TextIOWrapper(stream, encoding="utf-8", errors="replace")
        return zstandard.ZstdCompressor().stream_writer(raw)  # type: ignore[return-value]
    if text:
        return open(name, encoding="utf-8", errors="replace")
    return open(name, "wb")


def _proc_dict(proc: wire.Proc) -> dict[str, Any]:
    return {"pid": proc.pid, "host": proc.host, "boot": proc.boot}


_DISPATCH_FIELDS = wire.Dispatch._fields
_CALL_FIELDS = wire.ReceiverCall._fields
_SITE_FIELDS = wire.CallSite._fields
_REQUEST_FIELDS = wire.RequestInfo._fields


def event_dict(event: Any) -> dict[str, Any]:
    """``wire.event_to_dict`` for any tuple in wire field order (NamedTuple or plain).

    Dispatches, the bulk of every recording, are converted with precomputed field names:
    about 8x faster than the generic recursive conversion, with the same result.
    """
    if event[0] != wire.KIND_DISPATCH:
        return wire.event_to_dict(event)
    d = dict(zip(_DISPATCH_FIELDS, event, strict=True))
    if d["site"] is not None:
        d["site"] = dict(zip(_SITE_FIELDS, d["site"], strict=True))
    if d["request"] is not None:
        d["request"] = dict(zip(_REQUEST_FIELDS, d["request"], strict=True))
    d["receivers"] = [dict(zip(_CALL_FIELDS, r, strict=True)) for r in d["receivers"]]
    return d


class RecordingWriter:
    """Append frames to a JSON Lines recording; ``close()`` flushes everything."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file = _open(path, "w")
        self.events = 0
        self.malformed = 0

    def write(self, frame: wire.Frame) -> None:
        """Write a frame; its events may be wire NamedTuples or plain tuples in field order."""
        proc = _proc_dict(frame.proc)
        lines = []
        for i, event in enumerate(frame.events):
            record = event_dict(event)
            record["proc"] = proc
            record["seq"] = frame.seq + i
            lines.append(_encode(record))
        if frame.malformed:
            lines.append(_encode({"kind": MALFORMED, "proc": proc,
                                  "seq": frame.seq + len(frame.events),
                                  "count": frame.malformed}))
        if lines:
            lines.append(b"")
            self._file.write(b"\n".join(lines))
        self.events += len(frame.events)
        self.malformed += frame.malformed

    def write_bad_frame(self, proc: wire.Proc | None) -> None:
        """Note a frame that could not be decoded at all (no sequence number is known)."""
        record: dict[str, Any] = {"kind": MALFORMED, "count": 1, "seq": None,
                                  "proc": None if proc is None else _proc_dict(proc)}
        self._file.write(_encode(record) + b"\n")
        self.malformed += 1

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _loads(line: str) -> Any:
    try:
        return _json_decode(line)
    except Exception:  # msgspec is stricter (e.g. ints beyond 64 bits): let json judge
        return json.loads(line)


def _proc(value: Any) -> wire.Proc | None:
    if (isinstance(value, dict) and type(value.get("pid")) is int
            and isinstance(value.get("host"), str) and isinstance(value.get("boot"), str)):
        return wire.Proc(value["pid"], value["host"], value["boot"])
    return None


class RecordingReader:
    """Iterate a recording as ``wire.Frame``s; ``malformed`` counts lines with no usable sender."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.malformed = 0  # unparsable lines, or bad-frame notes with no identifiable process
        self.lines = 0

    def _records(self, f: IO[str]) -> Iterator[tuple[wire.Proc, int, list[wire.Event], int]]:
        for line in f:
            self.lines += 1
            if not line.strip():
                continue
            fast = decode_dispatch_line(line) if len(line) <= MAX_LINE else None
            if fast is not None:  # the common case: a valid dispatch, validated in C
                yield fast[0], fast[1], [fast[2]], 0
                continue
            try:
                record = _loads(line) if len(line) <= MAX_LINE else None
            except ValueError:
                record = None
            proc = _proc(record.get("proc")) if isinstance(record, dict) else None
            seq = record.get("seq") if isinstance(record, dict) else None
            if proc is None or not (type(seq) is int and seq >= 0):
                self.malformed += 1
                continue
            if record.get("kind") == MALFORMED:  # type: ignore[union-attr]
                count = record.get("count")  # type: ignore[union-attr]
                yield proc, seq, [], count if type(count) is int and count > 0 else 1
                continue
            try:
                yield proc, seq, [wire.event_from_dict(record)], 0  # type: ignore[arg-type]
            except (wire.WireError, TypeError, ValueError):
                yield proc, seq, [], 1

    def __iter__(self) -> Iterator[wire.Frame]:
        with _open(self.path, "r") as f:
            current: tuple[wire.Proc, int, list[wire.Event], int] | None = None
            for proc, seq, events, bad in self._records(f):
                if current is not None:
                    cproc, cseq, cevents, cbad = current
                    contiguous = cproc == proc and seq == cseq + len(cevents) + cbad
                    if contiguous and not cbad and len(cevents) < MAX_EVENTS_PER_FRAME:
                        cevents.extend(events)
                        current = (cproc, cseq, cevents, bad)
                        continue
                    yield wire.Frame(*current)
                current = (proc, seq, events, bad)
            if current is not None:
                yield wire.Frame(*current)


def read_recording(path: str | Path) -> Iterator[wire.Frame]:
    """The frames of a recording, in file order (consecutive events regrouped per process)."""
    return iter(RecordingReader(path))
