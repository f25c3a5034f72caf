"""Cross-check of the Chebyshev (KPM + typicality) solver by finite-temperature Lanczos at N >= 14
(issue 20, fourth target).

For each case (model, probe) and size N, one realisation is solved by both methods with
independent random vectors (different seeds); per temperature the largest |difference| over the
frequencies in units of the combined error bar sqrt(e_cheb^2 + e_ftlm^2) is recorded, and
chi^2 = sum over (T, w) of (difference / combined error)^2 with its number of terms. The values at
different temperatures share the random vectors of each method, so they are correlated and chi^2
is a summary, not a strict chi^2 variable; the per-temperature z values are the test.

Cases: "bench", the Chebyshev benchmark model (canonical TLS + Gaussian couplings J0 = 0.05 K;
scripts/bench_chebyshev.py BENCH: w = 0.1, 0.2 K, 20 temperatures 0.02-0.2 K, Gaussian kernel
0.02 K), and "dipolar", the study's dipolar model at the glass-like headline coupling J0 = 0.01 K
(specs/dipolar.toml: TLS asymmetry <= 0.3 K, tunnelling 1e-3-0.3 K, random-sign deformation
potentials; w = 0.1 K, kernel 0.02 K, the study's temperatures T = w / x at 2 per octave of x from
0.2 to 12.8).

Where dense ED fits (N <= ``--dense-max``, default 12) it is the referee: each method's deviation
from it in units of its own error bar is recorded too.

Results are written atomically to results/bench/ftlm_crosscheck.json after every case. Run on one
core (the script sets the BLAS thread variables before numpy is imported).

    python scripts/crosscheck_ftlm.py --sizes 12 14 --cheb-vectors 16 --ftlm-vectors 16
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from manybody.cli.parser import ManybodyParser  # noqa: E402
from manybody.cli.signals import script_main  # noqa: E402
from manybody.config.model import (  # noqa: E402
    MAX_TLS,
    CouplingParams,
    ModelParams,
    StressParams,
    TLSParams,
)
from manybody.config.probe import Broadening  # noqa: E402
from manybody.config.solver import ChebyshevParams  # noqa: E402
from manybody.runs.results import add_overwrite_option, checked_output_option, refuse_replaced_records  # noqa: E402
from manybody.simulation.ensembles import (  # noqa: E402
    absorption_normalisation,
    draw_realisation,
    realisation_rng,
)
from manybody.simulation.solvers.chebyshev.solver import chebyshev_absorption  # noqa: E402
from manybody.simulation.solvers.lanczos import MIN_STEPS, ftlm_absorption  # noqa: E402
from manybody.support import jsonio  # noqa: E402
from manybody.support import validate as v  # noqa: E402
from manybody.support.files import atomic_write_text  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "results" / "bench" / "ftlm_crosscheck.json"

CASES = {
    "bench": {
        "model": {"coupling": {"kind": "gaussian", "strength": 0.05}},
        "frequencies": [0.1, 0.2],
        "temperatures": np.geomspace(0.02, 0.2, 20).tolist(),
        "broadening": {"kind": "gaussian", "width": 0.02},
        "seed": 1,
        "realisation": 0,
    },
    "dipolar": {
        "model": {"coupling": {"kind": "dipolar", "strength": 0.01},
                  "tls": {"asymmetry_max": 0.3, "tunnelling_min": 0.001, "tunnelling_max": 0.3},
                  "stress": {"deformation_potential": 1.0, "distribution": "random_sign"}},
        "frequencies": [0.1],
        "temperatures": (0.1 / np.geomspace(0.2, 12.8, 13)).tolist(),
        "broadening": {"kind": "gaussian", "width": 0.02},
        "seed": 20261123,
        "realisation": 0,
    },
}
#: Seed offset of the FTLM vectors: independent of the Chebyshev vectors of the same case.
FTLM_SEED_OFFSET = 1000


def model_params(n: int, spec: dict) -> ModelParams:
    """The ModelParams of a case at size N."""
    m = spec["model"]
    return ModelParams(n_tls=n, coupling=CouplingParams(**m["coupling"]),
                       tls=TLSParams(**m.get("tls", {})), stress=StressParams(**m.get("stress", {})))


def compare(cheb: tuple, ftlm: tuple) -> dict:
    """Per-temperature max |z| over frequencies and chi^2 of two (value, error) pairs (n_T, n_w)."""
    diff = ftlm[0] - cheb[0]
    combined = np.hypot(cheb[1], ftlm[1])
    z = diff / combined
    return {"z": z.tolist(), "max_abs_z_per_temperature": np.max(np.abs(z), axis=1).tolist(),
            "chi2": float(np.sum(z**2)), "terms": int(z.size),
            "fraction_within_2_sigma": float(np.mean(np.abs(z) <= 2.0)),
            "max_abs_z": float(np.max(np.abs(z)))}


def dense_reference(real, params, w, t, b) -> dict:
    """Q and the velocity shift by dense ED (the referee where it fits)."""
    from manybody.simulation.observables.absorption import absorption, velocity_shift
    from manybody.simulation.solvers.dense import solve

    norm = absorption_normalisation(params)
    spectrum, elements = solve(real)
    return {"absorption": norm * absorption(spectrum, elements, w, t, b, method="exact"),
            "velocity_shift": velocity_shift(spectrum, elements, w, t, b, normalisation=norm,
                                             method="exact")}


def against_exact(value: np.ndarray, error: np.ndarray, exact: np.ndarray) -> dict:
    """(value - exact) / error: largest |z| and chi^2 over (T, w)."""
    z = (value - exact) / error
    return {"max_abs_z": float(np.max(np.abs(z))), "chi2": float(np.sum(z**2)), "terms": int(z.size),
            "max_abs_z_per_temperature": np.max(np.abs(z), axis=1).tolist()}


def same_vectors(real, w, t, b, norm, seed: int, n_vectors: int, steps: int, cheb) -> dict:
    """FTLM with the Chebyshev run's own random vectors: at T = max T both filter them with
    e^{-H/2T}, so their difference there is the expansion error alone (no vector noise)."""
    f = ftlm_absorption(real, w, t, b, n_vectors=n_vectors, n_steps=steps, normalisation=norm,
                        seed=seed, velocity=False)
    top = int(np.argmax(t))
    gap = f.absorption[top] - cheb.absorption[top]
    return {"temperature": float(t[top]), "ftlm": f.absorption[top].tolist(),
            "chebyshev": cheb.absorption[top].tolist(), "difference": gap.tolist(),
            "difference_over_chebyshev_error": (gap / cheb.absorption_error[top]).tolist(),
            "difference_over_plateau": float(np.max(np.abs(gap)) / np.abs(cheb.absorption).max())}


def run_case(name: str, n: int, cheb_vectors: int, ftlm_vectors: int, steps: int,
             dense_max: int, check_same_vectors: bool = False) -> dict:
    spec = CASES[name]
    params = model_params(n, spec)
    w, t = np.array(spec["frequencies"]), np.array(spec["temperatures"])
    b = Broadening(**spec["broadening"])
    norm = absorption_normalisation(params)
    real = draw_realisation(params, realisation_rng(spec["seed"], spec["realisation"]))
    start = time.perf_counter()
    try:
        c = chebyshev_absorption(real, w, t, b, ChebyshevParams(n_vectors=cheb_vectors),
                                 normalisation=norm, seed=spec["seed"],
                                 observables=("absorption", "velocity_shift"))
    except (ValueError, MemoryError) as err:  # e.g. too many moments or too much memory
        return {"n_tls": n, "dimension": 2**n,
                "chebyshev_refused": f"{type(err).__name__}: {' '.join(str(err).split())}"}
    cheb_seconds = time.perf_counter() - start
    start = time.perf_counter()
    f = ftlm_absorption(real, w, t, b, n_vectors=ftlm_vectors, n_steps=steps, normalisation=norm,
                        seed=spec["seed"] + FTLM_SEED_OFFSET)
    ftlm_seconds = time.perf_counter() - start
    row = {
        "n_tls": n, "dimension": 2**n,
        "chebyshev": {"n_vectors": cheb_vectors, "seconds": cheb_seconds,
                      "moments": [d["n_moments"] for d in c.diagnostics],
                      "absorption": c.absorption.tolist(), "absorption_error": c.absorption_error.tolist(),
                      "velocity_shift": c.velocity_shift.tolist(),
                      "velocity_shift_error": c.velocity_shift_error.tolist()},
        "ftlm": {"n_vectors": ftlm_vectors, "n_steps": steps, "seconds": ftlm_seconds,
                 "thermal_ritz_states_max": int(f.thermal_states.max()),
                 "absorption": f.absorption.tolist(), "absorption_error": f.absorption_error.tolist(),
                 "absorption_truncation_max": float(f.absorption_truncation.max()),
                 "velocity_shift": f.velocity_shift.tolist(),
                 "velocity_shift_error": f.velocity_shift_error.tolist()},
        "absorption": compare((c.absorption, c.absorption_error), (f.absorption, f.absorption_error)),
        "velocity_shift": compare((c.velocity_shift, c.velocity_shift_error),
                                  (f.velocity_shift, f.velocity_shift_error)),
        "relative_error_median": {
            "chebyshev": float(np.median(c.absorption_error / np.abs(c.absorption).max())),
            "ftlm": float(np.median(f.absorption_error / np.abs(f.absorption).max()))},
    }
    if check_same_vectors:
        row["same_vectors"] = same_vectors(real, w, t, b, norm, spec["seed"], cheb_vectors,
                                          steps, c)
    if n <= dense_max:
        exact = dense_reference(real, params, w, t, b)
        row["dense"] = {
            "absorption": exact["absorption"].tolist(),
            "velocity_shift": exact["velocity_shift"].tolist(),
            "chebyshev_absorption": against_exact(c.absorption, c.absorption_error, exact["absorption"]),
            "ftlm_absorption": against_exact(f.absorption, f.absorption_error, exact["absorption"]),
            "chebyshev_velocity_shift": against_exact(c.velocity_shift, c.velocity_shift_error,
                                                      exact["velocity_shift"]),
            "ftlm_velocity_shift": against_exact(f.velocity_shift, f.velocity_shift_error,
                                                 exact["velocity_shift"])}
    return row


def _metadata() -> dict:
    import manybody

    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()
    return {"manybody": manybody.__version__, "numpy": np.__version__, "git_commit": commit,
            "host": platform.node(), "python": platform.python_version(),
            "threads": 1, "load_average_at_start": list(os.getloadavg()),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S")}


def main(argv: list[str] | None = None) -> int:
    vectors = v.cli_integer(2, 1_000_000)  # >= 2: the error bar is their spread
    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=v.cli_integer(2, MAX_TLS), nargs="+", default=[14],
                        help="numbers of TLS N (default: %(default)s)")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES),
                        help="cases (model, probe) to check (default: %(default)s)")
    parser.add_argument("--cheb-vectors", type=vectors, default=8,
                        help="random vectors of the Chebyshev solve (default: %(default)s)")
    parser.add_argument("--ftlm-vectors", type=vectors, default=8,
                        help="random vectors of the FTLM solve (default: %(default)s)")
    parser.add_argument("--steps", type=v.cli_integer(MIN_STEPS, 100_000), default=200,
                        help=f"Lanczos steps per recursion (>= {MIN_STEPS}; capped at D)")
    parser.add_argument("--dense-max", type=v.cli_integer(0, MAX_TLS), default=12,
                        help="largest N with a dense-ED referee (default 12; 0: none)")
    parser.add_argument("--same-vectors", action="store_true",
                        help="also run FTLM on the Chebyshev vectors (expansion error at max T)")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help="JSON file of results (default: results/bench/ftlm_crosscheck.json)")
    add_overwrite_option(parser, entries=True)
    args = parser.parse_args(argv)
    if getattr(args, "out", None) is not None:  # before any work (session 31)
        args.out = checked_output_option(parser, "--out", args.out)
        refuse_replaced_records(parser, "--out", args.out,
                                [("results", f"{name}_n{n}") for n in args.sizes
                                 for name in args.cases], overwrite=args.overwrite,
                                other="--sizes, --cases")
    v.cli_refuse_repeats(parser, args, "sizes", "cases")
    try:  # a refusal known only at run time: one line; the cases that finished are kept
        return crosscheck(args, argv)
    except (ValueError, MemoryError) as exc:
        print(f"{Path(__file__).name}: error: {type(exc).__name__}: "
              f"{' '.join(str(exc).split())}", file=sys.stderr)
        return 1


def crosscheck(args: argparse.Namespace, argv: list[str] | None) -> int:
    """Every (size, case) of ``args``; the file is written once a case has finished (with the
    refusals before it), never by a run in which the Chebyshev solver refused every case."""
    out = json.loads(args.out.read_text()) if args.out.exists() else {}
    out.setdefault("runs", []).append({**_metadata(), "argv": argv if argv is not None else
                                        sys.argv[1:]})
    out.setdefault("cases", {}).update({k: CASES[k] for k in args.cases})
    out.setdefault("results", {})
    finished, refusals = 0, []
    for n in args.sizes:
        for name in args.cases:
            row = run_case(name, n, args.cheb_vectors, args.ftlm_vectors, args.steps,
                           args.dense_max, args.same_vectors)
            out["results"][f"{name}_n{n}"] = row
            if "chebyshev_refused" in row:
                refusals.append(f"{name} N={n}: {row['chebyshev_refused']}")
                print(f"{name} N={n}: chebyshev refused: {row['chebyshev_refused']}", flush=True)
                if finished:
                    atomic_write_text(args.out, jsonio.dumps(out, indent=1))
                continue
            finished += 1
            a = row["absorption"]
            print(f"{name} N={n}: chebyshev {row['chebyshev']['seconds']:.0f} s, ftlm "
                  f"{row['ftlm']['seconds']:.0f} s; Q: max|z| {a['max_abs_z']:.2f}, chi2 "
                  f"{a['chi2']:.1f} / {a['terms']}; velocity: max|z| "
                  f"{row['velocity_shift']['max_abs_z']:.2f}", flush=True)
            if "same_vectors" in row:
                print("  same vectors at max T, (ftlm - chebyshev) / chebyshev error: "
                      f"{row['same_vectors']['difference_over_chebyshev_error']}", flush=True)
            if "dense" in row:
                d = row["dense"]
                print(f"  vs dense ED, Q max|z|: chebyshev {d['chebyshev_absorption']['max_abs_z']:.2f}"
                      f", ftlm {d['ftlm_absorption']['max_abs_z']:.2f}", flush=True)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(args.out, jsonio.dumps(out, indent=1))
    if not finished:
        print(f"{Path(__file__).name}: error: the chebyshev solver refused every case, nothing "
              f"written: {'; '.join(refusals)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
