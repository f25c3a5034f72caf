"""The study's saturation table: per sweep point and temperature, the exponent beta of
Q^-1(P) = Q^-1(0) (1 + P/Pc)^-beta fitted to the realisation mean of the ``saturation`` observable,
with bootstrap errors over realisations, the critical amplitude, and the test of beta = 1/2
(docs/PHYSICS.md section 8, "Fitting the exponent"; issue 18)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from manybody.config.model import ModelParams
from manybody.laws.saturation import REFERENCE_BETA
from manybody.laws.saturation_comparison import analyse_saturation
from manybody.runs.results import check_results_dataset, dataset_spec, sweep_points
from manybody.runs.spec import RunSpec
from manybody.simulation.materials import bath
from manybody.simulation.observables.saturation import critical_amplitude
from manybody.support import validate as v
from manybody.support.table_text import plus_minus

log = logging.getLogger(__name__)

#: Bootstrap resamples of the realisations for the errors of beta and Pc.
SATURATION_BOOTSTRAP = 200


@dataclass(frozen=True)
class SaturationSummary:
    """The saturation law of one sweep point at one temperature (one row of the table).

    Attributes
    ----------
    study, parameter, value, n_tls, realisations
        As :class:`manybody.study.summary.PointSummary`.
    model : str
        The model in words ("independent TLS", "dipolar J0 = 0.03 K", ...).
    temperature, x : float
        T (K) and x = w / T at the probe frequency w.
    linear_loss, linear_loss_error : float
        Realisation mean of Q^-1 at e0 = 0 (units pi*C0) and its standard error.
    beta, beta_error : float
        Free exponent of (1 + P/Pc)^-beta (no background) and its bootstrap error.
    critical_amplitude, critical_amplitude_error : float
        Fitted e_c (strain; P/Pc = (e0/e_c)^2) and its bootstrap error.
    reference_amplitude : float
        e_c of a resonant TLS with the spec's deformation potential (Omega^2 T1 T2 = 1,
        :func:`critical_amplitude`): where independent TLS with pure dephasing saturate.
    critical_power_ratio : float
        Fitted Pc in units of the reference Pc, (e_c / reference_amplitude)^2 (1 for independent
        TLS with pure dephasing).
    p_value_half : float
        Two-sided probability of |beta - 1/2| at least as large as observed if beta were 1/2,
        from z = (beta - 1/2) / beta_error with the bootstrap error (normal). Not the likelihood
        ratio of the fit: the errors of the realisation mean are correlated across amplitudes
        (the same realisations at every amplitude), so its chi2 is not chi2-distributed (the
        reduced chi2 is well below 1).
    reduced_chi2 : float
        chi2 / dof of the free fit (weights: standard errors of the mean, taken independent).
    """

    study: str
    parameter: str
    value: Any
    model: str
    n_tls: int
    realisations: int
    temperature: float
    x: float
    linear_loss: float = math.nan
    linear_loss_error: float = math.nan
    beta: float = math.nan
    beta_error: float = math.nan
    critical_amplitude: float = math.nan
    critical_amplitude_error: float = math.nan
    reference_amplitude: float = math.nan
    critical_power_ratio: float = math.nan
    p_value_half: float = math.nan
    reduced_chi2: float = math.nan


def model_name(model) -> str:
    """A sweep point's model in words, from its parameters (ModelParams)."""
    v.instance("model", model, ModelParams, "a ModelParams (a sweep point's model parameters)")
    if model.tls is None:
        rm = model.random_matrix
        return f"{rm.kind} random block" if rm is not None else "no model"
    parts = []
    if model.coupling is not None and model.coupling.strength > 0:
        parts.append(f"{model.coupling.kind} J0 = {model.coupling.strength:g} K")
    if model.random_matrix is not None and model.random_matrix.weight > 0:
        parts.append(f"{model.random_matrix.kind.upper()} {model.random_matrix.weight:g} K")
    return "TLS + " + " + ".join(parts) if parts else "independent TLS"


