"""Outbound connections to merchants: name resolution and the connect-time address check."""
