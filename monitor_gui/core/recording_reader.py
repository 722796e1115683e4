"""Reading a recording back as frames, up to a cut (a killed recorder) or damage."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from django_probe import wire
from monitor_gui.core.lines import decode_dispatch_line
from monitor_gui.core.recording_codec import MALFORMED, decode_json, zstandard_module

MAX_EVENTS_PER_FRAME = 1_000  # consecutive lines of one process are regrouped into frames
MAX_LINE = wire.MAX_FRAME_BYTES
READ_CHUNK = 1 << 20  # bytes read from the file at a time
# Compressed bytes fed to the decompressor at a time: the output of one feed is bounded by
# the format's maximum ratio (~1,000 for deflate, and the zlib output is capped anyway;
# ~32,000 for zstd RLE blocks), so a small feed keeps a "compression bomb" from
# materialising gigabytes at once.
FEED = 1024


def _loads(line: str) -> Any:
    try:
        return decode_json(line)
    except Exception:  # msgspec is stricter (e.g. ints beyond 64 bits): let json judge
        return json.loads(line)


def _proc(value: Any) -> wire.Proc | None:
    if (isinstance(value, dict) and type(value.get("pid")) is int
            and isinstance(value.get("host"), str) and isinstance(value.get("boot"), str)):
        return wire.Proc(value["pid"], value["host"], value["boot"])
    return None


class RecordingReader:
    """Iterate a recording as ``wire.Frame``s; ``malformed`` counts lines with no usable sender.

    A file cut short (a killed recorder) or damaged is read up to the cut: ``truncated`` is
    then True, ``lines`` says how many complete lines were recovered and ``warning`` says
    so in a sentence. Reading never raises for the file's contents (only OSError and, for
    .zst without zstandard, RuntimeError).

    With ``plain`` the dispatches are exact tuples in wire's field order (what
    ``MonitorState.apply`` needs, cheaper to make); other events are NamedTuples always.
    """

    def __init__(self, path: str | Path, plain: bool = False) -> None:
        self.path = Path(path)
        self.plain = plain
        self.malformed = 0  # unparsable lines, or bad-frame notes with no identifiable process
        self.lines = 0  # complete lines read
        self.truncated = False  # the file ends (or is damaged) before its natural end
        self.damage: str | None = None  # what was wrong, when truncated

    @property
    def warning(self) -> str | None:
        """A sentence for the user when the file was cut short; None otherwise."""
        if not self.truncated:
            return None
        return (f"{self.path} {self.damage}: recovered the {self.lines:,} complete lines "
                "before the cut")

    def _cut(self, damage: str) -> None:
        if not self.truncated:
            self.truncated, self.damage = True, damage

    def _inflate(self, raw: IO[bytes], new: Callable[[], Any], bounded: bool) -> Iterator[bytes]:
        """Decompress ``raw`` (concatenated members/frames) incrementally, stopping at a cut.

        ``bounded``: the decompressor takes a maximum output size (zlib); otherwise input
        is fed FEED bytes at a time, which bounds the output of one call as well.
        """
        d, started = new(), False
        while data := raw.read(READ_CHUNK):
            view = memoryview(data)
            while len(view):
                try:
                    if bounded:
                        out = d.decompress(view, READ_CHUNK)
                        view = memoryview(d.unconsumed_tail)
                    else:
                        out = d.decompress(view[:FEED])
                        view = view[FEED:]
                except Exception as exc:  # zlib.error, zstd.ZstdError: damaged data
                    self._cut(f"is damaged ({type(exc).__name__}: {str(exc)[:80]})")
                    return
                started = True
                if out:
                    yield out
                if d.eof:  # a member/frame ended: another may follow
                    rest = bytes(d.unused_data) + bytes(view)
                    d, started, view = new(), False, memoryview(rest)
                    if not rest:
                        break
        if started:
            self._cut("was cut off (the compressed stream ends early)")

    def _chunks(self) -> Iterator[bytes]:
        name = str(self.path)
        with open(name, "rb") as raw:
            if name.endswith(".gz"):
                yield from self._inflate(raw, lambda: zlib.decompressobj(wbits=31), True)
            elif name.endswith(".zst"):
                decompressor = zstandard_module().ZstdDecompressor()
                yield from self._inflate(raw, decompressor.decompressobj, False)
            else:
                while data := raw.read(READ_CHUNK):
                    yield data

    def _text_lines(self) -> Iterator[str]:
        """Complete lines as text (bad UTF-8 replaced); longer than MAX_LINE: one malformed."""
        pending = b""
        skipping = False  # inside a line already counted as too long
        for chunk in self._chunks():
            parts = (pending + chunk).split(b"\n")
            pending = parts.pop()
            for part in parts:
                if skipping:
                    skipping = False
                    continue
                self.lines += 1
                yield part.decode("utf-8", "replace")
            if len(pending) > MAX_LINE:
                if not skipping:
                    self.lines += 1
                    self.malformed += 1
                pending, skipping = b"", True
        if pending and not skipping:
            line = pending.decode("utf-8", "replace")
            if self.truncated:
                return  # the cut went through this line
            try:  # no newline at the end: a complete last line, or a plain file cut mid-line
                _loads(line)
            except ValueError:
                self._cut("was cut off (its last line is incomplete)")
                return
            self.lines += 1
            yield line

    def _records(self, f: Iterator[str]) -> Iterator[tuple[wire.Proc, int, list[wire.Event], int]]:
        for line in f:
            if not line.strip():
                continue
            fast = decode_dispatch_line(line, self.plain)
            if fast is not None:  # the common case: a valid dispatch, validated in C
                yield fast[0], fast[1], [fast[2]], 0
                continue
            try:
                record = _loads(line)
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
        self.lines = self.malformed = 0
        self.truncated, self.damage = False, None
        current: tuple[wire.Proc, int, list[wire.Event], int] | None = None
        for proc, seq, events, bad in self._records(self._text_lines()):
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


def read_recording(path: str | Path, plain: bool = False) -> Iterator[wire.Frame]:
    """The frames of a recording, in file order (consecutive events regrouped per process).

    Use a RecordingReader to learn whether the file was cut short (``truncated``).
    """
    return iter(RecordingReader(path, plain))
