"""Session 60 (a tester, bt206): a family fit whose amplitude carries no shape. Four points at
x = 5-14, where tanh(x/2) and 1 - e^-x are both ~1: the family's amplitude 0.004 +- 57 and its
index on the bound were "neither law (index = -0.99 ran to its bound)" beside tls and generic
amplitudes 5 errors above 0. An index on its bound with every amplitude within 2 errors of 0 is
not determined: "undecided"."""

from __future__ import annotations

import numpy as np
import pytest

from manybody.laws.inputs import LossCurve
from manybody.measured.comparison import compare_laws

W = 0.288  # 6 GHz in K


@pytest.mark.parametrize("seed", [0, 3])
def test_an_index_on_its_bound_without_a_shape_is_undecided_not_neither(seed):
    t = np.array([0.02, 0.0333, 0.0467, 0.06])  # x = 4.8-14.4
    loss = (2e-5 * np.tanh(W / t / 2) + 2e-6) * (
        1 + 1e-3 * np.random.default_rng(seed).standard_normal(t.size))
    cmp = compare_laws(LossCurve(t, loss), W)
    family = cmp.fits["family"]
    assert "index" in family.at_bound
    assert abs(family.parameters["amplitude"]) < 2 * family.errors["amplitude"]
    assert cmp.verdict == "undecided", cmp.reason
    assert cmp.reason.startswith("the data do not determine index: it ran to its bound -0.99 "
                                 "with amplitude = "), cmp.reason
    assert "(a shape without weight)" in cmp.reason
    # the tls and generic fits detect the loss: "no temperature dependence" is not said
    assert "no temperature dependence" not in cmp.reason
    assert not family.unphysical


def test_an_index_on_its_bound_with_a_determined_amplitude_is_still_neither():
    """A flat loss without a background: the family's amplitude is the flat level, far from 0,
    and the index on its bound a = -1 is what neither law allows (session 44)."""
    t = np.geomspace(0.02, 0.6, 12)
    loss = 1e-6 * (1 + 0.01 * np.random.default_rng(1).standard_normal(t.size))
    cmp = compare_laws(LossCurve(t, loss), W, background=False)
    assert cmp.verdict == "neither law", cmp.reason
    assert "index = -0.99" in cmp.reason and "ran to its bound" in cmp.reason, cmp.reason


def test_an_index_on_its_bound_where_the_shapes_coincide_is_undecided():
    """Four points at x = 19-29 drawn from the tanh law with 10 % noise, no background: the tls
    and generic fits are the same (every shape of the family is 1 there to 1e-6), the index ran
    to 100 on the noise and the verdict was "neither law" (a tester, bt210)."""
    t = np.array([0.01, 0.011447, 0.013104, 0.015])
    loss = np.array([1.7313e-07, 1.6065e-07, 1.5114e-07, 1.5156e-07])
    cmp = compare_laws(LossCurve(t, loss), W, background=False)
    assert "index" in cmp.fits["family"].at_bound
    assert cmp.verdict == "undecided", cmp.reason
    assert ("the data do not determine index: it ran to its bound 100 with every x = w/T at or "
            "above 19.2, where tanh(x/2) and 1 - e^-x differ by less than 1 %") in cmp.reason


def test_a_rising_loss_is_not_called_a_shape_without_weight():
    """A loss rising 2.9x with temperature (Kendall's tau = 1): its family amplitude is within 2
    errors of 0 only as the misfit inflates them, and the new rule called the index on its bound
    "not determined ... (a shape without weight)" beside that reason (a tester, bt210); the
    rising loss alone is said, and the verdict stays "neither law"."""
    t = np.geomspace(0.03, 0.8, 10)
    loss = 2e-6 * (1 + 3 * t**2) * (1 + 0.003 * np.random.default_rng(5).standard_normal(10))
    cmp = compare_laws(LossCurve(t, loss), 0.192)  # 4 GHz
    assert cmp.verdict == "neither law", cmp.reason
    assert "shape without weight" not in cmp.reason and "do not determine index" not in cmp.reason
    assert "loss rising with temperature: Kendall's tau = 1" in cmp.reason, cmp.reason
    # the JSON records the evidence as the report prints it (it said "none" beside dAIC -2.5)
    assert abs(cmp.delta_aic) >= 2 and cmp.to_dict()["evidence"] == "not weighed"
