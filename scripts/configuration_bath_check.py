"""How well the static-configuration-bath (SCB) prediction reproduces exact ED (issue 16 item 1).

For each model (N = 8, eps_max = Delta_max = 0.3 K, Delta_min = 1e-3 K, w = 0.1 K, Gaussian kernel
eta = 0.02 K, the study's 25 temperatures x = w/T = 0.2..12.8, ~50 realisations on the same seed)
it runs the dense solver with "absorption", "configuration_bath_absorption",
"configuration_bath_absorption_infinite" and "single_tls_fraction" and reports

* the integrated relative error of the thermal SCB against ED, sum_T |<Q_SCB> - <Q>| / sum_T <Q>
  of the disorder means, its largest relative error at one temperature, and the median over
  realisations of the same integrated error per realisation;
* the TLS index a (laws.analysis.analyse_shape, kernel-averaged laws, bootstrap errors) of the
  exact, the thermal-SCB and the infinite-temperature-SCB curves;
* the single-TLS fraction of the absorbed weight (mean over realisations, at the lowest, middle
  and highest temperature).

Models: Gaussian zz couplings (J0 = 0.01, 0.03 K), dipolar zz (J0 = 0.01, 0.1 K), couplings with
x components (Gaussian J0 = 0.03 K, components zz + xx and zz + xz; the SCB keeps only zz), and
independent TLS with a GOE block of radius 0.1 K (TLS + GOE; the SCB has no field there).
Output: ``results/decomposition/configuration_bath.json`` (with provenance) and a table on stdout.

Usage::

    python scripts/configuration_bath_check.py [--realisations 50] [--bootstrap 50]
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.laws.analysis import analyse_shape
from manybody.runs.results import add_overwrite_option, checked_output_option
from manybody.runs.spec import RunSpec
from manybody.simulation.observe import observe
from manybody.support import jsonio
from manybody.support import validate as v
from manybody.support.files import atomic_write_text
from manybody.support.provenance import command_line, environment

ROOT = Path(__file__).resolve().parents[1]
OBSERVABLES = ["absorption", "configuration_bath_absorption",
               "configuration_bath_absorption_infinite", "single_tls_fraction"]
#: name -> model entries added to the common TLS model
CASES = {
    "gaussian J0=0.01": {"coupling": {"kind": "gaussian", "strength": 0.01}},
    "gaussian J0=0.03": {"coupling": {"kind": "gaussian", "strength": 0.03}},
    "dipolar J0=0.01": {"coupling": {"kind": "dipolar", "strength": 0.01}},
    "dipolar J0=0.1": {"coupling": {"kind": "dipolar", "strength": 0.1}},
    "gaussian J0=0.03 zz+xx": {"coupling": {"kind": "gaussian", "strength": 0.03,
                                            "components": ["zz", "xx"]}},
    "gaussian J0=0.03 zz+xz": {"coupling": {"kind": "gaussian", "strength": 0.03,
                                            "components": ["zz", "xz"]}},
    "TLS + GOE 0.1": {"random_matrix": {"kind": "goe", "weight": 0.1}},
}
WIDTH = 0.02
#: Bootstrap resamples of the index errors (the fits dominate the script's time).
BOOTSTRAP = 50
FREQUENCY = 0.1


def spec_for(name: str, extra: dict, realisations: int) -> RunSpec:
    model = {"n_tls": 8, "tls": {"asymmetry_max": 0.3, "tunnelling_min": 1e-3,
                                 "tunnelling_max": 0.3},
             "stress": {"deformation_potential": 1.0, "distribution": "random_sign"}, **extra}
    return RunSpec.from_dict({
        "name": "configuration-bath-" + name.replace(" ", "-").replace("=", ""),
        "seed": 20261130, "realisations": realisations, "model": model,
        "probe": {"frequencies": [FREQUENCY],
                  "temperatures": {"x_min": 0.2, "x_max": 12.8, "count": 25},
                  "observables": OBSERVABLES,
                  "broadening": {"kind": "gaussian", "width": WIDTH}},
        "solver": {"method": "dense"}})


def index_of(x: np.ndarray, q: np.ndarray, bootstrap: int) -> dict:
    shape = analyse_shape(x, q, n_bootstrap=bootstrap, smearing=WIDTH / FREQUENCY)
    return {"index": shape.index, "index_error": shape.index_error}


def measure(spec: RunSpec, bootstrap: int = BOOTSTRAP) -> dict:
    """Realisations 0..n-1 of the spec's seed, one after the other (observe, as a sweep runs them;
    a sweep's process pool costs more than these small N = 8 solves)."""
    start = time.perf_counter()
    runs = [observe(spec.model, spec.seed, r, spec.probe, spec.solver)
            for r in range(spec.realisations)]
    wall = time.perf_counter() - start
    x = FREQUENCY / np.asarray(spec.probe.temperatures)
    exact, thermal, infinite, fraction = (np.stack([run[name][:, 0] for run in runs])
                                          for name in OBSERVABLES)  # (n_r, n_T) each
    mean_exact, mean_thermal = exact.mean(axis=0), thermal.mean(axis=0)
    per_realisation = np.abs(thermal - exact).sum(axis=1) / exact.sum(axis=1)
    middle = x.size // 2
    return {
        "integrated_relative_error": float(np.abs(mean_thermal - mean_exact).sum()
                                           / mean_exact.sum()),
        "largest_relative_error": float(np.max(np.abs(mean_thermal / mean_exact - 1))),
        "median_realisation_integrated_error": float(np.median(per_realisation)),
        "index_exact": index_of(x, exact, bootstrap),
        "index_configuration_bath": index_of(x, thermal, bootstrap),
        "index_configuration_bath_infinite": index_of(x, infinite, bootstrap),
        "single_tls_fraction": {f"x={x[k]:.3g}": float(np.nanmean(fraction[:, k]))
                                for k in (0, middle, x.size - 1)},
        "mean_absorption": mean_exact.tolist(),
        "mean_configuration_bath_absorption": mean_thermal.tolist(),
        "mean_configuration_bath_absorption_infinite": infinite.mean(axis=0).tolist(),
        "x": x.tolist(), "wall_s": wall,
    }


