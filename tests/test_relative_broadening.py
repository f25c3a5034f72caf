"""A line kernel whose width is proportional to the frequency (probe.broadening.scaling =
"relative"): what the frequency-collapse test needs (docs/PHYSICS.md section 7)."""

import re

import numpy as np
import pytest

from manybody.config.model import CouplingParams, ModelParams
from manybody.config.probe import Broadening, Probe
from manybody.config.solver import ChebyshevParams, SolverParams
from manybody.runs.spec import RunSpec
from manybody.simulation.ensembles import draw_realisation, realisation_rng
from manybody.simulation.observables.absorption import absorption, velocity_shift
from manybody.simulation.observe import observe
from manybody.simulation.solvers.chebyshev.solver import chebyshev_absorption, plan_chebyshev
from manybody.simulation.solvers.dense import solve

FREQUENCIES = np.array([0.05, 0.1, 0.2])
TEMPERATURES = np.array([0.02, 0.05, 0.1, 0.3])


@pytest.fixture(scope="module")
def system():
    params = ModelParams(n_tls=5, coupling=CouplingParams(kind="dipolar", strength=0.02))
    return solve(draw_realisation(params, realisation_rng(3, 0)))


@pytest.mark.parametrize("kind", ["gaussian", "lorentzian", "histogram"])
def test_relative_kernel_is_the_absolute_kernel_at_each_frequency(system, kind):
    spectrum, elements = system
    relative = Broadening(kind=kind, width=0.2, scaling="relative")
    q = absorption(spectrum, elements, FREQUENCIES, TEMPERATURES, relative)
    dv = velocity_shift(spectrum, elements, FREQUENCIES, TEMPERATURES, relative)
    for k, w in enumerate(FREQUENCIES):
        absolute = Broadening(kind=kind, width=0.2 * w)
        assert relative.at(w) == absolute
        np.testing.assert_array_equal(
            q[:, k], absorption(spectrum, elements, [w], TEMPERATURES, absolute)[:, 0])
        np.testing.assert_array_equal(
            dv[:, k], velocity_shift(spectrum, elements, [w], TEMPERATURES, absolute)[:, 0])


def test_absolute_kernel_is_its_own_kernel_at_every_frequency():
    b = Broadening(width=0.02)
    assert b.at(0.05) is b and b.at(3.0) is b


def test_relative_width_bounds_and_unknown_scaling_are_named():
    with pytest.raises(ValueError, match=r"broadening.width must be < 0.5.*0.7"):
        Broadening(width=0.7, scaling="relative")
    with pytest.raises(ValueError, match="broadening.scaling"):
        Broadening(width=0.1, scaling="proportional")
    with pytest.raises(ValueError, match=r"at\(frequency\)"):
        Broadening(width=0.1, scaling="relative").kernel(np.zeros(3))


@pytest.fixture(scope="module")
def interacting():
    """N = 5 dipolar realisation, its dense-ED spectrum and its absorption normalisation."""
    params = ModelParams(n_tls=5, coupling=CouplingParams(kind="dipolar", strength=0.02))
    real = draw_realisation(params, realisation_rng(3, 0))
    return params, real, solve(real)


