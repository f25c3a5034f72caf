"""What a physical minimum distance between TLS does to the answer and to the cost (issue 20).

Dipolar couplings J0 c_ij / r_ij^3 without a hard core reach tens of kelvin for the rare close pair
(at N = 10, J0 = 0.01 K, one pair in three realisations takes the spectral half-width from 0.9 K
to 11 K; results/bench/matrix_free.json, "spectral_width"), and the Chebyshev solver pays for the
width in moments. A real glass has a minimum distance (the size of a tunnelling unit, and the
elastic dipole form fails below it), and ``model.coupling.min_distance`` (units of r0, the mean
TLS spacing) holds closer pairs at that distance. This script measures, at the study's headline
finite-size point (the model and probe of results/finite_size_n12/spec.toml: dipolar J0 = 0.01 K,
w = 0.1 K, 25 temperatures x = 0.2..10, kernel 0.02 K):

physics  (dense ED, exact) the TLS index a at each minimum distance and its change from no hard
         core, paired over realisations (the same seed draws the same positions and TLS at every
         minimum distance: only the pairs closer than it change), with the paired and unpaired
         bootstrap errors (:func:`manybody.laws.analysis.paired_index_difference`); the share of
         realisations with a pair closer than each distance.
cost     (Chebyshev plan, nothing solved) the spectral half-width, the largest number of moments
         and the plan's cost estimate per realisation at N = 14 and 16, mean and maximum over
         realisations, at each minimum distance; realisations the plan refuses (too many moments
         or too much memory, with the solver's defaults) are listed.

Results: results/bench/min_distance.json (rewritten after each part).

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python scripts/min_distance_effect.py
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_chebyshev import SIZE, _load, _metadata, _save  # noqa: E402

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.runs.results import (
    add_overwrite_option,
    checked_input_spec,
    checked_output_option,
    refuse_replaced_records,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "bench" / "min_distance.json"
SPEC = ROOT / "results" / "finite_size_n12" / "spec.toml"
MIN_DISTANCES = [0.0, 0.1, 0.2, 0.3, 0.5]  # r0
KERNEL_WIDTH = 0.02  # K


def headline_spec(n_tls: int, realisations: int, min_distances: list[float],
                  base: Path | str = SPEC):
    """The recorded N = 12 spec (or the spec file ``base``, --spec, checked by ``main``) at N TLS,
    swept over coupling.min_distance (dense ED)."""
    from manybody.runs.spec import RunSpec

    table = tomllib.loads(Path(base).read_text())
    if table["probe"]["broadening"] != {"kind": "gaussian", "width": KERNEL_WIDTH}:
        raise ValueError(f"{base}: expected a Gaussian kernel of width {KERNEL_WIDTH} K")
    table["name"] = f"min_distance_n{n_tls}"
    table["realisations"] = realisations
    table["model"]["n_tls"] = n_tls
    table["probe"]["observables"] = ["absorption"]
    table["solver"] = {"method": "dense"}
    table["sweep"] = {"model.coupling.min_distance": min_distances}
    return RunSpec.from_dict(table)


def closest_pairs(spec, realisations: int) -> np.ndarray:
    """Smallest periodic distance between two TLS of each realisation (r0), without hard core."""
    from manybody.simulation.ensembles import draw_realisation, periodic_distances, realisation_rng

    _, model, _ = next(spec.points())
    model = dataclasses.replace(model, coupling=dataclasses.replace(model.coupling,
                                                                    min_distance=0.0))
    out = []
    for r in range(realisations):
        real = draw_realisation(model, realisation_rng(spec.seed, r))
        d = periodic_distances(real.positions)
        out.append(d[np.triu_indices(model.n_tls, 1)].min())
    return np.array(out)


def physics(args, out: dict) -> None:
    from manybody.laws.analysis import analyse_shape, paired_index_difference
    from manybody.runs.sweep import run_sweep

    spec = headline_spec(args.n_physics, args.realisations, args.min_distances, args.spec)
    start = time.perf_counter()
    ds = run_sweep(spec, n_jobs=args.jobs, blas_threads=1)
    wall = time.perf_counter() - start
    w = float(ds["frequency"].values[0])
    x = w / ds["temperature"].values
    q = ds["absorption"].isel(frequency=0).values  # (min_distance, realisation, temperature)
    closest = closest_pairs(spec, args.realisations)
    rows = []
    for i, d in enumerate(args.min_distances):
        shape = analyse_shape(x, q[i], smearing=KERNEL_WIDTH / w, n_bootstrap=args.bootstrap)
        row = {"min_distance": d, "index": shape.index, "index_error": shape.index_error,
               "verdict": shape.verdict,
               "realisations_with_a_closer_pair": float(np.mean(closest < d)),
               "mean_q_at_x1_relative_change": float(
                   np.interp(1.0, x[::-1], (q[i].mean(0) / q[0].mean(0) - 1)[::-1]))}
        if i > 0:
            diff = paired_index_difference(x, q[0], q[i], smearing=KERNEL_WIDTH / w,
                                           n_bootstrap=args.bootstrap)
            row.update(change=diff.difference, change_error=diff.error,
                       change_error_unpaired=diff.error_unpaired,
                       pairing_saves_factor=(diff.error_unpaired / diff.error) ** 2
                       if diff.error > 0 else None)
        rows.append(row)
        print(json.dumps(row), flush=True)
    out["physics"] = {"n_tls": args.n_physics, "realisations": args.realisations,
                      "jobs": args.jobs, "wall_seconds": wall, "rows": rows,
                      "closest_pair_quantiles_r0": dict(zip(
                          ("10%", "50%", "90%"),
                          np.quantile(closest, [0.1, 0.5, 0.9]).tolist(), strict=True))}


def cost(args, out: dict) -> None:
    from manybody.config.probe import Broadening
    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.ensembles import draw_realisation, realisation_rng
    from manybody.simulation.solvers.chebyshev.solver import ChebyshevOperators, plan_chebyshev

    params = ChebyshevParams(n_vectors=4, dtype="float32", operator="matrix_free",
                             max_moments=1 << 16)
    records = []
    for n in args.cost_sizes:
        spec = headline_spec(n, args.cost_realisations, args.min_distances, args.spec)
        for _, model, probe in spec.points():
            widths, moments, seconds, work, refused = [], [], [], [], []
            for r in range(args.cost_realisations):
                real = draw_realisation(model, realisation_rng(spec.seed, r))
                ops = ChebyshevOperators(real, params)
                widths.append(ops.scaled().scale.half_width)
                try:
                    plan = plan_chebyshev(real, np.asarray(probe.frequencies),
                                          np.asarray(probe.temperatures),
                                          Broadening(kind="gaussian", width=KERNEL_WIDTH), params)
                except (ValueError, MemoryError) as exc:  # too many moments or too much memory
                    refused.append({"realisation": r, "reason": f"{type(exc).__name__}: {exc}"})
                    continue
                moments.append(max(rung.n_moments for rung in plan.rungs))
                seconds.append(plan.seconds)
                work.append(sum(rung.n_moments**2 for rung in plan.rungs))
            accepted = bool(seconds)  # else every realisation refused: no means (null)
            rec = {"n_tls": n, "min_distance": model.coupling.min_distance,
                   "half_width_K": widths, "refused": refused, "max_moments": moments,
                   "planned_seconds": seconds, "contraction_work": work,
                   "mean_contraction_work": float(np.mean(work)) if accepted else None,
                   "mean_planned_seconds": float(np.mean(seconds)) if accepted else None,
                   "max_planned_seconds": float(np.max(seconds)) if accepted else None}
            records.append(rec)
            print(n, rec["min_distance"], round(float(np.median(widths)), 2),
                  round(float(np.max(widths)), 2), int(np.max(moments)) if accepted else None,
                  round(rec["mean_planned_seconds"], 1) if accepted else None, len(refused),
                  flush=True)
    for rec in records:
        base = next(r for r in records if r["n_tls"] == rec["n_tls"] and r["min_distance"] == 0)
        for key, mean in (("mean_cost_over_no_hard_core", "mean_planned_seconds"),
                          ("mean_work_over_no_hard_core", "mean_contraction_work")):
            rec[key] = (rec[mean] / base[mean] if rec[mean] is not None
                        and base[mean] is not None else None)
    out["cost"] = {"realisations": args.cost_realisations, "records": records,
                   "note": "planned seconds: the plan's own estimate (matrix-free, 4 vectors, "
                           "float32, from a timed product), not a timing of the solve; "
                           "contraction work: sum over rungs of moments^2 (x D is the GEMM); means over the "
                           "realisations the plan accepts (refused ones listed with the reason)"}


def main(argv: list[str] | None = None) -> int:
    from manybody.runs.spec import MAX_REALISATIONS
    from manybody.runs.sweep import available_cores
    from manybody.support import validate as v

    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("parts", nargs="*", help="physics and/or cost (default: both)")
    parser.add_argument("--min-distances", type=v.cli_real(0.0), nargs="+", default=MIN_DISTANCES,
                        help="coupling.min_distance values (r0, >= 0, distinct), the first 0")
    parser.add_argument("--n-physics", type=SIZE, default=10,
                        help="number of TLS N of the physics part (default: %(default)s)")
    parser.add_argument("--realisations", type=v.cli_integer(2, MAX_REALISATIONS), default=400,
                        help="realisations of the physics part (>= 2: paired bootstrap)")
    parser.add_argument("--bootstrap", type=v.cli_bootstrap(None), default=200,
                        help=f"bootstrap resamples (>= {v.MIN_BOOTSTRAP})")
    parser.add_argument("--cost-sizes", type=SIZE, nargs="+", default=[14, 16],
                        help="numbers of TLS N of the cost part (default: %(default)s)")
    parser.add_argument("--cost-realisations", type=v.cli_integer(1, MAX_REALISATIONS), default=12,
                        help="realisations per size of the cost part (default: %(default)s)")
    parser.add_argument("--jobs", type=v.cli_integer(1, available_cores()), default=2,
                        help="worker processes (at most the cores available)")
    parser.add_argument("--out", default=str(OUT),
                        help="JSON file of results (default: results/bench/min_distance.json)")
    parser.add_argument("--spec", type=v.cli_path, default=str(SPEC),
                        help="the run spec swept over min_distance (Gaussian kernel of "
                        f"{KERNEL_WIDTH} K; default: results/finite_size_n12/spec.toml)")
    add_overwrite_option(parser, entries=True)
    args = parser.parse_args(argv)
    checked_input_spec(parser, "--spec", args.spec, kernel_width=KERNEL_WIDTH)
    if getattr(args, "out", None) is not None:  # before any work (session 31)
        checked_output_option(parser, "--out", args.out)
    v.cli_refuse_repeats(parser, args, "cost_sizes")
    unknown = sorted(set(args.parts) - {"physics", "cost"})
    if unknown:
        parser.error(f"parts must be 'physics' and/or 'cost', got {unknown}")
    if args.min_distances[0] != 0.0:
        parser.error("--min-distances must start with 0 (the reference without a hard core)")
    if len(set(args.min_distances)) != len(args.min_distances):
        parser.error(f"--min-distances must not repeat a value, got {args.min_distances}")
    parts = args.parts or ["physics", "cost"]
    refuse_replaced_records(parser, "--out", args.out, [("min_distance", part) for part in parts],
                            overwrite=args.overwrite,  # with both parts asked for, another file
                            other="--out" if len(set(parts)) == 2 else "part (physics, cost)")
    path = Path(args.out)
    data = _load(path)
    out = data.setdefault("min_distance", {})
    out["metadata"] = _metadata()
    spec = Path(args.spec).resolve()
    out["model"] = {"spec": str(spec.relative_to(ROOT)) if spec.is_relative_to(ROOT) else str(spec),
                    "min_distances_r0": args.min_distances}
    for part in args.parts or ["physics", "cost"]:
        try:
            (physics if part == "physics" else cost)(args, out)
        except (ValueError, MemoryError) as exc:  # a refusal known only at run time
            print(f"{Path(__file__).name}: error: {part}: {type(exc).__name__}: "
                  f"{' '.join(str(exc).split())}", file=sys.stderr)
            return 1
        _save(path, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
