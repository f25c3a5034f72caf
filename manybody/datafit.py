"""Fit measured (or simulated) loss Q^-1(T) at one frequency: tanh(x/2) against 1 - e^-x.

With x = w / T (w = h f / k_B in kelvin), the loss of curve j (one drive power, one file) is

    Q^-1_j(T) = F_j * s_j * L(x) + B_j + Q_qp(T)

* L(x) is the temperature law (the shapes of :mod:`manybody.analysis`):
  ``"tls"`` tanh(x/2); ``"generic"`` 1 - e^-x; ``"family"`` (1 - e^-x) / (1 + a e^-x) with the
  TLS index a (a = 1 is tanh(x/2), a = 0 is 1 - e^-x). Every law tends to 1 for T -> 0, so F is
  the low-temperature (unsaturated at that power) resonant loss.
* s_j = 1 / sqrt(1 + P_j / P_c) is the standard TLS power-saturation factor, used only when
  ``saturation=True``: then one amplitude F and one critical power P_c (in dB of the power unit,
  e.g. dBm) are shared by all curves. P_c is taken temperature independent (the full theory has
  P_c growing with T through T1 T2; this is a documented simplification). Without saturation each
  curve has its own amplitude F_j, which absorbs s_j at fixed power.
* B_j is a constant background per curve (``background=True``), e.g. radiation or
  vortex/surface loss that does not depend on T below ~1 K.
* Q_qp is an optional quasiparticle loss for superconducting resonators, shared by all curves
  (it does not depend on the drive power at these powers), written as its value ``qp_loss`` at the
  reference temperature T_ref (the highest temperature fitted) to keep the parameters decoupled:
  ``"exp"``: Q_qp = qp_loss * exp(-Delta0 (1/T - 1/T_ref));
  ``"mattis-bardeen"``: the same times sinh(xi) K0(xi) / [its value at T_ref], xi = w / 2T, the
  low-temperature (T, w << Delta0) Mattis-Bardeen form of sigma_1 / sigma_2.
  The gap Delta0 (K) is free by default or fixed, e.g. ``gap=gap_from_tc(9.2)`` = 1.764 Tc for Nb.

Parameters are found by weighted least squares: the linear ones (F, B, qp_loss) are solved exactly
for each value of the nonlinear ones (a, Delta0, P_c), which are first located on a grid and then
refined jointly with scipy.optimize.least_squares. Uncertainties are from the covariance
(J^T J)^-1 of the weighted residuals at the optimum:

* with measurement errors ``sigma`` they are taken as absolute (chi2 is meaningful, p-value given);
* without (the usual case for published Q(T) tables), the scatter is estimated from the residuals:
  ``error_model="relative"`` (default) assumes a common relative error sigma_i = s |Q^-1_i|, as for
  quality factors measured to a few per cent; ``"absolute"`` an absolute error. By default
  (``scatter="per-curve"``) each curve gets its own scatter s_j, found by iterated reweighting
  (s_j^2 = RSS_j / (n_j - k n_j / n)), so a noisy low-power curve does not dominate a joint fit;
  ``scatter="common"`` uses one s for all and scales the covariance by chi2/dof. Either way
  ``errors_scaled=True`` and AIC/BIC use the profile likelihood sum_j n_j ln(RSS_j / n_j) + 2k
  (resp. k ln n), the scatters counted among the k parameters.

Model comparison (:func:`manybody.discrimination.compare_laws`) fits the three laws to the same
points and ranks the two named laws by AIC; the family's index a with its uncertainty gives the
verdict (:func:`manybody.analysis.classify_index`). Each fit lists why it cannot decide
(``indeterminate``: too few distinct temperatures, no temperature dependence against the errors,
no convergence) or is unphysical (``unphysical``: negative amplitude, a parameter on its bound);
then no law is preferred. The inputs (frequencies with units, :class:`manybody.losscurves.LossCurve`,
tables split into curves, ``gap_from_tc``) are in :mod:`manybody.losscurves`.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from manybody import _validate as v
from manybody.analysis import AMPLITUDE_RESOLUTION, Z_BAND, LawFit, law_family, law_generic, law_tls
from manybody.losscurves import LossCurve, parse_frequency
from manybody.units import KELVIN_PER_GHZ

LAWS = ("tls", "generic", "family")
QP_SHAPES = ("exp", "mattis-bardeen")
ERROR_MODELS = ("relative", "absolute")
SCATTER_MODELS = ("per-curve", "common")
#: Bounds of the nonlinear parameters.
INDEX_BOUNDS = (-0.99, 100.0)
GAP_BOUNDS = (0.05, 500.0)


# --------------------------------------------------------------------------- the model


def _law(law: str, x: np.ndarray, index: float) -> np.ndarray:
    if law == "tls":
        return law_tls(x)
    if law == "generic":
        return law_generic(x)
    return law_family(x, index)


def _qp_shape(shape: str, t: np.ndarray, t_ref: float, gap: float, w: float) -> np.ndarray:
    """Quasiparticle loss relative to its value at t_ref."""
    out = np.exp(-gap * (1.0 / t - 1.0 / t_ref))
    if shape == "mattis-bardeen":
        from scipy.special import k0e

        def h(tt):
            xi = w / (2.0 * np.asarray(tt, dtype=np.float64))
            return 0.5 * -np.expm1(-2.0 * xi) * k0e(xi)  # sinh(xi) K0(xi), overflow-free

        out = out * h(t) / h(t_ref)
    return out


@dataclass(frozen=True)
class _Model:
    """Layout of parameters and design columns of one fit."""

    law: str
    w: float
    n_curves: int
    powers: tuple
    background: bool
    quasiparticle: str | None
    gap: float | None  # fixed gap, or None = free
    saturation: bool
    t_ref: float
    labels: tuple

    @property
    def linear_names(self) -> list[str]:
        def each(stem):
            return [stem] if self.n_curves == 1 else [f"{stem}[{lb}]" for lb in self.labels]
        names = ["amplitude"] if self.saturation else each("amplitude")
        if self.background:
            names += each("background")
        if self.quasiparticle:
            names.append("qp_loss")
        return names

    @property
    def nonlinear_names(self) -> list[str]:
        names = ["index"] if self.law == "family" else []
        if self.quasiparticle and self.gap is None:
            names.append("gap")
        if self.saturation:
            names.append("critical_power")
        return names

    def unpack(self, theta) -> tuple[float, float | None, float | None]:
        d = dict(zip(self.nonlinear_names, theta, strict=True))
        return d.get("index", 0.0), d.get("gap", self.gap), d.get("critical_power")

    def columns(self, t: np.ndarray, j: int, theta) -> np.ndarray:
        """Design matrix (len(t), n_linear) of curve j at temperatures t (K)."""
        index, gap, pc = self.unpack(theta)
        shape = _law(self.law, self.w / t, index)
        cols = []
        if self.saturation:
            cols.append(shape / np.sqrt(1.0 + 10.0 ** ((self.powers[j] - pc) / 10.0)))
        else:
            cols += [shape if k == j else np.zeros_like(t) for k in range(self.n_curves)]
        if self.background:
            cols += [np.ones_like(t) if k == j else np.zeros_like(t) for k in range(self.n_curves)]
        if self.quasiparticle:
            cols.append(_qp_shape(self.quasiparticle, t, self.t_ref, gap, self.w))
        return np.stack(cols, axis=1)


@dataclass(frozen=True)
class LossFit:
    """Result of fitting one temperature law to one or several loss curves.

    Duck-compatible with :class:`manybody.analysis.LawFit` (``name``, ``parameters``, ``errors``,
    ``chi2``, ``dof``, ``aic``, ``bic``, ``p_value``, ``reduced_chi2``); see :meth:`as_law_fit`.

    Attributes
    ----------
    law : str
        "tls", "generic" or "family".
    parameters, errors : dict of str to float
        Best-fit values and one-standard-deviation errors: amplitude(s) F and background(s) B
        (units of the loss), index a, qp_loss (loss at ``options["qp_reference_temperature"]``),
        gap (K), critical_power (dB of the power unit). Joint fits name per-curve parameters
        ``amplitude[label]``.
    covariance : numpy.ndarray
        Covariance of the parameters in the order of ``parameter_names``.
    chi2 : float
        Sum of squared weighted residuals (with estimated scatter: in units of the weights).
    dof, n_points : int
        Degrees of freedom and number of points fitted.
    aic, bic : float
        Information criteria (lower is better; compare only fits of the same points).
    p_value : float
        chi2 tail probability with known sigma; NaN when the scatter was estimated.
    errors_scaled : bool
        True when the errors rest on a scatter estimated from the residuals (no sigma given).
    error_model : str
        "sigma" (given), "relative" or "absolute".
    scatter : str
        "common" (one estimated scatter) or "per-curve" (one per curve, iterated reweighting).
    rms_scatter : float
        sqrt(RSS/dof) in units of the error model (relative: fractional rms deviation; with
        sigma: sqrt(chi2/dof)).
    curve_scatter : tuple of float
        The same per curve (dof shared out in proportion to the points).
    at_bound : tuple of str
        Nonlinear parameters that ended on a bound (their errors are not reliable).
    indeterminate : tuple of str
        Reasons why these data cannot determine the law (empty when they can): fewer distinct
        (curve, temperature) points than parameters, a curve with fewer distinct temperatures
        than its own parameters, no amplitude above Z_BAND (2) errors (no temperature dependence
        detectable against the errors), a temperature-dependent part below numerical resolution
        (AMPLITUDE_RESOLUTION of the loss), an optimiser that did not converge.
    unphysical : tuple of str
        Reasons why the fit is not physical (empty when it is): an amplitude below zero by more
        than 2 errors, a nonlinear parameter on its bound.
    """

    law: str
    parameters: dict
    errors: dict
    parameter_names: tuple
    covariance: np.ndarray = field(repr=False)
    chi2: float
    dof: int
    n_points: int
    aic: float
    bic: float
    p_value: float
    errors_scaled: bool
    error_model: str
    scatter: str
    rms_scatter: float
    curve_scatter: tuple
    frequency: float
    options: dict
    curves: tuple = field(repr=False)
    at_bound: tuple = ()
    indeterminate: tuple = ()
    unphysical: tuple = ()
    _model: _Model = field(default=None, repr=False)
    _theta: tuple = field(default=(), repr=False)
    _linear: np.ndarray = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.law

    @property
    def reduced_chi2(self) -> float:
        return self.chi2 / self.dof if self.dof > 0 else math.nan

    def predict(self, temperature, curve: int = 0, component: str = "total") -> np.ndarray:
        """Model loss of curve ``curve`` at ``temperature`` (K).

        ``component``: "total", "law" (F s L(x)), "background" or "quasiparticle".
        """
        t = v.positive_array("temperature", temperature)
        v.choice("component", component, ("total", "law", "background", "quasiparticle"))
        d = self._model.columns(t, curve, self._theta)
        names = self._model.linear_names
        keep = np.array([component == "total"
                         or (component == "law" and n.startswith("amplitude"))
                         or (component == "background" and n.startswith("background"))
                         or (component == "quasiparticle" and n == "qp_loss") for n in names])
        return d[:, keep] @ self._linear[keep] if keep.any() else np.zeros_like(t)

    def residuals(self, curve: int = 0) -> np.ndarray:
        """Data minus model for curve ``curve`` at its fitted temperatures."""
        c = self.curves[curve]
        return c.loss - self.predict(c.temperature, curve)

    def as_law_fit(self) -> LawFit:
        """The same numbers as an :class:`manybody.analysis.LawFit`."""
        return LawFit(self.law, dict(self.parameters), dict(self.errors), self.chi2, self.dof,
                      self.aic, self.bic, self.p_value)

    def to_dict(self) -> dict:
        """JSON-ready summary (parameters, errors, covariance, criteria, options)."""
        return {
            "law": self.law, "parameters": self.parameters, "errors": self.errors,
            "parameter_names": list(self.parameter_names),
            "covariance": self.covariance.tolist(), "chi2": self.chi2, "dof": self.dof,
            "n_points": self.n_points, "reduced_chi2": self.reduced_chi2, "aic": self.aic,
            "bic": self.bic, "p_value": None if math.isnan(self.p_value) else self.p_value,
            "errors_scaled": self.errors_scaled, "error_model": self.error_model,
            "scatter": self.scatter, "rms_scatter": self.rms_scatter,
            "curve_scatter": list(self.curve_scatter),
            "at_bound": list(self.at_bound), "indeterminate": list(self.indeterminate),
            "unphysical": list(self.unphysical), "options": self.options,
        }


def _grid(model: _Model, curves: Sequence[LossCurve]) -> list[tuple]:
    axes = []
    for name in model.nonlinear_names:
        if name == "index":
            axes.append([-0.9, -0.6, -0.3, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 6.0, 15.0])
        elif name == "gap":
            axes.append(list(np.geomspace(0.5, 80.0, 14)))
        else:
            p = [c.power for c in curves]
            axes.append(list(np.linspace(min(p) - 40.0, max(p) + 40.0, 13)))
    return list(itertools.product(*axes))


def _bounds(model: _Model, curves) -> tuple[list, list]:
    lo, hi = [], []
    for name in model.nonlinear_names:
        if name == "index":
            b = INDEX_BOUNDS
        elif name == "gap":
            b = GAP_BOUNDS
        else:
            p = [c.power for c in curves]
            b = (min(p) - 100.0, max(p) + 100.0)
        lo.append(b[0])
        hi.append(b[1])
    return lo, hi


def fit_joint(
    curves: Sequence[LossCurve],
    frequency: float | str,
    *,
    law: str = "family",
    background: bool = True,
    quasiparticle: str | None = None,
    gap: float | None = None,
    saturation: bool = False,
    tmin: float | None = None,
    tmax: float | None = None,
    error_model: str = "relative",
    scatter: str = "per-curve",
) -> LossFit:
    """Fit one temperature law jointly to several loss curves (e.g. drive powers, files).

    The temperature law (index a, quasiparticle term, and with ``saturation`` the amplitude and
    critical power) is shared; each curve keeps its own amplitude (unless ``saturation``) and its
    own background.

    Parameters
    ----------
    curves : sequence of LossCurve
        The data; with ``saturation`` each needs a ``power``.
    frequency : float or str
        w = h f / k_B in K, or a string with a unit ("5.61989GHz"); see :func:`parse_frequency`.
    law : {"tls", "generic", "family"}
        Temperature law L(x).
    background : bool
        Constant background B_j per curve.
    quasiparticle : {None, "exp", "mattis-bardeen"}
        Add a shared quasiparticle loss term of this shape.
    gap : float, optional
        Fixed gap Delta0 (K) of the quasiparticle term; None fits it.
    saturation : bool
        Shared amplitude with the power-saturation factor 1/sqrt(1 + P_j/P_c).
    tmin, tmax : float, optional
        Temperature window (K), inclusive.
    error_model : {"relative", "absolute"}
        Error model when the curves carry no sigma (see module notes).
    scatter : {"per-curve", "common"}
        Without sigma: estimate one scatter per curve (default; curves at low power are noisier
        and are then weighted less) or one for all curves.

    Returns
    -------
    LossFit

    Raises
    ------
    ValueError
        Bad options, an empty window, fewer points than parameters, mixed known/unknown sigma,
        or saturation without powers. (Non-physical values are refused by LossCurve.) A fit that
        runs but cannot decide or is unphysical is not an error: see ``LossFit.indeterminate``
        and ``LossFit.unphysical``.
    """
    w = parse_frequency(frequency)
    v.choice("law", law, LAWS)
    v.choice("error_model", error_model, ERROR_MODELS)
    v.choice("scatter", scatter, SCATTER_MODELS)
    if quasiparticle is not None:
        v.choice("quasiparticle", quasiparticle, QP_SHAPES)
    if gap is not None:
        gap = v.positive("gap (K)", gap)
    for name, value in (("tmin", tmin), ("tmax", tmax)):
        if value is not None:
            v.positive(f"{name} (K)", value)
    if tmin is not None and tmax is not None and tmin >= tmax:
        raise ValueError(f"tmin must be below tmax, got tmin={tmin} K, tmax={tmax} K")
    curves = list(curves)
    if not curves or not all(isinstance(c, LossCurve) for c in curves):
        raise TypeError("curves must be a non-empty sequence of LossCurve")
    for c in curves:
        t = c.temperature
        if not np.any((t >= (tmin or 0.0)) & (t <= (tmax or np.inf))):
            raise ValueError(f"no points of {c.label!r} in the window [{tmin}, {tmax}] K "
                             f"(data span {t.min():g}-{t.max():g} K)")
    windowed = [c.window(tmin, tmax) for c in curves]
    has_sigma = {c.sigma is not None for c in windowed}
    if len(has_sigma) > 1:
        raise ValueError("either all curves or none must carry sigma")
    known = has_sigma == {True}
    if saturation and any(c.power is None for c in windowed):
        raise ValueError("saturation=True needs a drive power for every curve (power column or "
                         "LossCurve.power)")
    labels = [c.label for c in windowed]
    if len(set(labels)) < len(labels):
        labels = [f"{lb}#{i}" for i, lb in enumerate(labels)]
    t_ref = float(max(c.temperature.max() for c in windowed))
    model = _Model(law, w, len(windowed), tuple(c.power for c in windowed), background,
                   quasiparticle, gap, saturation, t_ref, tuple(labels))

    y = np.concatenate([c.loss for c in windowed])
    if known:
        base = np.concatenate([c.sigma for c in windowed])
        emodel = "sigma"
    elif error_model == "relative":
        base = np.abs(y)
        base = np.maximum(base, 1e-3 * base.max() if base.max() > 0 else 1.0)
        emodel = "relative"
    else:
        base = np.ones_like(y)
        emodel = "absolute"
    scale = float(np.median(np.abs(y))) or 1.0  # work in units of the typical loss
    ys, bs = y / scale, base / scale
    groups = np.concatenate([np.full(c.temperature.size, j) for j, c in enumerate(windowed)])
    n_per = np.bincount(groups, minlength=len(windowed)).astype(np.float64)
    per_curve = not known and scatter == "per-curve" and len(windowed) > 1
    n_lin, names_nl = len(model.linear_names), model.nonlinear_names
    k = n_lin + len(names_nl)
    n = y.size
    if n <= k:
        raise ValueError(f"need more points than parameters: {n} point(s) in the window for "
                         f"{k} parameters ({', '.join(model.linear_names + names_nl)})")

    def raw_design(theta):
        return np.concatenate([model.columns(c.temperature, j, theta)
                               for j, c in enumerate(windowed)])

    def solve(ss, start):
        """Weighted least squares with weights 1/ss; start=None: locate on a grid first."""
        def design(theta):
            return raw_design(theta) / ss[:, None]

        def profile(theta):
            d = design(theta)
            lin, *_ = np.linalg.lstsq(d, ys / ss, rcond=None)
            r = ys / ss - d @ lin
            return float(r @ r), lin

        if not names_nl:
            return profile(())[1], -design(()), ()
        from scipy import optimize

        if start is None:
            with np.errstate(all="ignore"):
                scored = [(profile(th)[0], th) for th in _grid(model, windowed)]
            scored = [sc for sc in scored if math.isfinite(sc[0])]
            theta0 = min(scored, key=lambda sc: sc[0])[1]
            start = np.concatenate([profile(theta0)[1], theta0])
        lo, hi = _bounds(model, windowed)

        def resid(p):
            return ys / ss - design(p[n_lin:]) @ p[:n_lin]

        sol = optimize.least_squares(
            resid, start, bounds=([-np.inf] * n_lin + lo, [np.inf] * n_lin + hi),
            x_scale="jac", method="trf", xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=5000)
        bound = tuple(nm for nm, val, a, b in zip(names_nl, sol.x[n_lin:], lo, hi, strict=True)
                      if min(val - a, b - val) <= 1e-6 * max(1.0, abs(val)))
        converged[0] = bool(sol.status > 0)
        return sol.x, sol.jac, bound

    def base_rss(p):
        r = (ys - raw_design(tuple(p[n_lin:])) @ p[:n_lin]) / bs
        return np.bincount(groups, weights=r * r, minlength=len(windowed))

    # One scatter for all curves, or (per-curve) one per curve found by iterated reweighting:
    # s_j^2 = RSS_j / (n_j - k n_j / n), the parameters shared out in proportion to the points.
    curve_scale = np.ones(len(windowed))
    p = None
    converged = [True]
    for _ in range(30 if per_curve else 1):
        p, jac, at_bound = solve(bs * curve_scale[groups], p)
        if not per_curve:
            break
        new = np.sqrt(base_rss(p) / (n_per * (1.0 - k / n)))
        new = np.maximum(new, 1e-9 * max(new.max(), 1e-300))
        done = np.max(np.abs(new / curve_scale - 1.0)) < 1e-4
        curve_scale = new
        if done:
            break
    if per_curve:
        p, jac, at_bound = solve(bs * curve_scale[groups], p)
    theta = tuple(float(x) for x in p[n_lin:])
    rss_j = base_rss(p)
    ss = bs * curve_scale[groups]
    r = (ys - raw_design(theta) @ p[:n_lin]) / ss
    chi2 = float(r @ r)
    dof = n - k
    cov = np.linalg.pinv(jac.T @ jac)
    if not known and not per_curve:
        cov = cov * (chi2 / dof)
    # back to the units of the loss for the linear parameters
    units = np.concatenate([np.full(n_lin, scale), np.ones(len(names_nl))])
    cov = cov * np.outer(units, units)
    values = np.concatenate([p[:n_lin] * scale, p[n_lin:]])
    if known:
        from scipy import stats

        aic, bic = chi2 + 2 * k, chi2 + k * math.log(n)
        p_value = float(stats.chi2.sf(chi2, dof))
    else:  # profile likelihood over the unknown scatter(s), which count as parameters
        if per_curve:
            m2lnl = float(np.sum(n_per * np.log(np.maximum(rss_j, 1e-300) / n_per)))
            k_all = k + len(windowed)
        else:
            m2lnl = n * math.log(max(float(rss_j.sum()), 1e-300) / n)
            k_all = k + 1
        aic, bic = m2lnl + 2 * k_all, m2lnl + k_all * math.log(n)
        p_value = math.nan
    scatter_all = math.sqrt(float(rss_j.sum()) / dof)
    scatter_curves = tuple(float(x) for x in np.sqrt(rss_j / (n_per * (1.0 - k / n))))
    names = model.linear_names + names_nl
    errors = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    if at_bound:
        warnings.warn(f"{law} fit: {', '.join(at_bound)} ended on a bound; its error is not "
                      "reliable", RuntimeWarning, stacklevel=2)
    indeterminate, unphysical = _problems(model, windowed, names, values, errors, at_bound,
                                          converged[0], k)
    options = {"frequency_kelvin": w, "frequency_ghz": w / KELVIN_PER_GHZ,
               "background": background, "quasiparticle": quasiparticle,
               "gap_fixed": gap, "saturation": saturation, "tmin": tmin, "tmax": tmax,
               "qp_reference_temperature": t_ref if quasiparticle else None,
               "labels": list(labels), "powers": [c.power for c in windowed],
               "power_unit": windowed[0].power_unit,
               "n_points_x_above_1": int(sum(np.sum(w / c.temperature > 1) for c in windowed)),
               "x_range": [float(min(w / c.temperature.max() for c in windowed)),
                           float(max(w / c.temperature.min() for c in windowed))]}
    return LossFit(
        law=law, parameters=dict(zip(names, map(float, values), strict=True)),
        errors=dict(zip(names, map(float, errors), strict=True)), parameter_names=tuple(names),
        covariance=cov, chi2=chi2, dof=dof, n_points=n, aic=float(aic), bic=float(bic),
        p_value=p_value, errors_scaled=not known, error_model=emodel,
        scatter="per-curve" if per_curve else "common", rms_scatter=scatter_all,
        curve_scatter=scatter_curves, frequency=w,
        options=options, curves=tuple(windowed), at_bound=at_bound,
        indeterminate=indeterminate, unphysical=unphysical, _model=model,
        _theta=theta, _linear=p[:n_lin] * scale)


def _problems(model: _Model, curves: list[LossCurve], names: list[str], values: np.ndarray,
              errors: np.ndarray, at_bound: tuple, converged: bool,
              k: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Why a fit cannot decide (indeterminate) or is not physical; see :class:`LossFit`."""
    indeterminate, unphysical = [], []
    distinct = [np.unique(c.temperature).size for c in curves]
    if sum(distinct) <= k:
        where = (f"one temperature ({curves[0].temperature[0]:g} K)" if sum(distinct) == 1
                 else f"{sum(distinct)} distinct (curve, temperature) points")
        indeterminate.append(f"too few distinct temperatures: {where} for {k} parameters of "
                             f"the {model.law} fit")
    else:
        own = int(not model.saturation) + int(model.background)
        for c, d in zip(curves, distinct, strict=True):
            if d < own:
                indeterminate.append(f"curve {c.label!r} has {d} distinct temperature(s) for its "
                                     f"{own} own parameters (amplitude, background)")
    if indeterminate:  # the amplitudes of a degenerate design mean nothing
        return tuple(indeterminate), ()
    amps = [(n, float(val), float(err)) for n, val, err in zip(names, values, errors, strict=True)
            if n.startswith("amplitude")]
    ymax = max(float(np.max(np.abs(c.loss))) for c in curves)
    index = dict(zip(names, values, strict=True)).get("index", 0.0)
    spans = []
    for c in curves:
        shape = _law(model.law, model.w / c.temperature, index)
        spans.append(float(np.ptp(shape)) if shape.size else 0.0)
    span = max(spans) if spans else 0.0
    flat = all(float(np.ptp(c.loss)) <= AMPLITUDE_RESOLUTION * ymax for c in curves)
    if flat:
        indeterminate.append("no temperature dependence: every curve is constant to numerical "
                             "resolution")
    elif all(abs(val) * max(span, 1e-300) <= AMPLITUDE_RESOLUTION * ymax
             or not math.isfinite(val) for _, val, _ in amps):
        indeterminate.append(f"no temperature dependence: the temperature-dependent part is below "
                             f"numerical resolution ({AMPLITUDE_RESOLUTION:g} of the loss)")
    else:
        negative = [f"{n} = {val:.3g} +- {err:.2g}" for n, val, err in amps
                    if val < -Z_BAND * err]
        if negative:
            unphysical.append("negative amplitude (loss rising with temperature): "
                              + ", ".join(negative))
        elif not any(val > Z_BAND * err for _, val, err in amps):
            indeterminate.append(f"no temperature dependence detectable against the errors: "
                                 f"every amplitude is within {Z_BAND:g} errors of 0")
    for name in at_bound:
        val = float(values[names.index(name)])
        unphysical.append(f"{name} = {val:.4g} ran to its bound")
    if not converged:
        indeterminate.append("the optimiser did not converge")
    return tuple(indeterminate), tuple(unphysical)


def fit_loss(temperature, loss, frequency: float | str, *, sigma=None, power: float | None = None,
             label: str = "data", **options) -> LossFit:
    """Fit one law to one loss curve Q^-1(T) (measured or simulated).

    Parameters
    ----------
    temperature : array_like
        T (K), 0 < T < 1000 K.
    loss : array_like
        Q^-1 (any units, e.g. pi*C0 for simulated absorption), > 0, same shape.
    frequency : float or str
        w (K) or a string with a unit ("5.62GHz").
    sigma : array_like, optional
        Measurement errors of ``loss``; None: scatter estimated from the residuals.
    power : float, optional
        Drive power (dBm) for the saturation model.
    label : str
        Name of the curve.
    **options
        Passed to :func:`fit_joint` (law, background, quasiparticle, gap, saturation, tmin,
        tmax, error_model).

    Returns
    -------
    LossFit

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.05, 1.0, 30)
    >>> fit = fit_loss(t, 1e-6 * np.tanh(0.27 / (2 * t)) + 1e-7, 0.27, law="family")
    >>> round(fit.parameters["index"], 3)
    1.0
    """
    return fit_joint([LossCurve(temperature, loss, sigma, power, label)], frequency, **options)
