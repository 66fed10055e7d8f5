"""``python -m mock_gateways``: see ``mock_gateways.cli``."""

from __future__ import annotations

import sys

from mock_gateways.cli import main

sys.exit(main())
