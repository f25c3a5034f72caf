"""The logarithmic law of the sound velocity: dv/v = C ln T (canonical TTLS: slope C0 for T >> w).

:func:`log_slope` measures the slope d(dv/v)/d(ln T) of a curve by weighted least squares (the
relaxation observables use it for the slopes below and above the velocity maximum). Numpy only, so
the physics can use it without the fitting engine.
"""

from __future__ import annotations

import math

import numpy as np

from manybody import _validate as v


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
