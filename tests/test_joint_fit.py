"""Loss and frequency shift fitted together (manybody.laws.joint): the joint fit prefers the law
the synthetic data were made with, recovers the parameters within their errors, and narrows the
TLS index against the loss alone."""

from __future__ import annotations

import math

import numpy as np
import pytest

from manybody.laws.inputs import LossCurve, ShiftCurve
from manybody.laws.joint import compare_loss_shift, fit_loss_shift
from manybody.laws.shapes import law_values
from manybody.laws.shift import shift_values

W = 0.27  # K, 5.62 GHz
T = np.geomspace(0.03, 1.0, 25)
AMPLITUDE, BACKGROUND, OFFSET = 1e-6, 2e-7, 3e-8


def _data(truth: str, seed: int, rel: float = 0.01, abs_shift: float = 2e-9,
          index: float | None = None):
    rng = np.random.default_rng(seed)
    x = W / T
    loss = (AMPLITUDE * law_values(truth, x, index or 0.0) + BACKGROUND) * (
        1 + rel * rng.standard_normal(T.size))
    shift = AMPLITUDE / math.pi * shift_values(truth, x, index) + OFFSET  # index: family only
    shift = shift + abs_shift * rng.standard_normal(T.size)
    return LossCurve(T, loss, label="loss"), ShiftCurve(T, shift)


@pytest.mark.parametrize(("truth", "verdict_word"), [("tls", "TLS"), ("generic", "generic")])
def test_joint_fit_prefers_the_true_law(truth, verdict_word):
    loss, shift = _data(truth, seed=3)
    cmp = compare_loss_shift([loss], shift, W)
    joint = cmp.verdicts["joint"]
    assert joint.preferred == truth
    assert joint.evidence == "very strong"
    assert joint.verdict.startswith(verdict_word)
    # the shared amplitude ties the two: the joint index is tighter than either alone
    assert joint.index_error < cmp.verdicts["loss"].index_error
    assert joint.index_error < cmp.verdicts["shift"].index_error
    # the fit of the true law recovers amplitude, background and offset within 3 errors
    fit = cmp.fits["joint"][truth].fit
    for name, value in (("amplitude", AMPLITUDE), ("background", BACKGROUND),
                        ("shift_offset", OFFSET)):
        assert abs(fit.parameters[name] - value) < 3 * fit.errors[name], name
    assert abs(joint.index - (1.0 if truth == "tls" else 0.0)) < 3 * joint.index_error


def test_noise_free_family_recovers_an_intermediate_index_exactly():
    loss, shift = _data("family", seed=0, rel=0.0, abs_shift=0.0, index=0.4)
    # noise-free: give tiny absolute errors, so the optimum is exact
    loss = LossCurve(loss.temperature, loss.loss, 1e-6 * loss.loss, label="loss")
    shift = ShiftCurve(shift.temperature, shift.shift, np.full(T.size, 1e-15))
    fit = fit_loss_shift([loss], shift, W, law="family").fit
    assert fit.parameters["index"] == pytest.approx(0.4, abs=1e-6)
    assert fit.parameters["amplitude"] == pytest.approx(AMPLITUDE, rel=1e-6)
    assert fit.parameters["shift_offset"] == pytest.approx(OFFSET, rel=1e-6)


def test_shift_alone_and_prediction():
    loss, shift = _data("tls", seed=5)
    res = fit_loss_shift([loss], shift, "5.62GHz", law="tls", mode="shift")
    assert res.loss_curves == ()
    assert res.fit.parameter_names == ("amplitude", "shift_offset")
    assert abs(res.fit.parameters["amplitude"] - AMPLITUDE) < 3 * res.fit.errors["amplitude"]
    assert np.allclose(res.shift_residuals(), shift.shift - res.predict_shift(T))
    with pytest.raises(ValueError, match="no loss curves"):
        res.predict_loss(T)


