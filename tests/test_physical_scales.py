"""Inputs on a physically absurd scale are named before any work (a tester, session 26): a
phonon prefactor in SI units, a dephasing rate that makes every line wider than the frequency,
phonon-broadened lines wider than the frequency, and a measurement time that freezes everything."""

from __future__ import annotations

import tomllib
import warnings

import numpy as np
import pytest

from manybody.config.model import EquilibrationParams, ModelParams, TLSParams
from manybody.config.probe import MAX_RATE_PREFACTOR, Probe, SaturationDrive
from manybody.config.unused import KERNEL_OBSERVABLES
from manybody.runs.spec import RunSpec, preflight
from manybody.simulation.ensembles import Realisation
from manybody.simulation.materials import ReducedPhononBath
from manybody.simulation.observables.relaxation import relaxation_absorption
from manybody.simulation.observables.saturation import saturation_responses
from manybody.simulation.solvers.dense import solve

SI_PREFACTOR = 1.8e76  # K_ph of a-SiO2 in s^-1 J^-3


@pytest.mark.parametrize("build", [
    lambda k: Probe(frequencies=(0.1,), temperatures=(0.05,), phonon_rate_prefactor=k,
                    observables=("relaxation_absorption",)),
    lambda k: EquilibrationParams(bath=k),
    lambda k: ReducedPhononBath(rate_prefactor=k),
    lambda k: relaxation_absorption(*solve(Realisation.from_arrays(asymmetry=[0.1],
                                                                   tunnelling=[0.05])),
                                    [1e-7], [0.05], k),
], ids=["probe", "equilibration", "bath", "relaxation_absorption"])
def test_a_phonon_prefactor_in_si_units_is_refused(build):
    with pytest.raises(ValueError, match=r"at most 1e\+15 s\^-1 K\^-3, got 1.8e\+76.*SI units"):
        build(SI_PREFACTOR)
    build(MAX_RATE_PREFACTOR)  # the largest accepted value is still accepted


def test_a_dephasing_rate_wider_than_the_frequency_is_refused():
    def probe(rate):
        return Probe(frequencies=(0.1, 0.05), temperatures=(0.05,), phonon_rate_prefactor="a-SiO2",
                     observables=("saturation",),
                     saturation=SaturationDrive(amplitudes=(0.0, 1e-6), dephasing_rate=rate))

    with pytest.raises(ValueError, match=r"dephasing_rate = 1e\+20 s\^-1 makes every line "
                                         r"7.64e\+08 K wide"):
        probe(1e20)
    probe(1e9)  # 7.6 mK: fine
    with pytest.raises(ValueError, match="wider than the highest probe frequency 0.1 K"):
        probe(1.4e10)  # 0.107 K


