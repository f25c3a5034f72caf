#!/usr/bin/env python
"""Refit the finite-size check's sweep points over a narrower x window, to compare them like for
like with a run whose temperature grid ends at a smaller x (results/finite_size_n12: x = 0.2-10,
one frequency, against the study's x = 0.2-12.8).

Usage: python scripts/finite_size_window.py RESULTS.nc [--x-max 10]

For every sweep point of RESULTS.nc (a run of the study's ``finite_size`` spec, or any run with an
absorption observable) prints N, realisations, the TLS index a over the window, a over x >= 1 in
the window, and the rise of rho_eff = Q / tanh(x/2) from the window's largest x to x = 0.2, with
the study's own analysis (manybody.laws.analysis.analyse_shape, manybody.laws.decomposition:
bootstrap errors over realisations, the line kernel of the spec).
"""

from __future__ import annotations

import sys
from pathlib import Path

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.support import validate as v


def main() -> int:
    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="a results file (.nc) with absorption")
    parser.add_argument("--x-max", type=v.cli_real(low=1.0, low_open=True), default=10.0,
                        help="largest x = w/T fitted, > 1 (default 10, the N = 12 run's)")
    args = parser.parse_args()
    if not args.results.is_file():
        print(f"error: {str(args.results)!r} is not a file", file=sys.stderr)
        return 2
    from manybody.laws.analysis import analyse_shape
    from manybody.runs.results import dataset_spec, load_results, sweep_points
    from manybody.study.decomposition import decompose
    from manybody.study.summary import kernel_smearing

    ds = load_results(args.results)
    spec = dataset_spec(ds)
    smearing = kernel_smearing(spec)
    w = float(ds["frequency"].values[0])
    x_all = w / ds["temperature"].values
    keep = x_all <= args.x_max * (1 + 1e-9)
    x = x_all[keep]
    print(f"{args.results}: x = {x.min():.3g} to {x.max():.3g} ({keep.sum()} of {keep.size} "
          f"temperatures) at w = {w:g} K")
    print(f"{'N':>3} {'realisations':>12} {'a':>16} {'a (x >= 1)':>16} {'rho_eff rise':>14}")
    for point in sweep_points(ds):
        q = point.data["absorption"].isel(frequency=0).values[:, keep]
        shape = analyse_shape(x, q, smearing=smearing)
        rise = decompose(x, {"absorption": q}, smearing)
        print(f"{point.model.n_tls:>3} {q.shape[0]:>12} "
              f"{shape.index:>8.3f} ± {shape.index_error:<5.3f} "
              f"{shape.index_high_x:>8.3f} ± {shape.index_high_x_error:<5.3f} "
              f"{rise.resonant_density_rise:>6.3f} ± {rise.resonant_density_rise_error:<5.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
