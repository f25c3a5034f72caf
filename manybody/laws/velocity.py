"""The logarithmic law of the sound velocity: dv/v = C ln T (canonical TTLS: slope C0 for T >> w).

:func:`log_slope` measures the slope d(dv/v)/d(ln T) of a curve by weighted least squares (the
relaxation observables use it for the slopes below and above the velocity maximum). Numpy only, so
the physics can use it without the fitting engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from manybody.support import validate as v


def log_slope(temperatures, values, sigma=None) -> tuple[float, float]:
    """Slope d(values)/d(ln T) by weighted least squares, and its uncertainty.

    Used for the velocity shift (canonical TTLS: slope C0 for T >> w).
    """
    t = v.positive_array("temperatures", temperatures)
    y = v.real_array("values", values, t.shape)
    s = np.ones_like(y) if sigma is None else v.positive_array("sigma", sigma)
    design = np.stack([np.log(t), np.ones_like(t)], axis=1) / s[:, None]
    coef, *_ = np.linalg.lstsq(design, y / s, rcond=None)
    cov = np.linalg.pinv(design.T @ design)
    if sigma is None:  # scale by the residual variance
        resid = y - (coef[0] * np.log(t) + coef[1])
        cov = cov * (resid @ resid) / max(t.size - 2, 1)
    return float(coef[0]), float(math.sqrt(max(cov[0, 0], 0.0)))


@dataclass(frozen=True)
class VelocitySlopes:
    """Slopes of delta v / v in ln T on both sides of its maximum.

    Attributes
    ----------
    temperature_max : float
        T (K) of the maximum of the (mean) curve.
    below, below_error : float
        Slope (units of delta v / v, e.g. C0) and one-sigma error for T < T_max / margin.
    above, above_error : float
        The same for T > T_max * margin.
    ratio : float
        below / above (canonical TTLS: -2; a-SiO2 and BK7: about -1).
    """

    temperature_max: float
    below: float
    below_error: float
    above: float
    above_error: float

    @property
    def ratio(self) -> float:
        return self.below / self.above if self.above != 0 else math.nan


def velocity_slopes(temperatures, dv, margin: float = 2.0) -> VelocitySlopes:
    """Slopes of delta v / v against ln T below and above its maximum, with uncertainties.

    Parameters
    ----------
    temperatures : array_like, shape (n_T,)
        T (K), > 0, ascending.
    dv : array_like, shape (n_T,) or (n_realisations, n_T)
        delta v / v (e.g. units of C0). With realisations the mean is fitted with its standard
        error as sigma; otherwise the error comes from the fit residuals.
    margin : float
        Points with T_max / margin <= T <= T_max * margin are left out (the rounded top), >= 1.

    Raises
    ------
    ValueError
        Fewer than 3 points on either side, or a maximum at the edge of the range.
    """
    t = v.positive_array("temperatures", temperatures)
    if np.any(np.diff(t) <= 0):
        raise ValueError("temperatures must be strictly ascending")
    y = np.atleast_2d(v.real_array("dv", dv))
    if y.shape[-1] != t.size or y.ndim != 2:
        raise ValueError(f"dv must have shape ({t.size},) or (n_realisations, {t.size}), "
                         f"got {np.shape(dv)}")
    if v.finite("margin", margin) < 1:
        raise ValueError(f"margin must be >= 1, got {margin!r}")
    mean = y.mean(axis=0)
    sigma = None
    if y.shape[0] > 1:
        sigma = y.std(axis=0, ddof=1) / math.sqrt(y.shape[0])
        sigma = np.maximum(sigma, 1e-12 * max(np.abs(mean).max(), 1e-300))
    t_max = float(t[int(np.argmax(mean))])
    result = []
    for side, name in ((t < t_max / margin, "below"), (t > t_max * margin, "above")):
        if side.sum() < 3:
            raise ValueError(f"need at least 3 temperatures {name} the maximum at "
                             f"T = {t_max:.4g} K (margin {margin}), got {int(side.sum())}")
        result.extend(log_slope(t[side], mean[side], None if sigma is None else sigma[side]))
    return VelocitySlopes(t_max, *result)
