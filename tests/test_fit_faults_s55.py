"""Faults of the measured-data fits found by session 55's break tests, each with the right
behaviour.

- The joint loss + shift fit blamed a negative shared amplitude on the shift saying "the loss
  alone gives a positive one", where the loss alone had no amplitude distinguishable from 0
  (-0.049 of its error; helper-178). It now says which.
"""

from __future__ import annotations

import math

import numpy as np

from manybody.laws.inputs import LossCurve, ShiftCurve
from manybody.laws.joint import fit_loss_shift
from manybody.laws.shift import shift_values

W = 0.27  # K
T = np.geomspace(0.03, 1.0, 25)


def _joint_words(loss_amplitude: float, seed: int) -> str:
    """The joint TLS fit's words on a loss of 30 % noise (``loss_amplitude`` tanh(x/2) plus a
    background) beside a precise shift of the wrong sign, which sets the shared amplitude."""
    rng = np.random.default_rng(seed)
    loss = (loss_amplitude * np.tanh(W / (2 * T)) + 2e-7) * (1 + 0.3 * rng.standard_normal(T.size))
    shift = -1e-6 / math.pi * shift_values("tls", W / T) + 1e-10 * rng.standard_normal(T.size)
    fit = fit_loss_shift([LossCurve(T, loss, label="loss")], ShiftCurve(T, shift), W,
                         law="tls").fit
    return " ".join(fit.unphysical)


def test_the_joint_fit_says_whether_the_loss_alone_has_a_positive_amplitude():
    flat = _joint_words(0.0, seed=3)  # a loss without temperature dependence
    assert "the loss alone gives none distinguishable from 0: the shift pulls it negative" in flat
    assert "gives a positive one" not in flat
    rising = _joint_words(1e-6, seed=4)
    assert "the loss alone gives a positive one: the shift pulls it negative" in rising


def test_a_point_value_holding_another_pair_is_refused_naming_the_separator():
    """helper-178: 'coupling_strength=0;frequency=0.1' was refused only as "choose a point on
    every sweep axis" (frequency), the malformed value unnamed."""
    import pytest

    from manybody.study.loss_shift import parse_point

    with pytest.raises(ValueError, match=r"--point coupling_strength='0;frequency=0\.1' holds "
                       r"another '=': separate the NAME=VALUE pairs with ','"):
        parse_point("coupling_strength=0;frequency=0.1")
    assert parse_point("coupling_strength=0,frequency=0.1") == {"coupling_strength": 0.0,
                                                                 "frequency": 0.1}


def test_a_value_off_the_axis_is_shown_as_typed():
    """helper-178: 0.0300000001 was refused as "coupling_strength=0.03 is not on the axis; its
    values: [0.0, 0.03]", seemingly a value on it."""
    import pytest

    from manybody.study.loss_shift import _on_axis

    with pytest.raises(ValueError, match=r"coupling_strength=0\.0300000001 is not on the axis"):
        _on_axis("coupling_strength", np.array([0.0, 0.03]), 0.0300000001)
    assert _on_axis("coupling_strength", np.array([0.0, 0.03]), 3e-2) == 0.03
