"""Session 58 (a tester, bt193, F15): fit-data --saturation of two shipped Nb tables (80 and 100
dBm, no --tmax) ran for more than 10 minutes. The family fit's index ran to its bound -0.99 (a
law nearly constant in T), where the amplitude and the background cancel along a flat valley;
least_squares, which moved them with the nonlinear parameters, took its 5000 evaluations on
every solve without converging. The linear parameters are now solved exactly at every step
(variable projection): the optimiser converges, in a few evaluations, to the same optimum."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import optimize

import manybody as mb
from manybody.laws.inputs import LossCurve
from manybody.measured.tables import curves_from_table, read_loss_table

DATA = Path(__file__).resolve().parents[1] / "data" / "resonator_nb_cpw"


@pytest.fixture
def evaluations(monkeypatch):
    """The nfev and status of every least_squares call of the fits."""
    from manybody.laws import fit

    calls = []
    original = optimize.least_squares

    def counted(*args, **kwargs):
        sol = original(*args, **kwargs)
        calls.append((sol.nfev, sol.status))
        return sol

    monkeypatch.setattr(fit.optimize, "least_squares", counted)
    return calls


def _curves(*powers: int):
    return [c for p in powers for c in curves_from_table(read_loss_table(DATA / f"qint_{p}dBm.csv"))]


def test_a_saturation_fit_at_the_index_bound_converges_in_few_evaluations(evaluations):
    comparison = mb.compare_laws(_curves(80, 100), "5.61989GHz", saturation=True)
    family = comparison.fits["family"]
    assert family.parameters["index"] == pytest.approx(-0.99)  # the bound: the unphysical optimum
    assert evaluations and all(status > 0 for _, status in evaluations)
    assert max(n for n, _ in evaluations) < 100  # 5000 (the cap) on 37 of 163 solves before
    for fit in comparison.fits.values():
        assert "the optimiser did not converge" not in fit.indeterminate


def test_the_shipped_saturation_fits_keep_their_optima(evaluations):
    """The README's numbers (80-140 dBm, --tmax 0.8): one Pc a = 0.82 +- 0.32 at Pc = -127.6
    +- 1.3 dBm, 'standard' a = 1.68 +- 0.37."""
    curves = _curves(80, 100, 120, 140)
    one = mb.compare_laws(curves, "5.61989GHz", saturation=True, tmax=0.8).fits["family"]
    assert one.parameters["index"] == pytest.approx(0.8192, abs=1e-4)
    assert one.errors["index"] == pytest.approx(0.32, abs=0.005)
    assert one.parameters["critical_power"] == pytest.approx(-127.6, abs=0.05)
    standard = mb.compare_laws(curves, "5.61989GHz", saturation=True, tmax=0.8,
                               critical_power_law="standard").fits["family"]
    assert standard.parameters["index"] == pytest.approx(1.683, abs=1e-3)
    assert all(status > 0 for _, status in evaluations)


def test_the_projected_optimum_is_the_joint_one_on_a_well_posed_fit():
    """Noisy tanh data with errors: scipy's curve_fit over all three parameters jointly, started
    at the projected optimum, stays there (it is the joint problem's optimum)."""
    from manybody.laws.shapes import law_values

    t = np.geomspace(0.03, 1.0, 25)
    rng = np.random.default_rng(58)
    q = (1e-6 * np.tanh(0.27 / (2 * t)) + 2e-7) * (1 + 0.02 * rng.standard_normal(t.size))
    fit = mb.compare_laws([LossCurve(t, q, sigma=0.02 * q)], "5.61989GHz").fits["family"]
    assert "the optimiser did not converge" not in fit.indeterminate
    x = fit.options["frequency_kelvin"] / t
    p = fit.parameters
    start = [p["amplitude"] * 1e6, p["background"] * 1e6, p["index"]]

    def model(xv, amplitude, background, index):
        return 1e-6 * (amplitude * law_values("family", xv, index) + background)

    joint, _ = optimize.curve_fit(model, x, q, p0=start, sigma=0.02 * q, absolute_sigma=True,
                                  xtol=1e-14, ftol=1e-14, gtol=1e-14)
    assert joint == pytest.approx(start, rel=1e-6)
    assert fit.parameters["index"] == pytest.approx(1.0, abs=3 * fit.errors["index"])
