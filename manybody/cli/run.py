"""``manybody run SPEC.toml -o OUT.nc``: run a sweep.

Validates the spec and the output location before computing anything, shows a progress bar on
stderr, checkpoints every finished task and resumes from the checkpoint when rerun.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
import sys
import time
import warnings

from manybody.cli.parser import option_given
from manybody.cli.signals import last_line
from manybody.support import validate as v

log = logging.getLogger(__name__)


_positive_int = v.cli_integer(low=1)


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``manybody run``."""
    parser.add_argument("spec", metavar="SPEC.toml", type=v.cli_path, help="run specification (TOML)")
    parser.add_argument("-o", "--output", metavar="OUT.nc", type=v.cli_path,
                        help="results file (netCDF4); required. Finished tasks are checkpointed "
                             "in OUT.nc.checkpoint/ until the file is written")
    parser.add_argument("-j", "--jobs", type=_positive_int, default=1, metavar="N",
                        help="worker processes (loky) or LocalCluster workers (dask); default 1")
    parser.add_argument("--backend", choices=("loky", "dask"), default="loky",
                        help="joblib backend (default loky)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="dask scheduler address, e.g. tcp://host:8786 (with --backend dask); "
                             "a LocalCluster is started when omitted")
    parser.add_argument("--blas-threads", type=_positive_int, default=1, metavar="K",
                        help="BLAS threads per task (default 1; jobs x K must not exceed the "
                             "cores; results are bit-identical across --jobs at fixed K)")
    parser.add_argument("--chunk-size", type=_positive_int, default=None, metavar="M",
                        help="realisations per task and per checkpoint file (default: about "
                             "2^13 / 2^N for dense ED, 1 for N > 13; never changes the numbers)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from OUT.nc.checkpoint/ (an error if there is none); a "
                             "plain rerun also resumes")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUT.nc")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


#: The library's names of run_sweep's arguments in its messages, as the options a command-line
#: user types (session 25: "pass overwrite=True (--overwrite)", "chunk_size must be ...").
CLI_WORDS = (
    ("pass overwrite=True (--overwrite)", "pass --overwrite"),
    ("chunk_size must", "--chunk-size must"),
    ("n_jobs x blas_threads", "--jobs x --blas-threads"),
    ("n_jobs must be -1 (every core) or an integer", "--jobs must be an integer"),
    ("n_jobs must", "--jobs must"),
    ("blas_threads must", "--blas-threads must"),
    ("backend must", "--backend must"),
    ("needs backend 'dask', got backend 'loky'", "needs --backend dask (the default is loky)"),
    ("scheduler=", "--scheduler "),
    ("resume=True (--resume)", "--resume"),
    ("blas_threads=", "--blas-threads "),
)


#: The same for ``manybody study``, which has no --blas-threads (one BLAS thread per worker).
STUDY_WORDS = (
    ("n_jobs x blas_threads = ", "--jobs x BLAS threads per worker = "),
    ("n_jobs must be -1 (every core) or an integer", "--jobs must be an integer"),
    ("n_jobs must", "--jobs must"),
    ("backend must", "--backend must"),
    ("needs backend 'dask', got backend 'loky'", "needs --backend dask (the default is loky)"),
    ("scheduler=", "--scheduler "),
    # study has no --overwrite: a file in the way is removed by the user or avoided (session 27)
    ("pass overwrite=True (--overwrite) to replace it",
     "remove it or choose another output directory (-o); manybody study does not overwrite "
     "results"),
    # a checkpoint of another spec in the study's folder (a tester, bt205: study has neither a
    # spec of the user's to rerun with nor --overwrite)
    ("Rerun with the original spec, or pass overwrite=True (--overwrite) to discard them and "
     "start over", "The study's specs are its own: move the checkpoint away (or delete it) to "
     "compute this spec anew, or choose another output directory (-o)"),
)

#: Regular expressions applied after the words: (pattern, replacement) per command.
CLI_PATTERNS = ((re.compile(r"(?<![-\w])output '"), "--output '"),)
STUDY_PATTERNS = ((re.compile(r"choose another output(?! directory)"),
                   "choose another output directory (-o)"),)


