"""``manybody info FILE``: what a results file holds and how it was made."""

from __future__ import annotations

import argparse
import sys

from manybody.support import validate as v


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``manybody info``."""
    parser.add_argument("file", metavar="FILE", type=v.cli_path,
                        help="results file written by manybody run")


def run(args: argparse.Namespace) -> int:
    """Describe a results file; return the exit status."""
    from manybody.runs.results import describe, load_results  # heavy: only when the command runs

    ds = load_results(args.file)
    if "schema_version" not in ds.attrs:
        raise ValueError(f"{args.file!r} is a netCDF/HDF5 file but not a manybody results file "
                         "(no schema_version attribute); give a file written by manybody run")
    sys.stdout.write(describe(ds, args.file) + "\n")
    return 0
