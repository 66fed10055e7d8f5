"""What makes a gateway A or B: its routes and its formats."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiohttp import web

from mock_gateways.callbacks import CallbackEncoder

ErrorRenderer = Callable[[int, str, str], web.Response]


@dataclass(frozen=True)
class Dialect:
    """A gateway's wire protocol: its routes, its error format and its callback format."""

    name: str
    routes: Sequence[web.RouteDef]
    error_response: ErrorRenderer
    encode_callback: CallbackEncoder
