"""Faults of the Chebyshev solver's error bars and of "auto" under equilibration found by a break
test in session 53 (helper-166), each with the right value or behaviour.

- A float32 solve (the default dtype) with an exact trace reported delta v/v to 5e-13 against
  float32 deviations of 5e-7 (z = 1e6) and Q^-1 at z = 363: the float32 floor was relative to
  each point's value and absent for delta v/v. Now FLOAT32_ROUND_OFF_OF_LARGEST of the largest.
- A rung whose specific heat is all ~0 reported 0.0 +- 0.0 (dense ED: 2.9e-13).
- ``solver.method = "auto"`` was chosen once from the full N; equilibration then left a few active
  TLS per temperature and the Chebyshev solver ran them with an exact float32 trace (errors 1e5
  times too small). A reduced realisation is now chosen for by its own size (dense ED).
"""

from __future__ import annotations

import numpy as np
import pytest

from manybody.config.model import ModelParams
from manybody.config.probe import Broadening, Probe
from manybody.config.solver import ChebyshevParams, SolverParams
from manybody.simulation.ensembles import absorption_normalisation, draw_realisation, realisation_rng
from manybody.simulation.equilibration import freezing_temperatures, frozen_masks
from manybody.simulation.observables.absorption import absorption, velocity_shift
from manybody.simulation.observables.thermo import specific_heat
from manybody.simulation.observe import observe
from manybody.simulation.solvers import solver_route
from manybody.simulation.solvers.chebyshev import solver as ch
from manybody.simulation.solvers.dense import solve

TLS = {"asymmetry_max": 0.3, "tunnelling_min": 1e-3, "tunnelling_max": 0.3}
#: dense ED's delta v/v is accurate to ~1e-8 of its largest value (its Dawson table, pair_sum.py)
DENSE_VELOCITY_ACCURACY = 1e-8


def test_float32_exact_trace_error_bars_cover_the_round_off():
    """helper-166's case (N = 6, Gaussian couplings 0.05 K, a relative kernel 0.2 w, exact trace,
    float32): Q^-1 and delta v/v within 3 error bars of dense ED (before: z = 363 and 1e6), and
    the floor is the documented fraction of the largest value."""
    params = ModelParams.from_dict({"n_tls": 6, "tls": TLS,
                                    "coupling": {"kind": "gaussian", "strength": 0.05}})
    real = draw_realisation(params, realisation_rng(5, 0))
    w, t = np.array([0.05, 0.1]), np.array([0.01, 0.1, 1.0])
    kernel = Broadening(kind="gaussian", width=0.2, scaling="relative")
    norm = absorption_normalisation(params)
    spectrum, elements = solve(real)
    res = ch.chebyshev_absorption(real, w, t, kernel,
                                  ChebyshevParams(trace="exact", dtype="float32", operator="sparse"),
                                  normalisation=norm, observables=("absorption", "velocity_shift"))
    ref = {"absorption": absorption(spectrum, elements, w, t, kernel, normalisation=norm),
           "velocity_shift": velocity_shift(spectrum, elements, w, t, kernel, normalisation=norm)}
    for name, kind in (("absorption", "abs"), ("velocity_shift", "vel")):
        got, err, want = getattr(res, name), getattr(res, f"{name}_error"), ref[name]
        floor = ch.FLOAT32_ROUND_OFF_OF_LARGEST[kind] * np.abs(got).max()
        assert np.all(err >= floor * (1 - 1e-12)), name
        assert np.all(np.abs(got - want) <= 3 * err + DENSE_VELOCITY_ACCURACY * np.abs(want).max()), (
            name, np.abs(got - want) / err)


def test_specific_heat_error_is_not_zero_where_the_heat_is():
    """Independent TLS at N = 5, an exact float64 trace down to 10 mK: the coldest rung's C(T) is
    0 (dense ED 2.9e-13) and its error was exactly 0; now every error is at least HEAT_LEAKAGE
    and covers the deviation."""
    params = ModelParams(n_tls=5)
    real = draw_realisation(params, realisation_rng(1, 0))
    spectrum, _ = solve(real)
    t = np.geomspace(0.01, 1.0, 7)
    res = ch.chebyshev_absorption(real, [0.05, 0.1], t, Broadening(kind="gaussian", width=0.02),
                                  ChebyshevParams(trace="exact", dtype="float64", operator="sparse"))
    heat, err = res.specific_heat, res.specific_heat_error
    assert np.all(err >= ch.HEAT_LEAKAGE)
    assert np.all(np.abs(heat - specific_heat(spectrum.energies, t)) <= 3 * err)


def test_auto_solves_a_realisation_that_equilibration_reduces_by_its_own_size():
    """N = 13 (beyond "auto"'s dense limit of 12) with equilibration that leaves one active TLS at
    both temperatures: "auto" now gives dense ED's numbers bit for bit (before: the Chebyshev
    solver's exact float32 trace, Q^-1 = 3.5e-8 +- 1e-13 against 3e-21), and the route says so."""
    params = ModelParams.from_dict({"n_tls": 13, "tls": TLS,
                                    "coupling": {"kind": "gaussian", "strength": 0.05},
                                    "equilibration": {"measurement_time": 1e-6}})
    probe = Probe(frequencies=(0.05, 0.1), temperatures=(0.3, 1.0),
                  broadening=Broadening(kind="gaussian", width=0.2, scaling="relative"),
                  observables=("absorption", "velocity_shift"))
    real = draw_realisation(params, realisation_rng(5, 0))
    freezing = freezing_temperatures(real, params.equilibration, params.stress.deformation_potential)
    active = (~frozen_masks(freezing, probe.temperatures)).sum(axis=1)
    assert 1 <= active.max() <= 12  # every temperature group is reduced, none is empty
    auto = observe(params, 5, 0, probe, SolverParams(method="auto"))
    dense = observe(params, 5, 0, probe, SolverParams(method="dense"))
    for name in ("absorption", "velocity_shift"):
        np.testing.assert_array_equal(auto[name], dense[name])
        np.testing.assert_array_equal(auto[f"{name}_error"], 0.0)
    assert "dense ED at temperatures where equilibration leaves" in solver_route(
        params, SolverParams(method="auto"))
    assert "dense ED" not in solver_route(ModelParams.from_dict({"n_tls": 13, "tls": TLS}),
                                          SolverParams(method="auto"))


