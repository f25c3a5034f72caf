"""Benchmark: the driven steady state (20 drive amplitudes) against one dense solve.

Usage::

    python scripts/bench_saturation.py [--n-tls 10] [--amplitudes 20] [--repeats 1]
        [--output results/bench/saturation.json]

One realisation of dipolar-coupled TLS; BLAS limited to one thread (the machine is shared), so
both timings are single-core. Times :func:`manybody.simulation.solvers.dense.solve` (H, eigh, T_mn)
and :func:`manybody.simulation.observables.saturation.saturated_absorption` at one temperature and
one frequency for all amplitudes (one D x D LU each), reports the minimum over repeats and the
ratio, and the time spent in :func:`steady_states` (assembly and the LU solves).
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
from manybody.support.files import atomic_write_text


def main(argv: list[str] | None = None) -> int:
    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-tls", type=v.cli_integer(1, 14), default=10,
                        help="number of TLS N (default: %(default)s)")
    parser.add_argument("--amplitudes", type=v.cli_integer(1, 100_000), default=20,
                        help="number of drive amplitudes: 0 and a log grid 1e-6..1e-2 (default: %(default)s)")
    parser.add_argument("--repeats", type=v.cli_integer(1), default=1,
                        help="timed repeats of each measurement (default: %(default)s)")
    parser.add_argument("--seed", type=v.cli_seed, default=3,
                        help="seed of the realisation (default: %(default)s)")
    parser.add_argument("--output", default="results/bench/saturation.json",
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
    from manybody.simulation.observables import saturation
    from manybody.simulation.solvers.dense import solve

    frequency, temperature, dephasing = 0.05, 0.05, 1e9  # K, K, s^-1
    amplitudes = np.concatenate([[0.0], np.geomspace(1e-6, 1e-2, args.amplitudes - 1)])
    rate_prefactor = AMORPHOUS_SIO2.rate_prefactor
    params = ModelParams(n_tls=args.n_tls, coupling=CouplingParams(kind="dipolar", strength=0.1))
    real = draw_realisation(params, realisation_rng(args.seed, 0))
    lu_seconds = []
    original = saturation.steady_states

    def timed_steady_state(*a):
        start = time.perf_counter()
        out = original(*a)
        lu_seconds.append(time.perf_counter() - start)
        return out

    t_dense, t_sat = [], []
    with threadpool_limits(1):
        solve(real)  # warm-up (imports, first-call overheads)
        for _ in range(args.repeats):
            start = time.perf_counter()
            spectrum, elements = solve(real)
            t_dense.append(time.perf_counter() - start)
            lu_seconds.clear()
            saturation.steady_states = timed_steady_state
            try:
                start = time.perf_counter()
                out = saturation.saturated_absorption(
                    spectrum.energies, elements, frequency, temperature, amplitudes,
                    rate_prefactor, dephasing_rate=dephasing)
                t_sat.append(time.perf_counter() - start)
            finally:
                saturation.steady_states = original
    ratio = out["absorption"] / out["linear"]
    result = {
        "n_tls": args.n_tls,
        "dimension": 2**args.n_tls,
        "n_amplitudes": int(amplitudes.size),
        "amplitudes": [float(amplitudes[1]), float(amplitudes[-1])],
        "frequency_K": frequency,
        "temperature_K": temperature,
        "dephasing_rate_s-1": dephasing,
        "rate_prefactor_s-1K-3": rate_prefactor,
        "blas_threads": 1,
        "repeats": args.repeats,
        "dense_solve_seconds": min(t_dense),
        "steady_state_seconds": min(t_sat),
        "steady_state_over_dense_solve": min(t_sat) / min(t_dense),
        "steady_states_seconds": float(sum(lu_seconds)),
        "saturation_range": [float(ratio.min()), float(ratio.max())],
        "host": platform.node(),
        "python": sys.version.split()[0],
        "load_average": os.getloadavg(),
    }
    out_path = Path(args.output)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_path, jsonio.dumps(result, indent=2) + "\n")  # never half-written
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
