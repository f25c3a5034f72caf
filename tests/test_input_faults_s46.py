"""Faults found in session 46 (break tests of array flavours, measured-data files and runs under
limited resources, and items left open in earlier sessions), each with the right behaviour."""

from __future__ import annotations

import numpy as np
import pytest

import manybody as mb
from manybody.support import validate as v

# ------------------------------------------------ masked and 0-d scalars (left open since s44)


@pytest.mark.parametrize("masked", [np.ma.masked, np.ma.masked_array(0.5, mask=True)])
@pytest.mark.parametrize("check", [v.real, v.positive, v.integer])
def test_a_masked_scalar_is_refused_not_taken_as_its_data(masked, check):
    """A masked 0-d value was taken as the number under its mask (0.5, or 0.0 for np.ma.masked)."""
    with pytest.raises(ValueError, match="temperature is masked"):
        check("temperature", masked)


def test_an_unmasked_0d_masked_array_and_0d_arrays_are_their_number():
    assert v.real("temperature", np.ma.masked_array(0.25)) == 0.25
    assert v.integer("n_tls", np.array(3)) == 3
    assert v.boolean("background", np.array(True)) is True
    assert v.boolean("background", np.all(np.ones(3) > 0)) is True


def test_a_0d_bool_array_given_for_a_number_is_named_a_boolean():
    with pytest.raises(TypeError, match=r"array\(True\) \(a boolean\)"):
        v.real("temperature", np.array(True))


def test_a_masked_temperature_is_refused_by_the_public_api():
    realisation = mb.Realisation.from_arrays(asymmetry=[0.05, 0.1], tunnelling=[0.1, 0.07])
    spectrum, stress = mb.solve(realisation)
    with pytest.raises(ValueError, match="masked"):
        mb.absorption(spectrum, stress, [0.11], np.ma.masked_array([0.1, 0.2], mask=[0, 1]),
                      mb.Broadening(width=0.02))


# ------------------------------------------------ relaxation rates beyond float64 (left open in s45)

@pytest.mark.parametrize("call", [mb.relaxation_absorption, mb.relaxation_velocity_shift])
def test_rates_that_would_overflow_are_refused_by_name(call):
    """Energies of 1e99 K with K_ph = 1e15 gave overflow warnings and NaN: K E^3 overflowed."""
    realisation = mb.Realisation.from_arrays(asymmetry=[5e97], tunnelling=[1e98])
    spectrum, stress = mb.solve(realisation)
    with pytest.raises(ValueError, match=r"one-phonon rates .* reach about 1e309 s\^-1 .*"
                                         r"rate_prefactor 1e\+15"):
        call(spectrum, stress, [1e96], [1e98], rate_prefactor=1e15)


def test_the_rate_check_keeps_scale_invariance_where_rates_are_in_range():
    """At energies of 1e29 K the rates (~1e94 s^-1) are still taken; the response of a scaled TLS
    follows its analytic scaling Q ~ omega tau ~ s^-2 (omega scaled by s, 1/tau by s^3)."""
    values = []
    for scale in (1.0, 1e29):
        realisation = mb.Realisation.from_arrays(asymmetry=[0.05 * scale], tunnelling=[0.1 * scale])
        spectrum, stress = mb.solve(realisation)
        values.append(mb.relaxation_absorption(spectrum, stress, [1e-9 * scale], [0.1 * scale],
                                               rate_prefactor=4.9e7)[0, 0])
    assert values[1] == pytest.approx(values[0] * 1e29**-2, rel=1e-9)


def test_the_driven_steady_state_shares_the_rate_check():
    from manybody.simulation.observables.relaxation import transition_rates

    with pytest.raises(ValueError, match="one-phonon rates"):
        transition_rates([0.0, 1e99], [[0.0, 1.0], [1.0, 0.0]], 1.0, 1e15)
