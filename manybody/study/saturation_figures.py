"""The saturation comparison figure: Q^-1/Q^-1(0) against P/Pc for several models on one axis,
with the independent-TLS law 1/sqrt(1 + P/Pc) and each model's best-fit (1 + P/Pc)^-beta
(docs/PHYSICS.md section 8), and the fitted exponents side by side.

:func:`figure_saturation_models` takes plain arrays, so any source can feed it (a measured sweep);
the fits are :func:`manybody.laws.saturation.fit_saturation` when no exponents are given.
:func:`figure_saturation_study` draws it from a study's saturation sweeps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from manybody.laws.saturation import REFERENCE_BETA, fit_saturation, saturation_factor
from manybody.runs.results import dataset_spec, load_results, sweep_points
from manybody.study.catalogue import SATURATION_SPECS
from manybody.study.saturation_table import model_name
from manybody.study.summary import read_saturation
from manybody.support import validate as v
from manybody.support.style import (
    MARKERS,
    PALETTE,
    axis_label,
    new_figure,
    save_figure,
    style_context,
    symbolise,
)

#: The independent-TLS law and the fitted family, as legends write them.
REFERENCE_LAW = r"$1/\sqrt{1 + P/P_c}$"
FITTED_LAW = r"$(1 + P/P_c)^{-\beta}$"


def _per_model(name: str, value, n: int, size: int | None = None) -> list:
    """A sequence with one entry per model (an array shared by all models is repeated)."""
    if value is None:
        return [None] * n
    if isinstance(value, np.ndarray) and value.ndim == 1 or (
            isinstance(value, Sequence) and value and np.ndim(value[0]) == 0):
        return [value] * n
    if len(value) != n:
        raise ValueError(f"{name} must have one entry per model ({n}), got {len(value)}")
    return list(value)


def beta_text(beta: float, error: float) -> str:
    """An exponent beta for a legend: two decimals for every model alike (the legend mixed
    "0.5" and "0.487"; a referee, session 39), with its error ("< 0.01" below what two decimals show)."""
    if not (math.isfinite(error) and error > 0):
        return f"{beta:.2f}"
    return f"{beta:.2f} ± {error:.2f}" if error >= 0.005 else f"{beta:.2f} ± <0.01"


def _checked(power_ratio, curves, errors, labels, betas, beta_errors):
    n = len(labels)
    if n == 0:
        raise ValueError("labels must name at least one model, got none")
    if len(curves) != n:
        raise ValueError(f"curves must have one entry per model ({n}), got {len(curves)}")
    ratios = _per_model("power_ratio", power_ratio, n)
    errs = _per_model("errors", errors, n)
    models = []
    for i, lb in enumerate(labels):
        x = v.real_array(f"power_ratio of {lb!r}", ratios[i])
        y = v.positive_array(f"curve of {lb!r}", curves[i])
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError(f"power_ratio and curve of {lb!r} must be 1-d of one length, got "
                             f"{x.shape} and {y.shape}")
        if np.any(x < 0):
            raise ValueError(f"power_ratio of {lb!r} must be >= 0 (P/Pc), got {x.min():g}")
        e = None if errs[i] is None else v.positive_array(f"errors of {lb!r}", errs[i])
        if e is not None and e.shape != y.shape:
            raise ValueError(f"errors of {lb!r} must have the shape of its curve {y.shape}, "
                             f"got {e.shape}")
        models.append((x, y, e))
    if betas is not None and len(betas) != n:
        raise ValueError(f"betas must have one entry per model ({n}), got {len(betas)}")
    if beta_errors is not None and len(beta_errors) != n:
        raise ValueError(f"beta_errors must have one entry per model ({n}), got "
                         f"{len(beta_errors)}")
    return models


def draw_saturation_models(power_ratio, curves, labels: Sequence[str], *, errors=None,
                           betas=None, beta_errors=None):
    """The figure (not saved); see :func:`figure_saturation_models` for the parameters.

    Returns
    -------
    matplotlib.figure.Figure
        Panels (a) Q^-1/Q^-1(0) against P/Pc, (b) the exponents beta.
    """
    models = _checked(power_ratio, curves, errors, labels, betas, beta_errors)
    fitted_betas, fitted_errors = [], []
    with style_context():
        fig = new_figure(figsize=(8.0, 3.6), layout="constrained")
        ax, bx = fig.subplots(1, 2, width_ratios=(2.2, 1))
        positive = np.concatenate([x[x > 0] for x, _, _ in models])
        lo = float(positive.min()) / 2 if positive.size else 1e-2
        hi = float(positive.max()) * 2 if positive.size else 1e2
        fine = np.geomspace(lo, hi, 200)
        ax.plot(fine, saturation_factor(fine, REFERENCE_BETA), "k-", lw=1.6,
                label=f"{REFERENCE_LAW} (independent TLS)")
        for i, ((x, y, e), lb) in enumerate(zip(models, labels, strict=True)):
            col, mark = PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]
            if betas is not None and betas[i] is not None:
                beta = float(betas[i])
                err = math.nan if beta_errors is None else float(beta_errors[i])
                best = saturation_factor(fine, beta)
            else:
                try:
                    fit = fit_saturation(x, y, e, background=False)
                except (ValueError, RuntimeError):  # e.g. a curve that does not saturate
                    beta, err, best = math.nan, math.nan, None
                else:
                    beta, err = fit.parameters["beta"], fit.errors["beta"]
                    best = fit.predict(fine) / fit.predict([0.0])[0]
            fitted_betas.append(float(beta))
            fitted_errors.append(float(err))
            keep = x > 0
            ax.errorbar(x[keep], y[keep], None if e is None else e[keep], fmt=mark, color=col,
                        ms=3.5, label=symbolise(lb))
            if best is not None:
                ax.plot(fine, best, "--", color=col, lw=1.0,
                        label=rf"{FITTED_LAW}, $\beta$ = {beta_text(beta, err)}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(axis_label("drive power $P/P_c$"))
        ax.set_ylabel(axis_label(r"$Q^{-1} / Q^{-1}(P \to 0)$"))
        ax.set_title("(a) saturation of the loss", fontsize=9)
        # below the axes: inside it the legend covered the strongly saturated points
        ax.legend(fontsize=6.5, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.2),
                  frameon=False)
        pos = np.arange(len(labels))
        bx.errorbar(pos, fitted_betas, [0.0 if not math.isfinite(x) else x
                                        for x in fitted_errors], fmt="o", color="C0")
        bx.axhline(REFERENCE_BETA, color="k", ls="--", lw=0.8)
        bx.set_xticks(pos, [symbolise(lb) for lb in labels], rotation=30, ha="right", fontsize=7)
        bx.set_ylabel(axis_label(r"exponent $\beta$"))
        bx.set_xlim(-0.5, len(labels) - 0.5)
        bx.set_ylim(bottom=0.0)
        bx.set_title("(b) fitted exponent\n(dashed: $\\beta$ = 1/2, independent TLS)", fontsize=9)
    return fig


def figure_saturation_models(power_ratio, curves, labels: Sequence[str], out: Path, *,
                             errors=None, betas=None, beta_errors=None,
                             name: str = "saturation_models") -> list[Path]:
    """Q^-1/Q^-1(0) against P/Pc for several models on one axis, with 1/sqrt(1 + P/Pc) and the
    best-fit (1 + P/Pc)^-beta of each; the exponents in a second panel.

    Parameters
    ----------
    power_ratio : array_like or sequence of array_like
        P/Pc >= 0, shape (n_power,), shared by all models, or one array per model (each with
        its own fitted Pc).
    curves : sequence of array_like
        Q^-1/Q^-1(P -> 0) per model, each of the shape of its power_ratio, > 0.
    labels : sequence of str
        Model names (legend and panel (b)).
    out : Path
        Output directory; ``name.pdf`` and ``name.png`` are written.
    errors : array_like or sequence, optional
        One-standard-deviation errors of the curves (per model, or None).
    betas, beta_errors : sequence of float, optional
        Best-fit exponent per model and its error (e.g. from
        :func:`manybody.laws.saturation_comparison.analyse_saturation`); without them each curve is fitted
        here with (1 + P/Pc)^-beta (no background); a curve that cannot be fitted (one that
        does not decrease) is drawn without a best-fit curve and with beta NaN.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ValueError
        Lengths that do not match the models; negative P/Pc; curves not > 0; non-finite
        values; and as :func:`manybody.laws.saturation.fit_saturation` when fitting.
    """
    fig = draw_saturation_models(power_ratio, curves, labels, errors=errors, betas=betas,
                                 beta_errors=beta_errors)
    with style_context():
        return save_figure(fig, Path(out), name)


def _study_curves(study_dir: Path):
    """Per sweep point of the study's saturation files, at their first temperature: (label,
    e0, Q^-1/Q^-1(0), its standard error, summary row or None)."""
    rows = {(r.study, r.model, r.temperature): r for r in read_saturation(study_dir)}
    out = []
    for name in SATURATION_SPECS:
        path = study_dir / f"{name}.nc"
        if not path.exists():
            continue
        ds = load_results(path)
        spec = dataset_spec(ds)
        t = float(ds["temperature"].values[0])
        e0 = ds["amplitude"].values
        for point in sweep_points(ds, spec):
            q = point.data["saturation"].isel(frequency=0, temperature=0).transpose(
                "realisation", "amplitude").values
            q0 = float(q[:, e0 == 0].mean()) if np.any(e0 == 0) else float(q[:, 0].mean())
            err = q.std(axis=0, ddof=1) / math.sqrt(q.shape[0]) if q.shape[0] > 1 else None
            model = model_name(point.model)
            out.append((model, e0, q.mean(axis=0) / q0, None if err is None else err / q0,
                        rows.get((name, model, t)), spec.probe.frequencies[0] / t))
    return out


def figure_saturation_study(study_dir: str | Path, out: str | Path) -> list[Path]:
    """The figure ``saturation_models`` of a study: every saturation sweep point (files
    ``SATURATION_SPECS``) at its first temperature, Q^-1/Q^-1(0) against P/Pc with each model's
    fitted critical amplitude (``saturation.json``; without it, the fit here), its best-fit
    (1 + P/Pc)^-beta and 1/sqrt(1 + P/Pc). No files without saturation results."""
    curves = _study_curves(Path(study_dir))
    if not curves:
        return []
    ratios, ys, errs, labels, betas, beta_errors = [], [], [], [], [], []
    for model, e0, y, err, row, x in curves:
        if row is not None and math.isfinite(row.critical_amplitude) and math.isfinite(row.beta):
            ec, beta, beta_err = row.critical_amplitude, row.beta, row.beta_error
        else:  # no summary row: fit the mean curve here (amplitude scale)
            try:
                fit = fit_saturation(e0, y, err, background=False, scale="amplitude")
            except (ValueError, RuntimeError):
                continue  # a curve that does not saturate: not on a P/Pc axis
            ec, beta, beta_err = (fit.parameters["critical_power"], fit.parameters["beta"],
                                  fit.errors["beta"])
        keep = y > 0
        ratios.append((e0[keep] / ec) ** 2)
        ys.append(y[keep])
        errs.append(None if err is None else np.maximum(err[keep], 1e-12))
        labels.append(f"{model} ($x$ = {x:g})")
        betas.append(beta)
        beta_errors.append(beta_err)
    if not labels:
        return []
    errors = None if any(e is None for e in errs) else errs
    return figure_saturation_models(ratios, ys, labels, Path(out), errors=errors, betas=betas,
                                    beta_errors=beta_errors)
