"""``python -m paycon``."""

import sys

from paycon.cli import main

sys.exit(main())
