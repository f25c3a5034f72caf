"""The loss fits' unit-mistake check (manybody.laws.x_range), one rule for the Python API and
``manybody fit-data`` (session 39: the API fitted temperatures in mK given as K without a word
while fit-data refused the same table)."""

import warnings

import numpy as np
import pytest

import manybody as mb
from manybody.cli import x_range as cli_x_range
from manybody.laws import x_range
from manybody.laws.inputs import LossCurve, ShiftCurve
from manybody.laws.joint import compare_loss_shift, fit_loss_shift
from manybody.units import KELVIN_PER_GHZ

T = np.linspace(0.02, 0.6, 30)  # 20-600 mK
W = 5.62 * KELVIN_PER_GHZ
LOSS = 1e-6 * np.tanh(W / (2 * T)) + 1e-7


def _fit(kind, t, frequency):
    if kind == "fit_loss":
        return mb.fit_loss(t, LOSS, frequency, law="family")
    if kind == "fit_joint":
        return mb.laws.fit.fit_joint([LossCurve(t, LOSS)], frequency)
    if kind == "compare_laws":
        return mb.compare_laws(LossCurve(t, LOSS), frequency)
    shift = ShiftCurve(t, 1e-6 * np.log(t / t[0]))
    if kind == "fit_loss_shift":
        return fit_loss_shift([LossCurve(t, LOSS)], shift, frequency)
    if kind == "shift_only":
        return fit_loss_shift([], shift, frequency, mode="shift")
    return compare_loss_shift([LossCurve(t, LOSS)], shift, frequency)


KINDS = ["fit_loss", "fit_joint", "compare_laws", "fit_loss_shift", "shift_only",
         "compare_loss_shift"]


@pytest.mark.parametrize("kind", KINDS)
def test_temperatures_in_mk_given_as_kelvin_are_refused(kind):
    with pytest.raises(ValueError, match=r"x = w/T runs from .*frequency='5\.62GHz'.*T from 20 "
                                         r"to 600 K.*all x < 0\.05.*mK given as K"):
        _fit(kind, 1000 * T, "5.62GHz")


@pytest.mark.parametrize("kind", KINDS[:3])
def test_temperatures_in_kelvin_given_as_mk_are_refused(kind):
    with pytest.raises(ValueError, match=r"all x > 50.*K given as mK"):
        _fit(kind, T / 1000, "5.62GHz")


@pytest.mark.parametrize("kind", ["fit_loss", "compare_laws", "fit_loss_shift"])
def test_a_bare_frequency_meant_in_ghz_is_warned_about(kind):
    with pytest.warns(x_range.XRangeWarning, match=r"frequency=5\.62 is a bare number, read as "
                                                   r"5\.62 K .*'5\.62GHz'"):
        _fit(kind, T, 5.62)


def test_compare_laws_warns_once():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mb.compare_laws(LossCurve(T, LOSS), 5.62)
    assert sum(issubclass(w.category, x_range.XRangeWarning) for w in caught) == 1


def test_mostly_outside_is_warned_about():
    t = np.array([0.03, 0.05] + list(np.linspace(6, 20, 6)))
    with pytest.warns(x_range.XRangeWarning, match="6 of 8 points have x outside"):
        mb.fit_loss(t, 1e-6 * (1 + 0.1 * np.arange(8)), "5GHz")


@pytest.mark.parametrize("kind", KINDS)
def test_legitimate_units_pass_silently(kind):
    with warnings.catch_warnings():
        warnings.simplefilter("error", x_range.XRangeWarning)
        _fit(kind, T, "5.62GHz")
        _fit(kind, T, W)  # a bare number in kelvin below 1 K


def test_the_study_x_range_is_not_refused():
    """The study's x = 0.2-12.8 at w = 0.1 K, through fit_loss (bare kelvin) and fit_law."""
    x = np.geomspace(0.2, 12.8, 13)
    q = np.tanh(x / 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", x_range.XRangeWarning)
        fit = mb.fit_loss(0.1 / x, q, 0.1, background=False)
        assert fit.parameters["index"] == pytest.approx(1.0, abs=1e-6)
        assert mb.fit_law(x, q).parameters["index"] == pytest.approx(1.0, abs=1e-6)
        mb.fit_loss(1.0 / x, q, 1.0, background=False)  # w = 1 K, T = 1/x: x as temperatures
        mb.fit_loss(135.0 / x, q, 135.0, background=False)  # w and T scaled together


def test_cli_uses_the_same_rule(capsys):
    """fit-data's check is the laws layer's: the same message, printed by the CLI."""
    curves = [LossCurve(1000 * T, LOSS)]
    with pytest.raises(ValueError) as cli:
        cli_x_range.check_x_range(curves, W, "5.62GHz")
    with pytest.raises(ValueError) as api:
        mb.fit_loss(1000 * T, LOSS, "5.62GHz")
    assert str(cli.value).split(": all")[1] == str(api.value).split(": all")[1]
    assert cli_x_range.X_LOW is x_range.X_LOW and cli_x_range.X_HIGH is x_range.X_HIGH
