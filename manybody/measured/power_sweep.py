"""Measured power sweeps: loss curves Q^-1(T) at several drive powers -> Q^-1(P) at each
temperature -> the saturation law (1 + P/Pc)^-beta fitted with beta free and fixed at 1/2.

Temperatures: only those present in every curve are used (no interpolation: an interpolated
point would carry the interpolation error of a curve measured elsewhere); two temperatures are
the same when they differ by less than ``TEMPERATURE_TOLERANCE`` (relative). Powers: one per
curve, in dB of a unit (dBm, or dB(photons) = 10 log10 n), all in the same unit and distinct.

Fits (:mod:`manybody.laws.saturation`): beta shared by all temperatures (free, and fixed at 1/2,
with the nested test between them), each temperature with its own Q^-1_0, Pc and background;
and beta free per temperature (with the same test at each). A temperature whose loss does not
decrease from the lowest to the highest power is left out of all fits, with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from manybody.laws.inputs import (
    ERROR_MODELS,
    MIN_POWER_SPAN,
    LossCurve,
    check_one_power_unit,
    loss_curve_list,
    window_curves,
    window_text,
)
from manybody.laws.saturation import BETA_BOUNDS, PC_DECADES, REFERENCE_BETA
from manybody.laws.saturation_comparison import (
    ExponentComparison,
    compare_exponent,
    per_curve_exponents,
)
from manybody.support import validate as v

#: Two temperatures closer than this (relative) are the same temperature.
TEMPERATURE_TOLERANCE = 1e-3
#: Fewest distinct powers a power sweep needs (amplitude and Pc per temperature and the shared
#: beta; one more with a background, checked by :func:`fit_power_sweep`).
MIN_POWERS = 3


@dataclass(frozen=True)
class PowerSweep:
    """Loss on a (temperature, power) grid.

    Attributes
    ----------
    temperature : numpy.ndarray
        Common temperatures (K), shape (n_T,), increasing.
    power : numpy.ndarray
        Drive powers in dB of ``power_unit``, shape (n_P,), increasing.
    loss : numpy.ndarray
        Q^-1, shape (n_T, n_P).
    sigma : numpy.ndarray or None
        Errors of the loss, shape (n_T, n_P), or None.
    power_unit : str
        "dBm" or "dB(photons)".
    labels : tuple of str
        Curve label of each power.
    left_out : tuple of str
        Temperatures not common to all curves, with the curves that lack them.
    """

    temperature: np.ndarray
    power: np.ndarray
    loss: np.ndarray
    sigma: np.ndarray | None
    power_unit: str
    labels: tuple
    left_out: tuple = ()

    def curve(self, i: int) -> tuple:
        """(power, loss[, sigma]) at temperature i."""
        if self.sigma is None:
            return (self.power, self.loss[i])
        return (self.power, self.loss[i], self.sigma[i])


def power_sweep(curves: list[LossCurve], tmin: float | None = None,
                tmax: float | None = None) -> PowerSweep:
    """Arrange loss curves at different powers on their common temperatures.

    Parameters
    ----------
    curves : list of LossCurve
        One curve per drive power, each with ``power`` set (dB of one ``power_unit``).
    tmin, tmax : float, optional
        Temperature window (K), inclusive.

    Returns
    -------
    PowerSweep

    Raises
    ------
    ValueError
        A curve without a power; mixed power units; two curves at the same power (named; a
        power column that disagrees with the nominal power of a file is the usual cause);
        fewer than ``MIN_POWERS`` powers; no temperature common to all curves in the window;
        a curve with a repeated temperature; sigma for some curves only.
    """
    tmin, tmax = v.window_edges(tmin, tmax)  # '30mK' or a reversed pair failed later (bt190)
    curves = loss_curve_list(curves)  # a LossTable: "'LossTable' object is not iterable" (bt187)
    if len(curves) < MIN_POWERS:
        raise ValueError(f"a power sweep needs at least {MIN_POWERS} curves at distinct powers "
                         f"({MIN_POWERS + 1} with a background), got {len(curves)}")
    missing = [c.label for c in curves if c.power is None]
    if missing:
        raise ValueError(f"every curve of a power sweep needs a drive power; none for "
                         f"{', '.join(map(repr, missing))}")
    check_one_power_unit(curves, "a power sweep")
    by_power: dict[float, str] = {}
    for c in curves:
        if c.power in by_power:
            raise ValueError(f"curves {by_power[c.power]!r} and {c.label!r} are both at "
                             f"{c.power:g} {c.power_unit}: a power sweep needs one curve per "
                             "power (when a file's power column disagrees with its nominal "
                             "power, give the powers explicitly)")
        by_power[c.power] = c.label
    span = max(by_power) - min(by_power)
    if span < MIN_POWER_SPAN:  # as a saturation fit (laws.fit): a hair apart cannot separate
        # the amplitude from the critical power
        raise ValueError(f"the powers of a power sweep must span at least {MIN_POWER_SPAN:g} dB "
                         f"to separate the amplitude from the critical power, got "
                         f"{', '.join(f'{p:g}' for p in sorted(by_power))} {curves[0].power_unit}")
    if len({c.sigma is None for c in curves}) > 1:
        raise ValueError("sigma must be given for all curves or for none")
    windowed = window_curves(curves, tmin, tmax)
    for c in windowed:
        t = np.sort(c.temperature)
        if np.any(np.diff(t) <= TEMPERATURE_TOLERANCE * t[1:]):
            raise ValueError(f"curve {c.label!r} has a repeated temperature; average repeats "
                             "before fitting a power sweep")
    ref = windowed[0].temperature

    def match(c: LossCurve, t: float) -> int | None:
        d = np.abs(c.temperature - t)
        i = int(np.argmin(d)) if d.size else -1
        return i if i >= 0 and d[i] <= TEMPERATURE_TOLERANCE * t else None

    common = sorted(float(t) for t in ref if all(match(c, t) is not None for c in windowed))
    all_t = sorted({round(float(t), 9) for c in windowed for t in c.temperature})
    left_out = []
    for t in all_t:
        lacking = [c.label for c in windowed if match(c, t) is None]
        if lacking:
            left_out.append(f"{t:g} K (not in {', '.join(lacking)})")
    if not common:  # say how temperatures are matched and how far off the nearest is (the
        # bare message left a user with 0.5 % jitter guessing, session 35)
        t0 = float(ref[0])
        offs = [min(abs(c.temperature - t0)) / t0 for c in windowed[1:]]
        worst = int(np.argmax(offs)) + 1
        raise ValueError(f"no temperature common to all {len(curves)} curves in the window "
                         f"{window_text(tmin, tmax)}: temperatures are matched within "
                         f"{TEMPERATURE_TOLERANCE:.1%} of each other, and the nearest to "
                         f"{t0:g} K of {windowed[0].label!r} in {windowed[worst].label!r} is "
                         f"{offs[worst - 1]:.2%} away; the fit does not interpolate (an "
                         "interpolated point would carry the error of a curve measured "
                         "elsewhere): measure the curves at the same temperatures, or, where "
                         "they are readings about common setpoints, write each reading as its "
                         "setpoint (or average the readings per setpoint) in every file")
    order = np.argsort([c.power for c in windowed])
    windowed = [windowed[i] for i in order]
    idx = [[match(c, t) for c in windowed] for t in common]
    loss = np.array([[c.loss[i] for c, i in zip(windowed, row, strict=True)] for row in idx])
    sigma = None
    if windowed[0].sigma is not None:
        sigma = np.array([[c.sigma[i] for c, i in zip(windowed, row, strict=True)]
                          for row in idx])
    temperature = np.array([np.mean([c.temperature[i] for c, i in zip(windowed, row,
                                                                       strict=True)])
                            for row in idx])
    return PowerSweep(temperature, np.array([c.power for c in windowed], dtype=np.float64), loss,
                      sigma, windowed[0].power_unit, tuple(c.label for c in windowed),
                      tuple(left_out))


def temperature_label(t: float) -> str:
    """Parameter label of a temperature: "0.1K"."""
    return f"{t:.4g}K"


@dataclass(frozen=True)
class PowerSweepFit:
    """Saturation fits of a power sweep.

    Attributes
    ----------
    sweep : PowerSweep
        The data.
    fitted : numpy.ndarray
        Indices of the temperatures fitted (those whose loss decreases with power).
    not_decreasing : tuple of str
        Temperatures left out because their loss does not decrease with power.
    shared : ExponentComparison
        beta shared by all fitted temperatures: free and fixed at 1/2, with the test.
    per_temperature : list
        Per fitted temperature an ExponentComparison of its own, or the reason it could not be
        fitted (str).
    beta_consistency : dict
        chi2 of the per-temperature betas about the shared one (with their errors), its dof and
        p-value: does beta depend on temperature? (Uses the temperatures whose beta is
        determined: free fit not on a bound.) "test" says how: "chi2" with given errors, "F"
        with a scatter estimated from the residuals, pooled over the per-temperature fits
        ("scatter_dof" its degrees of freedom).
    options : dict
        background, error_model, reference_beta.
    """

    sweep: PowerSweep
    fitted: np.ndarray
    not_decreasing: tuple
    shared: ExponentComparison
    per_temperature: list = field(repr=False)
    beta_consistency: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)

    def critical_power(self, fit: str = "free") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pc per fitted temperature from the shared fit ``fit`` ("free" or "fixed"): values,
        errors (dB), and whether Pc is determined (not on its bound, error below the
        ``PC_DECADES`` margin searched beyond the measured powers)."""
        f = self.shared.free if fit == "free" else self.shared.fixed
        values, errors, ok = [], [], []
        for j in range(len(self.fitted)):
            name = f.parameter_name("critical_power", j)
            values.append(f.parameters[name])
            errors.append(f.errors[name])
            ok.append(name not in f.at_bound and f.errors[name] < 10.0 * PC_DECADES)
        return np.array(values), np.array(errors), np.array(ok)

    def to_dict(self) -> dict:
        per = []
        for i, r in zip(self.fitted, self.per_temperature, strict=True):
            t = float(self.sweep.temperature[i])
            per.append({"temperature_K": t, "reason": r} if isinstance(r, str) else
                       {"temperature_K": t, **r.to_dict()})
        pc, pc_err, ok = self.critical_power("free")
        pc_half, pc_half_err, ok_half = self.critical_power("fixed")
        return {
            "temperatures_fitted_K": self.sweep.temperature[self.fitted].tolist(),
            "not_decreasing": list(self.not_decreasing),
            "shared_beta": self.shared.to_dict(),
            "critical_power_free": [p if o else None for p, o in zip(pc, ok, strict=True)],
            "critical_power_free_error": [e if o else None
                                          for e, o in zip(pc_err, ok, strict=True)],
            "critical_power_half": [p if o else None for p, o in zip(pc_half, ok_half,
                                                                     strict=True)],
            "critical_power_half_error": [e if o else None for e, o in zip(pc_half_err, ok_half,
                                                                           strict=True)],
            "per_temperature": per, "beta_consistency": self.beta_consistency,
            "options": self.options,
        }


