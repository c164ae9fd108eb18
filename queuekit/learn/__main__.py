"""``python -m queuekit.learn …``: the same as ``queuekit learn …``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
