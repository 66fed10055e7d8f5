"""Fakes at the network boundary of merchant notifications: nothing here opens a socket.

- ``FakeResolver`` answers from a table (a list of answers per name is used in
  turn, the last one repeating), and records every name it was asked.
- ``ScriptedNetwork`` is an ``httpcore`` network backend: it records every
  connection paycon asks for (address, port, TLS server name, the request's
  bytes) and either refuses it or plays back a scripted answer.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import Any

import httpcore

from paycon.domain.addresses import IPAddress
from paycon.network.resolver import ResolveFailed

# Addresses in no special-purpose range. Nothing ever connects to them: the
# network below refuses or plays back.
PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


class FakeResolver:
    """Names resolve as ``answers`` says; a name missing from it does not resolve."""

    def __init__(self, answers: Mapping[str, Sequence[str] | Sequence[Sequence[str]]]) -> None:
        self._answers: dict[str, list[list[str]]] = {}
        for name, answer in answers.items():
            if all(isinstance(a, str) for a in answer):
                self._answers[name] = [[str(a) for a in answer]]
            else:
                self._answers[name] = [[str(a) for a in turn] for turn in answer]
        self.asked: list[str] = []

    async def resolve(self, host: str) -> Sequence[IPAddress]:
        self.asked.append(host)
        turns = self._answers.get(host)
        if not turns:
            raise ResolveFailed(f"{host} does not resolve")
        turn = turns.pop(0) if len(turns) > 1 else turns[0]
        return [ip_address(address) for address in turn]


@dataclass
class Connection:
    """One connection paycon opened (or tried to)."""

    host: str
    port: int
    server_hostname: str | None = None
    sent: bytearray = field(default_factory=bytearray)
    body_bytes_served: int = 0
    closed: bool = False

    @property
    def request_head(self) -> dict[str, str]:
        """The request's header fields, names lower-cased."""
        head = bytes(self.sent).split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
        return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head)}

    @property
    def request_body(self) -> bytes:
        return bytes(self.sent).split(b"\r\n\r\n", 1)[1]


class _ScriptedStream(httpcore.AsyncNetworkStream):
    def __init__(self, connection: Connection, head: bytes, body: Iterator[bytes]) -> None:
        self._connection = connection
        self._head: bytes | None = head
        self._body = body

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        if self._head is not None:
            head, self._head = self._head, None
            return head
        chunk = next(self._body, b"")[:max_bytes]
        self._connection.body_bytes_served += len(chunk)
        return chunk

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        self._connection.sent += buffer

    async def aclose(self) -> None:
        self._connection.closed = True

    async def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        self._connection.server_hostname = server_hostname
        return self

    def get_extra_info(self, info: str) -> Any:
        return None


class ScriptedNetwork(httpcore.AsyncNetworkBackend):
    """Records each connection; refuses it, or answers ``head`` then ``body`` in chunks."""

    def __init__(self, *, head: bytes | None = None, body: Iterable[bytes] = ()) -> None:
        self.connections: list[Connection] = []
        self._head = head
        self._body = body

    @classmethod
    def refusing(cls) -> ScriptedNetwork:
        return cls()

    @classmethod
    def answering(
        cls, status: int, *, headers: Mapping[str, str] | None = None, body: bytes = b""
    ) -> ScriptedNetwork:
        fields = {"Content-Length": str(len(body)), **(headers or {})}
        head = f"HTTP/1.1 {status} Answer\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
        return cls(head=(head + "\r\n").encode(), body=[body] if body else ())

    @classmethod
    def endless(cls, chunk_bytes: int = 1024) -> ScriptedNetwork:
        """200 with a 200 MB body, served ``chunk_bytes`` per read for as long as it is read."""
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 209715200\r\n\r\n"
        return cls(head=head, body=itertools.repeat(b"x" * chunk_bytes))

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        connection = Connection(host, port)
        self.connections.append(connection)
        if self._head is None:
            raise httpcore.ConnectError(f"refused: {host}:{port} (no connection leaves the test)")
        return _ScriptedStream(connection, self._head, iter(self._body))

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("refused")

    async def sleep(self, seconds: float) -> None:
        return None
