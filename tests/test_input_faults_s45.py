"""Faults found in session 45 (break tests of the library and the command line, and the joint fit
of a curve fitted to numerical precision left open in session 44), each with the right behaviour."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from manybody.laws.fit import MIN_RELATIVE_SCATTER, fit_joint
from manybody.laws.inputs import LossCurve, ShiftCurve
from manybody.laws.joint import fit_loss_shift

W = 0.05
T = np.geomspace(0.01, 0.5, 15)
X = W / T


def _quiet(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)


# ------------------------------------------------ a curve fitted to precision beside noisy ones

@pytest.mark.parametrize("background", [True, False])
@pytest.mark.parametrize("noise", [0.0, 1e-12])
def test_an_exact_curve_beside_another_law_is_indeterminate(background, noise):
    """An exact tanh curve and an exact 1 - e^-x curve share no index. With a scatter estimated
    per curve the one fitted to round-off got all the weight: a = 1 +- 3e-10 or 0 +- 2e-10,
    decided by the background (session 44). Now the fit names that curve and cannot decide."""
    rng = np.random.default_rng(1)
    tls = 1e-5 * np.tanh(X / 2) * (1 + noise * rng.standard_normal(T.size))
    generic = 1e-5 * (1 - np.exp(-X)) * (1 + noise * rng.standard_normal(T.size))
    fit = _quiet(fit_joint, [LossCurve(T, tls, label="tls"), LossCurve(T, generic, label="gen")],
                 W, background=background)
    reasons = [r for r in fit.indeterminate if "numerical precision" in r]
    assert len(reasons) == 1
    exact = "'tls'" if background else "'gen'"  # the curve the runaway weighting fitted
    assert exact in reasons[0] and "sigma" in reasons[0]
    assert min(fit.curve_scatter) < MIN_RELATIVE_SCATTER


def test_the_guard_leaves_common_scatter_consistent_exact_and_noisy_curves_alone():
    rng = np.random.default_rng(2)
    tls = 1e-5 * np.tanh(X / 2)
    generic = 1e-5 * (1 - np.exp(-X))
    common = _quiet(fit_joint, [LossCurve(T, tls, label="a"), LossCurve(T, generic, label="b")],
                    W, scatter="common")
    assert not any("numerical precision" in r for r in common.indeterminate)
    # two exact curves of the same law: the shared law fits both, the answer is right
    both = _quiet(fit_joint, [LossCurve(T, tls, label="a"), LossCurve(T, 2 * tls, label="b")], W)
    assert not any("numerical precision" in r for r in both.indeterminate)
    assert both.parameters["index"] == pytest.approx(1.0, abs=1e-8)
    # measured-like noise (1e-3) on both: the scatters are estimated, no reason
    noisy = [LossCurve(T, tls * (1 + 1e-3 * rng.standard_normal(T.size)), label="a"),
             LossCurve(T, 2 * tls * (1 + 1e-2 * rng.standard_normal(T.size)), label="b")]
    fit = _quiet(fit_joint, noisy, W)
    assert not any("numerical precision" in r for r in fit.indeterminate)
    assert fit.parameters["index"] == pytest.approx(1.0, abs=0.05)


def test_an_exact_shift_beside_a_noisy_loss_is_indeterminate():
    """The joint loss + shift fit estimates the shift's scatter on its own: a shift computed from
    the model (no noise) set the index to 1 +- 6e-11 whatever the loss said."""
    rng = np.random.default_rng(1)
    loss = 1e-5 * np.tanh(X / 2) * (1 + 0.02 * rng.standard_normal(T.size)) + 1e-6
    noisy_shift = ShiftCurve(T, 1e-6 * np.log(T / 0.1) * (1 + 0.02 * rng.standard_normal(T.size)))
    first = _quiet(fit_loss_shift, [LossCurve(T, loss)], noisy_shift, W, law="tls")
    assert not any("numerical precision" in r for r in first.fit.indeterminate)
    exact = ShiftCurve(T, first.predict_shift(T), label="shift")
    fit = _quiet(fit_loss_shift, [LossCurve(T, loss)], exact, W, law="family")
    reasons = [r for r in fit.fit.indeterminate if "numerical precision" in r]
    assert len(reasons) == 1 and "'shift'" in reasons[0]
