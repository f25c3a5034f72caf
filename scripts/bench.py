#!/usr/bin/env python
"""Benchmark the pipeline against bare scipy eigh and a naive QuSpin reference.

Same as ``manybody bench``; see ``manybody bench --help``. Example (about 10 minutes)::

    python scripts/bench.py                # N = 8..13, JSON under results/bench/
    python scripts/bench.py --large        # also N = 14
"""

import sys

from manybody.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
