"""``python -m soak``: see soak.run."""

import sys

from .run import main

sys.exit(main())
