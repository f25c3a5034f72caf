#!/usr/bin/env python
"""The benchmark: the pipeline against bare ``scipy.linalg.eigh`` and a naive QuSpin reference.

``python scripts/bench.py --help``. Examples::

    python scripts/bench.py                # quick: N = 8..10, a few seconds, nothing written
    python scripts/bench.py --full --output results/bench/bench-new.json   # N = 8..13, ~10 min
    python scripts/bench.py --large --output results/bench/bench-new.json  # also N = 14

Dense ED is O(D^3) with D = 2^N, so the pipeline should run at the speed of its eigensolver. For
each N this benchmark times, on the same realisation (same matrix),

- ``eigh64`` / ``eigh32``: bare ``scipy.linalg.eigh(H, driver="evd")`` in float64 / float32
  (overwrite, no finiteness check: the fastest plain call),
- ``pipeline64`` / ``pipeline32``: the project's per-realisation pipeline (as
  :func:`manybody.simulation.observe.observe`): draw, build H and T, diagonalise, T_mn, Q^-1 at
  ``N_TEMPERATURES`` x ``N_FREQUENCIES`` and the specific heat, stage by stage,
- ``naive``: the same observables written the way a QuSpin user would (``hamiltonian.eigh``,
  dense T, ``V.T @ T @ V``, one pass over all pairs per temperature with a histogram).

Two modes:

- quick (the default, a few seconds): N = 8..10, the eigh and pipeline variants in float64 and
  float32, one repetition each, all in this process after one warm-up, one BLAS thread, process
  CPU time. It answers "does the pipeline run at the speed of its eigensolver here, and what does
  float32 buy?". Peak memory is the process's peak so far (an upper bound).
- full (``--full``; ``--large`` adds N = 14): N = 8..13, every variant including the naive
  reference, each in a fresh child process (``python scripts/bench.py --child``) whose peak
  resident memory comes from ``os.wait4``; repetitions interleaved (the variant order rotates),
  minimum kept. Takes about 10 minutes on two cores.

Ratios are taken within the one run so machine noise largely cancels. Every (N, variant) passes
the dense memory check before anything runs; a child that dies makes the run fail (exit status 1,
one line). A markdown table and a one-line summary of the targets are printed (``--verbose``: each
measurement and every target). The JSON record (times, ratios, stage fractions, peak memory,
accuracy of float32, BLAS libraries and kernel, targets) is written only with ``--output PATH``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import scipy
from scipy.linalg import eigh
from threadpoolctl import threadpool_info

from manybody import __version__
from manybody.cli.errors import UserError
from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.config.model import CouplingParams, ModelParams
from manybody.config.probe import Broadening
from manybody.config.solver import SolverParams
from manybody.runs.results import add_overwrite_option, checked_output_option
from manybody.simulation.ensembles import absorption_normalisation, draw_realisation, realisation_rng
from manybody.simulation.observables.absorption import frequency_grid, pair_spectrum
from manybody.simulation.observables.thermo import specific_heat
from manybody.simulation.operators import build_operators, stress_terms, tls_terms
from manybody.simulation.solvers import dense  # dense.available_memory() read at call time (tests patch it)
from manybody.simulation.solvers.dense import (
    check_memory,
    estimate_memory,
    stress_matrix_elements,
)
from manybody.support import jsonio
from manybody.support.blas import blas_metadata, check_blas, summary
from manybody.support.files import atomic_write_text
from manybody.support.provenance import git_commit_and_dirty, now_utc
from manybody.support.threads import blas_threads
from manybody.support.validate import cli_integer, cli_seed

SCHEMA_VERSION = 1
N_TEMPERATURES = 50
N_FREQUENCIES = 400
FREQUENCY_RANGE = (0.02, 2.0)  # K
TEMPERATURE_RANGE = (0.02, 2.0)  # K
#: Kernel width in units of the mean level spacing of the non-interacting spectrum.
WIDTH_IN_SPACINGS = 4.0
VARIANTS = ("eigh64", "pipeline64", "eigh32", "pipeline32", "naive")
PIPELINE_STAGES = ("draw", "build", "eigh", "stress_elements", "pair_deposit", "absorption",
                   "specific_heat")

#: Targets of issue 7: (description, key in the ratios of one N, comparison, bound, N values).
TARGETS = (
    ("full float64 pipeline / bare float64 eigh", "pipeline64/eigh64", "<=", 1.25, (12, 13)),
    ("  same, composed (bare eigh64 + non-eigh stages)", "pipeline64_composed/eigh64", "<=", 1.25,
     (12, 13)),
    ("float32 pipeline / bare float64 eigh", "pipeline32/eigh64", "<=", 0.6, (12,)),
    ("  same, composed (bare eigh32 + non-eigh stages)", "pipeline32_composed/eigh64", "<=", 0.6,
     (12,)),
    ("float32 Q^-1 relative difference to float64", "q32_rel_error", "<=", 1e-4, (12,)),
    ("naive QuSpin reference / full float64 pipeline", "naive/pipeline64", ">=", 1.5, (12,)),
    ("absorption stage / bare float64 eigh", "absorption/eigh64", "<=", 0.05, (12,)),
    ("peak memory float64 pipeline (GB)", "peak_gb_pipeline64", "<=", 8.0, (14,)),
)


# ------------------------------------------------------------------------------------------------
# The workload (shared by the parent, the children and the tests)
# ------------------------------------------------------------------------------------------------

def model_params(n_tls: int):
    """The benchmark model: canonical TLS with dipolar zz + xx couplings (J0 = 0.05 K).

    Its hard core of 0.5 r0 is larger than a physics run should take (the model warns about
    it); the benchmark measures cost and keeps the model of its records, so that warning is
    not printed here (it was, from '<string>:9' of every child process)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"coupling\.min_distance = 0\.5 r0 holds",
                                category=UserWarning)
        return ModelParams(n_tls=n_tls, coupling=CouplingParams(
            kind="dipolar", strength=0.05, min_distance=0.5, components=("zz", "xx")))


