"""Cost of the exact pair sum (default) against the binned grid deposit, per realisation.

Times ``pair_spectrum(...).absorption`` and ``.dispersion`` (the study's probe: one frequency
w = 0.1 K, 25 temperatures, Gaussian width 0.02 K) for both methods on independent-TLS spectra
of N TLS (energies E = sum of +-E_i/2, the study's TLS distribution) with a random symmetric T_mn,
and the largest difference of each from a direct scipy evaluation (N <= 10). Writes a JSON file.

    python scripts/bench_pair_sum.py --out results/bench/pair_sum.json
    python scripts/bench_pair_sum.py --study-shift 200 --out results/bench/pair_sum_study_shift.json

``--study-shift R`` instead measures how much the switch from the binned to the exact pair sum
moves the study's numbers: R realisations (the Gaussian study's seed) of N = 8 models at the
study's probe, largest change of the disorder mean and of single realisations.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.config.probe import Broadening
from manybody.runs.results import add_overwrite_option, checked_output_option
from manybody.simulation.observables.absorption import pair_spectrum
from manybody.simulation.observables.pair_sum import _numpy_per_state
from manybody.simulation.observables.thermo import boltzmann_weights
from manybody.simulation.solvers.dense import Spectrum
from manybody.support import validate as v


def synthetic(n_tls: int, rng: np.random.Generator, dtype=np.float64):
    """Independent-TLS spectrum (sorted) and a random symmetric stress matrix of unit rms."""
    eps = rng.uniform(-0.3, 0.3, n_tls)
    delta = np.exp(rng.uniform(np.log(1e-3), np.log(0.3), n_tls))
    e_i = np.hypot(eps, delta)
    signs = ((np.arange(2**n_tls)[:, None] >> np.arange(n_tls)[None, :]) & 1) * 2 - 1
    energies = np.sort(0.5 * signs @ e_i)
    t = rng.standard_normal((energies.size, energies.size)).astype(dtype)
    t = (t + t.T) / 2
    return Spectrum(energies - energies[0], None), t


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def study_shift(realisations: int, n_tls: int = 8) -> dict:
    """Binned -> exact change of the study's Q and delta v / v (disorder means and single values)."""
    import manybody as mb

    w = np.array([0.1])
    temps = w[0] / np.geomspace(0.2, 10, 25)
    b = Broadening(kind="gaussian", width=0.02)
    tls = {"asymmetry_max": 0.3, "tunnelling_min": 1e-3, "tunnelling_max": 0.3}
    stress = {"deformation_potential": 1.0, "distribution": "random_sign"}
    out = {}
    for name, extra in (("independent", {}),
                        ("gaussian J0=0.1", {"coupling": {"kind": "gaussian", "strength": 0.1}}),
                        ("dipolar J0=0.03", {"coupling": {"kind": "dipolar", "strength": 0.03}})):
        params = mb.ModelParams.from_dict({"n_tls": n_tls, "tls": tls, "stress": stress, **extra})
        norm = mb.absorption_normalisation(params)
        vals = {("q", m): [] for m in ("exact", "binned")}
        vals.update({("dv", m): [] for m in ("exact", "binned")})
        for r in range(realisations):
            real = mb.draw_realisation(params, mb.realisation_rng(seed=20261123, realisation=r))
            spectrum, t_mn = mb.solve(real)
            for method in ("exact", "binned"):
                pairs = pair_spectrum(spectrum, t_mn, w, b, method=method)
                vals["q", method].append(norm * pairs.absorption(w, temps)[:, 0])
                vals["dv", method].append(-0.5 * norm * pairs.dispersion(w, temps)[:, 0])
        qe, qb, ve, vb = (np.array(vals[k]) for k in (("q", "exact"), ("q", "binned"),
                                                       ("dv", "exact"), ("dv", "binned")))
        out[name] = {
            "Q_mean_max_relative_change": float(np.max(np.abs(qe.mean(0) - qb.mean(0))
                                                       / np.abs(qe.mean(0)))),
            "Q_single_max_abs_change_pi_C0": float(np.abs(qe - qb).max()),
            "dv_mean_max_abs_change_C0": float(np.abs(ve.mean(0) - vb.mean(0)).max()),
            "dv_single_max_abs_change_C0": float(np.abs(ve - vb).max()),
        }
        print(name, json.dumps(out[name]))
    return {"what": f"binned -> exact pair sum, N = {n_tls}, {realisations} realisations, "
                    "study probe (w = 0.1 K, 25 temperatures x = 0.2-10, Gaussian 0.02 K)",
            "models": out}


def main(argv=None) -> None:
    ap = ManybodyParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=v.cli_integer(1, 14), nargs="+", default=[6, 8, 10, 12],
                    help="numbers of TLS N (default: %(default)s)")
    ap.add_argument("--out", default=Path("results/bench/pair_sum.json"),
                    help="JSON file of results (default: %(default)s)")
    ap.add_argument("--study-shift", type=v.cli_integer(0), default=0, metavar="R",
                    help="measure the change of the study's numbers over R realisations instead")
    add_overwrite_option(ap)
    args = ap.parse_args(argv)
    if getattr(args, "out", None) is not None:  # before any work (session 31)
        args.out = checked_output_option(ap, "--out", args.out, replaces=True,
                                         overwrite=args.overwrite)
    if args.study_shift:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(study_shift(args.study_shift), indent=1) + "\n")
        return
    rng = np.random.default_rng(7)
    w = np.array([0.1])
    temps = w[0] / np.geomspace(0.2, 10, 25)
    b = Broadening(kind="gaussian", width=0.02)
    # warm up the compiled kernels (numba compiles once per process or loads its cache)
    s, t = synthetic(4, rng)
    for method in ("exact", "binned"):
        p = pair_spectrum(s, t, w, b, method=method)
        p.absorption(w, temps), p.dispersion(w, temps)
    rows = []
    for n in args.sizes:
        s, t = synthetic(n, rng)
        row = {"n_tls": n, "dimension": int(s.energies.size)}
        for method in ("exact", "binned"):
            def run(method=method, s=s, t=t):
                p = pair_spectrum(s, t, w, b, method=method)
                return p.absorption(w, temps), p.dispersion(w, temps)
            row[f"{method}_s"] = best_of(run)
            if n <= 10:
                q, chi = run()
                p_t = boltzmann_weights(s.energies, temps)
                q_ref = p_t @ _numpy_per_state(s.energies, t, w, b, False)
                chi_ref = p_t @ _numpy_per_state(s.energies, t, w, b, True)
                scale = np.abs(q_ref).max()
                row[f"{method}_max_abs_error_q_rel_to_max_q"] = float(np.abs(q - q_ref).max()
                                                                      / scale)
                row[f"{method}_max_abs_error_chi_rel_to_max_q"] = float(
                    np.abs(chi - chi_ref).max() / scale)
        row["exact_over_binned"] = row["exact_s"] / row["binned_s"]
        rows.append(row)
        print(json.dumps(row))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "what": "exact pair sum (default) vs binned grid deposit, absorption + velocity shift, "
                "1 frequency, 25 temperatures, Gaussian width 0.02 K, best of 3, shared 2-core "
                "machine", "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    raise SystemExit(script_main(main))
