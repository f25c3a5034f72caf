"""Benchmark and acceptance record of the chebyshev (KPM + typicality) solver (issue 9).

Modes
-----
run        time and peak memory per realisation of the chebyshev solver (N = 14..20 by default)
           and of dense ED (N = 10..13), same model and probe, each in its own subprocess;
           the crossover N where chebyshev beats dense ED.
matfree    the matrix-free block operator (issue 20) against the sparse path, side by side in one
           run, each measurement in its own subprocess on the same realisation: seconds and peak
           memory per realisation, the same Q within the errors, and one application of H to a
           block against a streaming pass over the same arrays (the memory-bandwidth bound);
           with --baseline DIR also the solve of another checkout of the project (a git
           worktree of an earlier commit), in turn with this one (--repeats pairs).
width      where the spectral width comes from (issue 20): the spectral bounds of dipolar
           realisations with and without their strongest pairs, and the moments the plan asks for.
tolerance  cost against accuracy of the truncation (issue 20, session 17): the benchmark
           realisation solved with several ``truncation_tol`` (same random vectors), each Q
           against the tightest one over its own error bar, with moments and seconds per solve.
ladder     cost against error of the ladder ratio (issue 20, session 18): realisations of the
           benchmark solved with several ``ladder_ratio`` (same random vectors), seconds and
           error bars against the default's, and the relative cost of the same error.
validate   acceptance at N = 10 and 12 for an interacting + random-matrix model: agreement with
           dense ED (same Gaussian kernel) within the reported error bars at every temperature down
           to w/5, coverage of the error bars over independent vector sets, and convergence of the
           exact-trace expansion with the number of moments (N = 8).
sources    where one step's time goes by where its sources come from (issue 20, session 28): the
           step against the all-thread stream, the same step with its far masks replaced by masks
           inside the kernel's chunk, and its terms at the kernel loop's rate with the sources in
           each level of cache and in main memory.
blocks     the whole solve with several vectors per block (issue 20, session 44): each block
           width in its own subprocess, in turn, on the benchmark realisation: seconds (first and
           steady solve), peak memory and whether Q is the same bits.
single     (internal) one measurement, printed as JSON.

Results are merged into one JSON file (default results/bench/chebyshev.json), rewritten atomically
after every measurement, so an interrupted run keeps what finished.

Examples
--------
    python scripts/bench_chebyshev.py run --sizes 14 16 18 20 --dense-sizes 10 11 12 13
    python scripts/bench_chebyshev.py validate
    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python scripts/bench_chebyshev.py matfree --sizes 14 16
    git worktree add /tmp/before <commit> && python scripts/bench_chebyshev.py matfree \
        --sizes 16 18 --operators matrix_free --baseline /tmp/before --repeats 3
    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python scripts/bench_chebyshev.py width --sizes 10 12 14
    python scripts/bench_chebyshev.py tolerance --sizes 14 16 --tolerances 1e-6 1e-4 1e-3 1e-2
    python scripts/bench_chebyshev.py ladder --sizes 12 14 --ratios 1.6 2 2.6 3.2
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.config.model import MAX_TLS
from manybody.config.solver import MAX_TRUNCATION_TOL
from manybody.runs.results import add_overwrite_option, checked_output_option, refuse_replaced_records
from manybody.support import jsonio
from manybody.support import validate as v

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "results" / "bench" / "chebyshev.json"
MATFREE_OUT = ROOT / "results" / "bench" / "matrix_free.json"

#: The benchmark model and probe: canonical TLS + Gaussian couplings (sparse H), 20 temperatures
#: from w/5 to 2w at the lowest frequency, Gaussian kernel of width 0.02 K.
BENCH = {
    "coupling_strength": 0.05,
    "frequencies": [0.1, 0.2],
    "temperatures": np.geomspace(0.02, 0.2, 20).tolist(),
    "broadening": {"kind": "gaussian", "width": 0.02},
    "seed": 1,
    "realisation": 0,
}
#: Command-line types (argparse names the option in its one-line error, exit status 2): N TLS of a
#: benchmark size (a pair at least, the model's MAX_TLS at most), random vectors (ChebyshevParams:
#: >= 2 for an error bar, at most 10^6) and a positive number (GB of a memory cap, s of a timeout).
SIZE = v.cli_integer(2, MAX_TLS)
VECTORS = v.cli_integer(2, 1_000_000)
POSITIVE = v.cli_real(0.0, low_open=True)


class Refused(Exception):
    """Every measurement of a run was refused or failed (memory, moments, timeout): nothing of the
    run is written."""


def _finished(record: dict | None) -> bool:
    """Whether a measurement record holds a result: present and not refused (a failed child's
    record carries "error", and "seconds" too: the time until it failed)."""
    return bool(record) and "error" not in record


#: The acceptance model: interacting + random-matrix.
VALIDATE = {
    "coupling_strength": 0.1,
    "random_matrix": {"kind": "goe", "weight": 0.5},
    "frequencies": [0.2, 0.4],
    "temperatures": np.geomspace(0.04, 0.4, 6).tolist(),
    "broadening": {"kind": "gaussian", "width": 0.04},
    "seed": 7,
}


def _model(n: int, spec: dict):
    from manybody.config.model import CouplingParams, ModelParams, RandomMatrixParams, TLSParams

    rm = spec.get("random_matrix")
    return ModelParams(n_tls=n, tls=TLSParams(),  # the TLS term of a mixture, said (no warning)
                       coupling=CouplingParams(strength=spec["coupling_strength"]),
                       random_matrix=RandomMatrixParams(**rm) if rm else None)


def warm_up(params) -> float:
    """Compile (or load) the numba kernels of a matrix-free solve with ``params`` on an N = 8
    realisation of the benchmark, outside any timing, as a sweep worker does before its first
    realisation; returns the seconds it took."""
    from manybody.config.probe import Broadening
    from manybody.simulation.ensembles import draw_realisation, realisation_rng
    from manybody.simulation.solvers.chebyshev.solver import chebyshev_absorption

    start = time.perf_counter()
    small = draw_realisation(_model(8, BENCH), realisation_rng(BENCH["seed"], 0))
    chebyshev_absorption(small, np.array(BENCH["frequencies"]), np.array(BENCH["temperatures"]),
                         Broadening(**BENCH["broadening"]), params, seed=BENCH["seed"])
    return time.perf_counter() - start


def single(method: str, n: int, n_vectors: int, dtype: str, operator: str = "auto",
           memory_gb: float | None = None, solves: int = 1, block: int | None = None) -> dict:
    """One realisation of the benchmark model with ``method`` ("chebyshev" or "dense"); with
    ``memory_gb`` the Chebyshev plan may use at most that many GB (memory_fraction set from it).

    ``seconds`` is the first solve in this process, as in every record before session 19. With
    ``solves`` > 1 (Chebyshev only) the same realisation is solved again right after it, as a
    sweep worker solves its next realisation, in the same kept workspace
    (:func:`~manybody.simulation.solvers.chebyshev.workspace.reusing_workspace`):
    ``steady_seconds`` is the fastest of those. They differ by what the first solve pays to
    fault in fresh memory: on this VM the host takes freed guest memory back within about a
    second and hands it out again at 0.5-1.4 s per GB (session 19), and the kernel zeroes every
    new page. ``system_seconds`` / ``steady_system_seconds``: the kernel time of each."""
    from manybody.config.probe import Broadening
    from manybody.simulation.ensembles import absorption_normalisation, draw_realisation, realisation_rng
    from manybody.simulation.observables.absorption import pair_spectrum

    params = _model(n, BENCH)
    w, t = np.array(BENCH["frequencies"]), np.array(BENCH["temperatures"])
    b = Broadening(**BENCH["broadening"])
    norm = absorption_normalisation(params)
    start = time.perf_counter()
    real = draw_realisation(params, realisation_rng(BENCH["seed"], BENCH["realisation"]))
    out: dict = {"method": method, "n_tls": n, "dimension": 2**n}
    if method == "dense":
        from manybody.simulation.observables.thermo import specific_heat
        from manybody.simulation.solvers.dense import estimate_memory, solve

        spectrum, elements = solve(real)
        pairs = pair_spectrum(spectrum, elements, w, b)
        q = norm * pairs.absorption(w, t)
        pairs.dispersion(w, t)
        specific_heat(spectrum.energies, t)
        out.update(estimated_memory_gb=estimate_memory(n) / 2**30, absorption=q.tolist())
    else:
        from manybody.config.solver import ChebyshevParams
        from manybody.simulation.solvers.chebyshev.solver import chebyshev_absorption
        from manybody.simulation.solvers.memory import available_memory

        fraction = 0.8 if memory_gb is None else min(1.0, memory_gb * 2**30 / available_memory())
        if operator != "sparse":  # the numba kernels compiled once, outside the timing
            out["warm_up_seconds"] = warm_up(ChebyshevParams(
                n_vectors=n_vectors, dtype=dtype, operator="matrix_free"))
            start += out["warm_up_seconds"]
        cheb = ChebyshevParams(n_vectors=n_vectors, dtype=dtype, operator=operator,
                               memory_fraction=fraction, block=block)
        # as a sweep worker: the solves of this process share one workspace, which the first
        # one allocates and faults in (session 19)
        with _reusing_workspace() as kept:
            system = _system_seconds()
            res = chebyshev_absorption(real, w, t, b, cheb, normalisation=norm,
                                       seed=BENCH["seed"])
            stop = time.perf_counter()
            out["system_seconds"] = _system_seconds() - system
            steady = []
            for _ in range(solves - 1):  # the same realisation again: a worker's next one
                again_start, system = time.perf_counter(), _system_seconds()
                again = chebyshev_absorption(real, w, t, b, cheb, normalisation=norm,
                                             seed=BENCH["seed"])
                steady.append((time.perf_counter() - again_start, _system_seconds() - system))
            if kept is not None:  # a package from before session 19 keeps nothing
                out["kept_workspace_bytes"] = int(kept.nbytes)
        if steady:
            out["steady_seconds"], out["steady_system_seconds"] = min(steady)
            out["steady_q_identical"] = bool(np.array_equal(again.absorption, res.absorption))
        scale = np.abs(res.absorption).max()
        big = np.abs(res.absorption) > 0.1 * scale
        out.update(
            n_vectors=n_vectors, dtype=dtype, operator=res.operator, memory_cap_gb=memory_gb,
            block=res.plan.block, block_asked=block,
            planned_seconds=res.plan.seconds, planned_memory_gb=res.plan.memory_bytes / 2**30,
            seconds_per_product=res.plan.seconds_per_product,
            half_width=res.plan.scale.half_width,
            rungs=[{k: d[k] for k in ("reference_temperature", "n_moments", "nodes",
                                      "formed_rows", "node_rows", "bank_rows", "shared_bank",
                                      "shared_first", "n_vectors",
                                      "filter_terms", "window_energy", "window_loss",
                                      "amplification", "seconds") if k in d}
                   for d in res.diagnostics],
            absorption=res.absorption.tolist(), absorption_error=res.absorption_error.tolist(),
            median_error=float(np.median(res.absorption_error)),
            median_relative_error=float(np.median(res.absorption_error[big] / np.abs(
                res.absorption[big]))) if big.any() else None,
            error_lowest_temperature=res.absorption_error[int(np.argmin(t))].tolist(),
        )
        out["seconds"] = stop - start
    if method == "dense":
        out["seconds"] = time.perf_counter() - start
    out["peak_memory_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return out


def _reusing_workspace():
    """The package's block in which Chebyshev solves share one workspace, as a sweep worker's do
    (session 19), or a block that does nothing with a package from before it (a baseline)."""
    import contextlib

    try:
        from manybody.simulation.solvers.chebyshev.workspace import reusing_workspace
    except ImportError:
        return contextlib.nullcontext()
    return reusing_workspace()


def _system_seconds() -> float:
    """Kernel (system) CPU seconds of this process so far: page faults and page zeroing."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


