"""``python -m smate_nb …`` — see :mod:`smate_nb.suite`."""
import sys

from .suite import main

if __name__ == "__main__":
    sys.exit(main())
