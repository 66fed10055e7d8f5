"""Runnable fake payment gateways A (JSON) and B (XML) with fault injection."""
