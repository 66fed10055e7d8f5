"""``python -m paycon``."""

import sys

from paycon.cli.main import main

sys.exit(main())
