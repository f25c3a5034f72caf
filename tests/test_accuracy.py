"""Accuracy of the default absorption and velocity-shift path in single realisations.

The default ``absorption`` / ``velocity_shift`` / ``pair_spectrum`` (the path behind every stored
per-realisation value) must agree with the direct pair sum, evaluated here with the Broadening's own
numpy/scipy kernels on all D^2 ordered pairs, to <= 1e-4 of the plateau (Q in units of pi*C0,
delta v / v in units of C0) at every temperature, for every model family.
"""

from __future__ import annotations

import numpy as np
import pytest

import manybody as mb
from manybody.simulation.observables.absorption import pair_spectrum
from manybody.simulation.observables.pair_sum import _numpy_per_state, exact_per_state
from manybody.simulation.observables.thermo import boltzmann_weights
from manybody.simulation.solvers.dense import Spectrum

TLS = {"asymmetry_max": 0.3, "tunnelling_min": 1e-3, "tunnelling_max": 0.3}
SIGN = {"deformation_potential": 1.0, "distribution": "random_sign"}
FAMILIES = {
    "independent": {"tls": TLS, "stress": SIGN},
    "gaussian": {"tls": TLS, "stress": SIGN, "coupling": {"kind": "gaussian", "strength": 0.1}},
    "gaussian_weak": {"tls": TLS, "stress": SIGN,
                      "coupling": {"kind": "gaussian", "strength": 0.003}},
    "dipolar": {"tls": TLS, "stress": SIGN, "coupling": {"kind": "dipolar", "strength": 0.03}},
    "xz_couplings": {"tls": TLS, "stress": SIGN,
                     "coupling": {"kind": "gaussian", "strength": 0.1,
                                  "components": ["zz", "xx", "xz", "zx"]}},
    "tls_goe": {"tls": TLS, "stress": SIGN, "random_matrix": {"kind": "goe", "weight": 0.3}},
    "flat_block": {"tls": False, "random_matrix": {"kind": "flat", "weight": 10.0,
                                                   "growth_temperature": 0.3},
                   "stress": {"deformation_potential": 1.0, "distribution": "none",
                              "random_matrix": 1.0, "random_matrix_kind": "goe"}},
    "exponential_block": {"tls": False, "random_matrix": {"kind": "exponential", "weight": 10.0,
                                                          "growth_temperature": 0.3},
                          "stress": {"deformation_potential": 1.0, "distribution": "none",
                                     "random_matrix": 1.0, "random_matrix_kind": "eth"}},
    "two_body_stress": {"tls": TLS, "stress": {**SIGN, "two_body": 1.0},
                        "coupling": {"kind": "dipolar", "strength": 0.03}},
}
W = np.array([0.05, 0.1])
TEMPS = 0.1 / np.array([10.0, 5.0, 2.0, 1.0, 0.5, 0.2, 0.1])   # T = w/10 ... 10 w
TOL = 1e-4   # of the plateau (1 in units of pi*C0 for Q, C0 for delta v / v)


def _realisations(family: str, n_tls: int, count: int):
    params = mb.ModelParams.from_dict({"n_tls": n_tls, **FAMILIES[family]})
    for r in range(count):
        real = mb.draw_realisation(params, mb.realisation_rng(seed=11, realisation=r))
        spectrum, t_mn = mb.solve(real)
        yield params, spectrum, t_mn


def _direct(spectrum, t_mn, w, temps, b, dispersive):
    per_state = _numpy_per_state(spectrum.energies, t_mn, np.asarray(w, float), b, dispersive)
    return boltzmann_weights(spectrum.energies, temps) @ per_state


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_default_absorption_matches_direct_pair_sum(family):
    b = mb.Broadening(kind="gaussian", width=0.02)
    for params, spectrum, t_mn in _realisations(family, 6, 4):
        norm = mb.absorption_normalisation(params)
        q = mb.absorption(spectrum, t_mn, W, TEMPS, b, normalisation=norm)
        dv = mb.velocity_shift(spectrum, t_mn, W, TEMPS, b, normalisation=norm)
        q_ref = norm * _direct(spectrum, t_mn, W, TEMPS, b, False)
        dv_ref = -0.5 * norm * _direct(spectrum, t_mn, W, TEMPS, b, True)
        assert np.abs(q - q_ref).max() <= TOL
        assert np.abs(dv - dv_ref).max() <= TOL
        # the pipeline's path (pair_spectrum reused for both observables) is the same numbers
        pairs = pair_spectrum(spectrum, t_mn, W, b)
        np.testing.assert_array_equal(norm * pairs.absorption(W, TEMPS), q)


