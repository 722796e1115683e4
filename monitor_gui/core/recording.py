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

MALFORMED = "malformed"
MAX_EVENTS_PER_FRAME = 1_000  # consecutive lines of one process are regrouped into frames
MAX_LINE = wire.MAX_FRAME_BYTES


def _open(path: str | Path, mode: str) -> IO[str]:
    name = str(path)
    if name.endswith(".gz"):
        return gzip.open(name, mode + "t", encoding="utf-8", errors="replace")  # type: ignore[return-value]
    if name.endswith(".zst"):
        try:
            import zstandard
        except ImportError:
            raise RuntimeError("reading/writing .zst needs the 'zstandard' package "
                               "(pip install 'django-signal-monitor[compress]')") from None
        raw = open(name, mode + "b")  # noqa: SIM115 - wrapped and closed by the text wrapper
        stream = (zstandard.ZstdCompressor().stream_writer(raw) if mode == "w"
                  else zstandard.ZstdDecompressor().stream_reader(raw))
        return io.TextIOWrapper(stream, encoding="utf-8", errors="replace")  # type: ignore[arg-type]
    return open(name, mode, encoding="utf-8", errors="replace")


def _proc_dict(proc: wire.Proc) -> dict[str, Any]:
    return {"pid": proc.pid, "host": proc.host, "boot": proc.boot}


class RecordingWriter:
    """Append frames to a JSON Lines recording; ``close()`` flushes everything."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file = _open(path, "w")
        self.events = 0
        self.malformed = 0

    def write(self, frame: wire.Frame) -> None:
        proc = _proc_dict(frame.proc)
        lines = []
        for i, event in enumerate(frame.events):
            record = wire.event_to_dict(event)
            record["proc"] = proc
            record["seq"] = frame.seq + i
            lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        if frame.malformed:
            lines.append(json.dumps({"kind": MALFORMED, "proc": proc,
                                     "seq": frame.seq + len(frame.events),
                                     "count": frame.malformed}))
        if lines:
            self._file.write("\n".join(lines) + "\n")
        self.events += len(frame.events)
        self.malformed += frame.malformed

    def write_bad_frame(self, proc: wire.Proc | None) -> None:
        """Note a frame that could not be decoded at all (no sequence number is known)."""
        record: dict[str, Any] = {"kind": MALFORMED, "count": 1, "seq": None,
                                  "proc": None if proc is None else _proc_dict(proc)}
        self._file.write(json.dumps(record) + "\n")
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
            try:
                record = json.loads(line) if len(line) <= MAX_LINE else None
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
