"""What a law fit takes: loss curves, frequencies with units, and the names of the fit options.

:class:`LossCurve` holds one Q^-1(T) curve at fixed drive power (measured, or the study's simulated
absorption); :func:`parse_frequency` converts "5.62GHz" (or MHz, K, mK) to w = h f / k_B in
kelvin; :func:`gap_from_tc` gives the BCS gap for the quasiparticle term. The fitting engine is
:mod:`manybody.laws.fit`; reading tables into curves is :mod:`manybody.measured.tables`. Light on
purpose (numpy only), so the command line can build its options from these names.
"""

from __future__ import annotations

import re
import sys
import warnings
from dataclasses import dataclass

import numpy as np

from manybody.support import validate as v
from manybody.units import HERTZ_PER_UNIT, KELVIN_PER_GHZ

#: Highest temperature accepted (K): loss measurements on glasses and resonators lie far below;
#: a larger value is a unit mistake (and would make a log axis span hundreds of decades).
MAX_TEMPERATURE = 1000.0
#: Physical range of drive powers in dBm (-300 dBm is ~1e-33 W; +100 dBm is 10 MW).
POWER_RANGE_DBM = (-300.0, 100.0)
#: An upper window edge ``tmax`` more than this many times the data's highest temperature is
#: refused as a temperature in mK (``tmax=800`` for 800 mK cut nothing; fit-data warned from
#: session 36, the Python fits said nothing until session 50).
TMAX_FACTOR = 10.0
#: The drive powers of a saturation fit must span at least this (dB).
MIN_POWER_SPAN = 1.0
#: Largest ratio of the largest to the smallest error of one curve: beyond it one point weighs
#: 1e12 times another and the least-squares fit is decided by round-off (a sigma 1e10 times
#: smaller at one point left the family fit at its start, a = 0.5; 1e-170 made scipy's SVD
#: fail on infs; session 31).
MAX_ERROR_RANGE = 1e6


def check_error_range(name: str, sigma: np.ndarray, where=None) -> np.ndarray:
    """Return ``sigma`` (errors, > 0) or raise ValueError when its largest and smallest values
    differ by more than :data:`MAX_ERROR_RANGE`, naming both and where they are (``where``: the
    abscissa values, e.g. T or x, labelled in the message as given by its name)."""
    small, large = float(np.min(sigma)), float(np.max(sigma))
    # a relative tolerance of 1e-9: errors floored at exactly largest / MAX_ERROR_RANGE (the
    # study's weights) land a few ulp beyond the range and were refused (session 33)
    if large > MAX_ERROR_RANGE * small * (1.0 + 1e-9):
        at = ""
        if where is not None:
            label, values = where
            at = (f" (smallest at {label} = {values[int(np.argmin(sigma))]:g}, largest at "
                  f"{label} = {values[int(np.argmax(sigma))]:g})")
        raise ValueError(f"{name} spans a factor {large / small:.3g} from {small:.3g} to "
                         f"{large:.3g}{at}; at most {MAX_ERROR_RANGE:g} is taken: beyond it one "
                         "point outweighs the others by round-off (check the errors' units)")
    return sigma


#: The fit options by name: laws, quasiparticle shapes, error and scatter models (see
#: :func:`manybody.laws.fit.fit_joint`).
LAWS = ("tls", "generic", "family")
QP_SHAPES = ("exp", "mattis-bardeen")
ERROR_MODELS = ("relative", "absolute")
#: Largest number of reweighting rounds of the fits without given errors (per-curve scatters,
#: and the relative error model's weights at the fitted loss); they settle in 3-10.
REWEIGHTING_ROUNDS = 30
SCATTER_MODELS = ("per-curve", "common")
#: How the critical power of a saturation fit depends on temperature (:mod:`manybody.laws.fit`).
CRITICAL_POWER_LAWS = ("constant", "power", "standard")

#: BCS weak-coupling ratio Delta0 / (k_B Tc).
BCS_RATIO = 1.764

_FREQ = re.compile(r"^\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)\s*(ghz|mhz|khz|hz|mk|k)\s*$",
                   re.IGNORECASE)


