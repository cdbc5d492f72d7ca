"""``python -m cutslack`` runs the command line."""

import sys

from cutslack.cli import main

sys.exit(main())
