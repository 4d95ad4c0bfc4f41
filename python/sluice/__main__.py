"""``python -m sluice``: the ``sluice`` command."""

import sys

from ._cli import main

sys.exit(main())