def cli_words(message: str, scheduler: str | None = None,
              words: tuple[tuple[str, str], ...] = CLI_WORDS) -> str:
    """``message`` with the library's argument names replaced by the options (``words``:
    :data:`CLI_WORDS` for ``manybody run``, :data:`STUDY_WORDS` for ``manybody study``); a message
    about the scheduler's address names ``--scheduler``."""
    for api, cli in words:
        message = message.replace(api, cli)
    for pattern, cli in CLI_PATTERNS if words is CLI_WORDS else STUDY_PATTERNS:
        message = pattern.sub(cli, message)
    if scheduler and repr(scheduler) in message and "scheduler" not in message:
        message = f"--scheduler {scheduler!r}: {message}"
    return message


#: Sweeps of more points than this are announced before they are checked: every point is
#: validated twice (when the spec is read and before the run, about 0.3 ms each here), and a
#: 2·10^5-point sweep sat silent for a minute before its progress bar (a new user, session 35).
ANNOUNCED_POINTS = 20_000


def _with_spec_path(message: str, spec_path: str) -> str:
    """A refusal of one sweep point, or of a spec without sweep axes, named by its file like
    every other refusal of the spec: "SPEC.toml: sweep point model.n_tls=1: ..." (it began
    "run specification: " or "sweep point ...", with no file; a break test, session 55)."""
    if message.startswith("run specification: "):
        return f"{spec_path}: {message.removeprefix('run specification: ')}"
    if message.startswith("sweep point "):
        return f"{spec_path}: {message}"
    return message


def _say_when_checking_takes_long(spec_path: str) -> None:
    """One line on stderr when the spec's sweep has more than :data:`ANNOUNCED_POINTS` points
    (counted from the raw TOML; a spec that cannot be read is left to RunSpec's errors). A
    stream is not read: it gives its text once, and a piped spec was read here and then found
    empty (a tester's /dev/stdin, bt196)."""
    import tomllib

    if not os.path.isfile(spec_path):
        return
    try:
        with open(spec_path, "rb") as fh:
            sweep = tomllib.load(fh).get("sweep", {})
        points = math.prod(len(values) for values in sweep.values()
                           if isinstance(values, list))
    except (OSError, ValueError, AttributeError, TypeError):
        return
    if points > ANNOUNCED_POINTS:
        print(f"checking {points} sweep points before any work (about {points * 0.3e-3:.0f} s "
              "on one core)...", file=sys.stderr, flush=True)


#: A run whose dense diagonalisations take more than this many CPU seconds on this project's
#: machine (:func:`manybody.simulation.solvers.dense.dense_cpu_seconds`) is told its cost first.
ANNOUNCED_DENSE_CPU_SECONDS = 4 * 3600.0


def _say_dense_cost(spec, jobs: int, output: str | None = None) -> None:
    """A note of a run's dense ED cost when it exceeds :data:`ANNOUNCED_DENSE_CPU_SECONDS`:
    10 000 realisations at N = 14 (months of CPU) started without a word, and with --jobs 1 a
    stop waited for the diagonalisation in progress (a tester, bt218 F3). The realisations a
    checkpoint of this spec at ``output`` holds are not counted (a resume was told the whole
    run's cost; session 62's note)."""
    from manybody.runs.checkpoint import finished_counts
    from manybody.runs.spec import point_routes, preflight
    from manybody.simulation.solvers.dense import dense_cpu_seconds

    finished = finished_counts(output, spec)
    counts = spec.realisation_counts.ravel() - finished
    seconds, largest, realisations = 0.0, 0, 0
    for (_, model, _), route, count in zip(spec.points(), point_routes(spec), counts,
                                           strict=True):
        if route.startswith("dense") and count > 0:
            seconds += int(count) * dense_cpu_seconds(model.n_tls, spec.solver.dtype)
            largest, realisations = max(largest, model.n_tls), realisations + int(count)
    if seconds <= ANNOUNCED_DENSE_CPU_SECONDS:
        return
    with warnings.catch_warnings():  # a refusal before the note (run_sweep checks again and
        warnings.simplefilter("ignore")  # warns then; hours of work against a second's check)
        preflight(spec)
    each = dense_cpu_seconds(largest, spec.solver.dtype)
    stop = (f"; with --jobs 1 a stop (Ctrl-C, SIGTERM) waits for the diagonalisation in progress, "
            f"up to about {each / 60:.2g} min at N = {largest} (--jobs 2 stops within a second)"
            if jobs == 1 and each > 120 else "")
    resumed = (f" (besides the {int(finished.sum()):,} its checkpoint holds)" if finished.any()
               else "")
    print(f"note: this run does {realisations:,} dense diagonalisations{resumed} up to N = "
          f"{largest}: about "
          f"{seconds / 3600:.3g} CPU-hours ({each:.3g} CPU-s per realisation at N = {largest} on "
          f"this project's machine; README, Performance), about half that in hours on two "
          f"cores{stop}. Finished work is kept if it is stopped", file=sys.stderr, flush=True)