def floored_per_curve(level: np.ndarray, groups: np.ndarray, n_curves: int,
                      fraction: float = 1e-3) -> np.ndarray | None:
    """``level`` (a fitted |Q^-1| per point, shape (n,)) floored at ``fraction`` of its curve's
    largest value (``groups``: each point's curve, 0 .. n_curves - 1): the relative error
    model's base errors at the fitted loss. A floor over all curves made a curve 1e4 below the
    others' errors 10x its spread (a second break test, session 49). None when no curve has a
    finite positive largest value (nothing to weight by)."""
    top = np.zeros(n_curves)
    np.maximum.at(top, groups, level)
    if not (np.all(np.isfinite(top)) and top.max() > 0):
        return None
    return np.maximum(level, fraction * np.where(top > 0, top, top.max())[groups])


def parse_frequency(value: str | float) -> float:
    """Convert a frequency to w = h f / k_B in kelvin.

    Parameters
    ----------
    value : str or float
        A number with a unit: "5.61989GHz", "5619.89 MHz", "5.6e9 Hz", "0.2697K", "269.7 mK"
        (case-insensitive); a bare float is taken as already in kelvin.

    Returns
    -------
    float
        w (K), 0 < w < 1000 K (20.8 THz).

    Raises
    ------
    ValueError
        No or unknown unit in a string, a value <= 0, non-finite or >= 1000 K.
    """
    value = v.unwrap_scalar("frequency", value)  # a 0-d array was refused (session 46)
    if isinstance(value, str):
        m = _FREQ.match(value)
        if not m:
            raise ValueError(f"frequency must be a number with a unit GHz, MHz, kHz, Hz, K or mK "
                             f"(e.g. 5.62GHz), got {value!r}")
        number, unit = float(m.group(1)), m.group(4).lower()
        if not number > 0:
            raise ValueError(f"frequency must be positive, got {value!r}")
        if unit in HERTZ_PER_UNIT:
            kelvin = number * HERTZ_PER_UNIT[unit] * 1e-9 * KELVIN_PER_GHZ
        else:
            kelvin = number * (1e-3 if unit == "mk" else 1.0)
        if not kelvin > 0:  # underflow, e.g. 1e-320 Hz
            raise ValueError(f"frequency must be positive, got {value!r} (rounds to 0 K)")
        return _in_range(kelvin, value)
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"frequency must be a string with a unit (e.g. '5GHz') or a number in "
                        f"kelvin, got {type(value).__name__}")
    kelvin = float(value)
    if not (kelvin > 0 and np.isfinite(kelvin)):
        raise ValueError(f"frequency must be a positive finite number, got {value!r}; a bare "
                         "number is read as kelvin (w = hbar omega / k_B = h f / k_B); give a "
                         "string with a unit such as '5GHz' instead")
    return _in_range(kelvin, value)


def _in_range(kelvin: float, given) -> float:
    if kelvin >= MAX_TEMPERATURE:
        hint = ("" if isinstance(given, str) else
                "; a bare number is read as kelvin (w = hbar omega / k_B = h f / k_B), not Hz: "
                f"give a string with a unit such as '{float(given) / 1e9:.6g}GHz'")
        raise ValueError(f"frequency must be below {MAX_TEMPERATURE:g} K "
                         f"({MAX_TEMPERATURE / KELVIN_PER_GHZ:.4g} GHz), got {given!r}{hint}")
    return kelvin


def gap_from_tc(tc: float) -> float:
    """BCS gap Delta0 = 1.764 Tc (K) from the critical temperature Tc (K); Nb: 9.2 K -> 16.2 K."""
    return BCS_RATIO * v.positive("tc", tc)


#: The units a drive power may be given in, as dB of them: milliwatts, or the mean photon number
#: in the resonator (10 log10 <n>); "dB" is a power label as a sweep's file name writes it
#: ('-20dB': an instrument setting, not a calibrated power at the device; helper-175 F5).
POWER_UNITS = ("dBm", "dB(photons)", "dB")
#: A mean photon number in dB must lie within this range (1e-30 to 1e30 photons).
POWER_RANGE_DB_PHOTONS = (-300.0, 300.0)