def test_shift_shares_the_amplitude_of_the_lowest_power_curve():
    """Two powers: the shift belongs to the unsaturated (lowest-power) curve."""
    x = W / T
    low = LossCurve(T, AMPLITUDE * law_values("tls", x) + BACKGROUND, power=-140.0, label="low")
    high = LossCurve(T, 0.3 * AMPLITUDE * law_values("tls", x) + BACKGROUND, power=-80.0,
                     label="high")
    shift = ShiftCurve(T, AMPLITUDE / math.pi * shift_values("tls", x))
    res = fit_loss_shift([high, low], shift, W, law="tls")
    assert res.fit.options["partner"] == "low"
    assert res.fit.parameters["amplitude[low]"] == pytest.approx(AMPLITUDE, rel=1e-6)
    assert res.fit.parameters["amplitude[high]"] == pytest.approx(0.3 * AMPLITUDE, rel=1e-6)


def test_saturation_one_unsaturated_amplitude_for_loss_curves_and_shift():
    """Loss at three powers saturated as 1/sqrt(1 + P/Pc) (Pc = -120 dBm); the shift carries the
    unsaturated amplitude: the fit recovers F and Pc, and the shift's amplitude is F."""
    x = W / T
    pc = -120.0
    curves = [LossCurve(T, AMPLITUDE / math.sqrt(1 + 10 ** ((p - pc) / 10)) * law_values("tls", x)
                        + BACKGROUND, 1e-4 * AMPLITUDE * np.ones(T.size), power=p,
                        label=f"{p:g} dBm") for p in (-150.0, -120.0, -90.0)]
    shift = ShiftCurve(T, AMPLITUDE / math.pi * shift_values("tls", x),
                       np.full(T.size, 1e-4 * AMPLITUDE))
    fit = fit_loss_shift(curves, shift, W, law="family", saturation=True).fit
    assert fit.parameters["amplitude"] == pytest.approx(AMPLITUDE, rel=1e-5)
    assert fit.parameters["critical_power"] == pytest.approx(pc, abs=1e-3)
    assert fit.parameters["index"] == pytest.approx(1.0, abs=1e-5)
    assert fit.options["partner"] == "unsaturated amplitude"


def test_quasiparticle_terms_share_the_gap():
    x = W / T
    gap, t_ref = 8.0, T.max()
    qp = np.exp(-gap * (1 / T - 1 / t_ref))
    loss = LossCurve(T, AMPLITUDE * law_values("tls", x) + BACKGROUND + 5e-7 * qp,
                     1e-4 * AMPLITUDE * np.ones(T.size))
    shift = ShiftCurve(T, AMPLITUDE / math.pi * shift_values("tls", x) - 2e-6 * qp,
                       np.full(T.size, 1e-4 * AMPLITUDE))
    fit = fit_loss_shift([loss], shift, W, law="tls", quasiparticle="exp").fit
    assert fit.parameters["gap"] == pytest.approx(gap, rel=1e-5)
    assert fit.parameters["qp_shift"] == pytest.approx(-2e-6, rel=1e-5)


def test_bad_input():
    loss, shift = _data("tls", seed=1)
    with pytest.raises(ValueError, match="mode"):
        fit_loss_shift([loss], shift, W, mode="both")
    with pytest.raises(ValueError, match="needs a ShiftCurve"):
        fit_loss_shift([loss], None, W, mode="joint")
    with pytest.raises(ValueError, match="all curves .loss and shift. or none"):
        fit_loss_shift([LossCurve(T, loss.loss, 0.01 * loss.loss)], shift, W)
    with pytest.raises(ValueError, match="quasiparticle"):
        fit_loss_shift([loss], shift, W, quasiparticle="mattis-bardeen")
    with pytest.raises(ValueError, match="shift of 'shift' must have the shape"):
        ShiftCurve(T, shift.shift[:-1])
    with pytest.raises(TypeError, match="do not pass law"):
        compare_loss_shift([loss], shift, W, law="tls")