def main(argv: list[str] | None = None) -> int:
    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--realisations", type=v.cli_integer(1, 10_000_000), default=50,
                        help="realisations per model, at N = 8 (default: %(default)s)")
    parser.add_argument("--bootstrap", type=v.cli_bootstrap("linearised errors"),
                        default=BOOTSTRAP,
                        help="bootstrap resamples of the index errors (0: linearised errors, "
                             f"or >= {v.MIN_BOOTSTRAP})")
    parser.add_argument("--output", default=ROOT / "results" / "decomposition" / "configuration_bath.json",
                        help="JSON file of results (default: results/decomposition/configuration_bath.json)")
    add_overwrite_option(parser)
    args = parser.parse_args(argv)
    if getattr(args, "output", None) is not None:  # before any work (session 31)
        args.output = checked_output_option(parser, "--output", args.output, replaces=True,
                                            overwrite=args.overwrite)
    cases = {}
    print(f"{'model':24s} {'int.err':>8s} {'max.err':>8s} {'med.err':>8s} {'a exact':>13s} "
          f"{'a SCB':>13s} {'a SCB(inf)':>13s} {'F(x)':>18s}")
    for name, extra in CASES.items():
        spec = spec_for(name, extra, args.realisations)
        r = cases[name] = measure(spec, args.bootstrap)
        a = [r[k] for k in ("index_exact", "index_configuration_bath",
                            "index_configuration_bath_infinite")]
        print(f"{name:24s} {r['integrated_relative_error']:8.4f} {r['largest_relative_error']:8.4f} "
              f"{r['median_realisation_integrated_error']:8.4f} "
              + " ".join(f"{i['index']:6.3f}+-{i['index_error']:.3f}" for i in a) + " "
              + " ".join(f"{f:.3f}" for f in r["single_tls_fraction"].values()))
    record = {
        "what": "static-configuration-bath (SCB) prediction of Q^-1 against exact ED, TLS index "
                "of exact / SCB / infinite-temperature SCB, single-TLS fraction (issue 16 item 1)",
        "command": command_line("python scripts/configuration_bath_check.py"),
        "provenance": environment(),
        "settings": {"n_tls": 8, "realisations": args.realisations, "frequency_K": FREQUENCY,
                     "broadening": {"kind": "gaussian", "width": WIDTH},
                     "x": "0.2..12.8, 25 geometric", "asymmetry_max": 0.3,
                     "tunnelling": [1e-3, 0.3], "stress": "random_sign gamma = 1",
                     "seed": 20261130, "bootstrap": args.bootstrap},
        "cases": {name: {"model": CASES[name], **cases[name]} for name in CASES},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.output, jsonio.dumps(record, indent=1) + "\n")  # never half-written
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