def check_power(name: str, value: float, unit: str) -> float:
    """Return ``value`` (dB of ``unit``, one of ``POWER_UNITS``) or raise ValueError when it
    lies outside that unit's range."""
    if unit in ("dBm", "dB"):  # a setting in dB is checked as dBm would be
        return check_power_dbm(name, value)
    lo, hi = POWER_RANGE_DB_PHOTONS
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo:g} and {hi:g} dB(photons) (10 log10 of a "
                         f"mean photon number), got {value:g} dB(photons)")
    return value


def check_power_dbm(name: str, value: float) -> float:
    """Return ``value`` (dBm) or raise ValueError when it lies outside ``POWER_RANGE_DBM``."""
    lo, hi = POWER_RANGE_DBM
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo:g} and {hi:g} dBm, got {value:g} dBm")
    return value


#: A curve whose every "loss" lies in this range looks like internal quality factors (Qi of
#: 1e2 to 1e9): a loss Q^-1 or tan delta is below 1e-2, a simulated absorption in units of
#: pi*C0 of order 1; numbers of 1e200 (the fits' scale tests) are no quality factor.
QUALITY_FACTOR_RANGE = (10.0, 1e10)


#: Spread of realisations (relative to the largest |mean|) at or below which it is round-off: the
#: realisations are identical.
SPREAD_RESOLUTION = 1e-12


def warn_identical_realisations(where: str, rows: np.ndarray, one_curve: str) -> bool:
    """Warn (UserWarning) when every row of ``rows`` (realisations x points) is the same to
    SPREAD_RESOLUTION of the largest |mean|; returns whether they are.

    Identical realisations are taken as exact data, a mean without sampling error, so the errors
    over realisations are 0. That is right for a model without disorder and wrong for one curve
    repeated, or realisations all drawn with the same seed (a noisy curve tiled 10 times got
    a = 0.989 +- 2e-16 where the curve alone gets +- 0.023; a break test, session 45): the
    warning says so and names ``one_curve``, how to have one curve judged by its residuals."""
    if rows.shape[0] < 2:
        return False
    mean = rows.mean(axis=0)
    spread = float(np.ptp(rows, axis=0).max())
    if spread > SPREAD_RESOLUTION * max(float(np.abs(mean).max()), 1e-300):
        return False
    warnings.warn(f"{where}: all {rows.shape[0]} realisations are identical, so their mean has no "
                  f"sampling error and the errors over realisations are 0 (exact data). If they "
                  f"should differ, draw each with its own seed; to judge one curve by its fit "
                  f"residuals, {one_curve}", UserWarning, stacklevel=3)
    return True


class LossScaleWarning(UserWarning):
    """A curve's loss values look like internal quality factors Qi, not Q^-1 or tan delta."""


def warn_quality_factor_as_loss(curves) -> None:
    """One LossScaleWarning naming the curves whose every loss lies in ``QUALITY_FACTOR_RANGE``:
    Qi passed to ``fit_loss``/``compare_laws`` as the loss was fitted without a word, while
    ``manybody fit-data`` warns above a loss of 1e-2 (a tester, session 40). The warning points
    at the first line outside manybody (the caller's).

    Parameters
    ----------
    curves : sequence of LossCurve
    """
    lo, hi = QUALITY_FACTOR_RANGE
    named = [(i, curve) for i, curve in enumerate(curves)
             if np.size(curve.loss) and lo <= float(np.min(curve.loss))
             and float(np.max(curve.loss)) <= hi]
    if not named:
        return
    values = np.concatenate([np.asarray(curve.loss) for _, curve in named])
    which = ", ".join(f"{curve.label!r}" + (f" (curve {i + 1})" if len(curves) > 1 else "")
                      for i, curve in named)
    warnings.warn(
        f"loss of {which} lies between {values.min():.4g} and {values.max():.4g}, as internal "
        "quality factors Qi do, not a loss Q^-1 or tan delta (below 1e-2 for any resonator or "
        "glass; a simulated absorption in units of pi*C0 is of order 1): Qi passed as the loss? "
        "pass 1/Qi", LossScaleWarning, stacklevel=caller_stacklevel())


