"""Inputs a user gets wrong, or takes to the edge, on the Chebyshev solver (session 16: a fresh
user's break test): each is either a clear refusal naming the parameter and the value, before
the expensive part, or the right number.

- Temperatures so low that the Boltzmann filter cannot resolve the ground state gave NaN, an
  overflow traceback, or values 4-8 error bars off with no warning; they are refused with the
  lowest temperature the realisation reaches, and just above it the exact trace is dense ED.
- ``n_vectors`` above 64 alone was refused through ``max_vectors``, an option the user never set.
- ``truncation_tol`` >= 1 was accepted (and gave negative Q).
- Small systems ran numba's parallel regions on every thread, which on a loaded machine cost up
  to 250x the solve; they now run on one.
- Observables given as a string were checked letter by letter, a generator was used up by the
  check (the velocity shift and C(T) came back None); a NaN, zero or negative normalisation
  was accepted.
- With an exact trace, C(T)'s error bar (~1e-14) was below its round-off deviation from dense ED.
- A second break test of these fixes: the resource estimate refused temperatures the solver
  accepts (its bounds are wider), and n_vectors = 100 with target_error could add no vectors.
"""

from __future__ import annotations

import numpy as np
import pytest

from manybody.config.model import ModelParams, RandomMatrixParams, TLSParams
from manybody.config.probe import Broadening
from manybody.config.solver import ChebyshevParams
from manybody.simulation.ensembles import draw_realisation, realisation_rng
from manybody.simulation.observables.absorption import absorption
from manybody.simulation.observables.thermo import specific_heat
from manybody.simulation.solvers.chebyshev import plan as cp
from manybody.simulation.solvers.chebyshev import solver as ch
from manybody.simulation.solvers.chebyshev.kpm import spectral_bounds
from manybody.simulation.solvers.dense import solve

KERNEL = Broadening(kind="gaussian", width=0.02)


@pytest.fixture(scope="module")
def bare():
    """N = 6 bare TLS (the break test's realisation) and its dense spectrum."""
    params = ModelParams(n_tls=6, tls=TLSParams(asymmetry_max=0.3, tunnelling_min=1e-3,
                                                tunnelling_max=0.3))
    real = draw_realisation(params, realisation_rng(1, 0))
    spectrum, elements = solve(real)
    return real, spectrum, elements


@pytest.mark.parametrize("temperature", [1e-4, 1e-5, 3e-5, 1e-6, 1e-9])
def test_temperatures_below_the_filter_are_refused_with_the_lowest_reachable(bare, temperature):
    real = bare[0]
    ops = ch.ChebyshevOperators(real, ChebyshevParams(n_vectors=4))
    lowest = cp.lowest_filter_temperature(spectral_bounds(ops.h))
    assert temperature < lowest < 1e-3
    for call in (ch.chebyshev_absorption, ch.plan_chebyshev):
        with pytest.raises(ValueError, match=r"temperature .* below what the chebyshev solver "
                           r"resolves.*lowest reference temperature here is about") as err:
            call(real, [0.1], [temperature, 0.05], KERNEL, ChebyshevParams(n_vectors=4), seed=1)
        assert f"{lowest:.3g} K" in str(err.value)


def test_the_resource_estimate_counts_a_huge_filter_without_building_it(bare, monkeypatch):
    """estimate_resources does not refuse very low temperatures (its bounds are wider than the
    solver's, so it would refuse temperatures the solver accepts); a filter of degree ~1e9 (1e-9
    K) is counted, not built (building it took seconds and gigabytes), and costs more than a
    warm one."""
    from manybody.simulation.solvers.chebyshev import resources

    built = []
    original = resources.exponential_coefficients

    def spy(c, *args, **kwargs):
        built.append(c)
        return original(c, *args, **kwargs)

    monkeypatch.setattr(resources, "exponential_coefficients", spy)
    cold = resources.estimate_resources(bare[0], [0.1], [1e-9, 0.05], KERNEL, n_vectors=4)
    warm = resources.estimate_resources(bare[0], [0.1], [0.02, 0.05], KERNEL, n_vectors=4)
    assert built and max(built) < 1e5
    assert cold["seconds"] > 100 * warm["seconds"] > 0


def test_just_above_the_lowest_temperature_the_exact_trace_is_dense_ed(bare):
    """At 1.5 x the lowest reference temperature (the ground-state regime of this realisation)
    Q and C(T) of the exact trace agree with dense ED within their reported errors."""
    real, spectrum, elements = bare
    ops = ch.ChebyshevOperators(real, ChebyshevParams(n_vectors=4))
    t = np.array([1.5, 3.0]) * cp.lowest_filter_temperature(spectral_bounds(ops.h))
    res = ch.chebyshev_absorption(real, [0.1], t, KERNEL, ChebyshevParams(
        trace="exact", dtype="float64"), seed=1)
    q = absorption(spectrum, elements, [0.1], t, KERNEL, method="exact")
    assert np.all(np.isfinite(res.absorption))
    assert np.all(np.abs(res.absorption - q) <= 3 * res.absorption_error + 1e-9 * np.abs(q).max())


