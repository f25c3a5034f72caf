"""The one fitting engine of the temperature laws: one or several loss curves, one result type.

:func:`fit_joint` fits one law jointly to several curves; :func:`fit_loss` is the joint fit with
one curve given as arrays (T, Q^-1, frequency); :func:`fit_law` the joint fit with one curve given
in x = w / T, as the study fits its simulated absorption. All return a :class:`LawFit`.

With x = w / T (w = h f / k_B in kelvin), the loss of curve j (one drive power, one file) is

    Q^-1_j(T) = F_j * s_j * L(x) + B_j + Q_qp(T)

* L(x) is the temperature law (:mod:`manybody.laws.shapes`):
  ``"tls"`` tanh(x/2); ``"generic"`` 1 - e^-x; ``"family"`` (1 - e^-x) / (1 + a e^-x) with the
  TLS index a (a = 1 is tanh(x/2), a = 0 is 1 - e^-x). Every law tends to 1 for T -> 0, so F is
  the low-temperature (unsaturated at that power) resonant loss.
* s_j = 1 / sqrt(1 + P_j / P_c(T)) is the standard TLS power-saturation factor (PHYSICS.md
  section 8), used only when ``saturation=True``: then one amplitude F and one critical power
  (in dB of the power unit, e.g. dBm) are shared by all curves. How P_c depends on temperature
  is ``critical_power_law``: ``"constant"`` (the default) takes one P_c at every temperature;
  ``"power"`` P_c(T) = P_c (T / T_ref)^mu with the exponent mu fitted
  (``critical_power_exponent``); ``"standard"`` P_c(T) = P_c [T coth(x/2)] / [T_ref coth(x_ref/2)],
  the standard model's P_c ~ 1/(T1 T2) with the one-phonon rate of a resonant TLS,
  1/T1 ~ coth(x/2), and a spectral-diffusion width 1/T2 ~ T. The reported ``critical_power``
  is P_c at T_ref, the highest temperature fitted. One P_c where it changes with T biases the
  index (exact standard-model loss over 20-600 mK at 5 GHz, four powers: a = 0.91 +- 0.02 with
  ``"constant"``, 1 with ``"standard"``; tests). Without saturation each curve has its own
  amplitude F_j, which absorbs s_j at fixed power.
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
refined with scipy.optimize.least_squares on the residuals so projected (variable projection,
Golub and Pereyra 1973; since session 58: refined jointly with the linear ones before, a
saturation fit crawled for 5000 evaluations along a valley where amplitude and background
cancelled).
Uncertainties are from the covariance (J^T J)^-1 of the weighted residuals at the optimum
(:func:`manybody.laws.covariance.covariance`),
with a Jacobian exact to rounding in every column: the design matrix for the linear parameters,
complex-step derivatives for the nonlinear ones (since session 27; finite differences lost the
index where dL/da ~ e^-x and parameters fitted at 0):

* with measurement errors ``sigma`` they are taken as absolute (chi2 is meaningful, p-value given);
* without (the usual case for published Q(T) tables), the scatter is estimated from the residuals:
  ``error_model="relative"`` (default) assumes a common relative error sigma_i = s |Q^-1_i|, as for
  quality factors measured to a few per cent; ``"absolute"`` an absolute error. By default
  (``scatter="per-curve"``) each curve gets its own scatter s_j, found by iterated reweighting
  (s_j^2 = RSS_j / (n_j - k n_j / n)), so a noisy low-power curve does not dominate a joint fit;
  ``scatter="common"`` uses one s for all and scales the covariance by chi2/dof. Either way
  ``errors_scaled=True`` and AIC/BIC use the profile likelihood sum_j n_j ln(RSS_j / n_j) + 2k
  (resp. k ln n), the scatters counted among the k parameters.

Model comparison (:func:`manybody.measured.comparison.compare_laws`) fits the three laws to the same
points and ranks the two named laws by AIC; the family's index a with its uncertainty gives the
verdict (:func:`manybody.laws.verdict.judge`). Each fit of curves lists why it cannot decide
(``indeterminate``: too few distinct temperatures, no temperature dependence against the errors,
no convergence) or is unphysical (``unphysical``: negative amplitude, a parameter on its bound);
then no law is preferred. The inputs (frequencies with units, :class:`manybody.laws.inputs.LossCurve`,
``gap_from_tc``) are in :mod:`manybody.laws.inputs`.

One engine, two starts. Layout (:class:`_Model`), design matrix, covariance, criteria and result
(:func:`law_fit_result`) are shared; only the way to the optimum differs: curves use the grid
start above (:func:`fit_model`, with the per-curve reweighting); :func:`fit_law` starts from
amplitude max|q|, a = 0.5 and refines with scipy's curve_fit at its default tolerances
(:func:`_fit_fixed_start`; the linear laws by exact weighted least squares), as the study's
analysis always has. Its errors are the given sigma, absolute; without sigma, equal weights and
one scatter estimated from the residuals (scipy's curve_fit with absolute_sigma=False: p-value
NaN, AIC/BIC from the profile likelihood; since session 28, before which the unit weights were
taken as absolute errors in the units of q).

Both work in units where the data and the errors are of order 1 (:class:`FitPoints`): the loss
in units of its typical size, measured from each curve's lowest value when the curve has a
background, the errors in units of their median; the results are scaled back by their standard
errors (:func:`manybody.laws.covariance.rescale`). The optimum does not depend on these units,
but the optimisers' steps and tolerances do: in the units given, curve_fit stopped at its start
for Q^-1 ~ 1e-9 with unit weights (session 27), least_squares at its grid start under a
background 1e7-1e9 times the temperature-dependent part or with the absolute error model at a
loss of 1e-9 (session 28), and variances scaled back as var * scale^2 made errors of 0 or inf
for a loss of 1e-200 or 1e200. A fit is now the same, to its tolerances, under any scaling of
the loss or of the errors and any added background (up to the digits a background costs the
data themselves: one 1e9 times the amplitude leaves it ~1e-7 of it). Since session 28 the grid
start's numbers are those of the former engine to its tolerances, not bit for bit (the fit-data
run of ``scripts/golden_set.py``: the index moved 1.2e-7 of itself, 4e-7 of its error; the
former engine itself moved 3.6e-7 when the loss was multiplied by 1.1); fit_law's are bit for bit
but for the rounding of its errors and chi2 (1e-16).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import optimize, stats
from scipy.special import k0e

from manybody.laws.covariance import correlation, covariance, rescale
from manybody.laws.inputs import (
    CRITICAL_POWER_LAWS,
    ERROR_MODELS,
    LAWS,
    MIN_POWER_SPAN,
    POWER_SPLIT_HINT,
    QP_SHAPES,
    REWEIGHTING_ROUNDS,
    SCATTER_MODELS,
    LossCurve,
    check_error_range,
    check_one_power_unit,
    floored_per_curve,
    loss_curve_list,
    parse_frequency,
    warn_quality_factor_as_loss,
    window_curves,
)
from manybody.laws.shapes import check_smearing, law_values
from manybody.laws.verdict import AMPLITUDE_RESOLUTION, P_NEITHER, Z_BAND
from manybody.laws.x_range import X_FLAT, check_x_range
from manybody.support import validate as v
from manybody.units import KELVIN_PER_GHZ

#: Bounds of the nonlinear parameters in fits of curves.
INDEX_BOUNDS = (-0.99, 100.0)
GAP_BOUNDS = (0.05, 500.0)
#: Bounds of the index a in :func:`fit_law` (a -> -1 is a constant, no temperature dependence).
FAMILY_INDEX_BOUNDS = (-0.999, 100.0)
#: Bounds and starting grid of the exponent mu of P_c(T) ~ T^mu (``critical_power_law="power"``).
EXPONENT_BOUNDS = (-4.0, 8.0)
EXPONENT_GRID = (-1.0, 0.0, 1.0, 2.0, 3.0)
#: Complex step of the Jacobian's nonlinear columns, relative to max(1, |parameter|): small
#: enough that Im f(p + ih) / h is f'(p) to rounding (the error is h^2 times the third
#: derivative over 6), large enough that h f' does not underflow for derivatives down to ~1e-280
#: of the model.
_COMPLEX_STEP = 1e-20


# --------------------------------------------------------------------------- the model


def _qp_shape(shape: str, t: np.ndarray, t_ref: float, gap: float, w: float) -> np.ndarray:
    """Quasiparticle loss relative to its value at t_ref."""
    out = np.exp(-gap * (1.0 / t - 1.0 / t_ref))
    if shape == "mattis-bardeen":
        def h(tt):
            xi = w / (2.0 * np.asarray(tt, dtype=np.float64))
            return 0.5 * -np.expm1(-2.0 * xi) * k0e(xi)  # sinh(xi) K0(xi), overflow-free

        out = out * h(t) / h(t_ref)
    return out


def standard_critical_power_shape(temperature, w: float, t_ref: float) -> np.ndarray:
    """P_c(T) / P_c(T_ref) of the standard model: T coth(w/2T) / (T_ref coth(w/2T_ref)).

    P_c ~ 1/(T1 T2) with the one-phonon rate of a TLS at resonance, 1/T1 ~ coth(x/2), and a
    spectral-diffusion dephasing rate 1/T2 ~ T (PHYSICS.md section 8; Phillips, Rep. Prog. Phys.
    50, 1657 (1987)): ~T for T << w, ~2T^2/w for T >> w.

    Parameters
    ----------
    temperature : array_like
        T (K), > 0, any shape.
    w, t_ref : float
        w = h f / k_B (K) and the reference temperature T_ref (K).

    Returns
    -------
    numpy.ndarray
        The ratio, of the shape of ``temperature``.
    """
    t = np.asarray(temperature, dtype=np.float64)
    return (t / np.tanh(w / (2.0 * t))) / (t_ref / math.tanh(w / (2.0 * t_ref)))


class NonlinearLayout:
    """The non-linear parameters of a loss fit, shared by this engine's model and the joint
    loss + shift model (:mod:`manybody.laws.joint`): the TLS index (law "family"), a free gap
    (quasiparticle term without a fixed gap), the critical power and its temperature exponent
    (saturation, ``critical_power_law="power"``), in that order. Needs the attributes ``law``,
    ``quasiparticle``, ``gap``, ``saturation``, ``critical_power_law``, ``w`` and ``t_ref``."""

    law: str
    quasiparticle: str | None
    gap: float | None
    saturation: bool
    critical_power_law: str
    w: float
    t_ref: float

    @property
    def nonlinear_names(self) -> list[str]:
        names = ["index"] if self.law == "family" else []
        if self.quasiparticle and self.gap is None:
            names.append("gap")
        if self.saturation:
            names.append("critical_power")
            if self.critical_power_law == "power":
                names.append("critical_power_exponent")
        return names

    def critical_power_db(self, t: np.ndarray, theta):
        """P_c(T) in dB of the power unit at temperatures t (K), complex-safe in theta."""
        d = dict(zip(self.nonlinear_names, theta, strict=True))
        pc = d["critical_power"]
        if self.critical_power_law == "power":
            return pc + 10.0 * d["critical_power_exponent"] * np.log10(t / self.t_ref)
        if self.critical_power_law == "standard":
            return pc + 10.0 * np.log10(standard_critical_power_shape(t, self.w, self.t_ref))
        return pc + np.zeros_like(t)

    def saturation_factor(self, t: np.ndarray, power: float, theta):
        """1 / sqrt(1 + P / P_c(T)) of a curve at drive power ``power`` (dB) at temperatures t."""
        return 1.0 / np.sqrt(1.0 + 10.0 ** ((power - self.critical_power_db(t, theta)) / 10.0))

    def nonlinear_bounds(self, name: str, powers) -> tuple[float, float]:
        """Bounds of one nonlinear parameter (the powers: those of the curves, dB)."""
        if name == "index":
            return self.index_bounds
        if name == "gap":
            return GAP_BOUNDS
        if name == "critical_power":
            return (min(powers) - 100.0, max(powers) + 100.0)
        return EXPONENT_BOUNDS

    def nonlinear_grid(self, name: str, powers) -> list[float]:
        """Starting grid of one nonlinear parameter."""
        if name == "index":
            return [-0.9, -0.6, -0.3, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 6.0, 15.0]
        if name == "gap":
            return list(np.geomspace(0.5, 80.0, 14))
        if name == "critical_power":
            return list(np.linspace(min(powers) - 40.0, max(powers) + 40.0, 13))
        return list(EXPONENT_GRID)

    def bounds(self, powers: Sequence[float]) -> tuple[list, list]:
        """Lower and upper bounds of the nonlinear parameters."""
        pairs = [self.nonlinear_bounds(n, powers) for n in self.nonlinear_names]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def grid(self, powers: Sequence[float]) -> list[tuple]:
        """Starting grid of the nonlinear parameters."""
        return list(itertools.product(*(self.nonlinear_grid(n, powers)
                                        for n in self.nonlinear_names)))

    def unpack(self, theta) -> tuple[float, float | None, float | None]:
        """(index, gap, critical power) from the non-linear parameter vector (defaults 0, the
        fixed gap, None)."""
        d = dict(zip(self.nonlinear_names, theta, strict=True))
        return d.get("index", 0.0), d.get("gap", self.gap), d.get("critical_power")


@dataclass(frozen=True)
class _Model(NonlinearLayout):
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
    smearing: float | None = None  # eta / w of a Gaussian line kernel (fit_law)
    index_bounds: tuple = INDEX_BOUNDS
    critical_power_law: str = "constant"

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

    def offset_parameters(self) -> list[int]:
        """Positions among the linear parameters of each curve's constant (its background), in
        curve order: where a curve's offset in :class:`FitPoints` goes back in."""
        return [i for i, name in enumerate(self.linear_names) if name.startswith("background")]

    def shape(self, x: np.ndarray, index: float) -> np.ndarray:
        """The law L(x) (kernel-averaged with ``smearing``)."""
        return law_values(self.law, x, index, self.smearing)

    def columns(self, t: np.ndarray | None, j: int, theta, x: np.ndarray | None = None
                ) -> np.ndarray:
        """Design matrix (n, n_linear) of curve j at temperatures t (K), or at x = w / t."""
        index, gap, _ = self.unpack(theta)
        shape = self.shape(self.w / t if x is None else x, index)
        ref = shape if t is None else t
        cols = []
        if self.saturation:  # curves of measured loss: t is given
            cols.append(shape * self.saturation_factor(t, self.powers[j], theta))
        else:
            cols += [shape if k == j else np.zeros_like(ref) for k in range(self.n_curves)]
        if self.background:
            cols += [np.ones_like(ref) if k == j else np.zeros_like(ref)
                     for k in range(self.n_curves)]
        if self.quasiparticle:
            cols.append(_qp_shape(self.quasiparticle, t, self.t_ref, gap, self.w))
        return np.stack(cols, axis=1)


