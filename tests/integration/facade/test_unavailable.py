"""When the service or its database cannot be reached, or the key is refused."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import httpx
import pytest

from paycon.domain.errors import FacadeUnavailable, Forbidden, Unauthorized
from paycon.facade.local import LocalFacade
from paycon.facade.remote import RemoteFacade
from paycon.models.queries import TaskQuery, TransactionQuery
from paycon.runtime.service import Service
from tests.paycon_fixtures import CLIENT_KEY, RunningPaycon, make_settings


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    return f"http://127.0.0.1:{port}"


async def test_remote_without_a_service_is_unavailable_naming_the_url() -> None:
    url = _closed_port_url()
    facade = RemoteFacade(url, "ok_whatever", timeout_s=2)
    try:
        with pytest.raises(FacadeUnavailable, match=re.escape(url)):
            await facade.overview()
        with pytest.raises(FacadeUnavailable):
            await facade.replay(1, reason="x")
    finally:
        await facade.aclose()


async def test_remote_that_never_answers_times_out() -> None:
    async def hang(_request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer")

    facade = RemoteFacade("http://paycon.test", "ok_k", transport=httpx.MockTransport(hang))
    try:
        with pytest.raises(FacadeUnavailable, match="did not answer in time"):
            await facade.gateways()
    finally:
        await facade.aclose()


@pytest.mark.parametrize(
    ("status", "body"), [(500, b'{"detail": "boom"}'), (502, b"<html>bad gateway</html>"),
                         (200, b"not json")],
)  # fmt: skip
async def test_remote_server_errors_are_unavailable(status: int, body: bytes) -> None:
    def answer(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body)

    facade = RemoteFacade("http://paycon.test", "ok_k", transport=httpx.MockTransport(answer))
    try:
        with pytest.raises(FacadeUnavailable, match=re.escape("http://paycon.test")):
            await facade.tasks(TaskQuery())
    finally:
        await facade.aclose()


async def test_a_refused_key_says_so(paycon: RunningPaycon) -> None:
    wrong = RemoteFacade(paycon.url, "ok_not_a_key")
    client = RemoteFacade(paycon.url, CLIENT_KEY)
    try:
        with pytest.raises(Unauthorized, match="refused the operator key"):
            await wrong.overview()
        with pytest.raises(Forbidden, match="operator key"):
            await client.tasks(TaskQuery())
    finally:
        await wrong.aclose()
        await client.aclose()


async def test_local_after_the_service_stopped_is_unavailable(db_path: Path) -> None:
    service = Service(make_settings(db_path))
    await service.start()
    facade = LocalFacade.for_service(service, actor="console:alice")
    await service.stop()
    with pytest.raises(FacadeUnavailable, match=re.escape(str(db_path))):
        await facade.transactions(TransactionQuery())
    with pytest.raises(FacadeUnavailable):
        await facade.overview()


def test_local_needs_a_started_service(db_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not started"):
        LocalFacade.for_service(Service(make_settings(db_path)), actor="console:alice")
