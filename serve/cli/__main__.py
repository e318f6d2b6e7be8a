"""``python -m ragpilot.serve.cli``: the same as the ``ragpilot`` console script."""

import sys

from . import main

sys.exit(main())
