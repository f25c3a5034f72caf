"""Where a matrix-free Chebyshev solve spends its time (issue 20), phase by phase.

One realisation of the benchmark of ``bench_chebyshev.py`` (4 vectors, float32 bank, 20
temperatures, 2 frequencies) is solved with timing wrappers around the solver's own functions, so
the time of a whole solve is split into

- ``bounds`` (the Lanczos spectral bounds), ``plan`` (ladder, windows, moments, memory),
- per phase, ``filter`` (the Boltzmann filter of the random vectors), ``k`` (the thermal-index
  recursion and its node vectors), ``l`` (the final-index recursion and its contraction):
  ``step`` (the Chebyshev steps, products of H), ``record`` / ``store`` (their bookkeeping,
  :mod:`manybody.simulation.solvers.chebyshev.fused`) and ``gemm`` (the GEMMs of
  :mod:`manybody.simulation.solvers.chebyshev.gemm`),
- ``other``: the rest (contraction, error estimates, Python).

Each entry has the seconds, the number of calls and the milliseconds per call. The numba kernels
are compiled (or loaded) on an N = 8 solve first, outside the timing. The wrappers add about 2 us
a call, under 1 % of a step at N >= 14. The record is merged into results/bench/matrix_free.json
under ``--label`` (rewritten atomically; an interrupted run keeps the sizes that finished).

    python scripts/profile_chebyshev.py --sizes 12 16 --label phases_session14
"""

from __future__ import annotations

import collections
import contextlib
import functools
import importlib
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_chebyshev import (  # noqa: E402
    BENCH,
    MATFREE_OUT,
    POSITIVE,
    SIZE,
    _load,
    _metadata,
    _model,
    _save,
    warm_up,
)

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.runs.results import add_overwrite_option, checked_output_option, refuse_replaced_records
from manybody.support import validate as v  # noqa: E402

_PACKAGE = "manybody.simulation.solvers.chebyshev"


