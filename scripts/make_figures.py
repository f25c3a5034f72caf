#!/usr/bin/env python
"""Redraw the study figures from saved results files, without recomputing.

Usage: python scripts/make_figures.py [STUDY_DIR] [--out FIGURE_DIR]
"""

import sys
from pathlib import Path

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.runs.results import checked_output_option
from manybody.study.catalogue import ALL_SPECS
from manybody.study.figures import make_all_figures
from manybody.study.summary import SUMMARY_FILES, load_rows, unreadable_results


def main() -> int:
    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study_dir", nargs="?", default="results/study",
                        help="directory of the study results (default: %(default)s)")
    parser.add_argument("--out", default=None, help="figure directory (default STUDY_DIR/figures)")
    args = parser.parse_args()
    study = Path(args.study_dir)
    # a missing folder was created with figures of "no coupling sweep" in it, and a file gave
    # a NotADirectoryError traceback (session 33)
    if not study.is_dir():
        parser.error(f"study directory {str(study)!r} "
                     + ("is not a directory" if study.exists() else "does not exist"))
    if not (study / "summary.json").is_file():
        parser.error(f"study directory {str(study)!r} holds no summary.json: run manybody study "
                     "into it, or scripts/summarise_study.py --recompute --write on its .nc files")
    for name in SUMMARY_FILES:  # a damaged one gave a traceback midway (session 37)
        if (study / name).is_file():
            try:
                load_rows(study / name)
            except ValueError as exc:
                print(f"{Path(sys.argv[0]).name}: error: {exc}", file=sys.stderr)
                return 2
    # a damaged <spec>.nc gave a traceback midway through the figures (bt203 F9)
    problem = unreadable_results(study, (*ALL_SPECS, "matrix_elements"))
    if problem:
        print(f"{Path(sys.argv[0]).name}: error: {problem}", file=sys.stderr)
        return 2
    out = None
    if getattr(args, "out", None) is not None:  # before any work (session 31)
        out = checked_output_option(parser, "--out", args.out, directory=True)
    not_drawn: list[str] = []
    for path in make_all_figures(args.study_dir, out, not_drawn):
        print(path)
    if not_drawn:  # six of eight were skipped without a word on the shipped results (session 36)
        present = sorted(p.name for p in study.glob("*.nc"))
        print(f"not drawn: {', '.join(not_drawn)}: their inputs are not in {str(study)!r}; most "
              f"need the results files <spec>.nc (present: {', '.join(present) or 'none'}), "
              "which the repository does not ship: run manybody study into the folder to make "
              "them", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
