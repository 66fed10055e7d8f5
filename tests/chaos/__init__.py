"""Chaos: paycon under kills and misbehaving gateways, checked against the gateways' own ledger.

``python -m tests.chaos --help`` (or ``make chaos``) runs it; ``tests/e2e/test_chaos.py``
runs a short variant in ``make test``.
"""