def _say_when_kernels_compile(spec) -> None:
    """A note before a run whose Chebyshev solves will first compile their matrix-free kernels
    (the run kernels that :func:`compiled.kernels_cached` looks for: a run on the sparse
    operators, N <= 12 by default, compiles none of them, and the note with its "20-30 s"
    was printed before every such run of 3-5 s; a break test, session 54)."""
    from manybody.runs.spec import point_routes
    from manybody.simulation.solvers.chebyshev import compiled
    from manybody.support.compiled_cache import disk_cache

    if any(route.startswith("chebyshev, matrix_free") for route in point_routes(spec)) and \
            not compiled.kernels_cached():
        if disk_cache(compiled.kernels_cached):  # numba has a place for the kernels' cache
            print("note: the Chebyshev solver compiles its kernels on first use in this checkout "
                  f"(about {compiled.COMPILE_SECONDS} per worker, once: they are cached on disk); "
                  "the first realisations take that much longer", file=sys.stderr, flush=True)
        else:  # it said "once: they are cached on disk" where nothing could be (session 47)
            print("note: the Chebyshev solver compiles its kernels in every process here (about "
                  f"{compiled.COMPILE_SECONDS} per worker): numba finds no writable place to "
                  "cache them; set NUMBA_CACHE_DIR to a writable folder to keep them",
                  file=sys.stderr, flush=True)


def refuse_jobs_with_scheduler(args: argparse.Namespace, default: int) -> None:
    """Refuse ``--jobs`` beside ``--scheduler`` (run and study): the cluster's workers run the
    tasks, and a --jobs 64 was accepted without a word and recorded as n_jobs 1 (helper-185)."""
    if args.scheduler is not None and option_given(args, "jobs", default):
        raise ValueError(f"--jobs {args.jobs} has no effect with --scheduler: the cluster's "
                         "workers run the tasks (their number is set where they are started); "
                         "leave --jobs out")


def _note_chunk_size_beyond_realisations(chunk_size: int | None, spec) -> None:
    """A note when ``--chunk-size`` exceeds the realisations of every sweep point: a task takes
    the realisations of one point only, so any larger size runs the same tasks as the largest
    count, and --chunk-size 50 for 2 realisations was taken without a word (a break test, bt196;
    options that change nothing are noted, as fit-data's are)."""
    most = spec.max_realisations
    if chunk_size is not None and chunk_size > most:
        print(f"note: --chunk-size {chunk_size} runs the same tasks as --chunk-size {most}: no "
              f"sweep point has more than {most} realisation(s), and a task takes the "
              "realisations of one point only", file=sys.stderr, flush=True)


def spec_not_replayable(spec: str, cwd: str | None = None) -> bool:
    """Whether a rerun of the same command cannot read the spec at ``spec`` (relative to ``cwd``)
    again: a stream (/dev/stdin, /dev/fd/N, a process substitution, a pipe) or no file now."""
    return spec.startswith(("/dev/", "/proc/")) or not os.path.isfile(os.path.join(cwd or ".", spec))


