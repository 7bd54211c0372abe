"""``python -m hookline``: the command line, for environments without the ``hookline``
script on ``PATH`` (a job image's entry point, the ``local`` compute backend)."""

import sys

from hookline.cli import main

if __name__ == "__main__":
    sys.exit(main())
