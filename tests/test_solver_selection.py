"""Solver selection in run specs: dense, chebyshev and auto share one results schema."""

import numpy as np
import pytest

from manybody.diagonalise import SolverParams
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import run_sweep

SPEC = {
    "name": "solvers", "seed": 3, "realisations": 2,
    "model": {"n_tls": 6, "coupling": {"kind": "gaussian", "strength": 0.05}},
    "probe": {"frequencies": [0.3], "temperatures": [0.3, 1.0],
              "observables": ["absorption", "specific_heat"],
              "broadening": {"kind": "gaussian", "width": 0.05}},
}


def spec_with(solver):
    return RunSpec.from_dict({**SPEC, "solver": solver})


def test_chebyshev_run_has_the_dense_variables_plus_errors():
    dense = run_sweep(spec_with({"method": "dense"}))
    cheb = run_sweep(spec_with({"method": "chebyshev", "chebyshev": {"n_vectors": 4}}))
    assert set(dense.data_vars) == {"absorption", "specific_heat", "realisation_count"}
    assert set(cheb.data_vars) == {"absorption", "specific_heat", "absorption_error",
                                   "specific_heat_error", "realisation_count"}
    assert cheb["absorption"].dims == dense["absorption"].dims
    assert cheb["absorption_error"].attrs["units"] == "pi*C0"
    assert np.all(cheb["absorption_error"].values > 0)
    # the same disorder: the specific heat agrees within the reported errors (5 sigma)
    diff = np.abs(cheb["specific_heat"] - dense["specific_heat"])
    assert np.all(diff.values <= 5 * cheb["specific_heat_error"].values + 1e-9)


def test_auto_picks_dense_at_small_n_with_zero_errors():
    auto = run_sweep(spec_with({"method": "auto"}))
    dense = run_sweep(spec_with({"method": "dense"}))
    np.testing.assert_array_equal(auto["absorption"].values, dense["absorption"].values)
    assert np.all(auto["absorption_error"].values == 0)


def test_solver_options_validated_and_round_trip():
    spec = spec_with({"method": "chebyshev", "chebyshev": {"n_vectors": 4}})
    assert RunSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ValueError, match="solver.method must be one of"):
        SolverParams(method="lanczos")
    with pytest.raises(ValueError, match=r"unknown key\(s\) 'vectors' in solver.chebyshev"):
        SolverParams(method="chebyshev", chebyshev={"vectors": 4})