def workload(real) -> dict[str, Any]:
    """Frequencies (K), temperatures (K) and Gaussian broadening for a realisation.

    The width is ``WIDTH_IN_SPACINGS`` mean level spacings of the non-interacting spectrum,
    sum_i sqrt(eps_i^2 + Delta_i^2) / (D - 1), known before diagonalising.
    """

    bandwidth = float(np.sum(np.hypot(real.asymmetry, real.tunnelling)))
    width = WIDTH_IN_SPACINGS * bandwidth / (real.dimension - 1)
    return {
        "frequencies": np.linspace(*FREQUENCY_RANGE, N_FREQUENCIES),
        "temperatures": np.geomspace(*TEMPERATURE_RANGE, N_TEMPERATURES),
        "broadening": Broadening(kind="gaussian", width=width),
    }


def realisation(n_tls: int, seed: int):
    return draw_realisation(model_params(n_tls), realisation_rng(seed, 0))


def run_pipeline(n_tls: int, seed: int, dtype: str = "float64",
                 clock=time.perf_counter) -> tuple[dict, dict[str, float]]:
    """The project's pipeline for one realisation, stage by stage (what ``observe`` does).

    Returns
    -------
    out : dict
        "absorption" (n_T, n_w) in units of pi*C0 and "specific_heat" (n_T,).
    times : dict
        Wall time (s) of each stage in ``PIPELINE_STAGES``.
    """

    t0 = clock()
    params = model_params(n_tls)
    real = realisation(n_tls, seed)
    job = workload(real)
    solver = SolverParams(dtype=dtype)
    check_memory(n_tls, solver)
    t1 = clock()
    h, t = build_operators(real, solver.numpy_dtype, dense=True)
    t2 = clock()
    spectrum = dense.diagonalise(h, vectors=True, overwrite=True)
    del h
    t3 = clock()
    elements = stress_matrix_elements(spectrum.vectors, t)
    t4 = clock()
    pairs = pair_spectrum(spectrum, elements, job["frequencies"], job["broadening"])
    t5 = clock()
    q = absorption_normalisation(params) * pairs.absorption(job["frequencies"], job["temperatures"])
    t6 = clock()
    c = specific_heat(spectrum.energies, job["temperatures"])
    t7 = clock()
    times = dict(zip(PIPELINE_STAGES, np.diff([t0, t1, t2, t3, t4, t5, t6, t7]).tolist(),
                     strict=True))
    return {"absorption": q, "specific_heat": c}, times


def run_naive(n_tls: int, seed: int, clock=time.perf_counter) -> tuple[dict, dict[str, float]]:
    """The same observables the way a QuSpin user would write them (the reference to beat).

    QuSpin ``hamiltonian`` objects for H and T, ``H.eigh()``, dense ``T``, ``V.T @ T @ V``, then
    for each temperature one pass over all pairs: weights (p_n - p_m)|T_mn|^2 of the upward lines,
    a histogram of them on bins of a tenth of the kernel width, convolved with the kernel.
    """
    from quspin.basis import spin_basis_1d  # heavy: only for the naive reference
    from quspin.operators import hamiltonian

    t0 = clock()
    params = model_params(n_tls)
    real = realisation(n_tls, seed)
    job = workload(real)
    w, temps, b = job["frequencies"], job["temperatures"], job["broadening"]
    basis = spin_basis_1d(n_tls, pauli=1)
    kw = {"basis": basis, "dtype": np.float64, "check_herm": False, "check_symm": False,
          "check_pcon": False}
    t1 = clock()
    h = hamiltonian(tls_terms(real), [], **kw)
    stress = hamiltonian(stress_terms(real), [], **kw)
    t2 = clock()
    energies, vectors = h.eigh()
    t3 = clock()
    tmn = vectors.T @ stress.toarray() @ vectors
    t4 = clock()
    omega = energies[:, None] - energies[None, :]  # w_mn = E_m - E_n
    up = omega > 0
    omega_up = omega[up]
    t2_up = tmn[up] ** 2
    edges = np.arange(0.0, w.max() + 12 * b.width, b.width / 10)
    centres = 0.5 * (edges[1:] + edges[:-1])
    kernel = b.kernel(w[None, :] - centres[:, None]) - b.kernel(w[None, :] + centres[:, None])
    q = np.empty((temps.size, w.size))
    for i, temp in enumerate(temps):
        p = np.exp(-(energies - energies[0]) / temp)
        p /= p.sum()
        weight = (p[None, :] - p[:, None])[up] * t2_up
        hist, _ = np.histogram(omega_up, bins=edges, weights=weight)
        q[i] = hist @ kernel
    q *= absorption_normalisation(params)
    t5 = clock()
    c = np.empty(temps.size)
    for i, temp in enumerate(temps):
        p = np.exp(-(energies - energies[0]) / temp)
        p /= p.sum()
        c[i] = (p @ energies**2 - (p @ energies) ** 2) / temp**2
    t6 = clock()
    times = dict(zip(("draw", "build", "eigh", "stress_elements", "absorption", "specific_heat"),
                     np.diff([t0, t1, t2, t3, t4, t5, t6]).tolist(), strict=True))
    return {"absorption": q, "specific_heat": c}, times


