"""Power saturation of the loss: Q^-1(P) = Q^-1_0 (1 + P/Pc)^-beta + Q^-1_bg, fitted with errors.

Independent TLS give beta = 1/2 (the Bloch steady state averaged over an inhomogeneous spread of
detunings, docs/PHYSICS.md section 8); measured resonators and
interacting-TLS theories give beta well below 1/2 (Faoro and Ioffe, PRL 109, 157005 (2012); Burin
and Maksymov, PRB 97, 214206 (2018)). This module fits the law with beta free or fixed, jointly to
several curves (e.g. one per temperature, beta shared); :mod:`manybody.laws.saturation_comparison`
compares beta free with beta = 1/2 and bootstraps ensembles of curves.

Power axis (``scale``):

* ``"linear"``: P in any linear unit (W, mean photon number), P >= 0; Pc in the same unit;
* ``"dB"``: P in dB of a unit (dBm, or 10 log10 of a photon number); Pc in the same dB unit;
* ``"amplitude"``: a drive amplitude e0 >= 0 (strain, field) with P ~ e0^2; the critical
  amplitude e_c (P/Pc = (e0/e_c)^2) is reported as ``critical_power``.

Fitting: scipy.optimize.curve_fit (trust-region reflective, with bounds, the analytic Jacobian;
beyond ``DENSE_PARAMETERS`` parameters scipy.optimize.least_squares with the Jacobian sparse and
LSMR for the trust-region steps: each point depends on its own curve's parameters and beta only,
and the dense SVD of every step grew as the cube of the number of curves: 400 temperatures took
200 s against 18 s, 35 temperatures with given errors 1.5 s against 0.2 s; session 50) on the
parameters amplitude Q^-1_0 >= 0, log10 Pc (within ``PC_DECADES`` decades of the measured powers),
beta in ``BETA_BOUNDS`` and the background; its start is the best point of a grid in (log10 Pc,
beta) with the linear parameters solved exactly at each point. It works in units where
the largest loss, the largest linear power and the median given error are 1 (powers divided
before they are squared or exponentiated), and the errors are scaled back as standard errors
(:func:`manybody.laws.covariance.rescale`), so a fit is the same under any scaling of the loss,
the errors or the power axis (session 28: variances scaled as var * qmax^2 gave errors of 0 or
inf for a loss of 1e-200 or 1e200, amplitudes of 1e-200 or 1e160 squared were refused, errors
1e6 times the scatter stopped the fit at its grid start; with finite-difference Jacobians the
fitted values moved by ~5e-9 under such scalings, now by ~1e-10). Errors from the covariance of
the analytic Jacobian (:func:`manybody.laws.covariance.covariance`; since session 27): absolute with
given ``sigma`` (chi2 and p-value meaningful); without, a common scatter estimated from the
residuals (``error_model`` "relative": sigma_i = s Q^-1_i, or "absolute"), the covariance scaled
by chi2/dof (``errors_scaled``). Nested comparison beta free against beta = 1/2: a likelihood-ratio
test (Delta chi2 against chi2 with one degree of freedom) with known errors, an F-test
(F = Delta RSS / (RSS_free / dof_free) against F(1, dof_free)) with estimated scatter.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from manybody.laws.covariance import correlation, covariance, rescale
from manybody.laws.inputs import (
    MIN_POWER_SPAN,
    QUALITY_FACTOR_RANGE,
    REWEIGHTING_ROUNDS,
    floored_per_curve,
)
from manybody.support import validate as v

SCALES = ("linear", "dB", "amplitude")
ERROR_MODELS = ("relative", "absolute")
#: The independent-TLS exponent (inhomogeneous average of the Bloch steady state).
REFERENCE_BETA = 0.5
#: Joint fits with more parameters than this (20 curves with backgrounds and a free beta) take
#: sparse trust-region steps (module notes; about where the two routes take the same time); the
#: routes agree to ~1e-3 of the errors (tests/test_input_faults_s50.py).
DENSE_PARAMETERS = 60
#: Tolerances of the sparse route: at scipy's default 1e-8 its LSMR steps stopped ~5e-4 of an
#: error from the dense route's optimum (beta of 60 temperatures), at 1e-12 ~1.4e-4.
SPARSE_TOLERANCE = 1e-12
#: Range of the exponent beta in free fits.
BETA_BOUNDS = (1e-3, 5.0)
#: Pc is searched within this many decades (of P) below and above the measured powers.
PC_DECADES = 4.0
#: A parameter within this fraction of its range from a bound is "on the bound".
BOUND_TOLERANCE = 1e-4
#: Significance level below which beta = 1/2 is rejected in favour of a free beta.
REJECTION_LEVEL = 0.05
_BETA_GRID = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.5)


def saturation_factor(power_ratio, beta: float = REFERENCE_BETA) -> np.ndarray:
    """(1 + P/Pc)^-beta for P/Pc >= 0 (1/sqrt(1 + P/Pc) for independent TLS).

    Parameters
    ----------
    power_ratio : array_like
        P/Pc (dimensionless), >= 0, any shape.
    beta : float
        Exponent, > 0.

    Returns
    -------
    numpy.ndarray
        The factor, same shape, in (0, 1].
    """
    r = v.real_array("power_ratio", power_ratio)
    if np.any(r < 0):
        raise ValueError(f"power_ratio must be >= 0 (P/Pc), got {r[r < 0].flat[0]:g}")
    return (1.0 + r) ** -v.positive("beta", beta)


def _check_power(name: str, power: np.ndarray, scale: str) -> None:
    """Refuse a negative power on the linear or amplitude scale, and powers in dB that span
    less than MIN_POWER_SPAN dB while all lying within +-1 (linear powers in W or mW given
    with scale='dB': the fit returned nonsense without a word; a tester, session 41)."""
    finite = power[np.isfinite(power)]
    if (scale == "dB" and finite.size > 1 and np.ptp(finite) < MIN_POWER_SPAN
            and np.all(np.abs(finite) <= 1.0) and np.ptp(finite) > 0):
        raise ValueError(f"{name} spans {np.ptp(finite):.3g} dB ({finite.min():.3g} to "
                         f"{finite.max():.3g}) on scale='dB': linear powers (W or mW)? give "
                         "scale='linear', or the powers in dBm")
    if scale != "dB" and np.any(power < 0):
        i = int(np.argmax(power < 0))
        raise ValueError(f"{name} must be >= 0 on the {scale} scale, got {power[i]:g} at point "
                         f"{i + 1} (give scale='dB' for powers in dBm)")


def _relative_power(power: np.ndarray, scale: str, ref: float) -> np.ndarray:
    """Linear power in units of the linear power at ``ref`` (both on the input scale):
    p / ref, (p / ref)^2 for amplitudes, 10^((p - ref) / 10) in dB.

    Divided before it is squared or exponentiated: amplitudes of 1e-200 or 1e160 squared
    under- or overflowed (refused as all zero, or as a loss not decreasing between two infinite
    powers; session 28)."""
    if scale == "dB":
        return 10.0 ** ((power - ref) / 10.0)
    if scale == "amplitude":
        return (power / ref) ** 2
    return power / ref


def _log10_power(ref: float, scale: str) -> float:
    """log10 of the linear power (in its unit) at ``ref`` on the input scale."""
    if scale == "dB":
        return ref / 10.0
    if scale == "amplitude":
        return 2.0 * math.log10(ref)
    return math.log10(ref)


def _power_ratio(power: np.ndarray, c: float, scale: str) -> np.ndarray:
    """P / Pc for powers on the input scale and c = log10(Pc) (Pc in the linear unit), without
    forming P or Pc where they over- or underflow (an amplitude of 1e200 has P = 1e400)."""
    if scale == "dB":
        return 10.0 ** (power / 10.0 - c)
    if scale == "amplitude":
        return (power / 10.0 ** (c / 2.0)) ** 2
    return power / 10.0**c


def _from_log_pc(c: float, scale: str) -> tuple[float, float]:
    """Reported Pc from log10(Pc / unit) and d Pc / d c."""
    if scale == "dB":
        return 10.0 * c, 10.0
    if scale == "amplitude":
        value = 10.0 ** (c / 2.0)
        return value, value * math.log(10.0) / 2.0
    value = 10.0**c
    return value, value * math.log(10.0)


@dataclass(frozen=True)
class _Curve:
    power: np.ndarray  # on the input scale
    linear: np.ndarray | None  # linear power in units of a reference (None: not yet)
    loss: np.ndarray
    sigma: np.ndarray | None


@dataclass(frozen=True)
class SaturationFit:
    """Result of fitting (1 + P/Pc)^-beta saturation to one or several loss curves.

    Attributes
    ----------
    parameters, errors : dict of str to float
        "amplitude" Q^-1_0 (units of the loss), "critical_power" Pc (on the input scale: linear
        unit, dB of the unit, or the critical amplitude), "background" Q^-1_bg (when fitted),
        "beta"; with several curves the per-curve ones are named ``amplitude[label]``.
        A fixed beta has error 0.
    covariance : numpy.ndarray
        Covariance of the fitted parameters in the order of ``parameter_names`` (beta fixed:
        not among them), in their units; scaled from the working units entry by entry without an
        intermediate over- or underflow (an entry beyond the floating-point range itself, the
        variance of a loss of 1e200, is inf or 0: ``errors`` and ``correlation`` keep it).
    correlation : numpy.ndarray
        Correlation matrix of the same parameters (1 on the diagonal, NaN in the row and column
        of a parameter the data do not determine), independent of the units.
    chi2, dof, n_points : float, int, int
        Sum of squared weighted residuals, degrees of freedom, points.
    p_value : float
        chi2 tail probability with known sigma; NaN when the scatter was estimated.
    errors_scaled : bool
        True when the errors rest on a scatter estimated from the residuals.
    error_model : str
        "sigma" (given), "relative" or "absolute".
    beta_fixed : bool
        True when beta was held fixed.
    scale : str
        The power axis, one of ``SCALES``.
    labels : tuple of str
        Curve names.
    at_bound : tuple of str
        Parameters that ended on a bound (their errors are not reliable): a Pc on its bound
        means the data do not reach (or do not leave) the saturated regime.
    """

    parameters: dict
    errors: dict
    chi2: float
    dof: int
    n_points: int
    p_value: float
    errors_scaled: bool
    error_model: str
    beta_fixed: bool
    scale: str
    labels: tuple = ()
    parameter_names: tuple = ()
    covariance: np.ndarray = field(default=None, repr=False)
    at_bound: tuple = ()
    correlation: np.ndarray = field(default=None, repr=False)
    _theta: tuple = field(default=(), repr=False)

    @property
    def reduced_chi2(self) -> float:
        return self.chi2 / self.dof if self.dof > 0 else math.nan

    def parameter_name(self, stem: str, curve: int = 0) -> str:
        """The name of parameter ``stem`` of curve ``curve`` ("critical_power[0.1K]")."""
        return stem if len(self.labels) == 1 else f"{stem}[{self.labels[curve]}]"

    def value(self, stem: str, curve: int = 0) -> float:
        """Parameter ``stem`` ("amplitude", "critical_power", "background", "beta") of a curve."""
        return self.parameters.get(self.parameter_name(stem, curve), self.parameters.get(stem, 0.0))

    def error(self, stem: str, curve: int = 0) -> float:
        return self.errors.get(self.parameter_name(stem, curve), self.errors.get(stem, 0.0))

    def predict(self, power, curve: int = 0, component: str = "total") -> np.ndarray:
        """Model loss of curve ``curve`` at ``power`` (input scale); ``component`` "total" or
        "saturating" (without the background)."""
        p = v.real_array("power", power)
        _check_power("power", p, self.scale)
        ratio = _power_ratio(p, self._theta[curve], self.scale)
        sat = self.value("amplitude", curve) * (1.0 + ratio) ** -self.value("beta")
        return sat + self.value("background", curve) if component == "total" else sat

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return {"parameters": self.parameters, "errors": self.errors,
                "parameter_names": list(self.parameter_names),
                "covariance": None if self.covariance is None else self.covariance.tolist(),
                "correlation": None if self.correlation is None else self.correlation.tolist(),
                "chi2": self.chi2, "dof": self.dof, "reduced_chi2": self.reduced_chi2,
                "n_points": self.n_points, "p_value": self.p_value,
                "errors_scaled": self.errors_scaled, "error_model": self.error_model,
                "beta_fixed": self.beta_fixed, "scale": self.scale, "labels": list(self.labels),
                "at_bound": list(self.at_bound)}


def _check_curve(power, loss, sigma, scale: str, label: str) -> _Curve:
    where = f" of {label!r}" if label else ""
    p = v.real_array(f"power{where}", power)
    q = v.real_array(f"loss{where}", loss)
    if p.ndim != 1 or q.shape != p.shape:
        raise ValueError(f"power{where} and loss{where} must be 1-d of one length, got shapes "
                         f"{p.shape} and {q.shape}")
    if np.any(q <= 0):
        raise ValueError(f"loss{where} must be > 0 (Q^-1), got {q[q <= 0][0]:g}")
    _check_power(f"power{where}", p, scale)
    if scale != "dB" and not np.any(p > 0):
        raise ValueError(f"power{where} must have at least one value above 0, got {p.tolist()}")
    s = None
    if sigma is not None:
        given = np.shape(sigma)
        s = v.positive_array(f"sigma{where}", sigma)
        if given == ():  # one number: the same error at every power (as log_slope takes it)
            s = np.full(q.shape, s.item())
        if s.shape != q.shape:
            raise ValueError(f"sigma{where} must be a number or have the shape of loss {q.shape}, "
                             f"got {given}")
    low, high = p == p.min(), p == p.max()  # the linear power grows with p on every scale
    if not q[high].mean() < q[low].mean():
        lo, hi = QUALITY_FACTOR_RANGE
        qi = (f"; the values ({q.min():.4g} to {q.max():.4g}) look like internal quality "
              "factors Qi, which rise with power: Qi passed as the loss? pass 1/Qi"
              if lo <= q.min() and q.max() <= hi else "")
        raise ValueError(f"loss{where} must decrease with power (saturation): mean loss "
                         f"{q[high].mean():.4g} at the highest power {p[high][0]:g} is not below "
                         f"{q[low].mean():.4g} at the lowest power {p[low][0]:g}{qi}")
    return _Curve(p, None, q, s)


@dataclass(frozen=True)
class _Layout:
    n: int  # curves
    background: bool
    beta: float | None  # fixed beta, or None (free, shared)

    @property
    def k(self) -> int:
        return self.n * (3 if self.background else 2) + (self.beta is None)

    def unpack(self, theta):
        a = theta[:self.n]
        c = theta[self.n:2 * self.n]
        b = theta[2 * self.n:3 * self.n] if self.background else np.zeros(self.n)
        beta = theta[-1] if self.beta is None else self.beta
        return a, c, b, beta


def _start(curves, weights, layout: _Layout, c_grid) -> np.ndarray:
    """Best grid point in (log10 Pc, beta), linear parameters solved exactly at each point."""
    betas = _BETA_GRID if layout.beta is None else (layout.beta,)
    best = (math.inf, None)
    for beta in betas:
        total, picks = 0.0, []
        for cur, w in zip(curves, weights, strict=True):
            options = []
            for c in c_grid:
                cols = [(1.0 + cur.linear / 10.0**c) ** -beta]
                if layout.background:
                    cols.append(np.ones_like(cur.loss))
                d = np.stack(cols, axis=1)
                coef = np.linalg.lstsq(d / w[:, None], cur.loss / w, rcond=None)[0]
                coef[0] = max(coef[0], 1e-12)
                rss = float(np.sum(((d @ coef - cur.loss) / w) ** 2))
                options.append((rss, c, coef))
            rss, c, coef = min(options, key=lambda o: o[0])
            total += rss
            picks.append((c, coef))
        if total < best[0]:
            best = (total, (beta, picks))
    beta, picks = best[1]
    theta = [p[1][0] for p in picks] + [p[0] for p in picks]
    if layout.background:
        theta += [p[1][1] for p in picks]
    if layout.beta is None:
        theta.append(beta)
    return np.array(theta, dtype=np.float64)


def _numbers(value) -> bool:
    """``value`` is a 1-d array of numbers (a power or loss array, not a curve)."""
    if isinstance(value, str | bytes):
        return False
    try:
        a = np.asarray(value)
    except (ValueError, TypeError):  # ragged: a curve of arrays of different lengths
        return False
    return a.ndim == 1 and a.dtype.kind in "iuf"


def check_curves(curves) -> list:
    """``curves`` as a list of (power, loss[, sigma]) tuples, or a TypeError saying what was
    expected: one curve passed without the outer list failed with "power of '0' and loss of '0'
    must be 1-d of one length, got shapes () and ()", and a string with an IndexError
    (a tester, session 39)."""
    if isinstance(curves, str | bytes | dict) or not hasattr(curves, "__len__"):
        raise TypeError(f"curves must be a list of (power, loss) or (power, loss, sigma) curves "
                        f"(one curve: [(power, loss)]), got {type(curves).__name__}")
    curves = list(curves)
    if 2 <= len(curves) <= 3 and all(_numbers(c) for c in curves):
        raise TypeError(f"curves must be a list of (power, loss[, sigma]) curves; got "
                        f"{len(curves)} arrays of numbers, one curve's (power, loss"
                        f"{', sigma' if len(curves) == 3 else ''}) without the outer list: pass "
                        "[(power, loss)]")
    for i, c in enumerate(curves):
        if isinstance(c, str | bytes | dict) or not hasattr(c, "__len__") or len(c) not in (2, 3):
            got = (f"{len(c)} item(s)" if hasattr(c, "__len__") and not isinstance(c, str)
                   else type(c).__name__)
            raise TypeError(f"curves[{i}] must be a (power, loss) or (power, loss, sigma) tuple, "
                            f"got {got}")
    return curves


def fit_saturation_joint(curves, *, beta: float | None = None, background: bool = True,
                         scale: str = "linear", error_model: str = "relative",
                         labels=None) -> SaturationFit:
    """Fit (1 + P/Pc)^-beta saturation jointly to several curves, beta shared.

    Each curve j (e.g. one temperature) has its own amplitude Q^-1_0,j, critical power Pc_j and
    background; beta is shared (free, or fixed at ``beta``).

    Parameters
    ----------
    curves : sequence of (power, loss) or (power, loss, sigma)
        Per curve: power on the ``scale`` axis, shape (n_j,); loss Q^-1 > 0, shape (n_j,);
        optional one-standard-deviation errors of the loss (all curves or none).
    beta : float, optional
        Fixed exponent (0.5: independent TLS); None fits one shared beta.
    background : bool
        A constant background Q^-1_bg per curve.
    scale : {"linear", "dB", "amplitude"}
        The power axis (module notes).
    error_model : {"relative", "absolute"}
        Without sigma: a common relative (sigma_i = s Q^-1_i) or absolute scatter.
    labels : list or tuple of str, optional
        Curve names, one string per curve (default "0", "1", ...; a bare string is refused, not
        split into letters).

    Returns
    -------
    SaturationFit

    Raises
    ------
    TypeError
        ``curves`` not a list of (power, loss[, sigma]) tuples: a string, a mapping, or one
        curve's (power, loss) given without the outer list (pass ``[(power, loss)]``).
    ValueError
        Unknown scale or error model; beta not > 0; non-finite power, loss or sigma; a negative
        power on the linear or amplitude scale; loss <= 0; sigma given for some curves only;
        a curve whose loss does not decrease from the lowest to the highest power; a curve with
        fewer distinct powers than its own parameters; fewer points than parameters.
    RuntimeError
        The optimiser (scipy.optimize.curve_fit) did not converge.
    """
    from scipy import stats  # scipy only when fitting: ``import manybody`` stays light

    v.choice("scale", scale, SCALES)
    v.choice("error_model", error_model, ERROR_MODELS)
    background = v.boolean("background", background)  # "no" failed deep inside (session 45)
    if beta is not None:
        beta = v.positive("beta", beta)
    curves = check_curves(curves)
    if len(curves) == 0:
        raise ValueError("curves must hold at least one (power, loss) curve, got none")
    labels = (tuple(str(i) for i in range(len(curves))) if labels is None
              else v.labels("labels", labels, len(curves)))
    data = [_check_curve(c[0], c[1], c[2] if len(c) > 2 else None, scale,
                         labels[i] if len(curves) > 1 else "") for i, c in enumerate(curves)]
    known = [d.sigma is not None for d in data]
    if any(known) and not all(known):
        raise ValueError("sigma must be given for all curves or for none")
    if all(known) and error_model != "relative":  # changed nothing in silence (helper-185)
        warnings.warn(f"error_model={error_model!r} has no effect: every curve carries sigma, "
                      "and it describes the scatter estimated without errors", UserWarning,
                      stacklevel=3)
    layout = _Layout(len(data), background, beta)
    own = 3 if background else 2
    for d, lb in zip(data, labels, strict=True):
        if np.unique(d.power).size < own:
            raise ValueError(f"curve {lb!r} has {np.unique(d.power).size} distinct power(s) for "
                             f"its {own} own parameters (amplitude, Pc"
                             + (", background)" if background else ")"))
    n = sum(d.loss.size for d in data)
    if n <= layout.k:
        raise ValueError(f"need more points than parameters: {n} point(s) for {layout.k} "
                         "parameters")
    # working units: loss / qmax, power / (largest linear power), given errors / their median
    # (the optimiser's steps and tolerances depend on the units: errors 1e6 times the loss's
    # scatter stopped it at its grid start, 1e-200 times it overflowed chi2; session 28)
    qmax = max(float(d.loss.max()) for d in data)
    ref = max(float(d.power.max()) for d in data)
    c_ref = _log10_power(ref, scale)
    work = [_Curve(d.power, _relative_power(d.power, scale, ref), d.loss / qmax,
                   None if d.sigma is None else d.sigma / qmax) for d in data]
    error_unit = 1.0  # units of the loss / qmax per unit of the weights
    if all(known):
        error_unit = float(np.median(np.concatenate([w.sigma for w in work])))
        weights = [w.sigma / error_unit for w in work]
        model_name = "sigma"
    else:
        weights = [w.loss if error_model == "relative" else np.ones_like(w.loss) for w in work]
        model_name = error_model
    positive = np.concatenate([w.linear[w.linear > 0] for w in work])
    c_lo, c_hi = float(np.log10(positive.min())) - PC_DECADES, PC_DECADES
    theta0 = _start(work, weights, layout, np.linspace(c_lo + 1, c_hi - 1, 15))
    y = np.concatenate([w.loss for w in work])
    s = np.concatenate(weights)
    index = np.concatenate([np.full(w.loss.size, j) for j, w in enumerate(work)])
    u = np.concatenate([w.linear for w in work])

    def model(_, *theta):
        a, c, b, bt = layout.unpack(np.asarray(theta))
        return a[index] * (1.0 + u / 10.0 ** c[index]) ** -bt + b[index]

    lo = [0.0] * layout.n + [c_lo] * layout.n + [-np.inf] * (layout.n * background)
    hi = [np.inf] * layout.n + [c_hi] * layout.n + [np.inf] * (layout.n * background)
    if beta is None:
        lo.append(BETA_BOUNDS[0])
        hi.append(BETA_BOUNDS[1])
    theta0 = np.clip(theta0, np.array(lo) + 1e-9, np.array(hi) - 1e-9)
    # the relative error model's weights are the fitted loss, found by iterated reweighting
    # (the measured loss favoured the points that scattered low and biased the amplitude, by
    # -1.4 % at 10 % scatter; a break test of the error bars, session 49, as laws.fit.fit_model)
    reweight = not all(known) and error_model == "relative"
    for _ in range(REWEIGHTING_ROUNDS if reweight else 1):
        theta = _optimum(layout, model, u, y, s, theta0, (lo, hi), index, all(known))
        if not reweight:
            break
        fitted = floored_per_curve(np.abs(model(None, *theta)), index, len(work))
        if fitted is None:
            break
        done = bool(np.max(np.abs(fitted / s - 1.0)) < 1e-6)
        s, theta0 = fitted, np.clip(theta, np.array(lo) + 1e-12, np.array(hi) - 1e-12)
        if done:
            break
    chi2 = float(np.sum(((model(None, *theta) - y) / s) ** 2)) / error_unit / error_unit
    dof = n - layout.k
    # the covariance from the SVD of the column-normalised Jacobian (laws.fit.covariance):
    # curve_fit's pcov drops small singular values, the errors of undetermined parameters with
    # them (session 26); without given errors it is scaled by chi2/dof, as curve_fit does
    # (the Jacobian analytic, :func:`_jacobian`: approx_fprime's step sqrt(eps) max(|p|, 1e-8)
    # lost a background fitted at 0, whose errors then came out 0.2-0.3 of the right ones;
    # session 27)
    # (in working units, where the weights have median 1 with given errors: the errors are
    # error_unit times its standard errors, scaled to the data's units by :func:`_result`)
    cov = covariance(_jacobian(layout, theta, u, index) / s[:, None])
    if not all(known):
        cov = cov * (chi2 / dof if dof > 0 else math.inf)
    return _result(layout, theta, cov, chi2, dof, n, all(known), model_name, scale, labels,
                   qmax, c_ref, (lo, hi),
                   stats.chi2.sf(chi2, dof) if all(known) else math.nan, error_unit)


def _optimum(layout, model, u, y, s, theta0, bounds, index, known: bool) -> np.ndarray:
    """The weighted least-squares optimum from ``theta0``: curve_fit's dense trust-region steps
    up to ``DENSE_PARAMETERS`` parameters, least_squares with a sparse Jacobian and LSMR steps
    beyond (module notes). Raises RuntimeError when the optimiser does not converge."""
    from scipy import optimize

    if layout.k <= DENSE_PARAMETERS:
        theta, _ = optimize.curve_fit(
            model, u, y, p0=theta0, sigma=s, absolute_sigma=known, bounds=bounds,
            method="trf", jac=lambda _, *th: _jacobian(layout, np.asarray(th), u, index))
        return theta
    result = optimize.least_squares(
        lambda th: (model(None, *th) - y) / s, theta0, bounds=bounds, method="trf",
        jac=lambda th: _jacobian(layout, th, u, index, sparse_weights=s),
        tr_solver="lsmr", ftol=SPARSE_TOLERANCE, xtol=SPARSE_TOLERANCE, gtol=SPARSE_TOLERANCE)
    if not result.success:
        raise RuntimeError(f"Optimal parameters not found: {result.message}")
    return result.x


def _jacobian(layout, theta: np.ndarray, u: np.ndarray, index: np.ndarray,
              sparse_weights: np.ndarray | None = None):
    """d model / d theta of a(j) (1 + u / 10^c(j))^-beta + b(j) at every point, exact to
    rounding (analytic; columns in the order of ``theta``: amplitudes, log10 Pc, backgrounds,
    beta): d/da = f^-beta, d/dc = a beta ln(10) r f^(-beta-1), d/db = 1,
    d/dbeta = -a ln(f) f^-beta, with r = u / 10^c and f = 1 + r. A dense array, shape
    (n_points, k); with ``sparse_weights`` (shape (n_points,)) the rows divided by them, as a
    scipy.sparse CSR array."""
    a, c, _, bt = layout.unpack(np.asarray(theta))
    m, n = layout.n, u.size
    r = u * 10.0 ** -c[index]
    power = (1.0 + r) ** -bt
    columns = [(index, power), (m + index, a[index] * bt * math.log(10.0) * r * power / (1.0 + r))]
    if layout.background:
        columns.append((2 * m + index, np.ones(n)))
    if layout.beta is None:
        columns.append((np.full(n, layout.k - 1), -a[index] * np.log1p(r) * power))
    rows = np.arange(n)
    if sparse_weights is not None:
        from scipy.sparse import coo_array

        values = np.concatenate([c[1] / sparse_weights for c in columns])
        where = (np.tile(rows, len(columns)), np.concatenate([c[0] for c in columns]))
        return coo_array((values, where), shape=(n, layout.k)).tocsr()
    jac = np.zeros((n, layout.k))
    for column, value in columns:
        jac[rows, column] = value
    return jac


def _result(layout, theta, cov, chi2, dof, n, known, model_name, scale, labels, qmax, c_ref,
            bounds, p_value, error_unit) -> SaturationFit:
    """Working parameters -> the reported ones (loss units, Pc on the input scale).

    The loss is in units of ``qmax`` (the largest loss), the linear power in units of 10^c_ref,
    the weights in units of ``error_unit`` (the median given error in units of qmax, else 1):
    the covariance is taken to the reported units by scaling the standard errors
    (:func:`manybody.laws.covariance.rescale`); scaled as variances, var * qmax^2, they over- or
    underflowed for a loss of 1e200 or 1e-200 (errors inf or 0; session 28).
    """
    m = layout.n

    def named(stem, j):
        return stem if m == 1 else f"{stem}[{labels[j]}]"

    names, values, derivs = [], [], []
    loss_unit = qmax * error_unit if known else qmax
    theta_unit = error_unit if known else 1.0
    for j in range(m):
        names.append(named("amplitude", j))
        values.append(theta[j] * qmax)
        derivs.append(loss_unit)
    for j in range(m):
        pc, d = _from_log_pc(theta[m + j] + c_ref, scale)
        names.append(named("critical_power", j))
        values.append(pc)
        derivs.append(d * theta_unit)
    if layout.background:
        for j in range(m):
            names.append(named("background", j))
            values.append(theta[2 * m + j] * qmax)
            derivs.append(loss_unit)
    if layout.beta is None:
        names.append("beta")
        values.append(theta[-1])
        derivs.append(theta_unit)
    working = np.asarray(cov)
    cov, errors = rescale(working, derivs)
    lo, hi = bounds
    at_bound = tuple(nm for nm, t, a, b in zip(names, theta, lo, hi, strict=True)
                     if min(t - a, b - t) <= (BOUND_TOLERANCE * (b - a) if math.isfinite(b - a)
                                              else 1e-6 * max(1.0, abs(t))))
    parameters = dict(zip(names, map(float, values), strict=True))
    errs = dict(zip(names, map(float, errors), strict=True))
    if layout.beta is not None:
        parameters["beta"], errs["beta"] = layout.beta, 0.0
    c_work = tuple(float(c + c_ref) for c in theta[m:2 * m])
    return SaturationFit(parameters, errs, chi2, dof, n, float(p_value), not known, model_name,
                         layout.beta is not None, scale, tuple(labels), tuple(names), cov,
                         at_bound, correlation(working), c_work)


def fit_saturation(power, loss, sigma=None, *, beta: float | None = None, background: bool = True,
                   scale: str = "linear", error_model: str = "relative") -> SaturationFit:
    """Fit Q^-1(P) = Q^-1_0 (1 + P/Pc)^-beta + Q^-1_bg to one curve.

    Parameters
    ----------
    power : array_like
        Drive power on the ``scale`` axis, shape (n,): linear (>= 0), dB (dBm) or amplitude.
    loss : array_like
        Q^-1 (any units, e.g. pi*C0 for simulated absorption), > 0, shape (n,).
    sigma : float or array_like, optional
        Errors of ``loss`` (one number: the same error at every power); None: a common scatter
        estimated from the residuals.
    beta : float, optional
        Fixed exponent (0.5: independent TLS); None fits it.
    background, scale, error_model
        As in :func:`manybody.laws.saturation.fit_saturation_joint`.

    Returns
    -------
    SaturationFit

    Raises
    ------
    TypeError
        ``power``, ``loss`` or ``sigma`` not an array of real numbers, or another argument of
        the wrong type (as :func:`manybody.laws.saturation.fit_saturation_joint`).
    ValueError
        As :func:`manybody.laws.saturation.fit_saturation_joint`.

    Examples
    --------
    >>> p = np.geomspace(0.01, 100.0, 12)
    >>> fit = fit_saturation(p, 2e-6 / np.sqrt(1 + p / 0.5) + 1e-7)
    >>> round(fit.parameters["beta"], 3), round(fit.parameters["critical_power"], 3)
    (0.5, 0.5)
    """
    v.check_aligned(power=power, loss=loss, sigma=sigma)
    curve = (power, loss) if sigma is None else (power, loss, sigma)
    return fit_saturation_joint([curve], beta=beta, background=background, scale=scale,
                                error_model=error_model)


__all__ = ["SCALES", "REFERENCE_BETA", "BETA_BOUNDS", "PC_DECADES", "REJECTION_LEVEL",
           "saturation_factor", "SaturationFit", "fit_saturation", "fit_saturation_joint"]
