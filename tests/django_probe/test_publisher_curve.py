"""The publisher with CURVE encryption: events arrive; a wrong server key delivers nothing."""

from __future__ import annotations

import zmq

from tests.django_probe.support import (
    bind_pull,
    connect,
    dispatch_ids,
    endpoint_of,
    events_of,
    make_dispatch,
    recv_frames,
    wait_for,
)


def test_curve_encrypted_events_arrive(context, publishers):
    server_public, server_secret = zmq.curve_keypair()
    client_public, client_secret = zmq.curve_keypair()
    sock = bind_pull(context, curve_server=True, curve_secretkey=server_secret,
                     curve_publickey=server_public)
    try:
        pub = publishers(endpoint_of(sock), curve_server_key=server_public.decode(),
                         curve_public_key=client_public.decode(),
                         curve_secret_key=client_secret.decode())
        assert pub.config.curve_enabled
        connect(pub, sock)
        pub.submit(make_dispatch(42))
        frames = recv_frames(sock, lambda fs: 42 in dispatch_ids(events_of(fs)))
    finally:
        sock.close(linger=0)
    assert dispatch_ids(events_of(frames)) == [42]


def test_curve_with_wrong_server_key_delivers_nothing(context, publishers):
    server_public, server_secret = zmq.curve_keypair()
    wrong_public, _ = zmq.curve_keypair()
    client_public, client_secret = zmq.curve_keypair()
    sock = bind_pull(context, curve_server=True, curve_secretkey=server_secret,
                     curve_publickey=server_public)
    try:
        pub = publishers(endpoint_of(sock), curve_server_key=wrong_public.decode(),
                         curve_public_key=client_public.decode(),
                         curve_secret_key=client_secret.decode())
        for i in range(20):
            pub.submit(make_dispatch(i))
        wait_for(lambda: pub.stats()["dropped_send"] >= 20)
        assert not sock.poll(100)
    finally:
        sock.close(linger=0)
