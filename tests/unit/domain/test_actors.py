from __future__ import annotations

import getpass

import pytest

from paycon.domain.actors import operator_actor
from paycon.domain.errors import InvalidInput
from paycon.facade.remote import local_operator_name


def test_an_operator_is_the_key_and_the_name_the_client_gave() -> None:
    assert operator_actor("key_ops1", None) == "operator:key_ops1"
    assert operator_actor("key_ops1", "alice") == "operator:key_ops1/alice"
    assert operator_actor("key_ops1", "a.b-c_d@e+f") == "operator:key_ops1/a.b-c_d@e+f"


@pytest.mark.parametrize("name", ["", "alice smith", "x" * 33, "al/ice", "ali\u202ece", "ålice"])
def test_a_name_that_would_not_show_as_it_is_is_refused_naming_the_header(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        operator_actor("key_ops1", name)
    assert [e.field for e in refused.value.errors] == ["X-Operator-Name"]


@pytest.mark.parametrize(("user", "sent"), [("alice", "alice"), ("Alice Smith", None)])
def test_the_local_user_is_sent_only_when_it_keeps_the_rule(
    monkeypatch: pytest.MonkeyPatch, user: str, sent: str | None
) -> None:
    monkeypatch.setattr(getpass, "getuser", lambda: user)
    assert local_operator_name() == sent


def test_no_local_user_sends_no_name(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_user() -> str:
        raise OSError("no user name")

    monkeypatch.setattr(getpass, "getuser", no_user)
    assert local_operator_name() is None
