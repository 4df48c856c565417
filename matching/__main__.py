"""Allow ``python -m matching``."""

import sys

from matching.cli import main

if __name__ == "__main__":  # not when a worker process of rounds' sector search imports it
    sys.exit(main())
