"""`python -m zoo`: the zoo command of zoo/cli.py, the same as `zoo` once the package is
installed (a newcomer who knows `python -m reproductions` tries this first)."""

import sys

from zoo.cli import main

sys.exit(main())
