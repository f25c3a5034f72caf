"""The relaxation observables' unit-mistake guard: the resonant absorption's rule
(FarAboveSpectrumWarning) extended to the relaxation terms (session 39: w = 1000 typed for 1 kHz
gave Q_rel ~ 1e-10 through the API, observe() and run_sweep without a word)."""

import warnings

import pytest

import manybody as mb
from manybody.runs.spec import RunSpec
from manybody.simulation.observables.absorption import FarAboveSpectrumWarning

TLS = mb.TLSParams(asymmetry_max=0.3, tunnelling_min=1e-3, tunnelling_max=0.3)
PARAMS = mb.ModelParams(n_tls=3, tls=TLS)
KHZ = 4.79924e-8  # 1 kHz in K


@pytest.fixture(scope="module")
def realisation():
    return mb.solve(mb.draw_realisation(PARAMS, mb.realisation_rng(1, 0)))


@pytest.mark.parametrize("function", [mb.relaxation_absorption, mb.relaxation_velocity_shift])
def test_the_relaxation_api_warns_far_above_the_lines(realisation, function):
    spectrum, stress = realisation
    with pytest.warns(FarAboveSpectrumWarning, match=r"frequencies 1000 K lie far above every line "
                                                     r"the stress drives.*hbar w << E.*1 kHz is"):
        function(spectrum, stress, [1000.0], [0.05], "a-SiO2")


@pytest.mark.parametrize("function", [mb.relaxation_absorption, mb.relaxation_velocity_shift])
@pytest.mark.parametrize("w", [KHZ, 1e6 * KHZ, 0.1])  # ultrasound kHz, 1 GHz, 0.1 K on 0.3 K TLS
def test_the_relaxation_api_is_silent_for_legitimate_frequencies(realisation, function, w):
    spectrum, stress = realisation
    with warnings.catch_warnings():
        warnings.simplefilter("error", FarAboveSpectrumWarning)
        function(spectrum, stress, [w], [0.05], "a-SiO2")


@pytest.mark.parametrize("observable", ["relaxation_absorption", "relaxation_velocity_shift"])
def test_observe_and_the_preflight_warn_for_the_relaxation_terms(observable):
    probe = mb.Probe(frequencies=[500.0], temperatures=[0.05], observables=(observable,),
                     phonon_rate_prefactor="a-SiO2")
    with pytest.warns(FarAboveSpectrumWarning, match=r"probe\.frequencies 500 K lie far above.*"
                                                     r"assumes hbar w << E"):
        mb.observe(PARAMS, 1, 0, probe)
    spec = RunSpec(name="relax_units", seed=1, realisations=2, model=PARAMS, probe=probe)
    with pytest.warns(FarAboveSpectrumWarning, match=observable.replace("_", " ")):
        spec.check()


def test_observe_is_silent_for_legitimate_relaxation_frequencies():
    one = mb.ModelParams(n_tls=3, tls=mb.TLSParams(asymmetry_max=1.0, tunnelling_min=0.3,
                                                   tunnelling_max=1.0))
    for params, w in [(PARAMS, KHZ), (PARAMS, 1e6 * KHZ), (one, 0.1)]:
        probe = mb.Probe(frequencies=[w], temperatures=[0.05],
                         observables=("relaxation_absorption", "relaxation_velocity_shift"),
                         phonon_rate_prefactor="a-SiO2")
        with warnings.catch_warnings():
            warnings.simplefilter("error", FarAboveSpectrumWarning)
            mb.observe(params, 1, 0, probe)
            RunSpec(name="ok", seed=1, realisations=2, model=params, probe=probe).check()
