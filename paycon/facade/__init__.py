"""The operator facade the console and the CLI read through (never SQL in widgets)."""
