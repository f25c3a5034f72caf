"""Benchmark: relaxation part (master equation, all temperatures) against one diagonalisation.

Usage::

    python scripts/bench_relaxation.py [--n-tls 10] [--temperatures 20] [--repeats 3]
        [--output results/bench/relaxation.json]

BLAS is limited to one thread (the machine is shared), so both timings are single-core. For each
model (independent TLS, Gaussian and dipolar couplings) the script times solve() and
relaxation_susceptibility() with the Krylov route, reports the minimum over repeats, and checks the
Krylov result against the dense route at a few temperatures.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.runs.results import add_overwrite_option, checked_output_option
from manybody.support import jsonio
from manybody.support import validate as v


def main(argv: list[str] | None = None) -> int:
    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-tls", type=v.cli_integer(1, 14), default=10,
                        help="number of TLS N (default: %(default)s)")
    parser.add_argument("--temperatures", type=v.cli_integer(1, 100_000), default=20,
                        help="number of temperatures, on a log grid from 0.01 to 2 K (default: %(default)s)")
    parser.add_argument("--repeats", type=v.cli_integer(1), default=3,
                        help="timed repeats of each measurement (default: %(default)s)")
    parser.add_argument("--seed", type=v.cli_seed, default=3,
                        help="seed of the realisation (default: %(default)s)")
    parser.add_argument("--output", default="results/bench/relaxation.json",
                        help="JSON file of results (default: %(default)s)")
    add_overwrite_option(parser)
    args = parser.parse_args(argv)
    if getattr(args, "output", None) is not None:  # before any work (session 31)
        checked_output_option(parser, "--output", args.output, replaces=True,
                              overwrite=args.overwrite)

    from threadpoolctl import threadpool_limits

    from manybody.config.model import CouplingParams, ModelParams
    from manybody.simulation.ensembles import draw_realisation, realisation_rng
    from manybody.simulation.materials import AMORPHOUS_SIO2
    from manybody.simulation.observables.relaxation import relaxation_susceptibility
    from manybody.simulation.solvers.dense import solve

    frequencies = np.array([0.05])  # K (about 1 GHz)
    temperatures = np.geomspace(0.01, 2.0, args.temperatures)  # K
    rate_prefactor = AMORPHOUS_SIO2.rate_prefactor
    models = {
        "independent": None,
        "gaussian_J0=0.1": CouplingParams(kind="gaussian", strength=0.1),
        "dipolar_J0=0.3": CouplingParams(kind="dipolar", strength=0.3),
    }
    rows = {}
    with threadpool_limits(1):
        for name, coupling in models.items():
            params = ModelParams(n_tls=args.n_tls, coupling=coupling)
            real = draw_realisation(params, realisation_rng(args.seed, 0))
            solve(real)  # warm-up (imports, first-call overheads)
            t_diag, t_relax = [], []
            for _ in range(args.repeats):
                start = time.perf_counter()
                spectrum, elements = solve(real)
                t_diag.append(time.perf_counter() - start)
                start = time.perf_counter()
                chi = relaxation_susceptibility(spectrum, elements, frequencies, temperatures,
                                                rate_prefactor)
                t_relax.append(time.perf_counter() - start)
            check = slice(None, None, max(1, args.temperatures // 4))
            start = time.perf_counter()
            dense = relaxation_susceptibility(spectrum, elements, frequencies,
                                              temperatures[check], rate_prefactor, method="dense")
            t_dense = (time.perf_counter() - start) / dense.shape[0]
            nonzero = dense != 0
            diff = float(np.max(np.abs(chi[check] - dense)[nonzero] / np.abs(dense[nonzero]),
                                initial=0.0))
            rows[name] = {
                "diagonalisation_seconds": min(t_diag),
                "relaxation_seconds": min(t_relax),
                "relaxation_over_diagonalisation": min(t_relax) / min(t_diag),
                "dense_seconds_per_temperature": t_dense,
                "max_relative_difference_krylov_vs_dense": diff,
            }
    worst = max(rows.values(), key=lambda r: r["relaxation_over_diagonalisation"])
    result = {
        "n_tls": args.n_tls,
        "dimension": 2**args.n_tls,
        "n_temperatures": args.temperatures,
        "frequencies_K": frequencies.tolist(),
        "temperatures_K": [float(temperatures[0]), float(temperatures[-1])],
        "rate_prefactor_s-1K-3": rate_prefactor,
        "blas_threads": 1,
        "repeats": args.repeats,
        "models": rows,
        # headline numbers: the worst model
        "diagonalisation_seconds": worst["diagonalisation_seconds"],
        "relaxation_seconds": worst["relaxation_seconds"],
        "max_relative_difference_krylov_vs_dense": max(
            r["max_relative_difference_krylov_vs_dense"] for r in rows.values()),
        "host": platform.node(),
        "python": sys.version.split()[0],
        "load_average": os.getloadavg(),
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(jsonio.dumps(result, indent=2))
    tmp.replace(out)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
