"""Session 62: faults left in session 61's note, fixed: the default-TLS warning at a random
matrix of weight 0 (bt217 F3), a Chebyshev dtype given at its stochastic default where the exact
trace replaces it (bt217 F7), and the Chebyshev memory refusal's remedies at a small D (bt216
F11)."""

from __future__ import annotations

import warnings

import pytest

import manybody as mb
from manybody.config.model import ModelParams, RandomMatrixParams, TLSParams
from manybody.config.solver import ChebyshevParams
from manybody.config.unused import UnusedParameterWarning, unused_parameters
from manybody.simulation.solvers.chebyshev import plan

PROBE = mb.Probe(temperatures=(0.05, 0.1), frequencies=(0.1,), observables=("absorption",))


# bt217 F3 ------------------------------------------------------------------------------------


def test_a_random_matrix_of_weight_zero_beside_the_default_tls_does_not_warn():
    """At weight 0 (a sweep's baseline) the model is the TLS term alone: nothing to warn of."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = ModelParams(n_tls=3, random_matrix=RandomMatrixParams(weight=0.0))
    assert model.tls == TLSParams()
    with pytest.warns(UserWarning, match=r"tls is not given beside random_matrix \(weight 0.01 K\)"):
        ModelParams(n_tls=3, random_matrix=RandomMatrixParams(weight=0.01))


# bt217 F7 ------------------------------------------------------------------------------------


def test_a_float32_dtype_given_where_the_exact_trace_replaces_it_is_warned():
    """ChebyshevParams(dtype='float32') equals the stochastic default, but the user chose it: at
    D = 16 the solver takes the exact trace in float64 and the float32 changes nothing."""
    model = ModelParams(n_tls=4)
    given = mb.SolverParams(method="chebyshev", chebyshev=ChebyshevParams(dtype="float32"))
    with pytest.warns(UnusedParameterWarning,
                      match=r"solver\.chebyshev\.dtype = 'float32' has no effect: at D = 16 the "
                            r"solver takes the exact trace in float64"):
        warned = mb.observe(model, 1, 0, PROBE, given)
    with warnings.catch_warnings():  # not given: nothing to say, and the same numbers
        warnings.simplefilter("error", UnusedParameterWarning)
        plain = mb.observe(model, 1, 0, PROBE, mb.SolverParams(method="chebyshev"))
    assert (warned["absorption"] == plain["absorption"]).all()


def test_a_float32_dtype_under_a_stochastic_trace_at_a_large_d_is_not_warned():
    model = ModelParams(n_tls=9)
    given = mb.SolverParams(method="chebyshev", chebyshev=ChebyshevParams(dtype="float32"))
    assert unused_parameters(model, PROBE, given, "chebyshev") == []


# bt216 F11 -----------------------------------------------------------------------------------


def _narrow(n_tls: int, memory_fraction: float = 0.8):
    model = ModelParams(n_tls=n_tls)
    probe = mb.Probe(temperatures=(0.05, 0.1), frequencies=(0.1,), observables=("absorption",),
                     broadening=mb.Broadening(width=1e-4))
    solver = mb.SolverParams(method="chebyshev", chebyshev=ChebyshevParams(
        max_moments=65536, trace="exact", memory_fraction=memory_fraction))
    return model, probe, solver


def test_a_memory_refusal_at_a_small_d_proposes_dense_ed_not_more_of_too_little(monkeypatch):
    """D = 32 with a 1e-4 K kernel needs hundreds of GB: 'a larger memory_fraction' cannot help,
    dense ED does."""
    monkeypatch.setattr(plan, "available_memory", lambda: 4 * 2**30)
    model, probe, solver = _narrow(5)
    with pytest.raises(MemoryError) as refused:
        mb.observe(model, 1, 0, probe, solver)
    message = str(refused.value)
    assert "solver.method = 'dense' (exact diagonalisation of D = 32" in message
    assert "of 4 GB available" in message
    assert "memory_fraction >=" not in message and "larger memory_fraction" not in message


def test_a_memory_refusal_that_a_larger_fraction_would_lift_says_which(monkeypatch):
    monkeypatch.setattr(plan, "available_memory", lambda: 4000 * 2**30)
    model, probe, solver = _narrow(5, memory_fraction=0.01)
    with pytest.raises(MemoryError, match=r"chebyshev\.memory_fraction >= 0\.\d+"):
        mb.observe(model, 1, 0, probe, solver)
