"""Cross-check of the study's key number between two solvers: the TLS index from dense ED and from
the Chebyshev (KPM + typicality) solver, on the same disorder realisations.

The finite-size spec of the built-in study (dipolar J0 = 0.01 K, w = 0.1 K, 25 temperatures with
x = w/T from 0.2 to 10) is run at one N with ``solver.method = "chebyshev"`` and with dense ED;
both are fitted exactly as in the study (kernel-averaged family law, bootstrap over realisations).
The Chebyshev run's random-vector noise adds to the disorder spread, so its error is larger; a
bias of the stochastic trace (with few vectors, at small dimension) would show as a difference
beyond the paired error (a bootstrap that resamples the same realisations for both solvers, so the
disorder spread they share cancels), and in the mean Q^-1 against the solver's reported errors.
Results go to ``results/bench/chebyshev_index.json``.

Usage::

    python scripts/crosscheck_index.py [--n-tls 10] [--realisations 160] [--vectors 8] [--jobs 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.config.model import MAX_TLS
from manybody.laws.analysis import analyse_shape
from manybody.runs.results import add_overwrite_option, checked_output_option
from manybody.runs.spec import MAX_REALISATIONS, RunSpec
from manybody.runs.sweep import available_cores, run_sweep
from manybody.study.specs import load_study_spec
from manybody.study.summary import kernel_smearing
from manybody.support import jsonio
from manybody.support import validate as v

ROOT = Path(__file__).resolve().parents[1]


def spec_for(n_tls: int, realisations: int, solver: dict, probe: str = "reference") -> RunSpec:
    """The study's finite-size spec at a single N, with the given solver options.

    ``probe``: "reference", the reference frequency w only with its kernel as an absolute width
    (0.2 w: the same kernel at w); "study", the spec's own probe (w, w/2 and 2w with the relative
    kernel 0.2 w, the narrowest at w/2 setting the Chebyshev moments), as the --full study runs
    it. The index is fitted at w either way.
    """
    data = load_study_spec("finite_size").to_dict()
    data.update(realisations=realisations, sweep={}, solver=solver)
    data["model"]["n_tls"] = n_tls
    data["probe"]["observables"] = ["absorption", "specific_heat"]
    if probe == "reference":
        spec = load_study_spec("finite_size")
        w = spec.probe.frequencies[0]
        data["probe"]["frequencies"] = [w]
        data["probe"]["broadening"] = {"kind": spec.probe.broadening.kind,
                                       "width": spec.probe.broadening.at(w).width}
    elif probe != "study":
        raise ValueError(f"probe must be 'reference' or 'study', got {probe!r}")
    data["name"] = f"crosscheck-{solver['method']}"
    return RunSpec.from_dict(data)


def measure(spec: RunSpec, jobs: int) -> tuple[dict, np.ndarray, np.ndarray]:
    """Run ``spec`` and fit the TLS index as the study does.

    Returns the summary, Q^-1 per realisation (n_r, n_T) and its reported error (zeros for dense).
    """
    start = time.perf_counter()
    ds = run_sweep(spec, n_jobs=jobs)
    wall = time.perf_counter() - start
    x = spec.probe.frequencies[0] / ds["temperature"].values
    q = ds["absorption"].isel(frequency=0).values
    error = (ds["absorption_error"].isel(frequency=0).values if "absorption_error" in ds
             else np.zeros_like(q))
    shape = analyse_shape(x, q, smearing=kernel_smearing(spec))
    heat = ds["specific_heat"].values.mean(axis=0)
    summary = {"index": shape.index, "index_error": shape.index_error, "ratio": shape.ratio,
               "ratio_error": shape.ratio_error, "verdict": shape.verdict, "wall_s": wall,
               "mean_absorption": q.mean(axis=0).tolist(), "mean_specific_heat": heat.tolist()}
    return summary, q, error


def paired_index_difference(x, q_a, q_b, smearing, n_bootstrap: int = 200) -> tuple[float, float]:
    """a(q_b) - a(q_a) and its bootstrap error, resampling the *same* realisations for both, so
    the disorder spread they share cancels and only the solvers' difference remains."""
    from manybody.laws.fit import fit_law

    def index(q):
        m = q.mean(axis=0)
        s = np.maximum(q.std(axis=0, ddof=1) / math.sqrt(q.shape[0]), 1e-30)
        return fit_law(x, m, s, "family", smearing=smearing).parameters["index"]

    rng = np.random.default_rng(0)
    diffs = []
    while len(diffs) < n_bootstrap:
        pick = rng.integers(0, q_a.shape[0], q_a.shape[0])
        if np.unique(pick).size < 2:  # one realisation drawn every time: no spread to fit with
            continue
        diffs.append(index(q_b[pick]) - index(q_a[pick]))
    return index(q_b) - index(q_a), float(np.std(diffs, ddof=1))