def _note_spec_from_stream(spec: str, output: str) -> None:
    """A note that a spec read from a stream is kept in the checkpoint: the same command cannot
    read it again to resume (it recorded /dev/stdin; a tester, bt196)."""
    from manybody.runs.checkpoint import Checkpoint, checkpoint_dir

    if spec_not_replayable(spec):
        copy = checkpoint_dir(output) / Checkpoint.SPEC_COPY
        print(f"note: the spec is read from {spec}: the checkpoint keeps a copy of it "
              f"({copy}) until the run finishes; to resume an interrupted run give that copy in "
              f"place of {spec} (manybody info {checkpoint_dir(output)} gives the command)",
              file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Run a sweep; return the exit status."""
    from manybody.runs.results import output_path
    from manybody.runs.spec import RunSpec  # heavy: only when the command runs
    from manybody.runs.sweep import MAX_CHUNK, run_sweep

    if args.chunk_size is not None:  # before the note that takes it as given (bt207 F3)
        try:
            v.integer("chunk_size", args.chunk_size, 1, MAX_CHUNK)
        except ValueError as exc:
            raise ValueError(cli_words(str(exc))) from None
    if not args.output:
        raise ValueError("an output location is required: manybody run SPEC.toml -o OUT.nc")
    if args.spec == "-":  # was "run specification '-' does not exist" (a break test, bt196)
        raise ValueError("SPEC.toml '-': a run specification cannot be read from standard "
                         "input; write it to a file and give its path (or './-' for a file "
                         "named '-')")
    refuse_jobs_with_scheduler(args, 1)
    _say_when_checking_takes_long(args.spec)
    spec = RunSpec.from_toml(args.spec)
    _note_chunk_size_beyond_realisations(args.chunk_size, spec)
    _note_spec_from_stream(args.spec, args.output)
    # os.path: False, not PermissionError, for a directory that cannot be searched
    if os.path.exists(args.output) and os.path.samefile(args.output, args.spec):
        raise ValueError(f"--output {args.output!r} is the run specification itself; choose "
                         "another results file (e.g. OUT.nc)")
    _say_when_kernels_compile(spec)
    started = time.perf_counter()
    try:
        _say_dense_cost(spec, args.jobs, args.output)  # its refusals named as run_sweep's
        ds = run_sweep(spec, output=args.output, n_jobs=args.jobs, backend=args.backend,
                       scheduler=args.scheduler, resume=args.resume, overwrite=args.overwrite,
                       progress=not args.no_progress, blas_threads=args.blas_threads,
                       chunk_size=args.chunk_size)
    except KeyboardInterrupt as exc:  # a stop once the results were written: the run is done
        # (exit 0, its plain rerun would be refused as "already exists"; session 47)
        ds = getattr(exc, "finished_result", None)
        if ds is None:
            raise
        print("note: a stop arrived as the run finished; it had nothing left to stop",
              file=sys.stderr, flush=True)
    except ImportError as exc:  # e.g. dask not installed
        raise ValueError(str(exc)) from None
    except (ValueError, TypeError, FileExistsError, FileNotFoundError, PermissionError,
            NotADirectoryError, MemoryError) as exc:
        message = _with_spec_path(cli_words(str(exc), args.scheduler), args.spec)
        if message != str(exc):
            raise type(exc)(message) from None
        raise
    a = ds.attrs
    counts = spec.realisation_counts
    per_point = (f"{counts.min()}-{counts.max()}" if counts.min() != counts.max()
                 else f"{counts.max()}")
    last_line(f"wrote {output_path(args.output)}: {spec.n_points} sweep point(s) x {per_point} "
              f"realisation(s); computed {a['tasks_total'] - a['tasks_resumed']} "
              f"realisation(s), resumed {a['tasks_resumed']}, {a['wall_time_s']:.1f} s computing, "
              f"{time.perf_counter() - started:.1f} s in all")  # writing a large file can take
    # most of the time (gzip): 2.3 s computing, 25 s in all (a break test, session 49)
    return 0
