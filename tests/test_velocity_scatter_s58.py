"""Session 58 (a tester, bt197, F5): the slopes of delta v/v (or df/f) without given errors took
one scatter pooled over the three windows' residuals; on the shipped Nb shift table the
quasiparticle fall above 1.3 K set it, so the slope below carried 8.8x its own error and the
slope above 0.5x. Where the windows' scatters are unequal beyond chance (Bartlett's test) each
window's errors now come from its own residuals, with a warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from manybody.laws.covariance import SCATTER_SPREAD, unequal_scatter_p_value
from manybody.laws.velocity import canonical_velocity_shift, fit_velocity_slopes

SHIFT_TABLE = Path(__file__).resolve().parents[1] / "data" / "resonator_nb_cpw" / "freq_shift.csv"


@pytest.mark.parametrize("seed", range(6))
def test_the_equal_scatter_test_is_bartletts(seed):
    """Against scipy.stats.bartlett on raw samples (their variances with n - 1 dof)."""
    rng = np.random.default_rng(seed)
    samples = [rng.normal(0.0, scale, size) for scale, size in ((1.0, 6), (4.0, 9), (0.5, 5))]
    scatters = [np.std(x, ddof=1) for x in samples]
    p_value = unequal_scatter_p_value(scatters, [x.size - 1 for x in samples])
    if max(scatters) < SCATTER_SPREAD * min(scatters):
        assert p_value is None
    else:
        assert p_value == pytest.approx(stats.bartlett(*samples).pvalue, rel=1e-10)


def test_the_equal_scatter_test_does_not_apply_to_one_group_or_no_dof():
    assert unequal_scatter_p_value([1.0], [3]) is None
    assert unequal_scatter_p_value([1.0, 10.0], [3, 0]) is None
    assert unequal_scatter_p_value([1.0, 0.0], [3, 3]) is None


def _curve(noise_below: float, noise_above: float, seed: int = 0):
    """The canonical curve (T_max 1.3 K, values -0.5 to -3.9, misfit of the windows' lines
    about 0.01) with Gaussian noise below and above 1.3 K."""
    t = np.geomspace(0.02, 20.0, 40)
    dv = canonical_velocity_shift(t, 1.0)
    rng = np.random.default_rng(seed)
    return t, dv + rng.normal(0.0, 1.0, t.size) * np.where(t < 1.3, noise_below, noise_above)


def _line_error(t, dv, window) -> float:
    """The slope's error of a straight line in ln T over ``window`` from its own residuals."""
    inside = (t >= window[0]) & (t <= window[1])
    return stats.linregress(np.log(t[inside]), dv[inside]).stderr


def test_unequal_windows_take_their_own_scatter_as_a_line_fit_of_each_would():
    t, dv = _curve(0.05, 1.0)
    with pytest.warns(UserWarning, match=r"the scatter of delta v/v about the fits of the three "
                                         r"windows differs .*Bartlett's test"):
        fit = fit_velocity_slopes(t, dv)
    assert fit.error_source == "residuals per window"
    assert fit.below_error == pytest.approx(_line_error(t, dv, fit.window_below), rel=1e-9)
    assert fit.above_error == pytest.approx(_line_error(t, dv, fit.window_above), rel=1e-9)
    assert fit.above_error > 5 * fit.below_error


@pytest.mark.parametrize("seed", range(8))
def test_equal_windows_keep_one_pooled_scatter_without_a_warning(seed):
    t, dv = _curve(0.1, 0.1, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_velocity_slopes(t, dv)
    assert fit.error_source == "residuals" and fit.chi2_per_dof == pytest.approx(1.0)


def test_the_slopes_do_not_change_only_their_errors():
    t, dv = _curve(0.05, 1.0)
    with pytest.warns(UserWarning):
        own = fit_velocity_slopes(t, dv)
    given = fit_velocity_slopes(t, dv, np.ones_like(t))  # uniform weights: the same estimators
    assert (own.below, own.above, own.temperature_max) == pytest.approx(
        (given.below, given.above, given.temperature_max), rel=1e-12)


def test_the_shipped_shift_table_gets_each_windows_own_error(tmp_path, capsys):
    from manybody.cli import main

    with pytest.warns(UserWarning, match="the scatter of df/f about the fits of the three windows"):
        assert main(["fit-data", "--velocity", str(SHIFT_TABLE), "--margin", "1.5", "--out",
                     str(tmp_path / "o")]) == 0
    captured = capsys.readouterr()
    assert "each window's scatter estimated from its own residuals" in captured.out
    assert "slope below  = 1.738e-07 +- 3.4e-08" in captured.out  # 3e-07 pooled before
    assert "slope above  = -1.614e-05 +- 3.4e-06" in captured.out  # 1.8e-06 pooled before


def test_round_off_scatters_keep_one_pooled_scatter_without_a_warning():
    """Residuals at round-off (exact data, scatters 1e-21 against values 1e-4) drew the
    unequal-scatter warning and '4e13 sigma' (a tester, bt200): every window's scatter below
    ROUND_OFF_SCATTER of the data keeps the pooled one; one real misfit still switches."""
    from manybody.laws.velocity import _window_variances

    idx = [np.arange(0, 5), np.arange(5, 10), np.arange(10, 15)]
    tiny = [(i, (s * 1e-4) ** 2 * 3, 3) for i, s in zip(idx, (1e-17, 1e-15, 1e-16), strict=True)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, source = _window_variances(tiny, 15, 1.0, "dv", size=1e-4)
    assert source == "residuals"
    real = [(i, (s * 1e-4) ** 2 * 3, 3) for i, s in zip(idx, (1e-2, 1e-4, 1e-4), strict=True)]
    with pytest.warns(UserWarning, match="Bartlett"):
        _, source = _window_variances(real, 15, 1.0, "dv", size=1e-4)
    assert source == "residuals per window"
