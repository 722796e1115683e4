"""The zmq listener: batches, clear bind errors, hostile frames at a live socket, CurveZMQ."""

from __future__ import annotations

import pytest
import zmq
import zmq.auth
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor_gui.core.state import MonitorState
from monitor_gui.listener import CurveServer, Listener, ListenerError, create_keys
from tests.monitor_gui.core.events import PROC, dispatch, frame


@pytest.fixture
def context():
    ctx = zmq.Context()
    yield ctx
    ctx.term()


@pytest.fixture
def listener(context):
    with Listener("tcp://127.0.0.1:*", context=context) as lst:
        yield lst


@pytest.fixture
def push(context, listener):
    sock = context.socket(zmq.PUSH)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(listener.endpoint)
    yield sock
    sock.close(linger=0)


def receive(listener: Listener, want: int, timeout_ms: int = 5_000) -> list[bytes]:
    """Collect ``want`` frames (each recv_batch blocks in zmq's poll, no sleeping)."""
    got: list[bytes] = []
    for _ in range(timeout_ms // 100):
        got += listener.recv_batch(100)
        if len(got) >= want:
            break
    return got


def test_wildcard_port_resolves_and_batches_arrive(listener, push):
    assert listener.endpoint.startswith("tcp://127.0.0.1:") and not listener.endpoint.endswith("*")
    frames = [frame([dispatch(i)], seq=i) for i in range(50)]
    for f in frames:
        push.send(f)
    assert receive(listener, 50) == frames


def test_batches_are_bounded_and_idle_poll_returns_empty(listener, push):
    assert listener.recv_batch(10) == []
    for i in range(30):
        push.send(frame([dispatch(i)], seq=i))
    first = receive(listener, 1)
    first += listener.recv_batch(1000, max_frames=5) if len(first) < 30 else []
    assert 1 <= len(first) <= 30
    rest = receive(listener, 30 - len(first))
    assert len(first) + len(rest) == 30


def test_address_in_use_names_the_endpoint_and_suggests_listen(listener, context):
    with pytest.raises(ListenerError) as caught:
        Listener(listener.endpoint, context=context)
    message = str(caught.value)
    assert listener.endpoint in message and "--listen" in message and "in use" in message


def test_bad_endpoint_is_a_listener_error(context):
    with pytest.raises(ListenerError, match="nonsense"):
        Listener("nonsense://x", context=context)


def test_multipart_parts_arrive_as_separate_frames(listener, push):
    push.send_multipart([b"junk", frame([dispatch(1)])])
    state = MonitorState(capacity=10)
    state.apply(receive(listener, 2))
    assert (state.totals.malformed, len(state.store)) == (1, 1)


@pytest.fixture(scope="module")
def live():
    """One listener + pusher for the whole fuzz run (hypothesis reruns the test body)."""
    ctx = zmq.Context()
    lst = Listener("tcp://127.0.0.1:*", context=ctx)
    sock = ctx.socket(zmq.PUSH)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(lst.endpoint)
    yield lst, sock
    sock.close(linger=0)
    lst.close()
    ctx.term()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=5))
def test_fuzz_live_socket_keeps_receiving(live, junk):
    listener, sock = live
    state = MonitorState(capacity=100)
    marker = frame([dispatch(7)], seq=0)
    for data in junk:
        sock.send(data)
    sock.send(marker)
    got = receive(listener, len(junk) + 1)
    assert got[-1] == marker and len(got) == len(junk) + 1
    state.apply(got)
    assert state.store.row(state.store.end - 1).id == 7
    assert state.totals.malformed + state.totals.events >= 1


def test_curve_admits_known_clients_only(tmp_path, context):
    keys = create_keys(tmp_path)
    curve = CurveServer(tmp_path / "server.key_secret", tmp_path / "clients")
    with Listener("tcp://127.0.0.1:*", curve=curve, context=context) as lst:
        def client(public_file, secret_file):
            sock = context.socket(zmq.PUSH)
            sock.setsockopt(zmq.LINGER, 0)
            public, secret = zmq.auth.load_certificate(str(secret_file))
            sock.curve_publickey, sock.curve_secretkey = public, secret
            sock.curve_serverkey = keys["server"].encode()
            sock.connect(lst.endpoint)
            return sock

        good = client(tmp_path / "client.key", tmp_path / "client.key_secret")
        good.send(frame([dispatch(1)]))
        assert receive(lst, 1) == [frame([dispatch(1)])]
        good.close(linger=0)

        stranger_dir = tmp_path / "stranger"
        stranger_dir.mkdir()
        _, secret_file = zmq.auth.create_certificates(str(stranger_dir), "x")
        stranger = client(None, secret_file)
        stranger.setsockopt(zmq.SNDTIMEO, 0)
        try:
            stranger.send(frame([dispatch(2)], proc=PROC))
        except zmq.Again:
            pass  # refused before the message could even be queued
        assert lst.recv_batch(300) == []  # ZAP rejects the handshake: nothing arrives
        stranger.close(linger=0)


def test_curve_secret_file_must_hold_a_secret(tmp_path, context):
    create_keys(tmp_path)
    with pytest.raises(ListenerError, match="secret"):
        Listener("tcp://127.0.0.1:*", curve=CurveServer(tmp_path / "server.key"), context=context)


def test_is_loopback():
    from django_probe import wire
    from monitor_gui.listener import is_loopback

    assert is_loopback(wire.DEFAULT_ENDPOINT) and is_loopback("tcp://localhost:1")
    assert is_loopback("tcp://[::1]:5599") and is_loopback("ipc:///tmp/x")
    assert not is_loopback("tcp://0.0.0.0:5599") and not is_loopback("tcp://*:5599")
    assert not is_loopback("tcp://10.1.2.3:5599")


def test_close_frees_the_port_at_once():
    for _ in range(20):  # closing is asynchronous in libzmq unless the context is ended
        first = Listener("tcp://127.0.0.1:*")
        endpoint = first.endpoint
        first.close()
        again = Listener(endpoint)
        again.close()


def _mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_keys_are_private_even_with_a_permissive_umask(tmp_path):
    import os

    old = os.umask(0o022)  # the usual umask: files 0644, directories 0755
    try:
        create_keys(tmp_path / "new" / "keys")
    finally:
        os.umask(old)
    d = tmp_path / "new" / "keys"
    assert _mode(d) == _mode(d / "clients") == 0o700
    assert _mode(d / "server.key_secret") == _mode(d / "client.key_secret") == 0o600
    assert _mode(d / "server.key") == 0o644  # public certificates stay readable


def test_an_existing_directory_of_ours_is_tightened(tmp_path):
    d = tmp_path / "keys"
    d.mkdir()
    d.chmod(0o755)
    (d / "clients").mkdir()
    (d / "clients").chmod(0o777)
    create_keys(d)
    assert _mode(d) == _mode(d / "clients") == 0o700
    assert _mode(d / "server.key_secret") == 0o600


def test_a_directory_of_another_user_is_refused(tmp_path):
    import os

    d = tmp_path / "theirs"
    d.mkdir(mode=0o777)
    if os.geteuid() == 0:
        os.chown(d, 65534, 65534)  # nobody: as root we can hand it over
    else:
        d = tmp_path.root and type(tmp_path)("/")  # owned by root, not by us
    with pytest.raises(PermissionError, match="belongs to another user"):
        create_keys(d)
    assert not (d / "server.key_secret").exists()
