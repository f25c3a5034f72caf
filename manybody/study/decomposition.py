"""The study's decomposition of Q^-1(w, T) at one sweep point: Q = tanh(x/2) rho_eff(w, T).

For TLS with couplings diagonal in s^z every absorbing transition keeps its tanh(E/2T) factor; the
departure of the fixed-frequency shape from tanh comes from the temperature dependence of the
density of resonant TLS, rho_eff(w, T) (docs/PHYSICS.md section 7). This module reduces the
per-realisation arrays of one sweep point to the numbers of the summary:

* the control parameters lambda = J0 / eps_max and chi = P J0 = lambda / ln(Delta_max/Delta_min);
* the rise of rho_eff = Q / tanh(x/2) (kernel-averaged) from the lowest to the highest temperature;
* the static-configuration-bath (SCB) predictions of Q, with thermal and with infinite-temperature
  configuration probabilities: their error against the exact Q and their TLS index;
* the fraction of the absorbed weight carried by single-TLS transitions.

Errors of ratios are standard errors over disorder realisations by the delta method, with the
covariance of numerator and denominator (they share the realisations).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from manybody.config.model import ModelParams
from manybody.laws.shapes import law_values
from manybody.support import validate


def control_parameters(model: ModelParams) -> tuple[float, float]:
    """(lambda, chi) of a model: lambda = J0 / eps_max, chi = P J0 = lambda / ln(Delta_max/Delta_min).

    lambda is the coupling times the density (per unit energy and volume r0^3) of all TLS in
    equilibrium, the parameter that controls the temperature dependence of rho_eff; chi is the
    usual dimensionless coupling of the TLS literature (docs/PHYSICS.md section 7). Both are 0
    without couplings and NaN for a model without TLS.

    Parameters
    ----------
    model : ModelParams
        The sweep point's model.

    Returns
    -------
    (float, float)
        Dimensionless lambda and chi.
    """
    validate.instance("model", model, ModelParams, "a ModelParams (the sweep point's model, e.g. "
                      "spec.model)")
    if model.tls is None:
        return math.nan, math.nan
    strength = model.coupling.strength if model.coupling is not None else 0.0
    lam = strength / model.tls.asymmetry_max
    return lam, lam / model.tls.log_range


#: Bootstrap resamples of :func:`_ratio_error` (a fixed seed: the same error every time).
RATIO_BOOTSTRAP = 1000


def _ratio_error(numerator: np.ndarray, denominator: np.ndarray) -> float:
    """Standard error of mean(numerator) / mean(denominator) over realisations, shape
    (n_realisations,) each: the larger of the delta method with their covariance (they share the
    realisations), sigma_R^2 = R^2 [var(a)/a^2 + var(b)/b^2 - 2 cov(a, b)/(a b)] / n, and the
    spread of the ratio over bootstrap resamples of the realisations (seeded).

    The delta method alone collapsed where one realisation carries most of both means: the
    covariance term cancels the variances, and a rise of 188 came out +- 0.22 where resamples
    without that realisation give 188 to 4e5 (a new user, session 27). A resample whose
    denominator mean is 0 makes the error infinite (the ratio is not determined), as does one
    so small that the resampled ratios overflow (a bare "overflow encountered in square" warning
    of the study's random block, session 35).
    """
    n = numerator.size
    a, b = float(numerator.mean()), float(denominator.mean())
    if n < 2 or a == 0 or b == 0:
        return math.nan
    cov = np.cov(numerator, denominator, ddof=1)
    relative = cov[0, 0] / a**2 + cov[1, 1] / b**2 - 2.0 * cov[0, 1] / (a * b)
    delta = abs(a / b) * math.sqrt(max(relative, 0.0) / n)
    picks = np.random.default_rng(0).integers(0, n, (RATIO_BOOTSTRAP, n))
    below = denominator[picks].mean(axis=1)
    if np.any(below == 0):
        return math.inf
    with np.errstate(over="ignore", invalid="ignore"):
        spread = float(np.std(numerator[picks].mean(axis=1) / below, ddof=1))
    if not math.isfinite(spread):
        return math.inf
    return max(delta, spread)


@dataclass(frozen=True)
class Decomposition:
    """The decomposition numbers of one sweep point (NaN where the data lack the observable).

    Attributes
    ----------
    resonant_density_rise, resonant_density_rise_error : float
        rho_eff at the highest temperature over rho_eff at the lowest, rho_eff = Q / <tanh(x/2)>
        (the law averaged over the line kernel): 1 for a temperature-independent resonant density.
    configuration_bath_error : float
        sum_T |Q_SCB - Q| / sum_T Q of the disorder means (thermal configuration probabilities).
    configuration_bath_infinite_error : float
        The same with infinite-temperature configuration probabilities.
    single_tls_fraction, single_tls_fraction_error : float
        Fraction of the absorbed weight at w carried by single-TLS transitions, at the
        temperature closest to x = 1 (ensemble fraction sum_r F_r Q_r / sum_r Q_r).
    single_tls_fraction_min : float
        Its smallest value over the temperatures.
    """

    resonant_density_rise: float = math.nan
    resonant_density_rise_error: float = math.nan
    configuration_bath_error: float = math.nan
    configuration_bath_infinite_error: float = math.nan
    single_tls_fraction: float = math.nan
    single_tls_fraction_error: float = math.nan
    single_tls_fraction_min: float = math.nan


def resonant_density(x: np.ndarray, q: np.ndarray, smearing: float | None) -> np.ndarray:
    """rho_eff(w, T) = Q(w, T) / <tanh(x/2)>_kernel, shape of ``q`` (last axis over x).

    Parameters
    ----------
    x : numpy.ndarray
        x = w / T, shape (n_x,).
    q : numpy.ndarray
        Q^-1 (pi*C0), shape (..., n_x).
    smearing : float or None
        eta / w of the Gaussian kernel (the law is averaged over it), see
        :func:`manybody.laws.shapes.smeared`.
    """
    validate.check_real_elements("q", q)
    return np.asarray(q) / law_values("tls", x, smearing=smearing)


#: The per-realisation arrays :func:`decompose` reads ("absorption" required).
DECOMPOSITION_ARRAYS = ("absorption", "configuration_bath_absorption",
                        "configuration_bath_absorption_infinite", "single_tls_fraction")


def _absorption(x, data) -> np.ndarray:
    """The checks of :func:`decompose` before any work (bt195: None got "not subscriptable"):
    ``x`` numbers, ``data`` a mapping holding "absorption" (n_realisations, n_T) with n_T the
    length of ``x``, its known arrays numbers; "absorption" returned as float64."""
    validate.check_real_elements("x", x)
    validate.instance("data", data, Mapping, 'a dict of per-realisation arrays ("absorption" '
                      "required)")
    if "absorption" not in data:
        raise ValueError(f'data must hold "absorption" (per-realisation Q^-1, (n_realisations, '
                         f"n_T)), got the keys {validate.one_line(repr(list(data)))}")
    for key in DECOMPOSITION_ARRAYS:
        if key in data:
            validate.check_real_elements(f"data[{key!r}]", data[key])
    q = np.asarray(data["absorption"], dtype=np.float64)
    if q.ndim != 2 or q.shape[1] != np.size(x):
        raise ValueError(f"data['absorption'] must have shape (n_realisations, {np.size(x)}) (one "
                         f"column per x), got shape {q.shape}")
    return q


def decompose(x: np.ndarray, data: dict[str, np.ndarray], smearing: float | None
              ) -> Decomposition:
    """The decomposition numbers of one sweep point at the reference frequency.

    Parameters
    ----------
    x : numpy.ndarray
        x = w / T of the temperatures, shape (n_T,), any order.
    data : dict of str to numpy.ndarray
        Per-realisation arrays at the reference frequency, each (n_realisations, n_T):
        "absorption" (required), and where computed "configuration_bath_absorption",
        "configuration_bath_absorption_infinite", "single_tls_fraction".
    smearing : float or None
        eta / w of the Gaussian kernel.

    Returns
    -------
    Decomposition
    """
    q = _absorption(x, data)
    tanh = law_values("tls", x, smearing=smearing)
    hot, cold = int(np.argmin(x)), int(np.argmax(x))
    out: dict[str, float] = {}
    # rho_eff(hot) / rho_eff(cold) = [Q(hot) / Q(cold)] tanh(cold) / tanh(hot)
    scale = tanh[cold] / tanh[hot]
    mean_hot, mean_cold = q[:, hot].mean(), q[:, cold].mean()
    if mean_cold > 0:
        out["resonant_density_rise"] = float(mean_hot / mean_cold * scale)
        out["resonant_density_rise_error"] = _ratio_error(q[:, hot], q[:, cold]) * scale
    mean_q = q.mean(axis=0)
    total = float(np.sum(mean_q))
    for name, field in (("configuration_bath_absorption", "configuration_bath_error"),
                        ("configuration_bath_absorption_infinite",
                         "configuration_bath_infinite_error")):
        if name in data and total > 0:
            out[field] = float(np.sum(np.abs(np.mean(data[name], axis=0) - mean_q)) / total)
    if "single_tls_fraction" in data:
        single = np.asarray(data["single_tls_fraction"], dtype=np.float64)
        # F_r Q_r: the single-TLS weight (a realisation that absorbs nothing has no F_r)
        weighted = np.where(np.isfinite(single), single, 0.0) * q
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = weighted.mean(axis=0) / mean_q
        near_one = int(np.argmin(np.abs(np.log(x))))
        out["single_tls_fraction"] = float(fraction[near_one])
        out["single_tls_fraction_error"] = _ratio_error(weighted[:, near_one], q[:, near_one])
        finite = fraction[np.isfinite(fraction)]
        out["single_tls_fraction_min"] = float(finite.min()) if finite.size else math.nan
    return Decomposition(**out)
