"""docs/protocol.md stays in sync with the wire package: names, field order, limits, example."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import msgpack
import pytest

from django_probe import wire

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()


def table_after(heading_regex: str) -> list[list[str]]:
    """Rows (cells) of the first numbered table after the heading matching the regex."""
    match = re.search(heading_regex, DOC, re.MULTILINE)
    assert match, heading_regex
    rows = []
    for line in DOC[match.end():].splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[0].isdigit():
                rows.append(cells)
        elif rows:
            break
    return rows


def inline_fields(name: str) -> list[str]:
    """Field names of an inline definition like ``CallSite`` — `[file: str, line: int, ...]`."""
    match = re.search(rf"`{name}` — (?:\d+ fields: )?`\[(.+?)\]`", DOC, re.DOTALL)
    assert match, name
    return [part.split(":")[0].strip() for part in match.group(1).replace("\n", " ").split(",")]


EVENTS = [(wire.Hello, "I"), (wire.Dispatch, "D"), (wire.Heartbeat, "H"), (wire.Counts, "C"),
          (wire.Topology, "T"), (wire.Strings, "S"), (wire.OnCommit, "O"),
          (wire.Muted, "M"), (wire.Rollback, "B")]


@pytest.mark.parametrize("cls,code", EVENTS)
def test_event_tables_match_the_namedtuples(cls, code):
    rows = table_after(rf'^### `"{code}"` {cls.__name__} — {len(cls._fields)} fields')
    assert [int(r[0]) for r in rows] == list(range(len(cls._fields)))
    assert [r[1] for r in rows] == list(cls._fields)
    assert f'`"{code}"`' in rows[0][3]


def test_rules_table_matches():
    rows = table_after(r"^### `Rules` — 7 fields")
    assert [r[1] for r in rows] == list(wire.Rules._fields)
    assert inline_fields("Rule") == list(wire.Rule._fields)
    assert inline_fields("MutedCount") == list(wire.MutedCount._fields)


def test_receiver_call_table_matches():
    rows = table_after(r"^`ReceiverCall` — 10 fields")
    assert [r[1] for r in rows] == list(wire.ReceiverCall._fields)


def _is_ref(cls, field: str) -> bool:
    hint = typing.get_type_hints(cls, include_extras=True)[field]
    return hint in (wire.Ref, wire.Ref | None)


@pytest.mark.parametrize("cls,heading", [(wire.Dispatch, r'^### `"D"` Dispatch'),
                                         (wire.ReceiverCall, r"^`ReceiverCall` — 10 fields"),
                                         (wire.OnCommit, r'^### `"O"` OnCommit'),
                                         (wire.Rollback, r'^### `"B"` Rollback')])
def test_tables_say_which_fields_are_interned_refs(cls, heading):
    for row in table_after(heading):
        assert row[2].startswith("ref") == _is_ref(cls, row[1]), row


@pytest.mark.parametrize("cls", [wire.CallSite, wire.RequestInfo, wire.ConnectedReceiver,
                                 wire.TxContext])
def test_inline_definitions_say_which_fields_are_refs(cls):
    match = re.search(rf"`{cls.__name__}` — (?:\d+ fields: )?`\[(.+?)\]`", DOC, re.DOTALL)
    for part in match.group(1).replace("\n", " ").split(","):
        name, kind = (x.strip() for x in part.split(":", 1))
        assert kind.startswith("ref") == _is_ref(cls, name), part


@pytest.mark.parametrize("cls", [wire.CallSite, wire.RequestInfo, wire.ConnectedReceiver,
                                 wire.TxContext])
def test_inline_definitions_match(cls):
    assert inline_fields(cls.__name__) == list(cls._fields)


def test_items_of_counts_and_topology_match():
    counts = table_after(r'^### `"C"` Counts')
    assert re.findall(r"(\w+): ", counts[3][3]) == list(wire.EmptyCount._fields)
    topology = table_after(r'^### `"T"` Topology')
    assert re.findall(r"(\w+): ", topology[2][3]) == list(wire.SignalWiring._fields)


def test_frame_and_proc_tables_match_encode_frame():
    proc = wire.Proc(1, "h", "b")
    event = wire.Heartbeat(wire.KIND_HEARTBEAT, 1, 2, 3, 4, 5, 6, 7)
    top = msgpack.unpackb(wire.encode_frame(proc, 9, [event]))
    expected = {"magic": wire.MAGIC, "version": wire.PROTOCOL_VERSION, "proc": list(proc),
                "seq": 9, "events": [list(event)]}
    rows = table_after(r"^## The frame")
    assert len(rows) == len(top)
    for row, value in zip(rows, top):
        assert expected[row[1]] == value, row
    assert [r[1] for r in table_after(r"^`Proc` — ")] == list(wire.Proc._fields)
    assert DOC.splitlines()[0] == f"# Wire protocol (version {wire.PROTOCOL_VERSION})"


def test_limits_and_defaults_match_wire():
    assert f"`{wire.DEFAULT_ENDPOINT}`" in DOC
    assert f'`"{wire.MAGIC}"`' in DOC
    values = {"MAX_FRAME_BYTES": "16 MiB", "MAX_EVENTS_PER_FRAME": "20 000",
              "MAX_STR": "8 192", "MAX_ITEMS": "4 096", "MAX_STRINGS": "65 536"}
    for name, shown in values.items():
        assert re.search(rf"\| `{name}` \| {shown} \|", DOC), name
    assert wire.MAX_FRAME_BYTES == 16 * 1024 * 1024
    for name in ("MAX_EVENTS_PER_FRAME", "MAX_STR", "MAX_ITEMS", "MAX_STRINGS"):
        assert getattr(wire, name) == int(values[name].replace(" ", ""))
    for method in wire.METHODS:
        assert f"`{method}`" in DOC
    for outcome in (*wire.OUTCOMES, *wire.CALLBACK_OUTCOMES):
        assert f"`{outcome}`" in DOC


def code_blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, re.DOTALL)


def test_worked_example_is_exact():
    (python,) = code_blocks("python")
    namespace: dict = {}
    exec(python, namespace)
    wire_json, readable_json = code_blocks("json")
    assert msgpack.unpackb(namespace["data"]) == json.loads(wire_json)
    frame = namespace["frame"]
    assert frame.seq == 0 and frame.malformed == 0 and len(frame.events) == 3
    assert frame.events[2] == namespace["save"]  # names stay ids until resolved
    readable = namespace["readable"]
    assert wire.event_to_dict(readable) == json.loads(readable_json)
    assert wire.event_from_dict(json.loads(readable_json)) == readable
    heartbeat = re.search(r"`(\[\"H\", [^`]+\])`", DOC).group(1)
    assert wire.decode_event(json.loads(heartbeat)) == wire.Heartbeat(
        "H", 1764037801000000000, 120, 118, 0, 2, 0, 10000)
