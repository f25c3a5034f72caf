"""Faults of the Python API found by break test bt211 (F1, F2, F4, F5): documented sum ranges of
the couplings, the default TLS term beside a random matrix, temperatures typed in mK, and the
saturation function's consistency with the probe layer."""

import inspect
import warnings
from pathlib import Path

import numpy as np
import pytest

import manybody as mb
from manybody.config.model import ModelParams, RandomMatrixParams, TLSParams
from manybody.config.probe import Probe, SaturationDrive
from manybody.runs.spec import check_point
from manybody.simulation.ensembles import Realisation
from manybody.simulation.observables.absorption import FarAboveSpectrumWarning
from manybody.simulation.observables.saturation import saturated_absorption

README = Path(__file__).resolve().parents[1] / "README.md"


def _one_tls(eps=0.06, delta=0.08):
    """Energies and stress elements of one TLS (E = 0.1 K)."""
    e = float(np.hypot(eps, delta))
    energies = np.array([-e / 2, e / 2])
    stress = np.array([[-eps / e, delta / e], [delta / e, eps / e]])
    return energies, stress


# F1 ------------------------------------------------------------------------------------------


def test_readme_and_from_arrays_state_the_sum_ranges_the_code_uses():
    """zz/xx are summed over i<j, the mixed xz/zx over i != j (the code); the README table said
    i<j for all four and from_arrays said neither."""
    row = next(line for line in README.read_text().splitlines() if line.startswith("| two-body"))
    assert "Σ_{i<j}" in row and "Σ_{i≠j}" in row
    doc = inspect.getdoc(Realisation.from_arrays)
    assert "sum_{i<j} K^{aa}_ij" in doc and "sum_{i!=j} K^{ab}_ij" in doc


def test_the_sum_ranges_match_the_hamiltonian():
    """xz over ordered pairs: K^xz with only (0, 1) set gives s^x_0 s^z_1 once; zz over i<j: a
    symmetric K gives the pair its K_01 once."""
    sx = np.array([[0.0, 1.0], [1.0, 0.0]])
    sz = np.diag([1.0, -1.0])
    k = np.zeros((2, 2))
    k[0, 1] = 0.07
    real = Realisation.from_arrays(asymmetry=[0.1, 0.2], tunnelling=[0.05, 0.03],
                                   couplings={"xz": k, "zz": 0.04 * (1 - np.eye(2))})
    h = (np.kron(0.1 * sz + 0.05 * sx, np.eye(2)) + np.kron(np.eye(2), 0.2 * sz + 0.03 * sx)) / 2
    h += 0.07 * np.kron(sx, sz) + 0.04 * np.kron(sz, sz)
    spectrum, _ = mb.solve(real)
    np.testing.assert_allclose(spectrum.energies, np.linalg.eigvalsh(h), atol=1e-14)


def test_a_one_triangle_zz_matrix_is_refused_with_the_convention():
    k = np.zeros((3, 3))
    k[0, 1] = 0.05
    with pytest.raises(ValueError, match=r"couplings\['zz'\] must be symmetric .*i<j.*not mirrored"):
        Realisation.from_arrays(asymmetry=[0.1] * 3, tunnelling=[0.1] * 3, couplings={"zz": k})
    with pytest.raises(ValueError, match="zero diagonal"):
        Realisation.from_arrays(asymmetry=[0.1] * 3, tunnelling=[0.1] * 3,
                                couplings={"xz": np.eye(3)})


# F2 ------------------------------------------------------------------------------------------


def test_a_random_matrix_beside_an_unstated_tls_term_warns():
    with pytest.warns(UserWarning, match=r"tls is not given beside random_matrix \(weight 0.1 K\)"
                      r".*asymmetry_max=1.*tls=None for a pure random-matrix block"):
        model = ModelParams(n_tls=4, random_matrix=RandomMatrixParams(weight=0.1))
    assert model.tls == TLSParams()  # the numbers do not change
    with pytest.warns(UserWarning, match="tls = false or a \\[model.tls\\] table"):
        ModelParams.from_dict({"n_tls": 4, "random_matrix": {"weight": 0.1}})