def test_chebyshev_relative_kernel_equals_dense_ed_with_the_kernel_of_each_frequency(interacting):
    """Exact trace: with eta = 0.2 w the Chebyshev Q^-1 and velocity shift at w = 0.05, 0.1 and
    0.2 K equal dense ED's (whose kernel at each w has that width) within the reported errors (up
    to the truncation tolerance), and differ from what one absolute width gives; the narrowest
    kernel sets the moments, and its column is the run with that kernel alone."""
    params, real, (spectrum, elements) = interacting
    relative = Broadening(width=0.2, scaling="relative")
    tol = 1e-7
    res = chebyshev_absorption(real, FREQUENCIES, TEMPERATURES, relative, ChebyshevParams(
        trace="exact", dtype="float64", truncation_tol=tol))
    q = absorption(spectrum, elements, FREQUENCIES, TEMPERATURES, relative, method="exact")
    dv = velocity_shift(spectrum, elements, FREQUENCIES, TEMPERATURES, relative, method="exact")
    for got, err, ref in ((res.absorption, res.absorption_error, q),
                          (res.velocity_shift, res.velocity_shift_error, dv)):
        assert np.max(np.abs(got - ref)) < 2e-5 * np.abs(ref).max()
        assert np.all(np.abs(got - ref) <= 3 * err + tol * np.abs(ref).max())
    one_width = absorption(spectrum, elements, FREQUENCIES, TEMPERATURES,
                           Broadening(width=0.02), method="exact")
    assert np.max(np.abs(one_width - q)) > 1e-2 * np.abs(q).max()  # the widths matter here
    alone = chebyshev_absorption(real, FREQUENCIES[:1], TEMPERATURES, Broadening(width=0.01),
                                 ChebyshevParams(trace="exact", dtype="float64",
                                                 truncation_tol=tol))
    assert [r.n_moments for r in res.plan.rungs] == [r.n_moments for r in alone.plan.rungs]
    np.testing.assert_allclose(res.absorption[:, 0], alone.absorption[:, 0], rtol=1e-9,
                               atol=1e-12 * np.abs(q).max())


def test_chebyshev_runs_a_relative_kernel_through_the_pipeline(interacting):
    """A sweep point with a relative kernel and solver.method = "chebyshev" (preflight, solve,
    units) gives dense ED's numbers within its reported errors."""
    params, _, _ = interacting
    probe = Probe(frequencies=tuple(FREQUENCIES), temperatures=tuple(TEMPERATURES),
                  broadening=Broadening(width=0.2, scaling="relative"),
                  observables=("absorption", "velocity_shift"))
    dense = observe(params, 3, 0, probe)
    cheb = observe(params, 3, 0, probe, SolverParams(method="chebyshev", chebyshev=ChebyshevParams(
        trace="exact", dtype="float64", truncation_tol=1e-6)))
    for name in ("absorption", "velocity_shift"):
        scale = np.abs(dense[name]).max()
        assert np.max(np.abs(cheb[name] - dense[name])) < 1e-4 * scale, name
        assert np.all(np.abs(cheb[name] - dense[name])
                      <= 3 * cheb[f"{name}_error"] + 1e-6 * scale), name  # + truncation_tol


def test_too_few_moments_for_a_relative_kernel_names_its_width_in_both_units(interacting):
    """The error states the width as r w and in K, and the narrowest relative width the moments
    allow -- which then plans -- or that even 0.5 w, the largest relative width, is too narrow."""
    _, real, _ = interacting
    params = ChebyshevParams(n_moments=300)
    with pytest.raises(ValueError, match=r"n_moments=300 is too few moments for a gaussian kernel "
                                         r"of width 0\.05 w \(0\.0025 K at w = 0\.05 K\)") as info:
        plan_chebyshev(real, FREQUENCIES, TEMPERATURES,
                       Broadening(width=0.05, scaling="relative"), params)
    found = re.search(r"narrowest width is about ([0-9.]+) w \(([0-9.]+) K at w = 0\.05 K\)$",
                      str(info.value))
    assert found, str(info.value)
    best = float(found.group(1))
    assert 0.05 < best < 0.5 and float(found.group(2)) == pytest.approx(0.05 * best, rel=1e-3)
    plan = plan_chebyshev(real, FREQUENCIES, TEMPERATURES,
                          Broadening(width=best, scaling="relative"), params)
    assert all(r.n_moments == 300 for r in plan.rungs)
    with pytest.raises(ValueError, match=r"above the 0\.5 w a relative kernel allows: raise "
                                         r"n_moments or use an absolute width"):
        plan_chebyshev(real, FREQUENCIES, TEMPERATURES, Broadening(width=0.1, scaling="relative"),
                       ChebyshevParams(n_moments=64))


