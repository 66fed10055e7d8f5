from __future__ import annotations

from paycon.metrics import Exposition, Metrics


def test_exposition_escapes_labels_and_skips_unknown_values() -> None:
    out = Exposition()
    out.family("x_total", "counter", "things", [({"route": 'a"b\\c'}, 3), ({"route": "d"}, None)])
    assert out.text() == (
        '# HELP x_total things\n# TYPE x_total counter\nx_total{route="a\\"b\\\\c"} 3\n'
    )


def test_counters_add_up() -> None:
    metrics = Metrics()
    for _ in range(3):
        metrics.count_request("GET", "/healthz", 200)
    metrics.count_callback("gateway_a", "apply")
    assert metrics.requests[("GET", "/healthz", 200)] == 3
    assert metrics.callbacks[("gateway_a", "apply")] == 1