def caller_stacklevel() -> int:
    """The ``stacklevel`` for :func:`warnings.warn` called here that points at the first frame
    outside the manybody package (the user's line, not a library file)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("manybody."):
        frame, level = frame.f_back, level + 1
    return level


@dataclass(frozen=True, eq=False)
class LossCurve(v.ArrayFields):
    """One loss curve Q^-1(T) at fixed drive power.

    Parameters
    ----------
    temperature : array_like
        T (K), 0 < T < 1000 K.
    loss : array_like
        Q^-1 (dimensionless, or tan delta, or simulated absorption in units of pi*C0), > 0.
    sigma : float or array_like, optional
        One-standard-deviation errors of ``loss`` (shape of ``temperature``, or one number for
        every point); None when unknown.
    power : float, optional
        Drive power in dB of ``power_unit`` (dBm: between -300 and +100 dBm; dB(photons):
        between -300 and +300); needed only for the saturation model.

    Raises
    ------
    ValueError
        Temperatures outside 0 < T < 1000 K, loss <= 0 or non-finite, sigma <= 0, shapes that
        differ, a power outside the physical range, a ``power_unit`` not in ``POWER_UNITS``.
    label : str
        Name used in parameter names and figures.
    power_unit : {"dBm", "dB(photons)"}
        Unit of ``power`` ("dB(photons)": 10 log10 of the mean photon number).
    """

    temperature: np.ndarray
    loss: np.ndarray
    sigma: np.ndarray | None = None
    power: float | None = None
    label: str = "data"
    power_unit: str = "dBm"

    READ_ONLY_ARRAYS = ("temperature", "loss", "sigma")

    def __post_init__(self) -> None:
        _check_label(self.label)
        v.check_aligned(temperature=self.temperature, loss=self.loss, sigma=self.sigma)
        t = _kelvin_temperatures(self.temperature, self.label)
        y = _values_like(t, self.loss, "loss", self.label)
        if np.any(y <= 0):
            i = int(np.argmax(y <= 0))
            raise ValueError(f"loss of {self.label!r} must be > 0 (Q^-1 or tan delta), got "
                             f"{y[i]:g} at T = {t[i]:g} K (point {i + 1})")
        object.__setattr__(self, "temperature", v.frozen_copy(t))  # not the caller's arrays
        object.__setattr__(self, "loss", v.frozen_copy(y))
        if self.sigma is not None:
            s = v.positive_array(f"sigma of {self.label!r}", self.sigma)
            if np.ndim(self.sigma) == 0:  # one error for every point, as fit_loss takes it (the
                s = np.full(t.shape, s[0])  # message named a shape (1,) never given; session 33)
            if s.shape != t.shape:
                raise ValueError(f"sigma of {self.label!r} must have shape {t.shape}, "
                                 f"got {s.shape}")
            check_error_range(f"sigma of {self.label!r}", s, ("T", t))
            object.__setattr__(self, "sigma", v.frozen_copy(s))
        # a typo ("dbm") skipped the dBm range check, any string was taken (session 45)
        v.choice(f"power_unit of {self.label!r}", self.power_unit, POWER_UNITS)
        if self.power is not None:
            power = v.finite(f"power of {self.label!r}", self.power)
            check_power(f"power of {self.label!r}", power, self.power_unit)
            object.__setattr__(self, "power", power)

    def window(self, tmin: float | None, tmax: float | None,
               highest: float | None = None) -> LossCurve:
        """The points with tmin <= T <= tmax (K); ValueError naming the curve and its span when
        there are none, or when ``tmax`` is far above ``highest`` (the highest temperature of
        the curves fitted together; default this curve's; :func:`window_mask`)."""
        keep = window_mask(self.temperature, tmin, tmax, self.label, highest)
        return LossCurve(self.temperature[keep], self.loss[keep],
                         None if self.sigma is None else self.sigma[keep], self.power,
                         self.label, self.power_unit)


def window_curves(curves, tmin: float | None, tmax: float | None,
                  highest: float | None = None) -> list:
    """Each curve (LossCurve or ShiftCurve) cut to [tmin, tmax] (K), ``tmax`` checked against
    ``highest``, by default the highest temperature of them all (:func:`window_mask`)."""
    if highest is None and curves:
        highest = max(float(c.temperature.max()) for c in curves)
    return [c.window(tmin, tmax, highest) for c in curves]


def check_tmax(tmax: float | None, highest: float, lowest: float | None = None) -> None:
    """Refuse an upper window edge ``tmax`` (K) above ``TMAX_FACTOR`` times ``highest``, the
    highest temperature of the data (K), when read in mK it would lie at or above ``lowest``,
    the data's lowest temperature (K): a temperature in mK (``tmax=800`` for 800 mK cut
    nothing and changed the verdict on the Nb tables; a break test, session 50). A generous
    edge that in mK would lie below every point (0.8 K on data from 15 to 60 mK) is no slip
    and passes (a second round, helper-155), and so does one whose unit was written (the command
    line's ``--tmax 20K``, a float with ``unit_given`` True: ``manybody.cli.x_range.Kelvin``; it
    was asked whether 20K meant mK, a tester, bt200).

    Raises
    ------
    ValueError
        Naming tmax, the data's highest temperature and the likely fix.
    """
    if getattr(tmax, "unit_given", False):
        return
    if tmax is not None and tmax > TMAX_FACTOR * highest and (lowest is None
                                                              or tmax * 1e-3 >= lowest):
        raise ValueError(f"tmax={tmax:g} K is {tmax / highest:.3g} times the highest temperature "
                         f"of the data ({highest:g} K): a temperature in mK? tmax is in kelvin "
                         f"({tmax:g} mK is tmax={tmax / 1000:g}, on the command line --tmax "
                         f"{tmax:g}mK); leave it out for no upper edge")


def in_window(temperature, tmin: float | None, tmax: float | None) -> np.ndarray:
    """Which temperatures (K, any shape) lie in [tmin, tmax] (either edge None: open), edges
    included: the one window rule of the fits (a bool array of the shape of ``temperature``;
    :func:`window_mask` also checks the edges and refuses an empty window)."""
    temperature = np.asarray(temperature)
    keep = np.ones(temperature.shape, dtype=bool)
    if tmin is not None:
        keep &= temperature >= tmin
    if tmax is not None:
        keep &= temperature <= tmax
    return keep


#: Where a curve has too few points because a power column split one drive into curves: the way
#: out, added to every such refusal (the window's "no points of" lacked it; a tester, bt200).
POWER_SPLIT_HINT = ("a power column that varies from row to row splits one drive into curves "
                    "(fit-data --power-column none reads none)")


def window_mask(temperature: np.ndarray, tmin: float | None, tmax: float | None,
                label: str, highest: float | None = None) -> np.ndarray:
    """Which of a curve's temperatures (K, shape (n,)) lie in [tmin, tmax] (either edge None:
    open); a bool array of shape (n,). ``highest``: the highest temperature of all curves fitted
    together (default: this curve's).

    Raises
    ------
    ValueError
        No point in the window (the power sweep's message was "temperature of 'qi_80dBm' must be
        a non-empty 1-d array, got shape (0,)"; a new user, session 35), or ``tmax`` above
        ``TMAX_FACTOR`` times ``highest`` (:func:`check_tmax`); an edge that is no number
        (:func:`manybody.support.validate.window_edges`: fit_loss_shift took tmax=True as 1 K
        and gave numpy's messages for text; bt193).
    TypeError
        An edge that is not a number or None.
    """
    tmin, tmax = v.window_edges(tmin, tmax)
    check_tmax(tmax, float(temperature.max()) if highest is None else highest,
               float(temperature.min()))
    keep = in_window(temperature, tmin, tmax)
    if not keep.any():
        raise ValueError(f"no points of {label!r} in the window {window_text(tmin, tmax)} (data span "
                         f"{temperature.min():g}-{temperature.max():g} K)")
    return keep


def window_text(tmin: float | None, tmax: float | None) -> str:
    """A temperature window for messages: '0.03 K <= T <= 0.8 K', 'T <= 0.05 K' (an unset edge
    was shown as Python's None, '[None, 0.05] K'; helper-175 F4), 'any T' with neither."""
    if tmin is not None and tmax is not None:
        return f"{tmin:g} K <= T <= {tmax:g} K"
    if tmax is not None:
        return f"T <= {tmax:g} K"
    return f"T >= {tmin:g} K" if tmin is not None else "any T"


def _check_label(label) -> None:
    """A curve's label is a string: it names the curve's parameters ("amplitude[None]" came of
    label=None; a break test, session 45)."""
    if not isinstance(label, str):
        raise TypeError(f"label must be a string (it names the curve's parameters), got "
                        f"{v._describe(label)}")


@dataclass(frozen=True, eq=False)
class ShiftCurve(v.ArrayFields):
    """One measured (or simulated) frequency shift delta f / f0 (T) (or delta v / v).

    Parameters
    ----------
    temperature : array_like
        T (K), 0 < T < 1000 K.
    shift : array_like
        delta f / f0 (dimensionless, either sign; only its temperature dependence is fitted: an
        additive reference offset is free). Same shape as ``temperature``.
    sigma : array_like, optional
        One-standard-deviation errors of ``shift``; None when unknown.
    label : str
        Name used in parameter names and figures.
    power : float, optional
        Drive power (dBm) of the measurement, when known (recorded, not fitted).
    reference_temperature : float, optional
        T_ref (K) where the shift was set to 0, when known (recorded; the fits leave the
        reference offset free, so it does not enter them).

    Raises
    ------
    ValueError
        Temperatures outside 0 < T < 1000 K, non-finite shifts, sigma <= 0, shapes that differ.
    """

    temperature: np.ndarray
    shift: np.ndarray
    sigma: np.ndarray | None = None
    label: str = "shift"
    power: float | None = None
    reference_temperature: float | None = None

    READ_ONLY_ARRAYS = ("temperature", "shift", "sigma")

    def __post_init__(self) -> None:
        _check_label(self.label)
        v.check_aligned(temperature=self.temperature, shift=self.shift, sigma=self.sigma)
        t = _kelvin_temperatures(self.temperature, self.label)
        y = _values_like(t, self.shift, "shift", self.label)
        # recorded only, but written into fit-data's record: any string, NaN or a negative
        # temperature was taken (a break test, session 45)
        if self.power is not None:
            object.__setattr__(self, "power", check_power_dbm(
                f"power of {self.label!r}", v.finite(f"power of {self.label!r}", self.power)))
        if self.reference_temperature is not None:
            where = f"reference_temperature of {self.label!r} (K)"
            reference = v.positive(where, self.reference_temperature)
            if reference >= MAX_TEMPERATURE:
                raise ValueError(f"{where} must be below {MAX_TEMPERATURE:g} K, got {reference!r}")
            object.__setattr__(self, "reference_temperature", reference)
        object.__setattr__(self, "temperature", v.frozen_copy(t))  # not the caller's arrays
        object.__setattr__(self, "shift", v.frozen_copy(y))
        if self.sigma is not None:
            s = v.positive_array(f"sigma of {self.label!r}", self.sigma)
            if np.ndim(self.sigma) == 0:  # one error for every point, as fit_loss takes it (the
                s = np.full(t.shape, s[0])  # message named a shape (1,) never given; session 33)
            if s.shape != t.shape:
                raise ValueError(f"sigma of {self.label!r} must have shape {t.shape}, "
                                 f"got {s.shape}")
            check_error_range(f"sigma of {self.label!r}", s, ("T", t))
            object.__setattr__(self, "sigma", v.frozen_copy(s))

    def window(self, tmin: float | None, tmax: float | None,
               highest: float | None = None) -> ShiftCurve:
        """The points with tmin <= T <= tmax (K), refused as :meth:`LossCurve.window`."""
        keep = window_mask(self.temperature, tmin, tmax, self.label, highest)
        return ShiftCurve(self.temperature[keep], self.shift[keep],
                          None if self.sigma is None else self.sigma[keep], self.label,
                          self.power, self.reference_temperature)


def check_one_power_unit(curves: list[LossCurve], what: str) -> None:
    """Refuse curves whose drive powers are in different units (dBm beside dB(photons)) where
    ``what`` (e.g. "a power sweep", "saturation=True") puts them on one axis: a photon-number
    column beside a dBm one shared a critical power of 101 dBm without a word under --saturation
    (a tester, bt200), while the power sweep refused them. ValueError naming the curves."""
    units: dict[str, list[str]] = {}
    for c in curves:
        if c.power is not None:
            units.setdefault(c.power_unit, []).append(repr(c.label))
    if len(units) > 1:
        shown = "; ".join(f"{unit}: {', '.join(labels[:3])}{' ...' if len(labels) > 3 else ''}"
                          for unit, labels in sorted(units.items()))
        raise ValueError(f"{what} puts the drive powers on one axis, and the curves give them in "
                         f"different units ({shown}): give every power in dBm (a photon number "
                         "is no power without the resonator's coupling), or fit them separately")


def loss_curve_list(curves, *, allow_empty: bool = False) -> list[LossCurve]:
    """``curves`` as a list of :class:`LossCurve`: one LossCurve, or a non-empty list, tuple (or
    other iterable) of them. None, a number, a string, a mapping, an array or an element that is
    not a LossCurve got Python's "'NoneType' object is not iterable" or a message naming nothing
    (a break test, bt185). ``allow_empty``: None or an empty sequence gives [] (curves a mode does
    not use)."""
    if isinstance(curves, LossCurve):
        return [curves]
    expected = "curves must be a LossCurve or a non-empty sequence of LossCurve"
    if curves is None and allow_empty:
        return []
    if type(curves).__name__ == "LossTable":  # measured.tables: "not iterable" (bt187)
        raise TypeError(f"{expected}, got a LossTable; split it into curves with "
                        "curves_from_table(table)")
    if isinstance(curves, np.ndarray) and curves.dtype != object:
        raise TypeError(f"{expected}, got an array of shape {curves.shape}; for arrays of "
                        "temperature and loss make a curve: LossCurve(temperature, loss)")
    if curves is None or isinstance(curves, str | bytes | dict | ShiftCurve) or not hasattr(
            curves, "__iter__"):
        raise TypeError(f"{expected}, got {v._describe(curves) if curves is not None else 'None'}"
                        + (" (a ShiftCurve)" if isinstance(curves, ShiftCurve) else ""))
    out = list(curves)
    if not out and not allow_empty:
        raise TypeError(f"{expected}, got an empty {type(curves).__name__}")
    for i, c in enumerate(out):
        if not isinstance(c, LossCurve):
            raise TypeError(f"{expected}: curves[{i}] is {v._describe(c)[:60]} "
                            f"({type(c).__name__}), not a LossCurve")
    return out


def _kelvin_temperatures(temperature, label: str) -> np.ndarray:
    """Temperatures of a curve in kelvin, 0 < T < MAX_TEMPERATURE (a value above it is most likely
    in mK); ValueError naming the curve and the point otherwise."""
    t = v.positive_array(f"temperature of {label!r}", temperature)
    if np.any(t >= MAX_TEMPERATURE):
        i = int(np.argmax(t >= MAX_TEMPERATURE))
        raise ValueError(f"temperature of {label!r} must be below {MAX_TEMPERATURE:g} K "
                         f"(in kelvin, not mK?), got {t[i]:g} K at point {i + 1}")
    return t


def _values_like(t: np.ndarray, values, name: str, label: str) -> np.ndarray:
    """Finite real ``values`` of a curve with the shape of its temperatures ``t``."""
    y = v.real_array(f"{name} of {label!r}", values)
    if y.shape != t.shape:
        raise ValueError(f"{name} of {label!r} must have the shape of temperature {t.shape}, "
                         f"got {y.shape}")
    return y
