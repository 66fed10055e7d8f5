from __future__ import annotations

from paycon.metrics import Exposition, Metrics, TrafficWindow


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


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


def test_traffic_counts_accepted_and_refused_payments_over_the_window() -> None:
    clock = FakeClock()
    metrics = Metrics(traffic=TrafficWindow(60, clock=clock))
    clock.now_s += 120  # running for longer than the window
    for status in (202, 202, 202, 422):
        metrics.count_request("POST", "/v1/deposits", status)
    metrics.count_request("POST", "/v1/withdrawals", 400)
    metrics.count_request("GET", "/v1/transactions", 200)  # not a payment request
    metrics.count_request("POST", "/v1/callbacks/{gateway}", 500)
    assert metrics.traffic.as_json() == {
        "payments_per_s": round(3 / 60, 3),
        "error_rate": 0.4,
        "window_s": 60.0,
    }


def test_traffic_forgets_requests_older_than_the_window() -> None:
    clock = FakeClock()
    traffic = TrafficWindow(60, clock=clock)
    traffic.count(202)
    clock.now_s += 30
    traffic.count(202)
    traffic.count(500)
    assert traffic.totals() == (2, 1)
    clock.now_s += 30  # the first second has left the window
    assert traffic.totals() == (1, 1)
    clock.now_s += 60
    assert traffic.totals() == (0, 0)
    assert traffic.as_json()["error_rate"] is None
    traffic.count(202)  # the reused bucket starts from zero
    assert traffic.totals() == (1, 0)


def test_a_young_process_divides_by_its_age_not_the_whole_window() -> None:
    clock = FakeClock()
    traffic = TrafficWindow(60, clock=clock)
    clock.now_s += 10
    for _ in range(30):
        traffic.count(202)
    assert traffic.as_json() == {"payments_per_s": 3.0, "error_rate": 0.0, "window_s": 10.0}
