"""The study's velocity-slope rows (issue 17): the two logarithmic slopes of the total (resonant +
relaxation) delta v / v at every sweep point, fitted by :func:`fit_velocity_slopes` (maximum
located first, windows stated, errors from the scatter between realisations), and the change of
each slope against the first sweep point computed per realisation (paired: the runner draws the
same disorder for realisation r at every sweep point, so the disorder noise cancels).

A curve whose maximum or windows do not fit the default rule is refitted with the fallback windows
of :data:`WINDOW_RULES`; a row that still cannot be fitted says why in ``note`` (its numbers are
NaN, written as null), never a silent NaN.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from manybody.laws.velocity import VelocityFit, fit_velocity_slopes
from manybody.support import validate
from manybody.support.table_text import plus_minus

#: (margin, decades) tried in turn: the default windows (one decade from a factor 3 off T_max;
#: canonical TLS bias -0.030 / +0.030), then a factor 2 (bias -0.058 / +0.058,
#: tests/test_velocity_slopes.py), for a maximum near an end of the temperature range.
WINDOW_RULES = ((3.0, 1.0), (2.0, 1.0))


@dataclass(frozen=True)
class VelocitySummary:
    """Slopes of the total (resonant + relaxation) delta v / v in ln T at one sweep point.

    Slopes in C0 per unit ln T; windows in K; ``*_change`` is the slope minus the first sweep
    point's slope over the same windows, averaged per realisation (NaN for the first point).
    ``note`` is empty for a fitted row, otherwise the reason the row has no slopes.
    """

    study: str
    parameter: str
    value: Any
    n_tls: int
    realisations: int
    temperature_max: float
    temperature_max_error: float
    slope_below: float
    slope_below_error: float
    slope_above: float
    slope_above_error: float
    ratio: float
    ratio_error: float
    below_from: float
    below_to: float
    above_from: float
    above_to: float
    margin: float
    below_change: float
    below_change_error: float
    above_change: float
    above_change_error: float
    note: str


def fit_with_fallback(temperatures, curves) -> VelocityFit:
    """:func:`fit_velocity_slopes` with the first rule of :data:`WINDOW_RULES` that fits.

    Parameters
    ----------
    temperatures : array_like, shape (n_T,)
        T (K), ascending.
    curves : array_like, shape (n_realisations, n_T)
        delta v / v per realisation (C0).

    Raises
    ------
    ValueError
        The last rule's message, when no rule fits (e.g. the maximum at an end of the range).
    """
    validate.check_real_elements("temperatures", temperatures)
    validate.check_real_elements("curves", curves)  # fit_velocity_slopes would name it dv
    for k, (margin, decades) in enumerate(WINDOW_RULES):
        try:
            return fit_velocity_slopes(temperatures, curves, margin=margin, decades=decades)
        except ValueError:
            if k == len(WINDOW_RULES) - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def paired_change(temperatures, curves, reference, fit: VelocityFit) -> tuple[float, float,
                                                                             float, float]:
    """Change of both slopes against ``reference`` over the windows of ``fit``, paired per
    realisation: (below, its error, above, its error), C0 per ln T.

    Each realisation's difference curve (curves - reference, the same disorder) is fitted by an
    unweighted straight line in ln T over each window; the change is the mean of these slopes and
    its error their standard error. The realisations used are the first ``min`` of both.

    Parameters
    ----------
    temperatures : array_like, shape (n_T,)
    curves, reference : array_like, shapes (n_a, n_T) and (n_b, n_T)
    fit : VelocityFit
        The fit of ``curves`` whose windows are used.
    """
    validate.instance("fit", fit, VelocityFit, "a VelocityFit (of fit_with_fallback(temperatures, "
                      "curves))")
    validate.check_real_elements("temperatures", temperatures)
    t = np.asarray(temperatures, dtype=np.float64)
    if t.ndim != 1:
        raise ValueError(f"temperatures must be a 1-d array (n_T,), got shape {t.shape}")
    curves, reference = _curves("curves", curves, t.size), _curves("reference", reference, t.size)
    n = min(len(curves), len(reference))
    diff = curves[:n] - reference[:n]
    out: list[float] = []
    for lo, hi in (fit.window_below, fit.window_above):
        idx = (t >= lo) & (t <= hi)
        u = np.log(t[idx])
        u = u - u.mean()
        slopes = diff[:, idx] @ u / (u @ u)  # (n,) per-realisation least-squares slopes
        out += [float(slopes.mean()),
                float(slopes.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan]
    return out[0], out[1], out[2], out[3]


def _curves(name: str, value, n_t: int) -> np.ndarray:
    """``value`` as a float64 array (n_realisations, n_t) (one curve is one realisation), else a
    one-line error naming ``name`` (numpy's broadcast or conversion messages before; bt195)."""
    validate.check_real_elements(name, value)
    arr = np.atleast_2d(np.asarray(value, dtype=np.float64))
    if arr.ndim != 2 or arr.shape[1] != n_t or arr.shape[0] == 0:
        raise ValueError(f"{name} must have shape (n_realisations, {n_t}) (one value per "
                         f"temperature), got shape {np.shape(value)}")
    return arr


#: The keys of a velocity row's label (:func:`velocity_row`).
LABEL_KEYS = ("study", "parameter", "value", "n_tls")


def velocity_row(temperatures, curves, label: dict[str, Any], reference=None) -> VelocitySummary:
    """One row of the velocity table.

    Parameters
    ----------
    temperatures : array_like, shape (n_T,)
        T (K).
    curves : array_like, shape (n_realisations, n_T)
        Total delta v / v (C0) per realisation.
    label : dict
        study, parameter, value, n_tls of the row.
    reference : array_like, shape (n_ref, n_T), optional
        The first sweep point's curves (same disorder per realisation) for the paired change.
    """
    validate.check_real_elements("temperatures", temperatures)
    validate.check_real_elements("curves", curves)
    validate.instance("label", label, Mapping, f"a dict of {', '.join(LABEL_KEYS)}")
    if set(label) != set(LABEL_KEYS):
        raise ValueError(f"label must hold the keys {', '.join(LABEL_KEYS)}, got "
                         f"{validate.one_line(repr(list(label)))}")
    if reference is not None:
        validate.check_real_elements("reference", reference)
    curves = np.atleast_2d(np.asarray(curves, dtype=np.float64))
    nan4 = (math.nan,) * 4
    try:
        fit = fit_with_fallback(temperatures, curves)
    except ValueError as exc:
        # a warning as the study's others ("warning (UserWarning): <spec>, <point>: ..."), not a
        # logging line ("WARNING manybody.study.velocity_table: ..."; session 37)
        n = f" (N = {label['n_tls']})" if "n_tls" in label else ""
        warnings.warn(f"{label['study']}, {label['parameter']} = {label['value']}{n}: no velocity "
                      f"slopes ({exc})", UserWarning, stacklevel=2)
        nans = dict.fromkeys(("temperature_max", "temperature_max_error", "slope_below",
                              "slope_below_error", "slope_above", "slope_above_error", "ratio",
                              "ratio_error", "below_from", "below_to", "above_from", "above_to",
                              "margin", "below_change", "below_change_error", "above_change",
                              "above_change_error"), math.nan)
        return VelocitySummary(**label, realisations=len(curves), **nans, note=str(exc))
    change = nan4 if reference is None else paired_change(temperatures, curves, reference, fit)
    return VelocitySummary(
        **label, realisations=len(curves), temperature_max=fit.temperature_max,
        temperature_max_error=fit.temperature_max_error, slope_below=fit.below,
        slope_below_error=fit.below_error, slope_above=fit.above,
        slope_above_error=fit.above_error, ratio=fit.ratio, ratio_error=fit.ratio_error,
        below_from=fit.window_below[0], below_to=fit.window_below[1],
        above_from=fit.window_above[0], above_to=fit.window_above[1], margin=fit.margin,
        below_change=change[0], below_change_error=change[1], above_change=change[2],
        above_change_error=change[3], note="")


def format_velocity_table(rows: list[VelocitySummary]) -> str:
    """Velocity slopes as a Markdown table (C0 per unit ln T; T in K).

    Columns: T_max with its error, the slopes below and above with their errors, the ratio
    below/above with its error (canonical TTLS -2, a-SiO2 and BK7 about -1), the windows fitted,
    and the paired change of each slope against the table's first row of the same study.
    """
    validate.instance("rows", rows, list | tuple, "a list of VelocitySummary rows")
    for i, row in enumerate(rows):
        validate.instance(f"rows[{i}]", row, VelocitySummary, "a VelocitySummary (of velocity_row)")
    lines = ["| study | parameter | value | N | realisations | T_max (K) | slope below | "
             "slope above | ratio | windows below / above (K) | change vs first row "
             "(below / above, paired) |",
             "|" + "---|" * 11]
    for r in rows:
        value = r.value if isinstance(r.value, str) else ("-" if r.value is None else f"{r.value:g}")
        head = f"| {r.study} | {r.parameter} | {value} | {r.n_tls} | {r.realisations} |"
        if r.note or not math.isfinite(r.temperature_max):
            lines.append(f"{head} no slopes: {r.note or 'no fit'} | - | - | - | - | - |")
            continue
        change = ("-" if not math.isfinite(r.below_change) else
                  f"{plus_minus(r.below_change, r.below_change_error)} / "
                  f"{plus_minus(r.above_change, r.above_change_error)}")
        lines.append(
            f"{head} {r.temperature_max:.3g} ± {r.temperature_max_error:.2g} | "
            f"{plus_minus(r.slope_below, r.slope_below_error)} | "
            f"{plus_minus(r.slope_above, r.slope_above_error)} | {plus_minus(r.ratio, r.ratio_error)} | "
            f"{r.below_from:.3g}-{r.below_to:.3g} / {r.above_from:.3g}-{r.above_to:.3g} | "
            f"{change} |")
    return "\n".join(lines)
