"""`python -m lpr` runs the `lpr` command."""

import sys

from .cli import main

sys.exit(main())
