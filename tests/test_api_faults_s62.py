"""Faults of the Python API found by break test bt220 (F2-F5): the Chebyshev max_seconds refusal
after the full-size spectral bounds, unit-slip warnings missing from the velocity shift and the
relaxation functions, a scalar x of the shift partners returning shape (1,), and one-element
arrays refused for the scalar temperature and frequency of transition_lines and the
saturation."""

import time
import warnings

import numpy as np
import pytest

import manybody as mb
from manybody.config.solver import ChebyshevParams
from manybody.laws.shift import shift_generic, shift_numerical, shift_tls
from manybody.simulation.observables.absorption import FarAboveSpectrumWarning
from manybody.simulation.observables.relaxation import total_response
from manybody.simulation.observables.saturation import critical_amplitude, saturated_absorption
from manybody.simulation.solvers.chebyshev import resources
from manybody.simulation.solvers.chebyshev import solver as ch

KPH = 4.8652e7  # s^-1 K^-3


def _uniform(n, eps=0.1, delta=0.1):
    return mb.Realisation.from_arrays(asymmetry=np.full(n, eps), tunnelling=np.full(n, delta))


@pytest.fixture(scope="module")
def two_tls():
    return mb.solve(mb.Realisation.from_arrays(asymmetry=[0.1, 0.2], tunnelling=[0.1, 0.05]))


# F4 ------------------------------------------------------------------------------------------


def _expensive_steps_refused(monkeypatch):
    """Make the steps an early refusal must not reach fail loudly: building the operators of
    the 2^N space and the ARPACK spectral bounds."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("an expensive step ran before the max_seconds refusal")
    monkeypatch.setattr(ch, "spectral_bounds", refuse)
    monkeypatch.setattr(ch, "matrix_free_operators", refuse)
    monkeypatch.setattr(ch, "build_operators", refuse)


@pytest.mark.parametrize("entry", ["chebyshev_absorption", "plan_chebyshev"])
def test_max_seconds_is_refused_before_the_spectral_bounds(monkeypatch, entry):
    """N = 24 with max_seconds = 5 took 128 s (ARPACK on the 2^24 operator) before "estimated at
    3.56e3 s": now refused from the realisation alone, nothing built."""
    _expensive_steps_refused(monkeypatch)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"estimated at more than .* s \(> max_seconds=5\) "
                                         r"before its spectral bounds are found \(n_tls=24"):
        getattr(ch, entry)(_uniform(24), [0.1], [0.1], mb.Broadening(width=0.02),
                           ChebyshevParams(max_seconds=5))
    assert time.perf_counter() - start < 30.0  # milliseconds in fact; generous


def test_a_sweeps_realisation_is_refused_before_the_spectral_bounds(monkeypatch):
    """The pipeline's path (operators built by build(), then respond_with_plan) checks the
    bound before the ARPACK step too."""
    real = _uniform(14)
    params = ChebyshevParams(max_seconds=1e-6)
    ops = ch.ChebyshevOperators(real, params)
    monkeypatch.setattr(ch, "spectral_bounds", lambda *a, **k: (_ for _ in ()).throw(
        AssertionError("ARPACK ran before the max_seconds refusal")))
    with pytest.raises(ValueError, match="before its spectral bounds are found"):
        ch.respond_with_plan(ops, np.array([0.1]), np.array([0.1]), mb.Broadening(width=0.02),
                             params, np.random.SeedSequence(1), ch.CHEBYSHEV_OBSERVABLES)


