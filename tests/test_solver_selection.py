"""Solver selection in run specs: dense, chebyshev and auto share one results schema."""

import json

import numpy as np
import pytest

from manybody.config.solver import SolverParams
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
    # the file says how each point was solved (N = 6 stays below the "auto" matrix-free size)
    assert json.loads(dense.attrs["solver_routes"]) == ["dense, float64"]
    assert json.loads(cheb.attrs["solver_routes"]) == ["chebyshev, sparse operators, float32 vectors"]


def test_solver_routes_per_point_follow_the_sweep():
    """A sweep over N under "auto" records dense ED for small N and the matrix-free Chebyshev
    operator above the threshold, point by point in C order, before anything runs."""
    from manybody.runs.spec import point_routes

    spec = RunSpec.from_dict({**SPEC, "solver": {"method": "auto"},
                              "sweep": {"model.n_tls": [4, 14]}})
    assert point_routes(spec) == ["dense, float64", "chebyshev, matrix_free operator, float32 vectors"]
    forced = RunSpec.from_dict({**SPEC, "solver": {"method": "chebyshev",
                                                   "chebyshev": {"operator": "matrix_free"}},
                                "model": {**SPEC["model"], "random_matrix": {"kind": "goe",
                                                                              "weight": 0.5}}})
    assert "random-matrix terms have no matrix-free form" in point_routes(forced)[0]


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


# ---------------------------------------------------------------------------------------------
# typed Chebyshev options, the registry and the one unit convention


def test_chebyshev_table_becomes_typed_options_and_is_written_as_given():
    from manybody.config.solver import ChebyshevParams

    solver = SolverParams(method="chebyshev", chebyshev={"n_vectors": 8, "ladder": [0.1, 0.2]})
    assert isinstance(solver.chebyshev, ChebyshevParams)
    assert solver.chebyshev.ladder == (0.2, 0.1) and solver.chebyshev.n_vectors == 8
    # the run spec keeps the table as given (its digest resumes runs written before)
    assert solver.to_dict()["chebyshev"] == {"n_vectors": 8, "ladder": [0.1, 0.2]}
    assert SolverParams().to_dict()["chebyshev"] is None
    assert isinstance(SolverParams().chebyshev, ChebyshevParams)
    typed = SolverParams(method="chebyshev", chebyshev=ChebyshevParams(n_vectors=4))
    assert typed.to_dict()["chebyshev"] == {"n_vectors": 4}
    spec = spec_with(typed.to_dict())
    assert RunSpec.from_dict(spec.to_dict()) == spec and spec.solver.chebyshev.n_vectors == 4


def test_registry_answers_for_every_method():
    from manybody.config.model import ModelParams
    from manybody.simulation.solvers import SOLVERS, reports_errors, solver_for

    assert set(SOLVERS) == {"dense", "chebyshev"}
    assert solver_for(ModelParams(n_tls=4), SolverParams(method="auto")) == "dense"
    assert solver_for(ModelParams(n_tls=4), SolverParams(method="chebyshev")) == "chebyshev"
    assert not reports_errors(SolverParams())
    assert reports_errors(SolverParams(method="auto"))
    assert reports_errors(SolverParams(method="chebyshev"))


def test_unit_convention_is_applied_in_one_place():
    from manybody.simulation.observables.responses import Responses, physical_observables

    im, re = np.array([[2.0]]), np.array([[4.0]])
    chi = np.array([[3.0 + np.pi * 1j]])
    raw = Responses(im_chi=im, re_chi=re, specific_heat=np.array([0.5]),
                    relaxation_chi=chi, spacing_ratio=np.asarray(0.4),
                    errors={"im_chi": (np.array([[3.0]]), np.array([[4.0]])),
                            "re_chi": (np.array([[0.0]]), np.array([[1.0]])),
                            "specific_heat": (np.array([0.3]), np.array([0.4]))})
    names = ("absorption", "velocity_shift", "specific_heat", "spacing_ratio",
             "relaxation_absorption", "relaxation_velocity_shift")
    out = physical_observables(raw, 0.5, names, errors=True)
    assert out["absorption"][0, 0] == 1.0 and out["velocity_shift"][0, 0] == -1.0
    assert out["relaxation_absorption"][0, 0] == 0.5
    assert out["relaxation_velocity_shift"][0, 0] == -0.75
    assert out["absorption_error"][0, 0] == 2.5 and out["velocity_shift_error"][0, 0] == 0.25
    assert out["specific_heat_error"][0] == pytest.approx(0.5)
    assert "spacing_ratio_error" not in out
    exact = physical_observables(Responses(im_chi=im), 0.5, ("absorption",), errors=True)
    assert exact["absorption_error"][0, 0] == 0.0
    assert set(physical_observables(Responses(im_chi=im), 0.5, ("absorption",))) == {"absorption"}