def test_a_stated_tls_term_or_none_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ModelParams(n_tls=4, tls=TLSParams(), random_matrix=RandomMatrixParams(weight=0.1))
        ModelParams(n_tls=4, tls=None, random_matrix=RandomMatrixParams(weight=0.1))
        ModelParams(n_tls=4)
        ModelParams.from_dict({"n_tls": 4, "tls": False, "random_matrix": {"weight": 0.1}})
    assert "eps_max = Delta_max = 1 K" in inspect.getdoc(ModelParams)


# F4 ------------------------------------------------------------------------------------------


def test_temperatures_in_mk_warn_in_the_api():
    energies, stress = _one_tls()
    spectrum = mb.Spectrum(energies=energies)
    with pytest.warns(FarAboveSpectrumWarning,
                      match=r"temperatures 30, 300 K all lie far above every line the stress "
                            r"drives in this spectrum \(the widest is 0.1 K"):
        mb.absorption(spectrum, stress, [0.1], [30.0, 300.0], mb.Broadening(width=0.01))
    with warnings.catch_warnings():  # one hot point among cold ones is deliberate
        warnings.simplefilter("error")
        mb.absorption(spectrum, stress, [0.1], [0.03, 300.0], mb.Broadening(width=0.01))


def test_temperatures_in_mk_warn_in_the_preflight_and_observe():
    model = ModelParams(n_tls=3, tls=TLSParams(asymmetry_max=0.3, tunnelling_max=0.3))
    hot = Probe(frequencies=(0.1,), temperatures=(30.0, 300.0), observables=("specific_heat",))
    with pytest.warns(FarAboveSpectrumWarning, match=r"probe.temperatures 30, 300 K all lie far "
                                                     r"above every transition this model"):
        check_point(model, hot, mb.SolverParams())
    with pytest.warns(FarAboveSpectrumWarning, match="probe.temperatures"):
        mb.observe(model, 1, 0, hot)
    cold = Probe(frequencies=(0.1,), temperatures=(0.03, 0.3), observables=("specific_heat",))
    levels = Probe(frequencies=(0.1,), temperatures=(300.0,), observables=("spacing_ratio",))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_point(model, cold, mb.SolverParams())
        check_point(model, levels, mb.SolverParams())  # no observable reads the temperature


# F5 ------------------------------------------------------------------------------------------


def test_saturated_absorption_warns_far_above_the_lines():
    energies, stress = _one_tls()
    with pytest.warns(FarAboveSpectrumWarning, match=r"frequencies 5 K lie far above .*saturation"):
        saturated_absorption(energies, stress, 5.0, 0.05, [1e-7], 1e8, dephasing_rate=1e6)
    with pytest.warns(FarAboveSpectrumWarning, match=r"temperature 50 K all lie far above"):
        saturated_absorption(energies, stress, 0.1, 50.0, [1e-7], 1e8, dephasing_rate=1e6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        saturated_absorption(energies, stress, 0.1, 0.05, [1e-7], 1e8, dephasing_rate=1e6)


def test_saturated_absorption_refuses_what_saturation_drive_refuses():
    energies, stress = _one_tls()
    with pytest.raises(ValueError, match=r"probe.saturation.dephasing_rate must be > 0"):
        SaturationDrive(amplitudes=(1e-7,))
    with pytest.raises(ValueError, match=r"^amplitudes has repeated values: \[1e-07, 1e-07\]"):
        saturated_absorption(energies, stress, 0.1, 0.05, [1e-7, 1e-7], 1e8, dephasing_rate=1e6)
    with pytest.raises(ValueError, match=r"probe.saturation.amplitudes has repeated values"):
        SaturationDrive(amplitudes=(1e-7, 1e-7), dephasing_rate=1e6)
    out = saturated_absorption(energies, stress, 0.1, 0.05, [1e-7], 1e8, line="gaussian")
    assert out["absorption"].shape == (1,)  # the Gaussian line keeps the phonon widths alone


# observe() and unused parameters (note_s60) ---------------------------------------------------


def test_observe_warns_of_a_parameter_that_changes_nothing():
    """A run's preflight warned of a phonon bath no observable uses; observe() said nothing."""
    from manybody.config.unused import UnusedParameterWarning

    probe = Probe(frequencies=(0.1,), temperatures=(0.05,), observables=("absorption",),
                  phonon_rate_prefactor=1e8, broadening=mb.Broadening(width=0.02))
    with pytest.warns(UnusedParameterWarning, match=r"probe\.phonon_rate_prefactor = 100000000\.0 "
                                                     r"has no effect: only the observables"):
        mb.observe(ModelParams(n_tls=3), 1, 0, probe)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnusedParameterWarning)
        mb.observe(ModelParams(n_tls=3), 1, 0, Probe(frequencies=(0.1,), temperatures=(0.05,)))


