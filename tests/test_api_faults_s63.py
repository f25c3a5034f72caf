"""Session 63, a tester of the physics API (bt227): the specific heat of levels ~1e200 K apart
was NaN (<E^2> overflowed, though C depends on E/T only); a RandomMatrixTerm took a seed beyond
2^63 - 1 that every other seed refuses; energies typed in mK (300 for 0.3 K) gave Q = 0 and
C = 0 without a word."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import manybody as mb
from manybody.config.model import ModelParams, TLSParams
from manybody.config.probe import Probe
from manybody.simulation.ensembles import RandomMatrixTerm, Realisation
from manybody.simulation.observables.thermo import FarBelowSpectrumWarning


def _caught(function, *args) -> tuple[object, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = function(*args)
    return out, list(caught)


@pytest.mark.parametrize("scale", [1.0, 1e150, 1e200, 1e300])
def test_the_specific_heat_depends_on_e_over_t_only(scale):
    c, caught = _caught(mb.specific_heat, np.array([0.0, 1.0, 2.0]) * scale, [scale])
    assert c == pytest.approx([0.42440454], rel=1e-7)  # three equidistant levels at T = spacing
    assert not any(issubclass(w.category, RuntimeWarning) for w in caught)


def test_a_random_matrix_seed_beyond_the_signed_64_bit_range_is_refused():
    with pytest.raises(ValueError, match=r"RandomMatrixTerm.seed must be an integer between 0 "
                                         r"and 9223372036854775807, got 10{30}"):
        RandomMatrixTerm(kind="goe", weight=1.0, seed=10**30)
    assert RandomMatrixTerm(kind="goe", weight=1.0, seed=2**63 - 1).seed == 2**63 - 1


MK_TYPED_AS_K = {"asymmetry": [300.0, -150.0, 80.0], "tunnelling": [200.0, 50.0, 120.0]}


@pytest.mark.parametrize("observable", ["absorption", "velocity_shift"])
def test_energies_typed_in_mk_are_warned_about_by_the_responses(observable):
    spectrum, elements = mb.solve(Realisation.from_arrays(**MK_TYPED_AS_K))
    out, caught = _caught(getattr(mb, observable), spectrum, elements, [0.1], [0.05, 0.1])
    said = [str(w.message) for w in caught if w.category is FarBelowSpectrumWarning]
    assert len(said) == 1 and "144.2 K" in said[0] and "300 for 300 mK" in said[0], said
    if observable == "absorption":
        assert not np.any(out)
    # the same model in K: no word
    kelvin = {k: [x / 1000 for x in val] for k, val in MK_TYPED_AS_K.items()}
    spectrum, elements = mb.solve(Realisation.from_arrays(**kelvin))
    out, caught = _caught(getattr(mb, observable), spectrum, elements, [0.1], [0.05, 0.1])
    assert not any(w.category is FarBelowSpectrumWarning for w in caught)


def test_one_tls_ten_times_above_the_probe_is_no_unit_slip():
    spectrum, elements = mb.solve(Realisation.from_arrays(asymmetry=[1.0], tunnelling=[0.5]))
    q, caught = _caught(mb.absorption, spectrum, elements, [0.1], [0.01, 0.1])
    assert not any(w.category is FarBelowSpectrumWarning for w in caught)
    assert not np.any(q)  # a Gaussian line 1 K away from w = 0.1 K: exactly 0, and true


def test_the_specific_heat_warns_for_gaps_far_above_every_temperature():
    energies = np.array([0.0, 150.0, 300.0])
    c, caught = _caught(mb.specific_heat, energies, [0.05, 0.1])
    said = [str(w.message) for w in caught if w.category is FarBelowSpectrumWarning]
    assert len(said) == 1 and "level gap above the ground state (150 K)" in said[0], said
    _, caught = _caught(mb.specific_heat, energies / 1000, [0.05, 0.1])
    assert not caught


def test_observe_names_the_unit_when_the_spacing_dwarfs_the_frequency():
    model = ModelParams(n_tls=4, tls=TLSParams(asymmetry_max=300, tunnelling_max=300,
                                               tunnelling_min=1))
    probe = Probe(frequencies=[0.1], temperatures=[0.05, 0.1], observables=("absorption",))
    _, caught = _caught(mb.observe, model, 1, 0, probe)
    said = [str(w.message) for w in caught if "exactly 0" in str(w.message)]
    assert len(said) == 1 and "300 typed for 300 mK?" in said[0], said


def test_a_run_s_realisations_are_not_warned_about_as_unit_slips():
    """One TLS of 0.1-0.3 K at 0.5 mK is an ordinary ensemble member: the solver's specific heat
    does not warn (the preflight checks the model's units once)."""
    model = ModelParams(n_tls=1, tls=TLSParams(asymmetry_max=0.3, tunnelling_min=0.1,
                                               tunnelling_max=0.3))
    probe = Probe(frequencies=[0.1], temperatures=[5e-4], observables=("specific_heat",))
    out, caught = _caught(mb.observe, model, 1, 0, probe)
    assert not any(w.category is FarBelowSpectrumWarning for w in caught), caught
    assert out["specific_heat"].shape == (1,)


@pytest.mark.parametrize("energies, temperature, expected", [
    ([-1e308, 1e308], 1e308, 0.41997434),  # two levels 2 T apart: x^2 e^x/(1 + e^x)^2, x = 2
    ([-1.7e308, 1.7e308], 1.0, 0.0),
])
def test_the_specific_heat_of_a_span_beyond_float64(energies, temperature, expected):
    """bt229 F12: NaN where E_max - E_0 overflows."""
    c, caught = _caught(mb.specific_heat, energies, [temperature])
    assert c == pytest.approx([expected], rel=1e-7, abs=1e-300)
    assert not any(issubclass(w.category, RuntimeWarning) for w in caught)


@pytest.mark.parametrize("n_tls", [1, 3, 6])
def test_the_one_pass_line_range_agrees_with_the_widest_line_and_the_smallest_gap(n_tls):
    """The absorption's unit checks take both ends of the driven lines from one pass over T_mn;
    the widest is the one the other observables' checks use, and for independent TLS with a
    one-body stress the narrowest is the smallest TLS energy."""
    from manybody.simulation.observables.absorption import _driven_line_range, _widest_driven_line

    rng = np.random.default_rng(n_tls)
    eps, delta = rng.uniform(-0.3, 0.3, n_tls), rng.uniform(0.01, 0.3, n_tls)
    spectrum, elements = mb.solve(Realisation.from_arrays(asymmetry=eps, tunnelling=delta))
    narrowest, widest = _driven_line_range(spectrum.energies, elements)
    assert widest == _widest_driven_line(spectrum.energies, elements)
    assert narrowest == pytest.approx(np.min(np.hypot(eps, delta)), rel=1e-9)
    assert widest == pytest.approx(np.max(np.hypot(eps, delta)), rel=1e-9)
