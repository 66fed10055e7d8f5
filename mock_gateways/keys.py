"""What the mock apps keep on the application and on each request."""

from __future__ import annotations

from aiohttp import web

from mock_gateways.decisions import Roll
from mock_gateways.dialect import Dialect
from mock_gateways.gateway import MockGateway

GATEWAY = web.AppKey("gateway", MockGateway)
DIALECT = web.AppKey("dialect", Dialect)
# The dice this request drew on arrival; handlers use it for a new payment's fate.
ROLL = web.RequestKey("roll", Roll)
# Which fault, if any, shaped this request's answer (for the request log).
FAULT = web.RequestKey("fault", str)
