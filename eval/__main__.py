"""``python -m eval`` (from the repository root) and ``python -m ragpilot.eval``."""

import sys

from .cli import main

sys.exit(main())
