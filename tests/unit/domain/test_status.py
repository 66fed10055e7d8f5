from __future__ import annotations

import pytest

from paycon.domain.status import Status, Transition, decide_transition

P, S, C, F = Status.PENDING, Status.SUBMITTED, Status.COMPLETED, Status.FAILED


@pytest.mark.parametrize(
    ("current", "proposed", "expected"),
    [
        (P, S, Transition.APPLY),
        (P, C, Transition.APPLY),
        (P, F, Transition.APPLY),
        (S, C, Transition.APPLY),
        (S, F, Transition.APPLY),
        (S, S, Transition.UNCHANGED),
        (C, C, Transition.UNCHANGED),
        (S, P, Transition.BACKWARDS),
        (C, S, Transition.BACKWARDS),
        (C, P, Transition.BACKWARDS),
        (F, S, Transition.BACKWARDS),
        (C, F, Transition.CONFLICT),
        (F, C, Transition.CONFLICT),
    ],
)
def test_statuses_only_move_forward(
    current: Status, proposed: Status, expected: Transition
) -> None:
    assert decide_transition(current, proposed) is expected


def test_only_apply_changes_anything() -> None:
    assert [t for t in Transition if t.applies] == [Transition.APPLY]
