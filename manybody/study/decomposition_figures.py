"""Figures of the decomposition Q = tanh(x/2) rho_eff(w, T) (docs/PHYSICS.md section 7), drawn
from saved study results and ``summary.json`` alone (matplotlib inside the style helpers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from manybody.laws.collapse import frequency_collapse
from manybody.runs.results import dataset_spec, load_results, realised
from manybody.study.decomposition import resonant_density
from manybody.study.normalised_curves import ratio_of_means
from manybody.study.specs import load_study_spec
from manybody.study.summary import kernel_smearing, load_rows
from manybody.support.jsonio import nan_if_none
from manybody.support.style import (
    MARKERS,
    PALETTE,
    axis_label,
    empty_panel,
    legend_below,
    limit_runaway_errors,
    new_figure,
    parameter_text,
    save_figure,
    styled,
)

#: The headline sweep point: dipolar couplings at a glass-like lambda.
HEADLINE_COUPLING = 0.01


def _results(study_dir: Path, name: str):
    path = study_dir / f"{name}.nc"
    return load_results(path) if path.exists() else None


def _no_data(ax, why: str) -> None:
    """Say on an empty panel why it is empty."""
    empty_panel(ax, f"no data: {why}")


def _study_spec(study_dir: Path, name: str):
    """The specification a study's spec was run with (its results file), else the shipped one."""
    ds = _results(study_dir, name)
    return dataset_spec(ds) if ds is not None else load_study_spec(name)


def _coupling_name(spec) -> str:
    """"dipolar $J_0$ = 0.01 K" of a spec's model (its coupling kind and strength)."""
    coupling = spec.model.coupling
    if coupling is None:
        return "independent TLS"
    return f"{coupling.kind} {parameter_text('strength', coupling.strength)}"


#: Largest TLS-index error that widens a panel (an index known to worse than +-1 is undetermined).
INDEX_ERROR_CAP = 1.0
#: Axis labels shared by the panels.
INDEX_LABEL = axis_label("TLS index $a$")
RHO_LABEL = axis_label(r"$\rho_{eff}(T) / \rho_{eff}(T_{max})$")
INVERSE_X_LABEL = axis_label(r"$k_B T / \hbar\omega$")
X_LABEL = axis_label(r"$x = \hbar\omega / k_B T$")


def _rows(study_dir: Path) -> list[dict]:
    path = study_dir / "summary.json"
    return load_rows(path) if path.exists() else []


def _rho_curve(ds, index: int, variable: str, smearing) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, rho_eff(x) / rho_eff(x_min) and the standard error of that ratio (of means over the
    same realisations; 0 at x_min) at coupling ``index``. The error of rho_eff itself, scaled,
    was 9 times the ratio's for independent TLS (a tester, session 39)."""
    point = realised(ds.isel(coupling_strength=index, frequency=0))
    x = float(ds["frequency"].values[0]) / ds["temperature"].values
    rho = resonant_density(x, point[variable].values, smearing)  # (realisation, temperature)
    hot = int(np.argmin(x))
    mean, error = ratio_of_means(rho, rho[:, hot])
    return x, mean, error