def _accepts_solves(script: Path) -> bool:
    """Whether a benchmark script (e.g. a baseline checkout's, older than session 19) has
    ``single --solves``."""
    return '"--solves"' in script.read_text()


def _run_child(method: str, n: int, n_vectors: int, dtype: str, timeout: float,
               operator: str = "auto", memory_gb: float | None = None,
               checkout: Path | None = None, solves: int = 1, block: int | None = None) -> dict:
    """One ``single`` measurement in its own process; with ``checkout`` (the root of another
    copy of the project, e.g. a git worktree of an earlier commit) its package and its own
    benchmark script are run instead of this one's. ``solves`` > 1 solves the realisation again
    in the same process (``steady_seconds``); a script without that option (an older checkout)
    solves once and the record says so (``steady_seconds_unsupported``)."""
    script = Path(__file__).resolve() if checkout is None else checkout / "scripts" / Path(
        __file__).name
    cmd = [sys.executable, str(script), "single", method, str(n),
           "--vectors", str(n_vectors), "--dtype", dtype, "--operator", operator]
    if memory_gb is not None:
        cmd += ["--memory-gb", str(memory_gb)]
    if block is not None:
        cmd += ["--block", str(block)]
    unsupported = solves > 1 and not _accepts_solves(script)
    if solves > 1 and not unsupported:
        cmd += ["--solves", str(solves)]
    env = None
    if checkout is not None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(checkout), *filter(None, [os.environ.get("PYTHONPATH")])]))
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                              env=env)
    except subprocess.TimeoutExpired:
        return {"method": method, "n_tls": n, "error": f"timeout after {timeout:.3g} s"}
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["(no stderr)"]
        return {"method": method, "n_tls": n, "error": tail[0],
                "seconds": time.perf_counter() - start}
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    # the whole child's CPU (imports and warm-up included; any checkout's script): what a
    # worker at one thread pays, and the kernel's page zeroing (system time) separately
    out["process_cpu_seconds"] = (after.ru_utime - before.ru_utime
                                  + after.ru_stime - before.ru_stime)
    out["process_system_seconds"] = after.ru_stime - before.ru_stime
    if unsupported:
        out["steady_seconds_unsupported"] = f"{script} has no single --solves"
    return out


def _median_run(runs: list[dict]) -> dict:
    """The run of median time (the lower middle one of an even count); failed runs last."""
    ordered = sorted(runs, key=lambda r: ("error" in r, r.get("seconds", math.inf)))
    finished = [r for r in ordered if "error" not in r]
    return finished[(len(finished) - 1) // 2] if finished else ordered[0]


def _commit(checkout: Path) -> str | None:
    """The git commit of a checkout, if it is one."""
    proc = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=False)
    return proc.stdout.strip() or None


def _cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo; the VM may move between hosts of different kinds)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover - not Linux
        pass
    return platform.processor() or "unknown"


def _blas_architecture() -> str:
    """The kernel set OpenBLAS chose for this CPU (e.g. Haswell, SkylakeX), via threadpoolctl."""
    from threadpoolctl import threadpool_info

    return ", ".join(sorted({str(i.get("architecture")) for i in threadpool_info()
                             if i.get("user_api") == "blas"})) or "unknown"


