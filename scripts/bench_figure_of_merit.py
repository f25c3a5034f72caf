"""The study's figure of merit (issue 20): CPU-hours to reach a TLS-index error of 0.1.

The headline finite-size point (the study's finite-size model, ``manybody/study/specs/
finite_size.toml``: dipolar couplings J0 = 0.01 K, glass-like chi = P J0 ~ 0.006; with the probe of
its extension to N = 12, ``results/finite_size_n12/spec.toml``: w = 0.1 K, 25 temperatures from
x = w/T = 0.2 to 10, Gaussian kernel eta = 0.02 K, absorption, velocity shift and specific heat) at
N = 12, 14 and 16, run as a user runs it (``run_sweep``, ``--jobs`` workers with one BLAS/numba
thread each).

For each (N, solver) this records the wall time, the CPU-seconds per realisation (wall x jobs /
realisations, start-up included), the TLS index a and its bootstrap error (the study's
``analyse_shape`` with the kernel-averaged laws), and from them

    realisations needed = n (error / 0.1)^2,   CPU-hours = realisations needed x CPU-s / 3600

(the error falls as n^-1/2). With the Chebyshev solver the error includes the typicality noise of
its random vectors; ``typicality_share`` is the part of the variance of Q between realisations that
the solver's own error bars account for (mean over temperatures at w).

A realisation that needs more than ``--max-moments`` moments (a close dipolar pair) stops the sweep;
the size is then recorded with the error. "Before" is the path that was used for each N before
issue 20: dense ED at N = 12 (what
``solver = "auto"`` picks; timed here on ``--before-realisations``, its index error from the
recorded run of the same model, seed and realisations in results/finite_size_n12, whose own cost
is kept as ``before_recorded``) and the sparse Chebyshev operators at N = 14 and 16, timed side by
side with the matrix-free ones on the same first ``--before-realisations`` realisations (the cost
varies strongly between realisations), whose ratio scales the full run's cost. The sparse and
matrix-free paths give the same Q (results/bench/matrix_free.json: within 3e-9 of the error bars;
checked again here on the realisations both computed), so they need the same number of
realisations and differ only in cost.

A close dipolar pair stops most N = 16 realisations of the model as it is; ``--min-distance 0.2``
gives the couplings a hard core of 0.2 r0, which leaves the index unchanged (Delta a = 0.002 +-
0.002, paired, dense ED at N = 10: results/bench/min_distance.json) and makes every N = 16
realisation solvable; the before/after pair is then the sparse and matrix-free operators as at
N = 14.

Results: results/bench/figure_of_merit.json, rewritten after every measurement.

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python scripts/bench_figure_of_merit.py \\
        --sizes 12 14 16 --realisations 120 60 24
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_chebyshev import SIZE, VECTORS, Refused, _load, _metadata, _save  # noqa: E402

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.runs.results import (
    add_overwrite_option,
    checked_input_spec,
    checked_output_option,
    refuse_replaced_records,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "bench" / "figure_of_merit.json"
RECORDED_N12 = ROOT / "results" / "finite_size_n12"
SPEC = RECORDED_N12 / "spec.toml"
TARGET_ERROR = 0.1
KERNEL_WIDTH = 0.02  # K, the kernel of SPEC (checked in spec_for)
#: The Chebyshev options of the benchmark (issue 9's: 4 random vectors in float32); --vectors and
#: --dtype change them (e.g. to see whether a bias against dense ED falls with more vectors).
CHEBYSHEV = {"n_vectors": 4, "dtype": "float32"}


def spec_for(n_tls: int, realisations: int, solver: dict, min_distance: float = 0.0,
             base: Path | str = SPEC):
    """The recorded N = 12 spec (or the spec file ``base``, --spec) at N TLS with the given
    realisations and solver table (and a hard core ``model.coupling.min_distance`` in r0 when
    > 0). ``main`` has checked ``base`` (:func:`checked_input_spec`)."""
    import tomllib

    from manybody.runs.spec import RunSpec

    table = tomllib.loads(Path(base).read_text())
    if table["probe"]["broadening"] != {"kind": "gaussian", "width": KERNEL_WIDTH}:
        raise ValueError(f"{base}: expected a Gaussian kernel of width {KERNEL_WIDTH} K")
    table["name"] = f"figure_of_merit_n{n_tls}"
    table["realisations"] = realisations
    table["model"]["n_tls"] = n_tls
    table["probe"]["observables"] = [o for o in table["probe"]["observables"]
                                     if o != "spacing_ratio"]
    table["solver"] = solver
    if min_distance > 0:
        table["model"]["coupling"]["min_distance"] = min_distance
    return RunSpec.from_dict(table)


def paired_index_difference(*args, **kwargs):
    from manybody.laws.analysis import paired_index_difference as paired

    return paired(*args, **kwargs)


def index_of(ds) -> tuple[float, float, np.ndarray]:
    """(a, its bootstrap error, Q at w per realisation) of a results Dataset."""
    from manybody.laws.analysis import analyse_shape

    w = float(ds["frequency"].values[0])
    q = ds["absorption"].isel(frequency=0).values  # (realisation, temperature)
    x = w / ds["temperature"].values
    shape = analyse_shape(x, q, smearing=KERNEL_WIDTH / w)
    return float(shape.index), float(shape.index_error), q


def typicality_share(ds) -> float | None:
    """Mean over temperatures (at w) of the solver's own variance of Q over the total variance of Q
    between realisations (None for exact solvers)."""
    if "absorption_error" not in ds:
        return None
    q = ds["absorption"].isel(frequency=0).values
    err = ds["absorption_error"].isel(frequency=0).values
    total = q.var(axis=0, ddof=1)
    return float(np.mean(np.mean(err**2, axis=0) / np.where(total > 0, total, np.inf)))


def measure(n_tls: int, realisations: int, solver: dict, jobs: int,
            min_distance: float = 0.0, base: Path | str = SPEC) -> tuple[dict, object]:
    from manybody.runs.sweep import run_sweep

    spec = spec_for(n_tls, realisations, solver, min_distance, base)
    start = time.perf_counter()
    ds = run_sweep(spec, n_jobs=jobs, blas_threads=1)
    wall = time.perf_counter() - start
    cpu = wall * jobs / realisations
    rec = {"n_tls": n_tls, "solver": solver, "route": json.loads(ds.attrs["solver_routes"])[0],
           "realisations": realisations, "jobs": jobs, "wall_seconds": wall,
           "cpu_seconds_per_realisation": cpu}
    return rec, ds


def add_merit(rec: dict, index: float, error: float, cpu: float) -> dict:
    needed = rec["realisations_measured_for_error"] * (error / TARGET_ERROR) ** 2
    rec.update(index=index, index_error=error, realisations_needed=needed,
               cpu_hours_to_target=needed * cpu / 3600)
    return rec


def recorded_dense_n12() -> dict | None:
    """The recorded dense ED run at N = 12 (same model, seed, realisations 0..299)."""
    path = RECORDED_N12 / "finite_size_n12.nc"
    if not path.exists() or not (RECORDED_N12 / "summary.json").exists():
        return None
    import xarray as xr

    with xr.open_dataset(path) as ds:
        ds = ds.load()
    summary = json.loads((RECORDED_N12 / "summary.json").read_text())
    row = summary[0] if isinstance(summary, list) else summary
    wall = float(ds.attrs["wall_time_s"])
    jobs = int(ds.attrs["n_jobs"]) * int(ds.attrs["blas_threads"])
    n = int(ds.sizes["realisation"])
    rec = {"n_tls": 12, "solver": {"method": "dense", "dtype": "float64"}, "route":
           "dense, float64 (recorded: results/finite_size_n12)", "realisations": n,
           "jobs": jobs, "wall_seconds": wall, "cpu_seconds_per_realisation": wall * jobs / n,
           "realisations_measured_for_error": n}
    return add_merit(rec, float(row["index"]), float(row["index_error"]),
                     rec["cpu_seconds_per_realisation"]), ds


def run(args) -> dict:
    """Every size of ``args``; the file is written once a size has a result (with the sizes
    refused before it), never by a run in which every size was refused (:class:`Refused`)."""
    data = _load(Path(args.out))
    shared = _shared_settings(args)
    chebyshev = shared["chebyshev"]
    out = {"metadata": _metadata(), "target_index_error": TARGET_ERROR,
           "kernel_width_K": KERNEL_WIDTH, **shared,
           "sizes": data.get(args.label, {}).get("sizes", {}), "finished": False}
    previous = data.get(args.label, {})
    for entry in out["sizes"].values():  # sizes not rerun keep the metadata of their own run
        entry.setdefault("metadata", previous.get("metadata"))
    data[args.label] = out
    measured, refusals = False, []
    for n_tls, realisations in zip(args.sizes, args.realisations, strict=True):
        entry: dict = {"metadata": out["metadata"]}
        out["sizes"][str(n_tls)] = entry
        try:
            after, ds = measure(n_tls, realisations, {"method": "chebyshev", "chebyshev": {
                **chebyshev, "operator": "matrix_free", "max_moments": args.max_moments}},
                args.jobs, args.min_distance, args.spec)
        except (ValueError, MemoryError) as exc:  # e.g. a close pair needing too many moments
            entry["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            refusals.append(f"N={n_tls}: {entry['error']}")
            if measured:
                _save(Path(args.out), data)
            print(n_tls, entry["error"], flush=True)
            continue
        measured = True
        index, error, q_after = index_of(ds)
        after["realisations_measured_for_error"] = realisations
        after["typicality_share"] = typicality_share(ds)
        entry["after"] = add_merit(after, index, error, after["cpu_seconds_per_realisation"])
        _save(Path(args.out), data)
        # the recorded run has no hard core and is of the default spec
        if n_tls == 12 and args.min_distance == 0 and Path(args.spec).resolve() == SPEC.resolve():
            recorded = recorded_dense_n12()
            if recorded is not None:
                before_recorded, dense = recorded
                entry["before_recorded"] = before_recorded
                # dense ED's cost timed in this run; its error from the recorded 300 realisations
                before, _ = measure(n_tls, args.before_realisations,
                                    {"method": "dense", "dtype": "float64"}, args.jobs)
                before["realisations_measured_for_error"] = before_recorded["realisations"]
                entry["before"] = add_merit(before, before_recorded["index"],
                                            before_recorded["index_error"],
                                            before["cpu_seconds_per_realisation"])
                q_dense = dense["absorption"].isel(frequency=0).values[:realisations]
                # same disorder (seed, realisation index): Chebyshev against exact, per realisation
                err = ds["absorption_error"].isel(frequency=0).values
                z = (q_after - q_dense) / np.where(err > 0, err, np.inf)
                diff = q_after - q_dense
                mean_z = diff.mean(0) / (diff.std(0, ddof=1) / np.sqrt(diff.shape[0]))
                w = float(ds["frequency"].values[0])
                paired = paired_index_difference(w / ds["temperature"].values, q_dense, q_after,
                                                 smearing=KERNEL_WIDTH / w)
                entry["paired_check_against_dense"] = {
                    "per_realisation_rms_z": float(np.sqrt(np.mean(z**2))),
                    "per_realisation_fraction_within_2_sigma": float(np.mean(np.abs(z) <= 2)),
                    "mean_q_relative_difference": float(np.mean(diff) / np.mean(q_dense)),
                    "mean_difference_over_its_error_by_temperature": mean_z.tolist(),
                    "mean_difference_relative_by_temperature": (
                        diff.mean(0) / q_dense.mean(0)).tolist(),
                    "temperatures_K": ds["temperature"].values.tolist(),
                    "index_dense_same_realisations": paired.index_reference,
                    "index_change_chebyshev_minus_dense": paired.difference,
                    "index_change_error_paired": paired.error,
                    "index_change_error_unpaired": paired.error_unpaired}
        else:
            # the cost varies strongly between realisations (close pairs set the moments), so
            # the two operators are timed side by side on the same first k realisations and
            # their ratio scales the mean cost of the full run
            k = args.before_realisations
            same = {op: measure(n_tls, k, {"method": "chebyshev", "chebyshev": {
                **chebyshev, "operator": op, "max_moments": args.max_moments}}, args.jobs,
                args.min_distance, args.spec) for op in ("sparse", "matrix_free")}
            before, ds_before = same["sparse"]
            ratio = (before["cpu_seconds_per_realisation"]
                     / same["matrix_free"][0]["cpu_seconds_per_realisation"])
            q_before = ds_before["absorption"].isel(frequency=0).values
            err = ds_before["absorption_error"].isel(frequency=0).values
            before["max_q_difference_over_error"] = float(np.max(
                np.abs(q_before - q_after[:k]) / err))
            before["matrix_free_same_realisations"] = same["matrix_free"][0]
            before["sparse_over_matrix_free_same_realisations"] = ratio
            before["cpu_seconds_per_realisation_measured"] = before["cpu_seconds_per_realisation"]
            before["cpu_seconds_per_realisation"] = ratio * after["cpu_seconds_per_realisation"]
            # the same Q: the error after n realisations is the matrix-free one
            before["realisations_measured_for_error"] = realisations
            entry["before"] = add_merit(before, index, error,
                                        before["cpu_seconds_per_realisation"])
        if "before" not in entry:  # no recorded dense run to compare with
            continue
        entry["cpu_hours_before_over_after"] = (entry["before"]["cpu_hours_to_target"]
                                                / entry["after"]["cpu_hours_to_target"])
        _save(Path(args.out), data)
        print(n_tls, json.dumps({k: (round(v["cpu_seconds_per_realisation"], 2),
                                     round(v["index"], 3), round(v["index_error"], 3),
                                     round(v["cpu_hours_to_target"], 3))
                                 for k, v in entry.items() if isinstance(v, dict)
                                 and "index" in v}),
              round(entry["cpu_hours_before_over_after"], 2), flush=True)
    if not measured:
        raise Refused(f"every size was refused, nothing written: {'; '.join(refusals)}")
    out["finished"] = True
    _save(Path(args.out), data)
    return data


def _refuse_unanalysable_spec(parser: argparse.ArgumentParser, table: dict, path) -> None:
    """parser.error (one line, exit 2, before any work) for a --spec this script cannot analyse:
    observables without "absorption" (a KeyError traceback after the run), other than one
    frequency (only the first was analysed, silently), or temperatures whose x = w/T do not span
    [0.5, 2] (the shape index's "x must span [0.5, 2]" after the run; a break test, session 53)."""
    probe = table["probe"]
    observables = probe.get("observables")
    if observables is not None and "absorption" not in observables:
        parser.error(f"--spec {str(path)!r}: [probe] observables {observables!r} lack "
                     "\"absorption\", which this script measures")
    frequencies = probe.get("frequencies")
    if not isinstance(frequencies, list) or len(frequencies) != 1:
        parser.error(f"--spec {str(path)!r}: [probe] frequencies = {frequencies!r}; this script "
                     "analyses one frequency: give exactly one")
    temperatures = probe.get("temperatures")
    try:
        if isinstance(temperatures, dict):  # a grid in x = w/T: { x_min, x_max, count }
            x = [float(temperatures["x_min"]), float(temperatures["x_max"])]
        else:
            x = [float(frequencies[0]) / float(t) for t in temperatures]
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return  # the run spec's own check names it
    if not (min(x, default=1.0) <= 0.5 and max(x, default=1.0) >= 2.0):
        parser.error(f"--spec {str(path)!r}: [probe] temperatures {temperatures!r} give x = w/T "
                     f"from {min(x):.3g} to {max(x):.3g}; the shape index needs them to span "
                     "[0.5, 2]: temperatures from 2 w down to w/2 or wider")


def _spec_name(path: Path | str) -> str:
    """The spec file as a record names it: relative to the repository when inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _shared_settings(args) -> dict:
    """The settings a label's record holds once for all its sizes (as :func:`run` writes them)."""
    return {"chebyshev": {**CHEBYSHEV, "n_vectors": args.vectors, "dtype": args.dtype},
            "jobs": args.jobs, "min_distance_r0": args.min_distance,
            "spec": _spec_name(getattr(args, "spec", SPEC)),  # --spec (session 53)
            "threads": {k: os.environ.get(k, "all") for k in ("OMP_NUM_THREADS",
                                                              "NUMBA_NUM_THREADS")}}


def _refuse_other_settings(parser: argparse.ArgumentParser, args) -> None:
    """Sizes added to an existing label must be measured as its others were: the label holds
    one set of settings, and the new run's replaced them, so the committed sizes read as
    measured with the new vectors, dtype and hard core (a tester, session 38)."""
    if args.overwrite:
        return
    try:
        previous = json.loads(Path(args.out).read_text()).get(args.label)
    except (OSError, ValueError, AttributeError):
        return
    if not isinstance(previous, dict) or not previous.get("sizes"):
        return
    planned = json.loads(json.dumps(_shared_settings(args)))  # as JSON stores them
    # records before the options had no hard core and the recorded spec
    before = {"min_distance_r0": 0.0, "spec": _spec_name(SPEC), **previous}
    differ = [f"{key} {before.get(key)!r} -> {value!r}" for key, value in planned.items()
              if key in before and before[key] != value]
    if differ:
        parser.error(f"--label {args.label!r} in {args.out} holds sizes measured with other "
                     f"settings ({'; '.join(differ)}); give another --label (or --overwrite to "
                     "replace them)")


def main(argv: list[str] | None = None) -> int:
    from manybody.runs.spec import MAX_REALISATIONS
    from manybody.runs.sweep import available_cores
    from manybody.support import validate as v

    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=SIZE, nargs="+", default=[12, 14, 16],
                        help="numbers of TLS N (default: %(default)s)")
    parser.add_argument("--realisations", type=v.cli_integer(2, MAX_REALISATIONS), nargs="+",
                        default=[120, 60, 24],
                        help="realisations per size for the index error (same order as --sizes; "
                        ">= 2: the error is their bootstrap)")
    parser.add_argument("--before-realisations", type=v.cli_integer(1, MAX_REALISATIONS),
                        default=2, help="realisations timed with the sparse operators (N >= 14; "
                        "at most the --realisations of the size)")
    parser.add_argument("--jobs", type=v.cli_integer(1, available_cores()), default=2,
                        help="worker processes (at most the cores available)")
    parser.add_argument("--vectors", type=VECTORS, default=CHEBYSHEV["n_vectors"],
                        help="chebyshev.n_vectors (default 4)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default=CHEBYSHEV["dtype"],
                        help="chebyshev.dtype (default float32)")
    parser.add_argument("--max-moments", type=v.cli_integer(8, 1 << 16), default=4096,
                        help="chebyshev.max_moments (the solver's default 4096)")
    parser.add_argument("--min-distance", type=v.cli_real(0.0), default=0.0,
                        help="model.coupling.min_distance (r0): a hard core for the close "
                        "dipolar pairs that stop N >= 16 (0.2 leaves the index unchanged: "
                        "results/bench/min_distance.json)")
    parser.add_argument("--label", type=v.cli_label, default="figure_of_merit",
                        help="key of this run in the JSON file (default: %(default)s)")
    parser.add_argument("--out", default=str(OUT),
                        help="JSON file of results (default: results/bench/figure_of_merit.json)")
    parser.add_argument("--spec", type=v.cli_path, default=str(SPEC),
                        help="the run spec measured at each size (Gaussian kernel of "
                        f"{KERNEL_WIDTH} K; default: results/finite_size_n12/spec.toml)")
    add_overwrite_option(parser, entries=True)
    args = parser.parse_args(argv)
    _refuse_unanalysable_spec(parser, checked_input_spec(parser, "--spec", args.spec,
                                                         kernel_width=KERNEL_WIDTH), args.spec)
    if getattr(args, "out", None) is not None:  # before any work (session 31)
        checked_output_option(parser, "--out", args.out)
        refuse_replaced_records(parser, "--out", args.out,
                                [(args.label, "sizes", str(n)) for n in args.sizes],
                                overwrite=args.overwrite)
    v.cli_refuse_repeats(parser, args, "sizes")
    if len(args.sizes) != len(args.realisations):
        parser.error(f"--realisations needs one count per size ({len(args.sizes)}), got "
                     f"{len(args.realisations)}")
    # the sparse operators are timed on the first k of the size's realisations (not at the
    # recorded N = 12 point, where dense ED is timed instead)
    short = [(n, r) for n, r in zip(args.sizes, args.realisations, strict=True)
             if (n != 12 or args.min_distance > 0) and r < args.before_realisations]
    if short:
        parser.error(f"--before-realisations {args.before_realisations} exceeds the --realisations "
                     f"of N = {short[0][0]} ({short[0][1]}): the sparse operators are timed on "
                     "that size's first realisations")
    _refuse_other_settings(parser, args)
    try:
        run(args)
    except (ValueError, MemoryError, Refused) as exc:  # a refusal known only at run time
        what = " ".join(str(exc).split())
        what = what if isinstance(exc, Refused) else f"{type(exc).__name__}: {what}"
        print(f"{Path(__file__).name}: error: {what}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
