"""A line kernel whose width is proportional to the frequency (probe.broadening.scaling =
"relative"): what the frequency-collapse test needs (docs/PHYSICS.md section 7)."""

import numpy as np
import pytest

from manybody.config.model import CouplingParams, ModelParams
from manybody.config.probe import Broadening, Probe
from manybody.config.solver import SolverParams
from manybody.runs.spec import RunSpec
from manybody.simulation.ensembles import draw_realisation, realisation_rng
from manybody.simulation.observables.absorption import absorption, velocity_shift
from manybody.simulation.observe import observe
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


def test_chebyshev_refuses_a_relative_kernel_before_any_work():
    probe = Probe(frequencies=(0.1,), temperatures=(0.1,),
                  broadening=Broadening(width=0.2, scaling="relative"), observables=("absorption",))
    with pytest.raises(ValueError, match="dense solver only"):
        observe(ModelParams(n_tls=4), 1, 0, probe, SolverParams(method="chebyshev"))


def test_chebyshev_specific_heat_alone_takes_a_relative_kernel_and_equals_the_absolute_one():
    """Specific heat does not use the line kernel: with a relative kernel the Chebyshev solver
    gives bit for bit what it gives with the kernel's absolute width at the first frequency."""
    def run(broadening):
        probe = Probe(frequencies=(0.1, 0.2), temperatures=(0.05, 0.1, 0.3), broadening=broadening,
                      observables=("specific_heat",))
        return observe(ModelParams(n_tls=4), 1, 0, probe, SolverParams(method="chebyshev"))

    relative = run(Broadening(width=0.2, scaling="relative"))
    absolute = run(Broadening(width=0.02))
    np.testing.assert_array_equal(relative["specific_heat"], absolute["specific_heat"])
    assert np.isfinite(relative["specific_heat"]).all()


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
