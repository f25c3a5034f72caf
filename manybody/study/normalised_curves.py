"""Errors of normalised curves: what the study's figures draw.

A figure that divides a mean over realisations by another mean of the same realisations (rho_eff(T)
by rho_eff(T_max), Q^-1(x) by its largest value, delta v/v(T) from its value near the maximum)
must draw the error of that ratio or difference, not the error of the numerator scaled: the
numerator's error is mostly the realisations' common level, which cancels. For independent TLS
the scaled error was 9 times the ratio's in the decomposition figure and 19 times in the collapse
figure, and a bar was drawn at the normalisation point, where the value is 1 by construction (a
tester, session 39).

Linearised (delta method) standard errors: for r = mean(a) / mean(b) over n realisations,
d r_i = (a_i - r b_i) / mean(b) and se(r) = std(d r_i) / sqrt(n) (Cochran, *Sampling Techniques*,
3rd ed. 1977, section 6.3, the ratio estimator's variance).
"""

from __future__ import annotations

import math

import numpy as np

from manybody.support import validate as v


def _samples(name: str, value) -> np.ndarray:
    """A float64 array of real numbers (NaN kept: it gives NaN where it enters)."""
    v.check_real_elements(name, value)
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of real numbers, got {v._describe(value)}"
                        ) from None


def ratio_of_means(numerator, denominator) -> tuple[np.ndarray, np.ndarray]:
    """mean(numerator) / mean(denominator) over realisations, with its linearised standard error.

    Parameters
    ----------
    numerator : array_like, shape (n, ...)
        Per realisation (first axis).
    denominator : array_like, shape (n,) or (n, ...)
        Per realisation, broadcast against ``numerator`` (a column: one normalisation for all).

    Returns
    -------
    ratio, error : numpy.ndarray
        Of the shape of ``numerator`` without its first axis; the error is 0 where numerator and
        denominator are the same realisation values (the normalisation point), and NaN with
        fewer than two realisations.

    Raises
    ------
    TypeError
        ``numerator`` or ``denominator`` not an array of real numbers.
    ValueError
        Fewer than one realisation, or shapes that do not broadcast. A mean of the denominator
        of 0 is not refused: the ratio is inf or NaN there (a gap in the study's figures), as
        it is where the input holds NaN.
    """
    a = _samples("numerator", numerator)
    b = _samples("denominator", denominator)
    if a.ndim == 0 or a.shape[0] == 0:
        raise ValueError(f"numerator must have realisations on its first axis, got shape {a.shape}")
    if b.ndim == 1 and a.ndim > 1:
        b = b.reshape((b.shape[0],) + (1,) * (a.ndim - 1))
    if b.shape[0] != a.shape[0]:
        raise ValueError(f"numerator and denominator must have the same realisations, got "
                         f"{a.shape[0]} and {b.shape[0]}")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"denominator of shape {np.shape(denominator)} must broadcast against "
                         f"numerator of shape {a.shape} (realisations first)") from None
    mean_b = b.mean(axis=0)
    # a mean of 0 (a model with no absorption at the normalising temperature) gives inf or NaN
    # there, a gap in the study's figures, not an error that stops them; numpy's warnings are
    # not repeated
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = a.mean(axis=0) / mean_b
        n = a.shape[0]
        if n < 2:
            return ratio, np.full(np.shape(ratio), math.nan)
        influence = (a - ratio * b) / mean_b
        return ratio, influence.std(axis=0, ddof=1) / math.sqrt(n)


def difference_of_means(samples, reference: int) -> tuple[np.ndarray, np.ndarray]:
    """mean(samples[:, j]) - mean(samples[:, reference]) for every column j, with the standard
    error of each paired difference (0 at the reference).

    Parameters
    ----------
    samples : array_like, shape (n, m)
        Per realisation (rows) and point (columns).
    reference : int
        The column subtracted.

    Returns
    -------
    difference, error : numpy.ndarray, shape (m,)
        The error is NaN with fewer than two realisations.

    Raises
    ------
    TypeError
        ``samples`` not an array of real numbers, ``reference`` not an integer (a float, a
        string or a bool is refused, not used as an index).
    ValueError
        ``samples`` not 2-d with at least one row and column, ``reference`` not in [0, m)
        (a negative index is refused, not counted from the end).
    """
    x = _samples("samples", samples)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"samples must be a 2-d array (realisations, points), got shape {x.shape}")
    reference = v.integer("reference", reference, 0, x.shape[1] - 1)
    paired = x - x[:, [reference]]
    n = x.shape[0]
    error = (paired.std(axis=0, ddof=1) / math.sqrt(n) if n > 1
             else np.full(x.shape[1], math.nan))
    return paired.mean(axis=0), error


__all__ = ["ratio_of_means", "difference_of_means"]