@pytest.mark.parametrize("kind", ["gaussian", "lorentzian", "histogram"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_kernel_matches_direct_sum(kind, dtype):
    """Both kernels (K and its dispersive partner R) of every kind, float32 T, unsorted energies
    and exact degeneracies: the compiled pair sum equals the direct evaluation to ~1e-11 (it was
    ~1e-8 before the Dawson kernel's accuracy was raised; tests/test_pair_sum_accuracy.py)."""
    rng = np.random.default_rng(3)
    dim = 120
    energies = np.round(rng.uniform(0, 1.5, dim), 2)  # many exact degeneracies, unsorted
    t = rng.standard_normal((dim, dim))
    t = ((t + t.T) / 2).astype(dtype)
    b = mb.Broadening(kind=kind, width=0.03)
    w = np.array([0.013, 0.2, 0.77])
    for dispersive in (False, True):
        got = exact_per_state(energies, t, w, b, dispersive)
        ref = _numpy_per_state(energies, t, w, b, dispersive)
        finite = np.isfinite(ref)   # histogram R is infinite exactly at its box edges
        assert np.array_equal(finite, np.isfinite(got))
        scale = np.abs(ref[finite]).max()
        np.testing.assert_allclose(got[finite], ref[finite], rtol=0, atol=1e-11 * scale)


def test_binned_method_error_is_what_its_docstring_says():
    """The binned grid (kept as an option) has errors ~(1/resolution)^2/8 of a line's peak: a
    lone line between grid nodes shows it, and it shrinks ~ resolution^-2."""
    spectrum = Spectrum(np.array([0.0, 0.1 + 0.0013]), None)
    t_mn = np.array([[0.0, 1.0], [1.0, 0.0]])
    errs = []
    for res in (10, 20):
        b = mb.Broadening(width=0.02, resolution=res)
        q_b = mb.absorption(spectrum, t_mn, [0.1], [1.0], b, method="binned")
        q_e = mb.absorption(spectrum, t_mn, [0.1], [1.0], b)
        peak = q_e.max()
        errs.append(abs(q_b - q_e).max() / peak)
        assert errs[-1] <= (1 / res) ** 2 / 8 * 1.01
    assert errs[1] < errs[0] / 3
    # the default path has no such error
    q = mb.absorption(spectrum, t_mn, [0.1], [1.0], mb.Broadening(width=0.02))
    p = boltzmann_weights(spectrum.energies, [1.0])[0]
    line = (p[0] - p[1]) * np.exp(-0.5 * (0.0013 / 0.02) ** 2) / (0.02 * np.sqrt(2 * np.pi))
    assert q[0, 0] == pytest.approx(line, rel=1e-12)


@pytest.mark.slow
def test_bench_pair_sum_script_tiny(tmp_path):
    """scripts/bench_pair_sum.py runs on tiny sizes and records both methods' errors and costs."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "pair_sum.json"
    proc = subprocess.run([sys.executable, "scripts/bench_pair_sum.py", "--sizes", "4", "5",
                           "--out", str(out)], capture_output=True, text=True, cwd=root,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(out.read_text())["rows"]
    assert [r["dimension"] for r in rows] == [16, 32]
    for r in rows:
        assert r["exact_s"] > 0 and r["binned_s"] > 0
        assert r["exact_max_abs_error_q_rel_to_max_q"] < 1e-10
        assert r["exact_max_abs_error_chi_rel_to_max_q"] < 1e-6
