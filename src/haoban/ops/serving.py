"""``haoban serve --workers N``: N server processes on one port, each with its own listening socket.

uvicorn's own multi-process mode binds one socket in the parent and every child accepts from it. An
asyncio server drains the whole accept queue each time it wakes, so a burst of new connections (a load
balancer opening its keep-alive pool, a client starting) goes to whichever child woke first: 14 of 16
connections on one process and 2 on the other was seen on this project's intake benchmark, and
keep-alive connections never move. With ``SO_REUSEPORT`` (Linux, the BSDs) every child listens on a
socket of its own bound to the same address, and the kernel spreads new connections across them by a
hash of each connection's addresses and ports, as nginx's ``reuseport`` does.

The supervision stays uvicorn's (health pings, restarting a dead child, graceful shutdown): only the
child's socket changes. The parent still binds the address first (with ``SO_REUSEPORT``, without
listening), so a port already taken fails at once (:class:`CannotListen`, which the command line
reports like its other errors), and keeps the port reserved while children restart. Where
``SO_REUSEPORT`` is missing (Windows, a Unix socket), uvicorn's shared socket is used as before.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import multiprocess

log = logging.getLogger(__name__)

REUSE_PORT = hasattr(socket, "SO_REUSEPORT")
HEALTHCHECK_SECONDS = 30


class CannotListen(Exception):
    """The address cannot be bound (in use, not an address of this machine, no permission)."""


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` with ``SO_REUSEPORT`` (not listening yet: uvicorn calls listen)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class _OwnSocketProcess(multiprocess.Process):
    """A uvicorn worker process that serves on a socket of its own (see the module's notes)."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # pragma: no cover (child)
        own = listening_socket(self.config.host, self.config.port)
        for inherited in sockets or []:
            inherited.close()  # the parent's placeholder: never listened on here
        super().target([own])


def run_workers(app: str, *, workers: int, **options: Any) -> None:
    """Serve the import string ``app`` (a factory) in ``workers`` processes on one host and port."""
    # A child answers the supervisor's health pings only once it has imported the app (spawned, it
    # imports haoban.cli again): 5 to 10 s on a busy machine, over uvicorn's 5 s default, and a child
    # not answering in time is killed and started again, over and over, while its sibling serves alone.
    options.setdefault("timeout_worker_healthcheck", HEALTHCHECK_SECONDS)
    config = uvicorn.Config(app, factory=True, workers=workers, **options)
    if not REUSE_PORT or config.uds is not None or config.fd is not None:
        uvicorn.run(app, factory=True, workers=workers, **options)
        return
    try:
        placeholder = listening_socket(config.host, config.port)
    except OSError as exc:
        raise CannotListen(f"cannot listen on {config.host}:{config.port}: {exc.strerror}") from exc
    placeholder.set_inheritable(True)
    log.info("serving on http://%s:%d with %d processes, one socket each", config.host, config.port, workers)
    # uvicorn's supervisor makes its children from the module's Process class: ours for this run.
    original = multiprocess.Process
    multiprocess.Process = _OwnSocketProcess  # type: ignore[misc]
    try:
        multiprocess.Multiprocess(config, sockets=[placeholder]).run()
    finally:
        multiprocess.Process = original  # type: ignore[misc]
        placeholder.close()