def _consistency(shared: ExponentComparison, per: list) -> dict:
    """Do the per-temperature betas scatter about the shared one beyond their errors?

    With given errors: chi2 = sum of squared pulls against chi2(k - 1). With a scatter estimated
    from the residuals, each fit's own estimate rests on its few degrees of freedom (one, for
    five powers with a background) and its beta errors are as rough: their chi2 came out at
    p ~ 0 for data with one beta at every temperature (session 33). The errors are then put on
    the scatter pooled over the per-temperature fits, s^2 = sum chi2_i / sum dof_i (each of them
    free in beta, so a beta that does vary does not inflate it), and the statistic
    F = chi2 / (k - 1) is tested against F(k - 1, sum dof_i).
    """
    from scipy import stats

    beta = shared.free.parameters["beta"]
    used = [r.free for r in per if not isinstance(r, str) and beta_determined(r.free)]
    if not beta_determined(shared.free):  # no shared beta to test the others against
        used = []
    k = len(used)
    scaled = any(f.errors_scaled for f in used)
    if scaled:
        used = [f for f in used if f.dof > 0 and f.chi2 > 0]
        k = len(used)
    if k < 2:
        return {"chi2": None, "dof": 0, "p_value": None, "n_temperatures": k}
    errors = np.array([f.errors["beta"] for f in used])
    pulls = np.array([f.parameters["beta"] for f in used]) - beta
    if not scaled:
        chi2 = float(np.sum(np.square(pulls / errors)))
        return {"chi2": chi2, "dof": k - 1, "p_value": float(stats.chi2.sf(chi2, k - 1)),
                "n_temperatures": k, "test": "chi2"}
    own = np.array([f.chi2 / f.dof for f in used])  # each fit's own scatter^2
    scatter_dof = int(sum(f.dof for f in used))
    pooled = float(sum(f.chi2 for f in used)) / scatter_dof
    chi2 = float(np.sum(np.square(pulls / (errors * np.sqrt(pooled / own)))))
    return {"chi2": chi2, "dof": k - 1,
            "p_value": float(stats.f.sf(chi2 / (k - 1), k - 1, scatter_dof)),
            "n_temperatures": k, "test": "F", "scatter_dof": scatter_dof}