def test_phonon_broadened_lines_wider_than_the_frequency_warn():
    spectrum, elements = solve(Realisation.from_arrays(asymmetry=[0.1, -0.05],
                                                       tunnelling=[0.05, 0.08]))
    args = (spectrum.energies, elements, [0.1], [0.05], [0.0, 1e-6])
    with pytest.warns(RuntimeWarning, match="every transition's line is wider than the probe "
                                            "frequency"):
        saturation_responses(*args, 1e15, dephasing_rate=1e9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        saturation_responses(*args, 4.9e7, dephasing_rate=1e9)


SPEC = """
name = "frozen"
seed = 1
realisations = 1
[model]
n_tls = 3
[model.tls]
asymmetry_max = 0.3
tunnelling_min = 0.001
tunnelling_max = 0.3
[model.equilibration]
measurement_time = {t_m}
[probe]
frequencies = [0.1]
temperatures = [0.01, 0.1]
"""


def test_a_measurement_time_that_freezes_everything_warns_once_at_preflight():
    with pytest.warns(UserWarning, match=r"measurement_time = 1e-30 s freezes every TLS at every "
                                         r"temperature .* the absorption is exactly 0"):
        preflight(RunSpec.from_dict(tomllib.loads(SPEC.format(t_m=1e-30))))
    with warnings.catch_warnings():  # 1 s: the fastest TLS stay active
        warnings.simplefilter("error")
        preflight(RunSpec.from_dict(tomllib.loads(SPEC.format(t_m=1.0))))
    # the bound is that of the ensemble's fastest TLS: check it against the frozen masks
    from manybody.simulation.equilibration import freezing_temperatures
    model = ModelParams(n_tls=1, tls=TLSParams(asymmetry_max=0.3, tunnelling_min=0.29,
                                               tunnelling_max=0.3),
                        equilibration=EquilibrationParams(measurement_time=1e-30))
    fastest = Realisation.from_arrays(asymmetry=[0.3], tunnelling=[0.3])
    t_f = freezing_temperatures(fastest, model.equilibration, 1.0)[0]
    assert t_f == pytest.approx(np.hypot(0.3, 0.3) / (2 * np.arctanh(
        4.8652e7 * 0.09 * np.hypot(0.3, 0.3) * 1e-30)), rel=1e-3)


@pytest.mark.parametrize(("build", "name"), [
    (lambda e: TLSParams(asymmetry_max=e), "tls.asymmetry_max"),
    (lambda e: TLSParams(tunnelling_min=1e-3, tunnelling_max=e), "tls.tunnelling_max"),
    (lambda e: __import__("manybody.config.model", fromlist=["CouplingParams"]).CouplingParams(
        strength=e), "coupling.strength"),
    (lambda e: __import__("manybody.config.model", fromlist=["RandomMatrixParams"])
     .RandomMatrixParams(weight=e), "random_matrix.weight"),
])
def test_model_energies_far_above_any_glass_are_refused(build, name):
    """TLSParams(asymmetry_max=1e308) was accepted and overflowed in the draw (numpy's
    OverflowError); J0 = 1e6 K was accepted (a tester, session 26)."""
    for value in (1e308, 1e6, 1000.0):
        with pytest.raises(ValueError, match=rf"{name} must be below 1000 K"):
            build(value)
    build(999.0)


def test_relaxation_and_saturation_functions_take_the_preset_name_as_the_probe_does():
    """Probe.phonon_rate_prefactor takes "a-SiO2"; the functions refused it (session 26)."""
    from manybody.simulation.materials import AMORPHOUS_SIO2

    spectrum, elements = solve(Realisation.from_arrays(asymmetry=[0.1], tunnelling=[0.05]))
    by_name = relaxation_absorption(spectrum, elements, [1e-7], [0.05], "a-SiO2")
    by_value = relaxation_absorption(spectrum, elements, [1e-7], [0.05],
                                     AMORPHOUS_SIO2.rate_prefactor)
    assert np.array_equal(by_name, by_value)
    args = (spectrum.energies, elements, [0.1118], [0.05], [0.0, 1e-6])
    assert np.array_equal(saturation_responses(*args, "a-SiO2", dephasing_rate=1e9),
                          saturation_responses(*args, AMORPHOUS_SIO2.rate_prefactor,
                                               dephasing_rate=1e9))


SATURATION_SPEC = """
name = "drive"
seed = 1
realisations = 1
[model]
n_tls = 2
[model.stress]
deformation_potential = {gamma}
[probe]
frequencies = [0.1]
temperatures = [0.05]
observables = ["saturation"]
phonon_rate_prefactor = "a-SiO2"
[probe.saturation]
amplitudes = [0.0, 1e-5, {e0}]
dephasing_rate = 1e9
"""


def test_a_drive_beyond_the_rotating_wave_regime_warns_at_preflight():
    """Strain amplitudes of 1 and 1000 were taken silently (a tester, session 26): a Rabi energy
    e0 gamma above the probe frequency is outside the steady state of PHYSICS.md section 8."""
    with pytest.warns(UserWarning, match=r"amplitudes up to e0 = 1 give a Rabi energy e0 gamma "
                                         r"up to 1e\+03 K .* beyond the rotating-wave"):
        preflight(RunSpec.from_dict(tomllib.loads(SATURATION_SPEC.format(gamma=1000.0, e0=1.0))))
    with pytest.raises(ValueError, match=r"amplitudes must be <= 1"):  # session 34: e0 > 1
        RunSpec.from_dict(tomllib.loads(SATURATION_SPEC.format(gamma=1.0, e0=1000.0)))
    with pytest.warns(UserWarning, match="Rabi energy e0 gamma up to 0.2 K"):  # gamma counts
        preflight(RunSpec.from_dict(tomllib.loads(SATURATION_SPEC.format(gamma=20.0, e0=0.01))))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        preflight(RunSpec.from_dict(tomllib.loads(SATURATION_SPEC.format(gamma=1.0, e0=0.0014))))


def test_bloch_steady_state_refuses_a_coherence_outliving_twice_the_populations():
    from manybody.simulation.observables.coherent import bloch_steady_state

    with pytest.raises(ValueError, match=r"t2 must be <= 2 t1"):
        bloch_steady_state([0.0], 1e6, 1e-6, 3e-6)
    steady = bloch_steady_state([0.0], 1e6, 1e-6, 2e-6)  # the phonon limit T2 = 2 T1
    assert steady[0, 2] == pytest.approx(1.0 / (1.0 + 1e12 * 1e-6 * 2e-6))


def test_a_realisation_from_arrays_refuses_energies_that_overflow():
    """from_arrays(asymmetry=[1e308]) overflowed in the solver (a tester, session 26); drawn
    ensembles stay far below the bound (a close dipolar pair may exceed 1000 K and must not be
    refused)."""
    with pytest.raises(ValueError, match=r"asymmetry must lie within \+-1e\+100 K"):
        Realisation.from_arrays(asymmetry=[1e308], tunnelling=[0.1])
    with pytest.raises(ValueError, match=r"couplings\['zz'\] must lie within"):
        Realisation.from_arrays(asymmetry=[0.1, 0.1], tunnelling=[0.1, 0.1],
                                couplings={"zz": np.array([[0.0, 1e200], [1e200, 0.0]])})
    pair = Realisation.from_arrays(asymmetry=[0.1, 0.1], tunnelling=[0.1, 0.1],
                                   couplings={"zz": np.array([[0.0, 5e3], [5e3, 0.0]])})
    assert np.isfinite(solve(pair)[0].energies).all()


def test_an_absolute_kernel_as_wide_as_half_the_frequency_warns_at_preflight():
    data = tomllib.loads(SPEC.format(t_m=1.0))
    data["model"].pop("equilibration")
    data["probe"]["broadening"] = {"kind": "lorentzian", "width": 0.5}
    with pytest.warns(UserWarning, match=r"width = 0.5 K is at least 0.5 of the lowest frequency"):
        preflight(RunSpec.from_dict(data))
    data["probe"]["broadening"] = {"kind": "lorentzian", "width": 0.02}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        preflight(RunSpec.from_dict(data))


def _kernel_warnings(data: dict) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        preflight(RunSpec.from_dict(data))
    return [str(w.message) for w in caught if "smears Q^-1" in str(w.message)]


@pytest.mark.parametrize("observables", [["specific_heat"], ["relaxation_absorption"],
                                         ["spacing_ratio", "specific_heat"]])
def test_a_wide_kernel_is_not_warned_where_no_observable_uses_it(observables):
    """Beside the warning that the width has no effect, it was said to smear Q^-1 (session 27);
    the observables that use the kernel are those of manybody.config.unused."""
    data = tomllib.loads(SPEC.format(t_m=1.0))
    data["model"].pop("equilibration")
    data["probe"]["broadening"] = {"kind": "lorentzian", "width": 0.5}
    data["probe"]["observables"] = observables
    if "relaxation_absorption" in observables:
        data["probe"]["phonon_rate_prefactor"] = "a-SiO2"
    assert _kernel_warnings(data) == []
    for kernel_observable in KERNEL_OBSERVABLES[:2]:
        data["probe"]["observables"] = [*observables, kernel_observable]
        assert len(_kernel_warnings(data)) == 1


def test_a_wide_kernel_is_warned_once_per_run_with_its_values():
    data = tomllib.loads(SPEC.format(t_m=1.0))
    data["model"].pop("equilibration")
    data["probe"]["broadening"] = {"kind": "lorentzian", "width": 0.5}
    data["sweep"] = {"probe.broadening.width": [0.5, 0.6, 0.01, 0.7]}
    assert _kernel_warnings(data) == [
        "probe.broadening.width = 0.5, 0.6, 0.7 K are at least 0.5 of the lowest frequency "
        f"{min(data['probe']['frequencies']):g} K: the line kernel smears Q^-1 over a range as "
        "wide as the frequency (narrow it, or use scaling = 'relative')"]
    data["sweep"] = {"model.n_tls": [2, 3, 4]}
    assert len(_kernel_warnings(data)) == 1


def test_a_stress_operator_that_is_zero_warns_when_an_observable_needs_it():
    """stress.distribution = 'none' with no two-body or random-matrix stress made absorption and
    velocity shift exactly 0 without a word (a new user, session 27)."""
    data = tomllib.loads(SPEC.format(t_m=1.0))
    data["model"].pop("equilibration")
    data["model"]["stress"] = {"distribution": "none"}
    with pytest.warns(UserWarning, match=r"the stress operator is zero .* absorption, "
                                         r"velocity_shift will be exactly 0"):
        preflight(RunSpec.from_dict(data))
    data["probe"]["observables"] = ["specific_heat"]  # needs no stress: not this warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        preflight(RunSpec.from_dict(data))
    assert not [w for w in caught if "stress operator is zero" in str(w.message)]
    data["probe"]["observables"] = ["absorption"]
    data["model"]["stress"]["two_body"] = 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        preflight(RunSpec.from_dict(data))


def test_a_frequency_far_above_every_transition_warns_through_the_api_once_in_a_run(tmp_path):
    """5 (meant 5 GHz) for TLS of <= 0.42 K gave Q = 0 without a word through absorption() and
    observe() (a tester, session 38); the preflight said it for runs only. A run still says it
    once per sweep point, not once per realisation."""
    import warnings

    import manybody as mb
    from manybody.runs.spec import RunSpec
    from manybody.runs.sweep import run_sweep
    from manybody.simulation.observables.absorption import FarAboveSpectrumWarning

    params = mb.ModelParams(n_tls=3, tls=mb.TLSParams(asymmetry_max=0.3, tunnelling_max=0.3))
    spectrum, stress = mb.solve(mb.draw_realisation(params, mb.realisation_rng(1, 0)))
    kernel = mb.Broadening(width=0.02)
    with pytest.warns(FarAboveSpectrumWarning, match=r"frequencies 5 K lie far above every "
                                                     r"line the stress drives in this spectrum"):
        assert mb.absorption(spectrum, stress, [5.0], [0.05], kernel)[0, 0] == 0.0
    # at N = 6 every TLS flipped (E_max - E_0) reaches 1.3 K; the stress drives single flips of
    # <= 0.42 K, which the check compares with (it missed 5 K at N >= 6: session 38)
    six = mb.ModelParams(n_tls=6, tls=mb.TLSParams(asymmetry_max=0.3, tunnelling_max=0.3))
    for r in range(5):
        spectrum6, stress6 = mb.solve(mb.draw_realisation(six, mb.realisation_rng(1, r)))
        with pytest.warns(FarAboveSpectrumWarning):
            mb.absorption(spectrum6, stress6, [5.0], [0.05], kernel)
    with pytest.warns(FarAboveSpectrumWarning, match=r"1 GHz is 0.048 K"):
        mb.observe(params, 1, 0, mb.Probe(frequencies=(5.0,), temperatures=(0.05,),
                                          broadening=kernel))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FarAboveSpectrumWarning)
        mb.absorption(spectrum, stress, [0.1], [0.05], kernel)  # within the lines: no warning
        mb.observe(params, 1, 0, mb.Probe(frequencies=(0.4,), temperatures=(0.05,),
                                          broadening=kernel))
    spec = RunSpec.from_dict({"seed": 1, "realisations": 4,
                              "model": {"n_tls": 3, "tls": {"asymmetry_max": 0.3,
                                                            "tunnelling_max": 0.3}},
                              "probe": {"frequencies": [0.1, 5.0], "temperatures": [0.05],
                                        "broadening": {"width": 0.02}}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_sweep(spec, tmp_path / "r.nc", progress=False)
    far = [w for w in caught if "far above every transition" in str(w.message)]
    assert len(far) == 1 and "realisation" not in str(far[0].message), [str(w.message) for w in far]


@pytest.mark.parametrize(("dtype", "hottest", "warns"), [
    ("float32", 20.0, True), ("float32", 5.0, False), ("float64", 20.0, False)])
def test_float32_chebyshev_far_above_the_frequency_warns_at_preflight(dtype, hottest, warns):
    """float32 round-off of the Chebyshev solve was 1 % of Q^-1 at T = 1e4 w, outside its error
    bar (z = -2.4 against dense ED; a tester, session 38): the preflight says so beyond
    T = 1000 w."""
    import warnings

    from manybody.runs.spec import RunSpec
    spec = RunSpec.from_dict({"seed": 1, "realisations": 2, "model": {"n_tls": 5},
                              "probe": {"frequencies": [0.01], "temperatures": [0.05, hottest]},
                              "solver": {"method": "chebyshev", "chebyshev": {"dtype": dtype}}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec.check()
    said = [str(w.message) for w in caught if "float32 round-off" in str(w.message)]
    assert bool(said) == warns, said
