"""Sub-batches: how MonitorState.apply cuts a batch of frames into cache-sized chunks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django_probe import wire

# Raw frame bytes decoded per sub-batch (one probe frame: ~200 dispatches with interned
# names are ~28 KB): the decoded objects of a small sub-batch stay in the CPU cache while
# they are turned into columns (4 MiB sub-batches were ~25% slower). Small frames are
# merged up to this size; a frame that would overflow the sub-batch starts the next one,
# so a probe frame is its own sub-batch and its columns are used as they are (merging two
# frames' columns cost ~0.4 µs per event, more than a second build; bench_ingest).
CHUNK_BYTES = 32 * 1024
CHUNK_EVENTS = 256  # decoded wire.Frame events per sub-batch


def _size(frame: bytes | wire.Frame) -> int:
    if isinstance(frame, wire.Frame):
        return len(frame.events) * (CHUNK_BYTES // CHUNK_EVENTS)
    return len(frame) if isinstance(frame, (bytes, bytearray, memoryview)) else 1


def sub_batches(frames: Iterable[bytes | wire.Frame]) -> Iterator[list[bytes | wire.Frame]]:
    chunk: list[bytes | wire.Frame] = []
    size = 0
    for frame in frames:
        n = _size(frame)
        if chunk and size + n > CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append(frame)
        size += n
    if chunk:
        yield chunk
