"""The unit-mistake check of the loss fits: x = hbar w / k_B T must reach the range where
tanh(x/2) and 1 - e^-x differ.

One rule for the Python fits (:func:`manybody.laws.fit.fit_joint`, and through it ``fit_loss``
and ``compare_laws``; :func:`manybody.laws.joint.fit_loss_shift`) and for ``manybody fit-data``
(:mod:`manybody.cli.x_range` prints what this module warns about): data whose x lies entirely
below :data:`X_LOW` or above :data:`X_HIGH` are refused (temperatures in mK given as K, a
frequency in the wrong unit); data with most points outside are warned about; so is a bare
frequency of 1 K or more (20.8 GHz; a number meant in GHz, read as kelvin) that puts every x
above 5, where the laws differ by less than 1 %. The API had
no check while fit-data refused the same table (a tester, session 39).
"""

from __future__ import annotations

import warnings

import numpy as np

from manybody.units import KELVIN_PER_GHZ

__all__ = ["BARE_FREQUENCY_MAX", "X_FLAT", "X_HIGH", "X_LOW", "XRangeWarning", "check_x_range",
           "x_range_problem"]

#: Outside this x = w/T range tanh(x/2) and 1 - e^-x cannot be told apart.
X_LOW, X_HIGH = 0.05, 50.0

#: A frequency given as a bare number (kelvin) at or above this (1 K is 20.8 GHz, above the
#: resonators of TLS measurements; 5.62 meant as GHz reads as 117 GHz) whose x = w/T all lie
#: above X_FLAT is warned about. (w = 1 with T = 1/x, the study's x as temperatures, is not.)
BARE_FREQUENCY_MAX = 1.0
#: Above this x, tanh(x/2) and 1 - e^-x differ by less than 1 %.
X_FLAT = 5.0


class XRangeWarning(UserWarning):
    """Most of the data's x = w/T lies where the laws cannot be told apart, or a bare frequency
    looks like a number meant in GHz (a likely unit mistake)."""


def x_range_problem(temperature, w: float, *, where: str, temperatures_from: str | None = None,
                    frequency_given: bool = True) -> str | None:
    """Check x = w/T of the temperatures (K) against [X_LOW, X_HIGH].

    Parameters
    ----------
    temperature : array_like
        The temperatures fitted (K), already cut to the fit window.
    w : float
        Frequency (K).
    where : str
        Where w came from, for messages (e.g. "frequency=5.62", "--frequency '5GHz'").
    temperatures_from : str, optional
        Where the temperatures came from, for the refusal's hint (e.g. "the sweep index
        'idx.csv'"); default a table's column.
    frequency_given : bool
        Whether the user gave the frequency: only then does the refusal suggest a frequency in
        the wrong unit (not for one measured from the sweeps; a break test, session 45).

    Returns
    -------
    str or None
        A warning text when more than half of the points lie outside, else None.

    Raises
    ------
    ValueError
        Every x below X_LOW or every x above X_HIGH, naming w, the temperatures and the likely
        unit mistake.
    """
    t = np.asarray(temperature, dtype=float).ravel()
    if t.size == 0:
        return None
    x = w / t
    lo, hi = float(x.min()), float(x.max())
    span = (f"x = w/T runs from {lo:.3g} to {hi:.3g} (w = {w:.4g} K from {where}, T from "
            f"{t.min():.4g} to {t.max():.4g} K)")
    # the frequency's forms: fit-data needs a unit, the Python fits read a bare number as
    # kelvin (the hint said "'5GHz' or 0.24", which fit-data then refused; session 45)
    frequency = (", or the frequency in the wrong unit (5 GHz is '5GHz' or '0.24K'; in Python a "
                 "bare number is kelvin)?" if frequency_given else "?")
    if hi < X_LOW:
        column = (f"in {temperatures_from}" if temperatures_from else
                  "a column in mK labelled K, e.g. 'T (K)' holding 50-300")
        raise ValueError(
            f"{span}: all x < {X_LOW:g}, where tanh(x/2) and 1 - e^-x cannot be told apart; "
            f"the temperatures are far too high for this frequency: temperatures in mK given as K "
            f"({column}){frequency}")
    if lo > X_HIGH:
        column = (f"in {temperatures_from}" if temperatures_from else
                  "a column in K labelled mK, e.g. 'T (mK)' holding 0.05-0.3")
        raise ValueError(
            f"{span}: all x > {X_HIGH:g}, where tanh(x/2) and 1 - e^-x cannot be told apart; "
            f"the temperatures are far too low for this frequency: temperatures in K given as mK "
            f"({column}){frequency}")
    outside = int(np.sum((x < X_LOW) | (x > X_HIGH)))
    if 2 * outside > x.size:
        return (f"{outside} of {x.size} points have x outside [{X_LOW:g}, {X_HIGH:g}], where "
                f"the laws cannot be told apart ({span}); check the temperature and frequency "
                "units")
    return None


def check_x_range(temperature, w: float, frequency, *, stacklevel: int = 3) -> None:
    """The API's check (:func:`x_range_problem`): refuse, or warn with :class:`XRangeWarning`.

    Parameters
    ----------
    temperature : array_like
        The temperatures fitted (K), already cut to the fit window.
    w : float
        Frequency (K), parsed from ``frequency``.
    frequency : float or str
        The frequency as the caller gave it: a bare number of 1 K or more that puts every x
        above :data:`X_FLAT` is warned about too.
    stacklevel : int
        Of the warnings (default: the caller of the function that calls this one).

    Raises
    ------
    ValueError
        As :func:`x_range_problem`.
    """
    bare = not isinstance(frequency, str)
    where = f"frequency={frequency!r}" + (" (a bare number is kelvin)" if bare else "")
    text = x_range_problem(temperature, w, where=where)
    if text is not None:
        warnings.warn(text, XRangeWarning, stacklevel=stacklevel)
    t = np.asarray(temperature, dtype=float).ravel()
    if bare and w >= BARE_FREQUENCY_MAX and t.size and w / float(t.max()) > X_FLAT:
        warnings.warn(
            f"frequency={frequency!r} is a bare number, read as {w:g} K "
            f"({w / KELVIN_PER_GHZ:.4g} GHz), and every x = w/T is above {X_FLAT:g} (from "
            f"{w / float(t.max()):.3g}), where tanh(x/2) and 1 - e^-x differ by less than 1 %; "
            f"if it is in GHz, give the string '{w:g}GHz' ({w * KELVIN_PER_GHZ:.4g} K)",
            XRangeWarning, stacklevel=stacklevel)
