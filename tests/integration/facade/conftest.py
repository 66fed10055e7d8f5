"""Both operator facades on one real paycon: in its process, and over its HTTP port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from paycon.facade.local import LocalFacade
from paycon.facade.protocol import OperatorFacade
from tests.paycon_fixtures import RunningPaycon

LOCAL_ACTOR = "console:alice"


@dataclass
class Attached:
    """A facade, how it is attached, and the actor its actions are audited as."""

    facade: OperatorFacade
    kind: str
    actor_prefix: str


@pytest.fixture(params=["local"])
async def attached(
    request: pytest.FixtureRequest, paycon: RunningPaycon
) -> AsyncIterator[Attached]:
    facade = LocalFacade.for_service(paycon.service, actor=LOCAL_ACTOR)
    try:
        yield Attached(facade, request.param, LOCAL_ACTOR)
    finally:
        await facade.aclose()
