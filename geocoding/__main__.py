"""``python -m geocoding``: see ``geocoding.cli``."""

import sys

from .cli import main

sys.exit(main())
