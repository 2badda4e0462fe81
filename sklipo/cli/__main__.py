"""Allow ``python -m sklipo.cli``, as ``python -m sklipo``."""

import sys

from sklipo.cli import main

sys.exit(main())
