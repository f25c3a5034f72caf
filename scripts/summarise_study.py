#!/usr/bin/env python
"""Recompute the study's summary table (TLS index, shape ratio, <r>, verdict) from results files.

Usage: python scripts/summarise_study.py [STUDY_DIR]
"""

import argparse
from pathlib import Path

from manybody.results import load_results
from manybody.study import STUDY_SPECS, format_table, summarise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study_dir", nargs="?", default="results/study")
    args = parser.parse_args()
    rows = []
    for name in STUDY_SPECS:
        path = Path(args.study_dir) / f"{name}.nc"
        if path.exists():
            rows.extend(summarise(load_results(path), name))
    if not rows:
        print(f"no study results in {args.study_dir}")
        return 1
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
