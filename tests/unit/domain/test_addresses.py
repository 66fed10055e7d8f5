"""Every spelling of an address is read as the C library reads it, and judged by its range."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest

from paycon.domain.addresses import host_address, refusal
from paycon.domain.errors import NotifyUrlRefused
from paycon.domain.notify_urls import address_refusal, notify_target


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("10.0.0.1.", "10.0.0.1"),
        ("0", "0.0.0.0"),  # noqa: S104 - an address read, not bound
        ("::1", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
    ],
)
def test_every_spelling_of_an_address_is_read(host: str, address: str) -> None:
    assert host_address(host) == ip_address(address)


@pytest.mark.parametrize("host", ["merchant.example", "a1.example", "xn--bcher-kva.example", "x"])
def test_names_are_not_addresses(host: str) -> None:
    assert host_address(host) is None


@pytest.mark.parametrize(
    "host", ["1.2.3.256", "256.1", "08.0.0.1", "1.2.3.4.5", "example.123", "::g"]
)
def test_hosts_that_are_neither_are_refused(host: str) -> None:
    with pytest.raises(ValueError, match=r"neither|not a valid"):
        host_address(host)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("0.1.2.3", "unspecified"),
        ("10.1.2.3", "private"),
        ("100.127.255.255", "CGNAT"),
        ("127.255.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("172.16.0.1", "private"),
        ("192.0.0.8", "IETF"),
        ("192.0.2.1", "documentation"),
        ("192.168.1.1", "private"),
        ("198.19.255.1", "benchmarking"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.9", "documentation"),
        ("239.255.255.250", "multicast"),
        ("250.0.0.1", "reserved"),
        ("255.255.255.255", "broadcast"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("::ffff:10.0.0.1", "private (as IPv6)"),
        ("::10.0.0.1", "IPv4-compatible"),
        ("64:ff9b::7f00:1", "loopback (as IPv6)"),
        ("64:ff9b:1::1", "NAT64 local-use"),
        ("2002:c0a8:101::1", "private (as IPv6)"),
        ("2001:0:4136:e378::1", "Teredo"),
        ("2001:2::1", "benchmarking"),
        ("2001:db8::1", "documentation"),
        ("3fff::1", "documentation"),
        ("fd12:3456::1", "unique local"),
        ("fe80::1", "link-local"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("100::1", "discard-only"),
        ("4000::1", "reserved"),
    ],
)
def test_non_public_addresses_are_named(address: str, why: str) -> None:
    reason = refusal(ip_address(address))
    assert reason is not None
    assert why in reason


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "1.1.1.1",
        "100.128.0.1",  # just past CGNAT
        "172.32.0.1",  # just past 172.16/12
        "::ffff:93.184.215.14",
        "64:ff9b::5db8:d70e",
        "2002:5db8:d70e::1",
        "2606:4700:4700::1111",
    ],
)
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ip_address(address)) is None


def test_a_name_is_refused_when_any_of_its_addresses_is_not_public() -> None:
    public, private = IPv4Address("93.184.215.14"), IPv6Address("fd00::1")
    assert address_refusal("m.example", [public]) is None
    refused = address_refusal("m.example", [public, private])
    assert refused is not None
    assert refused.errors[0].field == "notify_url"
    assert "fd00::1" not in refused.errors[0].message


@pytest.mark.parametrize(
    ("url", "allow_private", "host"),
    [
        ("https://Merchant.Example/hook", False, "merchant.example"),
        ("http://127.0.0.1:8080/hook", True, "127.0.0.1"),
        ("https://[::1]/hook", True, "::1"),
    ],
)
def test_notify_targets(url: str, allow_private: bool, host: str) -> None:
    assert notify_target(url, allow_private=allow_private).host == host


@pytest.mark.parametrize(
    "url",
    [
        "http://merchant.example/",
        "ftp://merchant.example/",
        "https://merchant.example:99999/",
        "https://under_score-.example/",
        "https://bücher.example/",
        "https:///path",
    ],
)
def test_notify_urls_refused_in_any_setting(url: str) -> None:
    with pytest.raises(NotifyUrlRefused):
        notify_target(url, allow_private=url.startswith("https"))
