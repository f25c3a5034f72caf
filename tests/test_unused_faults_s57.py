"""Options that changed nothing and were not warned (a tester, bt190, session 57): the Chebyshev
trace and precision where the solver takes the exact float64 trace anyway."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from manybody.runs.spec import RunSpec, preflight
from manybody.runs.sweep import run_sweep


def _spec(n_tls: int, chebyshev: dict) -> RunSpec:
    return RunSpec.from_dict({
        "name": "t", "seed": 3, "realisations": 2,
        "model": {"n_tls": n_tls, "coupling": {"kind": "gaussian", "strength": 0.02}},
        "probe": {"frequencies": [0.1], "temperatures": [0.05, 0.1],
                  "observables": ["absorption", "velocity_shift"]},
        "solver": {"method": "chebyshev", "chebyshev": chebyshev}})


def _warned(spec: RunSpec) -> dict[str, str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        preflight(spec)
    return {str(w.message).split(" = ")[0]: str(w.message) for w in caught
            if "has no effect" in str(w.message)}


def _values(spec: RunSpec) -> dict[str, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = run_sweep(spec)
    return {name: ds[name].values for name in ds.data_vars}


@pytest.mark.parametrize(("given", "other"), [
    ({"trace": "stochastic"}, {"trace": "exact", "dtype": "float64"}),
    ({"dtype": "float32"}, {"dtype": "float64"}),
])
def test_trace_and_dtype_at_a_dimension_the_solver_takes_exactly_are_warned_and_change_nothing(
        given, other):
    spec = _spec(3, given)
    warned = _warned(spec)
    (name,) = given
    key = f"solver.chebyshev.{name}"
    assert key in warned, warned
    assert "at D = 8 the solver takes the exact trace in float64" in warned[key]
    first, second = _values(spec), _values(_spec(3, other))
    for variable in first:
        np.testing.assert_array_equal(first[variable], second[variable], err_msg=variable)


def test_trace_and_dtype_are_not_warned_where_random_vectors_are_used():
    assert not {"solver.chebyshev.trace", "solver.chebyshev.dtype"} & set(
        _warned(_spec(6, {"trace": "stochastic", "dtype": "float32"})))


def test_an_exact_trace_asked_for_keeps_its_dtype_and_is_not_warned():
    # trace = "exact" with dtype = "float32" is a float32 exact trace: the dtype is used
    assert "solver.chebyshev.dtype" not in _warned(_spec(3, {"trace": "exact", "dtype": "float32"}))