class _Clock:
    """Seconds and calls per (phase, kind); the phase is set by the outer wrappers."""

    def __init__(self) -> None:
        self.seconds: collections.Counter = collections.Counter()
        self.calls: collections.Counter = collections.Counter()
        self.phase = "other"

    def timed(self, kind: str, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                key = (self.phase, kind)
                self.seconds[key] += time.perf_counter() - start
                self.calls[key] += 1
        return wrapper

    def phased(self, phase: str, function):
        """``function`` with its calls (and what they call) counted in ``phase``, except inside
        the plan or the bounds, which keep their own (the plan filters a pilot vector)."""
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            outer = self.phase
            self.phase = outer if outer in ("plan", "bounds") else phase
            try:
                return function(*args, **kwargs)
            finally:
                self.phase = outer
        return wrapper

    def phased_items(self, phase: str, function):
        """A generator function with the work of each item it yields counted in ``phase`` (as
        :meth:`phased`; the shared recursion of session 21 yields one rung at a time)."""
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            items = function(*args, **kwargs)
            while True:
                outer = self.phase
                self.phase = outer if outer in ("plan", "bounds") else phase
                try:
                    item = next(items)
                except StopIteration:
                    return
                finally:
                    self.phase = outer
                yield item
        return wrapper


@contextlib.contextmanager
def instrumented(clock: _Clock):
    """The solver's modules with timing wrappers in place (restored on exit)."""
    kpm = importlib.import_module(f"{_PACKAGE}.kpm")
    moments = importlib.import_module(f"{_PACKAGE}.moments")
    solver = importlib.import_module(f"{_PACKAGE}.solver")
    patches = [
        (kpm.ScaledOperator, "_fused_step", clock.timed("step", kpm.ScaledOperator._fused_step)),
        (moments, "record", clock.timed("record", moments.record)),
        (moments, "matmul_inner", clock.timed("gemm", moments.matmul_inner)),
        (moments, "matmul_columns", clock.timed("gemm", moments.matmul_columns)),
        (moments, "_fill_columns", clock.phased("l", moments._fill_columns)),
        (solver, "node_correlation_moments", clock.phased("k", solver.node_correlation_moments)),
        (solver, "correlation_moments", clock.phased("k", solver.correlation_moments)),
        (solver, "boltzmann_filter", clock.phased("filter", solver.boltzmann_filter)),
        (solver, "plan_solve", clock.phased("plan", clock.timed("total", solver.plan_solve))),
    ]
    if hasattr(solver, "shared_node_moments"):  # one k-recursion for every rung (session 21)
        patches.append((solver, "shared_node_moments",
                        clock.phased_items("k", solver.shared_node_moments)))
    if hasattr(moments, "store"):  # the l-recursion's store (session 14)
        patches.append((moments, "store", clock.timed("store", moments.store)))
    if hasattr(solver, "ChebyshevOperators"):
        scaled = solver.ChebyshevOperators.scaled
        patches.append((solver.ChebyshevOperators, "scaled",
                        clock.phased("bounds", clock.timed("total", scaled))))
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    try:
        for owner, name, value in patches:
            setattr(owner, name, value)
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


def profile(n: int, memory_gb: float | None = None, steady: bool = False) -> dict:
    """One realisation of the benchmark at N TLS, split by phase (seconds, calls, ms per call);
    with ``memory_gb`` the plan may use at most that many GB (as ``bench_chebyshev.py
    --memory-gb``); with ``steady`` the realisation is solved once untimed and the second solve,
    in the same kept workspace, is profiled (a sweep worker's next realisation, session 19)."""
    from manybody.config.probe import Broadening
    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.ensembles import absorption_normalisation, draw_realisation, realisation_rng
    from manybody.simulation.solvers.chebyshev.solver import chebyshev_absorption
    from manybody.simulation.solvers.chebyshev.workspace import reusing_workspace

    w, t = np.array(BENCH["frequencies"]), np.array(BENCH["temperatures"])
    broadening = Broadening(**BENCH["broadening"])
    from manybody.simulation.solvers.memory import available_memory

    fraction = 0.8 if memory_gb is None else min(1.0, memory_gb * 2**30 / available_memory())
    params = ChebyshevParams(n_vectors=4, dtype="float32", operator="matrix_free",
                             memory_fraction=fraction)
    # compile / load the kernels outside the timing, on an N = 8 solve that is never capped
    warm_up(replace(params, memory_fraction=0.8))
    model = _model(n, BENCH)
    real = draw_realisation(model, realisation_rng(BENCH["seed"], BENCH["realisation"]))
    clock = _Clock()
    with reusing_workspace():
        if steady:  # untimed: allocates and faults in the workspace the profiled solve reuses
            chebyshev_absorption(real, w, t, broadening, params,
                                 normalisation=absorption_normalisation(model),
                                 seed=BENCH["seed"])
        with instrumented(clock):
            start = time.perf_counter()
            res = chebyshev_absorption(real, w, t, broadening, params,
                                       normalisation=absorption_normalisation(model),
                                       seed=BENCH["seed"])
            total = time.perf_counter() - start
    phases: dict[str, dict] = {}
    for (phase, kind), seconds in sorted(clock.seconds.items()):
        calls = clock.calls[(phase, kind)]
        phases.setdefault(phase, {})[kind] = {"seconds": seconds, "calls": calls,
                                              "ms_per_call": 1e3 * seconds / calls}
    # the plan and the bounds are counted whole ("total"); their steps are shown, not added
    counted = sum(v["seconds"] for kinds in phases.values() for k, v in kinds.items()
                  if "total" not in kinds or k == "total")
    plan = res.plan
    return {"n_tls": n, "dimension": 2**n, "seconds": total, "phases": phases,
            "other_seconds": total - counted, "memory_cap_gb": memory_gb, "steady": steady,
            "moments": [r.n_moments for r in plan.rungs], "block": plan.block,
            "node_rows": list(plan.node_rows), "bank_rows": list(plan.bank_rows),
            "shared_bank": getattr(plan, "shared_bank", 0),
            "shared_groups": [list(g) for g in getattr(plan, "shared_groups", ())]}


def main(argv: list[str] | None = None) -> int:
    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=SIZE, nargs="+", default=[12, 16],
                        help="numbers of TLS N (default: %(default)s)")
    parser.add_argument("--label", type=v.cli_label, default="phases",
                        help="key of this run in the JSON file (default: %(default)s)")
    parser.add_argument("--out", default=str(MATFREE_OUT),
                        help="JSON file of results (default: results/bench/matrix_free.json)")
    parser.add_argument("--memory-gb", type=POSITIVE, default=None,
                        help="the most memory (GB) the solve's plan may use (default: 0.8 of "
                             "what is available)")
    parser.add_argument("--steady", action="store_true",
                        help="profile the second solve of the realisation, in the workspace "
                             "the first one allocated (a sweep worker's next realisation)")
    add_overwrite_option(parser, entries=True)
    args = parser.parse_args(argv)
    if getattr(args, "out", None) is not None:  # before any work (session 31)
        checked_output_option(parser, "--out", args.out)
        refuse_replaced_records(parser, "--out", args.out, [(args.label,)],
                                overwrite=args.overwrite)
    v.cli_refuse_repeats(parser, args, "sizes")
    path = Path(args.out)
    data = _load(path)
    out = {"metadata": _metadata(), "config": BENCH, "sizes": {}, "finished": False}
    data[args.label] = out
    for n in args.sizes:
        try:
            rec = profile(n, args.memory_gb, args.steady)
        except (ValueError, MemoryError) as exc:  # the plan's refusal: the sizes before are kept
            print(f"{Path(__file__).name}: error: N={n}: {type(exc).__name__}: "
                  f"{' '.join(str(exc).split())}", file=sys.stderr)
            return 1
        out["sizes"][str(n)] = rec
        _save(path, data)
        print(n, f"{rec['seconds']:.2f} s", {
            f"{p}.{k}": round(v["seconds"], 3) for p, kinds in rec["phases"].items()
            for k, v in kinds.items()}, f"other {rec['other_seconds']:.2f} s", flush=True)
    out["finished"] = True
    _save(path, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
