"""What goes wrong when: paycon's kills and the gateways' faults, drawn from the seed.

Callbacks misbehave the whole time (20 % dropped, 10 % duplicated, stale
ones after the final one, a few declines). On top of that, one phase after
another in a seeded order: 30 % errors, 10 % timeouts, one gateway out
(answering 503 or refusing connections), the money misbehaviours (skewed
amounts, callbacks on the other gateway's route, late failures, 503s after
charging), one gateway refusing our credentials, and everything at once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

GATEWAYS = ("gateway_a", "gateway_b")

# Faults that hold for the whole load, on both gateways.
BACKGROUND: dict[str, object] = {
    "latency_ms": 5,
    "latency_jitter_ms": 5,
    "callback_delay_ms": 100,
    "callback_drop_rate": 0.2,
    "callback_duplicate_rate": 0.1,
    "callback_reorder": True,
    "decline_rate": 0.05,
    # Above paycon's read timeout (the run's config sets it), so a timeout is ambiguous.
    "timeout_hang_ms": 4000,
}

# Every fault back to healthy; callbacks stay quick.
HEALTHY: dict[str, object] = {
    "latency_ms": 0,
    "latency_jitter_ms": 0,
    "error_rate": 0.0,
    "timeout_rate": 0.0,
    "outage": False,
    "decline_rate": 0.0,
    "callback_delay_ms": 100,
    "callback_drop_rate": 0.0,
    "callback_duplicate_rate": 0.0,
    "callback_reorder": False,
    "callback_amount_skew": 0.0,
    "callback_wrong_route": 0.0,
    "late_failure_rate": 0.0,
    "ghost_503_rate": 0.0,
    "auth_failure": False,
    "submit_decline": False,
}

ERRORS: dict[str, object] = {"error_rate": 0.3}
TIMEOUTS: dict[str, object] = {"timeout_rate": 0.1}
MONEY: dict[str, object] = {
    "callback_amount_skew": 0.05,
    "callback_wrong_route": 0.05,
    "late_failure_rate": 0.05,
    "ghost_503_rate": 0.1,
}
# What each phase turns on besides the background; the phase's gateway alone for the
# outage and the refused credentials, both gateways for the others.
PHASE_FAULTS: dict[str, dict[str, object]] = {
    "errors": ERRORS,
    "timeouts": TIMEOUTS,
    "money": MONEY,
    "credentials": {"auth_failure": True},
    "everything": {**ERRORS, **TIMEOUTS, **MONEY},
}
ONE_GATEWAY = ("outage", "credentials")


@dataclass(frozen=True)
class Phase:
    """A stretch of the run with its faults per gateway."""

    name: str
    start_s: float
    length_s: float
    faults: dict[str, dict[str, object]] = field(default_factory=dict)

    def describe(self) -> str:
        """``outage        12.0 s + 30.0 s  gateway_b: outage=refuse``: what the phase changes."""
        changed = {
            g: {k: v for k, v in f.items() if BACKGROUND.get(k) != v}
            for g, f in self.faults.items()
        }
        text = ", ".join(
            f"{g}: " + " ".join(f"{k}={v}" for k, v in sorted(c.items()))
            for g, c in changed.items()
            if c
        )
        return f"{self.name:<11} {self.start_s:6.1f} s +{self.length_s:5.1f} s  {text}"


@dataclass(frozen=True)
class Schedule:
    """The run's phases (back to back from 0 s) and kill times, both from the seed."""

    phases: tuple[Phase, ...]
    kill_at_s: tuple[float, ...]


def draw_schedule(
    rng: random.Random, *, duration_s: float, outage_s: float, kills: int
) -> Schedule:
    """Phases in a seeded order filling ``duration_s`` (the outage lasts ``outage_s``),
    and ``kills`` seeded kill times spread over the same span."""
    names = [*PHASE_FAULTS, "outage"]
    rng.shuffle(names)
    others_s = max(duration_s - outage_s, 0.0) / (len(names) - 1)
    phases: list[Phase] = []
    start_s = 0.0
    for name in names:
        length_s = outage_s if name == "outage" else others_s
        faults = {g: dict(BACKGROUND) for g in GATEWAYS}
        if name == "outage":
            faults[rng.choice(GATEWAYS)]["outage"] = rng.choice(["503", "refuse"])
        elif name in ONE_GATEWAY:
            faults[rng.choice(GATEWAYS)].update(PHASE_FAULTS[name])
        else:
            for gateway in GATEWAYS:
                faults[gateway].update(PHASE_FAULTS[name])
        phases.append(Phase(name, start_s, length_s, faults))
        start_s += length_s
    # Kills land anywhere in the load, never in its first or last few percent.
    kill_at_s = sorted(rng.uniform(0.03, 0.95) * duration_s for _ in range(kills))
    return Schedule(tuple(phases), tuple(kill_at_s))
