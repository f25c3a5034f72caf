"""Golden set: a small run of every model family, observable and solver, and a fit-data run.

Written before a change that must not move any number (a refactor), and checked after it, bit
for bit on the same machine and BLAS::

    python scripts/golden_set.py write results/golden/golden_set.npz
    python scripts/golden_set.py check results/golden/golden_set.npz

``check`` prints one line per array (identical, or the largest absolute and relative difference)
and exits 1 if any array differs in a single bit. What it covers:

- dense ED, every observable (absorption, velocity shift, specific heat, spacing ratio,
  relaxation absorption and velocity shift), for independent TLS, dipolar and gaussian couplings,
  a GOE admixture, two-body stress, and the random block with flat and GOE kinds;
- the Chebyshev solver (absorption, velocity shift, specific heat with their errors) on a
  coupled point, and the "auto" method;
- the float32 solver;
- the study's analysis (law fits of the absorption shape, TLS index, velocity slopes);
- the matrix-element statistics of the study (dense, one realisation set);
- ``manybody fit-data`` on the Nb resonator loss tables (every number of fit_results.json that is
  not provenance).

Small on purpose (about a minute on two cores); it checks that code moved without changing what
it computes, not that the physics is right (the test suite does that).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.runs.results import checked_output_option, make_parents
from manybody.support.files import atomic_write

ROOT = Path(__file__).resolve().parents[1]

TLS = {"asymmetry_max": 0.3, "tunnelling_min": 0.001, "tunnelling_max": 0.3}
STRESS = {"deformation_potential": 1.0, "distribution": "random_sign"}
PROBE = {
    "frequencies": [0.1, 0.15],
    "temperatures": {"x_min": 0.2, "x_max": 10.0, "count": 7},
    "observables": ["absorption", "velocity_shift", "specific_heat", "spacing_ratio"],
    "broadening": {"kind": "gaussian", "width": 0.02},
}


def _spec(name: str, model: dict, sweep: dict | None = None, probe: dict | None = None,
          solver: dict | None = None, realisations: int = 6) -> dict:
    spec = {"name": name, "seed": 20261130, "realisations": realisations,
            "model": model, "probe": probe or PROBE}
    if sweep:
        spec["sweep"] = sweep
    if solver:
        spec["solver"] = solver
    return spec


def specs() -> list[dict]:
    """The run specifications of the golden set (plain dicts, as a TOML file would give)."""
    relaxation_probe = {
        "frequencies": [4.7992e-8],
        "temperatures": [0.01, 0.03, 0.1, 0.3],
        "observables": ["velocity_shift", "relaxation_velocity_shift",
                        "relaxation_absorption", "specific_heat"],
        "phonon_rate_prefactor": "a-SiO2",
        "broadening": {"kind": "lorentzian", "width": 1e-8},
    }
    cheb_probe = dict(PROBE, observables=["absorption", "velocity_shift", "specific_heat"])
    return [
        _spec("independent", {"n_tls": 5, "tls": TLS, "stress": STRESS},
              sweep={"model.n_tls": [3, 5]}),
        _spec("dipolar", {"n_tls": 5, "tls": TLS, "stress": STRESS,
                          "coupling": {"kind": "dipolar", "strength": 0.0,
                                       "orientation": "uniform"}},
              sweep={"model.coupling.strength": [0.0, 0.03]}),
        _spec("gaussian", {"n_tls": 5, "tls": TLS, "stress": STRESS,
                           "coupling": {"kind": "gaussian", "strength": 0.03}}),
        _spec("admixture", {"n_tls": 5, "tls": TLS, "stress": STRESS,
                            "random_matrix": {"kind": "goe", "weight": 0.1}}),
        _spec("two_body_stress", {"n_tls": 5, "tls": TLS,
                                  "stress": dict(STRESS, two_body=0.3),
                                  "coupling": {"kind": "dipolar", "strength": 0.03}}),
        _spec("random_block", {"n_tls": 6, "tls": False,
                               "random_matrix": {"kind": "flat", "weight": 10.0,
                                                 "growth_temperature": 0.3},
                               "stress": {"deformation_potential": 1.0, "distribution": "none",
                                          "random_matrix": 1.0, "random_matrix_kind": "goe"}},
              sweep={"model.random_matrix.kind": ["flat", "goe"]},
              probe=dict(PROBE, observables=["absorption", "specific_heat", "spacing_ratio"])),
        _spec("relaxation", {"n_tls": 4, "tls": {"asymmetry_max": 3.0, "tunnelling_min": 1e-5,
                                                 "tunnelling_max": 3.0},
                             "stress": STRESS,
                             "coupling": {"kind": "dipolar", "strength": 0.1}},
              probe=relaxation_probe),
        _spec("float32", {"n_tls": 5, "tls": TLS, "stress": STRESS,
                                 "coupling": {"kind": "dipolar", "strength": 0.01}},
              solver={"dtype": "float32"}),
        _spec("chebyshev", {"n_tls": 6, "tls": TLS, "stress": STRESS,
                            "coupling": {"kind": "dipolar", "strength": 0.01}},
              probe=cheb_probe, realisations=2,
              solver={"method": "chebyshev", "chebyshev": {"n_vectors": 4}}),
        _spec("auto", {"n_tls": 5, "tls": TLS, "stress": STRESS}, probe=cheb_probe,
              realisations=2, solver={"method": "auto"}),
    ]


def _known_solver_keys() -> set[str]:
    import dataclasses

    import manybody as mb

    return {f.name for f in dataclasses.fields(mb.RunSpec.from_dict(specs()[0]).solver)}


def run_specs() -> dict[str, np.ndarray]:
    import manybody as mb

    known = _known_solver_keys()
    out: dict[str, np.ndarray] = {}
    for data in specs():
        solver = data.get("solver", {})
        if set(solver) - known:  # e.g. pair_sum lives elsewhere in this version
            print(f"  {data['name']}: solver keys {sorted(set(solver) - known)} not known here, "
                  "skipped", file=sys.stderr)
            continue
        ds = mb.run_sweep(mb.RunSpec.from_dict(data))
        for var in sorted(ds.data_vars):
            out[f"{data['name']}/{var}"] = np.asarray(ds[var].values)
        _shape_numbers(data["name"], ds, out)
        for coord in sorted(ds.coords):
            values = np.asarray(ds[coord].values)
            if values.dtype.kind in "fiu":
                out[f"{data['name']}/coord:{coord}"] = values
    return out


def _shape_numbers(name: str, ds, out: dict[str, np.ndarray]) -> None:
    """The study's analysis of a run: law fits of the absorption shape, velocity slopes."""
    import manybody as mb

    if "absorption" in ds and ds.sizes.get("realisation", 0) > 2:
        point = ds.isel({d: 0 for d in ds["absorption"].dims
                         if d not in ("realisation", "temperature", "frequency")})
        q = point["absorption"].isel(frequency=0).values
        x = float(ds["frequency"].values[0]) / ds["temperature"].values
        shape = mb.analyse_shape(x, q, smearing=0.2)
        out[f"{name}/shape"] = np.array([shape.index, shape.index_error, shape.ratio,
                                         shape.ratio_error])
        for law, fit in sorted(shape.fits.items()):
            out[f"{name}/fit:{law}"] = np.array(
                [fit.chi2, fit.dof, fit.aic, fit.bic, fit.p_value,
                 *[fit.parameters[k] for k in sorted(fit.parameters)],
                 *[fit.errors[k] for k in sorted(fit.errors)]], dtype=float)
    if "relaxation_velocity_shift" in ds:
        total = (ds["velocity_shift"] + ds["relaxation_velocity_shift"]).isel(frequency=0)
        temps = np.geomspace(0.01, 0.3, 12)
        curve = np.log(temps / 0.01) - 2.0 * np.clip(np.log(temps / 0.05), 0, None)
        slopes = mb.velocity_slopes(temps, curve + 0.0 * temps)
        out[f"{name}/velocity_slopes_synthetic"] = np.array([slopes.below, slopes.above,
                                                             slopes.temperature_max])
        out[f"{name}/total_velocity"] = np.asarray(total.values)