@dataclass(frozen=True)
class FitPoints:
    """The points of a fit in working units, where the data and the errors are of order 1.

    The loss of point i (curve g_i) is ``scale * ys[i] + offsets[g_i]`` and its base error
    ``error_unit * bs[i]`` (both in the units of the loss; the base error is the given sigma,
    |Q^-1| for the relative error model, 1 for the absolute one). The engine fits and takes the
    covariance in these units; :func:`law_fit_result` turns them into the loss's units by
    scaling the standard errors (:func:`manybody.laws.covariance.rescale`), never the variances,
    so nothing over- or underflows for a loss of 1e-200 or 1e200 (session 28). ``offsets`` (a
    curve's lowest value, only with a background: the fit is then that of the data measured from
    it, and a background 1e9 times the temperature-dependent part costs no digits) default to 0
    and ``error_unit`` to ``scale`` (the layout of :mod:`manybody.laws.joint`).
    """

    t: tuple  # temperatures (K) per curve, or None per curve (points given in x)
    x: tuple  # x = w / T per curve, or None per curve (computed from t)
    ys: np.ndarray
    bs: np.ndarray
    groups: np.ndarray
    n_per: np.ndarray
    scale: float
    known: bool  # errors given (absolute), not estimated from the residuals
    error_model: str
    powers: tuple
    offsets: np.ndarray | None = None  # per curve, units of the loss (model.offset_parameters)
    error_unit: float | None = None  # units of the loss per unit of bs (None: scale)
    # points whose base error is the relative error model's |Q^-1|: taken from the law's fitted
    # loss, not the measured one (:func:`fit_model`); None for none
    relative: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.ys.size)

    @property
    def errors_unit(self) -> float:
        """Units of the loss per unit of the working errors ``bs``."""
        return self.scale if self.error_unit is None else self.error_unit

    @property
    def ratio(self) -> float:
        """A residual in units of the base errors per residual in working units,
        scale / errors_unit (1 exactly when the two units are the same)."""
        return self.scale / self.errors_unit


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class LawFit:
    """Result of fitting one temperature law to one or several loss curves (or one curve in x).

    The first eight fields are what every fit has; :func:`fit_law` (points in x, no curves)
    leaves the curve-specific ones at their defaults.

    Attributes
    ----------
    law : str
        "tls", "generic" or "family".
    parameters, errors : dict of str to float
        Best-fit values and one-standard-deviation errors: amplitude(s) F and background(s) B
        (units of the loss), index a, qp_loss (loss at ``options["qp_reference_temperature"]``),
        gap (K), critical_power (dB of the power unit). Joint fits name per-curve parameters
        ``amplitude[label]``. A parameter on its bound (``at_bound``) has the error NaN: it is
        only bounded there, not measured (since session 44).
    covariance : numpy.ndarray
        Covariance of the parameters in the order of ``parameter_names``, in their units (inf on
        the diagonal, NaN elsewhere in its row, for a parameter the data do not determine).
        Scaled from the fit's working units entry by entry without an intermediate over- or
        underflow; an entry beyond the floating-point range itself (a variance of a loss of
        1e200, 1e400) is inf or 0: ``errors`` and ``correlation`` keep what it loses. For a
        parameter on its bound the row is the local curvature at the bound, not an error
        (``errors`` says NaN there).
    correlation : numpy.ndarray
        Correlation matrix of the parameters (1 on the diagonal; NaN in the row and column of an
        undetermined parameter), independent of the units, from the same covariance.
    chi2 : float
        Sum of squared weighted residuals (with estimated scatter: in units of the weights;
        :func:`fit_law` without sigma: dof, in units of the scatter estimated from the
        residuals).
    dof, n_points : int
        Degrees of freedom and number of points fitted.
    aic, bic : float
        Information criteria (lower is better; compare only fits of the same points).
    p_value : float
        chi2 tail probability with known sigma; NaN when the scatter was estimated (also
        :func:`fit_law` without sigma: no goodness of fit without known errors).
    errors_scaled : bool
        True when the errors rest on a scatter estimated from the residuals (no sigma given).
    error_model : str
        "sigma" (given), "relative" or "absolute"; "unit weights" for :func:`fit_law` without
        sigma (equal weights, one scatter estimated from the residuals).
    scatter : str
        "common" (one estimated scatter) or "per-curve" (one per curve, iterated reweighting).
    rms_scatter : float
        sqrt(RSS/dof) in units of the error model (relative: fractional rms deviation; with
        sigma: sqrt(chi2/dof)).
    curve_scatter : tuple of float
        The same per curve (dof shared out in proportion to the points).
    at_bound : tuple of str
        Nonlinear parameters that ended on a bound (their errors NaN).
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
    chi2: float
    dof: int
    aic: float
    bic: float
    p_value: float
    parameter_names: tuple = ()
    covariance: np.ndarray = field(default=None, repr=False)
    correlation: np.ndarray = field(default=None, repr=False)
    n_points: int = 0
    errors_scaled: bool = False
    error_model: str = "sigma"
    scatter: str = "common"
    rms_scatter: float = math.nan
    curve_scatter: tuple = ()
    frequency: float = math.nan
    options: dict = field(default_factory=dict)
    curves: tuple = field(default=(), repr=False)
    at_bound: tuple = ()
    indeterminate: tuple = ()
    unphysical: tuple = ()
    _model: _Model = field(default=None, repr=False)
    _theta: tuple = field(default=(), repr=False)
    _linear: np.ndarray = field(default=None, repr=False)
    # the relative error model's base errors at the optimum (working units), when they were the
    # law's fitted loss: compare_laws fits the other laws with these (common weights)
    _weights: np.ndarray | None = field(default=None, repr=False)

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

    def critical_power_at(self, temperature) -> np.ndarray:
        """The fitted critical power P_c(T) (dB of the power unit) at ``temperature`` (K).

        Constant for ``critical_power_law="constant"``; see the module notes for the others.

        Raises
        ------
        ValueError
            The fit has no saturation, or a temperature is not finite and > 0.
        """
        if not getattr(self._model, "saturation", False):
            raise ValueError("critical_power_at needs a fit with saturation=True")
        t = v.positive_array("temperature", temperature)
        return np.real(self._model.critical_power_db(t, self._theta))

    def residuals(self, curve: int = 0) -> np.ndarray:
        """Data minus model for curve ``curve`` at its fitted temperatures."""
        c = self.curves[curve]
        return c.loss - self.predict(c.temperature, curve)

    def to_dict(self) -> dict:
        """JSON-ready summary (parameters, errors, covariance, criteria, options)."""
        return {
            "law": self.law, "parameters": self.parameters, "errors": self.errors,
            "parameter_names": list(self.parameter_names),
            "covariance": None if self.covariance is None else self.covariance.tolist(),
            "correlation": None if self.correlation is None else self.correlation.tolist(),
            "chi2": self.chi2, "dof": self.dof,
            "n_points": self.n_points, "reduced_chi2": self.reduced_chi2, "aic": self.aic,
            "bic": self.bic, "p_value": None if math.isnan(self.p_value) else self.p_value,
            "errors_scaled": self.errors_scaled, "error_model": self.error_model,
            "scatter": self.scatter, "rms_scatter": self.rms_scatter,
            "curve_scatter": list(self.curve_scatter),
            "at_bound": list(self.at_bound), "indeterminate": list(self.indeterminate),
            "unphysical": list(self.unphysical), "options": self.options,
        }


# --------------------------------------------------------------------------- the engine


class _LeastSquares:
    """Weighted least squares of one model on one set of points (linear parameters first)."""

    def __init__(self, model: _Model, points: FitPoints) -> None:
        self.model, self.points = model, points
        self.n_lin = len(model.linear_names)
        self.names_nl = model.nonlinear_names
        self.k = self.n_lin + len(self.names_nl)

    def raw_design(self, theta) -> np.ndarray:
        pts = self.points
        return np.concatenate([self.model.columns(t, j, theta, x)
                               for j, (t, x) in enumerate(zip(pts.t, pts.x, strict=True))])

    def design(self, theta, ss: np.ndarray) -> np.ndarray:
        return self.raw_design(theta) / ss[:, None]

    def jacobian(self, p, ss: np.ndarray) -> np.ndarray:
        """Jacobian (n, k) of the weighted model (model / ss) in the parameters p (linear first),
        exact to rounding in every column: the design matrix for the linear parameters and
        complex-step derivatives, Im(model(theta + i h e_j)) / h, for the nonlinear ones.

        The finite differences used before (least_squares' 2-point Jacobian; approx_fprime with
        a step sqrt(eps) max(|p|, 1e-8)) lost a derivative far below the model in rounding (the
        index at x = 18-26, where dL/da ~ e^-x: a +- 0.145 for an exact 3e5) and a parameter
        fitted at 0 to its 1e-8 step (errors 0.6 of the exact ones; session 27). The complex step
        has no subtraction, so any h far below the parameter's scale gives the derivative to
        rounding (h = :data:`_COMPLEX_STEP` times max(1, |theta_j|); the model code is
        complex-safe: the laws, the kernel average, the quasiparticle and saturation factors and
        the family's shift partner).

        Raises
        ------
        RuntimeError
            The model dropped the imaginary part (code on its path that is not complex-safe).
        """
        p = np.asarray(p, dtype=np.float64)
        lin, theta = p[:self.n_lin], p[self.n_lin:]
        cols = [self.design(tuple(theta), ss)]
        for j in range(theta.size):
            h = _COMPLEX_STEP * max(1.0, abs(float(theta[j])))
            shifted = theta.astype(np.complex128)
            shifted[j] += 1j * h
            with warnings.catch_warnings():
                warnings.simplefilter("error", np.exceptions.ComplexWarning)
                with np.errstate(all="ignore"):
                    model = self.design(tuple(shifted), ss) @ lin
            if not np.iscomplexobj(model):
                raise RuntimeError(f"the complex-step derivative in {self.names_nl[j]!r} lost "
                                   "its imaginary part: the model is not complex-safe")
            cols.append(model.imag[:, None] / h)
        return np.concatenate(cols, axis=1)

    def profile(self, theta, ss: np.ndarray) -> tuple[float, np.ndarray]:
        """Residual sum of squares and linear parameters at fixed nonlinear ones."""
        d = self.design(theta, ss)
        lin, *_ = np.linalg.lstsq(d, self.points.ys / ss, rcond=None)
        r = self.points.ys / ss - d @ lin
        return float(r @ r), lin

    def grid_start(self, ss: np.ndarray) -> np.ndarray:
        """All parameters at the best point of the nonlinear grid (linear ones solved exactly).

        With a critical power that changes with temperature (``critical_power_law`` other than
        "constant") the best point whose amplitudes are positive, where the grid has one: P_c(T)
        gives the loss a second way to change with T, and a negative amplitude with a -> -1
        (a law constant in T) fits the Nb tables as well as the physical optimum, a = 1.7 +- 0.4
        (AIC -201.824 against -201.818, session 39); started from the best grid point overall
        the fit ran to the unphysical one and said "neither law"."""
        with np.errstate(all="ignore"):
            scored = [(*self.profile(th, ss), th) for th in self.model.grid(self.points.powers)]
        scored = [sc for sc in scored if math.isfinite(sc[0])]
        if getattr(self.model, "critical_power_law", "constant") != "constant":
            amplitudes = [i for i, name in enumerate(self.model.linear_names)
                          if name.startswith("amplitude")]
            physical = [sc for sc in scored if np.all(sc[1][amplitudes] > 0)]
            scored = physical or scored
        _, lin, theta0 = min(scored, key=lambda sc: sc[0])
        return np.concatenate([lin, theta0])

    def solve(self, ss: np.ndarray, start) -> tuple[np.ndarray, np.ndarray, tuple, bool]:
        """(parameters, covariance (J^T J)^-1, nonlinear parameters on a bound, converged) with
        weights 1/ss; ``start=None``: locate on the grid first."""
        if not self.names_nl:
            design = self.design((), ss)
            lin = self.profile((), ss)[1]
            return lin, covariance(design), (), True
        if start is None:
            start = self.grid_start(ss)
        lo, hi = self.model.bounds(self.points.powers)
        n_lin = self.n_lin
        weighted = self.points.ys / ss

        def resid(theta):  # the linear parameters solved exactly at each theta
            d = self.design(tuple(theta), ss)
            return weighted - d @ np.linalg.lstsq(d, weighted, rcond=None)[0]

        # variable projection (G. H. Golub and V. Pereyra, SIAM J. Numer. Anal. 10, 413 (1973)):
        # the optimiser sees only the nonlinear parameters. With all of them at once, where the
        # index ran to its bound -0.99 (a law nearly constant in T) the amplitude and background
        # cancelled to +-600 along a flat valley, and every solve of a saturation fit took its
        # 5000 evaluations (5.6 s) without converging: fit-data --saturation of two Nb tables
        # ran for more than 10 minutes (a tester, bt193; session 58). The optimum is the same.
        theta0 = np.clip(np.asarray(start, dtype=np.float64)[n_lin:], lo, hi)
        sol = optimize.least_squares(
            resid, theta0, bounds=(lo, hi), x_scale="jac", method="trf", xtol=1e-12, ftol=1e-12,
            gtol=1e-12, max_nfev=5000)
        p = np.concatenate([self.profile(tuple(sol.x), ss)[1], sol.x])
        bound = tuple(nm for nm, val, a, b in zip(self.names_nl, sol.x, lo, hi, strict=True)
                      if min(val - a, b - val) <= 1e-6 * max(1.0, abs(val)))
        # the covariance from the exact Jacobian (:meth:`jacobian`), not least_squares' own
        # finite differences (which remain its search direction, so the optimum is unchanged)
        return p, covariance(self.jacobian(p, ss)), bound, bool(sol.status > 0)

    def solve_fixed_start(self, ss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """scipy's curve_fit from amplitude 1 (max|y| in the units given), index 0.5
        (background 0), one curve in x: the arithmetic :func:`fit_law` has always used; returns
        (parameters, covariance) in working units, linear parameters first.

        The points are in the working units of :func:`fit_law`: max|y| is 1 and the median
        error 1, with a background measured from the data's lowest value. The optimum does not
        depend on the units, but curve_fit's tolerances and steps do: in the units given (Q^-1 ~
        1e-6 with unit weights, or 1e30) it stopped at or near the start (a = 0.5, or 0.93 for
        0.99; session 27); a background 1e7 times the temperature-dependent part, not measured
        from the lowest value, made the start (amplitude max|q|, the background) stop it at
        a = 0.38 where the optimum is 0.69 (a second reviewer, session 27).
        """
        model, x, y = self.model, self.points.x[0], self.points.ys
        background = model.background
        lo_a, hi_a = model.index_bounds

        def curve(xx, *p):  # parameters in curve_fit's order: amplitude, index, (background)
            return p[0] * model.shape(xx, p[1]) + (p[-1] if background else 0.0)

        lower = [-np.inf, lo_a] + ([-np.inf] if background else [])
        upper = [np.inf, hi_a] + ([np.inf] if background else [])
        start = [1.0, 0.5] + ([0.0] if background else [])
        with warnings.catch_warnings():
            # its pcov is discarded (below), so its "could not be estimated" is not ours to pass on
            warnings.simplefilter("ignore", optimize.OptimizeWarning)
            unit, _ = optimize.curve_fit(curve, x, y, p0=start, sigma=ss,
                                         bounds=(lower, upper), maxfev=20000)
        # the covariance from our own SVD of the Jacobian at the optimum: curve_fit's pcov drops
        # singular values below eps * max(shape) * s_max, so an amplitude degenerate with the
        # background came out +- 1e-10 of 0.35 with the data at 1e-6 (a reviewer, session 26)
        # (in working units, the errors scaled to the data's units by :func:`law_fit_result`:
        # in the units given, J^T J overflowed for data of 1e-200 with errors of 1e-202, and so
        # did the variances scaled back, var * scale**2; sessions 27, 28)
        # (its Jacobian exact in every column, :meth:`jacobian`: approx_fprime's forward
        # differences lost the index where dL/da ~ e^-x and a background fitted at 0; session 27)
        order = [0, 2, 1] if background else [0, 1]  # to the engine's order: linear first
        p = unit[order]
        return p, covariance(self.jacobian(p, ss))

    def chi2_fixed_start(self, p: np.ndarray, ss: np.ndarray) -> float:
        """chi2 as :func:`fit_law` has always computed it (model written out, not a design), in
        working units (:func:`law_fit_result` takes it to the units of the errors)."""
        model, x, y = self.model, self.points.x[0], self.points.ys
        index = p[-1] if model.law == "family" else 0.0
        base = model.shape(x, index)
        resid = (y - (p[0] * base + (p[1] if model.background else 0.0))) / ss
        return float(resid @ resid)


@dataclass(frozen=True)
class _Optimum:
    """Where the engine ended, all in the working units of :class:`FitPoints`: parameters
    (linear first), their covariance, chi2 with the final weights, RSS per curve in units of
    the working base errors ``bs``, and how it ended."""

    ls: _LeastSquares
    p: np.ndarray
    cov: np.ndarray
    chi2: float
    rss: np.ndarray
    at_bound: tuple
    converged: bool
    per_curve: bool


def _model_base(ls: _LeastSquares, p: np.ndarray) -> np.ndarray:
    """The working base errors with the relative error model's points at the law's fitted |Q^-1|
    (floored at 1e-3 of each curve's largest), the others unchanged."""
    pts = ls.points
    fitted = ls.raw_design(tuple(p[ls.n_lin:])) @ p[:ls.n_lin]
    if pts.offsets is not None:
        fitted = fitted + pts.offsets[pts.groups] / pts.scale
    rel = pts.relative
    level = floored_per_curve(np.abs(fitted[rel]) * (pts.scale / pts.errors_unit),
                              pts.groups[rel], pts.n_per.size)
    base = pts.bs.copy()
    if level is not None:
        base[rel] = level
    return base


def fit_model(model: _Model, points: FitPoints, per_curve: bool) -> _Optimum:
    """The engine: optimum, covariance and criteria of one law on the points (grid start).

    Without known errors and with ``per_curve``, one scatter per curve is found by iterated
    reweighting, s_j^2 = RSS_j / (n_j - k n_j / n), the parameters shared out in proportion to
    the points.

    With the relative error model (``points.relative``) the base error of a point is the law's
    fitted |Q^-1| there, found by the same iteration (iteratively reweighted least squares), not
    the measured |Q^-1|: weights from the measured loss favour the points that scattered low and
    pulled the amplitude F delta0 down, by 10 % (0.76 of its error, 1-sigma coverage 0.52) at
    20 % scatter and 1.4 % at 10 % (a break test of the error bars, session 49). The first round
    starts from the measured loss. Laws compared on the same points are fitted with common
    weights, the family's (``weights``): the family then holds both laws at the same weights,
    and its AIC is never worse than theirs by more than its one extra parameter, which each law
    fitted with its own weights broke (a second break test, session 49).

    The family law with further nonlinear parameters (a critical power, a gap) is also fitted
    from the optima of the tanh and the 1 - e^-x laws (a = 1 and a = 0, with their weights), and
    the optimum with the best likelihood at its own weights is kept (:func:`_likelihood_key`):
    the reweighted joint fits of loss and shift have several optima, and the family (which holds
    both laws) had ended in one 22 above the tanh fit's AIC, with a = -0.08 beside "tanh, very
    strong evidence" (session 49).
    """
    if points.known or points.relative is None or not points.relative.any():
        points = replace(points, relative=None)
    optima = [_reweighted_optimum(model, points, per_curve)[0]]
    if model.law == "family" and len(model.nonlinear_names) > 1:
        for law, index in (("tls", 1.0), ("generic", 0.0)):
            nested, scale = _reweighted_optimum(replace(model, law=law), points, per_curve)
            start = np.insert(nested.p, nested.ls.n_lin, index)
            optima.append(_reweighted_optimum(model, nested.ls.points, per_curve, start,
                                              scale)[0])
    return min(optima, key=_likelihood_key)


def _reweighted_optimum(model: _Model, points: FitPoints, per_curve: bool,
                        start: np.ndarray | None = None,
                        curve_scale: np.ndarray | None = None) -> tuple[_Optimum, np.ndarray]:
    """:func:`fit_model` from one start (None: the grid's best point), with the per-curve
    scatters starting at ``curve_scale`` (default 1); returns the optimum and the scatters."""
    ls = _LeastSquares(model, points)
    n, k = points.n, ls.k
    curve_scale = np.ones(points.n_per.size) if curve_scale is None else curve_scale
    p = start
    reweight = points.relative is not None
    for _ in range(REWEIGHTING_ROUNDS if per_curve or reweight else 1):
        p, cov, at_bound, converged = ls.solve(points.bs * curve_scale[points.groups], p)
        done = True
        if reweight:
            base = _model_base(ls, p)
            done = bool(np.max(np.abs(base / points.bs - 1.0)) < 1e-6)
            points = replace(points, bs=base)
            ls = _LeastSquares(model, points)
        if per_curve:
            new = np.sqrt(_curve_rss(ls, p) / (points.n_per * (1.0 - k / n)))
            if not new.max() > 0:  # every curve fitted exactly (constant curves): no scatter
                break  # to weight by; the subnormal weights made the SVD fail (session 41)
            new = np.maximum(new, 1e-9 * new.max())
            done = done and bool(np.max(np.abs(new / curve_scale - 1.0)) < 1e-4)
            curve_scale = new
        if done:
            break
    if per_curve or reweight:
        p, cov, at_bound, converged = ls.solve(points.bs * curve_scale[points.groups], p)
    theta = tuple(float(x) for x in p[ls.n_lin:])
    ss = points.bs * curve_scale[points.groups]
    r = (points.ys - ls.raw_design(theta) @ p[:ls.n_lin]) / ss
    chi2 = float(r @ r)
    if not points.known and not per_curve:
        cov = _scaled_covariance(cov, chi2 / (n - k))
    return _Optimum(ls, p, cov, chi2, _curve_rss(ls, p), at_bound, converged,
                    per_curve), curve_scale


def _scaled_covariance(cov: np.ndarray, variance: float) -> np.ndarray:
    """``cov`` times the residual variance, an undetermined parameter's infinite variance kept
    infinite where the variance is 0 (a curve the law fits exactly, e.g. a constant loss: inf *
    0 gave NaN and numpy's 'invalid value encountered in multiply'; a tester, session 40)."""
    with np.errstate(invalid="ignore"):
        scaled = cov * variance
    infinite = np.isinf(cov) & np.isnan(scaled)
    scaled[infinite] = cov[infinite]
    return scaled


def _fit_fixed_start(model: _Model, points: FitPoints) -> _Optimum:
    """The engine for one curve in x from the fixed start (:func:`fit_law`): with known errors,
    or with unit weights and the covariance scaled by the residual variance chi2 / dof (the
    scatter estimated from the residuals, as scipy's curve_fit with absolute_sigma=False; with
    no degree of freedom left every parameter is undetermined, its variance inf)."""
    ls = _LeastSquares(model, points)
    at_bound: tuple = ()
    if ls.names_nl:
        p, cov = ls.solve_fixed_start(points.bs)
        chi2 = ls.chi2_fixed_start(p, points.bs)
        # the same rule as the engine's (:meth:`_LeastSquares.solve`): fit_law left at_bound
        # empty, so a flat loss at a = -0.999 was reported unflagged (a break test, session 44)
        lo, hi = model.bounds(points.powers)
        at_bound = tuple(nm for nm, val, a, b in zip(ls.names_nl, p[ls.n_lin:], lo, hi,
                                                      strict=True)
                         if min(val - a, b - val) <= 1e-6 * max(1.0, abs(val)))
    else:  # linear in the parameters: exact weighted least squares
        p, cov, _, _ = ls.solve(points.bs, None)
        chi2 = ls.chi2_fixed_start(p, points.bs)
    if not points.known:
        dof = points.n - ls.k
        if dof > 0:
            cov = _scaled_covariance(cov, chi2 / dof)
        else:
            cov = np.where(np.eye(ls.k, dtype=bool), np.inf, np.nan)
    return _Optimum(ls, p, cov, chi2, _curve_rss(ls, p), at_bound, True, False)


def _curve_rss(ls: _LeastSquares, p: np.ndarray) -> np.ndarray:
    """Residual sum of squares per curve in units of the base errors."""
    pts = ls.points
    r = (pts.ys - ls.raw_design(tuple(p[ls.n_lin:])) @ p[:ls.n_lin]) / pts.bs
    return np.bincount(pts.groups, weights=r * r, minlength=pts.n_per.size)


def _chi2(sol: _Optimum) -> float:
    """chi2 with the final weights in the units of the errors: the working chi2 times ratio^2
    (with per-curve scatters the weights carry the ratio and chi2 is the working one)."""
    rho = sol.ls.points.ratio
    return sol.chi2 if sol.per_curve else sol.chi2 * rho * rho


#: Residuals below this fraction of a curve's largest value are round-off (an exact fit leaves
#: ~1e-16 of it): :func:`_criteria` floors a curve's residual sum there.
ROUND_OFF_RESOLUTION = 1e-13

#: A curve whose scatter estimated from its residuals is below this fraction of its largest value
#: was fitted to numerical precision (no measurement resolves a part in 1e9; a computed curve
#: without noise does): its scatter is not a measurement error (:func:`round_off_curves`).
MIN_RELATIVE_SCATTER = 1e-9


def _curve_levels(pts: FitPoints) -> np.ndarray:
    """Each curve's largest |loss| in the units of the residuals (the working base errors)."""
    values = pts.ys if pts.offsets is None else pts.ys + pts.offsets[pts.groups] / pts.scale
    level = np.zeros(pts.n_per.size)
    np.maximum.at(level, pts.groups, np.abs(values / pts.bs))
    return level


def round_off_curves(sol: _Optimum) -> tuple[int, ...]:
    """The curves of a fit with per-curve scatters whose scatter is at numerical precision
    (below MIN_RELATIVE_SCATTER of the curve's largest value) while another curve's is not.

    With one scatter estimated per curve the weights are 1/s_j^2; a curve the shared law fits to
    round-off gets a weight 1e18 or more times the others' and alone sets the shared parameters, with
    errors of ~1e-10 whatever the other curves say (an exact tanh curve beside an exact
    1 - e^-x curve gave a = 0 +- 2e-10 or 1 +- 3e-10, decided by the background; session 44's
    break test). Empty when the scatters are not estimated per curve, or when every curve is at
    precision (the shared law then fits them all, and the fit is right); a constant curve is
    never named (its background fits it whatever the shared parameters)."""
    if not sol.per_curve:
        return ()
    pts = sol.ls.points
    level = _curve_levels(pts)
    scatter = np.sqrt(sol.rss / pts.n_per)
    exact = scatter <= MIN_RELATIVE_SCATTER * level
    if exact.all():
        return ()
    # a constant curve is fitted exactly by its own background whatever the shared parameters:
    # it sets none of them (an exact constant beside a noisy tanh curve, session 44), so it is
    # not named
    values = pts.ys if pts.offsets is None else pts.ys + pts.offsets[pts.groups] / pts.scale
    low, high = np.full(level.size, np.inf), np.full(level.size, -np.inf)
    top = np.zeros(level.size)
    np.minimum.at(low, pts.groups, values)
    np.maximum.at(high, pts.groups, values)
    np.maximum.at(top, pts.groups, np.abs(values))
    varies = (high - low) > MIN_RELATIVE_SCATTER * top
    return tuple(int(j) for j in np.flatnonzero(exact & varies))


def round_off_reasons(sol: _Optimum, labels: Sequence[str], remedy: str) -> tuple[str, ...]:
    """The ``indeterminate`` reason for :func:`round_off_curves`, naming the curves;
    ``remedy`` says what the caller can do instead."""
    exact = round_off_curves(sol)
    if not exact:
        return ()
    names = ", ".join(repr(labels[j]) for j in exact)
    return (f"curve(s) {names} fitted to numerical precision (scatter below "
            f"{MIN_RELATIVE_SCATTER:g} of the curve's largest value) beside curves that are not: "
            f"a scatter estimated per curve weights each curve by 1/scatter^2, so these alone "
            f"set the shared parameters and their errors; {remedy}",)


def _criteria(sol: _Optimum) -> tuple[float, float, float]:
    """(AIC, BIC, p-value): chi2-based with known errors; otherwise the profile likelihood over
    the unknown scatter(s), which count as parameters (p-value NaN). The residual sums are in
    working units; their logarithms take the ratio to the base errors as 2 ln(ratio) per point
    (the sums themselves under- or overflow for a loss of 1e-200 or 1e200 with the absolute
    error model)."""
    pts, k = sol.ls.points, sol.ls.k
    n, rss_j = pts.n, sol.rss
    if pts.known:
        chi2 = _chi2(sol)
        dof = n - k
        p_value = float(stats.chi2.sf(chi2, dof)) if dof > 0 else math.nan
        return chi2 + 2 * k, chi2 + k * math.log(n), p_value
    log_ratio2 = 2.0 * math.log(pts.ratio)
    # a curve fitted exactly (a constant under a background) has a residual sum of round-off,
    # whose logarithm differed between the laws by thousands: one exact constant beside a noisy
    # tanh curve made "generic" preferred with delta AIC = -6726 (a break test, session 44).
    # Floored at ROUND_OFF_RESOLUTION of the curve's largest value, the same in every law's fit,
    # such a curve carries no evidence; any residual above round-off counts as before.
    floor = pts.n_per * (ROUND_OFF_RESOLUTION * _curve_levels(pts)) ** 2
    if sol.per_curve:
        rss = np.maximum(np.maximum(rss_j, floor), 1e-300)
        m2lnl = float(np.sum(pts.n_per * (np.log(rss / pts.n_per) + log_ratio2)))
        k_all = k + pts.n_per.size
    else:
        rss = max(float(rss_j.sum()), float(floor.sum()), 1e-300)
        m2lnl = n * (math.log(rss / n) + log_ratio2)
        k_all = k + 1
    return m2lnl + 2 * k_all, m2lnl + k_all * math.log(n), math.nan


def _likelihood_key(sol: _Optimum) -> float:
    """AIC with the Gaussian likelihood's 2 sum ln sigma_i of the reweighted points, which
    differs between optima of one law with different weights: how :func:`fit_model` chooses
    among its starts. (The reported criteria leave it out: laws compared on the same points
    share their weights, :func:`manybody.measured.comparison.compare_laws`.)"""
    pts = sol.ls.points
    extra = 2.0 * float(np.sum(np.log(pts.bs[pts.relative]))) if pts.relative is not None else 0.0
    return _criteria(sol)[0] + extra


def law_fit_result(model: _Model, sol: _Optimum, **extra) -> LawFit:
    """The fit's numbers in the units of the loss, as a :class:`LawFit`.

    The working covariance (:class:`FitPoints`) is taken to the loss's units by scaling the
    standard errors with :func:`manybody.laws.covariance.rescale`: with known errors a linear
    parameter's error is in units of the errors (``errors_unit``) and a nonlinear one's in
    units of errors_unit / scale; with a scatter estimated from the residuals the ratio cancels
    (units: ``scale`` and 1). The variances scaled by scale**2 over- or underflowed for a loss
    of 1e-200 or 1e200 (errors 0 or inf; session 28).
    """
    ls, pts = sol.ls, sol.ls.points
    n, k, n_lin, p = pts.n, ls.k, ls.n_lin, sol.p
    n_nl = len(ls.names_nl)
    if pts.known:
        lin_unit, nl_unit = pts.errors_unit, pts.errors_unit / pts.scale
    else:
        lin_unit, nl_unit = pts.scale, 1.0
    cov, errors = rescale(sol.cov, [lin_unit] * n_lin + [nl_unit] * n_nl)
    names = model.linear_names + ls.names_nl
    # a parameter on its bound is only bounded, not measured: no error (NaN), as analyse_shape
    # reports it (compare_laws gave a flat loss a = -0.99 +- 0.0033, "310 sigma apart"; a break
    # test, session 44)
    errors = np.where([name in sol.at_bound for name in names], math.nan, errors)
    linear = p[:n_lin] * pts.scale  # back to the units of the loss
    if pts.offsets is not None and np.any(pts.offsets):  # the data were measured from these
        # (each curve's constant, in curve order; None for a curve without one, whose offset
        # is 0: the loss curves of the joint loss + shift model without a background)
        for where, offset in zip(model.offset_parameters(), pts.offsets, strict=True):
            if offset:
                linear[where] += offset
    values = np.concatenate([linear, p[n_lin:]])
    aic, bic, p_value = _criteria(sol)
    rss_j, rho = sol.rss, pts.ratio
    with np.errstate(divide="ignore", invalid="ignore"):  # no degrees of freedom left
        curve_scatter = tuple(float(x) for x in rho * np.sqrt(rss_j / (pts.n_per * (1.0 - k / n))))
    return LawFit(
        law=model.law, parameters=dict(zip(names, map(float, values), strict=True)),
        errors=dict(zip(names, map(float, errors), strict=True)), chi2=_chi2(sol), dof=n - k,
        aic=float(aic), bic=float(bic), p_value=p_value, parameter_names=tuple(names),
        covariance=cov, correlation=correlation(sol.cov), n_points=n,
        errors_scaled=not pts.known, error_model=pts.error_model,
        scatter="per-curve" if sol.per_curve else "common",
        rms_scatter=rho * math.sqrt(float(rss_j.sum()) / (n - k)) if n > k else math.nan,
        curve_scatter=curve_scatter,
        at_bound=sol.at_bound, _model=model,
        _theta=tuple(float(x) for x in p[n_lin:]), _linear=linear,
        _weights=pts.bs.copy() if pts.relative is not None else None, **extra)


# --------------------------------------------------------------------------- fits of curves


def _check_options(law: str, error_model: str, scatter: str, quasiparticle: str | None,
                   gap: float | None, tmin: float | None, tmax: float | None) -> float | None:
    """Refuse unknown or unphysical options; returns the checked gap."""
    v.choice("law", law, LAWS)
    v.choice("error_model", error_model, ERROR_MODELS)
    v.choice("scatter", scatter, SCATTER_MODELS)
    if quasiparticle is not None:
        v.choice("quasiparticle", quasiparticle, QP_SHAPES)
    if gap is not None:
        gap = v.positive("gap (K)", gap)
    v.window_edges(tmin, tmax)  # the window rule of every reader (tmin = 0: no lower edge)
    return gap


#: Residual degrees of freedom a curve needs for a scatter of its own (``scatter="per-curve"``):
#: with one, the shared parameters can shrink its residual and so its scatter towards zero (a
#: one-point curve without own parameters got scatter 0 and all the weight; helper-155, session
#: 50). Below SCATTER_DOF_WARNED a warning: in session 51's trials (4 curves, one short, equal
#: 2 % noise, 150 seeds) the index spread 1.63, 1.33, 1.20 times that of one common scatter with
#: 1, 2, 3 residuals in the short curve, 1.17 with 4, 1.08 with 6.
SCATTER_DOF_REFUSED = 2
SCATTER_DOF_WARNED = 4


class ShortCurveWarning(UserWarning):
    """A curve whose own scatter rests on fewer than SCATTER_DOF_WARNED residuals. A category of
    its own so that a caller fitting the same curves several times (one fit per law,
    :func:`manybody.measured.comparison.compare_laws`) can say it once (it was printed once per
    law by ``fit-data``; a tester, session 52)."""


def _check_curve_dof(curves, labels, names, per_curve: bool) -> None:
    """Refuse a curve with fewer points than its own parameters (they are undetermined, and with
    them every shared one: a stray row 0.7 dB off its drive became a one-point curve and the fit
    'undecided' with every parameter undetermined; helper-156, session 50), and, when each
    curve's scatter is estimated from its own residuals, one with fewer than
    SCATTER_DOF_REFUSED residuals left (its scatter came out at round-off and its weight 1e14
    times the others'; a break test, session 50); warn below SCATTER_DOF_WARNED.

    Raises
    ------
    ValueError
        Naming the curve, its points and parameters, and the ways out.
    """
    split = f"; {POWER_SPLIT_HINT}"
    for curve, label in zip(curves, labels, strict=True):
        own = [n for n in names if n.endswith(f"[{label}]")]
        n_points = curve.temperature.size
        listed = f"{n_points} point(s) in the window for its {len(own)} own parameter(s)"
        listed += f" ({', '.join(own)})" if own else ""
        if n_points < len(own):
            raise ValueError(f"curve {label!r} has {listed}: they are undetermined, and with them "
                             f"the shared ones. Leave the curve out or give it more points{split}")
        if not per_curve:
            continue
        left = n_points - len(own)
        if left < SCATTER_DOF_REFUSED:
            raise ValueError(
                f"curve {label!r} has {listed}: {left} residual(s) left, too few to estimate its "
                f"scatter (one per curve, the default without errors; the shared parameters can "
                f"shrink a single residual and give the curve all the weight). Give errors, "
                f"scatter='common', or leave the curve out{split}")
        if left < SCATTER_DOF_WARNED:
            warnings.warn(
                f"curve {label!r} has {listed}: its own scatter rests on {left} residuals, and "
                f"weights from so few widen the shared parameters' spread (1.2-1.3x in trials "
                f"with equal noise); give errors or use scatter='common' if the curves' noise is "
                f"alike", ShortCurveWarning, stacklevel=4)


def check_switches(background, saturation, quasiparticle: str | None,
                   gap: float | None) -> tuple[bool, bool]:
    """``background`` and ``saturation`` as bools (TypeError for "no", 1 or None: "no" gave
    "invalid literal for int()" and 1 was taken; a break test, session 45), and a fixed ``gap``
    only with a quasiparticle term (it was ignored without one). Returns (background,
    saturation)."""
    background = v.boolean("background", background)
    saturation = v.boolean("saturation", saturation)
    if gap is not None and quasiparticle is None:
        raise ValueError(f"gap fixes the gap of the quasiparticle term: it needs quasiparticle= "
                         f"one of {', '.join(map(repr, QP_SHAPES))}, got gap={v._describe(gap)} with "
                         f"quasiparticle=None")
    return background, saturation


def check_critical_power_law(critical_power_law: str, saturation: bool) -> None:
    """Refuse an unknown ``critical_power_law``, or one other than "constant" without saturation.

    Raises
    ------
    ValueError
        Naming the value and what was expected.
    """
    v.choice("critical_power_law", critical_power_law, CRITICAL_POWER_LAWS)
    if critical_power_law != "constant" and not saturation:
        raise ValueError(f"critical_power_law={critical_power_law!r} describes the critical "
                         "power of a saturation fit: it needs saturation=True")


def fit_window(curves, tmin: float | None, tmax: float | None, saturation: bool,
               highest: float | None = None) -> list[LossCurve]:
    """The curves cut to the temperature window (``highest``: that of all data fitted together,
    default these curves'; :func:`manybody.laws.inputs.window_mask`), checked for a common sigma
    and powers."""
    curves = loss_curve_list(curves)
    windowed = window_curves(curves, tmin, tmax, highest)  # a curve with no point there: refused
    if len({c.sigma is not None for c in windowed}) > 1:
        raise ValueError("either all curves or none must carry sigma")
    if saturation and any(c.power is None for c in windowed):
        raise ValueError("saturation=True needs a drive power for every curve (power column or "
                         "LossCurve.power)")
    if saturation:
        check_one_power_unit(windowed, "saturation=True")
    powers = sorted({c.power for c in windowed}) if saturation else []
    if saturation and powers[-1] - powers[0] < MIN_POWER_SPAN:
        # one power (or two a hair apart) cannot separate the amplitude from the critical power:
        # both came out with errors of 10^-6 of themselves, made up (session 25)
        got = (f"got one power ({powers[0]:g} {windowed[0].power_unit})" if len(powers) == 1
               else f"got {', '.join(f'{p:g}' for p in powers)} {windowed[0].power_unit}")
        raise ValueError(f"saturation=True needs curves at two or more drive powers at least "
                         f"{MIN_POWER_SPAN:g} dB apart to separate the amplitude from the "
                         f"critical power, {got}")
    return windowed


def _curve_points(curves: list[LossCurve], w: float, error_model: str,
                  background: bool) -> FitPoints:
    """The points of the curves in working units (:class:`FitPoints`): the loss in units of its
    typical value, each curve measured from its lowest value when it has a background; the base
    errors in units of their median.

    Fitted in the units of the loss (divided by the median loss only), a background 1e7-1e9
    times the temperature-dependent part left the temperature dependence in the last digits of
    every residual: least_squares' finite-difference steps lost the index to rounding and it
    stopped at its grid start (a = 0.72-0.75 for an optimum of 0.70; a reviewer, session 27).
    The errors were in the loss's units too, so an absolute error model (base error 1) fitted
    a loss of 1e-9 with residuals of 1e-11 and stopped at the start, and a loss of 1e-200 or
    1e200 at a = -0.9 or not at all (session 28); now the fit does not depend on the scale of
    the loss or of the errors.
    """
    y = np.concatenate([c.loss for c in curves])
    groups = np.concatenate([np.full(c.temperature.size, j) for j, c in enumerate(curves)])
    known = curves[0].sigma is not None
    if known:
        base = np.concatenate([c.sigma for c in curves])
        emodel = "sigma"
    elif error_model == "relative":
        base = np.abs(y)
        base = np.maximum(base, 1e-3 * base.max() if base.max() > 0 else 1.0)
        emodel = "relative"
    else:
        base = np.ones_like(y)
        emodel = "absolute"
    offsets = (np.array([float(np.min(c.loss)) for c in curves]) if background
               else np.zeros(len(curves)))
    rel = y - offsets[groups]
    # every curve constant under a background: rel = 0, so the unit is the loss's own size
    # (1.0 made the AIC floor square 1e200 into inf; as in fit_law, a break test, session 44)
    scale = (float(np.median(np.abs(rel))) or float(np.max(np.abs(rel)))
             or float(np.max(np.abs(y))) or 1.0)
    error_unit = float(np.median(base))
    return FitPoints(t=tuple(c.temperature for c in curves), x=(None,) * len(curves),
                     ys=rel / scale, bs=base / error_unit, groups=groups,
                     n_per=np.bincount(groups, minlength=len(curves)).astype(np.float64),
                     scale=scale, known=known, error_model=emodel,
                     powers=tuple(c.power for c in curves), offsets=offsets,
                     error_unit=error_unit,
                     relative=np.full(y.size, emodel == "relative"))


def warn_scatter_options_with_sigma(curves, **options) -> None:
    """Warn (UserWarning) about options of the scatter estimated without errors (error_model
    other than "relative", scatter other than "per-curve", weights not None) given for curves
    that all carry sigma, where they change nothing: fit_loss(..., sigma=s,
    error_model="absolute") gave the same fit without a word (helper-185)."""
    if not curves or any(getattr(c, "sigma", None) is None for c in curves):
        return
    defaults = {"error_model": "relative", "scatter": "per-curve", "weights": None}
    unused = [f"{name}={value!r}" if name != "weights" else "weights"
              for name, value in options.items() if value is not defaults[name]
              and value != defaults[name]]
    if unused:
        warnings.warn(f"{', '.join(unused)} {'has' if len(unused) == 1 else 'have'} no effect: "
                      "every curve carries sigma, and they describe the scatter estimated "
                      "without errors", UserWarning, stacklevel=3)


def common_weights(points: FitPoints, weights: LawFit | None) -> FitPoints:
    """``points`` with the relative error model's base errors taken from another law's fit of the
    same points (``weights``, e.g. the family's in :func:`compare_laws`), fixed; unchanged when
    ``weights`` is None or carries none (known errors, the absolute model).

    Raises
    ------
    TypeError
        weights not a LawFit.
    ValueError
        weights from a fit of other points.
    """
    if weights is None:
        return points
    if not isinstance(weights, LawFit):
        raise TypeError(f"weights must be the LawFit of another law on the same points, got "
                        f"{type(weights).__name__}")
    if weights._weights is None or points.relative is None or not points.relative.any():
        return points
    if weights._weights.shape != points.bs.shape:
        raise ValueError(f"weights come from a fit of {weights._weights.size} points, these are "
                         f"{points.bs.size}: give the fit of the same curves and window")
    return replace(points, bs=weights._weights.copy(), relative=None)


def _record(model: _Model, curves: list[LossCurve], tmin, tmax) -> dict:
    """The options and coverage of a fit of curves, as ``LawFit.options`` records them."""
    w = model.w
    return {"frequency_kelvin": w, "frequency_ghz": w / KELVIN_PER_GHZ,
            "background": model.background, "quasiparticle": model.quasiparticle,
            "gap_fixed": model.gap, "saturation": model.saturation,
            "critical_power_law": model.critical_power_law if model.saturation else None,
            "critical_power_reference_temperature": model.t_ref if model.saturation else None,
            "tmin": tmin, "tmax": tmax,
            "qp_reference_temperature": model.t_ref if model.quasiparticle else None,
            "labels": list(model.labels), "powers": [c.power for c in curves],
            "power_unit": curves[0].power_unit,
            "n_points_x_above_1": int(sum(np.sum(w / c.temperature > 1) for c in curves)),
            "x_range": [float(min(w / c.temperature.max() for c in curves)),
                        float(max(w / c.temperature.min() for c in curves))]}


def _many_curves_hint(curves: Sequence[LossCurve]) -> str:
    """Why many curves may hold too few points: one temperature shared by every curve is a loss
    against the drive power (each curve one power: a power sweep; ``--power-column none`` would
    throw the powers away, bt213 F3), else a power column varying from row to row that split one
    drive into curves."""
    temps = np.unique(np.concatenate([c.temperature for c in curves]))
    if all(c.power is not None for c in curves) and temps.size == 1:
        return (f"each curve holds the one temperature {temps[0]:g} K at its own drive power: a "
                "fit of the loss against temperature needs several temperatures per power; the "
                "loss against power at fixed temperature is fitted by fit-data --power-sweep")
    return POWER_SPLIT_HINT


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
    critical_power_law: str = "constant",
    weights: LawFit | None = None,
) -> LawFit:
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
        Shared amplitude with the power-saturation factor 1/sqrt(1 + P_j/P_c(T)).
    tmin, tmax : float, optional
        Temperature window (K), inclusive.
    error_model : {"relative", "absolute"}
        Error model when the curves carry no sigma (see module notes).
    scatter : {"per-curve", "common"}
        Without sigma: estimate one scatter per curve (default; curves at low power are noisier
        and are then weighted less) or one for all curves.
    critical_power_law : {"constant", "power", "standard"}
        With ``saturation``: P_c independent of T, P_c (T/T_ref)^mu with mu fitted, or the
        standard model's P_c ~ T coth(x/2) (module notes; PHYSICS.md section 8). The fit's
        ``critical_power`` is P_c at T_ref, the highest temperature fitted
        (``options["critical_power_reference_temperature"]``); :meth:`LawFit.critical_power_at`
        gives P_c(T).
    weights : LawFit, optional
        Without sigma and with the relative error model, the base errors are the fitted loss of
        this fit of the same curves (:func:`common_weights`; :func:`compare_laws` passes the
        family's to the tanh and 1 - e^-x fits) instead of this law's own, found by iterated
        reweighting.

    Returns
    -------
    LawFit

    Warns
    -----
    manybody.laws.x_range.XRangeWarning
        Most points' x = w/T outside [0.05, 50], or a bare-number frequency of 1 K or more
        that puts every x above 5 (a number meant in GHz read as kelvin).
    manybody.laws.inputs.LossScaleWarning
        A curve whose every loss lies between 10 and 1e10, as internal quality factors do
        (Qi passed as the loss).

    Raises
    ------
    ValueError
        Bad options, an empty window, fewer points than parameters, mixed known/unknown sigma,
        saturation without powers, a ``critical_power_law`` other than "constant" without
        ``saturation``; data whose x = w/T lies entirely below 0.05 or above 50 (temperatures
        in mK given as K, a frequency in the wrong unit: :mod:`manybody.laws.x_range`, the rule
        of ``manybody fit-data``). (Non-physical values are refused by LossCurve.) A fit that
        runs but cannot decide or is unphysical is not an error: see ``LawFit.indeterminate``
        and ``LawFit.unphysical``.
    """
    w = parse_frequency(frequency)
    gap = _check_options(law, error_model, scatter, quasiparticle, gap, tmin, tmax)
    background, saturation = check_switches(background, saturation, quasiparticle, gap)
    check_critical_power_law(critical_power_law, saturation)
    windowed = fit_window(curves, tmin, tmax, saturation)
    check_x_range(np.concatenate([c.temperature for c in windowed]), w, frequency)
    warn_quality_factor_as_loss(windowed)
    warn_scatter_options_with_sigma(windowed, error_model=error_model, scatter=scatter)
    labels = [c.label for c in windowed]
    if len(set(labels)) < len(labels):
        labels = [f"{lb}#{i}" for i, lb in enumerate(labels)]
    t_ref = float(max(c.temperature.max() for c in windowed))
    model = _Model(law, w, len(windowed), tuple(c.power for c in windowed), background,
                   quasiparticle, gap, saturation, t_ref, tuple(labels),
                   critical_power_law=critical_power_law)
    points = common_weights(_curve_points(windowed, w, error_model, background), weights)
    names = model.linear_names + model.nonlinear_names
    if points.n <= len(names):
        shown = names if len(names) <= 12 else [*names[:6], "...", *names[-3:]]
        raise ValueError(f"need more points than parameters: {points.n} point(s) in the window "
                         f"for {len(names)} parameters ({', '.join(shown)})"
                         + (f"; {len(windowed)} curves ({_many_curves_hint(windowed)})"
                            if len(windowed) > 2 else ""))
    per_curve = not points.known and scatter == "per-curve" and len(windowed) > 1
    _check_curve_dof(windowed, labels, names, per_curve)
    sol = fit_model(model, points, per_curve)
    if sol.at_bound:
        warnings.warn(f"{law} fit: {', '.join(sol.at_bound)} ended on a bound; its error is "
                      "not reliable", RuntimeWarning, stacklevel=2)
    fit = law_fit_result(model, sol, frequency=w, options=_record(model, windowed, tmin, tmax),
                  curves=tuple(windowed))
    values = np.array([fit.parameters[n] for n in names])
    errors = np.array([fit.errors[n] for n in names])
    indeterminate, unphysical = parameter_problems(model, windowed, names, values, errors,
                                                   sol.at_bound, sol.converged, len(names),
                                                   fit.p_value)
    indeterminate += round_off_reasons(sol, labels, "give the curves' errors (an error column "
                                       "for fit-data, sigma in Python), or, in Python, fit with "
                                       "scatter='common'")
    return replace(fit, indeterminate=indeterminate, unphysical=unphysical)


def parameter_names(law: str, n_curves: int, *, background: bool = True,
                    quasiparticle: str | None = None, gap: float | None = None,
                    saturation: bool = False, critical_power_law: str = "constant") -> list[str]:
    """The parameters :func:`fit_joint` fits for ``law`` to ``n_curves`` curves with these
    options (per-curve ones with the curve's position as its label), without fitting: so that a
    caller can refuse too few points before expensive work (``fit-data --sweeps`` refused three
    sweeps of 1e6 points only after fitting them, 139 s; a break test, session 49).

    Raises
    ------
    ValueError
        An unknown law, quasiparticle shape or critical_power_law; n_curves below 1.
    """
    v.choice("law", law, LAWS)
    if quasiparticle is not None:
        v.choice("quasiparticle", quasiparticle, QP_SHAPES)
    v.choice("critical_power_law", critical_power_law, CRITICAL_POWER_LAWS)
    n_curves = v.integer("n_curves", n_curves, 1)
    model = _Model(law, 1.0, n_curves, (None,) * n_curves, bool(background), quasiparticle, gap,
                   bool(saturation), 1.0, tuple(str(j) for j in range(n_curves)),
                   critical_power_law=critical_power_law)
    return model.linear_names + model.nonlinear_names


#: One-sided p-value of Kendall's tau below which a loss counts as rising with temperature.
P_RISING = 0.01


def rising_loss(curves) -> str | None:
    """'Kendall's tau = 0.57, p = 0.00075' when the loss measurably rises with temperature
    (Kendall's rank correlation of loss and temperature, one-sided p < P_RISING; the curves with
    4 or more distinct temperatures combined by Stouffer's z), else None. Neither law rises
    with temperature; an amplitude within 2 errors of 0 then comes of the misfit's scatter,
    not of a flat loss (bt197 F1)."""
    taus, zs = [], []
    for c in curves:
        if np.unique(c.temperature).size < 4 or not np.ptp(c.loss):
            continue
        res = stats.kendalltau(c.temperature, c.loss, alternative="greater")
        if not math.isfinite(res.pvalue):
            continue
        taus.append(float(res.statistic))
        zs.append(float(stats.norm.isf(min(max(res.pvalue, 1e-300), 1 - 1e-16))))
    if not zs:
        return _top_climb(curves)
    p = float(stats.norm.sf(sum(zs) / math.sqrt(len(zs))))
    if p >= P_RISING:
        return _top_climb(curves)
    tau = (f"{taus[0]:.2g}" if len(taus) == 1
           else f"{min(taus):.2g} to {max(taus):.2g} over {len(taus)} curves")
    return f"Kendall's tau = {tau}, p = {p:.2g}"


#: A loss that climbs at least this factor, steadily, over the highest temperatures of a curve
#: (:func:`_top_climb`) rises there, whatever it does below: a fall then a quasiparticle climb
#: of 5-300x over the top three points was "no temperature dependence detectable" with negative
#: amplitudes and no hint, since Kendall's tau over the whole curve saw no rise (bt223 F5).
TOP_CLIMB_RATIO = 3.0


def _top_climb(curves) -> str | None:
    """'the loss climbs 5.2x over its highest 3 temperatures (0.25 to 0.35 K)' when a curve with
    6 or more distinct temperatures climbs steadily (every step up) from its lowest loss to its
    highest temperature by :data:`TOP_CLIMB_RATIO` or more, over at least 2 steps; else None."""
    for c in curves:
        t = np.asarray(c.temperature, dtype=float)
        if np.unique(t).size < 6:
            continue
        order = np.argsort(t, kind="stable")
        t, loss = t[order], np.asarray(c.loss, dtype=float)[order]
        low = int(np.argmin(loss))
        tail = loss[low:]
        if (tail.size >= 3 and np.all(np.diff(tail) > 0) and loss[low] > 0
                and tail[-1] >= TOP_CLIMB_RATIO * loss[low]):
            return (f"the loss climbs {tail[-1] / loss[low]:.3g}x over its highest {tail.size} "
                    f"temperatures ({t[low]:.4g} to {t[-1]:.4g} K)")
    return None


#: A critical power this far (dB) above every drive power saturates nothing measured.
UNSATURATED_DB = 10.0


def undetermined_parameters(model: _Model, names: Sequence[str], errors: np.ndarray,
                            at_bound: tuple, values: np.ndarray | None = None) -> list[tuple]:
    """The parameters the data do not determine, as (name, error, lower, upper bound): an error
    that is not finite (bounds None), or (a nonlinear parameter) one larger than the whole range
    between its bounds (a critical power of -0.01 +- 1.3e9 dB, printed as a number; bt200 F7).
    A parameter on its bound is flagged as such, not here; nor is a critical power (and its
    exponent) ``UNSATURATED_DB`` above every drive power: nothing measured saturates, the law
    without saturation describes the data and its index is determined (a tanh fitted to
    a = 1 +- 7e-6 was "undecided" for a Pc of +50 +- 1500 dBm; a tester, bt205)."""
    given = dict(zip(names, values, strict=True)) if values is not None else {}
    powers = [p for p in model.powers if p is not None]
    unsaturated = ("critical_power" in given and bool(powers)
                   and given["critical_power"] > max(powers) + UNSATURATED_DB)
    loose = []
    for name, err in zip(names, errors, strict=True):
        if name in at_bound or (unsaturated and name.startswith("critical_power")):
            continue
        if not math.isfinite(err):
            loose.append((name, float(err), None, None))
        elif name in model.nonlinear_names:
            lo, hi = model.nonlinear_bounds(name, model.powers)
            if err > hi - lo:
                loose.append((name, float(err), lo, hi))
    return loose


def parameter_problems(model: _Model, curves: list[LossCurve], names: list[str], values: np.ndarray,
              errors: np.ndarray, at_bound: tuple, converged: bool,
              k: int, p_value: float = math.nan) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Why a fit cannot decide (indeterminate) or is not physical; see :class:`LawFit`.

    In turn: a design with too few distinct temperatures (:func:`_design_problems`; then nothing
    else is said), the amplitudes (:func:`_amplitude_problems`), parameters the data do not
    determine (:func:`undetermined_parameters`), parameters on their bounds
    (:func:`_bound_problems`), a rising loss behind an unphysical fit (:func:`rising_loss`) and
    the optimiser.

    ``p_value`` is the fit's chi2 tail probability with given errors (NaN without): every
    amplitude within Z_BAND errors of 0 means "no temperature dependence detectable" only when
    the fit itself is not rejected (p >= P_NEITHER); a rejected fit with its amplitudes pinned
    near 0 does not follow data that vary (the Al-on-InP family, chi2/dof = 153 at its index
    bound, was "no temperature dependence detectable"; session 33)."""
    design = _design_problems(model, curves, k)
    if design:  # the amplitudes of a degenerate design mean nothing
        return tuple(design), ()
    loose = undetermined_parameters(model, names, errors, at_bound, values)
    indeterminate, unphysical = _amplitude_problems(
        model, curves, names, values, errors, p_value,
        skip_errors=bool(loose) or "critical_power" in at_bound)
    if loose and not any(r.startswith(("no temperature dependence: every curve",
                                       "no temperature dependence: the temperature-dependent"))
                         for r in indeterminate):
        # (a loss without temperature dependence determines no shape: said already)
        indeterminate.insert(0, "the data do not determine " + ", ".join(
            name + (f" (+-{err:.2g}, wider than its range {lo:g} to {hi:g})" if lo is not None
                    else "") for name, err, lo, hi in loose)
            + (" (no finite error)" if any(lo is None for *_, lo, _ in loose) else ""))
    lever = (_without_lever(model, curves, names, values, errors, bool(unphysical))
             if "index" in at_bound else None)
    bound_indeterminate, bound_unphysical = _bound_problems(model, names, values, at_bound,
                                                            lever)
    indeterminate += bound_indeterminate
    unphysical += bound_unphysical
    if unphysical and not any("loss ris" in r for r in unphysical):
        # a rise absorbed by a parameter on its bound (Pc ~ T^8 under --critical-power-law
        # power) named only the bound, and the hint (--tmax, --quasiparticle) was lost (bt200 F10)
        rising = rising_loss(curves)
        if rising is not None:
            unphysical.append(f"the loss rises with temperature ({rising}), which the law "
                              "cannot")
    if not converged:
        indeterminate.append("the optimiser did not converge")
    return tuple(indeterminate), tuple(unphysical)


def _without_lever(model: _Model, curves: list[LossCurve], names: list[str], values: np.ndarray,
                   errors: np.ndarray, amplitudes_unphysical: bool) -> str | None:
    """Why the data give the family's index no lever, so that its bound says nothing: a shape
    without weight (every amplitude within Z_BAND errors of 0, a NaN error too; not where the
    amplitudes' own test found the loss rising or the fit rejected, ``amplitudes_unphysical``:
    their errors are then the misfit's, a tester, bt210), or a window where the family's shapes
    coincide (every x above X_FLAT, and the loss not rising); None otherwise."""
    amps = [(n, float(val), float(err)) for n, val, err in zip(names, values, errors, strict=True)
            if n.startswith("amplitude")]
    if amps and not amplitudes_unphysical and not any(abs(val) > Z_BAND * err
                                                      for _, val, err in amps):
        which = (f"{amps[0][0]} = {amps[0][1]:.3g} +- {amps[0][2]:.2g}" if len(amps) == 1
                 else f"all {len(amps)} amplitudes")
        return f"{which} within {Z_BAND:g} errors of 0 (a shape without weight)"
    lowest_x = min(float(np.min(model.w / c.temperature)) for c in curves)
    if lowest_x > X_FLAT and rising_loss(curves) is None:
        return (f"every x = w/T at or above {lowest_x:.3g}, where tanh(x/2) and 1 - e^-x differ "
                f"by less than 1 % (x > {X_FLAT:g}): measure at higher temperatures")
    return None


def _design_problems(model: _Model, curves: list[LossCurve], k: int) -> list[str]:
    """Too few distinct temperatures for the ``k`` parameters, or a curve with fewer than its
    own parameters (amplitude, background)."""
    problems = []
    distinct = [np.unique(c.temperature).size for c in curves]
    if sum(distinct) <= k:
        where = (f"one temperature ({curves[0].temperature[0]:g} K)" if sum(distinct) == 1
                 else f"{sum(distinct)} distinct (curve, temperature) points")
        return [f"too few distinct temperatures: {where} for {k} parameters of the {model.law} "
                "fit"]
    own = int(not model.saturation) + int(model.background)
    for c, d in zip(curves, distinct, strict=True):
        if d < own:
            problems.append(f"curve {c.label!r} has {d} distinct temperature(s) for its {own} own "
                            "parameters (amplitude, background)")
    return problems


def _amplitude_problems(model: _Model, curves: list[LossCurve], names: list[str],
                        values: np.ndarray, errors: np.ndarray, p_value: float,
                        skip_errors: bool) -> tuple[list[str], list[str]]:
    """(indeterminate, unphysical) from the amplitudes: a loss without temperature dependence
    (every curve 0, or the temperature-dependent part below numerical resolution), and unless
    ``skip_errors`` (a parameter undetermined or the critical power on its bound: the
    amplitudes' errors are then those of a degenerate design) their errors: a negative
    amplitude, or every amplitude within Z_BAND errors of 0 (rejected by given errors, a
    rising loss, or no temperature dependence detectable)."""
    indeterminate: list[str] = []
    unphysical: list[str] = []
    amps = [(n, float(val), float(err)) for n, val, err in zip(names, values, errors, strict=True)
            if n.startswith("amplitude")]
    ymax = max(float(np.max(np.abs(c.loss))) for c in curves)
    index = dict(zip(names, values, strict=True)).get("index", 0.0)
    spans = []
    for c in curves:
        shape = model.shape(model.w / c.temperature, index)
        spans.append(float(np.ptp(shape)) if shape.size else 0.0)
    span = max(spans) if spans else 0.0
    if ymax == 0.0:
        # a nonzero constant is measured flatness, not "undecided": with a background it is the
        # background (amplitudes 0, next branch); without one the family's index runs to its
        # bound a = -1 ("neither law"), as for the same curve with noise (session 44)
        indeterminate.append("no temperature dependence: every curve is 0")
    elif all(abs(val) * max(span, 1e-300) <= AMPLITUDE_RESOLUTION * ymax
             or not math.isfinite(val) for _, val, _ in amps):
        indeterminate.append(f"no temperature dependence: the temperature-dependent part is below "
                             f"numerical resolution ({AMPLITUDE_RESOLUTION:g} of the loss)")
    elif skip_errors:
        pass  # with a parameter undetermined the amplitudes' errors are those of a degenerate
        # design (1e-5 +- 12 against a critical power of -220 +- 1e7 dB read as "no temperature
        # dependence detectable", a tester, bt205; NaN errors compared False, bt200 F7)
    else:
        negative = [f"{n} = {val:.3g} +- {err:.2g}" for n, val, err in amps
                    if val < -Z_BAND * err]
        if negative:
            unphysical.append("negative amplitude (loss rising with temperature): "
                              + ", ".join(negative))
        elif not any(val > Z_BAND * err for _, val, err in amps):
            rising = rising_loss(curves) if math.isnan(p_value) else None
            if p_value < P_NEITHER:
                unphysical.append(f"every amplitude is within {Z_BAND:g} errors of 0, yet the "
                                  f"fit is rejected by the given errors (p = {p_value:.2g}): "
                                  "the data vary, not as this law")
            elif rising is not None:  # 'no temperature dependence
                # detectable' for a loss rising 10x with T: the misfit had inflated the errors
                # estimated from the residuals (bt197 F1); given errors are tested by p above
                if all(val < 0 for _, val, _ in amps):
                    unphysical.append(
                        f"negative amplitude (loss rising with temperature: {rising}): "
                        + ", ".join(f"{n} = {val:.3g} +- {err:.2g}" for n, val, err in amps)
                        + f", within {Z_BAND:g} errors of 0 only as the misfit inflates the errors")
                else:
                    unphysical.append(f"every amplitude is within {Z_BAND:g} errors of 0, yet the "
                                      f"loss rises with temperature ({rising}), which the law "
                                      "cannot: the misfit inflates the errors")
            else:
                indeterminate.append(f"no temperature dependence detectable against the "
                                     f"errors: every amplitude is within {Z_BAND:g} errors of 0")
    return indeterminate, unphysical


def _bound_problems(model: _Model, names: list[str], values: np.ndarray, at_bound: tuple,
                    lever: str | None = None) -> tuple[list[str], list[str]]:
    """(indeterminate, unphysical) of the parameters on their bounds: a critical power below
    every drive power is not determined (every curve saturated), and so is the index where the
    data give it no lever (``lever`` says why: every amplitude within Z_BAND errors of 0, or
    every x where the family's shapes coincide); any other bound is unphysical."""
    indeterminate, unphysical = [], []
    for name in at_bound:
        val = float(values[names.index(name)])
        if name == "index" and lever:
            # four points at x = 5-14, where tanh(x/2) and 1 - e^-x are both ~1: the family's
            # amplitude 0.004 +- 57 carries no shape, and its index on the bound was "neither
            # law" beside the tls and generic amplitudes 5 errors above 0 (a tester, bt206);
            # at x = 19-29 the index ran to 100 on noise, "neither law" too (bt210)
            indeterminate.append(f"the data do not determine index: it ran to its bound "
                                 f"{val:.4g} with {lever}")
        elif name == "critical_power" and val < min(p for p in model.powers if p is not None):
            # every curve saturated: only amplitude x sqrt(Pc) is measured, which no law forbids
            # (a noise-free tanh with Pc 100 dB below the powers was "no temperature dependence
            # detectable"; a tester, bt205)
            indeterminate.append(f"the data do not determine critical_power: it ran to its bound "
                                 f"{val:.4g}, below every drive power (every curve saturated: "
                                 "measure at lower power)")
        else:
            unphysical.append(f"{name} = {val:.4g} ran to its bound")
    return indeterminate, unphysical


# --------------------------------------------------------------------------- one curve in x


def _check_xy(x, y, sigma):
    v.check_aligned(x=x, q=y, sigma=sigma)
    x = v.positive_array("x", x)
    y = v.real_array("q", y)
    if y.shape != x.shape:
        raise ValueError(f"q must have the shape of x {x.shape}, got {y.shape}")
    if sigma is None:
        sigma = np.ones_like(y)
    else:
        given = np.shape(sigma)
        sigma = v.positive_array("sigma", sigma)
        if given == ():  # one number: the same error at every point (as fit_loss)
            sigma = np.full(x.shape, sigma.item())
        if sigma.shape != x.shape:
            raise ValueError(f"sigma must be a number or have the shape of x {x.shape}, got "
                             f"{given}")
        check_error_range("sigma", sigma, ("x", x))
    if x.size < 3:
        raise ValueError(f"need at least 3 points to fit a law, got {x.size}")
    return x, y, sigma


def fit_law(x, q, sigma=None, law: str = "family", background: bool = False,
            smearing: float | None = None) -> LawFit:
    """Fit one law to Q(x): the joint fit with one curve, given in x = w / T.

    The optimum is found from the fixed start of the module notes (amplitude max|q|, or
    max|q - min q| with a background, a = 0.5, bounds -0.999 < a < 100), in units where that
    amplitude and the median error are 1.

    Errors: ``sigma`` given is taken as absolute (chi2, its p-value and the errors rest on it).
    Without ``sigma`` the points have equal weights and one common scatter estimated from the
    residuals, as scipy's curve_fit with ``absolute_sigma=False``: the covariance is scaled by
    the residual variance RSS / dof, so the errors are in the units of q and scale with it;
    ``errors_scaled`` is True, the p-value is NaN (a goodness of fit needs known errors), chi2
    is dof (in units of the estimated scatter, which is ``rms_scatter``) and AIC / BIC are the
    profile likelihood n ln(RSS / n) + 2 (k + 1) (resp. (k + 1) ln n), the scatter counted
    among the parameters, so that laws fitted to the same points compare whatever the units.
    (Before session 28 the errors were those of unit errors, 1 in the units of q, and chi2 the
    residual sum in those units: for q ~ 1e-5 an amplitude of 1e-5 +- 0.28, an index error of
    3e5 and a p-value of 1 for every law, whatever its fit.)

    Parameters
    ----------
    x : array_like
        x = w / T (dimensionless), > 0.
    q : array_like
        Q^-1 (any units).
    sigma : array_like or float, optional
        One-standard-deviation errors of q (absolute, units of q; a number: the same for every
        point); when omitted, equal weights
        and the scatter estimated from the residuals (see above).
    law : {"tls", "generic", "family"}
        Which law.
    background : bool
        Add a constant background B.
    smearing : float, optional
        eta / w of a Gaussian line kernel, in [0, 0.5): fit the kernel-averaged laws (see
        :func:`manybody.laws.shapes.smeared`; the same rule as :func:`analyse_shape`).

    Returns
    -------
    LawFit
        With the fields every fit has; no curves or options. ``unphysical`` names an amplitude
        more than 2 errors below 0 (Q^-1 falling with x: rising with temperature), as
        :func:`fit_loss` does; other reasons are the caller's to judge. Without ``sigma``:
        ``error_model`` "unit weights", ``errors_scaled`` True, ``p_value``
        NaN, ``chi2`` equal to ``dof``; with 3 points and 3 parameters (no degree of freedom to
        estimate the scatter from) every error is inf.

    Raises
    ------
    TypeError
        x, q or sigma not real numbers; law not a string; smearing not a number; background
        not a bool.
    ValueError
        x not finite and > 0, q or sigma not of the shape of x or with NaN/inf, sigma not > 0,
        fewer than 3 points, an unknown law, smearing negative, NaN or >= 0.5, q zero at every x
        (without a background).

    Notes
    -----
    Source: docs/PHYSICS.md section 2 (the laws tanh(x/2), 1 - e^-x and the family with TLS
    index a, and the kernel-averaged laws).
    """
    background = v.boolean("background", background)  # "no" fitted one (session 31)
    smearing = check_smearing(smearing)
    x, y, s = _check_xy(x, q, sigma)
    v.choice("law", law, LAWS)
    if not background and not np.any(y):  # analyse_shape refuses the same (session 42: fit_law
        # returned an index 0.5 +- 4 for q = 0, the start of the fit, without a word)
        raise ValueError(f"q is zero at every x (x = {float(x.min()):.3g} to "
                         f"{float(x.max()):.3g}: nothing absorbs): there is no shape to fit")
    model = _Model(law, 1.0, 1, (None,), background, None, None, False, math.nan, ("q",),
                   smearing=smearing, index_bounds=FAMILY_INDEX_BOUNDS)
    # working units (:class:`FitPoints`): max|q| 1, measured from the lowest value with a
    # background, and the median error 1 (:meth:`_LeastSquares.solve_fixed_start`)
    offset = float(np.min(y)) if background else 0.0
    rel = y - offset
    # a constant under a background has rel = 0: its unit is then the data's own size (1.0 left
    # an amplitude of -1.5e-25 in the loss's units whatever they were, "negative" beside a loss
    # of 1e-100 and chi2 = 1e157; a break test, session 44)
    size = float(np.max(np.abs(rel))) or float(np.max(np.abs(y))) or 1.0
    error_unit = float(np.median(s))
    known = sigma is not None
    points = FitPoints(t=(None,), x=(x,), ys=rel / size, bs=s / error_unit,
                       groups=np.zeros(x.size, dtype=np.intp), n_per=np.array([float(x.size)]),
                       scale=size, known=known, error_model="sigma" if known else "unit weights",
                       powers=(None,), offsets=np.array([offset]), error_unit=error_unit)
    fit = law_fit_result(model, _fit_fixed_start(model, points))
    amplitude, error = fit.parameters["amplitude"], fit.errors["amplitude"]
    if amplitude < -Z_BAND * error:  # a Q^-1 falling with x (rising with T): with a background,
        # 2 - 0.3 tanh(x/2) got the verdict "TLS (tanh)" (session 32), as fit_loss flags it
        fit = replace(fit, unphysical=(f"negative amplitude (loss rising with temperature): "
                                       f"amplitude = {amplitude:.3g} +- {error:.2g}",))
    for name in fit.at_bound:  # as fit_joint's parameter_problems flags it
        fit = replace(fit, unphysical=(*fit.unphysical, (
            f"{name} = {fit.parameters[name]:.4g} ran to its bound")))
    undetermined = [n for n, e in fit.errors.items()
                    if not math.isfinite(e) and n not in fit.at_bound]  # NaN there: bounded
    if undetermined and (known or fit.dof > 0):  # at x ~ 1e-20 every law is linear in x: the
        # fit stayed at its start with infinite errors and no flag (session 33)
        fit = replace(fit, indeterminate=(*fit.indeterminate, (
            f"the data do not determine {', '.join(undetermined)} (infinite error) at x = "
            f"{float(x.min()):.3g} to {float(x.max()):.3g}")))
    if background and not np.ptp(y) and "index" in fit.parameters:  # q the same at every x:
        # the background takes it all, amplitude 0 and the index free (0.5 +- 7, unflagged)
        fit = replace(fit, indeterminate=(*fit.indeterminate, (
            f"q is the same at every x ({float(y[0]):.3g}): the background takes it all, and the "
            "data do not determine the index")))
    if not known and fit.dof <= 0:
        warnings.warn(
            f"fit_law: {fit.n_points} points and {len(fit.parameter_names)} parameters leave no "
            "degree of freedom to estimate the scatter from the residuals, so the errors are inf; "
            "give sigma or fit more points", UserWarning, stacklevel=2)
    # without sigma: chi2 in units of the scatter estimated from it, dof by construction (the
    # residual sum in the units of q is rms_scatter^2 dof)
    return fit if known else replace(fit, chi2=float(max(fit.dof, 0)))


def fit_loss(temperature, loss, frequency: float | str, *, sigma=None, power: float | None = None,
             label: str = "data", **options) -> LawFit:
    """Fit one law to one loss curve Q^-1(T) (measured or simulated).

    Parameters
    ----------
    temperature : array_like
        T (K), 0 < T < 1000 K.
    loss : array_like
        Q^-1 (any units, e.g. pi*C0 for simulated absorption), > 0, same shape.
    frequency : float or str
        w (K) or a string with a unit ("5.62GHz").
    sigma : array_like or float, optional
        Measurement errors of ``loss`` (a number: the same for every point); None: scatter
        estimated from the residuals.
    power : float, optional
        Drive power (dBm) for the saturation model.
    label : str
        Name of the curve.
    **options
        Passed to :func:`manybody.laws.fit.fit_joint` (law, background, quasiparticle, gap,
        saturation, critical_power_law, tmin, tmax, error_model).

    Returns
    -------
    LawFit

    Raises
    ------
    TypeError
        An unknown keyword (the message lists the valid ones).
    ValueError
        As :func:`manybody.laws.fit.fit_joint`, including its unit check: x = w/T entirely below 0.05 (e.g.
        temperatures in mK given as K) or above 50 (:mod:`manybody.laws.x_range`; most points
        outside, or a bare frequency meant in GHz, warns with its XRangeWarning).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.05, 1.0, 30)
    >>> fit = fit_loss(t, 1e-6 * np.tanh(0.27 / (2 * t)) + 1e-7, 0.27, law="family")
    >>> round(fit.parameters["index"], 3)
    1.0
    """
    # named as fit_loss's, not as the fit_joint it passes them to (session 25)
    v.keywords("fit_loss", options, fit_joint, ("curves", "frequency"), ("sigma", "power", "label"))
    # one number for every point is spread by LossCurve, after the check every fit's sigma goes
    # through (float(sigma) here took "0.1" and True as numbers; bt192)
    if sigma is not None and options.get("weights") is not None:  # compare_laws passes the
        # family's weights to the other laws itself, so fit_joint does not warn about them
        warn_scatter_options_with_sigma([LossCurve(temperature, loss, sigma, power, label)],
                                        weights=options["weights"])
    return fit_joint([LossCurve(temperature, loss, sigma, power, label)], frequency, **options)
