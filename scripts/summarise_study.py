#!/usr/bin/env python
"""Print the study's summary tables (TLS index, shape ratio, <r>, verdict; velocity slopes;
saturation exponents).

Usage: python scripts/summarise_study.py [STUDY_DIR] [--recompute] [--write]

By default the tables are read from STUDY_DIR/summary.json, velocity_slopes.json and
saturation.json (if present), which
`manybody study` writes (instant). --recompute refits every sweep point from the results files
(<spec>.nc; about two minutes for the default study, most of it the bootstrap errors of the
18 000-realisation points), reporting each file as it goes. --write rewrites summary.json,
velocity_slopes.json, saturation.json (strict JSON, NaN as null) and summary.md from what was read
or refitted.
"""

import sys
import time
from pathlib import Path

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.runs.results import load_results
from manybody.study.specs import STUDY_SPECS
from manybody.study.summary import (
    format_summary,
    read_saturation,
    read_summary,
    summarise,
    summarise_saturation,
    unreadable_results,
    write_summary,
)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def recompute(study_dir: Path) -> tuple[list, list, list]:
    """Refit every results file of the study, saying which one is being read and fitted."""
    rows, velocity, saturation = [], [], []
    paths = [(name, study_dir / f"{name}.nc") for name in STUDY_SPECS]
    paths = [(name, p) for name, p in paths if p.exists()]
    for i, (name, path) in enumerate(paths, 1):
        start = time.perf_counter()
        say(f"[{i}/{len(paths)}] {name}: reading {path}")
        ds = load_results(path)
        say(f"[{i}/{len(paths)}] {name}: fitting {ds.sizes.get('realisation', 1)} realisations "
            "per point (bootstrap errors)")
        shape_rows, velocity_rows = summarise(ds, name)
        rows.extend(shape_rows)
        velocity.extend(velocity_rows)
        saturation.extend(summarise_saturation(ds, name))
        say(f"[{i}/{len(paths)}] {name}: done in {time.perf_counter() - start:.1f} s")
    return rows, velocity, saturation


def main() -> int:
    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study_dir", nargs="?", default="results/study", type=Path,
                        help="directory of the study results (default: %(default)s)")
    parser.add_argument("--recompute", action="store_true",
                        help="refit from the <spec>.nc results files instead of reading summary.json")
    parser.add_argument("--write", action="store_true",
                        help="rewrite summary.json, velocity_slopes.json, saturation.json and summary.md")
    args = parser.parse_args()
    name = Path(sys.argv[0]).name
    # a file said "no study summary 'f/summary.json'" (session 37)
    if args.study_dir.exists() and not args.study_dir.is_dir():
        print(f"{name}: error: {str(args.study_dir)!r} is not a directory; give the study's "
              "folder (default results/study)", file=sys.stderr)
        return 2
    if args.recompute:
        problem = unreadable_results(args.study_dir, STUDY_SPECS)  # before fitting (bt203 F9)
        if problem:
            print(f"{name}: error: {problem}", file=sys.stderr)
            return 2
        rows, velocity, saturation = recompute(args.study_dir)
    else:
        try:
            rows, velocity = read_summary(args.study_dir)
            saturation = read_saturation(args.study_dir)
        except FileNotFoundError as exc:
            print(f"error: {exc} (or use --recompute with <spec>.nc files)", file=sys.stderr)
            return 2
        except ValueError as exc:  # damaged or odd: a traceback (session 37)
            print(f"{name}: error: {exc}", file=sys.stderr)
            return 2
        say(f"read the summaries in {args.study_dir} (use --recompute to refit from the .nc files)")
    if not rows and not saturation and not velocity:
        print(f"error: no study results in {args.study_dir}", file=sys.stderr)
        return 1
    if args.write:
        write_summary(args.study_dir, rows, velocity, saturation)
        say(f"wrote {args.study_dir}/summary.json, velocity_slopes.json, saturation.json, summary.md")
    print(format_summary(rows, velocity, saturation), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
