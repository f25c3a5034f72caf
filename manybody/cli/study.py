"""``manybody study``: run the built-in study, then print its summary table."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from manybody.cli.signals import last_line
from manybody.study.catalogue import ALL_SPECS, MATRIX_ELEMENT_NAMES, OPTIONAL_SPECS
from manybody.support import validate as v


def configure(parser) -> None:
    """Arguments of ``manybody study``."""
    parser.add_argument("-o", "--output", default="results/study", type=v.cli_path,
                        help="output directory (default: results/study; a study of other "
                             "sizes than the summary there is refused: give --tiny its own)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--full", action="store_const", dest="size", const="full",
                       help="paper-quality sizes (N = 12; the finite-size check to N = 14 with "
                            "--only finite_size): ~700 CPU-hours, a cluster job")
    group.add_argument("--tiny", action="store_const", dest="size", const="tiny",
                       help="a smoke run at N <= 5 for tests (a few CPU-minutes)")
    parser.set_defaults(size="default")
    parser.add_argument("-j", "--jobs", type=v.cli_integer(low=1), default=2,
                        help="worker processes (default 2)")
    parser.add_argument("--only", nargs="+", choices=ALL_SPECS + MATRIX_ELEMENT_NAMES,
                        help="run only these specs (" + ", ".join(OPTIONAL_SPECS)
                             + ": the finite-size check and the decisive velocity-slope rows, "
                               "run only when named; matrix_elements_*: the |T_mn|^2 "
                               "statistics, pooled with those already finished in the folder)")
    parser.add_argument("--no-figures", action="store_true", help="skip drawing figures")
    parser.add_argument("--backend", choices=("loky", "dask"), default="loky",
                        help="joblib backend (default loky; dask for a cluster)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="dask scheduler address, e.g. tcp://host:8786 (with --backend dask)")


def _print_err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args) -> int:
    """Entry point of ``manybody study``: run, then print the summary table."""
    from manybody.cli.run import STUDY_WORDS, cli_words, refuse_jobs_with_scheduler
    from manybody.cli.signals import KEPT_BY_DEFAULT
    from manybody.study.run import execute_study  # heavy: only when the command runs
    from manybody.support.paths import refuse_standard_output

    if not str(args.output).strip():  # it wrote into the working directory and said "in /"
        raise ValueError("--output must name a directory (e.g. results/study), got ''")
    refuse_standard_output("--output", args.output)
    refuse_jobs_with_scheduler(args, 2)
    if args.only and len(set(args.only)) < len(args.only):  # taken once without a word
        repeated = sorted({name for name in args.only if args.only.count(name) > 1})
        raise ValueError(f"--only names {', '.join(map(repr, repeated))} more than once; name "
                         "each spec once")
    try:
        execute_study(args.output, args.size, args.jobs, tuple(args.only) if args.only else None,
                      progress=True, figures=not args.no_figures, backend=args.backend,
                      scheduler=args.scheduler, echo=_print_err)
    except KeyboardInterrupt as exc:
        if not hasattr(exc, "kept"):  # stopped between sweeps (fitting, the figures): what way
            # on? the line said only that nothing was half-written (a new user, session 36)
            exc.kept = (f"{KEPT_BY_DEFAULT}; rerun the same command to continue (finished "  # type: ignore[attr-defined]
                        "sweeps are reused)")
        elif getattr(exc, "finished_result", None) is not None:  # the stop came as a sweep
            # finished: the study stops there (it ran on to its end; a tester, bt203)
            exc.kept = (f"{exc.kept}; rerun the same command to continue (finished sweeps are "  # type: ignore[attr-defined]
                        "reused)")
        elif "nothing is kept" in exc.kept:  # of the sweep it stopped in; the study's finished
            # sweeps are kept and reused (it said "nothing is kept"; a break test, session 47)
            finished = sorted(p.name for p in Path(args.output).glob("*.nc"))
            if finished:
                exc.kept = (exc.kept.replace("nothing is kept", "nothing of this sweep is kept")
                            + f"; the finished sweeps ({', '.join(finished)}) are kept: rerun "
                            "the same command to continue (they are reused)")
        raise
    except ImportError as exc:  # e.g. dask not installed
        raise ValueError(str(exc)) from None
    except (ValueError, TypeError, FileExistsError, FileNotFoundError, PermissionError,
            NotADirectoryError) as exc:  # the options' names, as run's
        message = cli_words(str(exc), args.scheduler, STUDY_WORDS)
        if message != str(exc):
            raise type(exc)(message) from None
        raise
    if args.only and not set(args.only) - set(MATRIX_ELEMENT_NAMES):  # no summary written
        drawn = "results (figures skipped: --no-figures)" if args.no_figures else (
            "results and figures")
        print(f"|T_mn|^2 statistics pooled in {Path(args.output) / 'matrix_elements.nc'}; "
              f"{drawn} in {_folder(args.output)}")
        return 0
    print((Path(args.output) / "summary.md").read_text())
    drawn = "results and summary (figures skipped: --no-figures)" if args.no_figures else (
        "results, summary and figures")
    last_line(f"\n{drawn} in {_folder(args.output)}")
    return 0


def _folder(output: str) -> str:
    """An output folder as the last line names it: 'results/study/', '/' (it said '//' for -o /,
    a tester, bt203)."""
    return os.path.join(output, "")
