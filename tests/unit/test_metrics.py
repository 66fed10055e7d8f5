from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from paycon.metrics import Metrics, TrafficWindow


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition, parsed back as Prometheus reads it."""
    text = metrics.exposition().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_exposition_escapes_labels_as_prometheus_reads_them() -> None:
    metrics = Metrics()
    metrics.count_callback('gate"way\\a\nb', "applied")
    assert (
        samples(metrics)[
            ("paycon_callbacks_total", (("gateway", 'gate"way\\a\nb'), ("outcome", "applied")))
        ]
        == 1
    )


def test_transactions_by_status_move_with_each_change_from_the_seed() -> None:
    metrics = Metrics()
    metrics.seed_statuses({"pending": 2, "completed": 5})
    metrics.count_status_change(None, "pending")
    metrics.count_status_change("pending", "submitted")
    metrics.count_status_change("submitted", "failed")
    assert metrics.transactions() == {"pending": 2, "submitted": 0, "completed": 5, "failed": 1}
    found = samples(metrics)
    assert found[("paycon_transactions", (("status", "pending"),))] == 2
    assert found[("paycon_transactions", (("status", "failed"),))] == 1
    assert found[("paycon_transaction_status_changes_total", (("status", "pending"),))] == 1
    assert found[("paycon_transaction_status_changes_total", (("status", "completed"),))] == 0


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