def test_chebyshev_specific_heat_does_not_depend_on_the_kernel():
    """Specific heat does not use the line kernel: a relative and an absolute kernel give it to
    round-off (the kernel only changes the number of moments)."""
    def run(broadening):
        probe = Probe(frequencies=(0.1, 0.2), temperatures=(0.05, 0.1, 0.3), broadening=broadening,
                      observables=("specific_heat",))
        return observe(ModelParams(n_tls=4), 1, 0, probe, SolverParams(method="chebyshev"))

    relative = run(Broadening(width=0.2, scaling="relative"))
    absolute = run(Broadening(width=0.02))
    np.testing.assert_allclose(relative["specific_heat"], absolute["specific_heat"], rtol=1e-10)
    assert np.isfinite(relative["specific_heat"]).all()


def test_a_swept_relative_width_is_labelled_eta_over_w_not_kelvin():
    """The results coordinate of a swept kernel width carries the units of the scaling in use."""
    from manybody.runs.spec import RELATIVE_WIDTH_UNITS, axis_units

    base = {"name": "s", "seed": 1, "realisations": 2, "model": {"n_tls": 3},
            "probe": {"frequencies": [0.1], "temperatures": [0.1],
                      "broadening": {"kind": "gaussian", "width": 0.2, "scaling": "relative"}},
            "sweep": {"probe.broadening.width": [0.2, 0.3]}}
    relative = RunSpec.from_dict(base)
    assert axis_units("probe.broadening.width", relative) == RELATIVE_WIDTH_UNITS
    absolute = RunSpec.from_dict({**base, "probe": {**base["probe"], "broadening": {
        "kind": "gaussian", "width": 0.02}}, "sweep": {"probe.broadening.width": [0.02, 0.03]}})
    assert axis_units("probe.broadening.width", absolute) == "K"
    assert axis_units("probe.broadening.width") == "K"  # without a spec: the absolute default
    from manybody.runs.sweep import run_sweep

    ds = run_sweep(relative)
    assert ds["broadening_width"].attrs["units"] == RELATIVE_WIDTH_UNITS


def test_absolute_scaling_is_left_out_of_the_spec_digest():
    """Results files written before the key existed keep their digest: the default is not
    written, the relative scaling is."""
    base = {"name": "s", "seed": 1, "realisations": 2, "model": {"n_tls": 3},
            "probe": {"frequencies": [0.1], "temperatures": [0.1],
                      "broadening": {"kind": "gaussian", "width": 0.02}}}
    spec = RunSpec.from_dict(base)
    assert "scaling" not in spec.to_dict()["probe"]["broadening"]
    explicit = RunSpec.from_dict({**base, "probe": {**base["probe"], "broadening": {
        "kind": "gaussian", "width": 0.02, "scaling": "absolute"}}})
    assert explicit.digest() == spec.digest()
    relative = RunSpec.from_dict({**base, "probe": {**base["probe"], "broadening": {
        "kind": "gaussian", "width": 0.2, "scaling": "relative"}}})
    assert relative.to_dict()["probe"]["broadening"]["scaling"] == "relative"
    assert RunSpec.from_dict(relative.to_dict()) == relative


def test_decomposition_observables_use_the_kernel_of_each_frequency():
    """Every observable of a relative-width run equals the absolute-width run at that frequency."""
    params = ModelParams(n_tls=4, coupling=CouplingParams(kind="dipolar", strength=0.03))
    names = ("absorption", "velocity_shift", "configuration_bath_absorption",
             "configuration_bath_absorption_infinite", "single_tls_fraction")
    relative = observe(params, 5, 1, Probe(
        frequencies=tuple(FREQUENCIES), temperatures=tuple(TEMPERATURES), observables=names,
        broadening=Broadening(width=0.2, scaling="relative")))
    for k, w in enumerate(FREQUENCIES):
        absolute = observe(params, 5, 1, Probe(
            frequencies=(w,), temperatures=tuple(TEMPERATURES), observables=names,
            broadening=Broadening(width=0.2 * w)))
        for name in names:
            np.testing.assert_allclose(relative[name][:, k], absolute[name][:, 0], rtol=1e-12,
                                       atol=1e-300, err_msg=name)
