"""Recordings cut short (a recorder killed mid-write) stay readable up to the cut."""

from __future__ import annotations

import gzip
import os

import pytest

from django_probe import wire
from monitor_gui import cli
from monitor_gui.core.recording import RecordingReader, RecordingWriter, read_recording
from tests.monitor_gui.core.events import PROC, dispatch

FORMATS = ["jsonl", "jsonl.gz", "jsonl.zst"]
FRAMES = 60  # of 10 dispatches each


def frames(first: int, count: int) -> list[wire.Frame]:
    return [wire.Frame(PROC, i * 10, [dispatch(i * 10 + j) for j in range(10)], 0)
            for i in range(first, first + count)]


def events_of(path) -> tuple[list, RecordingReader]:
    reader = RecordingReader(path)
    return [e for f in reader for e in f.events], reader


def write(path, count: int = FRAMES) -> list:
    with RecordingWriter(path) as writer:
        for f in frames(0, count):
            writer.write(f)
    return [e for f in frames(0, count) for e in f.events]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_complete_recording_is_not_reported_as_cut(tmp_path, fmt):
    path = tmp_path / f"rec.{fmt}"
    expected = write(path)
    got, reader = events_of(path)
    assert got == expected
    assert (reader.truncated, reader.warning, reader.lines) == (False, None, len(expected))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, -1])
def test_cut_anywhere_yields_a_prefix_of_complete_lines_and_says_so(tmp_path, fmt, keep):
    path = tmp_path / f"rec.{fmt}"
    expected = write(path)
    data = path.read_bytes()
    size = len(data) - 2 if keep == -1 else int(len(data) * keep)
    cut = tmp_path / f"cut.{fmt}"
    cut.write_bytes(data[:size])
    got, reader = events_of(cut)  # never raises
    assert got == expected[:len(got)]
    assert reader.truncated and reader.lines == len(got)
    assert reader.warning == (f"{cut} {reader.damage}: recovered the {len(got):,} complete "
                              "lines before the cut")
    assert "cut off" in reader.damage
    if fmt != "jsonl.zst" or keep != -1:  # (zstd's last block may wait for its end marker)
        assert len(got) > 0 or keep == 0.1


@pytest.mark.parametrize("fmt", FORMATS)
def test_everything_before_the_last_flush_survives_a_kill(tmp_path, fmt):
    """The file as a SIGKILL right after a flush leaves it: the stream is never closed."""
    path = tmp_path / f"rec.{fmt}"
    writer = RecordingWriter(path, flush_every=0)
    for f in frames(0, 30):
        writer.write(f)
    writer.flush()
    snapshot = path.read_bytes()
    for f in frames(30, 30):  # written after the flush, not flushed: may be lost
        writer.write(f)
    writer.close()
    cut = tmp_path / f"killed.{fmt}"
    cut.write_bytes(snapshot)
    got, reader = events_of(cut)
    assert got == [e for f in frames(0, 30) for e in f.events]
    assert reader.truncated == (fmt != "jsonl")  # a plain file flushed whole just ends there
    assert reader.lines == 300


def test_the_writer_flushes_by_itself_every_so_often(tmp_path):
    path = tmp_path / "rec.jsonl.gz"
    writer = RecordingWriter(path, flush_every=1e-9)  # every write
    for f in frames(0, 5):
        writer.write(f)
    got, reader = events_of(path)  # still open: read what a kill would leave
    writer.close()
    assert len(got) == 50 and reader.truncated


def test_a_cut_gzip_that_zcat_can_read_is_read_too(tmp_path):
    """The reported case: zcat recovers lines, replay/export/--open used to get EOFError."""
    path = tmp_path / "rec.jsonl.gz"
    expected = write(path)
    data = path.read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(EOFError), gzip.open(cut, "rt") as f:
        f.read()  # what the reader used to do
    got = [e for f in read_recording(cut) for e in f.events]  # what --open uses
    assert 0 < len(got) < len(expected) and got == expected[:len(got)]


def test_export_of_a_cut_recording_warns_instead_of_failing(tmp_path, capsys):
    path = tmp_path / "rec.jsonl.gz"
    write(path)
    cut = tmp_path / "cut.jsonl.gz"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "trace.json"
    assert cli.main(["export", str(cut), "--out", str(out)]) == cli.EXIT_OK
    err = capsys.readouterr().err
    count = RecordingReader(cut)
    recovered = sum(len(f.events) for f in count)
    assert f"exported {recovered} dispatches" in err
    assert f"warning: {cut} was cut off" in err and f"recovered the {recovered:,} complete" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("fmt", ["jsonl.gz", "jsonl.zst"])
def test_damaged_compressed_data_stops_with_a_warning(tmp_path, fmt):
    path = tmp_path / f"rec.{fmt}"
    expected = write(path)
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0x5A
    bad = tmp_path / f"bad.{fmt}"
    bad.write_bytes(bytes(data))
    got, reader = events_of(bad)  # never raises
    assert reader.truncated and "damaged" in reader.damage
    if fmt == "jsonl.gz":  # deflate notices at once; zstd at the frame's checksum
        assert got == expected[:len(got)]


def test_a_line_longer_than_the_limit_is_one_malformed_line(tmp_path, monkeypatch):
    from monitor_gui.core import recording_reader

    monkeypatch.setattr(recording_reader, "MAX_LINE", 10_000)
    monkeypatch.setattr(recording_reader, "READ_CHUNK", 4_096)
    path = tmp_path / "rec.jsonl"
    expected = write(path, 2)
    with open(path, "ab") as f:
        f.write(b"x" * 50_000 + b"\n")
    with RecordingWriter(tmp_path / "tail.jsonl") as w:
        w.write(frames(2, 1)[0])
    with open(path, "ab") as f:
        f.write((tmp_path / "tail.jsonl").read_bytes())
    got, reader = events_of(path)
    assert got == expected + frames(2, 1)[0].events
    assert (reader.malformed, reader.truncated) == (1, False)
    assert os.path.getsize(path) > 50_000