def run_statistics() -> dict[str, np.ndarray]:
    """Matrix-element statistics of a small dipolar model, as the study computes them."""
    import manybody as mb

    params = mb.ModelParams.from_dict({"n_tls": 5, "tls": TLS, "stress": STRESS,
                                       "coupling": {"kind": "dipolar", "strength": 0.03}})
    out = {}
    for r in range(3):
        real = mb.draw_realisation(params, mb.realisation_rng(seed=7, realisation=r))
        spectrum, t_mn = mb.solve(real)
        stats = mb.matrix_element_statistics(spectrum.energies, t_mn, np.linspace(-0.5, 0.5, 5),
                                             np.geomspace(0.01, 0.5, 6))
        for key, value in sorted(stats.items()):
            out[f"statistics/{r}/{key}"] = np.atleast_1d(np.asarray(value, dtype=float))
        out[f"statistics/{r}/energies"] = spectrum.energies
    return out


def _numbers(obj, prefix: str, out: dict[str, np.ndarray]) -> None:
    skip = ("provenance", "command", "git", "created", "python", "versions", "input", "sha256",
            "path", "files", "elapsed", "time")
    if isinstance(obj, dict):
        for key, value in obj.items():
            if any(word in key for word in skip):
                continue
            _numbers(value, f"{prefix}/{key}", out)
    elif isinstance(obj, list):
        arr = np.asarray(obj, dtype=object)
        try:
            out[prefix] = np.asarray(obj, dtype=float)
        except (TypeError, ValueError):
            for i, item in enumerate(obj):
                _numbers(item, f"{prefix}/{i}", out)
        del arr
    elif isinstance(obj, bool):
        out[prefix] = np.asarray([float(obj)])
    elif isinstance(obj, (int, float)):
        out[prefix] = np.asarray([float(obj)])
    elif obj is None:
        out[prefix] = np.asarray([np.nan])