def saturation_rows(ds, name: str, label_of, n_bootstrap: int = SATURATION_BOOTSTRAP
                    ) -> list[SaturationSummary]:
    """Fit the saturation law at every sweep point and temperature of a results file.

    Parameters
    ----------
    ds : xarray.Dataset
        Results with the ``saturation`` variable, dims (..., realisation, temperature,
        frequency, amplitude); the first frequency is used.
    name : str
        Study name for the table.
    label_of : callable
        ``label_of(spec, index) -> {"parameter": ..., "value": ...}`` of a sweep point.
    n_bootstrap : int
        Resamples for the errors.

    Returns
    -------
    list of SaturationSummary
        Empty without ``saturation``; a point whose curve cannot be fitted (e.g. it does not
        decrease) keeps its linear loss and NaN for the fit (and a warning in the log).
    """
    check_results_dataset("saturation_rows", "ds", ds, data_array=(
        "pass the whole Dataset (load_results(path))"))
    v.string("name", name)
    v.callable_or_none("label_of", label_of, "a function label_of(spec, index)")
    if label_of is None:
        raise TypeError("label_of must be a function label_of(spec, index), got None")
    n_bootstrap = v.bootstrap_count("n_bootstrap", n_bootstrap)
    if "saturation" not in ds:
        return []
    spec = dataset_spec(ds)
    amplitude = ds["amplitude"].values
    rows = []
    for point in sweep_points(ds, spec):
        q = point.data["saturation"].isel(frequency=0).transpose(
            "temperature", "realisation", "amplitude").values
        for k, t in enumerate(ds["temperature"].values):
            rows.append(_row(spec, point, float(t), amplitude, q[k], n_bootstrap,
                             dict(study=name, **label_of(spec, point.index))))
    return rows


def _row(spec: RunSpec, point, temperature: float, amplitude: np.ndarray, q: np.ndarray,
         n_bootstrap: int, label: dict[str, Any]) -> SaturationSummary:
    """One row: the fit of q (n_realisations, n_amplitude) against the amplitudes."""
    w = float(spec.probe.frequencies[0])
    drive = spec.probe.saturation
    reference = critical_amplitude(
        w, temperature, bath(spec.probe.phonon_rate_prefactor).rate_prefactor,
        dephasing_rate=drive.dephasing_rate, stress_scale=point.model.stress.deformation_potential)
    n_real = q.shape[0]
    zero = amplitude == 0
    q0 = q[:, zero].mean(axis=1) if zero.any() else np.full(n_real, math.nan)
    fields: dict[str, Any] = {
        "linear_loss": float(np.mean(q0)),
        "linear_loss_error": float(np.std(q0, ddof=1) / math.sqrt(n_real)) if n_real > 1 else math.nan,
        "reference_amplitude": reference}
    try:
        fit = analyse_saturation(amplitude, q, n_bootstrap=n_bootstrap,
                                 rng=np.random.default_rng(0), scale="amplitude", background=False)
    except (ValueError, RuntimeError) as exc:
        log.warning("no saturation fit at %s, T = %g K: %s", point.index, temperature, exc)
    else:
        free = fit.comparison.free
        fields.update(beta=fit.beta, beta_error=fit.beta_error,
                      critical_amplitude=fit.critical_power,
                      critical_amplitude_error=fit.critical_power_error,
                      critical_power_ratio=(fit.critical_power / reference) ** 2,
                      p_value_half=_p_value(fit.beta, fit.beta_error),
                      reduced_chi2=free.chi2 / free.dof if free.dof > 0 else math.nan)
    return SaturationSummary(**label, model=model_name(point.model), n_tls=point.model.n_tls,
                             realisations=n_real, temperature=temperature, x=w / temperature,
                             **fields)


def _p_value(beta: float, error: float) -> float:
    """Two-sided normal p-value of beta = 1/2 given beta +- error (NaN without an error)."""
    from scipy import stats

    if not (math.isfinite(error) and error > 0):
        return math.nan
    return float(2.0 * stats.norm.sf(abs(beta - REFERENCE_BETA) / error))


def _g(value: float, error: float = math.nan) -> str:
    if not math.isfinite(value):
        return "-"
    return f"{value:.3g} ± {error:.2g}" if math.isfinite(error) else f"{value:.3g}"


def format_saturation_table(rows: list[SaturationSummary]) -> str:
    """The saturation rows as a Markdown table."""
    v.instance("rows", rows, list | tuple, "a list of SaturationSummary (saturation_rows(...))")
    for i, r in enumerate(rows):
        v.instance(f"rows[{i}]", r, SaturationSummary, "a SaturationSummary (saturation_rows(...))")
    lines = [f"| study | model | N | realisations | x = w/T | Q^-1(0) | beta | e_c "
             f"| Pc / Pc(TLS) | p (beta = {REFERENCE_BETA:g}) | chi2/dof |",
             "|" + "---|" * 11]
    for r in rows:
        lines.append(
            f"| {r.study} | {r.model} | {r.n_tls} | {r.realisations} | {r.x:g} "
            f"| {_g(r.linear_loss, r.linear_loss_error)} | {plus_minus(r.beta, r.beta_error, 3)} "
            f"| {_g(r.critical_amplitude, r.critical_amplitude_error)} "
            f"| {_g(r.critical_power_ratio)} "
            f"| {f'{r.p_value_half:.2g}' if math.isfinite(r.p_value_half) else '-'} "
            f"| {_g(r.reduced_chi2)} |")
    return "\n".join(lines)


__all__ = ["SaturationSummary", "SATURATION_BOOTSTRAP", "model_name", "saturation_rows",
           "format_saturation_table"]
