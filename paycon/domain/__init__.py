"""Pure domain rules: money, statuses, balances, routing, masking. No I/O here."""
