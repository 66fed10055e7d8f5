"""Each gateway's wire as a respx router sees it: routes, answers, error bodies, callbacks.

Tests written against ``Wire`` run for both gateways; only this module knows
that A speaks JSON and B speaks XML.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from xml.sax.saxutils import escape

import httpx
import respx

BASE_A = "http://127.0.0.1:18081"
BASE_B = "http://127.0.0.1:18082/gw"  # a base URL with a path prefix must work too
# What the answers and callbacks say a payment is, unless a test says otherwise
# (``submit_request()``'s defaults).
AMOUNT = "10.50"
CURRENCY = "EUR"


class Wire(ABC):
    """One gateway's protocol, from the gateway's side."""

    protocol: str
    name: str
    base_url: str

    @abstractmethod
    def submit_route(self, router: respx.MockRouter) -> respx.Route:
        """The route a submission arrives on."""

    @abstractmethod
    def status_route(self, router: respx.MockRouter, transaction_id: str) -> respx.Route:
        """The route a status request for ``transaction_id`` arrives on."""

    @abstractmethod
    def answer(
        self,
        status: str,
        transaction_id: str,
        *,
        operation: str = "submit",
        amount: str | None = AMOUNT,
        currency: str | None = CURRENCY,
    ) -> httpx.Response:
        """A 200 answer saying ``status`` for ``transaction_id`` (``None``: field left out)."""

    @abstractmethod
    def garbled_answer(self) -> httpx.Response:
        """A 200 whose body is not in the protocol at all."""

    @abstractmethod
    def error(self, status_code: int, code: str, message: str) -> httpx.Response:
        """An error answer in the gateway's format."""

    @abstractmethod
    def callback(
        self,
        event_id: str,
        transaction_id: str,
        status: str,
        reason: str | None = None,
        *,
        amount: str | None = AMOUNT,
        currency: str | None = CURRENCY,
    ) -> bytes:
        """A callback body as the gateway sends it (``None``: field left out)."""

    @abstractmethod
    def submitted_amount(self, request: httpx.Request) -> str:
        """The amount exactly as it was written in a submission."""


class WireA(Wire):
    protocol = "json"
    name = "gateway_a"
    base_url = BASE_A

    def submit_route(self, router: respx.MockRouter) -> respx.Route:
        return router.post(f"{BASE_A}/payments")

    def status_route(self, router: respx.MockRouter, transaction_id: str) -> respx.Route:
        return router.get(f"{BASE_A}/status/{transaction_id}")

    def answer(
        self,
        status: str,
        transaction_id: str,
        *,
        operation: str = "submit",
        amount: str | None = AMOUNT,
        currency: str | None = CURRENCY,
    ) -> httpx.Response:
        document = {"status": status, "transactionId": transaction_id}
        return httpx.Response(200, json=_with_money(document, amount, currency, "amount"))

    def garbled_answer(self) -> httpx.Response:
        return httpx.Response(200, content=b'{"status": "pend', headers=_JSON)

    def error(self, status_code: int, code: str, message: str) -> httpx.Response:
        return httpx.Response(status_code, json={"error": code, "message": message})

    def callback(
        self,
        event_id: str,
        transaction_id: str,
        status: str,
        reason: str | None = None,
        *,
        amount: str | None = AMOUNT,
        currency: str | None = CURRENCY,
    ) -> bytes:
        document = {"eventId": event_id, "transactionId": transaction_id, "status": status}
        document = _with_money(document, amount, currency, "amount")
        if reason is not None:
            document["reason"] = reason
        return json.dumps(document).encode()

    def submitted_amount(self, request: httpx.Request) -> str:
        amount = json.loads(request.content)["amount"]
        assert isinstance(amount, str), "amounts travel as strings, never JSON numbers"
        return amount


class WireB(Wire):
    protocol = "xml"
    name = "gateway_b"
    base_url = BASE_B

    def submit_route(self, router: respx.MockRouter) -> respx.Route:
        return router.post(f"{BASE_B}/ProcessPayment")

    def status_route(self, router: respx.MockRouter, transaction_id: str) -> respx.Route:
        return router.get(f"{BASE_B}/GetStatus", params={"TransactionId": transaction_id})

    def answer(
        self,
        status: str,
        transaction_id: str,
        *,
        operation: str = "submit",
        amount: str | None = AMOUNT,
        currency: str | None = CURRENCY,
    ) -> httpx.Response:
        root = "PaymentResponse" if operation == "submit" else "StatusResponse"
        fields = {"Status": status, "TransactionId": transaction_id}
        return xml_response(200, root, _with_money(fields, amount, currency, "Amount"))

    def garbled_answer(self) -> httpx.Response:
        return httpx.Response(200, content=b"<PaymentResponse><Status>pend", headers=_XML)

    def error(self, status_code: int, code: str, message: str) -> httpx.Response:
        return xml_response(status_code, "Error", {"Code": code, "Message": message})

    def callback(
        self,
        event_id: str,
        transaction_id: str,
        status: str,
        reason: str | None = None,
        *,
        amount: str | None = AMOUNT,
        currency: str | None = CURRENCY,
    ) -> bytes:
        fields = {"EventId": event_id, "TransactionId": transaction_id, "Status": status}
        fields = _with_money(fields, amount, currency, "Amount")
        fields["Reason"] = reason or ""
        return xml_document("Callback", fields)

    def submitted_amount(self, request: httpx.Request) -> str:
        text = request.content.decode()
        return text.split("<Amount>", 1)[1].split("</Amount>", 1)[0]


_JSON = {"Content-Type": "application/json"}
_XML = {"Content-Type": "application/xml"}


def _with_money(
    fields: dict[str, str], amount: str | None, currency: str | None, amount_name: str
) -> dict[str, str]:
    """``fields`` plus the amount and currency that are not ``None``, named A's or B's way."""
    currency_name = "currency" if amount_name == "amount" else "Currency"
    money = {amount_name: amount, currency_name: currency}
    return {**fields, **{name: value for name, value in money.items() if value is not None}}


def xml_document(root: str, fields: dict[str, str]) -> bytes:
    """A flat XML document, as gateway B writes them."""
    children = "".join(f"<{name}>{escape(text)}</{name}>" for name, text in fields.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>{children}</{root}>'.encode()


def xml_response(status_code: int, root: str, fields: dict[str, str]) -> httpx.Response:
    """An XML answer with ``status_code``."""
    return httpx.Response(status_code, content=xml_document(root, fields), headers=_XML)


WIRES: dict[str, Wire] = {"gateway_a": WireA(), "gateway_b": WireB()}

# Documents no XML reader of ours may expand or follow.
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Callback><EventId>&lol3;</EventId></Callback>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Callback [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Callback><EventId>&xxe;</EventId></Callback>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Callback SYSTEM "http://127.0.0.1:9/evil.dtd">
<Callback><EventId>e</EventId></Callback>"""
HOSTILE_XML = {
    "billion laughs": BILLION_LAUGHS,
    "external entity": EXTERNAL_ENTITY,
    "external dtd": EXTERNAL_DTD,
}