def test_a_run_says_it_once_not_per_realisation(tmp_path):
    import xarray as xr

    from manybody.cli.app import main

    spec = tmp_path / "s.toml"
    spec.write_text('seed = 1\nrealisations = 3\n[model]\nn_tls = 3\n[probe]\nfrequencies = [0.1]\n'
                    'temperatures = [0.05]\nobservables = ["absorption"]\n'
                    'phonon_rate_prefactor = 1e8\n[probe.broadening]\nwidth = 0.02\n')
    assert main(["run", str(spec), "-o", str(tmp_path / "o.nc"), "--no-progress"]) == 0
    with xr.open_dataset(tmp_path / "o.nc") as ds:
        assert "phonon_rate_prefactor" not in ds.attrs["realisation_warnings"]


def test_mk_typed_as_k_is_caught_for_the_default_tls_and_mixtures_by_x():
    """The level-scale rule (20 x a scale of 1.4 K for the default TLS, N times more for
    mixtures) let 30-300 typed for mK pass (bt216 F1): all x = w/T below 0.01 with T above 5
    times the level scale warns for the resonant observables (an ultrasonic probe at T of the
    levels' order does not); a specific-heat probe's warning speaks of no Q^-1 (F2)."""
    probe = Probe(frequencies=(0.05,), temperatures=(30.0, 100.0, 300.0),
                  observables=("absorption",))
    for model in (ModelParams(n_tls=4), ModelParams(n_tls=5, tls=TLSParams(
            asymmetry_max=0.3, tunnelling_min=1e-3, tunnelling_max=0.3),
            random_matrix=RandomMatrixParams(weight=0.05))):
        with pytest.warns(FarAboveSpectrumWarning, match=r"probe\.temperatures 30, 100, 300 K all "
                                                         r"lie"):
            mb.observe(model, 1, 0, probe)
    cold = Probe(frequencies=(0.1,), temperatures=(0.02, 0.5, 5.0), observables=("absorption",))
    ultrasonic = Probe(frequencies=(1e-5,), temperatures=(0.05, 0.2, 1.0),
                       observables=("absorption", "velocity_shift"),
                       broadening=mb.Broadening(width=2e-6))  # x << 1 at T of the levels: a study
    with warnings.catch_warnings():
        warnings.simplefilter("error", FarAboveSpectrumWarning)
        mb.observe(ModelParams(n_tls=4), 1, 0, cold)
        mb.observe(ModelParams(n_tls=4), 1, 0, ultrasonic)
    heat = Probe(frequencies=(0.05,), temperatures=(10.0, 20.0), observables=("specific_heat",))
    small = ModelParams(n_tls=4, tls=TLSParams(asymmetry_max=0.3, tunnelling_min=1e-3,
                                               tunnelling_max=0.3))
    with pytest.warns(FarAboveSpectrumWarning) as caught:
        mb.observe(small, 1, 0, heat)
    assert all("Q^-1" not in str(w.message) for w in caught)
