"""Recordings: JSON Lines of wire events (self-describing dict form), optionally compressed.

One line per event: ``wire.event_to_dict(event)`` plus ``proc`` ({pid, host, boot}) and
``seq`` (its sequence number). Events rejected by validation are kept as a
``{"kind": "malformed", "count": n, ...}`` line so loss accounting survives a round trip
(the exact seq of an event that followed a rejected one within a frame is approximate).
``.gz`` and ``.zst`` suffixes compress (zstd needs the ``zstandard`` package).
Reading is as untrusted as the socket: bad lines are counted, never raised.

A recorder killed mid-write (SIGKILL, power loss) leaves a file cut anywhere, often inside
a line or a compressed block. The writer flushes the compressor at least every
``FLUSH_EVERY_S`` (a gzip/zstd sync flush: everything written so far can be decompressed
without the end of the stream), and the reader decompresses incrementally, keeps every
complete line up to the cut and reports the cut (``RecordingReader.truncated``,
``warning``) instead of raising.
"""

from __future__ import annotations

import gzip
import json
import time
import zlib
from collections.abc import Callable, Iterator
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


FLUSH_EVERY_S = 1.0  # a recording cut by SIGKILL loses at most about this much
READ_CHUNK = 1 << 20  # bytes read from the file at a time
# Compressed bytes fed to the decompressor at a time: the output of one feed is bounded by
# the format's maximum ratio (~1,000 for deflate, and the zlib output is capped anyway;
# ~32,000 for zstd RLE blocks), so a small feed keeps a "compression bomb" from
# materialising gigabytes at once.
FEED = 1024


def _zstandard() -> Any:
    try:
        import zstandard
    except ImportError:
        raise RuntimeError("reading/writing .zst needs the 'zstandard' package "
                           "(pip install 'django-signal-monitor[compress]')") from None
    return zstandard


def _open(path: str | Path) -> IO[bytes]:
    """A binary writer for ``path``, compressing by suffix."""
    name = str(path)
    if name.endswith(".gz"):
        return gzip.open(name, "wb", compresslevel=3)  # level 9 (the default) halves speed
    if name.endswith(".zst"):
        zstandard = _zstandard()
        raw = open(name, "wb")  # noqa: SIM115 - closed with its wrapper
        # The checksum lets a reader tell a damaged frame from a good one (at its end).
        compressor = zstandard.ZstdCompressor(write_checksum=True)
        return compressor.stream_writer(raw)  # type: ignore[no-any-return]
    return open(name, "wb")


def _proc_dict(proc: wire.Proc) -> dict[str, Any]:
    return {"pid": proc.pid, "host": proc.host, "boot": proc.boot}


_DISPATCH_FIELDS = wire.Dispatch._fields
_CALL_FIELDS = wire.ReceiverCall._fields
_SITE_FIELDS = wire.CallSite._fields
_REQUEST_FIELDS = wire.RequestInfo._fields
_TX_FIELDS = wire.TxContext._fields


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
    if d["tx"] is not None:
        d["tx"] = dict(zip(_TX_FIELDS, d["tx"], strict=True))
    return d


class RecordingWriter:
    """Append frames to a JSON Lines recording; ``close()`` flushes everything."""

    def __init__(self, path: str | Path, flush_every: float = FLUSH_EVERY_S) -> None:
        self.path = Path(path)
        self._file = _open(path)
        self.events = 0
        self.malformed = 0
        self.flush_every = flush_every  # seconds between flushes while writing; 0: never
        self._flushed = time.monotonic()

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
        self._maybe_flush()

    def write_bad_frame(self, proc: wire.Proc | None) -> None:
        """Note a frame that could not be decoded at all (no sequence number is known)."""
        record: dict[str, Any] = {"kind": MALFORMED, "count": 1, "seq": None,
                                  "proc": None if proc is None else _proc_dict(proc)}
        self._file.write(_encode(record) + b"\n")
        self.malformed += 1
        self._maybe_flush()

    def _maybe_flush(self) -> None:
        if self.flush_every and time.monotonic() - self._flushed >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Make everything written so far readable from the file, even if we die now.

        gzip: a sync flush (the member stays open); zstd: the current block is ended.
        """
        self._file.flush()
        self._flushed = time.monotonic()

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
    """Iterate a recording as ``wire.Frame``s; ``malformed`` counts lines with no usable sender.

    A file cut short (a killed recorder) or damaged is read up to the cut: ``truncated`` is
    then True, ``lines`` says how many complete lines were recovered and ``warning`` says
    so in a sentence. Reading never raises for the file's contents (only OSError and, for
    .zst without zstandard, RuntimeError).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
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
                decompressor = _zstandard().ZstdDecompressor()
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
            fast = decode_dispatch_line(line)
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


def read_recording(path: str | Path) -> Iterator[wire.Frame]:
    """The frames of a recording, in file order (consecutive events regrouped per process).

    Use a RecordingReader to learn whether the file was cut short (``truncated``).
    """
    return iter(RecordingReader(path))
