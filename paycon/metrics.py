"""In-process counters, and the Prometheus text format they are exposed in."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping


class Metrics:
    """Counters of this process since it started. Cheap enough for every request."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.callbacks: Counter[tuple[str, str]] = Counter()

    def count_request(self, method: str, route: str, status: int) -> None:
        self.requests[(method, route, status)] += 1

    def count_callback(self, gateway: str, outcome: str) -> None:
        self.callbacks[(gateway, outcome)] += 1


def _escape(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Mapping[str, object]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in labels.items()) + "}"


class Exposition:
    """Builds one Prometheus text exposition, family by family."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def family(
        self,
        name: str,
        kind: str,
        help_text: str,
        samples: Iterable[tuple[Mapping[str, object], float | int | None]],
    ) -> None:
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            if value is not None:
                self._lines.append(f"{name}{_labels(labels)} {value}")

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"
