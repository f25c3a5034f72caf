"""Benchmark the sweep runner's parallel throughput (recorded, not a test).

Two ratios, measured in one run on the same machine:

* N = 8: throughput (tasks per second) of 2 single-threaded loky workers over 1 single-threaded
  worker (target >= 1.8).
* N = 12: 2 single-threaded workers over 1 worker with 2 BLAS threads (target >= 1.1), i.e.
  process parallelism over realisations against threaded LAPACK inside one realisation.
* N = 8, 2 workers, writing a checkpointed results file: automatic chunks (32 realisations per
  task and checkpoint file) over one realisation per task (the dispatch and checkpoint overhead
  that chunking removes).

Worker start-up is excluded (a warm-up run starts the loky workers first). Results, with the BLAS
libraries reported by threadpoolctl, host and date, go to ``results/bench/sweep.json``.

Usage::

    python scripts/bench_sweep.py [--small-n-realisations 160] [--large-n-realisations 2] [--repeats 2]
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import socket
import sys
import tempfile
import time
from pathlib import Path

from threadpoolctl import threadpool_info

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.runs.results import add_overwrite_option, checked_output_option
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import available_cores, run_sweep
from manybody.support import jsonio
from manybody.support import validate as v
from manybody.support.files import atomic_write_text
from manybody.support.threads import thread_controller

ROOT = Path(__file__).resolve().parents[1]


def make_spec(n_tls: int, realisations: int) -> RunSpec:
    """A representative run: dipolar couplings, 25 temperatures, all observables."""
    return RunSpec.from_dict({
        "name": f"bench-n{n_tls}",
        "seed": 2024,
        "realisations": realisations,
        "model": {"n_tls": n_tls, "coupling": {"kind": "dipolar", "strength": 0.01}},
        "probe": {"frequencies": [0.1],
                  "temperatures": {"x_min": 0.2, "x_max": 10.0, "count": 25},
                  "broadening": {"kind": "gaussian", "width": 0.004}},
    })


def timed(spec: RunSpec, n_jobs: int, blas_threads: int, chunk_size: int | None = None,
          checkpointed: bool = False) -> float:
    """Wall time (s) of one sweep (in memory, or to a file with checkpoints)."""
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "bench.nc" if checkpointed else None
        start = time.perf_counter()
        run_sweep(spec, output=output, n_jobs=n_jobs, blas_threads=blas_threads,
                  chunk_size=chunk_size)
        return time.perf_counter() - start


def compare(spec: RunSpec, configs: dict[str, tuple[int, int]], repeats: int) -> dict:
    """Best-of-``repeats`` wall time of each (n_jobs, blas_threads) config, interleaved."""
    times: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(repeats):
        for name, (n_jobs, threads) in configs.items():
            times[name].append(timed(spec, n_jobs, threads))
            print(f"  N={spec.model.n_tls} {name}: {times[name][-1]:.2f} s", flush=True)
    out = {}
    for name, (n_jobs, threads) in configs.items():
        best = min(times[name])
        out[name] = {"n_jobs": n_jobs, "blas_threads": threads, "wall_times_s": times[name],
                     "best_s": best, "tasks": spec.n_tasks,
                     "tasks_per_s": spec.n_tasks / best}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    # named after the sizes they apply to (the first names, kept, spoke of N = 8 and 12 whatever
    # --small-n and --large-n said; session 36)
    parser.add_argument("--small-n-realisations", "--n8-realisations", dest="n8_realisations",
                        metavar="COUNT", type=v.cli_integer(1), default=160,
                        help="realisations of the throughput runs at --small-n (default: %(default)s)")
    parser.add_argument("--large-n-realisations", "--n12-realisations", dest="n12_realisations",
                        metavar="COUNT", type=v.cli_integer(1), default=2,
                        help="realisations at --large-n, processes vs threads (default: %(default)s)")
    parser.add_argument("--small-n", type=v.cli_integer(1, 14), default=8,
                        help="N of the throughput runs (default 8)")
    parser.add_argument("--large-n", type=v.cli_integer(1, 14), default=12,
                        help="N of the processes-vs-threads run (default 12)")
    parser.add_argument("--repeats", type=v.cli_integer(1), default=2,
                        help="repeats of the runs at --small-n (best taken; default 2)")
    parser.add_argument("--output", default=ROOT / "results" / "bench" / "sweep.json",
                        help="JSON file of results (default: results/bench/sweep.json)")
    add_overwrite_option(parser)
    args = parser.parse_args(argv)
    if getattr(args, "output", None) is not None:  # before any work (session 31)
        args.output = checked_output_option(parser, "--output", args.output, replaces=True,
                                            overwrite=args.overwrite)
    if available_cores() < 2:
        print("needs at least 2 cores", file=sys.stderr)
        return 2
    load_before = os.getloadavg()
    print("warm-up (starting workers) ...", flush=True)
    run_sweep(make_spec(6, 8), n_jobs=2)
    run_sweep(make_spec(6, 2), n_jobs=1)

    n8 = compare(make_spec(args.small_n, args.n8_realisations),
                 {"1 worker x 1 thread": (1, 1), "2 workers x 1 thread": (2, 1)}, args.repeats)
    ratio8 = n8["2 workers x 1 thread"]["tasks_per_s"] / n8["1 worker x 1 thread"]["tasks_per_s"]
    print(f"N=8: 2 workers / 1 worker = {ratio8:.2f}x (target >= 1.8)", flush=True)

    n12 = compare(make_spec(args.large_n, args.n12_realisations),
                  {"1 worker x 2 threads": (1, 2), "2 workers x 1 thread": (2, 1)}, 1)
    ratio12 = (n12["2 workers x 1 thread"]["tasks_per_s"]
               / n12["1 worker x 2 threads"]["tasks_per_s"])
    print(f"N=12: 2 single-threaded workers / 1 worker x 2 BLAS threads = {ratio12:.2f}x "
          "(target >= 1.1)", flush=True)

    spec8 = make_spec(args.small_n, args.n8_realisations)
    chunk_times: dict[str, list[float]] = {"one realisation per task": [], "automatic chunks": []}
    for _ in range(args.repeats):
        for name, chunk in (("one realisation per task", 1), ("automatic chunks", None)):
            chunk_times[name].append(timed(spec8, 2, 1, chunk_size=chunk, checkpointed=True))
            print(f"  N=8 checkpointed, {name}: {chunk_times[name][-1]:.2f} s", flush=True)
    ratio_chunks = min(chunk_times["one realisation per task"]) / min(chunk_times["automatic chunks"])
    print(f"N=8 checkpointed: automatic chunks / one per task = {ratio_chunks:.2f}x faster", flush=True)

    thread_controller()
    record = {
        "benchmark": "sweep throughput (scripts/bench_sweep.py)",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cores": available_cores(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "blas": [{k: i.get(k) for k in ("user_api", "internal_api", "version", "num_threads",
                                        "architecture", "threading_layer", "filepath")}
                 for i in threadpool_info()],
        "n8": {"configs": n8, "ratio": ratio8, "target": 1.8, "met": ratio8 >= 1.8},
        "n12": {"configs": n12, "ratio": ratio12, "target": 1.1, "met": ratio12 >= 1.1},
        "n8_chunking": {"wall_times_s": chunk_times, "realisations": spec8.n_tasks,
                        "speedup": ratio_chunks,
                        "what": "2 workers, results file with checkpoints; best of repeats"},
        "note": "shared, noisy machine: other processes may have competed for the 2 cores",
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.output, jsonio.dumps(record, indent=2) + "\n")  # never half-written
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
