"""Both operator facades on one real paycon: in its process, and over its HTTP port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from paycon.facade.local import LocalFacade
from paycon.facade.protocol import OperatorFacade
from paycon.facade.remote import RemoteFacade
from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon

LOCAL_ACTOR = "console:alice"
# The operator API audits a key as operator:<its key id>.
REMOTE_ACTOR_PREFIX = "operator:key_"


@dataclass
class Attached:
    """A facade, how it is attached, and how its actions are audited."""

    facade: OperatorFacade
    kind: str
    actor_prefix: str


@pytest.fixture(params=["local", "remote"])
async def attached(
    request: pytest.FixtureRequest, paycon: RunningPaycon
) -> AsyncIterator[Attached]:
    facade: OperatorFacade
    if request.param == "local":
        facade = LocalFacade.for_service(paycon.service, actor=LOCAL_ACTOR)
        actor_prefix = LOCAL_ACTOR
    else:
        facade = RemoteFacade(paycon.url, OPERATOR_KEY)
        actor_prefix = REMOTE_ACTOR_PREFIX
    try:
        yield Attached(facade, request.param, actor_prefix)
    finally:
        await facade.aclose()
