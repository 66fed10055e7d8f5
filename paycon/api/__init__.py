"""The HTTP API (aiohttp): merchant, operator, callback and service endpoints."""
