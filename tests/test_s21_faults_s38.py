"""Faults of the raw-S21 notch fit (``fit_notch``, ``read_sweep``) reported by a break test
(session 37), each tested as a kind: a conjugated S21, a real line at modest signal-to-noise
per point, a window narrower than the line, frequencies rounded in the export, a strongly
overcoupled resonator, and a warning leaking from the error propagation."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from manybody.measured.resonance import fit_notch, propagated_error
from manybody.measured.sweeps import S21Sweep


def notch_sweep(seed: int = 0, *, qi: float = 2e4, qc_abs: float = 7e3, phi: float = 0.2,
                f0: float = 7.7e9, noise: float = 1e-3, n: int = 2001, span_lw: float = 10.0,
                amplitude: float = 0.05, alpha: float = 0.3, delay: float = -12e-9,
                conjugate: bool = False) -> S21Sweep:
    """Notch S21 (the model of manybody.measured.resonance) centred in a window of ``span_lw``
    linewidths f0/Ql, with complex white noise of rms ``noise`` times the amplitude per point
    (the break test's generator)."""
    ql = 1.0 / (1.0 / qi + math.cos(phi) / qc_abs)
    f = np.linspace(f0 - span_lw * f0 / ql / 2, f0 + span_lw * f0 / ql / 2, n)
    u = f / f0 - 1.0
    z = (amplitude * np.exp(1j * alpha) * np.exp(-2j * np.pi * f * delay)
         * (1 - ql / qc_abs * np.exp(1j * phi) / (1 + 2j * ql * u)))
    rng = np.random.default_rng(seed)
    z = z + amplitude * noise * (rng.standard_normal(n) + 1j * rng.standard_normal(n)) / math.sqrt(2)
    return S21Sweep(f, np.conj(z) if conjugate else z, f"synthetic-{seed}", "real-imag")


# ------------------------------------------------- 6: a warning from the error propagation


def test_error_propagation_skips_parameters_the_quantity_does_not_depend_on():
    """An undetermined parameter (infinite variance) that Qc does not depend on (zero gradient)
    made g @ C @ g = 0 * inf = NaN with 'invalid value encountered in matmul' on the screen."""
    cov = np.array([[np.inf, np.nan, np.nan], [np.nan, 4.0, 1.0], [np.nan, 1.0, 9.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert propagated_error(np.array([0.0, 1.0, 1.0]), cov) == pytest.approx(math.sqrt(15.0))
        assert propagated_error(np.array([1.0, 1.0, 0.0]), cov) == math.inf
        assert propagated_error(np.zeros(3), cov) == 0.0


def test_a_narrow_window_fit_leaks_no_runtime_warning():
    """The break test's narrow window (2 linewidths, seed 4): one start ran away to |Qc| < 0 with
    an undetermined covariance, and the user saw 'RuntimeWarning: invalid value encountered in
    matmul'."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        fit = fit_notch(notch_sweep(4, span_lw=2.0))
    assert fit.qi == pytest.approx(2e4, rel=2e-3)


# ------------------------------------------------- 3: a window narrower than the line


@pytest.mark.parametrize("seed", [0, 4])
def test_a_centred_line_in_a_too_narrow_window_is_called_too_narrow_not_at_the_edge(seed):
    """A line centred in a window of 2 linewidths was flagged 'resonance at the window edge'."""
    fit = fit_notch(notch_sweep(seed, span_lw=2.0))
    assert fit.flag
    assert "window too narrow for the linewidth: span / linewidth = 2" in fit.reason, fit.reason
    assert "need >= 4" in fit.reason and "edge" not in fit.reason


def test_a_centred_line_in_a_window_of_five_linewidths_is_taken():
    fit = fit_notch(notch_sweep(1, span_lw=5.0))
    assert not fit.flag, fit.reason
    assert abs(fit.qi - 2e4) < 4 * fit.qi_err


# ------------------------------------------------- 4: frequencies rounded in the export


def test_frequencies_rounded_in_the_export_are_named_as_such(tmp_path):
    """GHz with 6 decimals (1 kHz) for a sweep stepped by 385 Hz repeats values; the message was
    'sort the sweep and remove repeats', which neither explains nor cures it."""
    from manybody.measured.sweeps import read_sweep

    s = notch_sweep(0, qi=3e5, qc_abs=1.5e5)
    path = tmp_path / "q.csv"
    np.savetxt(path, np.c_[s.frequency / 1e9, 20 * np.log10(abs(s.s21)), np.degrees(np.angle(s.s21))],
               delimiter=",", fmt=["%.6f", "%.6f", "%.5f"],
               header="Frequency (GHz),S21 (dB),Phase (deg)", comments="")
    with pytest.raises(ValueError) as info:
        read_sweep(path)
    msg = str(info.value)
    assert "q.csv: frequency not strictly increasing" in msg
    assert "the export rounded the frequencies to 1000 Hz" in msg
    assert "step of 380 Hz" in msg and "more digits" in msg and "remove repeats" not in msg
    # the same sweep with 9 decimals reads
    np.savetxt(path, np.c_[s.frequency / 1e9, 20 * np.log10(abs(s.s21)), np.degrees(np.angle(s.s21))],
               delimiter=",", fmt=["%.9f", "%.6f", "%.5f"],
               header="Frequency (GHz),S21 (dB),Phase (deg)", comments="")
    assert read_sweep(path).frequency.size == 2001


def test_repeats_that_are_not_rounding_keep_the_sort_hint():
    from manybody.measured.sweeps import check_sweep, rounding_resolution

    f = np.linspace(7.7e9, 7.701e9, 101)
    f[50] = f[49]  # one duplicated row, the step (10 kHz) resolved
    assert rounding_resolution(f) is None
    with pytest.raises(ValueError, match="sort the sweep and remove repeats"):
        check_sweep(S21Sweep(f, np.ones(101, complex), "dup.csv", "real-imag"))
    # 500 Hz steps rounded to 2 kHz: the resolution named, not the step
    assert rounding_resolution(np.round(np.linspace(7.7e9, 7.70005e9, 101) / 2e3) * 2e3) == 2e3
