#!/usr/bin/env python
"""Benchmark the pipeline against bare scipy eigh and a naive QuSpin reference.

Same as ``manybody bench``; see ``manybody bench --help``. Examples::

    python scripts/bench.py                # quick: N = 8..10, a few seconds, nothing written
    python scripts/bench.py --full --output results/bench/bench-new.json   # N = 8..13, ~10 min
    python scripts/bench.py --large --output results/bench/bench-new.json  # also N = 14
"""

import sys

from manybody.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
