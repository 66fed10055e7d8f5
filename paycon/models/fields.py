"""Field types shared by the models: what they hold in Python and how JSON spells them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema

from paycon.domain.transactions import rfc3339


def _precise(moment: datetime) -> str:
    return rfc3339(moment, timespec="microseconds")


def _decimal_text(amount: Decimal) -> str:
    return format(amount, "f")


# An aware UTC time; JSON spells it RFC 3339 to the millisecond (``2026-11-27T04:40:28.123Z``).
Time = Annotated[
    datetime,
    PlainSerializer(rfc3339, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string"}),
]
# The same to the microsecond, as the outbox stores times (an ``as_of`` handed back).
PreciseTime = Annotated[
    datetime,
    PlainSerializer(_precise, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string"}),
]
# An amount; JSON spells it as a decimal string (``"100.50"``), never a float.
DecimalText = Annotated[
    Decimal,
    PlainSerializer(_decimal_text, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string"}),
]


class Out(BaseModel):
    """An answer's model: frozen; fields the API adds later are ignored when parsing."""

    model_config = ConfigDict(frozen=True)


def ms(moment: datetime) -> datetime:
    """``moment`` to the millisecond, as the API writes it: a model built in the process
    equals the one parsed from the API's answer."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def ms_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else ms(moment)
