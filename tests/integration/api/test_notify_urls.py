"""A notify_url is checked at acceptance: refused ones are a 422 naming the field, and
nothing is stored. Names resolve through a fake resolver; nothing leaves the machine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from paycon.runtime.service import Service
from tests.notify_fakes import PUBLIC_V4, PUBLIC_V6, FakeResolver
from tests.paycon_fixtures import RunningPaycon, make_settings

GOOD = {"customer_id": "cus_1", "amount": "10.00", "currency": "EUR", "country": "DE"}
NAMES = {
    "merchant.example": [PUBLIC_V4, PUBLIC_V6],
    "internal.example": ["10.0.0.1"],
    "half.example": [PUBLIC_V4, "10.0.0.1"],
    "metadata.example": ["169.254.169.254"],
    "mapped.example": ["::ffff:127.0.0.1"],
}


@pytest.fixture
async def strict_paycon(db_path: Path) -> AsyncIterator[RunningPaycon]:
    """paycon as deployed: public https notify_urls only, names resolved by a fake."""
    settings = make_settings(db_path, notify={"allow_private": False})
    service = Service(settings, resolver=FakeResolver(NAMES))
    await service.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield RunningPaycon(service, http, db_path)
    finally:
        await service.stop()


# (case, url, a word the field's message must hold: why it was refused)
REFUSED = [
    ("decimal", "https://2130706433/hook", "loopback"),
    ("hex", "https://0x7f000001/hook", "loopback"),
    ("octal", "https://0177.0.0.1/hook", "loopback"),
    ("short", "https://127.1/hook", "loopback"),
    ("dotted hex", "https://0x7f.0.0.1/hook", "loopback"),
    ("trailing dot", "https://127.0.0.1./hook", "loopback"),
    ("IPv6 loopback", "https://[::1]/hook", "loopback"),
    ("IPv4-mapped", "https://[::ffff:127.0.0.1]/hook", "loopback"),
    ("IPv4-mapped in hex", "https://[::ffff:a00:1]/hook", "private"),
    ("IPv4-compatible", "https://[::127.0.0.1]/hook", "IPv4-compatible"),
    ("NAT64 to private", "https://[64:ff9b::a00:1]/hook", "private"),
    ("6to4 to private", "https://[2002:a00:1::1]/hook", "private"),
    ("IPv6 with a zone", "https://[fe80::1%25eth0]/hook", "zone"),
    ("unique local", "https://[fd00::1]/hook", "unique local"),
    ("private", "https://10.0.0.1/hook", "private"),
    ("private 172.16/12", "https://172.31.255.255/hook", "private"),
    ("cloud metadata", "https://169.254.169.254/latest/meta-data", "link-local"),
    ("CGNAT", "https://100.64.0.1/hook", "CGNAT"),
    ("unspecified", "https://0.0.0.0/hook", "unspecified"),
    ("multicast", "https://224.0.0.1/hook", "multicast"),
    ("reserved", "https://240.0.0.1/hook", "reserved"),
    ("documentation", "https://192.0.2.10/hook", "documentation"),
    ("IPv6 documentation", "https://[2001:db8::1]/hook", "documentation"),
    ("benchmarking", "https://198.18.0.1/hook", "benchmarking"),
    ("localhost", "https://localhost/hook", "loopback"),
    ("a name resolving to 10.0.0.1", "https://internal.example/hook", "private"),
    ("a name with one private address", "https://half.example/hook", "private"),
    ("a name resolving to the metadata address", "https://metadata.example/hook", "link-local"),
    ("a name resolving to a mapped loopback", "https://mapped.example/hook", "loopback"),
    ("a name that does not resolve", "https://nowhere.example/hook", "does not resolve"),
    ("plain http", "http://merchant.example/hook", "https"),
    ("an invalid address", "https://1.2.3.256/hook", "neither"),
]


async def test_a_notify_url_with_a_backslash_is_malformed_and_stores_nothing(
    strict_paycon: RunningPaycon,
) -> None:
    # Parsers disagree on where such a host ends (merchant.example or 127.0.0.1): refused
    # by the URL's shape, before any name is looked at.
    before = strict_paycon.counts()
    status, _, answer = await strict_paycon.post_json(
        "/v1/deposits", {**GOOD, "notify_url": "https://merchant.example\\@127.0.0.1/hook"},
        key="k-backslash",
    )  # fmt: skip
    assert status == 400, answer
    assert [error["field"] for error in answer["errors"]] == ["notify_url"]
    assert strict_paycon.counts() == before


@pytest.mark.parametrize(("case", "url", "why"), REFUSED, ids=[case[0] for case in REFUSED])
async def test_refused_notify_urls_are_422_naming_the_field_and_store_nothing(
    strict_paycon: RunningPaycon, case: str, url: str, why: str
) -> None:
    before = strict_paycon.counts()
    status, headers, answer = await strict_paycon.post_json(
        "/v1/deposits", {**GOOD, "notify_url": url}, key="k-" + case.replace(" ", "-")
    )
    assert status == 422, answer
    assert headers["Content-Type"].startswith("application/problem+json")
    assert answer["code"] == "notify_url_refused"
    assert [error["field"] for error in answer["errors"]] == ["notify_url"]
    assert why in answer["errors"][0]["message"]
    assert strict_paycon.counts() == before  # no transaction, no idempotency record, no task


@pytest.mark.parametrize(
    "url",
    [
        "https://merchant.example/hook",
        "https://merchant.example:8443/hooks/paycon?token=abc",
        f"https://{PUBLIC_V4}/hook",
        f"https://[{PUBLIC_V6}]/hook",
        f"https://[64:ff9b::{'5db8:d70e'}]/hook",  # NAT64 of a public IPv4 address
    ],
)
async def test_public_https_notify_urls_are_accepted(
    strict_paycon: RunningPaycon, url: str
) -> None:
    status, _, answer = await strict_paycon.post_json(
        "/v1/deposits", {**GOOD, "notify_url": url}, key="ok"
    )
    assert status == 202, answer
    assert answer["notify_url"] == url


async def test_a_refusal_names_why_without_naming_resolved_addresses(
    strict_paycon: RunningPaycon,
) -> None:
    _, _, literal = await strict_paycon.post_json(
        "/v1/deposits", {**GOOD, "notify_url": "https://0x7f000001/"}, key="a"
    )
    assert "loopback" in literal["errors"][0]["message"]
    _, _, named = await strict_paycon.post_json(
        "/v1/deposits", {**GOOD, "notify_url": "https://internal.example/"}, key="b"
    )
    message = named["errors"][0]["message"]
    assert "private" in message
    assert "10.0.0.1" not in message


async def test_private_addresses_and_http_are_accepted_when_allowed(paycon: RunningPaycon) -> None:
    # The shared fixture is local development: PAYCON_NOTIFY_ALLOW_PRIVATE=1.
    for number, url in enumerate(["http://127.0.0.1:9/hook", "https://[::1]/", "http://10.0.0.1/"]):
        status, _, answer = await paycon.post_json(
            "/v1/deposits", {**GOOD, "notify_url": url}, key=f"dev-{number}"
        )
        assert status == 202, answer
