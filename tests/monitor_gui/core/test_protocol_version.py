"""Only the integer protocol version is ours; another one is refused, named and counted."""

from __future__ import annotations

import msgpack
import pytest

from django_probe import wire
from monitor_gui import cli_record
from monitor_gui.core import decode as monitor_decode
from monitor_gui.core.processes import ProcessTable
from monitor_gui.core.state import MonitorState
from tests.monitor_gui.core.events import PROC, dispatch

KEY = ("web1", 101, "boot-a")


def frame_with_version(version: object, events: list | None = None) -> bytes:
    events = [list(dispatch(1))] if events is None else events
    return msgpack.packb(["dsm", version, list(PROC), 0, events], use_bin_type=True)


V = wire.PROTOCOL_VERSION


@pytest.mark.parametrize("version", [float(V), True, str(V), None])
@pytest.mark.parametrize("decode", [wire.decode_frame, monitor_decode.decode])
def test_a_version_that_only_equals_ours_is_rejected_by_every_decoder(version, decode):
    for events in ([list(dispatch(1))], [["H", 1, 0, 0, 0, 0, 0, 10]]):  # fast and slow paths
        expected = f"bad protocol version .* this monitor speaks {V}"
        with pytest.raises(wire.WireError, match=expected):
            decode(frame_with_version(version, events))
    assert decode(frame_with_version(V)).proc == PROC


@pytest.mark.parametrize("version, fix", [(V + 1, "upgrade the monitor"),
                                          (V - 1, "upgrade django-signal-monitor in the Django")])
def test_another_version_is_named_with_ours_and_what_to_upgrade(version, fix):
    with pytest.raises(wire.WireError) as exc:
        wire.decode_frame(frame_with_version(version))
    message = str(exc.value)
    assert message.startswith(f"protocol version {version} from the probe, this monitor speaks {V}")
    assert fix in message


def test_refused_versions_are_counted_and_shown_per_process_and_in_the_summary():
    state = MonitorState(capacity=100)
    state.apply([frame_with_version(V - 1), frame_with_version(float(V)), frame_with_version(V)])
    table = state.process_table
    info = state.processes[KEY]
    assert (info.malformed, info.events, table.version_errors) == (2, 1, 2)
    assert info.version_error == table.version_error
    assert f"bad protocol version {float(V)}" in table.version_error
    recorder = ProcessTable()
    recorder.bad_frame(frame_with_version(V + 1), 1)
    text = cli_record._summary(0, recorder, "out.jsonl")
    assert f"1 frames refused for their protocol version; latest: protocol version {V + 1}" in text
    assert f"this monitor speaks {V}: upgrade the monitor" in text
