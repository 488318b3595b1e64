"""``haoban serve --workers N`` spreads connections over its processes: each listens on a socket of its
own (SO_REUSEPORT), so a burst of keep-alive connections, as a load balancer's pool or a client opens
them, does not all land on whichever process woke first (see haoban.ops.serving)."""

from __future__ import annotations

import collections
import json
import socket
from pathlib import Path

import httpx
import pytest

from haoban.ops.serving import listening_socket
from tests.ops.procs import Server, running

CONNECTIONS = 32


def _listening_sockets(port: int) -> int:
    """Listening TCP sockets on 127.0.0.1:port (Linux: /proc/net/tcp, state 0A)."""
    wanted = f"0100007F:{port:04X}"
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for line in lines if line.split()[1] == wanted and line.split()[3] == "0A")


def _pids_of_a_burst(port: int) -> list[int]:
    """Open CONNECTIONS connections back to back (as a load balancer filling its pool, or wrk, does),
    then ask on each which process holds it."""
    conns = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(CONNECTIONS)]
    try:
        request = b"GET /api/v1/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        for conn in conns:
            conn.sendall(request)
        pids = []
        for conn in conns:
            answer = b""
            while b"}" not in answer:
                chunk = conn.recv(4096)
                assert chunk, "the server closed the connection"
                answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), answer
            pids.append(int(json.loads(body)["pid"]))
        return pids
    finally:
        for conn in conns:
            conn.close()


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="Linux: SO_REUSEPORT and /proc/net/tcp")
def test_a_burst_of_connections_is_spread_over_both_processes(db_url: str, tmp_path: Path) -> None:
    server = Server(db_url, tmp_path / "serve.log", workers=2)
    with running(server):
        # Both processes must be serving before the burst: readiness answers from either.
        seen: set[int] = set()
        for _ in range(200):
            seen.add(int(httpx.get(server.base + "/api/v1/health/live").json()["pid"]))
            if len(seen) == 2:
                break
        assert len(seen) == 2, "the second process never answered"
        counts = collections.Counter(_pids_of_a_burst(server.port))
        listening = _listening_sockets(server.port)
    assert listening == 2, f"{listening} listening socket(s) on the port: the processes share one"
    assert len(counts) == 2, counts
    # The kernel hashes each connection's ports: binomial(32, 1/2) puts 28 or more on one process about
    # once in 50,000 runs. One shared socket gave a whole burst to one process.
    assert max(counts.values()) <= 27, counts


def test_a_port_in_use_is_refused_with_a_message(tmp_path: Path) -> None:
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "haoban.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                "2",
                "--no-worker",
            ],
            env={**__import__("os").environ, "HAOBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert out.returncode != 0
    assert f"127.0.0.1:{port}" in out.stdout + out.stderr


def test_listening_sockets_share_a_port() -> None:
    first = listening_socket("127.0.0.1", 0)
    try:
        port = first.getsockname()[1]
        second = listening_socket("127.0.0.1", port)  # a second process's socket on the same port
        second.close()
    finally:
        first.close()