def run_fit_data() -> dict[str, np.ndarray]:
    files = sorted((ROOT / "data" / "resonator_nb_cpw").glob("qint_*dBm.csv"))
    out: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "manybody", "fit-data", *map(str, files), "--frequency",
               "5.61989GHz", "--tmax", "0.8", "--out", f"{tmp}/nb"]
        subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, text=True)
        results = json.loads(Path(f"{tmp}/nb/fit_results.json").read_text())
    _numbers(results, "fit_data", out)
    return out


def compute() -> dict[str, np.ndarray]:
    out = {}
    out.update(run_specs())
    out.update(run_statistics())
    out.update(run_fit_data())
    return out


def check(path: Path) -> int:
    golden = dict(np.load(path, allow_pickle=False))
    now = compute()
    bad = 0
    for key in sorted(set(golden) | set(now)):
        if key not in now:
            print(f"MISSING  {key}")
            bad += 1
            continue
        if key not in golden:
            print(f"NEW      {key}")
            continue
        a, b = golden[key], now[key]
        if a.shape != b.shape or a.dtype != b.dtype:
            print(f"DIFFER   {key}: shape/dtype {a.shape} {a.dtype} -> {b.shape} {b.dtype}")
            bad += 1
        elif a.tobytes() != b.tobytes():
            d = np.nanmax(np.abs(a.astype(float) - b.astype(float)))
            scale = np.nanmax(np.abs(a.astype(float))) or 1.0
            print(f"DIFFER   {key}: max |diff| {d:.3e} (relative {d / scale:.3e})")
            bad += 1
    print(f"{len(golden)} golden arrays, {bad} differ" + ("" if bad else ": bit for bit identical"))
    return 1 if bad else 0


def _parser() -> argparse.ArgumentParser:
    parser = ManybodyParser(
        prog="golden_set.py", description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n")[1] + "\n\n" + __doc__.split("\n\n")[2].rstrip(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="{write,check}")
    write_parser = commands.add_parser("write", help="compute the golden set and save it (.npz)")
    write_parser.add_argument("path", help="the .npz file to write")
    check_parser = commands.add_parser("check", help="recompute and compare bit for bit")
    check_parser.add_argument("path", help="a .npz file written by 'write'")
    return parser


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    path = Path(args.path)  # args.path keeps a trailing '/', which names a directory
    if args.command == "check":
        if not path.is_file():
            parser.error(f"check: path {str(path)!r} is not a file; expected a golden set written "
                         "by 'golden_set.py write PATH'")
        if not zipfile.is_zipfile(path):
            parser.error(f"check: path {str(path)!r} is not a .npz archive; expected a golden "
                         "set written by 'golden_set.py write PATH'")
        return check(path)
    if path.suffix != ".npz":
        parser.error(f"write: path {str(path)!r} must end in .npz (numpy.savez_compressed "
                     "appends it otherwise)")
    # a directory, a device, no permission, a file among the parents: said before any work
    checked_output_option(parser, "write: path", args.path)
    data = compute()
    make_parents(path)
    # Written next to the target and renamed: an interrupted write leaves the old set intact.
    atomic_write(path, lambda handle: np.savez_compressed(handle, **data))
    print(f"wrote {len(data)} arrays to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main, sys.argv[1:]))
