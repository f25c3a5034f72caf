"""The velocity slopes of independent canonical TLS by quadrature, for the study's ensemble.

The `relaxation` study spec simulates independent canonical TLS with eps_max = Delta_max = 3 K and
Delta_min = 1e-4 K at 1 kHz in the a-SiO2 one-phonon bath, on 19 temperatures from 5 mK to
0.5 K, and fits the slopes of delta v / v with `manybody.laws.velocity.fit_velocity_slopes`
(margin 3, one decade). This script computes the exact ensemble average of that delta v / v by
quadrature over P(eps, Delta) ~ 1/Delta (docs/PHYSICS.md sections 3-4: resonant
(Delta/E)^2 tanh(E/2T)/E plus relaxation (1/2)(eps/E)^2 sech^2(E/2T)/T / (1 + (omega tau)^2),
tau^-1 = K_ph Delta^2 E coth(E/2T)), applies the same fit, and reports the slopes and the ratio
for the study's ensemble and for wider ones; `manybody.laws.velocity.canonical_ratio` is the
limit eps_max, Delta_max -> inf, Delta_min -> 0 of the same (a one-dimensional closed form).

Before session 26 the README compared the simulated ratio (-2.38 +- 0.30) with -2.15, the value
for eps_max -> inf; for the simulated ensemble the quadrature gives -2.31 (a tester's dblquad,
reproduced here).

Usage::

    python scripts/canonical_velocity_slopes.py    # a few seconds; writes
                                                   # results/velocity/canonical_quadrature.json
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.laws.velocity import canonical_ratio, fit_velocity_slopes
from manybody.runs.results import add_overwrite_option, checked_output_option, make_parents
from manybody.simulation.materials import AMORPHOUS_SIO2
from manybody.support import jsonio
from manybody.support.files import atomic_write_text
from manybody.units import BOLTZMANN, HBAR

ROOT = Path(__file__).resolve().parents[1]
FREQUENCY = 4.7992e-8  # K (1 kHz), as the spec
TEMPERATURES = np.array([0.005, 0.00645775, 0.0083405, 0.0107722, 0.0139128, 0.0179691,
                         0.0232079, 0.0299742, 0.0387132, 0.05, 0.0645775, 0.083405, 0.107722,
                         0.139128, 0.179691, 0.232079, 0.299742, 0.387132, 0.5])
#: (eps_max, Delta_min, Delta_max) in K: the study's ensemble first.
ENSEMBLES = ((3.0, 1e-4, 3.0), (30.0, 1e-4, 3.0), (30.0, 1e-4, 30.0), (300.0, 1e-7, 300.0))
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(32)


def _panels(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = edges[:-1, None], edges[1:, None]
    return ((0.5 * (lo + hi) + 0.5 * (hi - lo) * _NODES).ravel(),
            (0.5 * (hi - lo) * _WEIGHTS).ravel())


def velocity_shift(temperature: float, eps_max: float, delta_min: float, delta_max: float,
                   rate_prefactor: float) -> float:
    """delta v / v (C0, up to a constant) of the canonical ensemble at one temperature."""
    omega = FREQUENCY * BOLTZMANN / HBAR
    # eps on panels graded around T (the sech^2 and tanh structure), ln Delta uniform
    eps_edges = np.unique(np.concatenate([[0.0], temperature * np.geomspace(1e-4, 60, 40),
                                          np.geomspace(min(60 * temperature, eps_max), eps_max,
                                                       20)]))
    eps_edges = eps_edges[eps_edges <= eps_max]
    eps, w_eps = _panels(eps_edges)
    log_delta, w_delta = _panels(np.linspace(math.log(delta_min), math.log(delta_max), 41))
    e_grid, d_grid = np.meshgrid(eps, np.exp(log_delta), indexing="ij")
    energy = np.hypot(e_grid, d_grid)
    x = energy / (2 * temperature)
    tanh = np.tanh(x)
    sech2 = np.where(x > 300, 0.0, 1.0 / np.cosh(np.minimum(x, 300)) ** 2)
    tau = tanh / (rate_prefactor * d_grid**2 * energy)
    integrand = -((d_grid / energy) ** 2 * tanh / energy
                  + 0.5 * (e_grid / energy) ** 2 * sech2 / temperature / (1 + (omega * tau) ** 2))
    return float(w_eps @ integrand @ w_delta)


def main(argv: list[str] | None = None) -> int:
    parser = ManybodyParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output",
                        default=str(ROOT / "results" / "velocity" / "canonical_quadrature.json"),
                        help="the JSON record to write (default %(default)s)")
    add_overwrite_option(parser)
    args = parser.parse_args(argv)
    # a directory, a device, no permission, a file among the parents: said before any work
    out = checked_output_option(parser, "--output", args.output, replaces=True,
                                overwrite=args.overwrite).resolve()
    rate = AMORPHOUS_SIO2.rate_prefactor
    rows = []
    print("eps_max  Delta_min  Delta_max   T_max (K)   below    above    ratio")
    for eps_max, delta_min, delta_max in ENSEMBLES:
        dv = np.array([velocity_shift(t, eps_max, delta_min, delta_max, rate)
                       for t in TEMPERATURES])
        fit = fit_velocity_slopes(TEMPERATURES, dv)
        rows.append({"eps_max_K": eps_max, "delta_min_K": delta_min, "delta_max_K": delta_max,
                     "temperature_max_K": fit.temperature_max, "below": fit.below,
                     "above": fit.above, "ratio": fit.ratio})
        print(f"{eps_max:7g}  {delta_min:9g}  {delta_max:9g}   {fit.temperature_max:.5f}   "
              f"{fit.below:+.4f}  {fit.above:+.4f}  {fit.ratio:+.4f}")
    ideal = canonical_ratio(TEMPERATURES, rows[0]["temperature_max_K"])
    print(f"limit eps_max, Delta_max -> inf, Delta_min -> 0 (laws.velocity.canonical_ratio): "
          f"{ideal:+.4f}")
    make_parents(out)
    record = {"frequency_K": FREQUENCY, "rate_prefactor": rate, "temperatures_K":
              TEMPERATURES.tolist(), "fit": "fit_velocity_slopes, margin 3, one decade, top 1.5",
              "ensembles": rows, "ideal_ratio": ideal}
    atomic_write_text(out, jsonio.dumps(record, indent=1) + "\n")
    print(f"wrote {out}")
    json.loads(out.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