def run_eigh(n_tls: int, seed: int, dtype: str,
             clock=time.perf_counter) -> tuple[dict, dict[str, float]]:
    """Bare ``scipy.linalg.eigh(H, driver="evd")`` on the pipeline's H (built untimed)."""

    h, _ = build_operators(realisation(n_tls, seed), np.dtype(dtype).type, dense=True)
    t0 = clock()
    eigh(h, driver="evd", overwrite_a=True, check_finite=False)
    return {}, {"eigh": clock() - t0}


def _warm_up() -> float:
    """Import and first-call costs (QuSpin, scipy, numba), excluded from the timings."""
    t0 = time.perf_counter()
    run_pipeline(4, 0, "float64")
    run_pipeline(4, 0, "float32")
    run_naive(4, 0)
    return time.perf_counter() - t0


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    with blas_threads(int(spec["threads"]) if spec.get("threads") else None):
        return _measure_child(spec)


def _measure_child(spec: dict[str, Any]) -> dict[str, Any]:
    warm = _warm_up()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    variant, n, seed = spec["variant"], spec["n_tls"], spec["seed"]
    clock = time.process_time if spec.get("clock") == "cpu" else time.perf_counter
    if variant.startswith("eigh"):
        out, times = run_eigh(n, seed, "float64" if variant == "eigh64" else "float32", clock)
    elif variant.startswith("pipeline"):
        out, times = run_pipeline(n, seed, "float64" if variant == "pipeline64" else "float32",
                                  clock)
    elif variant == "naive":
        out, times = run_naive(n, seed, clock)
    else:
        raise ValueError(f"unknown variant {variant!r}, expected one of {VARIANTS}")

    record = {"times": times, "total": sum(times.values()), "warm_up_s": warm,
              "rss_after_warm_up": base, "load_average_1min": load,
              "blas_threads": sorted({lib["num_threads"] for lib in threadpool_info()
                                      if lib["user_api"] == "blas"})}
    if spec.get("keep_results") and out:
        record["absorption"] = np.asarray(out["absorption"], dtype=np.float64).tolist()
        record["specific_heat"] = np.asarray(out["specific_heat"], dtype=np.float64).tolist()
    if spec.get("blas"):
        record["blas"] = blas_metadata()
    return record


def run_child(spec: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
    """Run one variant in a fresh interpreter; add its peak RSS (bytes) from ``os.wait4``."""
    with tempfile.TemporaryDirectory(prefix="manybody-bench-") as tmp:
        out_path = Path(tmp) / "out.json"
        spec = {**spec, "output": str(out_path)}
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child",
                                 json.dumps(spec)], stdout=subprocess.DEVNULL)
        t0 = time.perf_counter()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except KeyboardInterrupt:
            proc.kill()
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        if proc.returncode != 0 or not out_path.exists():
            why = f"exited with status {proc.returncode}"
            if proc.returncode < 0:
                import signal

                name = signal.Signals(-proc.returncode).name
                why = f"was killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
            return {"error": f"child process {why}", "wall_s": wall,
                    "peak_rss": usage.ru_maxrss * 1024}
        record = json.loads(out_path.read_text())
    record["peak_rss"] = usage.ru_maxrss * 1024
    record["wall_s"] = wall
    return record


