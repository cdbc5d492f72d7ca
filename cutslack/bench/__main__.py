"""``python -m cutslack.bench ...``: the ``cutslack bench`` subcommands on their own."""

import sys

from cutslack.bench.cli import main

__all__ = []

if __name__ == "__main__":
    sys.exit(main())