def test_the_measured_rate_refuses_before_the_spectral_bounds(monkeypatch):
    """Where the cost model's reduced rate lets a solve through, the rate measured on the built
    H refuses it before ARPACK (a dipolar N = 22 ran 110 s of it under max_seconds = 60)."""
    monkeypatch.setattr(resources, "EARLY_RATE_FRACTION", 1e-12)  # the first check passes
    real = _uniform(14)
    params = ChebyshevParams(max_seconds=1e-3)
    resources.check_time_budget(real, [0.1], [0.1], mb.Broadening(width=0.02),
                                ch.check_params(params, real.dimension))
    ops = ch.ChebyshevOperators(real, params)
    monkeypatch.setattr(ch, "spectral_bounds", lambda *a, **k: (_ for _ in ()).throw(
        AssertionError("ARPACK ran before the max_seconds refusal")))
    with pytest.raises(ValueError, match="before its spectral bounds are found"):
        ch.respond_with_plan(ops, np.array([0.1]), np.array([0.1]), mb.Broadening(width=0.02),
                             params, np.random.SeedSequence(1), ch.CHEBYSHEV_OBSERVABLES,
                             checked=True)


@pytest.mark.parametrize("n, couplings", [(6, 0.0), (9, 0.02), (12, 0.3)])
def test_the_early_bound_lies_below_the_plans_estimate(n, couplings):
    """The a-priori bound must not refuse what the plan accepts: measured 0.03 of the plan's
    estimate at worst over 54 plans (N = 6-17); asserted with that margin's room."""
    rng = np.random.default_rng(n)
    k = np.triu(rng.normal(0.0, couplings, (n, n)), 1) if couplings else np.zeros((n, n))
    real = mb.Realisation.from_arrays(asymmetry=rng.uniform(-0.5, 0.5, n),
                                      tunnelling=rng.uniform(0.01, 0.5, n),
                                      couplings={"zz": k + k.T} if couplings else {})
    b = mb.Broadening(width=0.02)
    params = ch.check_params(ChebyshevParams(), real.dimension)
    plan = ch.plan_chebyshev(real, [0.1], [0.05, 0.1], b, params)
    assert resources.minimum_seconds(real, [0.1], [0.05, 0.1], b, params) < plan.seconds


def test_a_solve_that_goes_ahead_is_unchanged_by_the_early_check():
    """With max_seconds set (and met) the numbers are those without it, bit for bit."""
    real = mb.Realisation.from_arrays(asymmetry=[0.1, -0.05, 0.2, 0.08, -0.15, 0.12],
                                      tunnelling=[0.1, 0.05, 0.02, 0.09, 0.11, 0.07])
    args = (real, [0.1, 0.2], [0.05, 0.2], mb.Broadening(width=0.02))
    free = ch.chebyshev_absorption(*args, ChebyshevParams(n_vectors=4), seed=3)
    budget = ch.chebyshev_absorption(*args, ChebyshevParams(n_vectors=4, max_seconds=1e5), seed=3)
    for name in ("absorption", "absorption_error", "velocity_shift", "specific_heat"):
        np.testing.assert_array_equal(getattr(budget, name), getattr(free, name))


def test_no_max_seconds_means_no_early_check(monkeypatch):
    called = []
    monkeypatch.setattr(resources, "minimum_seconds", lambda *a, **k: called.append(1) or 1e9)
    resources.check_time_budget(_uniform(24), [0.1], [0.1], mb.Broadening(width=0.02),
                                ch.check_params(ChebyshevParams(), 2**24))
    assert not called


# F5 ------------------------------------------------------------------------------------------


def test_velocity_shift_warns_far_above_the_lines_as_absorption_does(two_tls):
    sp, t = two_tls
    with pytest.warns(FarAboveSpectrumWarning, match=r"frequencies 5 K lie far above every line "
                                                     r"the stress drives.*velocity shift.*1 GHz"):
        mb.velocity_shift(sp, t, [5.0], [0.1])
    with warnings.catch_warnings():  # within and far below the lines (ultrasound): silent
        warnings.simplefilter("error", FarAboveSpectrumWarning)
        mb.velocity_shift(sp, t, [0.1], [0.1])
        mb.velocity_shift(sp, t, [1e-5], [0.1], mb.Broadening(width=2e-6))


