"""Use cases: what the API and the console ask paycon to do."""