def main(argv: list[str] | None = None) -> int:
    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-tls", type=v.cli_integer(2, MAX_TLS), default=10,
                        help="number of TLS N (default: %(default)s)")
    parser.add_argument("--realisations", type=v.cli_integer(5, MAX_REALISATIONS), default=160,
                        help="disorder realisations (>= 5: the paired bootstrap resamples them, "
                             "and with fewer it has almost no distinct resamples)")
    parser.add_argument("--vectors", type=v.cli_integer(2, 1_000_000), default=8,
                        help="random vectors per realisation (>= 2: their spread is the error)")
    parser.add_argument("--jobs", type=v.cli_integer(1, available_cores()), default=2,
                        help="worker processes (at most the cores available)")
    parser.add_argument("--probe", choices=("reference", "study"), default="reference",
                        help="w only with an absolute kernel (default), or the spec's three "
                             "frequencies with the relative kernel")
    parser.add_argument("--output", default=ROOT / "results" / "bench" / "chebyshev_index.json",
                        help="JSON file of results (default: results/bench/chebyshev_index.json)")
    add_overwrite_option(parser)
    args = parser.parse_args(argv)
    if getattr(args, "output", None) is not None:  # before any work (session 31)
        args.output = checked_output_option(parser, "--output", args.output, replaces=True,
                                            overwrite=args.overwrite)
    try:  # a refusal known only at run time (memory, moments): one line; nothing is written
        return crosscheck(args)
    except (ValueError, MemoryError) as exc:
        print(f"{Path(__file__).name}: error: {type(exc).__name__}: "
              f"{' '.join(str(exc).split())}", file=sys.stderr)
        return 1


def crosscheck(args: argparse.Namespace) -> int:
    dense_spec = spec_for(args.n_tls, args.realisations, {"method": "dense"}, args.probe)
    dense, q_dense, _ = measure(dense_spec, args.jobs)
    cheb_spec = spec_for(args.n_tls, args.realisations,
                         {"method": "chebyshev",
                          "chebyshev": {"n_vectors": args.vectors, "max_moments": 16384}},
                         args.probe)
    cheb, q_cheb, q_cheb_error = measure(cheb_spec, args.jobs)
    x = cheb_spec.probe.frequencies[0] / np.asarray(cheb_spec.probe.temperatures)
    difference, combined = paired_index_difference(x, q_dense, q_cheb, kernel_smearing(cheb_spec))
    # mean Q^-1 per temperature: difference in units of the vectors' reported error of the mean
    z = ((q_cheb - q_dense).mean(axis=0)
         / (np.sqrt((q_cheb_error**2).sum(axis=0)) / q_cheb.shape[0]))
    record = {
        "what": "TLS index of the study's finite-size model from dense ED and the Chebyshev solver "
                "on the same realisations (same seed), fitted as in the study",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(), "python": platform.python_version(),
        "n_tls": args.n_tls, "realisations": args.realisations, "vectors": args.vectors,
        "probe": args.probe, "frequencies_K": list(cheb_spec.probe.frequencies),
        "broadening": cheb_spec.to_dict()["probe"]["broadening"],
        "temperatures_K": list(cheb_spec.probe.temperatures),
        "dense": dense, "chebyshev": cheb,
        "difference": difference, "paired_bootstrap_error": combined,
        "difference_in_sigma": difference / combined if combined > 0 else float("nan"),
        "mean_absorption_z": z.tolist(),
        "mean_absorption_rms_z": float(np.sqrt(np.mean(z**2))),
        "cost_ratio_chebyshev_over_dense": cheb["wall_s"] / dense["wall_s"],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(jsonio.dumps(record, indent=1) + "\n")
    print(f"N = {args.n_tls}, {args.realisations} realisations, {args.vectors} vectors: "
          f"a(dense) = {dense['index']:.3f} +- {dense['index_error']:.3f}, "
          f"a(chebyshev) = {cheb['index']:.3f} +- {cheb['index_error']:.3f}, "
          f"paired difference {difference:+.3f} +- {combined:.3f} "
          f"({record['difference_in_sigma']:+.2f} sigma); "
          f"wall {dense['wall_s']:.0f} s vs {cheb['wall_s']:.0f} s")
    rel = np.abs(np.array(cheb["mean_absorption"]) / np.array(dense["mean_absorption"]) - 1)
    print(f"mean Q^-1: largest relative difference {rel.max():.3f} (at x = {x[int(rel.argmax())]:.2f}); "
          f"difference / reported error: rms z = {record['mean_absorption_rms_z']:.2f}, "
          f"max |z| = {np.abs(z).max():.2f}")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
