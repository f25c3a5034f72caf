"""Notch-type resonance fit of one S21 sweep: f0, Qi, Qc (|Qc| and diameter-corrected), phi.

Model (Probst et al., Rev. Sci. Instrum. 86, 024706 (2015), eq. 1; Khalil et al., J. Appl. Phys.
111, 054510 (2012) for the diameter correction)::

    S21(f) = a [1 + s (f/f0 - 1)] e^{i alpha} e^{-2 pi i f tau}
             [1 - (Ql/|Qc|) e^{i phi} / (1 + 2 i Ql (f/f0 - 1))]

with the cable delay tau, the environment's amplitude a, its linear slope s across the window (a
tilted baseline: Gao's thesis, Caltech 2008, eq. 4.14, and the "background" of most resonator
fitting codes; s = 0 is Probst's model) and phase alpha, the loaded quality factor
Ql, the complex coupling 1/Qc = e^{i phi}/|Qc| (phi: impedance mismatch, Fano asymmetry), and
1/Qi = 1/Ql - Re(1/Qc) = 1/Ql - cos(phi)/|Qc|. The diameter-corrected Qc is
|Qc|/cos(phi).

Library choice (issue 19). The starting fit is ``resonator_tools`` (S. Probst, PyPI
``resonator-tools`` 2.2.0, LGPL-3.0, Python >= 3.10, released 2026, numpy/scipy/matplotlib only):
the circle fit of the paper above with automatic cable-delay removal and calibration, and errors of
f0, Ql, |Qc|, phi and the diameter-corrected Qi. Its delay comes from a circle-shape criterion
before the resonance is known; on the Al-on-InP sweeps it is off by ~15 % (-1.087e-8 s against
-1.246e-8 s), leaving a residual 40 times the noise (misfit ~1700) and Qi low by ~10 %. So the
library's result is then refined: all eight parameters of the model above (seven with a constant
baseline, ``background="constant"``) are fitted jointly to the raw complex S21
(scipy.optimize.least_squares, trust region, with the analytic Jacobian), and the errors come from
the analytic Jacobian at the optimum (:func:`notch_jacobian`, through
:func:`manybody.laws.covariance.covariance`) with the covariance scaled by the reduced chi^2 (so a
misfit inflates them); Qi and Qc errors are propagated with the full covariance. The library's own
Qi and f0 stay in the result (``qi_library``, ``f0_library``) for comparison; on noise-only
synthetic sweeps both agree within
errors (tests/test_resonance.py). Compared: ``scresonators-fit`` 0.6.1 (MIT, the source of the Al
data) pins numpy 1.16, scipy 1.3, lmfit 0.9 and pylabrad, last released 2022: not installable on
Python 3.11 with today's numpy; scikit-rf's ``qfactor`` (BSD) fits Q-circles of
reflection/transmission but has no notch model with a diameter correction and no Qi error.

Flags (:attr:`ResonanceFit.flag` with :attr:`ResonanceFit.reason`; a flagged fit keeps its numbers
for inspection but must not be used): no dip of |S21| above the noise, judged over the line
(:func:`dip_significance`); the fit raising an error; f0
outside the window or within max(5 % of the span, one linewidth f0/Ql) of its edge; a window
narrower than ``MIN_SPAN_LINEWIDTHS`` (4) linewidths (said as such, not as "at the edge"); Qi or Qc
not positive or not finite; an error larger than its value, infinite (undetermined) or not
computed; the residual misfit more than ``max_misfit`` times the point-to-point noise power (chi^2
grossly off); a line shape the model does not describe: a residual clearly above the noise (misfit
over :func:`shape_misfit_limit`: ``SHAPE_MIN_MISFIT``, or less for a long sweep) whose part beyond
the noise exceeds ``MAX_SHAPE_RESIDUAL`` (5 %) of the resonance circle's diameter. The misfit alone
cannot tell a wrong line shape from a harmless ripple: it compares the residual with the noise, so
on quiet data a ripple of 1 % of the circle already gives ~90 (the Al-on-InP sweeps without the
baseline's slope; 3.8-4.8 with it, session 63) while a linear
|S21| with gain read as dB, whose circle is distorted by ~15 %, gave 150 on noisier data. The shape
residual compares it with the resonance instead. A flagged sweep of delimited text whose data
suggest a layout or unit mix-up gets the hint
of :func:`manybody.measured.sweeps.layout_hint` first in its reason.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from manybody.laws.covariance import covariance
from manybody.measured.sweeps import S21Sweep, check_sweep, layout_hint
from manybody.support import validate as v

#: Default limit on misfit / noise (mean |residual|^2 over the point-to-point noise power): a
#: residual 20 times the noise. The real Al-on-InP sweeps reach 80-95 with a constant baseline (a
#: baseline ripple the model lacks, under 1 % of the circle diameter) and 3.8-4.8 with the default
#: sloped one (session 63); a wrong model (two resonances, a window of baseline) gives thousands.
MAX_MISFIT = 400.0
#: Default limit on the shape residual: the rms residual beyond the noise over the diameter of the
#: resonance circle. The Al-on-InP sweeps reach 1.2 % with a constant baseline (their ripple;
#: ~0.2 % with the sloped one, session 63); a linear |S21| with gain
#: read as dB gives 15 %, two resonances or a wrong layout more.
MAX_SHAPE_RESIDUAL = 0.05
#: The shape residual counts only when the misfit exceeds this (the residual is then clearly
#: systematic: twice the noise's rms or more); below, a small circle in large noise is no misfit.
#: A long sweep counts from a lower misfit, significant for its number of points:
#: :func:`shape_misfit_limit`.
SHAPE_MIN_MISFIT = 4.0
#: How many standard deviations of a white-noise misfit (about sqrt(3/n) for n points: the
#: residual power's and the second-difference noise estimate's scatter) above 1 count as a
#: systematic residual for the shape check.
SHAPE_MISFIT_SIGMAS = 5.0
#: A dip smaller than this many noise standard deviations counts as "no resonance".
MIN_DIP_SIGMA = 10.0
#: The baseline models of :func:`fit_notch`: a linear slope of the amplitude, or a constant.
BACKGROUNDS = ("slope", "constant")
#: Fraction of the window at each edge where a resonance counts as "at the edge".
EDGE_FRACTION = 0.05
#: The narrowest window (span over the linewidth f0/Ql) a fit is taken from. The edge rule keeps
#: f0 one linewidth from either edge, so a window below 2 linewidths cannot hold any line; at 4 a
#: centred line lies 2 linewidths from each edge, where |S21| has recovered to within ~1/17 of
#: the dip's depth in power, so the baseline (amplitude, slope) is seen. A centred line in a
#: narrower window was called "at the window edge" (a tester, session 37).
MIN_SPAN_LINEWIDTHS = 4.0


def notch_s21(frequency: np.ndarray, f0: float, ql: float, qc_abs: float, phi: float,
              amplitude: float = 1.0, alpha: float = 0.0, delay: float = 0.0,
              slope: float = 0.0) -> np.ndarray:
    """Transmission of a notch-type resonator (the model above).

    Parameters
    ----------
    frequency : array_like, shape (n,)
        f (Hz).
    f0 : float
        Resonance frequency (Hz).
    ql, qc_abs : float
        Loaded quality factor Ql and coupling |Qc| (dimensionless).
    phi : float
        Mismatch angle (rad).
    amplitude, alpha, delay : float
        Environment: amplitude a, phase offset alpha (rad), cable delay tau (s).
    slope : float
        Linear slope s of the amplitude in f/f0 - 1 (dimensionless): a(f) = a [1 + s (f/f0 - 1)].

    Returns
    -------
    numpy.ndarray, shape (n,), complex
        S21(f).
    """
    f = np.asarray(frequency, dtype=np.float64)
    u = f / f0 - 1.0
    return (amplitude * (1.0 + slope * u) * np.exp(1j * alpha) * np.exp(-2j * np.pi * f * delay)
            * (1.0 - ql / qc_abs * np.exp(1j * phi) / (1.0 + 2j * ql * u)))


def notch_jacobian(frequency: np.ndarray, f0: float, ql: float, qc_abs: float, phi: float,
                   amplitude: float = 1.0, alpha: float = 0.0, delay: float = 0.0,
                   slope: float = 0.0) -> np.ndarray:
    """Derivatives of :func:`notch_s21` in its eight parameters, analytic (exact to rounding).

    With S21 = E (1 - C / D), E = a (1 + s u) e^{i alpha} e^{-2 pi i f tau}, u = f/f0 - 1,
    C = (Ql/|Qc|) e^{i phi} and D = 1 + 2 i Ql u: dS/df0 = -2 i E C Ql f / (f0^2 D^2)
    - a s f / f0^2 e^{i alpha} e^{-2 pi i f tau} (1 - C/D), dS/dQl = -E e^{i phi} / (|Qc| D^2),
    dS/d|Qc| = E C / (|Qc| D), dS/dphi = -i E C / D, dS/da = S / a (written without the
    division), dS/dalpha = i S, dS/dtau = -2 pi i f S, dS/ds = a u e^{i alpha}
    e^{-2 pi i f tau} (1 - C/D).

    Parameters
    ----------
    frequency, f0, ql, qc_abs, phi, amplitude, alpha, delay, slope
        As for :func:`notch_s21` (Hz, dimensionless, rad, s, dimensionless).

    Returns
    -------
    numpy.ndarray, shape (n, 8), complex
        Columns in the order f0, Ql, |Qc|, phi, amplitude, alpha, delay, slope.

    Raises
    ------
    ValueError
        ``frequency`` not convertible to a float array (numpy's message).

    Notes
    -----
    Source: the model of Probst et al., Rev. Sci. Instrum. 86, 024706 (2015), eq. 1, differentiated.
    """
    f = np.asarray(frequency, dtype=np.float64)
    u = f / f0 - 1.0
    phase = np.exp(1j * alpha) * np.exp(-2j * np.pi * f * delay)
    env = (1.0 + slope * u) * phase  # E / a
    e = amplitude * env
    den = 1.0 + 2j * ql * u
    c = ql / qc_abs * np.exp(1j * phi)
    inner = 1.0 - c / den
    s21 = e * inner
    return np.stack([-2j * e * c * ql * f / (f0 * f0 * den * den)
                     - amplitude * slope * f / (f0 * f0) * phase * inner,
                     -e * np.exp(1j * phi) / (qc_abs * den * den),
                     e * c / (qc_abs * den),
                     -1j * e * c / den,
                     env * inner,
                     1j * s21,
                     -2j * np.pi * f * s21,
                     amplitude * u * phase * inner], axis=1)


@dataclass(frozen=True)
class ResonanceFit:
    """Result of :func:`fit_notch` for one sweep.

    Attributes
    ----------
    source : str
        The sweep's file.
    f0, f0_err : float
        Resonance frequency and its error (Hz).
    qi, qi_err : float
        Internal quality factor (diameter-corrected, 1/Qi = 1/Ql - cos(phi)/|Qc|) and error.
    qc, qc_err : float
        Diameter-corrected coupling quality factor |Qc|/cos(phi) and error.
    qc_abs, qc_abs_err : float
        |Qc| and error.
    phi, phi_err : float
        Mismatch angle (rad) and error.
    ql, ql_err : float
        Loaded quality factor and error.
    amplitude, alpha, delay : float
        Environment removed before the circle fit: a, alpha (rad), cable delay (s).
    qi_library, f0_library : float
        Qi and f0 of resonator_tools before the refinement (for comparison).
    misfit : float
        Mean |residual|^2 of the normalised data over the point-to-point noise power estimated
        from second differences (about 1 for a good fit with white noise).
    flag : bool
        True when the fit must not be used; ``reason`` says why.
    reason : str
        Why it is flagged ("" when not).
    shape_residual : float
        The rms residual beyond the noise, sqrt(max(mean |residual|^2 - noise power, 0)), over
        the diameter of the resonance circle a Ql/|Qc| (0 for a perfect line shape; NaN when the
        fit failed).
    slope, slope_err : float
        The baseline's linear slope s, a(f) = a [1 + s (f/f0 - 1)], and its error (0 and 0 with
        ``background="constant"``; NaN when the fit failed).
    conjugated : bool
        True when conj(S21) was fitted (``fit_notch(..., conjugate=True)``): the parameters
        describe conj(S21), and :meth:`normalise` conjugates the data it is given.
    qi_window_shift, qi_window_shift_err : float
        The line-shape check of Qi (:func:`window_refit`): Qi refitted on a narrower window
        around f0 (half the span, at least ``MIN_SPAN_LINEWIDTHS`` linewidths) over this fit's
        Qi, minus 1, and the statistical error of that change (nested fits: the square root of
        the difference of the two fits' variances, each error the noise's share, the quoted one
        over sqrt(misfit); at least a fifth of the narrower fit's; over Qi). A
        model that describes the line gives the same Qi on any window that holds it, so the
        change stays within its error; a line shape the model lacks (a baseline ripple or cable
        standing wave, a nonlinear kinetic-inductance line near bifurcation, a neighbouring
        mode) weighs differently in the narrower window and moves Qi, while the misfit and the
        shape residual can stay below their flags (a standing wave of 10 % gave Qi +8..10 %, a
        Duffing line at 0.4 of bifurcation -4..-6 %, both "ok"; a tester, bt226 F1; the change
        was -6.5 % and +3 % there). ``qi_err`` is statistical only: a change beyond
        :func:`window_shift_significant`'s limit is a systematic error of the line shape of at
        least about its size. NaN for a flagged fit or when the narrower window cannot be
        fitted.
    """

    source: str
    f0: float
    f0_err: float
    qi: float
    qi_err: float
    qc: float
    qc_err: float
    qc_abs: float
    qc_abs_err: float
    phi: float
    phi_err: float
    ql: float
    ql_err: float
    amplitude: float
    alpha: float
    delay: float
    qi_library: float
    f0_library: float
    misfit: float
    flag: bool
    reason: str
    shape_residual: float = math.nan
    slope: float = 0.0
    slope_err: float = 0.0
    conjugated: bool = False
    qi_window_shift: float = math.nan
    qi_window_shift_err: float = math.nan

    def model(self, frequency: np.ndarray) -> np.ndarray:
        """The fitted S21 (Hz -> complex), environment included (conjugated back when the fit
        was of conj(S21), so it compares with the data as given)."""
        z = notch_s21(frequency, self.f0, self.ql, self.qc_abs, self.phi, self.amplitude,
                      self.alpha, self.delay, self.slope)
        return np.conj(z) if self.conjugated else z

    def normalise(self, frequency: np.ndarray, s21: np.ndarray) -> np.ndarray:
        """S21 with amplitude (and its slope), phase offset and cable delay removed (the
        resonance circle); the data are conjugated first when the fit was of conj(S21)."""
        f = np.asarray(frequency, dtype=np.float64)
        tilt = 1.0 + self.slope * (f / self.f0 - 1.0)
        z = np.conj(np.asarray(s21)) if self.conjugated else np.asarray(s21)
        return (z / (self.amplitude * tilt)
                * np.exp(1j * (-self.alpha + 2.0 * np.pi * self.delay * f)))

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return asdict(self)


def noise_power(s21: np.ndarray) -> float:
    """Point-to-point noise power E|n|^2 of complex data from second differences.

    For white complex noise n, E|n[i+1] - 2 n[i] + n[i-1]|^2 = 6 E|n|^2; a smooth signal
    contributes little when the sweep resolves the line.
    """
    d2 = np.diff(np.asarray(s21), 2)
    return float(np.mean(np.abs(d2) ** 2) / 6.0)


def dip_significance(s21: np.ndarray) -> float:
    """Significance of the deepest dip of |S21| below its baseline, in noise standard deviations,
    judged over the line rather than at one point (a matched filter of box shape).

    For every width w = 1, 2, 4, ... points up to a quarter of the sweep, the mean of |S21| over
    w neighbouring points is compared with the baseline; the deficit's noise is
    sigma sqrt(1/w + (pi/2)/(2k)) (the mean of w points and the median baseline of 2k points),
    and the largest ratio over widths and positions is returned. A line of depth d spread over
    m points thus counts ~ d sqrt(m) / sigma, not d / sigma: judging the deepest single point
    refused noisy single-photon-like sweeps with a clear line (noise 15 % of the baseline per
    point, 2001 points over 10 linewidths: 8-9 sigma at the deepest point, ~50 over the line; a
    tester, session 37). Pure noise gives ~4-5 (the largest of many correlated normal
    deviates).

    Baseline: the median |S21| of the outer 10 % of points on each side (k points each);
    noise sigma: the standard deviation of |S21| from second differences.

    Parameters
    ----------
    s21 : array_like, shape (n,), complex
        The sweep's S21 (any scale).

    Returns
    -------
    float
        The largest deficit over its noise (inf for a dip without noise, 0 for neither).
    """
    mag = np.abs(np.asarray(s21))
    k = max(mag.size // 10, 2)
    baseline = float(np.median(np.concatenate([mag[:k], mag[-k:]])))
    sigma = math.sqrt(noise_power(mag))
    deficit = baseline - mag
    if not sigma > 0:
        return math.inf if float(deficit.max()) > 0 else 0.0
    cumulative = np.concatenate([[0.0], np.cumsum(deficit)])
    best, width = -math.inf, 1
    while width <= max(mag.size // 4, 1):
        means = (cumulative[width:] - cumulative[:-width]) / width
        error = sigma * math.sqrt(1.0 / width + 0.5 * math.pi / (2 * k))
        best = max(best, float(means.max()) / error)
        width *= 2
    return best


#: A dip this many noise sigma deep at its deepest point, at most ``NARROW_DIP_POINTS`` points
#: wide at half its depth, is a resonance the frequency step under-resolves (a single point of
#: pure noise reaches ~4-5 sigma among a few hundred).
NARROW_DIP_SIGMA = 6.0
NARROW_DIP_POINTS = 2


def _under_resolved(f: np.ndarray, z: np.ndarray) -> str:
    """'; the dip is 1 point(s) wide ... sweep finer' when the deepest point of |S21| lies at
    least ``NARROW_DIP_SIGMA`` noise sigma below the baseline (as :func:`dip_significance`
    takes them) but at most ``NARROW_DIP_POINTS`` points are below half that depth: the
    linewidth f0/Ql is then at most about the frequency step, and the sweep samples the line
    with too few points to be judged or fitted. A sweep with a step of 2.5 linewidths was
    reported as "no resonance dip in the window" with its dip 10-14 sigma deep in one or two
    points (a tester, bt206 F3). "" otherwise."""
    mag = np.abs(z)
    k = max(mag.size // 10, 2)
    baseline = float(np.median(np.concatenate([mag[:k], mag[-k:]])))
    sigma = math.sqrt(noise_power(mag))
    deficit = baseline - mag
    deepest = int(np.argmax(deficit))
    if not (sigma > 0 and deficit[deepest] >= NARROW_DIP_SIGMA * sigma):
        return ""
    wide = int(np.count_nonzero(deficit >= deficit[deepest] / 2))
    if wide > NARROW_DIP_POINTS:
        return ""
    step = float(np.median(np.abs(np.diff(f))))
    return (f"; but its deepest point, at {f[deepest]:.10g} Hz, lies "
            f"{deficit[deepest] / sigma:.3g} sigma below it and the dip is {wide} point(s) wide at "
            f"half its depth: the linewidth (f0/Ql) is at most about the frequency step "
            f"{step:.4g} Hz, which under-resolves the resonance; sweep with a step several times "
            f"finer than the linewidth")


def fit_notch(sweep: S21Sweep, *, max_misfit: float = MAX_MISFIT,
              min_dip_sigma: float = MIN_DIP_SIGMA,
              max_shape_residual: float = MAX_SHAPE_RESIDUAL,
              background: str = "slope", conjugate: bool = False) -> ResonanceFit:
    """Fit a notch-type resonance to one sweep (resonator_tools circle fit; see the module).

    Parameters
    ----------
    sweep : S21Sweep
        The raw sweep (cable delay included).
    max_misfit : float
        Flag fits whose misfit (mean |residual|^2 / noise power) exceeds this (default 400).
    min_dip_sigma : float
        Flag sweeps whose |S21| dip is below this many noise standard deviations (default 10).
    max_shape_residual : float
        Flag fits whose shape residual (see :attr:`ResonanceFit.shape_residual`) exceeds this
        fraction of the circle's diameter while the misfit exceeds :func:`shape_misfit_limit`
        (default 0.05).
    background : {"slope", "constant"}
        The baseline's amplitude: with a linear slope across the window (default; a tilt of
        0.25 dB, common in real sweeps, biased a constant-baseline fit's f0 by 12 of its errors
        and Qi by 3, a tester, session 34), or constant (Probst's model).
    conjugate : bool
        Fit conj(S21): for data whose phase runs the other way (an e^{+i omega t} convention,
        or an inverted Q channel). The model's resonance circle turns clockwise with rising
        frequency (Ql > 0); a conjugated sweep's turns anticlockwise, which no positive Ql
        describes.

    Returns
    -------
    ResonanceFit
        Parameters with errors; ``flag``/``reason`` set when the fit failed or is implausible
        (never raised: a batch continues); the reason starts with a layout hint when the data
        suggest a layout or unit mix-up (:func:`manybody.measured.sweeps.layout_hint`), or
        with "the phase runs the wrong way: S21 looks conjugated" when the fit of conj(S21)
        is good (then rerun with ``conjugate=True``, ``--conjugate``; with ``conjugate=True``
        the hint says the reverse).

    Raises
    ------
    ValueError
        A malformed sweep (see :func:`manybody.measured.sweeps.check_sweep`) or bad options.
    """
    check_sweep(sweep)
    # through the shared checks: "2" gave "'>' not supported between str and int" (session 45)
    if not v.finite("max_misfit", max_misfit) > 1:
        raise ValueError(f"max_misfit must be > 1, got {max_misfit!r}")
    v.positive("min_dip_sigma", min_dip_sigma)
    v.positive("max_shape_residual", max_shape_residual)
    v.choice("background", background, BACKGROUNDS)
    conjugate = v.boolean("conjugate", conjugate)
    z = np.asarray(sweep.s21)
    turned = S21Sweep(sweep.frequency, np.conj(z), sweep.source, sweep.layout)
    if conjugate:
        sweep, turned = turned, sweep
    fit = _fit(sweep, max_misfit, min_dip_sigma, max_shape_residual, background == "slope")
    if conjugate:
        fit = ResonanceFit(**{**fit.to_dict(), "conjugated": True})
    if not fit.flag:  # the line-shape check of Qi on a narrower window (see ResonanceFit)
        shift, error = window_refit(sweep, fit, background == "slope")
        fit = ResonanceFit(**{**fit.to_dict(), "qi_window_shift": shift,
                              "qi_window_shift_err": error})
    if fit.flag and not fit.reason.startswith("no resonance dip"):
        # a dip was found but no plausible fit: does the phase run the other way? (a conjugated
        # sweep got unrelated reasons, "resonance outside the window", "Qi not positive",
        # "refinement failed", while conj(S21) fitted well: a tester, session 37)
        other = _fit(turned, max_misfit, min_dip_sigma, max_shape_residual, background == "slope")
        if not other.flag:
            cure = ("S21 looks conjugated (an e^{+i omega t} convention or an inverted Q "
                    "channel): rerun with --conjugate (conjugate=True)" if not conjugate else
                    "this sweep is not conjugated: rerun without --conjugate (conjugate=False)")
            fit = ResonanceFit(**{**fit.to_dict(), "reason": (
                f"the phase runs the wrong way: {cure}; conj(S21) fits with f0 = "
                f"{other.f0:.10g} Hz, Qi = {other.qi:.4g}; as given: {fit.reason}")})
            return fit
    if fit.flag:
        hint = layout_hint(sweep)
        if hint:
            fit = ResonanceFit(**{**fit.to_dict(), "reason": f"wrong layout? {hint}; "
                                                             f"{fit.reason}"})
    return fit


#: The narrower window of the line-shape check (:func:`window_refit`): this fraction of the
#: sweep's span around f0, but at least ``MIN_SPAN_LINEWIDTHS`` linewidths.
WINDOW_CHECK_FRACTION = 0.5
#: The change's error (:func:`window_refit`) is at least this fraction of the narrower fit's.
WINDOW_ERROR_FLOOR = 0.2
#: Fewest points the narrower window must hold (the refinement has up to eight parameters).
WINDOW_CHECK_MIN_POINTS = 40
#: A change of Qi in the narrower window counts as a line-shape systematic when it exceeds both
#: this many of its statistical errors and ``WINDOW_SHIFT_FLOOR``.
WINDOW_SHIFT_SIGMAS = 4.0
#: The smallest relative change of Qi counted (see WINDOW_SHIFT_SIGMAS): a systematic below
#: half a percent is rarely worth a warning. Measured (session 63, tests/test_resonance_window_s63.py):
#: a 10 % standing wave gives -6..-7 %, a Duffing line at 0.4 of bifurcation +3 %, a 1 % standing
#: wave of one period -1.1..-2.2 % (Qi +2..5 %; bt230 F1, missed with the first, summed errors);
#: the Al-on-InP sweeps +0.54..+0.68 % (their baseline ripple; Qi rises monotonically as the
#: window narrows, a real systematic 50 times the quoted error, so they warn). With the errors
#: of nested fits, clean synthetic sweeps (noise 1e-3..3e-2, over- and under-coupled, 150-1001
#: points; 300 seeds) give change/error of rms 1.1-1.25, beyond 3 in 1-2 % and never beyond 4:
#: hence 4.
WINDOW_SHIFT_FLOOR = 0.005


def window_refit(sweep: S21Sweep, fit: ResonanceFit, with_slope: bool = True
                 ) -> tuple[float, float]:
    """The line-shape check of ``fit``'s Qi: one more least-squares fit of the model to the
    points of ``sweep`` within a narrower window around f0, started from ``fit``'s parameters,
    as (relative change of Qi, its statistical error); see
    :attr:`ResonanceFit.qi_window_shift`.

    The window is ``WINDOW_CHECK_FRACTION`` of the span, at least ``MIN_SPAN_LINEWIDTHS``
    linewidths f0/Ql, centred on f0 (moved inside the sweep when it would reach past an edge).
    (NaN, NaN) when ``fit`` has no usable parameters, the window keeps every point or fewer than
    ``WINDOW_CHECK_MIN_POINTS``, or the refit fails. ``sweep`` is the data ``fit`` was fitted
    to (conjugated already when ``fit`` is of conj(S21)).
    """
    nan = (math.nan, math.nan)
    f = np.asarray(sweep.frequency, dtype=np.float64)
    z = np.asarray(sweep.s21, dtype=np.complex128)
    if not (math.isfinite(fit.qi) and fit.qi > 0 and fit.ql > 0 and math.isfinite(fit.qi_err)):
        return nan
    width = max(WINDOW_CHECK_FRACTION * (f[-1] - f[0]), MIN_SPAN_LINEWIDTHS * fit.f0 / fit.ql)
    lo = min(max(fit.f0 - width / 2, f[0]), f[-1] - width)
    keep = (f >= lo) & (f <= lo + width)
    if keep.all() or np.count_nonzero(keep) < WINDOW_CHECK_MIN_POINTS:
        return nan
    start = {"fr": fit.f0, "Ql": fit.ql, "absQc": fit.qc_abs, "phi0": fit.phi,
             "Qi_dia_corr": math.nan}
    try:
        narrow = _refine(sweep.source, f[keep], z[keep], start, fit.amplitude, fit.alpha,
                         fit.delay, with_slope=with_slope,
                         slope_start=(fit.slope, fit.f0) if with_slope else 0.0)
    except (ValueError, np.linalg.LinAlgError):
        return nan
    if not (math.isfinite(narrow.qi) and narrow.qi > 0 and math.isfinite(narrow.qi_err)):
        return nan
    # the noise's share of each error: the covariance is scaled by the reduced chi^2, which
    # counts a systematic residual as noise (the misfit is that scale over the noise's); the
    # check asks whether noise alone could move Qi so far, so the errors over sqrt(misfit)
    # (a Duffing line's quoted errors, inflated 10x by misfit 110, hid a 3 % change)
    full_err, narrow_err = (x.qi_err / math.sqrt(max(x.misfit, 1.0)) if math.isfinite(x.misfit)
                            else x.qi_err for x in (fit, narrow))
    # the narrow window's points are the full one's: the two fits share most of their noise, and
    # the change's variance is the difference of theirs (Hausman), not the sum (the sum, 3-8x too
    # large, let a ripple biasing Qi by 3 % pass; a tester, bt230 F1); at least a fifth of the
    # narrow fit's error, for windows that keep nearly all the information
    error = math.sqrt(max(narrow_err**2 - full_err**2, (WINDOW_ERROR_FLOOR * narrow_err)**2))
    return narrow.qi / fit.qi - 1.0, error / fit.qi


def window_shift_significant(fit: ResonanceFit) -> bool:
    """Whether ``fit``'s line-shape check (:attr:`ResonanceFit.qi_window_shift`) shows a
    systematic error: an unflagged fit whose Qi changes in the narrower window by more than
    ``WINDOW_SHIFT_SIGMAS`` combined errors and more than ``WINDOW_SHIFT_FLOOR``."""
    shift, error = fit.qi_window_shift, fit.qi_window_shift_err
    return bool(not fit.flag and math.isfinite(shift) and math.isfinite(error)
                and abs(shift) > max(WINDOW_SHIFT_SIGMAS * error, WINDOW_SHIFT_FLOOR))


def _fit(sweep: S21Sweep, max_misfit: float, min_dip_sigma: float,
         max_shape_residual: float, with_slope: bool = True) -> ResonanceFit:
    """:func:`fit_notch` without the layout hint."""
    f = np.asarray(sweep.frequency, dtype=np.float64)
    z = np.asarray(sweep.s21, dtype=np.complex128)
    dip = dip_significance(z)
    if dip < min_dip_sigma:
        return _failed(sweep.source, f"no resonance dip in the window: |S21| dips {dip:.3g} noise "
                                     f"sigma below its baseline, averaged over its deepest "
                                     f"stretch of 1 to {max(f.size // 4, 1)} points "
                                     f"(need {min_dip_sigma:g})" + _under_resolved(f, z))
    try:
        result = _run_library(f, z)
    except Exception as exc:  # noqa: BLE001 - the library raises many kinds; flag, do not stop
        return _failed(sweep.source, f"fit failed: {type(exc).__name__}: {exc}")
    starts = [(result, 0.0)]
    if with_slope:  # a second start: the library on the sweep with the edges' tilt divided out
        tilt, centre = edge_slope(f, z)
        if tilt != 0.0:
            with contextlib.suppress(Exception):  # the library raises many kinds; one start left
                starts.append((_run_library(f, z / (1.0 + tilt * (f / centre - 1.0))),
                               (tilt, centre)))
    fits, failure = [], None
    for start, slope_start in starts:
        try:
            fits.append(_refine(sweep.source, f, z, *start, with_slope=with_slope,
                                slope_start=slope_start))
        except (ValueError, np.linalg.LinAlgError) as exc:
            failure = exc
    # the lower residual of the two starts (a tilt of 2-5 dB left 5-20 % of the fits from the
    # untilted start in a spurious minimum, 2 MHz off: a tester, session 34); the library's own
    # numbers stay those of the raw sweep
    def best(candidates: list[ResonanceFit]) -> ResonanceFit:
        return min(candidates, key=lambda x: x.misfit if math.isfinite(x.misfit) else math.inf)

    if not fits or _implausible(best(fits), f, max_misfit, max_shape_residual):
        # the library's start can be far off (a strongly overcoupled line, -50 to -60 dB deep:
        # Ql 5e5 for 1e3, f0 3 linewidths off, and the refinement fell into a minimum with
        # Qi < 0, misfit 7e5: a tester, session 37): a start read off the dip itself
        with contextlib.suppress(ValueError, np.linalg.LinAlgError):
            dip_start = dip_based_start(f, z)
            fits.append(_refine(sweep.source, f, z, *dip_start, with_slope=with_slope))
    if not fits:
        return _failed(sweep.source, f"refinement failed: {failure}")
    fit = best(fits)
    fit = ResonanceFit(**{**fit.to_dict(), "qi_library": float(result[0]["Qi_dia_corr"]),
                          "f0_library": float(result[0]["fr"])})
    reasons = _implausible(fit, f, max_misfit, max_shape_residual)
    if not fit.misfit <= max_misfit and not any(r.startswith(SHAPE_REASON) for r in reasons):
        # a misfit with a good line shape: the noise is too low for the residual (a misfit
        # with a bad line shape is the model's, and raising the limit would not help)
        reasons = [r + _correlation_hint(f, z, fit) if r.startswith(MISFIT_REASON) else r
                   for r in reasons]
    if reasons:
        return ResonanceFit(**{**fit.to_dict(), "flag": True, "reason": "; ".join(reasons)})
    return fit


#: How the flags for a misfit beyond max_misfit and for a line shape off start.
MISFIT_REASON, SHAPE_REASON = "chi^2 grossly off", "line shape off"
#: Lag-1 autocorrelation of the residuals above which a misfit is put down to correlated noise
#: (white noise gives 0; a VNA's smoothing over k points about 1 - 1/k).
MAX_RESIDUAL_CORRELATION = 0.5


def residual_correlation(f: np.ndarray, z: np.ndarray, fit: ResonanceFit) -> float:
    """Lag-1 autocorrelation of the complex residuals of ``fit`` (Re sum d_i* d_i+1 / sum |d|^2):
    near 0 for white noise, near 1 for smoothed or interpolated data (or a smooth misfit)."""
    d = z - notch_s21(f, fit.f0, fit.ql, fit.qc_abs, fit.phi, fit.amplitude, fit.alpha,
                      fit.delay, fit.slope)
    d = d - d.mean()
    total = float(np.sum(np.abs(d) ** 2))
    return float(np.real(np.sum(np.conj(d[:-1]) * d[1:])) / total) if total > 0 else 0.0


def _correlation_hint(f: np.ndarray, z: np.ndarray, fit: ResonanceFit) -> str:
    """What to add to a misfit flag: the noise is estimated from neighbouring points, so data
    smoothed on the VNA (correlated noise) had every sweep flagged 'chi^2 grossly off: misfit 572
    times the noise power' with no hint (a helper, session 36)."""
    r = residual_correlation(f, z, fit)
    if r > MAX_RESIDUAL_CORRELATION:
        return (f"; neighbouring residuals correlate (r = {r:.2f}): smoothed or interpolated "
                "data? the noise is estimated from neighbouring points; turn smoothing off or "
                "raise the limit (max_misfit, --max-misfit)")
    return "; raise the limit if the fit is good (max_misfit, --max-misfit)"


def _run_library(f: np.ndarray, z: np.ndarray) -> tuple[dict, float, float, float]:
    """resonator_tools' notch fit: (fitresults, amplitude, alpha, delay); its prints are dropped."""
    from resonator_tools import circuit  # imports matplotlib.pyplot: only when fitting

    port = circuit.notch_port(f, z)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # the steps of notch_port.autofit, keeping the calibration (amplitude, alpha) it drops
        delay, amplitude, alpha, fr, ql, slope, f_cal = port.do_calibration(
            f, z, ignoreslope=True, guessdelay=True)
        normalised = port.do_normalization(f, z, delay, amplitude, alpha, slope, f_cal)
        results = port.circlefit(f, normalised, fr, ql, refine_results=False, calc_errors=True)
    return dict(results), float(amplitude), float(alpha), float(delay)


def edge_slope(frequency: np.ndarray, s21: np.ndarray) -> tuple[float, float]:
    """The baseline's tilt from the sweep's edges: a straight line through |S21| of the outer
    10 % of points on each side against f/f_c - 1 (f_c the window's centre), as (slope s', f_c)
    with |S21| ~ b (1 + s' (f/f_c - 1)); (0, f_c) when the line cannot be drawn."""
    f = np.asarray(frequency, dtype=np.float64)
    magnitude = np.abs(np.asarray(s21))
    centre = float(0.5 * (f[0] + f[-1]))
    k = max(f.size // 10, 2)
    u = np.r_[f[:k], f[-k:]] / centre - 1.0
    slope, intercept = np.polyfit(u, np.r_[magnitude[:k], magnitude[-k:]], 1)
    if not (math.isfinite(slope) and math.isfinite(intercept) and intercept > 0):
        return 0.0, centre
    return float(slope / intercept), centre


def dip_based_start(frequency: np.ndarray, s21: np.ndarray) -> tuple[dict, float, float, float]:
    """A start for the refinement read off the dip, independent of the circle fit, in the form
    of :func:`_run_library`'s result: (values, amplitude, alpha, delay).

    The cable delay from the phase slope within each edge (outer 10 %, averaged, so the
    resonance's phase turn between the edges does not enter); a e^{i alpha} from the mean of the
    edges with the delay removed; f0 at the smallest |1 - S21 / (a e^{i alpha} ...)| deviation's
    maximum (the circle's far point, smoothed over ~1 % of the points); d e^{i phi} = Ql/|Qc|
    e^{i phi} from the deviation there; Ql = f0 / (the width over which the deviation exceeds
    d / sqrt(2)).

    Raises
    ------
    ValueError
        No usable start (a non-finite value, no width).
    """
    f = np.asarray(frequency, dtype=np.float64)
    z = np.asarray(s21, dtype=np.complex128)
    k = max(f.size // 10, 3)
    slopes = [np.polyfit(f[sl] - f[sl].mean(), np.unwrap(np.angle(z[sl])), 1)[0]
              for sl in (slice(0, k), slice(-k, None))]
    delay = -float(np.mean(slopes)) / (2.0 * np.pi)
    z1 = z * np.exp(2j * np.pi * f * delay)
    edges = np.r_[z1[:k], z1[-k:]]
    reference = complex(np.mean(edges))
    amplitude, alpha = float(np.median(np.abs(edges))), float(np.angle(reference))
    deviation = 1.0 - z1 / (amplitude * np.exp(1j * alpha))
    m = max(f.size // 100, 1)
    smooth = np.convolve(deviation, np.ones(m) / m, mode="same")
    i = int(np.argmax(np.abs(smooth)))
    d = complex(smooth[i])
    threshold, lo, hi = abs(d) / math.sqrt(2.0), i, i
    while lo > 0 and abs(smooth[lo - 1]) >= threshold:
        lo -= 1
    while hi + 1 < f.size and abs(smooth[hi + 1]) >= threshold:
        hi += 1
    width = float(f[hi] - f[lo]) + float(f[-1] - f[0]) / (f.size - 1)
    f0 = float(f[i])
    if not (width > 0 and abs(d) > 0 and math.isfinite(delay) and amplitude > 0):
        raise ValueError("no dip-based start: the dip has no width")
    ql = f0 / width
    values = {"fr": f0, "Ql": ql, "absQc": ql / abs(d), "phi0": float(np.angle(d)),
              "Qi_dia_corr": math.nan}
    return values, amplitude, alpha, delay


#: Evaluations of the refinement (least_squares' max_nfev). Fits that converge take 3-16 (the
#: Al-on-InP sweeps, and synthetic sweeps across coupling, phi, delay, tilt, span, sampling and
#: noise; session 51); a start that wanders used the former 2000 (with forward differences, 8
#: more evaluations each) and a flagged 2-linewidth sweep took 1-2 minutes in the conj(S21)
#: retry (helper-157). The analytic Jacobian (:func:`notch_jacobian`) replaces the differences.
MAX_EVALUATIONS = 200


def _refine(source: str, f: np.ndarray, z: np.ndarray, r: dict, amplitude: float, alpha: float,
            delay: float, *, with_slope: bool = True,
            slope_start: float | tuple[float, float] = 0.0) -> ResonanceFit:
    """All eight model parameters (seven with a constant baseline) fitted to the raw S21 from
    the library's values, with errors. ``slope_start``: 0, or (s', f_c) of :func:`edge_slope`
    when the library ran on the sweep with that tilt divided out (its amplitude and slope are
    then carried over to the model's a [1 + s (f/f0 - 1)])."""
    from scipy.optimize import least_squares  # scipy: only when fitting

    def residual(p: np.ndarray) -> np.ndarray:
        d = z - notch_s21(f, *p)
        return np.concatenate([d.real, d.imag])

    def jacobian(p: np.ndarray) -> np.ndarray:  # of the residual: minus the model's
        j = notch_jacobian(f, *p)[:, :p.size]
        return -np.concatenate([j.real, j.imag])

    slope = 0.0
    if isinstance(slope_start, tuple):  # a' (1 + s' (f/f_c - 1)) as a (1 + s (f/f0 - 1))
        tilt, centre = slope_start
        at_f0 = 1.0 + tilt * (r["fr"] / centre - 1.0)
        amplitude, slope = amplitude * at_f0, tilt * r["fr"] / (centre * at_f0)
    start = np.array([r["fr"], r["Ql"], r["absQc"], r["phi0"], amplitude, alpha, delay]
                     + ([slope] if with_slope else []), dtype=np.float64)
    if not np.all(np.isfinite(start)) or start[1] <= 0 or start[2] <= 0:
        raise ValueError(f"the circle fit gave no usable start (f0, Ql, |Qc| = {start[0]:.6g}, "
                         f"{start[1]:.4g}, {start[2]:.4g})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        opt = least_squares(residual, start, jac=jacobian, x_scale="jac", method="trf",
                            xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=MAX_EVALUATIONS)
    f0, ql, qc_abs, phi, a, al, tau = (float(x) for x in opt.x[:7])
    slope = float(opt.x[7]) if with_slope else 0.0
    dof = opt.fun.size - opt.x.size
    chi2_red = float(np.sum(opt.fun**2) / dof)
    # the covariance from the analytic Jacobian (:func:`notch_jacobian`) through the package's
    # covariance (SVD of the column-normalised Jacobian, undetermined directions infinite), not
    # inv(J^T J) of least_squares' forward differences (step 1e-10 max(1, |p|): rounding of
    # ~1e-6 of each column, and a parameter at 0 such as phi or alpha got an absolute step)
    jac = notch_jacobian(f, *opt.x)[:, :opt.x.size]
    jac = np.concatenate([jac.real, jac.imag])
    if not np.all(np.linalg.norm(jac, axis=0) > 0):
        raise ValueError("the data do not constrain every parameter (zero Jacobian column)")
    cov = covariance(jac) * chi2_red
    err = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    inv_qi = 1.0 / ql - math.cos(phi) / qc_abs
    qi = 1.0 / inv_qi
    # gradients of Qi = 1/(1/Ql - cos(phi)/|Qc|) and Qc = |Qc|/cos(phi) in (Ql, |Qc|, phi)
    g_qi = qi**2 * np.array([1.0 / ql**2, -math.cos(phi) / qc_abs**2, -math.sin(phi) / qc_abs])
    g_qc = np.array([0.0, 1.0 / math.cos(phi), qc_abs * math.sin(phi) / math.cos(phi) ** 2])
    sub = cov[1:4, 1:4]
    residual_s21 = z - notch_s21(f, *opt.x)
    # the noise from the residual's second differences, not the data's: at 1-10 points per
    # linewidth the line's own curvature entered the data's and the misfit read 0.01-0.5 for a
    # good fit (helper-157); a smooth misfit (a ripple) leaves the residual's differences alone
    noise = noise_power(residual_s21)
    power = float(np.mean(np.abs(residual_s21) ** 2))
    misfit = power / noise if noise > 0 else math.inf
    diameter = abs(a) * ql / qc_abs
    shape = (math.sqrt(max(power - noise, 0.0)) / diameter if diameter > 0 and math.isfinite(diameter)
             else math.inf)
    return ResonanceFit(
        source=source, f0=f0, f0_err=float(err[0]), qi=qi,
        qi_err=propagated_error(g_qi, sub), qc=qc_abs / math.cos(phi),
        qc_err=propagated_error(g_qc, sub), qc_abs=qc_abs,
        qc_abs_err=float(err[2]), phi=phi, phi_err=float(err[3]), ql=ql, ql_err=float(err[1]),
        amplitude=a, alpha=al, delay=tau, qi_library=float(r["Qi_dia_corr"]),
        f0_library=float(r["fr"]), misfit=misfit, flag=False, reason="", shape_residual=shape,
        slope=slope, slope_err=float(err[7]) if with_slope else 0.0)


def propagated_error(gradient: np.ndarray, cov: np.ndarray) -> float:
    """sqrt(g^T C g), the error of a function with gradient ``g`` of parameters with covariance
    ``C``; infinite when a parameter it depends on (g_i != 0) is undetermined (infinite variance).

    Only the parameters the function depends on enter: :func:`manybody.laws.covariance.covariance`
    gives an undetermined direction infinite variance, and a zero gradient entry times it is
    0 * inf = NaN in a plain g @ C @ g ("invalid value encountered in matmul" reached the user
    and the error became NaN, "not computed", a tester, session 37, on a window of 2 linewidths
    where one start ran away to |Qc| < 0).
    """
    g = np.asarray(gradient, dtype=np.float64)
    c = np.asarray(cov, dtype=np.float64)
    used = g != 0.0
    if not np.any(used):
        return 0.0
    g, c = g[used], c[np.ix_(used, used)]
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(c))):
        return math.inf
    return float(math.sqrt(max(float(g @ c @ g), 0.0)))


def shape_misfit_limit(n: int) -> float:
    """The misfit above which the shape residual is judged, for a sweep of ``n`` points:
    min(SHAPE_MIN_MISFIT, 1 + SHAPE_MISFIT_SIGMAS sqrt(3/n)) (1.19 for 2001 points).

    A misfit of 4 let a standing-wave ripple's trough through as a resonance once the dip was
    judged over the line (noise 2-5 % of the baseline per point, 2001 points: misfit 1.3-3.4,
    residual beyond the noise 120-150 % of the fitted circle's diameter; session 38); for white
    noise the misfit scatters by ~sqrt(3/n) about 1, so 1.3 is already 8 standard deviations.
    """
    return min(SHAPE_MIN_MISFIT, 1.0 + SHAPE_MISFIT_SIGMAS * math.sqrt(3.0 / max(n, 1)))


def _implausible(fit: ResonanceFit, f: np.ndarray, max_misfit: float,
                 max_shape_residual: float = MAX_SHAPE_RESIDUAL) -> list[str]:
    """Reasons why a completed fit must not be used (empty when it is plausible)."""
    reasons = []
    span = f[-1] - f[0]
    if not (math.isfinite(fit.f0) and f[0] <= fit.f0 <= f[-1]):
        reasons.append(f"resonance outside the window: f0 = {fit.f0:.10g} Hz, window "
                       f"{f[0]:.10g}-{f[-1]:.10g} Hz")
    elif fit.ql > 0 and span < MIN_SPAN_LINEWIDTHS * fit.f0 / fit.ql:
        width = fit.f0 / fit.ql
        reasons.append(f"window too narrow for the linewidth: span / linewidth = "
                       f"{span / width:.3g} (span {span:.4g} Hz, linewidth f0/Ql = {width:.4g} "
                       f"Hz), need >= {MIN_SPAN_LINEWIDTHS:g}: sweep at least "
                       f"{MIN_SPAN_LINEWIDTHS * width:.4g} Hz around f0")
    else:
        margin = max(EDGE_FRACTION * span, fit.f0 / fit.ql if fit.ql > 0 else 0.0)
        if min(fit.f0 - f[0], f[-1] - fit.f0) < margin:
            reasons.append(f"resonance at the window edge: f0 = {fit.f0:.10g} Hz within "
                           f"{margin:.4g} Hz (5 % of the span or one linewidth) of "
                           f"{f[0]:.10g}-{f[-1]:.10g} Hz")
    for name, value in (("Qi", fit.qi), ("Qc", fit.qc), ("Ql", fit.ql)):
        if not (math.isfinite(value) and value > 0):
            reasons.append(f"{name} = {value:.4g} is not positive")
    for name, value, error in (("f0", fit.f0, fit.f0_err), ("Qi", fit.qi, fit.qi_err),
                               ("Qc", fit.qc, fit.qc_err)):
        if math.isinf(error):
            reasons.append(f"{name} undetermined by the data (infinite error)")
        elif not math.isfinite(error):
            reasons.append(f"{name} error not computed")
        elif error > abs(value):
            reasons.append(f"{name} error {error:.3g} exceeds its value {value:.4g}")
    if not fit.misfit <= max_misfit:
        reasons.append(f"{MISFIT_REASON}: misfit {fit.misfit:.3g} times the noise power "
                       f"(limit {max_misfit:g})")
    if (fit.misfit > shape_misfit_limit(f.size)
            and not fit.shape_residual <= max_shape_residual):
        reasons.append(f"{SHAPE_REASON}: the residual beyond the noise is "
                       f"{100 * fit.shape_residual:.3g} % of the resonance circle's diameter "
                       f"(limit {100 * max_shape_residual:g} %, misfit {fit.misfit:.3g}): the "
                       "model does not describe the data (a wrong layout or unit, a second "
                       "resonance, a ripple as large as the resonance)")
    return reasons


def _failed(source: str, reason: str) -> ResonanceFit:
    nan = math.nan
    return ResonanceFit(source=source, f0=nan, f0_err=nan, qi=nan, qi_err=nan, qc=nan,
                        qc_err=nan, qc_abs=nan, qc_abs_err=nan, phi=nan, phi_err=nan, ql=nan,
                        ql_err=nan, amplitude=nan, alpha=nan, delay=nan, qi_library=nan,
                        f0_library=nan, misfit=nan, flag=True,
                        reason=reason, slope=nan, slope_err=nan)
