"""The suite's guard: a test that tries to leave the machine fails, loopback is fine."""

import socket

import pytest

from tests import conftest


def test_a_connection_off_the_machine_is_refused_and_recorded():
    with pytest.raises(OSError, match="may not reach the network"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    with pytest.raises(OSError, match="may not reach the network"):
        socket.getaddrinfo("graph.instagram.com", 443)
    assert conftest._network_attempts == ["look up '192.0.2.1'", "look up 'graph.instagram.com'"]
    conftest._network_attempts.clear()  # refused on purpose: this test must not fail for it


def test_loopback_connections_go_through():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=1):
            pass
    assert conftest._network_attempts == []
