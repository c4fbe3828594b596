"""Bounded network time for every channel: name lookup, connect, each read, and one send in
total.

A socket timeout bounds one blocking call, not a conversation: a server that accepts the
connection and then answers one byte every few seconds, or a resolver that never answers
(``getaddrinfo`` takes no timeout at all), would hold a delivery run for as long as it likes.
So the name is looked up in a helper thread that is abandoned after ``connect_s``, and a
:class:`SendDeadline` shuts the send's sockets down when ``total_s`` is up, which ends any
blocking read at once (closing a socket from another thread does not wake a reader;
shutting it down does). Monotonic timers only: nothing here reads the wall clock.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class SendLimits:
    """Per channel: ``connect_s`` covers the name lookup, the TCP connect and the server's
    greeting (SMTP banner, TLS handshake, login); ``read_s`` any one later read; ``total_s``
    one send from its start to the server's answer."""

    connect_s: float = 5.0
    read_s: float = 10.0
    total_s: float = 30.0


class LookupTimeout(TimeoutError):
    """The resolver did not answer within the connect timeout."""


def resolve(host: str, port: int, timeout: float) -> list[tuple[Any, ...]]:
    """``getaddrinfo`` for a TCP connection, given up after ``timeout`` seconds. An address
    literal never waits; an unknown name raises ``socket.gaierror`` as soon as the resolver
    says so."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass  # a name, not an address: ask the resolver, with a bound
    else:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    box: dict[str, Any] = {}

    def lookup() -> None:
        try:
            box["ok"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            box["err"] = exc

    worker = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    worker.start()
    worker.join(timeout)
    if "err" in box:
        raise box["err"]
    if "ok" not in box:
        raise LookupTimeout(f"name lookup of {host} took longer than {timeout:g} s")
    return list(box["ok"])


def open_connection(host: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection whose lookup and connect each take at most ``timeout`` seconds; the
    socket keeps ``timeout`` as its timeout (the caller sets the read timeout later)."""
    last: OSError | None = None
    for family, kind, proto, _, address in resolve(host, port, timeout):
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        return sock
    raise last or OSError(f"no address for {host}")


class SendDeadline:
    """``with SendDeadline(seconds) as d: ...``: sockets given to :meth:`watch` are shut down
    when the time is up, so a blocking read on them fails at once; ``expired`` says it
    happened (the caller reports a timeout instead of a lost connection)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                _shutdown(sock)
            self._socks.append(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._socks:
                _shutdown(sock)

    def __enter__(self) -> SendDeadline:
        self._timer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._timer.cancel()


def _shutdown(sock: socket.socket) -> None:
    # the plain socket's shutdown, also for a TLS socket: SSLSocket.shutdown would drop its
    # TLS state under a reader in another thread
    with contextlib.suppress(OSError):  # already closed or never connected
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
