"""The operator console: a Textual app over the operator facade (never over storage)."""