@pytest.mark.parametrize("function", [mb.relaxation_absorption, mb.relaxation_velocity_shift])
def test_relaxation_warns_for_temperatures_far_above_the_lines(two_tls, function):
    sp, t = two_tls
    with pytest.warns(FarAboveSpectrumWarning, match=r"temperatures 50 K all lie far above every "
                                                     r"line the stress drives"):
        function(sp, t, [1e-7], [50.0], "a-SiO2")
    with warnings.catch_warnings():  # T of the levels' order, one hot point among cold ones
        warnings.simplefilter("error", FarAboveSpectrumWarning)
        function(sp, t, [1e-7], [0.05, 0.2, 50.0], "a-SiO2")


def test_total_response_warns_once_per_slip(two_tls):
    sp, t = two_tls
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        total_response(sp, t, [5.0], [50.0], "a-SiO2")
    far = [str(w.message) for w in caught if issubclass(w.category, FarAboveSpectrumWarning)]
    assert sum("frequencies 5 K" in m for m in far) == 1
    assert sum("temperatures 50 K" in m for m in far) == 1


def test_observe_warns_once_for_a_velocity_shift_far_above_the_lines():
    """The preflight guards the velocity shift too; a run's realisations do not repeat it."""
    params = mb.ModelParams(n_tls=3, tls=mb.TLSParams(asymmetry_max=0.3, tunnelling_max=0.3))
    probe = mb.Probe(frequencies=(5.0,), temperatures=(0.05,), observables=("velocity_shift",))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mb.observe(params, 1, 0, probe)
    far = [str(w.message) for w in caught if issubclass(w.category, FarAboveSpectrumWarning)]
    assert len(far) == 1 and "velocity shift" in far[0]


# F2 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("partner", [
    shift_tls, shift_generic, lambda x: shift_numerical(x, lambda u: np.exp(-u)),
    lambda x: mb.shift_values("tls", x), lambda x: mb.shift_values("generic", x),
    lambda x: mb.shift_values("family", x, index=0.5),
    lambda x: mb.shift_values("tls", x, band=(0.0, 10.0))])
def test_a_number_gives_a_number_shaped_shift(partner):
    """As the loss laws (law_tls(2.0) is 0-d): shape (1,) for a number contradicted "same
    shape"; arrays keep theirs."""
    value = partner(2.0)
    assert np.shape(value) == ()
    assert float(value) == partner(np.array([2.0]))[0]
    assert partner([1.0, 2.0, 3.0]).shape == (3,)
    with pytest.raises(ValueError, match="1-d"):
        partner(np.ones((2, 2)))


# F3 ------------------------------------------------------------------------------------------


def test_transition_lines_takes_a_one_element_temperature(two_tls):
    sp, t = two_tls
    for given in (np.array([0.1]), [0.1], np.array([[0.1]]), np.float32(0.1)):
        for got, want in zip(mb.transition_lines(sp, t, given), mb.transition_lines(sp, t, 0.1),
                             strict=True):
            np.testing.assert_array_equal(got, want)
    with pytest.raises(TypeError, match=r"temperature must be one number .* shape \(2,\); call "
                                        r"once per value"):
        mb.transition_lines(sp, t, np.array([0.1, 0.2]))


def test_saturation_takes_one_element_frequency_and_temperature():
    energies = np.array([-0.025, 0.025])
    stress = np.array([[-0.6, 0.8], [0.8, 0.6]])
    amps = [0.0, 1e-8]
    want = saturated_absorption(energies, stress, 0.05, 0.05, amps, KPH, dephasing_rate=1e5)
    got = saturated_absorption(energies, stress, np.array([0.05]), np.array([0.05]), amps, KPH,
                               dephasing_rate=1e5)
    for key in want:
        np.testing.assert_array_equal(got[key], want[key])
    for name, args in (("frequency", ([0.05, 0.1], 0.05)), ("temperature", (0.05, [0.05, 0.1]))):
        with pytest.raises(TypeError, match=f"{name} must be one number"):
            saturated_absorption(energies, stress, *args, amps, KPH, dephasing_rate=1e5)
    assert critical_amplitude(np.array([0.05]), [0.05], KPH) == critical_amplitude(0.05, 0.05, KPH)