def run_inline(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one variant in this process (quick mode); peak RSS is the process's peak so far."""

    variant, n, seed = spec["variant"], spec["n_tls"], spec["seed"]
    clock = time.process_time if spec.get("clock") == "cpu" else time.perf_counter
    dtype = "float32" if variant.endswith("32") else "float64"
    if variant.startswith("eigh"):
        out, times = run_eigh(n, seed, dtype, clock)
    elif variant.startswith("pipeline"):
        out, times = run_pipeline(n, seed, dtype, clock)
    else:
        out, times = run_naive(n, seed, clock)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    record = {"times": times, "total": sum(times.values()), "peak_rss": peak,
              "rss_after_warm_up": None,
              "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
              "blas_threads": sorted({lib["num_threads"] for lib in threadpool_info()
                                      if lib["user_api"] == "blas"})}
    if spec.get("keep_results") and out:
        record["absorption"] = out["absorption"]
        record["specific_heat"] = out["specific_heat"]
    return record


class BenchFailure(RuntimeError):
    """A measurement failed (a child process died): the run stops with exit status 1."""


# ------------------------------------------------------------------------------------------------
# The benchmark run
# ------------------------------------------------------------------------------------------------

#: Modes: N range, variants and clock when not given on the command line.
QUICK = {"n_min": 8, "n_max": 10, "variants": ("eigh64", "pipeline64", "eigh32", "pipeline32"),
         "clock": "cpu", "threads": 1}
FULL = {"n_min": 8, "n_max": 13, "variants": VARIANTS, "clock": "wall", "threads": 0}


def variant_memory(n_tls: int, variant: str) -> int:
    """Peak bytes of one variant at N (the dense-solve estimate of its precision; the naive
    reference also holds a dense T and V^T T V, about 2 D^2 float64 more)."""

    need = estimate_memory(n_tls, "float32" if variant.endswith("32") else "float64")
    return need + (2 * 8 * 4**n_tls if variant == "naive" else 0)


def check_bench_memory(n_values, args) -> None:
    """Refuse, before anything runs, an (N, variant) whose memory estimate does not fit.

    Raises
    ------
    MemoryError
        Naming the option, N, the variant, the estimate, what is available and the largest N that
        would fit.
    """

    budget = 0.9 * dense.available_memory()
    for n in n_values:
        for variant in _variants_for(n, args):
            need = variant_memory(n, variant)
            if need > budget:
                fit = n
                while fit > 1 and variant_memory(fit, variant) > budget:
                    fit -= 1
                raise MemoryError(
                    f"--n-max {max(n_values)}: variant {variant} at N={n} needs about "
                    f"{need / 2**30:.3g} GB but only {budget / 2**30:.1f} GB (90 % of the "
                    f"available memory) is allowed; use --n-max {fit} or drop {variant} from "
                    "--variants")

def default_repeats(n_tls: int) -> int:
    return 3 if n_tls <= 11 else 2 if n_tls == 12 else 1


def _variants_for(n_tls: int, args) -> list[str]:
    chosen = [v for v in VARIANTS if v in args.variants]
    if n_tls > args.naive_max:
        chosen = [v for v in chosen if v != "naive"]
    return chosen


def _min_times(records: list[dict]) -> dict[str, Any]:
    ok = [r for r in records if "error" not in r]
    if not ok:
        return {"error": records[-1].get("error") if records else "not run"}
    best = min(ok, key=lambda r: r["total"])
    stages = {k: min(r["times"][k] for r in ok) for k in best["times"]}
    return {
        "total_s": best["total"],
        "totals_s": [r["total"] for r in ok],
        "stages_s": stages,
        "stage_fractions": {k: val / best["total"] for k, val in best["times"].items()},
        "peak_rss_bytes": max((r["peak_rss"] for r in ok if r.get("peak_rss")), default=None),
        "rss_after_warm_up_bytes": min((r["rss_after_warm_up"] for r in ok
                                        if r.get("rss_after_warm_up")), default=None),
        "load_average_1min": [r.get("load_average_1min") for r in ok],
        "blas_threads": best.get("blas_threads"),
        "repeats": len(ok),
    }


def derive_ratios(summary: dict[str, dict], accuracy: dict[str, float]) -> dict[str, float]:
    """Ratios of one N from the per-variant minima (and the float32 accuracy).

    ``pipeline*/eigh64`` compare measured totals. The ``*_composed`` ratios rebuild each pipeline
    as the bare eigh of its precision plus the pipeline's own non-eigh stages, which removes the
    run-to-run scatter of the eigensolver itself (it dominates both totals) from the comparison.
    """
    ratios: dict[str, float] = {}

    def total(v):
        return summary.get(v, {}).get("total_s")

    for num, den in (("pipeline64", "eigh64"), ("pipeline32", "eigh64"), ("pipeline32", "eigh32"),
                     ("eigh32", "eigh64"), ("naive", "pipeline64"), ("naive", "eigh64")):
        if total(num) and total(den):
            ratios[f"{num}/{den}"] = total(num) / total(den)
    for bits in ("64", "32"):
        stages = summary.get(f"pipeline{bits}", {}).get("stages_s")
        if not (stages and total("eigh64")):
            continue
        overhead = sum(t for k, t in stages.items() if k != "eigh")
        ratios[f"overhead{bits}/eigh64"] = overhead / total("eigh64")
        if bits == "64":
            ratios["absorption/eigh64"] = (stages["pair_deposit"] + stages["absorption"]) / total(
                "eigh64")
        if total(f"eigh{bits}"):
            ratios[f"pipeline{bits}_composed/eigh64"] = (total(f"eigh{bits}") + overhead) / total(
                "eigh64")
    for v in ("pipeline64", "pipeline32", "eigh64", "naive"):
        if summary.get(v, {}).get("peak_rss_bytes"):
            ratios[f"peak_gb_{v}"] = summary[v]["peak_rss_bytes"] / 2**30
    if "q32_rel_error" in accuracy:
        ratios["q32_rel_error"] = accuracy["q32_rel_error"]
    return ratios


def _relative_error(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def bench_one(n_tls: int, args, log=print, runner=None) -> dict[str, Any]:
    """All variants for one N, interleaved over repetitions; minima, ratios, accuracy.

    ``runner`` runs one variant (default :func:`run_child`, a fresh process; quick mode passes
    :func:`run_inline`).

    Raises
    ------
    BenchFailure
        A measurement failed (e.g. its child process was killed).
    """

    runner = runner or run_child
    variants = _variants_for(n_tls, args)
    repeats = args.repeats or default_repeats(n_tls)  # None in full mode: by N
    raw: dict[str, list[dict]] = {v: [] for v in variants}
    results: dict[str, Any] = {}
    for rep in range(repeats):
        order = variants[rep % len(variants):] + variants[:rep % len(variants)]
        for variant in order:
            keep = rep == 0 and variant in ("pipeline64", "pipeline32", "naive")
            rec = runner({"variant": variant, "n_tls": n_tls, "seed": args.seed,
                          "keep_results": keep, "threads": args.threads, "clock": args.clock})
            if keep and "absorption" in rec:
                results[variant] = rec.pop("absorption"), rec.pop("specific_heat")
            raw[variant].append(rec)
            status = rec.get("error") or (
                f"{rec['total']:.3f} s, peak {rec['peak_rss'] / 2**30:.2f} GB")
            log(f"  N={n_tls} rep {rep + 1}/{repeats} {variant:>10}: {status}")
            if "error" in rec:
                raise BenchFailure(f"variant {variant} at N={n_tls}: {rec['error']}")
    summary = {v: _min_times(raw[v]) for v in variants}
    accuracy = {}
    if "pipeline64" in results:
        q64, c64 = results["pipeline64"]
        for other in ("pipeline32", "naive"):
            if other in results:
                q, c = results[other]
                key = "q32_rel_error" if other == "pipeline32" else "q_naive_rel_difference"
                accuracy[key] = _relative_error(q, q64)
                accuracy[key.replace("q", "c", 1)] = _relative_error(c, c64)
    ratios = derive_ratios(summary, accuracy)
    memory = {}
    for dt in ("float64", "float32"):
        measured = summary.get(f"pipeline{dt[-2:]}", {})
        peak, base = measured.get("peak_rss_bytes"), measured.get("rss_after_warm_up_bytes")
        memory[dt] = {"estimate_solve_gb": estimate_memory(n_tls, dt) / 2**30,
                      "estimate_pipeline_gb": pipeline_memory(n_tls, dt, args.seed)["pipeline_gb"],
                      "measured_gb": peak / 2**30 if peak else None,
                      "measured_above_base_in_D2": (peak - base) / (4.0**n_tls * int(dt[-2:]) / 8)
                      if peak and base else None}
    memory["available_gb"] = dense.available_memory() / 2**30
    return {"n_tls": n_tls, "dimension": 2**n_tls, "repeats": repeats, "variants": summary,
            "ratios": ratios, "accuracy": accuracy, "memory": memory, "raw": raw}


#: Resident memory of a child after imports and warm-up (Python, numpy, scipy, QuSpin, numba).
_PROCESS_BASE = 0.25 * 2**30


def pipeline_memory(n_tls: int, dtype: str, seed: int = 7) -> dict[str, float]:
    """Peak bytes of the benchmark pipeline: the solve (``estimate_memory``), or after it
    eigenvectors + T_mn + the (D, n_nodes) float64 pair deposits, plus the process itself."""

    real = realisation(n_tls, seed)
    job = workload(real)
    bandwidth = float(np.sum(np.hypot(real.asymmetry, real.tunnelling)))
    n_nodes = frequency_grid(bandwidth, job["frequencies"], job["broadening"]).size
    dim = 2**n_tls
    item = 8 if dtype == "float64" else 4
    deposits = dim * n_nodes * 8
    after = 2 * dim * dim * item + deposits
    solve_peak = estimate_memory(n_tls, dtype)
    return {"solve_gb": solve_peak / 2**30, "deposits_gb": deposits / 2**30, "grid_nodes": n_nodes,
            "pipeline_gb": (max(solve_peak, after) + _PROCESS_BASE) / 2**30}


def memory_plan(n_values=(13, 14, 15)) -> dict[str, Any]:
    """What ``check_memory`` decides, up front, for large N (no allocation), and the benchmark
    pipeline's expected peak next to the memory available now."""

    out = {}
    for n in n_values:
        for dt in ("float64", "float32"):
            try:
                check_memory(n, SolverParams(dtype=dt))
                decision = "runs"
            except MemoryError as exc:
                decision = f"refused: {exc}"
            out[f"N={n} {dt}"] = {**pipeline_memory(n, dt), "decision": decision,
                                  "available_gb": dense.available_memory() / 2**30}
    return out


def evaluate_targets(per_n: dict[int, dict]) -> list[dict[str, Any]]:
    rows = []
    for text, key, op, bound, ns in TARGETS:
        for n in ns:
            value = per_n.get(n, {}).get("ratios", {}).get(key)
            met = None if value is None else (value <= bound if op == "<=" else value >= bound)
            rows.append({"target": text, "n_tls": n, "key": key, "bound": f"{op} {bound:g}",
                         "value": value, "met": met})
    return rows


def _fmt(x, spec=".2f", missing="-"):
    return missing if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def markdown_table(per_n: dict[int, dict]) -> str:
    head = ("| N | D | eigh f64 (s) | pipeline f64 (s) | pipe64/eigh64 (composed) | eigh f32 (s) "
            "| pipeline f32 (s) | pipe32/eigh64 (composed) | naive (s) | naive/pipe64 "
            "| absorption/eigh64 | peak f64 (GB) | peak f32 (GB) | Q f32 rel. err |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for n in sorted(per_n):
        r = per_n[n]
        v, q = r["variants"], r["ratios"]

        def t(name, v=v):
            return _fmt(v.get(name, {}).get("total_s"), ".3g")

        lines.append(
            f"| {n} | {2**n} | {t('eigh64')} | {t('pipeline64')} "
            f"| {_fmt(q.get('pipeline64/eigh64'))} ({_fmt(q.get('pipeline64_composed/eigh64'))}) "
            f"| {t('eigh32')} | {t('pipeline32')} "
            f"| {_fmt(q.get('pipeline32/eigh64'))} ({_fmt(q.get('pipeline32_composed/eigh64'))}) "
            f"| {t('naive')} | {_fmt(q.get('naive/pipeline64'))} "
            f"| {_fmt(q.get('absorption/eigh64'), '.1%')} "
            f"| {_fmt(q.get('peak_gb_pipeline64'))} | {_fmt(q.get('peak_gb_pipeline32'))} "
            f"| {_fmt(q.get('q32_rel_error'), '.1e')} |")
    return "\n".join(lines)


def stage_table(per_n: dict[int, dict], variant: str = "pipeline64") -> str:
    head = "| N | " + " | ".join(PIPELINE_STAGES) + " |"
    lines = [head, "|" + "---|" * (len(PIPELINE_STAGES) + 1)]
    for n in sorted(per_n):
        fr = per_n[n]["variants"].get(variant, {}).get("stage_fractions")
        if fr:
            lines.append(f"| {n} | " + " | ".join(f"{fr[s]:.1%}" for s in PIPELINE_STAGES) + " |")
    return "\n".join(lines)


def metadata(args) -> dict[str, Any]:
    try:
        import quspin
        quspin_version = getattr(quspin, "__version__", None)
    except ImportError:  # pragma: no cover
        quspin_version = None
    commit, dirty = git_commit_and_dirty()
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "manybody.bench",
        "created": now_utc(),
        "host": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {"manybody": __version__, "numpy": np.__version__,
                     "scipy": scipy.__version__, "quspin": quspin_version},
        "git": {"commit": commit, "dirty": dirty},
        "blas": check_blas(warn=True),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "arguments": {k: v for k, v in vars(args).items() if not k.startswith("_")
                      and isinstance(v, (int, float, str, bool, list, tuple, type(None)))},
        "workload": {
            "model": "canonical TLS (eps_max 1 K, Delta 1e-3..1 K) + dipolar zz,xx J0=0.05 K, "
                     "hard core 0.5 r0",
            "n_temperatures": N_TEMPERATURES, "temperature_range_K": TEMPERATURE_RANGE,
            "n_frequencies": N_FREQUENCIES, "frequency_range_K": FREQUENCY_RANGE,
            "kernel": f"gaussian, width {WIDTH_IN_SPACINGS:g} mean level spacings "
                      "(non-interacting)",
            "observables": ["absorption", "specific_heat"],
            "timing": "each variant in a fresh process after a warm-up at N=4; repetitions "
                      "interleaved with rotating order; minimum kept; peak RSS from os.wait4",
            "clock": "process CPU time (s)" if args.clock == "cpu" else "wall time (s)",
            "blas_threads": args.threads or "as configured",
        },
    }


def _write_record(path: Path, record: dict[str, Any]) -> None:
    """Write a bench record (JSON) atomically, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, jsonio.dumps(record, indent=1, default=float))


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Time the pipeline against bare scipy eigh (and a naive QuSpin reference with --full). "
        "Default: a quick run (N = 8..10, eigh and pipeline in float64 and float32, one "
        "repetition, in this process, 1 BLAS thread, CPU time; a few seconds) that prints a "
        "table and writes nothing. --full: N = 8..13, every variant in a fresh process with its "
        "peak memory, about 10 minutes. Small mode for a slow or shared machine: "
        "--n-min 6 --n-max 8. The JSON record is written only with --output PATH.")
    parser.add_argument("--full", action="store_true",
                        help="full benchmark: N = 8..13 (unless --n-min/--n-max), all variants "
                             "including the naive reference, each in a fresh child process "
                             "(peak memory per variant), repetitions; about 10 minutes")
    parser.add_argument("--large", action="store_true",
                        help="with the full benchmark, also N = 14 (about 1 h of CPU); implies "
                             "--full")
    parser.add_argument("--n-min", type=cli_integer(1, 16), default=None, metavar="N",
                        help="smallest N (default 8)")
    parser.add_argument("--n-max", type=cli_integer(1, 16), default=None, metavar="N",
                        help="largest N (default 10 quick, 13 full)")
    parser.add_argument("--repeats", type=cli_integer(1, 1000), default=None, metavar="R",
                        help="repetitions per variant (default: 1 quick; full: 3 for N<=11, 2 at "
                             "12, 1 above)")
    parser.add_argument("--variants", nargs="+", default=None, choices=VARIANTS,
                        metavar="VARIANT", help=f"subset of {', '.join(VARIANTS)} (default: all "
                                                "but naive quick, all full)")
    parser.add_argument("--naive-max", type=cli_integer(1, 16), default=13, metavar="N",
                        help="largest N for the naive reference (default 13)")
    parser.add_argument("--seed", type=cli_seed, default=7,
                        help="realisation seed (default 7)")
    parser.add_argument("--threads", type=cli_integer(0, 4096), default=None, metavar="K",
                        help="BLAS threads in every variant (default 1 quick; full: as "
                             "configured, usually all cores; 0 = as configured)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default=None,
                        help="time stages by wall clock or by the process's CPU time (default cpu "
                             "quick, wall full); with --threads 1, cpu ratios barely feel other "
                             "jobs on the machine")
    parser.add_argument("--output", default=None, metavar="PATH",
                        help="write the JSON record to PATH (nothing is written otherwise)")
    parser.add_argument("--verbose", dest="bench_verbose", action="store_true",
                        help="print every measurement and every target line")
    parser.add_argument("--report", type=Path, default=None, metavar="JSON",
                        help="do not run: re-derive ratios, targets and tables of a saved record, "
                             "print them and update the file")


def _print_report(record: dict[str, Any], per_n: dict[int, dict], verbose: bool = False) -> None:
    meta = record.get("metadata", {})
    workload = meta.get("workload", {})
    print(f"Times: {workload.get('clock', '?')}, BLAS threads {workload.get('blas_threads', '?')}; "
          "minimum over repetitions; ratios within this run.")
    print(markdown_table(per_n))
    print()
    if verbose:
        print("Stage fractions of the float64 pipeline:")
        print(stage_table(per_n))
        print()
    counts = {True: 0, False: 0, None: 0}
    unmeasured: set[int] = set()
    for row in record["targets"]:
        counts[row["met"]] += 1
        if row["met"] is None:
            unmeasured.add(int(row["n_tls"]))
        if verbose or row["met"] is not None:
            mark = {True: "met", False: "MISSED", None: "not measured"}[row["met"]]
            print(f"{row['target']} at N={row['n_tls']}: {_fmt(row['value'], '.3g')} "
                  f"(target {row['bound']}) {mark}")
    if counts[None]:
        where = ", ".join(str(n) for n in sorted(unmeasured))
        print(f"targets: {counts[True]} met, {counts[False]} missed, {counts[None]} not measured "
              f"(they need N = {where}: python scripts/bench.py --full, --large for 14)")


def _load_record(path: Path) -> dict[str, Any]:
    """A saved bench record, or a UserError naming the file and what was expected."""
    expected = ("a JSON record written by `python scripts/bench.py --output` (an object with "
                "'metadata' and 'per_n')")
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"--report {path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"--report {path}: is a directory, expected {expected}") from None
    except UnicodeDecodeError:
        raise UserError(f"--report {path}: not UTF-8 text, expected {expected}") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"--report {path}: not JSON ({exc}), expected {expected}") from None
    ok = (isinstance(record, dict) and isinstance(record.get("metadata"), dict)
          and isinstance(record.get("per_n"), dict)
          and record["metadata"].get("kind", "manybody.bench") == "manybody.bench"
          and all(isinstance(r, dict) and isinstance(r.get("variants"), dict)
                  for r in record["per_n"].values()))
    if not ok:
        found = (f"keys {', '.join(map(repr, list(record)[:6]))}" if isinstance(record, dict)
                 else f"a JSON {type(record).__name__}")
        raise UserError(f"--report {path}: not a manybody bench record (found {found}); "
                        f"expected {expected}")
    try:
        {int(k): v for k, v in record["per_n"].items()}
    except ValueError:
        raise UserError(f"--report {path}: per_n keys must be N values, got "
                        f"{list(record['per_n'])!r}; expected {expected}") from None
    return record


def report(path: Path, verbose: bool = False) -> int:
    """Re-derive ratios, targets and tables of a saved record (``--report``)."""
    record = _load_record(path)
    per_n = {int(k): v for k, v in record["per_n"].items()}
    try:
        for r in per_n.values():
            r["ratios"] = derive_ratios(r["variants"], r.get("accuracy", {}))
        tables = {"table_markdown": markdown_table(per_n),
                  "stage_table_markdown": stage_table(per_n)}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UserError(f"--report {path}: malformed bench record ({type(exc).__name__}: {exc}); "
                        "expected a record written by `python scripts/bench.py --output`") from None
    record.update(per_n={str(k): v for k, v in per_n.items()}, targets=evaluate_targets(per_n),
                  **tables)
    _write_record(Path(path), record)
    _print_report(record, per_n, verbose)
    return 0


def _resolve_mode(args: argparse.Namespace) -> dict[str, Any]:
    """Fill the options left at None from the quick or full mode; check the N range."""
    full = bool(args.full or args.large)
    mode = FULL if full else QUICK
    args.n_min = mode["n_min"] if args.n_min is None else args.n_min
    if args.large and args.n_max is not None and args.n_max < 14:
        raise UserError(f"--large measures up to N = 14, but --n-max is {args.n_max}; drop "
                        "--n-max, or use --full for N <= 13")
    args.n_max = mode["n_max"] if args.n_max is None else args.n_max
    if args.large:
        args.n_max = max(args.n_max, 14)
    if args.repeats is None and not full:
        args.repeats = 1  # quick mode: one repetition (full mode: default_repeats by N)
    args.variants = list(mode["variants"] if args.variants is None else args.variants)
    args.clock = args.clock or mode["clock"]
    args.threads = mode["threads"] if args.threads is None else args.threads
    args.mode = "full" if full else "quick"
    if args.n_min > args.n_max:
        raise UserError(f"--n-min {args.n_min} must be <= --n-max {args.n_max}")
    return mode


def run(args: argparse.Namespace) -> int:
    verbose = bool(getattr(args, "bench_verbose", False) or getattr(args, "verbose", False))
    if args.report:
        return report(args.report, verbose)
    _resolve_mode(args)
    n_values = range(args.n_min, args.n_max + 1)
    check_bench_memory(n_values, args)  # before any child or timing
    out = args.output
    if out is not None:
        out = Path(out)
        if out.is_dir():
            raise UserError(f"--output {out}: is a directory, expected a JSON file path")
        if not out.parent.exists():
            raise FileNotFoundError(f"--output {out}: directory {str(out.parent)!r} does not exist")
    meta = metadata(args)

    log = (lambda s: print(s, flush=True)) if verbose else (lambda s: None)
    print(f"BLAS: {summary(meta['blas'])}; {args.mode} mode, N = {args.n_min}..{args.n_max}",
          flush=True)
    t_start = time.perf_counter()
    per_n: dict[int, dict] = {}
    record: dict[str, Any] = {"metadata": meta}
    runner = run_child
    failure = None
    with contextlib.ExitStack() as limits:  # thread limits of quick mode, restored at the end
        if args.mode == "quick":
            runner = run_inline
            if args.threads:
                limits.enter_context(blas_threads(int(args.threads)))
            _warm_up_quick(args.variants)
        for n in n_values:
            try:
                per_n[n] = bench_one(n, args, log=log, runner=runner)
            except BenchFailure as exc:
                failure = exc
            record.update(per_n={str(k): v for k, v in per_n.items()},
                          targets=evaluate_targets(per_n),
                          memory_plan=memory_plan() if args.mode == "full" else None,
                          table_markdown=markdown_table(per_n),
                          stage_table_markdown=stage_table(per_n),
                          finished=False, wall_s=time.perf_counter() - t_start)
            if out is not None:
                _write_record(out, record)
            if failure is not None:
                break
    if failure is not None:
        saved = f"; partial record in {out}" if out is not None else ""
        print(f"bench: error: {failure}{saved}", file=sys.stderr)
        return 1
    record["finished"] = True
    if hasattr(os, "getloadavg"):
        record["load_average_at_end"] = list(os.getloadavg())
    if out is not None:
        _write_record(out, record)
    print()
    _print_report(record, per_n, verbose)
    print(f"\nwrote {out}" if out is not None else
          f"\n{time.perf_counter() - t_start:.1f} s; record not saved (--output PATH saves it)")
    return 0


def _warm_up_quick(variants) -> None:
    """Import and first-call costs, excluded from quick-mode timings (QuSpin only if naive)."""
    run_pipeline(4, 0, "float64")
    run_pipeline(4, 0, "float32")
    if "naive" in variants:
        run_naive(4, 0)


def _child_main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "--child":
        print("usage: python scripts/bench.py --child JSON (internal)", file=sys.stderr)
        return 2
    spec = json.loads(argv[1])
    record = _child(spec)
    Path(spec["output"]).write_text(jsonio.dumps(record))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python scripts/bench.py [options]``: the exit status (2 for bad input, one line)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--child"]:
        return _child_main(argv)
    parser = ManybodyParser(prog="python scripts/bench.py")
    configure(parser)
    add_overwrite_option(parser)
    args = parser.parse_args(argv)
    if getattr(args, "output", None) is not None:  # before any work (session 31)
        args.output = checked_output_option(parser, "--output", args.output, replaces=True,
                                            overwrite=args.overwrite)
    try:
        return run(args)
    except (UserError, ValueError, TypeError, FileNotFoundError, MemoryError) as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(script_main(main))