def _metadata() -> dict:
    import manybody

    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                                text=True, check=False).stdout.strip()
    except OSError:  # pragma: no cover
        commit = ""
    return {"manybody": manybody.__version__, "numpy": np.__version__, "git_commit": commit,
            "host": platform.node(), "cpus": os.cpu_count(), "cpu_model": _cpu_model(),
            "blas_architecture": _blas_architecture(), "python": platform.python_version(),
            "load_average_at_start": list(os.getloadavg()),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S")}


def _load(path: Path) -> dict:
    if path.exists():
        return json.loads(path.read_text())
    return {}


def _save(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(jsonio.dumps(data, indent=1))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
    os.replace(tmp, path)


def _crossover(records: list[dict]) -> dict:
    """Smallest N from which chebyshev is faster than dense ED (measured or extrapolated)."""
    cheb = {r["n_tls"]: r["seconds"] for r in records if r.get("method") == "chebyshev"
            and "error" not in r}
    dense = {r["n_tls"]: r["seconds"] for r in records if r.get("method") == "dense"
             and "error" not in r}
    common = sorted(set(cheb) & set(dense))
    faster = [n for n in common if cheb[n] < dense[n]]
    out = {"chebyshev_seconds": cheb, "dense_seconds": dense}
    if faster:
        out["crossover_n_tls"] = faster[0]
        out["how"] = "measured"
    elif len(dense) >= 2 and cheb:
        # dense ED costs ~ D^3: extrapolate its largest measured size by 8x per TLS
        n_dense = max(dense)
        for n in sorted(cheb):
            if n > n_dense and cheb[n] < dense[n_dense] * 8.0 ** (n - n_dense):
                out["crossover_n_tls"] = n
                out["how"] = f"dense extrapolated from N={n_dense} as D^3"
                break
    return out


def run(args) -> dict:
    path = Path(args.out)
    data = _load(path)
    bench = {"metadata": _metadata(), "config": BENCH, "n_vectors": args.vectors,
             "dtype": args.dtype, "records": [], "finished": False}
    data[args.label] = bench
    jobs = [("dense", n) for n in args.dense_sizes] + [("chebyshev", n) for n in args.sizes]
    for method, n in jobs:
        record = _run_child(method, n, args.vectors, args.dtype, args.timeout)
        bench["records"].append(record)
        bench["crossover"] = _crossover(bench["records"])
        if any(_finished(r) for r in bench["records"]):  # nothing written before a result
            _save(path, data)
        print(json.dumps({k: record.get(k) for k in ("method", "n_tls", "seconds",
                                                     "peak_memory_gb", "error")}), flush=True)
    if not any(_finished(r) for r in bench["records"]):
        raise Refused("every measurement failed, nothing written: " + "; ".join(
            f"{r['method']} N={r['n_tls']}: {r['error']}" for r in bench["records"]))
    bench["finished"] = True
    _save(path, data)
    return data


def validate(args) -> dict:
    """Acceptance checks at N = 10 and 12 (interacting + random matrix) and exact-trace convergence."""
    from manybody.config.probe import Broadening
    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.ensembles import absorption_normalisation, draw_realisation, realisation_rng
    from manybody.simulation.observables.absorption import absorption
    from manybody.simulation.solvers.chebyshev.solver import chebyshev_absorption
    from manybody.simulation.solvers.dense import solve

    path = Path(args.out)
    data = _load(path)
    out = {"metadata": _metadata(), "config": VALIDATE, "sizes": {}, "finished": False}
    data["validation"] = out
    w, t = np.array(VALIDATE["frequencies"]), np.array(VALIDATE["temperatures"])
    b = Broadening(**VALIDATE["broadening"])
    plan = {10: (args.seeds_10, args.vectors_10), 12: (args.seeds_12, args.vectors_12)}
    for n, (n_seeds, n_vec) in plan.items():
        params = _model(n, VALIDATE)
        real = draw_realisation(params, realisation_rng(VALIDATE["seed"], 0))
        norm = absorption_normalisation(params)
        start = time.perf_counter()
        spectrum, elements = solve(real)
        ref = norm * absorption(spectrum, elements, w, t, b, method="exact")
        dense_seconds = time.perf_counter() - start
        zs, rel, seconds = [], [], []
        for s in range(n_seeds):
            start = time.perf_counter()
            res = chebyshev_absorption(real, w, t, b, ChebyshevParams(n_vectors=n_vec),
                                       normalisation=norm, seed=1000 + s,
                                       observables=("absorption",))
            seconds.append(time.perf_counter() - start)
            zs.append(((res.absorption - ref) / res.absorption_error).tolist())
            rel.append((res.absorption_error / np.abs(ref).max()).tolist())
        z = np.array(zs)
        out["sizes"][str(n)] = {
            "n_seeds": n_seeds, "n_vectors": n_vec, "reference": ref.tolist(),
            "z": zs, "error_over_max_q": rel,
            "fraction_within_1_sigma": float(np.mean(np.abs(z) < 1)),
            "fraction_within_2_sigma": float(np.mean(np.abs(z) < 2)),
            "rms_z": float(np.sqrt(np.mean(z**2))), "mean_z": float(np.mean(z)),
            "max_abs_z": float(np.max(np.abs(z))),
            "chebyshev_seconds_per_run": float(np.mean(seconds)),
            "dense_seconds": dense_seconds,
            "rungs": [r.temperature for r in res.plan.rungs],
            "moments": [r.n_moments for r in res.plan.rungs],
        }
        _save(path, data)
        print(n, json.dumps({k: out["sizes"][str(n)][k] for k in (
            "fraction_within_1_sigma", "fraction_within_2_sigma", "rms_z", "max_abs_z")}),
            flush=True)
    # exact traces: convergence with the number of moments (N = 8)
    params = _model(8, VALIDATE)
    real = draw_realisation(params, realisation_rng(VALIDATE["seed"], 0))
    spectrum, elements = solve(real)
    ref = absorption(spectrum, elements, w, t, b, method="exact")
    conv = []
    import warnings

    for tol in (3e-1, 1e-1, 3e-2, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = chebyshev_absorption(real, w, t, b, ChebyshevParams(
                trace="exact", dtype="float64", truncation_tol=tol), observables=("absorption",))
        conv.append({"truncation_tol": tol,
                     "n_moments": [r.n_moments for r in res.plan.rungs],
                     "max_error_over_max_q": float(np.max(np.abs(res.absorption - ref))
                                                   / np.abs(ref).max())})
    out["exact_trace_convergence_n8"] = conv
    out["finished"] = True
    _save(path, data)
    return data


def _best_seconds(f, repeats: int = 7) -> float:
    f()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - start)
    return best


def _parallel_add():
    """Compiled Y = X + P over flat arrays on all threads: the streaming bound of a step."""
    import numba

    @numba.njit(parallel=True)
    def add(x, p, y):
        for i in numba.prange(x.size):
            y[i] = x[i] + p[i]
    return add


def _in_core_term_rate(span: int = 512, reps: int = 200_000) -> float:
    """Terms w x[k] added per second, on all threads, by the run kernel's own inner loop
    (:func:`run_kernel._add4`, four masks per pass over the accumulator) with the accumulator
    and the four source rows in the level-1 cache (5 x 4 KB): the in-core rate of the step's
    arithmetic, with no memory traffic (best of 3 x 7 calls: this shared machine has slow spells)."""
    import numba

    from manybody.simulation.solvers.chebyshev.run_kernel import _add4

    @numba.njit(parallel=True)
    def terms(reps, threads, span):
        total = 0.0
        for _ in numba.prange(threads):
            t = np.zeros(span)
            x = np.ones((4, span))
            for r in range(reps):
                w = 1e-12 * (r & 7)
                _add4(t, x[0], x[1], x[2], x[3], w, w, w, w, span)
            total += t[0]
        return total

    threads = numba.get_num_threads()
    best = min(_best_seconds(lambda: terms(reps, threads, span)) for _ in range(3))
    return 4.0 * reps * span * threads / best


def _peak_term_rate(dtype: str, span: int = 512, reps: int = 200_000) -> float:
    """The machine's best rate of terms w x[k] in ``dtype``, on all threads, with everything in
    the level-1 cache: the loop of :func:`_in_core_term_rate` with the accumulator in ``dtype``
    (not float64) and contracted multiply-adds (fastmath "contract"), the fastest form of it
    numba compiles here (session 23: 36-40 * 10^9 terms/s in float64, as the run kernel's own
    loop; 73-89 in float32, whose vectors have half the bytes). The step's terms at this rate are
    its compute floor, for any kernel that adds them one by one. ``add4`` repeats the shape of
    :func:`run_kernel._add4` on purpose: it is that loop under other compile flags and dtype."""
    import numba

    kind = np.dtype(dtype).type

    @numba.njit(inline="always", fastmath={"contract"})
    def add4(t, x0, x1, x2, x3, w, span):
        for k in range(span):
            v = t[k]
            v += w * x0[k]
            v += w * x1[k]
            v += w * x2[k]
            v += w * x3[k]
            t[k] = v

    @numba.njit(parallel=True, fastmath={"contract"})
    def terms(reps, threads, span):
        total = 0.0
        for _ in numba.prange(threads):
            t = np.zeros(span, dtype=kind)
            x = np.ones((4, span), dtype=kind)
            for r in range(reps):
                add4(t, x[0], x[1], x[2], x[3], kind(1e-12 * (r & 7)), span)
            total += t[0]
        return total

    threads = numba.get_num_threads()
    best = min(_best_seconds(lambda: terms(reps, threads, span)) for _ in range(3))
    return 4.0 * reps * span * threads / best


#: Per-thread footprints of the sources of :func:`_source_term_rate`: a level-1-sized buffer
#: (32 KB), one inside the level-2 cache (512 KB of its 1 MB), one inside the shared level-3 cache
#: (8 MB per thread of 32 MB) and one in main memory (256 MB per thread); the machine's caches
#: as ``lscpu`` gives them on the EPYC of sessions 19-28.
SOURCE_FOOTPRINTS = {"l1": 32 * 1024, "l2": 512 * 1024, "l3": 8 * 1024**2, "memory": 256 * 1024**2}
#: Terms per measurement of :func:`_source_term_rate` (about 0.1-0.3 s on 2 threads).
SOURCE_TERMS = 4e9


def _source_term_rate(footprint: int, span: int = 512) -> float:
    """Terms w x[k] added per second, on all threads, by the run kernel's inner loop
    (:func:`run_kernel._add4`: four source runs of ``span`` float64 entries into one accumulator
    run in the level-1 cache) with the sources taken in turn, run after run as the kernel's long
    runs are, from a buffer of ``footprint`` bytes per thread: where the sources come from sets
    the rate (session 28). About ``SOURCE_TERMS`` terms per measurement, best of 3 x 7."""
    import numba

    from manybody.simulation.solvers.chebyshev.run_kernel import _add4

    @numba.njit(parallel=True)
    def terms_from(reps, threads, span, blocks):
        total = 0.0
        for _ in numba.prange(threads):
            t = np.zeros(span)
            x = np.ones(blocks * span)
            for r in range(reps):
                w = 1e-12 * (r & 7)
                o = ((4 * r) % (blocks - 3)) * span
                _add4(t, x[o:o + span], x[o + span:o + 2 * span], x[o + 2 * span:o + 3 * span],
                      x[o + 3 * span:o + 4 * span], w, w, w, w, span)
            total += t[0]
        return total

    threads = numba.get_num_threads()
    blocks = max(8, footprint // (8 * span))
    reps = max(1, int(SOURCE_TERMS / (4 * span * threads)))
    best = min(_best_seconds(lambda: terms_from(reps, threads, span, blocks)) for _ in range(3))
    return 4.0 * reps * span * threads / best


def _in_place_stream(parallel_add, x: np.ndarray, scratch: np.ndarray,
                     in_place_step: float) -> dict:
    """The all-thread stream X + P into P (the in-place step's own pattern of reads and writes,
    session 54) over flat views of ``x`` and ``scratch``, and the in-place step over it."""
    flat_x, flat_p = x.reshape(-1), scratch.reshape(-1)
    seconds = _best_seconds(lambda: parallel_add(flat_x, flat_p, flat_p), 15)
    return {"parallel_in_place_stream_seconds": seconds,
            "in_place_step_over_parallel_in_place_stream": in_place_step / seconds}


def local_masks(masks: np.ndarray, chunk: int) -> np.ndarray:
    """The flip masks with every mask of ``chunk`` rows or more replaced, in turn, by the masks
    8, 16, ..., chunk / 2 (sorted): the same number of terms, every source inside the chunk the
    run kernel is adding into (the step without the far sources: session 28)."""
    near = [m for m in (1 << k for k in range(3, chunk.bit_length() - 1)) if m < chunk]
    out = masks.copy()
    far = np.flatnonzero(masks >= chunk)
    out[far] = [near[i % len(near)] for i in range(far.size)]
    return np.sort(out)


def source_levels(n: int, n_vectors: int = 4) -> dict:
    """Where the step's time goes by where its sources come from (session 28), in one process:
    the run kernel's step on a (D, b) float64 block against the all-thread stream (X + P into Y),
    the same kernel with every far mask replaced by one inside the chunk
    (:func:`local_masks`: the same terms, no source outside the chunk), and the step's terms at
    the rate of the kernel's inner loop with its sources in the level-1, level-2 and level-3 caches
    and in main memory (:func:`_source_term_rate`), each as seconds and over the stream; and
    the step as the solver takes it, in place, against the stream X + P into P
    (:func:`_in_place_stream`, session 54)."""
    from manybody.simulation.ensembles import draw_realisation, realisation_rng
    from manybody.simulation.solvers.chebyshev.matrix_free import _num_threads, matrix_free_operators

    real = draw_realisation(_model(n, BENCH), realisation_rng(BENCH["seed"], BENCH["realisation"]))
    free, _ = matrix_free_operators(real)
    rng = np.random.default_rng(0)
    x, prev = rng.standard_normal((2, 2**n, n_vectors))
    y = np.empty_like(x)
    kernel, chunk = free._run_setup(n_vectors)
    threads = max(1, min(_num_threads(), -(-2**n // chunk)))
    near = local_masks(free.masks, chunk)

    def step(masks):
        kernel(x.reshape(-1), y.reshape(-1), free._diagonal, 0.5, 0.0, prev.reshape(-1), True,
               masks, free._weights, chunk, threads)

    parallel_add = _parallel_add()
    terms = (free.masks.size + 1) * x.size
    out = {"n_tls": n, "n_vectors": n_vectors, "dtype": "float64", "chunk_rows": chunk,
           "threads": threads, "terms": terms,
           "parallel_stream_seconds": _best_seconds(
               lambda: parallel_add(x.reshape(-1), prev.reshape(-1), y.reshape(-1)), 15),
           "step_seconds": _best_seconds(lambda: step(free.masks), 15),
           "local_masks_step_seconds": _best_seconds(lambda: step(near), 15)}
    out["step_over_parallel_stream"] = out["step_seconds"] / out["parallel_stream_seconds"]
    out["local_masks_step_over_parallel_stream"] = (out["local_masks_step_seconds"]
                                                    / out["parallel_stream_seconds"])
    # the step as the solver takes it, written into the array of X_k-2 (moments.py), against
    # the stream of the same pattern, X + P into P (session 54): no third array, so no line is
    # read for ownership before it is written, and two arrays instead of three in the caches
    scratch = prev.copy().reshape(-1)
    out["in_place_step_seconds"] = _best_seconds(
        lambda: kernel(x.reshape(-1), scratch, free._diagonal, 0.5, 0.0, scratch, True,
                       free.masks, free._weights, chunk, threads), 15)
    out.update(_in_place_stream(parallel_add, x, scratch, out["in_place_step_seconds"]))
    for level, footprint in SOURCE_FOOTPRINTS.items():
        rate = _source_term_rate(footprint)
        out[f"term_rate_sources_in_{level}"] = rate
        out[f"terms_over_parallel_stream_sources_in_{level}"] = (
            terms / rate / out["parallel_stream_seconds"])
    return out


def sources(args) -> dict:
    """``sources`` mode: :func:`source_levels` at each size, merged into the JSON file under the
    label (rewritten after each size)."""
    path = Path(args.out)
    data = _load(path)
    out = {"metadata": _metadata(), "config": BENCH, "n_vectors": args.vectors,
           "source_footprints_bytes_per_thread": SOURCE_FOOTPRINTS, "sizes": {}}
    data[args.label] = out
    for n in args.sizes:
        out["sizes"][str(n)] = rec = source_levels(n, args.vectors)
        _save(path, data)
        print(n, json.dumps({k: round(v, 3) for k, v in rec.items() if "over" in k}), flush=True)
    return data


def apply_against_stream(n: int, n_vectors: int, dtype: str = "float64") -> dict:
    """One fused Chebyshev step Y = 2 (H - c) X / a - P on a (D, b) block, matrix-free and sparse,
    against streaming passes over the same arrays (X + P into Y: the bytes the step must move,
    3 D b 8, without the 8 D of the diagonal), by numpy on one thread ("stream") and compiled on
    all threads ("parallel_stream", the machine's bound), in one process (best of 7)."""
    from manybody.simulation.ensembles import draw_realisation, realisation_rng
    from manybody.simulation.operators import build_operators
    from manybody.simulation.solvers.chebyshev.kpm import ScaledOperator, SpectralScale
    from manybody.simulation.solvers.chebyshev.matrix_free import matrix_free_operators

    real = draw_realisation(_model(n, BENCH), realisation_rng(BENCH["seed"], BENCH["realisation"]))
    h, _ = build_operators(real, np.float64, dense=False)
    free, _ = matrix_free_operators(real)
    scale = SpectralScale(lower=-10.0, upper=10.0, ground=-10.0)
    rng = np.random.default_rng(0)
    x, prev = rng.standard_normal((2, 2**n, n_vectors)).astype(dtype)
    y = np.empty_like(x)
    out = {"n_tls": n, "n_vectors": n_vectors, "dtype": dtype,
           "bytes_moved": 3 * x.nbytes + 8 * 2**n}
    out["stream_seconds"] = _best_seconds(lambda: np.add(x, prev, out=y))
    out["copy_seconds"] = _best_seconds(lambda: np.copyto(y, x))
    parallel_add = _parallel_add()
    out["parallel_stream_seconds"] = _best_seconds(
        lambda: parallel_add(x.reshape(-1), prev.reshape(-1), y.reshape(-1)))
    single_x, single_p = x[:, :1].copy(), prev[:, :1].copy()
    for name, op in (("matrix_free", free), ("sparse", h)):
        scaled = ScaledOperator(op, scale)
        out[f"{name}_step_seconds"] = _best_seconds(lambda s=scaled: s.step(x, prev), 15)
        out[f"{name}_step_seconds_one_vector"] = _best_seconds(
            lambda s=scaled: s.step(single_x, single_p))
    # the solver's own step: written into the array of X_k-2 (no new array, no page faults)
    scaled, scratch = ScaledOperator(free, scale), prev.copy()
    out["matrix_free_in_place_step_seconds"] = _best_seconds(
        lambda: scaled.step(x, scratch, overwrite=True), 15)
    if not free._zmasks.size:  # the run kernel served "matrix_free"; the gather kernel alongside
        from manybody.simulation.solvers.chebyshev import matrix_free as mf

        gather = mf._product_kernel(n_vectors, False, False)
        y_gather = np.empty_like(x)

        def gathered():
            gather(x, y_gather, free._diagonal, 0.5, 0.0, prev, True, free.masks, free._weights,
                   free._pointers, free._coefficients, free._zmasks, free._diagonal[:0])
        out["gather_step_seconds"] = _best_seconds(gathered)
        out["run_over_gather"] = out["matrix_free_step_seconds"] / out["gather_step_seconds"]
    out["step_over_stream"] = out["matrix_free_step_seconds"] / out["stream_seconds"]
    out["stream_bandwidth_gb_s"] = 3 * x.nbytes / out["stream_seconds"] / 1e9
    # the bound with every thread streaming (numpy's add above runs on one thread)
    out["step_over_parallel_stream"] = (out["matrix_free_step_seconds"]
                                        / out["parallel_stream_seconds"])
    out["parallel_stream_bandwidth_gb_s"] = 3 * x.nbytes / out["parallel_stream_seconds"] / 1e9
    out["in_place_step_over_parallel_stream"] = (out["matrix_free_in_place_step_seconds"]
                                                 / out["parallel_stream_seconds"])
    out.update(_in_place_stream(parallel_add, x, scratch.reshape(x.shape),
                                out["matrix_free_in_place_step_seconds"]))
    # the step's arithmetic at the in-core rate of its own inner loop: (diagonal + one term per
    # flip mask) x D x b multiply-adds with every operand in the level-1 cache (session 19)
    out["in_core_term_rate"] = _in_core_term_rate()
    out["term_floor_seconds"] = (free.masks.size + 1) * x.size / out["in_core_term_rate"]
    out["term_floor_over_parallel_stream"] = (out["term_floor_seconds"]
                                              / out["parallel_stream_seconds"])
    out["step_over_term_floor"] = out["matrix_free_step_seconds"] / out["term_floor_seconds"]
    # the roofline (session 23): the step can be no faster than its bytes at the stream bound
    # nor its terms at the machine's best in-core rate: the faster of the two loops measured
    # (one measurement of either can fall 10-15 % short on this shared machine)
    out["peak_term_rate"] = max(_peak_term_rate(dtype), out["in_core_term_rate"])
    out["compute_floor_seconds"] = (free.masks.size + 1) * x.size / out["peak_term_rate"]
    out["compute_floor_over_parallel_stream"] = (out["compute_floor_seconds"]
                                                 / out["parallel_stream_seconds"])
    out["roofline_seconds"] = max(out["parallel_stream_seconds"], out["compute_floor_seconds"])
    out["step_over_roofline"] = out["matrix_free_step_seconds"] / out["roofline_seconds"]
    # the contraction's float32 GEMM at the widest columns the plan takes (bank rows x D times
    # D x 256), in this process: the rate the floor of a solve is computed with
    from manybody.simulation.solvers.chebyshev.plan import COLUMN_CHOICES

    rows = 256
    a = rng.standard_normal((rows, 2**n)).astype(np.float32)
    c = rng.standard_normal((2**n, COLUMN_CHOICES[0])).astype(np.float32)
    out["gemm_flops_per_second"] = 2.0 * rows * 2**n * c.shape[1] / _best_seconds(lambda: a @ c, 3)
    out["sparse_one_vector_over_matrix_free_block_per_vector"] = (
        out["sparse_step_seconds_one_vector"] * n_vectors / out["matrix_free_step_seconds"])
    return out


def _apply_child(n: int, n_vectors: int, timeout: float, dtype: str = "float64",
                 checkout: Path | None = None) -> dict:
    """One ``apply`` measurement in its own process (of another checkout's script and package
    with ``checkout``, as :func:`_run_child`)."""
    script = Path(__file__).resolve() if checkout is None else checkout / "scripts" / Path(
        __file__).name
    cmd = [sys.executable, str(script), "apply", str(n), "--vectors", str(n_vectors), "--dtype",
           dtype]
    env = None
    if checkout is not None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(checkout), *filter(None, [os.environ.get("PYTHONPATH")])]))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                          env=env)
    if proc.returncode != 0:
        return {"n_tls": n, "error": (proc.stderr.strip().splitlines()[-1:] or [""])[0]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _recorded_seconds(n: int) -> float | None:
    """Seconds per realisation of the recorded benchmark run (issue 9) at N, if any."""
    records = _load(DEFAULT_OUT).get("benchmark", {}).get("records", [])
    found = [r["seconds"] for r in records if r.get("method") == "chebyshev" and r["n_tls"] == n
             and _finished(r)]
    return found[0] if found else None


def solve_floor(rungs: list[dict], n: int, n_vectors: int, apply: dict,
                recorded: float | None, measured: float) -> dict:
    """The least time this estimator can take on this machine for the rungs a solve planned: the
    GEMMs at the GEMM rate measured alone (4 R (M+1) D b flops per rung for its R node rows, the
    node-projected moments, R the rows formed: ``formed_rows``, the compressed basis since
    session 20, else ``nodes``; 2 (M+1)^2 D b for a rung with ``node_rows`` 0 or a record without
    them, the full moment matrix), plus every Chebyshev step (filter terms + 2M + 1 per rung) at
    the all-thread streaming bound of its bytes; nothing else (bookkeeping, bounds, plan). With
    one k-recursion for every rung (``shared_bank`` K rows, session 21): the top rung's filter,
    K steps and M + 1 per rung, GEMMs of 2 R K + 2 R (M + 1) flops per vector entry; since
    session 22 per run of rungs that share one (a rung's ``shared_bank`` its run's K,
    ``shared_first`` on the run's top rung; a record without ``shared_first`` had one run of
    every rung)."""
    whole = not any("shared_first" in r for r in rungs)

    def shared(i):
        return rungs[i].get("shared_bank") or 0

    def first(i):
        return i == 0 if whole else bool(rungs[i].get("shared_first"))

    def flops(i):
        r = rungs[i]
        m = r["n_moments"] + 1
        if shared(i):
            return 2.0 * r["formed_rows"] * (shared(i) + m)
        return 4.0 * r.get("formed_rows", r["nodes"]) * m if r.get("node_rows") else 2.0 * m * m

    def steps_of(i):
        r = rungs[i]
        if shared(i):
            return r["n_moments"] + 1 + (r["filter_terms"] + shared(i) if first(i) else 0)
        return r["filter_terms"] + 2 * r["n_moments"] + 1

    gemm = sum(flops(i) * 2**n * n_vectors for i in range(len(rungs))) / apply[
        "gemm_flops_per_second"]
    steps = sum(steps_of(i) for i in range(len(rungs)))
    stream = steps * apply["parallel_stream_seconds"]
    out = {"gemm_seconds": gemm, "steps": steps, "stream_seconds": stream,
           "floor_seconds": gemm + stream, "measured_over_floor": measured / (gemm + stream)}
    if recorded:
        out["recorded_over_floor"] = recorded / (gemm + stream)
    if out["measured_over_floor"] < 1:  # not a floor: its rates were measured on a busy machine
        out["floor_unreliable"] = ("the floor exceeds the measured time: the machine was busy "
                                   "while its rates were measured")
    return out


def _steady_summary(runs: dict[str, list[dict]], recorded: float | None) -> dict:
    """The solve again in the same process (``single --solves 2``) against the first one, per
    operator (medians over the repeats), the recorded figure over the steady matrix-free solve,
    and the baseline over this code pair by pair where both solved twice."""
    out: dict = {}
    for key, group in runs.items():
        both = [r for r in group if "error" not in r and "steady_seconds" in r]
        if both:
            out[key] = {"first_seconds": float(np.median([r["seconds"] for r in both])),
                        "steady_seconds": float(np.median([r["steady_seconds"] for r in both])),
                        "first_system_seconds": float(np.median(
                            [r["system_seconds"] for r in both])),
                        "steady_system_seconds": float(np.median(
                            [r["steady_system_seconds"] for r in both])),
                        "q_identical": all(r["steady_q_identical"] for r in both)}
    free = out.get("matrix_free")
    if free and recorded:
        out["recorded_over_matrix_free_steady"] = recorded / free["steady_seconds"]
    if free and "sparse" in out:
        out["sparse_over_matrix_free_steady"] = (out["sparse"]["steady_seconds"]
                                                 / free["steady_seconds"])
    paired = ((runs["baseline"], runs["matrix_free"]) if "baseline" in runs
              and "matrix_free" in runs else ([], []))
    pairs = [b["steady_seconds"] / f["steady_seconds"] for b, f in zip(*paired, strict=True)
             if _finished(b) and _finished(f) and "steady_seconds" in b and "steady_seconds" in f]
    if pairs:
        out["baseline_over_matrix_free_steady"] = {"median": float(np.median(pairs)),
                                                   "pairs": pairs}
    return out


def _compare(runs: dict[str, list[dict]], recorded: float | None) -> dict:
    """The median run of each of ``runs`` (kept whole) and the ratios between them and against
    the ``recorded`` seconds, each from finished runs only (a refused run carries "error")."""
    rec: dict = {key: _median_run(r) for key, r in runs.items()}
    free, base, sparse = rec.get("matrix_free"), rec.get("baseline"), rec.get("sparse")
    if _finished(base) and _finished(free):
        pairs = [b["seconds"] / f["seconds"] for b, f in zip(
            runs["baseline"], runs["matrix_free"], strict=True) if _finished(b) and _finished(f)]
        if pairs:
            rec["baseline_over_matrix_free"] = {"median": float(np.median(pairs)),
                                                "pairs": pairs}
        cpu = [b["process_cpu_seconds"] / f["process_cpu_seconds"] for b, f in zip(
            runs["baseline"], runs["matrix_free"], strict=True)
            if _finished(b) and _finished(f)
            and "process_cpu_seconds" in b and "process_cpu_seconds" in f]
        if cpu:
            rec["baseline_cpu_over_matrix_free"] = {"median": float(np.median(cpu)),
                                                    "pairs": cpu}
        rec["baseline_memory_over_matrix_free"] = (base["peak_memory_gb"]
                                                   / free["peak_memory_gb"])
        q0, q1 = np.array(base["absorption"]), np.array(free["absorption"])
        rec["baseline_q_difference_over_error"] = float(np.max(
            np.abs(q1 - q0) / np.array(base["absorption_error"])))
    rec["recorded_seconds"] = recorded
    # either operator may be absent (--operators sparse: the sparse path alone) or refused
    if recorded and _finished(free):
        rec["recorded_over_matrix_free"] = recorded / free["seconds"]
    if recorded and _finished(sparse):
        rec["recorded_over_sparse"] = recorded / sparse["seconds"]
    if _finished(sparse) and _finished(free):
        q0, q1 = np.array(sparse["absorption"]), np.array(free["absorption"])
        err = np.array(sparse["absorption_error"])
        rec["seconds_ratio"] = sparse["seconds"] / free["seconds"]
        rec["memory_ratio"] = sparse["peak_memory_gb"] / free["peak_memory_gb"]
        rec["max_abs_q_difference_over_error"] = float(np.max(np.abs(q1 - q0) / err))
        rec["max_abs_q_difference_over_max_q"] = float(np.max(np.abs(q1 - q0))
                                                       / np.abs(q0).max())
    return rec


def matfree(args) -> dict:
    """Sparse (the recorded path) against matrix-free, same realisation, vectors and seed, each
    in its own subprocess, one after the other in this run; the recorded figure of the same
    benchmark (results/bench/chebyshev.json, "benchmark") alongside. Nothing is written until a
    solve finished; :class:`Refused` when none did."""
    path = Path(args.out)
    data = _load(path)
    out = {"metadata": _metadata(), "config": BENCH, "n_vectors": args.vectors,
           "dtype": args.dtype, "threads": os.environ.get("NUMBA_NUM_THREADS", "all"),
           "memory_cap_gb": args.memory_gb, "warm_up": "numba kernels compiled or loaded before "
           "the timing (seconds in warm_up_seconds)", "sizes": {}, "finished": False}
    data[args.label] = out
    baseline = Path(args.baseline).resolve() if args.baseline else None
    if baseline is not None:
        out["baseline"] = {"checkout": str(baseline), "commit": _commit(baseline)}
    solved, refusals = False, []
    for n in args.sizes:
        runs: dict[str, list[dict]] = {}
        solves = 2 if args.steady else 1
        for _ in range(args.repeats):  # this code and the baseline in turn, A B A B ...
            for op in args.operators:
                runs.setdefault(op, []).append(_run_child(
                    "chebyshev", n, args.vectors, args.dtype, args.timeout, op, args.memory_gb,
                    solves=solves))
            if baseline is not None:
                runs.setdefault("baseline", []).append(_run_child(
                    "chebyshev", n, args.vectors, args.dtype, args.timeout, "matrix_free",
                    args.memory_gb, baseline, solves=solves))
        rec = _compare(runs, _recorded_seconds(n))
        if args.steady:
            rec["steady"] = _steady_summary(runs, rec["recorded_seconds"])
        if args.repeats > 1:
            rec["repeats"] = {key: [x.get("seconds") for x in r] for key, r in runs.items()}
            rec["repeats_process_cpu"] = {key: [x.get("process_cpu_seconds") for x in r]
                                          for key, r in runs.items()}
        out["sizes"][str(n)] = rec
        if not any(_finished(r) for group in runs.values() for r in group):
            # nothing to compare or to floor: no apply measurement either
            refusals.append(f"N={n}: {next(iter(rec.values()))['error']}")
            print(n, "every solve refused:", refusals[-1], flush=True)
            if solved:
                _save(path, data)
            continue
        solved = True
        free = rec.get("matrix_free")
        # the Chebyshev recursion runs in float64 whatever the bank's dtype (args.dtype)
        rec["apply"] = _apply_child(n, args.vectors, args.timeout, "float64")
        if baseline is not None:  # the baseline's step in its own process, then this one's again
            rec["baseline_apply"] = _apply_child(n, args.vectors, args.timeout, "float64",
                                                 baseline)
            again = _apply_child(n, args.vectors, args.timeout, "float64")
            if "error" not in again and "error" not in rec["apply"]:
                rec["apply"] = min(rec["apply"], again,
                                   key=lambda a: a["matrix_free_step_seconds"])
            if "error" not in rec["baseline_apply"] and "error" not in rec["apply"]:
                rec["baseline_step_over_step"] = (
                    rec["baseline_apply"]["matrix_free_step_seconds"]
                    / rec["apply"]["matrix_free_step_seconds"])
        if _finished(free) and _finished(rec["apply"]):
            rec["floor"] = solve_floor(free["rungs"], n, args.vectors, rec["apply"],
                                       rec["recorded_seconds"], free["seconds"])
            if "floor_unreliable" in rec["floor"]:
                print(f"warning: N={n}: measured_over_floor "
                      f"{rec['floor']['measured_over_floor']:.3f} < 1: "
                      f"{rec['floor']['floor_unreliable']}", file=sys.stderr, flush=True)
        _save(path, data)
        print(n, json.dumps({k: rec.get(k) for k in (
            "seconds_ratio", "recorded_over_matrix_free", "recorded_over_sparse", "memory_ratio",
            "max_abs_q_difference_over_error", "floor", "baseline_over_matrix_free",
            "baseline_cpu_over_matrix_free", "baseline_step_over_step", "steady")}),
            {k: rec["apply"].get(k) for k in ("step_over_stream", "step_over_parallel_stream",
                                              "in_place_step_over_parallel_stream",
                                              "term_floor_over_parallel_stream",
                                              "step_over_term_floor",
                                              "compute_floor_over_parallel_stream",
                                              "step_over_roofline",
                                              "run_over_gather",
                                              "sparse_one_vector_over_matrix_free_block_per_vector")},
            flush=True)
    if not solved:
        raise Refused(f"every solve was refused, nothing written: {'; '.join(refusals)}")
    out["finished"] = True
    _save(path, data)
    return data


#: The width study: the headline dipolar model (study spec dipolar.toml: TLS eps <= 0.3 K,
#: Delta in [0.001, 0.3] K, elastic dipolar couplings J0 c_ij / r_ij^3 with no minimum distance)
#: at the glass-like J0 = 0.01 K and a strong J0 = 0.1 K; the benchmark probe.
WIDTH = {"coupling_strengths": [0.01, 0.1], "removed_pairs": [0, 1, 2, 3, 5, 10],
         "realisations": 3, "seed": 20261123}


def spectral_width(args) -> dict:
    """Spectral bounds with and without the strongest |K_ij| pairs, and the moments per rung."""
    from manybody.config.model import CouplingParams, ModelParams, TLSParams
    from manybody.config.probe import Broadening
    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.ensembles import Realisation, draw_realisation, realisation_rng
    from manybody.simulation.solvers.chebyshev.solver import plan_chebyshev

    path = Path(args.out)
    data = _load(path)
    out = {"metadata": _metadata(), "config": {**WIDTH, "probe": {
        k: BENCH[k] for k in ("frequencies", "temperatures", "broadening")}},
        "records": [], "finished": False}
    data["spectral_width"] = out
    w, t = np.array(BENCH["frequencies"]), np.array(BENCH["temperatures"])
    b = Broadening(**BENCH["broadening"])
    for n in args.sizes:
        for j0 in WIDTH["coupling_strengths"]:
            params = ModelParams(n_tls=n, tls=TLSParams(asymmetry_max=0.3, tunnelling_min=0.001,
                                                        tunnelling_max=0.3),
                                 coupling=CouplingParams(kind="dipolar", strength=j0))
            for r in range(WIDTH["realisations"]):
                real = draw_realisation(params, realisation_rng(WIDTH["seed"], r))
                k = np.array(real.couplings["zz"])
                iu = np.triu_indices(n, 1)
                order = np.argsort(-np.abs(k[iu]))
                rec = {"n_tls": n, "coupling_strength": j0, "realisation": r,
                       "strongest_pairs_k": np.abs(k[iu])[order[:10]].tolist(),
                       "tls_energy_sum": float(np.sum(real.energies)), "removed": []}
                for removed in WIDTH["removed_pairs"]:
                    kk = k.copy()
                    for p in order[:removed]:
                        kk[iu[0][p], iu[1][p]] = kk[iu[1][p], iu[0][p]] = 0.0
                    trimmed = Realisation.from_arrays(
                        asymmetry=real.asymmetry, tunnelling=real.tunnelling,
                        couplings={"zz": kk}, deformation_potential=real.deformation_potential,
                        n_tls=n)
                    start = time.perf_counter()
                    plan = plan_chebyshev(trimmed, w, t, b, ChebyshevParams(
                        n_vectors=4, operator="matrix_free", max_moments=1 << 16))
                    rec["removed"].append({
                        "pairs_removed": removed, "half_width": plan.scale.half_width,
                        "lower": plan.scale.lower, "upper": plan.scale.upper,
                        "moments": [rung.n_moments for rung in plan.rungs],
                        "filter_terms": [rung.filter_terms for rung in plan.rungs],
                        "planned_seconds": plan.seconds,
                        "plan_wall_seconds": time.perf_counter() - start})
                out["records"].append(rec)
                _save(path, data)
                print(n, j0, r, [(x["pairs_removed"], round(x["half_width"], 3), max(x["moments"]))
                                 for x in rec["removed"]], flush=True)
    out["finished"] = True
    _save(path, data)
    return data


def _bench_probe():
    """The benchmark's frequencies (K), temperatures (K) and line kernel."""
    from manybody.config.probe import Broadening

    return (np.array(BENCH["frequencies"]), np.array(BENCH["temperatures"]),
            Broadening(**BENCH["broadening"]))


def _start_scan(args, **fields) -> tuple[Path, dict, dict]:
    """The record of a scan mode (tolerance, ladder) under ``args.label`` in ``args.out``, with
    ``fields``; the kernels compiled (or loaded) first, outside any timing."""
    from manybody.config.solver import ChebyshevParams

    path = Path(args.out)
    data = _load(path)
    out = {"metadata": _metadata(), "config": BENCH, "n_vectors": args.vectors, **fields,
           "sizes": {}, "finished": False}
    data[args.label] = out
    warm_up(ChebyshevParams(n_vectors=args.vectors, operator="matrix_free"))
    return path, data, out


def tolerance_scan(args) -> dict:
    """The benchmark realisation solved at each ``truncation_tol`` (same random vectors, one
    process, kernels compiled first): seconds, moments per rung, and the largest deviation of Q
    from the tightest tolerance's, over the error bar and relative to max |Q|."""
    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.ensembles import (
        absorption_normalisation,
        draw_realisation,
        realisation_rng,
    )
    from manybody.simulation.solvers.chebyshev.solver import chebyshev_absorption

    tolerances = sorted(args.tolerances)
    path, data, out = _start_scan(args, tolerances=tolerances,
                                  reference_tolerance=tolerances[0])
    w, t, kernel = _bench_probe()
    for n in args.sizes:
        params = _model(n, BENCH)
        real = draw_realisation(params, realisation_rng(BENCH["seed"], BENCH["realisation"]))
        norm = absorption_normalisation(params)
        runs = []
        for tol in tolerances:
            start = time.perf_counter()
            res = chebyshev_absorption(real, w, t, kernel, ChebyshevParams(
                n_vectors=args.vectors, truncation_tol=tol, operator="matrix_free"),
                normalisation=norm, seed=BENCH["seed"])
            runs.append({"truncation_tol": tol, "seconds": time.perf_counter() - start,
                         "moments": [d["n_moments"] for d in res.diagnostics],
                         "absorption": res.absorption.tolist(),
                         "absorption_error": res.absorption_error.tolist()})
        reference = np.array(runs[0]["absorption"])
        for run in runs:
            q, err = np.array(run["absorption"]), np.array(run["absorption_error"])
            run["max_deviation_over_error"] = float(np.max(np.abs(q - reference) / err))
            run["max_relative_deviation"] = float(np.max(np.abs(q - reference))
                                                  / np.abs(reference).max())
            run["reference_seconds_over_seconds"] = runs[0]["seconds"] / run["seconds"]
        out["sizes"][str(n)] = runs
        _save(path, data)
        print(n, [(r["truncation_tol"], round(r["seconds"], 2), r["moments"],
                   round(r["max_deviation_over_error"], 3)) for r in runs], flush=True)
    out["finished"] = True
    _save(path, data)
    return data


def ladder_scan(args) -> dict:
    """Cost against error of the ladder ratio (issue 20's error per CPU-hour): realisations 0, 1,
    ... of the benchmark solved at each ``ladder_ratio`` with the same random vectors, one
    process, kernels compiled first. Per ratio: seconds, moments per rung, Q and its error bars;
    in the summary, against ``reference_ratio`` (the default), the seconds ratio, the geometric
    mean of (error / reference error)^2 over the points with Q above a tenth of its largest value,
    and their product: the relative cost of reaching the same error (vectors needed scale as
    error^2); and the same at the worst temperature (mean square errors over the realisations
    per point, the largest ratio over temperatures and frequencies): the cost of the same error
    at every temperature."""
    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.ensembles import (
        absorption_normalisation,
        draw_realisation,
        realisation_rng,
    )
    from manybody.simulation.solvers.chebyshev.solver import chebyshev_absorption

    ratios = sorted(set(args.ratios) | {args.reference_ratio})
    path, data, out = _start_scan(args, ratios=ratios, reference_ratio=args.reference_ratio,
                                  realisations=args.realisations)
    w, t, kernel = _bench_probe()
    for n in args.sizes:
        params = _model(n, BENCH)
        norm = absorption_normalisation(params)
        runs: dict[float, list[dict]] = {r: [] for r in ratios}
        for index in range(args.realisations):
            real = draw_realisation(params, realisation_rng(BENCH["seed"], index))
            for ratio in ratios:
                start = time.perf_counter()
                res = chebyshev_absorption(real, w, t, kernel, ChebyshevParams(
                    n_vectors=args.vectors, ladder_ratio=ratio, operator="matrix_free"),
                    normalisation=norm, seed=BENCH["seed"])
                runs[ratio].append({
                    "realisation": index, "seconds": time.perf_counter() - start,
                    "reference_temperatures": [d["reference_temperature"]
                                               for d in res.diagnostics],
                    "moments": [d["n_moments"] for d in res.diagnostics],
                    "absorption": res.absorption.tolist(),
                    "absorption_error": res.absorption_error.tolist()})
        summary = {}
        for ratio in ratios:
            seconds = sum(r["seconds"] for r in runs[ratio])
            base = sum(r["seconds"] for r in runs[args.reference_ratio])
            logs, squares, reference_squares = [], [], []
            for run, ref in zip(runs[ratio], runs[args.reference_ratio], strict=True):
                q_ref = np.abs(np.array(ref["absorption"]))  # (temperatures, frequencies)
                keep = q_ref > 0.1 * q_ref.max()
                error, error_ref = (np.array(r["absorption_error"]) for r in (run, ref))
                logs.append(np.log((error[keep] / error_ref[keep]) ** 2))
                squares.append(np.where(keep, error**2, 0.0))
                reference_squares.append(np.where(keep, error_ref**2, 0.0))
            variance = float(np.exp(np.mean(np.concatenate(logs))))
            # per temperature: the mean square error over realisations, the worse frequency
            ratio_t = np.sum(squares, axis=0) / np.maximum(np.sum(reference_squares, axis=0), 1e-300)
            worst = float(np.max(np.where(np.sum(reference_squares, axis=0) > 0, ratio_t, 0.0)))
            summary[str(ratio)] = {"seconds_over_reference": seconds / base,
                                   "variance_over_reference": variance,
                                   "cost_at_equal_error": seconds / base * variance,
                                   "worst_temperature_variance_over_reference": worst,
                                   "cost_at_equal_error_worst_temperature": seconds / base * worst,
                                   "rungs": len(runs[ratio][0]["moments"])}
        out["sizes"][str(n)] = {"runs": {str(r): v for r, v in runs.items()},
                                "summary": summary}
        _save(path, data)
        print(n, json.dumps(summary), flush=True)
    out["finished"] = True
    _save(path, data)
    return data


#: The entry of the record file a mode without --label writes.
FIXED_ENTRIES = {"validate": "validation", "width": "spectral_width"}


def block_widths(args) -> dict:
    """The whole matrix-free solve of the benchmark realisation with each of ``args.blocks``
    vectors per block (``ChebyshevParams.block``), each in its own subprocess, the widths in turn
    (A B A B ...), two solves per process: ``seconds`` is the first solve (it faults in the
    workspace), ``steady_seconds`` the second (what a sweep worker pays per realisation). Per
    width: the median of each over the repeats, the peak memory, and whether Q is the same bits
    as with the first width (the blocks split the same random vectors). Saved after every
    measurement; :class:`Refused` when no solve finished."""
    path = Path(args.out)
    data = _load(path)
    out = {"metadata": _metadata(), "config": BENCH, "n_vectors": args.vectors,
           "dtype": args.dtype, "blocks": list(args.blocks), "repeats": args.repeats,
           "memory_cap_gb": args.memory_gb,
           "threads": os.environ.get("NUMBA_NUM_THREADS", "all"), "sizes": {},
           "finished": False}
    data[args.label] = out
    solved = False
    for n in args.sizes:
        runs: dict[str, list[dict]] = {str(b): [] for b in args.blocks}
        rec: dict = {"runs": runs}
        out["sizes"][str(n)] = rec
        for _ in range(args.repeats):
            for b in args.blocks:
                run = _run_child("chebyshev", n, args.vectors, args.dtype, args.timeout,
                                 "matrix_free", args.memory_gb, solves=2, block=b)
                run.pop("rungs", None)
                runs[str(b)].append(run)
                print(n, f"block {b}:", {k: run.get(k) for k in (
                    "seconds", "steady_seconds", "peak_memory_gb", "block", "error")}, flush=True)
                solved = solved or _finished(run)
                if solved:
                    _save(path, data)
        reference = next((r for r in runs[str(args.blocks[0])] if _finished(r)), None)
        summary = {}
        for b in args.blocks:
            done = [r for r in runs[str(b)] if _finished(r)]
            if not done:
                summary[str(b)] = {"error": runs[str(b)][0].get("error")}
                continue
            summary[str(b)] = {
                "seconds_median": float(np.median([r["seconds"] for r in done])),
                "steady_seconds_median": float(np.median([r["steady_seconds"] for r in done])),
                "peak_memory_gb": max(r["peak_memory_gb"] for r in done),
                "planned_memory_gb": done[0]["planned_memory_gb"],
                "block_used": done[0]["block"],
                "q_identical_to_first_width": bool(reference is not None and np.array_equal(
                    done[0]["absorption"], reference["absorption"])),
                "max_q_difference_over_error": float(np.max(np.abs(
                    np.subtract(done[0]["absorption"], reference["absorption"]))
                    / np.asarray(reference["absorption_error"]))) if reference else None,
            }
        first = summary.get(str(args.blocks[0]), {})
        for b in args.blocks[1:]:
            this = summary[str(b)]
            if "steady_seconds_median" in this and "steady_seconds_median" in first:
                this["steady_over_first_width"] = (this["steady_seconds_median"]
                                                   / first["steady_seconds_median"])
        rec["summary"] = summary
        if solved:
            _save(path, data)
    if not solved:
        raise Refused("no solve finished")
    out["finished"] = True
    _save(path, data)
    return out


def _sizes_out_label(parser, sizes: list[int], vectors: int | None = None,
                     label: str | None = None) -> None:
    """The options every matrix-free measurement shares: --sizes, --vectors (when given a
    default), --out (results/bench/matrix_free.json) and --label (when given a default)."""
    parser.add_argument("--sizes", type=SIZE, nargs="+", default=sizes,
                        help="numbers of TLS N (default: %(default)s)")
    if vectors is not None:
        parser.add_argument("--vectors", type=VECTORS, default=vectors,
                            help="random vectors per solve (default: %(default)s)")
    parser.add_argument("--out", default=str(MATFREE_OUT),
                        help="JSON file of results (default: results/bench/matrix_free.json)")
    if label is not None:
        parser.add_argument("--label", type=v.cli_label, default=label,
                            help="key of this run in the JSON file (default: %(default)s)")


#: Modes whose --sizes are solved with the Chebyshev solver (width only bounds the spectrum).
CHEBYSHEV_SIZES = ("run", "blocks", "matfree", "tolerance", "ladder", "sources")


def _refuse_sizes_that_cannot_fit(parser, args) -> None:
    """``parser.error`` (one line, exit 2) for a size whose memory lower bound exceeds what the
    solver may use on this machine (the check ``manybody run`` makes before anything is drawn):
    ``run --sizes 30`` spent its whole --timeout building a matrix-free diagonal of 2^30 entries
    and then reported a timeout (a break test, session 53). Dense sizes as the dense solver
    checks them."""
    from manybody.config.solver import ChebyshevParams, SolverParams
    from manybody.simulation.solvers.chebyshev.resources import check_chebyshev_memory
    from manybody.simulation.solvers.dense import dense_memory_message

    if args.mode in CHEBYSHEV_SIZES:
        params = ChebyshevParams(dtype=getattr(args, "dtype", "float32"))
        for n in args.sizes:
            try:
                check_chebyshev_memory(_model(n, BENCH), params)
            except MemoryError as exc:
                parser.error(f"{args.mode}: --sizes {n}: {' '.join(str(exc).split())}")
    for n in getattr(args, "dense_sizes", None) or ():
        why = dense_memory_message(n, SolverParams(method="dense"),
                                   n_temperatures=len(BENCH["temperatures"]))
        if why is not None:
            parser.error(f"{args.mode}: --dense-sizes {n}: {' '.join(why.split())}")


def main(argv: list[str] | None = None) -> int:
    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    dtypes = ("float32", "float64")
    p_run = sub.add_parser("run", help="time and memory per realisation")
    p_run.add_argument("--sizes", type=SIZE, nargs="*", default=[10, 11, 12, 13, 14, 16, 18, 20],
                       help="numbers of TLS N timed with the Chebyshev solver (default: %(default)s)")
    p_run.add_argument("--dense-sizes", type=SIZE, nargs="*", default=[10, 11, 12, 13],
                       help="numbers of TLS N timed with the dense solver (default: %(default)s)")
    p_run.add_argument("--vectors", type=VECTORS, default=4,
                       help="random vectors per Chebyshev solve (default: %(default)s)")
    p_run.add_argument("--dtype", default="float32", choices=dtypes,
                       help="Chebyshev floating-point type (default: %(default)s)")
    p_run.add_argument("--timeout", type=POSITIVE, default=4 * 3600,
                       help="time limit per measurement, in s (default: %(default)s)")
    p_run.add_argument("--out", default=str(DEFAULT_OUT),
                       help="JSON file of results (default: results/bench/chebyshev.json)")
    p_run.add_argument("--label", type=v.cli_label, default="benchmark",
                       help="key of this run in the JSON file")
    p_val = sub.add_parser("validate", help="acceptance at N = 10, 12")
    p_val.add_argument("--seeds-10", type=v.cli_integer(1), default=12,
                       help="realisations (seeds) at N = 10 (default: %(default)s)")
    p_val.add_argument("--vectors-10", type=VECTORS, default=24,
                       help="random vectors per solve at N = 10 (default: %(default)s)")
    p_val.add_argument("--seeds-12", type=v.cli_integer(1), default=4,
                       help="realisations (seeds) at N = 12 (default: %(default)s)")
    p_val.add_argument("--vectors-12", type=VECTORS, default=16,
                       help="random vectors per solve at N = 12 (default: %(default)s)")
    p_val.add_argument("--out", default=str(DEFAULT_OUT),
                       help="JSON file of results (default: results/bench/chebyshev.json)")
    p_one = sub.add_parser("single", help="(internal) one measurement as JSON")
    p_one.add_argument("method", choices=("chebyshev", "dense"), help="solver to measure")
    p_one.add_argument("n_tls", type=SIZE, help="number of TLS N")
    p_one.add_argument("--vectors", type=VECTORS, default=4,
                       help="random vectors per Chebyshev solve (default: %(default)s)")
    p_one.add_argument("--dtype", default="float32", choices=dtypes,
                       help="Chebyshev floating-point type (default: %(default)s)")
    p_one.add_argument("--operator", default="auto", choices=("auto", "matrix_free", "sparse"),
                       help="Chebyshev Hamiltonian operator (default: %(default)s)")
    p_one.add_argument("--memory-gb", type=POSITIVE, default=None,
                       help="cap on the memory a solve may plan to use, in GB (default: the solver's own)")
    p_one.add_argument("--solves", type=v.cli_integer(1), default=1,
                       help="solves of the same realisation in this process (chebyshev)")
    p_one.add_argument("--block", type=VECTORS, default=None,
                       help="vectors per block of the Chebyshev solve (default: the plan's)")
    p_blk = sub.add_parser("blocks", help="the whole solve with several vectors per block")
    _sizes_out_label(p_blk, [20], vectors=8, label="solve_block_width")
    p_blk.add_argument("--blocks", type=VECTORS, nargs="+", default=[4, 8],
                       help="vectors per block, each measured in turn (default: %(default)s)")
    p_blk.add_argument("--repeats", type=v.cli_integer(1), default=2,
                       help="measurements of each block width, in turn (default: %(default)s)")
    p_blk.add_argument("--dtype", default="float32", choices=dtypes,
                       help="Chebyshev floating-point type (default: %(default)s)")
    p_blk.add_argument("--timeout", type=POSITIVE, default=3 * 3600,
                       help="time limit per measurement, in s (default: %(default)s)")
    p_blk.add_argument("--memory-gb", type=POSITIVE, default=None,
                       help="cap on the memory a solve may plan to use, in GB (default: the "
                            "solver's own, 80 %% of the available memory)")
    p_mf = sub.add_parser("matfree", help="matrix-free against sparse operator, side by side")
    p_mf.add_argument("--sizes", type=SIZE, nargs="+", default=[14, 16],
                      help="numbers of TLS N (default: %(default)s)")
    p_mf.add_argument("--vectors", type=VECTORS, default=4,
                      help="random vectors per solve (default: %(default)s)")
    p_mf.add_argument("--dtype", default="float32", choices=dtypes,
                      help="floating-point type (default: %(default)s)")
    p_mf.add_argument("--timeout", type=POSITIVE, default=3600,
                      help="time limit per measurement, in s (default: %(default)s)")
    p_mf.add_argument("--out", default=str(MATFREE_OUT),
                      help="JSON file of results (default: results/bench/matrix_free.json)")
    p_mf.add_argument("--label", type=v.cli_label, default="matrix_free_vs_sparse",
                      help="key of this run in the JSON file")
    p_mf.add_argument("--operators", nargs="+", default=["sparse", "matrix_free"],
                      choices=("sparse", "matrix_free"), help="operators to measure (default: %(default)s)")
    p_mf.add_argument("--memory-gb", type=POSITIVE, default=None,
                      help="cap on the memory a solve may plan to use (GB)")
    p_mf.add_argument("--baseline", default=None,
                      help="root of another copy of the project (e.g. a git worktree of an "
                      "earlier commit): its matrix-free solve is measured in turn with this one's")
    p_mf.add_argument("--repeats", type=v.cli_integer(1), default=1,
                      help="measurements of each, in turn; the median run is recorded")
    p_mf.add_argument("--steady", action="store_true",
                      help="each child solves the realisation twice: the second solve "
                      "(steady_seconds) is what a sweep worker pays per realisation, without the "
                      "first solve's faulting in of fresh memory")
    p_w = sub.add_parser("width", help="spectral width of dipolar realisations and its sources")
    _sizes_out_label(p_w, [10, 12, 14])
    p_tol = sub.add_parser("tolerance", help="cost against accuracy of truncation_tol")
    _sizes_out_label(p_tol, [14, 16], vectors=4, label="truncation_tolerance")
    p_tol.add_argument("--tolerances", type=v.cli_real(0.0, MAX_TRUNCATION_TOL, low_open=True),
                       nargs="+", default=[1e-6, 1e-4, 1e-3, 1e-2],
                       help=f"truncation_tol values, each in (0, {MAX_TRUNCATION_TOL:g}]; the "
                       "smallest is the reference")
    p_lad = sub.add_parser("ladder", help="cost against error of the ladder ratio")
    ratio = v.cli_real(1.0, low_open=True)  # T0 / T of one rung
    _sizes_out_label(p_lad, [12, 14], vectors=8, label="ladder_ratio")
    p_lad.add_argument("--ratios", type=ratio, nargs="+", default=[1.6, 2.0, 2.6, 3.2],
                       help="ladder ratios T0 / T of one rung, each > 1 (default: %(default)s)")
    p_lad.add_argument("--reference-ratio", type=ratio, default=2.0,
                       help="the ratio the others are compared with (the default ladder_ratio)")
    p_lad.add_argument("--realisations", type=v.cli_integer(1), default=4,
                       help="realisations per size (default: %(default)s)")
    p_src = sub.add_parser("sources", help="the step's time by where its sources come from")
    _sizes_out_label(p_src, [16, 18, 20], vectors=4, label="step_sources")
    p_ap = sub.add_parser("apply", help="(internal) one application of H against a stream, JSON")
    p_ap.add_argument("n_tls", type=SIZE, help="number of TLS N")
    p_ap.add_argument("--vectors", type=v.cli_integer(1, 1_000_000), default=4,
                      help="vectors in the block H is applied to (default: %(default)s)")
    p_ap.add_argument("--dtype", default="float64", choices=dtypes,
                      help="floating-point type (default: %(default)s)")
    for writer in (p_run, p_val, p_mf, p_w, p_tol, p_lad, p_src, p_blk):
        add_overwrite_option(writer, entries=True)
    args = parser.parse_args(argv)
    if getattr(args, "out", None) is not None:  # before any work (session 31)
        checked_output_option(parser, "--out", args.out)
        entry = args.label if hasattr(args, "label") else FIXED_ENTRIES[args.mode]
        refuse_replaced_records(parser, "--out", args.out, [(entry,)], overwrite=args.overwrite,
                                other="--label" if hasattr(args, "label") else "--out")
    v.cli_refuse_repeats(parser, args, "sizes", "dense_sizes", "ratios", "tolerances",
                         "operators")
    if args.mode == "run" and not args.sizes + args.dense_sizes:
        parser.error("run: --sizes and --dense-sizes are both empty: nothing to measure")
    _refuse_sizes_that_cannot_fit(parser, args)
    if args.mode == "matfree" and args.baseline is not None and not (
            Path(args.baseline) / "scripts" / Path(__file__).name).is_file():
        parser.error(f"matfree: --baseline {args.baseline!r} is not a checkout of the project "
                     f"(no scripts/{Path(__file__).name} in it)")
    try:
        return _dispatch(args)
    except (ValueError, MemoryError, Refused) as exc:  # a refusal known only at run time
        what = " ".join(str(exc).split())
        what = what if isinstance(exc, Refused) else f"{type(exc).__name__}: {what}"
        # single and apply (internal): the parent records the line as the measurement's error
        print(what if args.mode in ("single", "apply") else
              f"{Path(__file__).name} {args.mode}: error: {what}", file=sys.stderr)
        return 1


def _dispatch(args) -> int:
    if args.mode == "single":
        print(json.dumps(single(args.method, args.n_tls, args.vectors, args.dtype,
                                args.operator, args.memory_gb, args.solves, args.block)))
    elif args.mode == "blocks":
        block_widths(args)
    elif args.mode == "sources":
        sources(args)
    elif args.mode == "apply":
        print(json.dumps(apply_against_stream(args.n_tls, args.vectors, args.dtype)))
    elif args.mode == "matfree":
        matfree(args)
    elif args.mode == "width":
        spectral_width(args)
    elif args.mode == "tolerance":
        tolerance_scan(args)
    elif args.mode == "ladder":
        ladder_scan(args)
    elif args.mode == "run":
        run(args)
    else:
        validate(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
