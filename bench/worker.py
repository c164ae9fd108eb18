"""Worker subprocess entry: ``python -m bench.worker SYSTEM MODE CONCURRENCY [VARIANT]``."""
from __future__ import annotations

import sys

from bench.systems import load_module


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    system, mode, concurrency = argv[0], argv[1], int(argv[2])
    variant = argv[3] if len(argv) > 3 else ""
    load_module(system).worker_main(mode, concurrency, variant)


if __name__ == "__main__":
    main()