def fit_power_sweep(sweep: PowerSweep, *, background: bool = True, error_model: str = "relative",
                    reference_beta: float = REFERENCE_BETA) -> PowerSweepFit:
    """Fit the saturation law at every temperature of a power sweep (module notes).

    Parameters
    ----------
    sweep : PowerSweep
        From :func:`power_sweep`.
    background : bool
        A power-independent background loss per temperature (quasiparticles, radiation).
    error_model : {"relative", "absolute"}
        Scatter model when the data carry no errors.
    reference_beta : float
        The fixed exponent compared with the free one (1/2: independent TLS).

    Returns
    -------
    PowerSweepFit

    Raises
    ------
    ValueError
        No temperature whose loss decreases with power; and as
        :func:`manybody.laws.saturation.fit_saturation_joint`.
    """
    # None or a file name got "'NoneType' object has no attribute 'power'" (bt190)
    v.instance("sweep", sweep, PowerSweep, "a PowerSweep (from power_sweep(curves))",
               reader="read_loss_table(path), then power_sweep(curves)")
    # the switches first: "no" counted as True in the size check below (a break test, 45)
    background = v.boolean("background", background)
    v.choice("error_model", error_model, ERROR_MODELS)
    reference_beta = v.positive("reference_beta", reference_beta)
    lowest, highest = int(np.argmin(sweep.power)), int(np.argmax(sweep.power))
    decreasing = sweep.loss[:, highest] < sweep.loss[:, lowest]
    fitted = np.flatnonzero(decreasing)
    not_decreasing = tuple(
        f"{t:g} K (loss {sweep.loss[i, highest]:.4g} at {sweep.power[highest]:g} "
        f"{sweep.power_unit} not below {sweep.loss[i, lowest]:.4g} at {sweep.power[lowest]:g})"
        for i, t in enumerate(sweep.temperature) if not decreasing[i])
    if fitted.size == 0:
        raise ValueError("no temperature whose loss decreases with power: nothing saturates")
    own = 2 + int(bool(background))  # amplitude, Pc (and background) per temperature
    n_power = sweep.power.size
    if fitted.size * n_power <= fitted.size * own + 1:  # + the shared beta
        needed = own + 1 + (1 if fitted.size == 1 else 0)
        raise ValueError(
            f"{n_power} powers at {fitted.size} temperature(s) give {fitted.size * n_power} "
            f"points for {fitted.size * own + 1} parameters (amplitude, Pc"
            f"{', background' if background else ''} per temperature and a shared beta): a "
            f"power sweep {'with a background ' if background else ''}needs at least {needed} "
            f"powers here" + ("; or fit without the background (background=False, "
                              "--no-background)" if background else ""))
    labels = [temperature_label(t) for t in sweep.temperature[fitted]]
    options = {"background": background, "scale": "dB", "error_model": error_model}
    curves = [sweep.curve(i) for i in fitted]
    shared = compare_exponent(curves, reference_beta=reference_beta, labels=labels, **options)
    per = per_curve_exponents(curves, labels, reference_beta=reference_beta, **options)
    return PowerSweepFit(sweep, fitted, not_decreasing, shared, per, _consistency(shared, per),
                         {**options, "reference_beta": reference_beta})


