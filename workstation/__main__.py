"""``python -m workstation`` runs the ``lightbox`` command."""

import sys

from workstation.cli import main

sys.exit(main())