def _panel_rho(ax, ds, smearing) -> None:
    """(a) rho_eff(T) for every dipolar coupling."""
    couplings = ds["coupling_strength"].values
    for i, j0 in enumerate(couplings):
        x, mean, error = _rho_curve(ds, i, "absorption", smearing)
        ax.errorbar(1 / x, mean, error, fmt=MARKERS[i % len(MARKERS)] + "-", ms=2.5,
                    color=PALETTE[i % len(PALETTE)], label=f"$J_0$ = {j0:g} K")
    ax.axhline(1, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel(INVERSE_X_LABEL)
    ax.set_ylabel(RHO_LABEL)
    legend_below(ax, ncol=3)
    ax.set_title(r"(a) $\rho_{eff} = Q^{-1} / \tanh(x/2)$, dipolar", loc="left", fontsize=8)


def _panel_configuration_bath(ax, ds, smearing) -> None:
    """(b) exact rho_eff against the static-configuration-bath predictions at the headline J0
    (without it in the run: the nonzero coupling closest to it on a log scale, named in the
    title)."""
    couplings = np.asarray(ds["coupling_strength"].values, dtype=float)
    title = "(b) configuration bath against exact ED"
    if not np.any(couplings > 0):
        ax.set_title(title, loc="left", fontsize=8)
        _no_data(ax, "no nonzero coupling in this run")
        return
    i = int(np.nanargmin(np.where(couplings > 0, np.abs(np.log(couplings / HEADLINE_COUPLING)),
                                  np.nan)))
    series = (("absorption", "exact ED", "o-"),
              ("configuration_bath_absorption", "configuration bath, thermal $P(c)$", "s--"),
              ("configuration_bath_absorption_infinite", r"configuration bath, $P(c)$ at $T=\infty$",
               "^:"))
    for k, (variable, label, fmt) in enumerate(series):
        if variable not in ds:
            continue
        x, mean, error = _rho_curve(ds, i, variable, smearing)
        ax.errorbar(1 / x, mean, error, fmt=fmt, ms=2.5, color=PALETTE[k], label=label)
    ax.set_xscale("log")
    ax.set_xlabel(INVERSE_X_LABEL)
    ax.set_ylabel(RHO_LABEL)
    legend_below(ax)
    ax.set_title(f"(b) dipolar {parameter_text('strength', couplings[i])}", loc="left",
                 fontsize=8)


def _series(rows: list[dict], study: str, *keys: str) -> dict[str, np.ndarray]:
    sel = [r for r in rows if r["study"] == study]
    return {k: np.array([nan_if_none(r.get(k)) for r in sel], dtype=float) for k in keys}


def _lambda_series(study_dir: Path, rows: list[dict]) -> tuple[tuple[str, str], ...]:
    """(study, legend) of panel (c), the legends from the specs the rows were computed with."""
    eps_max = _study_spec(study_dir, "dipolar").model.tls.asymmetry_max
    cuts = _series(rows, "tunnelling_min", "value")["value"]
    cuts = cuts[np.isfinite(cuts)]
    cut = (f"{parameter_text('tunnelling_min', cuts.max())} to {cuts.min():g} K" if cuts.size > 1
           else parameter_text("tunnelling_min", cuts[0]) if cuts.size else r"$\Delta_{min}$ swept")
    return (("dipolar", f"$J_0$ swept, {parameter_text('asymmetry_max', eps_max)}"),
            ("coupling_density", r"$J_0 \times \epsilon_{max}$ grid"),
            ("tunnelling_min", cut))


def _panel_lambda(ax, rows: list[dict], study_dir: Path) -> None:
    """(c) TLS index against lambda: the dipolar sweep, eps_max and Delta_min at fixed J0/lambda."""
    keys = ("coupling_lambda", "index", "index_error")
    drawn = False
    shown: list[tuple[np.ndarray, np.ndarray]] = []
    for k, (study, label) in enumerate(_lambda_series(study_dir, rows)):
        d = _series(rows, study, *keys)
        if not d["index"].size:
            continue
        keep = (d["coupling_lambda"] > 0) & np.isfinite(d["index"])
        if not keep.any():
            continue
        ax.errorbar(d["coupling_lambda"][keep] * (1 + 0.03 * k), d["index"][keep],
                    d["index_error"][keep], fmt=MARKERS[k], color=PALETTE[k], ms=3,
                    linestyle="-" if study == "dipolar" else "none", label=label)
        shown.append((d["index"][keep], d["index_error"][keep]))
        drawn = True
    ax.set_title("(c) the control parameter", loc="left", fontsize=8)
    if not drawn:
        _no_data(ax, "no TLS index at a nonzero coupling\n(dipolar, coupling_density, "
                     "tunnelling_min)\nin this study's summary.json")
        return
    limit_runaway_errors(ax, np.concatenate([v for v, _ in shown]),
                         np.concatenate([e for _, e in shown]), cap=INDEX_ERROR_CAP,
                         include=(0.0, 1.0))
    ax.axhline(1, color="k", lw=0.8)
    ax.axhline(0, color="k", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_xlabel(axis_label(r"$\lambda = J_0 / \epsilon_{max} = \chi "
                             r"\ln(\Delta_{max}/\Delta_{min})$"))
    ax.set_ylabel(INDEX_LABEL)
    legend_below(ax, ncol=2)


def _panel_single_tls(ax, rows: list[dict]) -> None:
    """(d) single-TLS fraction of the absorbed weight and the T = inf configuration-bath index
    (the decomposition sweep: dipolar couplings)."""
    keys = ("value", "single_tls_fraction", "single_tls_fraction_error",
            "index_configuration_bath_infinite", "index_configuration_bath_infinite_error")
    drawn = False
    shown: list[tuple[np.ndarray, np.ndarray]] = []
    for k, study in enumerate(("decomposition",)):
        d = _series(rows, study, *keys)
        for column, fmt, label in (
                ("single_tls_fraction", "-", "single-TLS fraction of the absorbed weight"),
                ("index_configuration_bath_infinite", ":",
                 r"TLS index of the configuration bath, $T=\infty$")):
            keep = (d["value"] > 0) & np.isfinite(d[column])
            if not keep.any():
                continue
            ax.errorbar(d["value"][keep], d[column][keep], d[f"{column}_error"][keep],
                        fmt=MARKERS[k] + fmt, color=PALETTE[k], ms=3,
                        mfc=None if fmt == "-" else "none", label=label)
            shown.append((d[column][keep], d[f"{column}_error"][keep]))
            drawn = True
    ax.set_title("(d) the absorbers stay two-level systems", loc="left", fontsize=8)
    if not drawn:
        _no_data(ax, "no single-TLS fraction at a nonzero coupling\n(decomposition) in this "
                     "study's summary.json")
        return
    ax.axhline(1, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel(axis_label(r"dipolar $J_0$", "K"))
    ax.set_ylabel(axis_label(r"fraction; TLS index $a$"))
    limit_runaway_errors(ax, np.concatenate([v for v, _ in shown]),
                         np.concatenate([e for _, e in shown]), cap=INDEX_ERROR_CAP,
                         include=(0.0, 1.0))
    ax.set_ylim(bottom=0)
    legend_below(ax)


@styled
def figure_decomposition(study_dir: Path, out: Path) -> list[Path]:
    """rho_eff(T) against coupling, exact against the configuration bath, the TLS index against
    lambda, and the single-TLS fraction (docs/PHYSICS.md section 7)."""
    ds = _results(study_dir, "decomposition")
    rows = _rows(study_dir)
    if ds is None or "coupling_strength" not in ds.dims:
        return []
    smearing = kernel_smearing(dataset_spec(ds))
    fig = new_figure(figsize=(7.0, 6.8))
    axes = fig.subplots(2, 2)
    _panel_rho(axes[0, 0], ds, smearing)
    _panel_configuration_bath(axes[0, 1], ds, smearing)
    _panel_lambda(axes[1, 0], rows, study_dir)
    _panel_single_tls(axes[1, 1], rows)
    fig.tight_layout()
    return save_figure(fig, out, "decomposition")


def _annotate(ax, text: str, x: float, y: float, last: bool) -> None:
    """A small label above a point: to its right, or to its left at the rightmost point (so
    that it stays inside the axes)."""
    ax.annotate(text, (x, y), textcoords="offset points", xytext=(-3 if last else 3, 5),
                ha="right" if last else "left", fontsize=6)


def _panel_measurement_time(ax, rows: list[dict], study_dir: Path) -> bool:
    """(a) TLS index against the measurement time (frozen TLS as static fields)."""
    d = _series(rows, "measurement_time", "value", "index", "index_error", "frozen_fraction")
    keep = np.isfinite(d["index"])
    ax.set_title("(a) equilibration on a time scale\n(labels: % of TLS frozen at $T = \\hbar\\omega$)",
                 loc="left", fontsize=8)
    if not keep.any():
        _no_data(ax, "no measurement-time sweep\nin this study's summary.json")
        return False
    ax.errorbar(d["value"][keep], d["index"][keep], d["index_error"][keep], fmt="o-",
                color=PALETTE[0], ms=3,
                label=_coupling_name(_study_spec(study_dir, "measurement_time")))
    ax.set_xscale("log")
    for t_m, a, f in zip(d["value"][keep], d["index"][keep], d["frozen_fraction"][keep],
                         strict=True):
        if np.isfinite(f):
            _annotate(ax, f"{100 * f:.0f}%", t_m, a, last=t_m == np.max(d["value"][keep]))
    legend_below(ax)
    ax.axhline(1, color="k", lw=0.8)
    ax.axhline(0, color="k", lw=0.8, ls="--")
    ax.set_xlabel(axis_label("measurement time $t_m$", "s"))
    ax.set_ylabel(INDEX_LABEL)
    return True


def _panel_tunnelling_min(ax, rows: list[dict], study_dir: Path) -> bool:
    """(b) TLS index against Delta_min at fixed lambda (chi changes)."""
    d = _series(rows, "tunnelling_min", "value", "index", "index_error", "coupling_chi")
    keep = np.isfinite(d["index"])
    ax.set_title(r"(b) the lower cut of $\Delta$ at fixed $\lambda$", loc="left", fontsize=8)
    if not keep.any():
        _no_data(ax, "no tunnelling_min sweep\nin this study's summary.json")
        return False
    spec = _study_spec(study_dir, "tunnelling_min")
    name = _coupling_name(spec)
    if spec.model.coupling is not None and spec.model.tls is not None:
        ratio = spec.model.coupling.strength / spec.model.tls.asymmetry_max
        name += rf", $\lambda = J_0/\epsilon_{{max}}$ = {ratio:.3g}"
    ax.errorbar(d["value"][keep], d["index"][keep], d["index_error"][keep], fmt="s-",
                color=PALETTE[1], ms=3, label=name)
    for dm, a, chi in zip(d["value"][keep], d["index"][keep], d["coupling_chi"][keep],
                          strict=True):
        _annotate(ax, rf"$\chi$ = {chi:.4f}", dm, a, last=dm == np.max(d["value"][keep]))
    ax.set_xscale("log")
    legend_below(ax)
    ax.axhline(1, color="k", lw=0.8)
    ax.axhline(0, color="k", lw=0.8, ls="--")
    ax.set_xlabel(axis_label(r"$\Delta_{min}$, all TLS in equilibrium", "K"))
    ax.set_ylabel(INDEX_LABEL)
    return True


@styled
def figure_equilibration(study_dir: Path, out: Path) -> list[Path]:
    """The TLS index against the measurement time, next to the effect of Delta_min at fixed
    lambda (docs/PHYSICS.md sections 7 and 7.5)."""
    rows = _rows(study_dir)
    if not any(r["study"] in ("measurement_time", "tunnelling_min") for r in rows):
        return []
    fig = new_figure(figsize=(7.0, 3.4))
    axes = fig.subplots(1, 2, sharey=True)
    if not _panel_measurement_time(axes[0], rows, study_dir):
        axes[1].tick_params(axis="y", labelleft=True)  # the shared axis's only tick labels
    _panel_tunnelling_min(axes[1], rows, study_dir)
    d = [_series(rows, study, "index", "index_error") for study in ("measurement_time",
                                                                     "tunnelling_min")]
    limit_runaway_errors(axes[0], np.concatenate([x["index"] for x in d]),
                         np.concatenate([x["index_error"] for x in d]), cap=INDEX_ERROR_CAP,
                         include=(0.0, 1.0))
    fig.tight_layout()
    return save_figure(fig, out, "equilibration")


#: Couplings of the dipolar sweep whose frequency ratios the collapse figure draws.
COLLAPSE_COUPLINGS = (0.0, 0.01, 0.03)


def _panel_ratios(ax, ds) -> bool:
    """(a) R(x) = Q(w_k, x) / Q(w, x), each divided by its mean, for a few dipolar couplings."""
    couplings = list(ds["coupling_strength"].values)
    drawn = False
    for i, j0 in enumerate(COLLAPSE_COUPLINGS):
        if j0 not in couplings:
            continue
        point = realised(ds.isel(coupling_strength=couplings.index(j0)))
        q = point["absorption"].transpose("realisation", "temperature", "frequency").values
        result = frequency_collapse(ds["temperature"].values, ds["frequency"].values, q)
        # the bars: the error of R / mean R, the flatness tested (R's own error is the level)
        for k, x, ratio, flat in zip(result.pairs, result.x, result.ratio, result.flatness_error,
                                     strict=True):
            scale = float(np.mean(ratio))
            w_k, w_ref = result.frequencies[k], result.frequencies[result.reference]
            ax.errorbar(x, ratio / scale, flat, fmt=MARKERS[i] + ("-" if w_k > w_ref else ":"),
                        color=PALETTE[i], ms=2.5,
                        label=rf"{parameter_text('strength', j0)}, "
                              rf"$Q({w_k / w_ref:g}\omega) / Q(\omega)$")
            drawn = True
    ax.set_title("(a) a pure law collapses: ratios flat in $x$", loc="left", fontsize=8)
    if not drawn:
        _no_data(ax, "none of the couplings $J_0$ of this panel\n("
                     f"{', '.join(f'{j:g}' for j in COLLAPSE_COUPLINGS)} K) in this run")
        return drawn
    ax.axhline(1, color="k", lw=0.8)
    ax.set_xscale("log")
    legend_below(ax, ncol=2, fontsize=5.5)
    ax.set_xlabel(X_LABEL)
    ax.set_ylabel(axis_label(r"$Q(k\omega)/Q(\omega)$ at equal $x$ / its mean"))
    return drawn


def _panel_collapse_slope(ax, rows: list[dict]) -> None:
    """(b) the collapse slope d ln[Q(2w)/Q(w/2)] / d ln x against the coupling."""
    keys = ("value", "collapse_slope", "collapse_slope_error")
    drawn = False
    for k, (study, label) in enumerate((("dipolar", "dipolar, $J_0$ (K)"),
                                        ("gaussian", "Gaussian, $J_0$ (K)"),
                                        ("admixture", r"GOE admixture, weight $W$ (K)"))):
        d = _series(rows, study, *keys)
        keep = (d["value"] > 0) & np.isfinite(d["collapse_slope"])
        if not keep.any():
            continue
        ax.errorbar(d["value"][keep] * (1 + 0.04 * k), d["collapse_slope"][keep],
                    d["collapse_slope_error"][keep], fmt=MARKERS[k] + "-", color=PALETTE[k], ms=3,
                    label=label)
        drawn = True
    ax.set_title(r"(b) departure from the collapse: $s = d\ln[Q(2\omega)/Q(\omega/2)]\,/\,d\ln x$",
                 loc="left", fontsize=8)
    if not drawn:
        _no_data(ax, "no collapse slope at a nonzero coupling\n(dipolar, gaussian, admixture)"
                     "\nin this study's summary.json")
        return
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xscale("log")
    legend_below(ax, ncol=2)
    ax.set_xlabel(axis_label(r"coupling $J_0$ or GOE weight $W$", "K"))
    ax.set_ylabel(axis_label("collapse slope $s$"))


@styled
def figure_collapse(study_dir: Path, out: Path) -> list[Path]:
    """The frequency collapse Q(w, T) / A(w) = f(x) (docs/PHYSICS.md section 7.2): ratios of the
    absorption at w/2, 2w and w at equal x, and the collapse slope against coupling."""
    ds = _results(study_dir, "dipolar")
    if ds is None or ds.sizes.get("frequency", 1) < 2 or "coupling_strength" not in ds.dims:
        return []
    fig = new_figure(figsize=(7.0, 3.8))
    axes = fig.subplots(1, 2)
    _panel_ratios(axes[0], ds)
    _panel_collapse_slope(axes[1], _rows(study_dir))
    fig.tight_layout()
    return save_figure(fig, out, "collapse")
