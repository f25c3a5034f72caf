"""The ratio-estimator bias of the Chebyshev solver with few random vectors, and whether the
jackknife bias correction removes it (issue 20's figure of merit; session 17).

Q^-1 = sum_i N_i / sum_i Z_i over n random vectors is biased at O(1/n) (Quenouille). The jackknife
correction n Q - (n - 1) mean_i Q_(-i) (the leave-one-out ratios the solver already forms for its
error bars) removes that order. This script solves the same realisations three ways: dense ED, the
Chebyshev solver as it is ("plain"), and the Chebyshev solver with the corrected ratio ("corrected",
the same random vectors: the ratio is swapped in ``solver.jackknife_ratio`` for the run, which
changes nothing else), and reports per temperature the mean deviation from dense ED over the
realisations (relative, and over its standard error), the rms of the per-realisation deviation
over the reported error, the spread of the deviation, and the TLS index of each with its paired
difference from dense ED (the study's fit, ``crosscheck_index.paired_index_difference``).

The model is the study's finite-size model (dipolar J0 = 0.01 K, w = 0.1 K, 25 temperatures from
x = w/T = 0.2 to 12.8, kernel 0.02 K) with a hard core of 0.2 r0 (README: leaves the index unchanged
and keeps every realisation solvable).

    python scripts/ratio_bias_check.py --n-tls 10 --realisations 400 --vectors 4 --label n10
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_chebyshev import SIZE, VECTORS, _load, _metadata, _save  # noqa: E402

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.runs.results import add_overwrite_option, checked_output_option, refuse_replaced_records

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "bench" / "ratio_bias.json"


def corrected_ratio(plain):
    """``solver.jackknife_ratio`` with the value replaced by its jackknife bias correction."""
    def ratio(num, den, exact=False):
        full, err = plain(num, den, exact)
        count = num.shape[0]
        if exact or count < 2:
            return full, err
        extra = (Ellipsis,) + (None,) * (num.ndim - den.ndim)
        loo = (num.sum(0)[None] - num) / (den.sum(0)[None] - den)[extra]
        return count * full - (count - 1) * loo.mean(0), err
    return ratio


def solve_realisations(n_tls: int, realisations: int, vectors: int, first: int = 0) -> dict:
    """Dense, plain and corrected Q^-1 at w for each realisation (lists of n_T values)."""
    from manybody.config.solver import ChebyshevParams
    from manybody.simulation.ensembles import (
        absorption_normalisation,
        draw_realisation,
        realisation_rng,
    )
    from manybody.simulation.observables.absorption import pair_spectrum
    from manybody.simulation.solvers.chebyshev import solver as cheb
    from manybody.simulation.solvers.dense import solve
    from manybody.study.specs import load_study_spec

    spec = load_study_spec("finite_size")
    model = replace(spec.model, n_tls=n_tls)
    model = replace(model, coupling=replace(model.coupling, min_distance=0.2))
    w = np.array(spec.probe.frequencies[:1])
    kernel = spec.probe.broadening.at(w[0])
    t = np.asarray(spec.probe.temperatures)
    norm = absorption_normalisation(model)
    rows: dict = {"dense": [], "plain": [], "corrected": [], "error": [], "skipped": 0}
    plain_ratio = cheb.jackknife_ratio
    start = time.perf_counter()
    for i in range(first, first + realisations):
        real = draw_realisation(model, realisation_rng(spec.seed, i))
        params = ChebyshevParams(n_vectors=vectors)
        out = {}
        try:
            for name, ratio in (("plain", plain_ratio), ("corrected", corrected_ratio(plain_ratio))):
                cheb.jackknife_ratio = ratio
                out[name] = cheb.chebyshev_absorption(real, w, t, kernel, params, norm,
                                                      seed=np.random.SeedSequence([7, i]))
        except ValueError as error:  # a realisation the solver refuses (counted)
            rows["skipped"] += 1
            print(f"realisation {i} skipped: {error}", file=sys.stderr)
            continue
        finally:
            cheb.jackknife_ratio = plain_ratio
        spectrum, elements = solve(real)
        q = norm * pair_spectrum(spectrum, elements, w, kernel).absorption(w, t)
        rows["dense"].append(np.asarray(q)[:, 0].tolist())
        rows["plain"].append(out["plain"].absorption[:, 0].tolist())
        rows["corrected"].append(out["corrected"].absorption[:, 0].tolist())
        rows["error"].append(out["plain"].absorption_error[:, 0].tolist())
    rows.update(t=t.tolist(), w=w.tolist(), seconds=time.perf_counter() - start)
    return rows


def summarise(rows: dict) -> dict:
    """Per-temperature bias, z, rms z and spread of plain and corrected; the indices."""
    from crosscheck_index import paired_index_difference

    from manybody.laws.analysis import analyse_shape
    from manybody.study.specs import load_study_spec
    from manybody.study.summary import kernel_smearing

    x = rows["w"][0] / np.asarray(rows["t"])
    dense = np.asarray(rows["dense"])
    error = np.asarray(rows["error"])
    smearing = kernel_smearing(load_study_spec("finite_size"))
    shape = analyse_shape(x, dense, smearing=smearing)
    out = {"realisations": len(dense), "skipped": rows["skipped"], "x": x.tolist(),
           "dense_index": [shape.index, shape.index_error]}
    for name in ("plain", "corrected"):
        values = np.asarray(rows[name])
        diff = values - dense
        se = diff.std(0, ddof=1) / np.sqrt(len(dense))
        fit = analyse_shape(x, values, smearing=smearing)
        out[name] = {
            "relative_bias": (diff.mean(0) / dense.mean(0)).tolist(),
            "bias_over_its_error": (diff.mean(0) / se).tolist(),
            "rms_z_per_realisation": np.sqrt(np.mean((diff / np.maximum(error, 1e-300)) ** 2,
                                                     axis=0)).tolist(),
            "relative_spread": (diff.std(0) / dense.mean(0)).tolist(),
            "index": [fit.index, fit.index_error],
            "paired_index_difference": list(paired_index_difference(x, dense, values, smearing)),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    from manybody.runs.spec import MAX_REALISATIONS
    from manybody.support import validate as v

    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-tls", type=SIZE, default=10, help="number of TLS N (default: %(default)s)")
    parser.add_argument("--realisations", type=v.cli_integer(2, MAX_REALISATIONS), default=400,
                        help="realisations (>= 2: the bias is a mean over them, with its error)")
    parser.add_argument("--first", type=v.cli_integer(0), default=0,
                        help="index of the first realisation")
    parser.add_argument("--vectors", type=VECTORS, default=4,
                        help="random vectors per solve (default: %(default)s)")
    parser.add_argument("--label", type=v.cli_label, default="ratio_bias",
                        help="key of this run in the JSON file (default: %(default)s)")
    parser.add_argument("--out", default=OUT,
                        help="JSON file of results (default: results/bench/ratio_bias.json)")
    add_overwrite_option(parser, entries=True)
    args = parser.parse_args(argv)
    if getattr(args, "out", None) is not None:  # before any work (session 31)
        args.out = checked_output_option(parser, "--out", args.out)
        refuse_replaced_records(parser, "--out", args.out, [(args.label,)],
                                overwrite=args.overwrite)
    try:  # a refusal known only at run time: one line, nothing written
        rows = solve_realisations(args.n_tls, args.realisations, args.vectors, args.first)
        if len(rows["dense"]) < 2:
            raise ValueError(f"the solver refused {rows['skipped']} of {args.realisations} "
                             "realisations: fewer than 2 left to compare")
        summary = summarise(rows)
    except (ValueError, MemoryError) as exc:
        print(f"{Path(__file__).name}: error: {type(exc).__name__}: "
              f"{' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    record = {"metadata": _metadata(), "n_tls": args.n_tls, "vectors": args.vectors,
              "rows": rows, "summary": summary}
    data = _load(args.out)
    data[args.label] = record
    _save(args.out, data)
    summary = record["summary"]
    for name in ("plain", "corrected"):
        print(name, "index difference (paired):", summary[name]["paired_index_difference"],
              "largest |bias| / error:", max(abs(z) for z in summary[name]["bias_over_its_error"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
