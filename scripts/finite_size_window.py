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

from pathlib import Path

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.support import validate as v


def main() -> int:
    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="a results file (.nc) with absorption")
    # the shape ratio needs x to span [0.5, 2]: --x-max 1.01 was taken, then failed in the fit
    parser.add_argument("--x-max", type=v.cli_real(low=2.0), default=10.0,
                        help="largest x = w/T fitted, >= 2 (the shape ratio needs x to span "
                             "[0.5, 2]; default 10, the N = 12 run's)")
    args = parser.parse_args()
    # every refusal one line naming the argument (a traceback for a damaged or foreign file,
    # "error: 'base' is not a file" without the program for a folder; bt203 F7)
    shown = repr(str(args.results))
    if not args.results.is_file():
        parser.error(f"argument results: {shown} is not a file; expected a results file (.nc) "
                     "written by manybody run or study")
    from manybody.cli.app import one_line_warnings
    from manybody.laws.analysis import analyse_shape
    from manybody.laws.shapes import check_ratio_span
    from manybody.runs.results import dataset_spec, load_results, sweep_points
    from manybody.study.decomposition import decompose
    from manybody.study.summary import index_text, kernel_smearing, ratio_text

    try:
        ds = load_results(args.results)
        spec = dataset_spec(ds)
        if "absorption" not in ds or "frequency" not in ds.coords or "temperature" not in ds.coords:
            raise ValueError("it has no absorption over frequency and temperature")
    except (ValueError, OSError) as exc:
        message = str(exc)
        message = message if message.startswith(shown) else f"{shown}: {message}"
        parser.error(f"argument results: {message}")
    smearing = kernel_smearing(spec)
    w = float(ds["frequency"].values[0])
    x_all = w / ds["temperature"].values
    keep = x_all <= args.x_max * (1 + 1e-9)
    x = x_all[keep]
    try:
        check_ratio_span(x)
    except ValueError:
        parser.error(f"argument results: {shown} has x = w/T from {x_all.min():.3g} to "
                     f"{x_all.max():.3g} ({x.size} temperatures up to --x-max {args.x_max:g}); "
                     "the shape ratio needs x to span [0.5, 2]")
    print(f"{args.results}: x = {x.min():.3g} to {x.max():.3g} ({keep.sum()} of {keep.size} "
          f"temperatures) at w = {w:g} K")
    print(f"{'N':>3} {'realisations':>12} {'a':>20} {'a (x >= 1)':>20} {'rho_eff rise':>14}")
    for point in sweep_points(ds):
        q = point.data["absorption"].isel(frequency=0).values[:, keep]
        with one_line_warnings():  # not Python's file:line and source line (bt203 F8)
            shape = analyse_shape(x, q, smearing=smearing)
            rise = decompose(x, {"absorption": q}, smearing)
        # as the study's summary: "n.d." for an undetermined error, "<= -0.999 (at bound)" for
        # an index at the family's bound ("± 328439760395098.750" and "± nan"; bt203 F8)
        print(f"{point.model.n_tls:>3} {q.shape[0]:>12} "
              f"{index_text(shape.index, shape.index_error):>20} "
              f"{index_text(shape.index_high_x, shape.index_high_x_error):>20} "
              f"{ratio_text(rise.resonant_density_rise, rise.resonant_density_rise_error):>14}")
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