def beta_determined(fit) -> bool:
    """Whether a saturation fit determines its exponent beta: not on a bound, with an error
    above 0 and below the width of ``BETA_BOUNDS`` (errors of 1e6 and 590 were counted as
    determined and tested, "beta = 1/2 is not rejected"; a tester, bt205)."""
    error = fit.errors["beta"]
    return ("beta" not in fit.at_bound and math.isfinite(error)
            and 0 < error < BETA_BOUNDS[1] - BETA_BOUNDS[0])


def beta_summary(fit: PowerSweepFit) -> str:
    """One line: the shared beta, its error and what the test says about beta = 1/2 (that
    nothing is said when the data do not determine beta, :func:`beta_determined`)."""
    c = fit.shared
    b, e = c.free.parameters["beta"], c.free.errors["beta"]
    if not beta_determined(c.free):
        return (f"shared beta not determined ({b:.3g} +- {e:.2g}, or on a bound; its range is "
                f"{BETA_BOUNDS[0]:g} to {BETA_BOUNDS[1]:g}); the test of beta = 1/2 says nothing "
                f"(p = {c.p_value:.3g}): measure powers that span the critical power")
    verdict = ("beta = 1/2 is not rejected" if c.preferred == "fixed" else
               "beta = 1/2 is rejected")
    z = f", {abs(c.z):.3g} sigma from 1/2" if math.isfinite(c.z) else ""
    difference = "Delta chi2" if c.test == "likelihood-ratio" else "Delta RSS"  # F: no chi2
    return (f"shared beta = {b:.3g} +- {e:.2g}{z}; {verdict} ({c.test} test, {difference} = "
            f"{c.delta_chi2:.4g}, statistic {c.statistic:.4g}, p = {c.p_value:.3g})")
