#!/usr/bin/env python
"""Redraw the study figures from saved results files, without recomputing.

Usage: python scripts/make_figures.py [STUDY_DIR] [--out FIGURE_DIR]
"""

import argparse

from manybody.cli.signals import script_main
from manybody.runs.results import checked_output_option
from manybody.study.figures import make_all_figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study_dir", nargs="?", default="results/study")
    parser.add_argument("--out", default=None, help="figure directory (default STUDY_DIR/figures)")
    args = parser.parse_args()
    if getattr(args, "out", None) is not None:  # before any work (session 31)
        checked_output_option(parser, "--out", args.out, directory=True)
    for path in make_all_figures(args.study_dir, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
