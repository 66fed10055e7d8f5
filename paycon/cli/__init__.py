"""The command line: ``paycon run``, ``migrate``, ``keygen`` and the operator commands."""