def test_exact_trace_specific_heat_error_covers_its_round_off():
    """The break test's case (N = 6 TLS with a weak GOE term, exact trace): C(T) deviated from
    dense ED by ~1e-12 relative (round-off) against a reported error of ~1e-14."""
    params = ModelParams(n_tls=6, tls=TLSParams(asymmetry_max=0.3, tunnelling_min=1e-3,
                                                tunnelling_max=0.3),
                         random_matrix=RandomMatrixParams(kind="goe", weight=0.05))
    real = draw_realisation(params, realisation_rng(3, 0))
    spectrum, _ = solve(real)
    t = 0.1 / np.geomspace(0.2, 10, 12)
    res = ch.chebyshev_absorption(real, [0.1], t, KERNEL, ChebyshevParams(trace="exact"), seed=0)
    c = specific_heat(spectrum.energies, t)
    assert np.all(np.abs(res.specific_heat - c) <= 3 * res.specific_heat_error)
    assert np.all(res.specific_heat_error <= 1e-6 * np.abs(c).max())


def test_many_vectors_alone_need_no_max_vectors():
    assert ChebyshevParams(n_vectors=100).max_vectors == 400  # target_error can add vectors
    assert ChebyshevParams().max_vectors == 64
    assert ChebyshevParams(n_vectors=8, max_vectors=10).max_vectors == 10
    with pytest.raises(ValueError, match="chebyshev.max_vectors .* between 100 .* got 64"):
        ChebyshevParams(n_vectors=100, max_vectors=64)


@pytest.mark.parametrize("tol", [1, 1.0, 2.0, 1e3])
def test_truncation_tol_of_one_or_more_is_refused(tol):
    with pytest.raises(ValueError, match=r"chebyshev.truncation_tol must be in \(0, 0.1\]"):
        ChebyshevParams(truncation_tol=tol)
    assert ChebyshevParams(truncation_tol=0.1).truncation_tol == 0.1  # 0.5 too until session 53


def test_small_systems_run_the_compiled_kernels_on_one_thread(bare, monkeypatch):
    """A matrix-free solve with D <= 4096 runs numba's kernels on one thread (and restores the
    setting), so its numbers are those of any thread count and no parallel region waits."""
    import numba

    from manybody.simulation.solvers.chebyshev import matrix_free

    seen = []
    product = matrix_free.MatrixFreeOperator._product

    def spy(self, *args, **kwargs):
        seen.append(numba.get_num_threads())
        return product(self, *args, **kwargs)

    monkeypatch.setattr(matrix_free.MatrixFreeOperator, "_product", spy)
    before = numba.get_num_threads()
    res = ch.chebyshev_absorption(bare[0], [0.1], [0.05, 0.1], KERNEL,
                                  ChebyshevParams(n_vectors=2, operator="matrix_free"), seed=1)
    assert res.operator == "matrix_free"
    assert seen and set(seen) == {1}
    assert numba.get_num_threads() == before


def test_observables_as_a_string_and_a_nan_normalisation_are_refused(bare):
    real = bare[0]
    with pytest.raises(ValueError, match=r"observables must be a tuple .* got the string "
                       r"'absorption' \(write \('absorption',\)\)"):
        ch.chebyshev_absorption(real, [0.1], [0.1], KERNEL, ChebyshevParams(n_vectors=2),
                                observables="absorption")
    with pytest.raises(ValueError, match="normalisation"):
        ch.chebyshev_absorption(real, [0.1], [0.1], KERNEL, ChebyshevParams(n_vectors=2),
                                normalisation=float("nan"))
    with pytest.raises(TypeError, match="normalisation"):
        ch.chebyshev_absorption(real, [0.1], [0.1], KERNEL, ChebyshevParams(n_vectors=2),
                                normalisation="1")
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="normalisation must be > 0"):
            ch.chebyshev_absorption(real, [0.1], [0.1], KERNEL, ChebyshevParams(n_vectors=2),
                                    normalisation=bad)
    for bad in (None, 3, b"absorption"):
        with pytest.raises(ValueError, match="observables must be a tuple of names"):
            ch.chebyshev_absorption(real, [0.1], [0.1], KERNEL, ChebyshevParams(n_vectors=2),
                                    observables=bad)


def test_observables_from_a_generator_are_all_computed(bare):
    names = ["absorption", "velocity_shift", "specific_heat"]
    res = ch.chebyshev_absorption(bare[0], [0.1], [0.05, 0.1], KERNEL,
                                  ChebyshevParams(n_vectors=2), observables=(o for o in names))
    assert res.velocity_shift is not None and res.specific_heat is not None


def test_too_many_fixed_moments_name_the_option(bare):
    with pytest.raises(MemoryError, match=r"or fewer moments \(chebyshev.n_moments\)"):
        ch.chebyshev_absorption(bare[0], [0.1], [0.1], KERNEL,
                                ChebyshevParams(n_vectors=2, n_moments=65536), seed=1)