@pytest.mark.parametrize("method", ["chebyshev", "dense"])
def test_an_explicit_method_is_kept_for_reduced_realisations(method):
    """Only "auto" chooses per reduced realisation: an explicit method is the user's choice."""
    from manybody.simulation.solvers import solver_for_realisation
    params = ModelParams.from_dict({"n_tls": 13, "equilibration": {"measurement_time": 1e-6}})
    assert solver_for_realisation(params, SolverParams(method=method), 2) == method
    assert solver_for_realisation(params, SolverParams(method="auto"), 2) == "dense"
    assert solver_for_realisation(params, SolverParams(method="auto"), 13) == "chebyshev"


def test_exact_trace_truncation_probes_catch_an_error_that_oscillates_with_m():
    """Two TLS left active by equilibration at T = 1 K (D = 4, above the whole spectrum; diagonal
    stress elements ~1.9 against the resonant 0.03): at the plan's M = 157 Q^-1 at w = 0.05 K was
    6.1e-5 +- 5.9e-6 against dense ED's 1.9e-10 (z = 10), since the result jumps with M and the
    two probes (0.9 M, 0.95 M) happened to agree with it. An exact trace has four probes now."""
    from manybody.simulation.equilibration import frozen_configuration, frozen_rng, reduce_realisation
    from manybody.simulation.solvers.chebyshev.contraction import coarse_moments

    params = ModelParams.from_dict({"n_tls": 6, "tls": TLS,
                                    "coupling": {"kind": "gaussian", "strength": 0.05},
                                    "equilibration": {"measurement_time": 1e-4}})
    real = draw_realisation(params, realisation_rng(5, 0))
    freezing = freezing_temperatures(real, params.equilibration, params.stress.deformation_potential)
    frozen = frozen_masks(freezing, [1.0])[0]
    part = reduce_realisation(real, frozen, frozen_configuration(real, freezing, frozen_rng(5, 0)))
    assert part.n_tls == 2
    w, t = np.array([0.05, 0.1]), np.array([1.0])
    kernel = Broadening(kind="gaussian", width=0.2, scaling="relative")
    norm = absorption_normalisation(params)
    spectrum, elements = solve(part)
    want = absorption(spectrum, elements, w, t, kernel, normalisation=norm)
    res = ch.chebyshev_absorption(part, w, t, kernel, ChebyshevParams(trace="exact", dtype="float64"),
                                  normalisation=norm)
    assert res.diagnostics[0]["n_moments"] == 157  # the case as found
    assert res.diagnostics[0]["coarse_moments"] == list(coarse_moments(157, exact=True))
    assert len(coarse_moments(157, exact=True)) == 4 and len(coarse_moments(157)) == 2
    assert np.all(np.abs(res.absorption - want) <= 3 * res.absorption_error), (
        np.abs(res.absorption - want) / res.absorption_error)


@pytest.mark.parametrize(("coupling", "seed", "tol", "temperatures"), [
    (None, 16, 0.1, [0.001, 0.003, 0.01]), ({"kind": "gaussian", "strength": 0.05}, 15, 1e-4, [0.002])])
def test_cold_specific_heat_error_covers_the_series_leakage(coupling, seed, tol, temperatures):
    """helper-169's cases (N = 5, exact trace): C = 1.7e-10 +- 1.4e-11 k_B where dense ED has
    3e-39 (z = 12), and 0 +- 0 at a single cold temperature (the floor over the solve was 0 there);
    now the error is at least HEAT_LEAKAGE and covers them."""
    d = {"n_tls": 5, "tls": TLS, **({"coupling": coupling} if coupling else {})}
    real = draw_realisation(ModelParams.from_dict(d), realisation_rng(seed, 0))
    spectrum, _ = solve(real)
    t = np.array(temperatures)
    res = ch.chebyshev_absorption(real, [0.04], t, Broadening(kind="gaussian", width=0.005),
                                  ChebyshevParams(trace="exact", operator="sparse", truncation_tol=tol),
                                  observables=("absorption", "specific_heat"))
    assert np.all(res.specific_heat_error >= ch.HEAT_LEAKAGE)
    assert np.all(np.abs(res.specific_heat - specific_heat(spectrum.energies, t))
                  <= 3 * res.specific_heat_error)


def test_a_subnormal_truncation_tol_is_not_blamed_on_the_window():
    """truncation_tol = 5e-324 was refused as "chebyshev.window_sigmas must be a finite real
    number, got inf" (1/tol overflowed): the window defaults are finite."""
    params = ChebyshevParams(truncation_tol=5e-324)
    assert np.isfinite(params.window_sigmas) and np.isfinite(params.window_temperatures)
