"""Gateway clients: one interface, one module per gateway."""