def test_tiny_systems_take_the_exact_trace():
    """Where D <= max(16, n_vectors) random vectors coincide and their spread can vanish: a new
    user's N = 1 run (seed 7, 4 vectors) reported 0.0300 +- 3e-7 where the value is 0.0296, and
    0.0081 +- 8e-8 against 0.0052 (|z| up to 3.6e4). Now such a D takes the exact trace."""
    model = ModelParams(n_tls=1, tls=TLSParams(asymmetry_max=0.3, tunnelling_min=1e-3,
                                               tunnelling_max=0.3))
    real = draw_realisation(model, realisation_rng(11, 9))
    args = ([0.2], [0.05, 0.5], Broadening(width=0.02))
    exact = ch.chebyshev_absorption(real, *args, ChebyshevParams(trace="exact"))
    asked = ch.chebyshev_absorption(real, *args, ChebyshevParams(n_vectors=4), seed=7)
    assert asked.exact_trace  # the same trace (not the same bits: the plans' blocks differ)
    np.testing.assert_allclose(asked.absorption, exact.absorption, rtol=1e-6)
    np.testing.assert_allclose(asked.absorption_error, exact.absorption_error, rtol=1e-3)
    spectrum, elements = solve(real)
    reference = absorption(spectrum, elements, *args, method="exact")
    assert np.all(np.abs(asked.absorption - reference)
                  <= 3 * asked.absorption_error + 1e-9 * np.abs(reference).max())
    stochastic = ChebyshevParams(n_vectors=8)
    assert cp.check_params(stochastic, 16).trace == "exact"
    assert cp.check_params(stochastic, 32).trace == "stochastic"
    assert cp.check_params(ChebyshevParams(n_vectors=32), 32).trace == "exact"
    assert cp.check_params(stochastic).trace == "stochastic"  # no dimension: as given
    # with target_error up to max_vectors are drawn (64 random vectors at D = 32 spent twice
    # the exact trace's and missed the target: a reviewer, session 24)
    adding = ChebyshevParams(n_vectors=8, target_error=1e-4, max_vectors=64)
    assert cp.check_params(adding, 32).trace == "exact"
    assert cp.check_params(adding, 128).trace == "stochastic"


def test_refusals_name_what_was_given():
    """A non-Realisation is a TypeError naming it (a ModelParams used to fail deep inside with
    an AttributeError), and a memory refusal under a tiny memory_fraction shows its numbers to
    three figures (it printed '0.0 GB ... 0.0 GB is allowed (memory_fraction 0%)')."""
    from manybody.simulation.solvers.chebyshev.resources import check_chebyshev_memory

    model = ModelParams(n_tls=8)
    for wrong in (None, model):
        with pytest.raises(TypeError, match="real must be a Realisation.*got "
                                            f"{type(wrong).__name__}"):
            ch.chebyshev_absorption(wrong, [0.1], [0.1], KERNEL)
    with pytest.raises(MemoryError) as refused:
        check_chebyshev_memory(model, ChebyshevParams(memory_fraction=1e-6))
    message = str(refused.value)
    assert "0.0 GB" not in message and "0%" not in message and "memory_fraction 1e-06" in message


def test_specific_heat_below_the_filter_limit_is_nan_with_a_warning():
    """A rung above the filter's limit served 0.3 mK (limit 0.37 mK): Q^-1 within its errors, but
    C = 3.7e-6 +- 5.3e-7 k_B against 1e-62 from dense ED, while the same temperature in a shorter
    list was refused (a new user, session 35). C is NaN there, with a warning; the rest of C(T)
    and Q^-1 are unchanged."""
    import warnings

    import manybody as mb

    params = mb.ModelParams(n_tls=8, tls=mb.TLSParams(asymmetry_max=0.3, tunnelling_min=1e-3,
                                                      tunnelling_max=0.3),
                            coupling=mb.CouplingParams(kind="gaussian", strength=0.05))
    probe = mb.Probe(frequencies=(0.1,), temperatures=(0.0003, 0.0005, 0.001, 0.002, 0.005),
                     broadening=mb.Broadening(kind="gaussian", width=0.02),
                     observables=("absorption", "specific_heat"))
    dense = mb.observe(params, 1, 0, probe)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cheb = mb.observe(params, 1, 0, probe,
                          mb.SolverParams(method="chebyshev", chebyshev={"trace": "exact"}))
    assert any("specific heat is NaN at 1 temperature(s) below" in str(w.message) for w in caught)
    assert np.isnan(cheb["specific_heat"][0]) and np.isnan(cheb["specific_heat_error"][0])
    z = (cheb["specific_heat"][1:] - dense["specific_heat"][1:]) / cheb["specific_heat_error"][1:]
    assert np.all(np.abs(z) < 3), z
    z_q = (cheb["absorption"] - dense["absorption"]) / cheb["absorption_error"]
    assert np.all(np.abs(z_q) < 3), z_q
