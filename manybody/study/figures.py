"""Figures from saved study results (matplotlib is imported inside the functions).

Every figure is drawn from results files alone, so it can be redrawn without recomputing:
``python scripts/make_figures.py results/study``. Each is written as vector PDF and PNG.

The figures use :class:`matplotlib.figure.Figure` objects and a local ``rc_context`` (no pyplot
state, no global rcParams changes), and are saved without creation dates or version strings, so the
same results give byte-identical files (a rerun of the study leaves the committed figures
unchanged).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import math
import os
import re
import warnings
from pathlib import Path

import numpy as np

from manybody.laws.analysis import analyse_shape
from manybody.laws.fit import FAMILY_INDEX_BOUNDS
from manybody.laws.shapes import law_generic, law_tls
from manybody.runs.results import dataset_spec, load_results, realised, sweep_points
from manybody.runs.spec import axis_units
from manybody.study.catalogue import VELOCITY_SPECS
from manybody.study.decomposition_figures import (
    figure_collapse,
    figure_decomposition,
    figure_equilibration,
)
from manybody.study.normalised_curves import difference_of_means, ratio_of_means
from manybody.study.saturation_figures import figure_saturation_study
from manybody.study.specs import load_study_spec
from manybody.study.summary import kernel_smearing, load_rows
from manybody.study.velocity_table import fit_with_fallback
from manybody.support import validate
from manybody.support.jsonio import nan_if_none
from manybody.support.paths import check_input_folder
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
    symbolise,
)
from manybody.support.table_text import plus_minus
from manybody.units import KELVIN_PER_GHZ


def _folders(study_dir, out, *, default: bool = False) -> tuple[Path, Path]:
    """``study_dir`` (an existing folder) and ``out`` (a folder for the figures, created when
    missing) as Paths: str or os.PathLike, else a one-line error naming the parameter; with
    ``default``, None or "" for ``out`` is study_dir/figures. A missing folder or a file gave
    no figures without a word, None pathlib's message and two str paths "unsupported operand
    type(s) for /" (bt195)."""
    study = check_input_folder("study folder", study_dir, name="study_dir")
    if default and (out is None or (isinstance(out, str) and not out)):
        out = study / "figures"
    figures = Path(validate.path("out", out))
    if figures.exists() and not figures.is_dir():
        raise NotADirectoryError(f"out: the figure folder {str(figures)!r} is a file, not a folder")
    return study, figures


def _study_figure(fn):
    """Decorator of a ``figure_*(study_dir, out)``: both checked and made Paths by :func:`_folders`
    before any work."""

    @functools.wraps(fn)
    def checked(study_dir: str | Path, out: str | Path) -> list[Path]:
        return fn(*_folders(study_dir, out))

    return checked


def _load(study_dir: Path, name: str):
    path = study_dir / f"{name}.nc"
    return load_results(path) if path.exists() else None


def _study_spec(study_dir: Path, name: str):
    """The run specification of a study's spec: from its results file when there is one (the
    size it was run at), else the shipped default."""
    ds = _load(study_dir, name)
    return dataset_spec(ds) if ds is not None else load_study_spec(name)


#: The x axis of every absorption-shape panel.
X_LABEL = axis_label(r"$x = \hbar\omega / k_B T$")


def _curve(ds, sel: dict, variable: str = "absorption"):
    """x, mean and standard error over realisations of Q(x) at one sweep point."""
    point = realised(ds.isel(sel) if sel else ds)
    q = point[variable].isel(frequency=0).values
    x = float(ds["frequency"].values[0]) / ds["temperature"].values
    return x, q.mean(0), q.std(0, ddof=1) / math.sqrt(q.shape[0]), q


def _nearest(values, target: float) -> int:
    """Index of the value closest to ``target`` on a log scale (zero excluded when possible)."""
    values = np.asarray(values, dtype=float)
    positive = np.where(values > 0, values, np.nan)
    if np.all(np.isnan(positive)):
        return len(values) - 1
    return int(np.nanargmin(np.abs(np.log(positive / target))))


@_study_figure
@styled
def figure_absorption(study_dir: Path, out: Path) -> list[Path]:
    """Q^-1(x) at fixed w, each curve divided by its own maximum over the measured x, with the
    tanh(x/2) and 1 - e^-x references, and the emission-stripped S+ normalised the same way.

    Dividing by the measured maximum (not by a fitted plateau) makes the y label true for every
    curve, whether or not a law fits it (a curve that falls with x peaks at small x); the divisor is
    given in the legend (units of pi C0), so absolute sizes can still be compared. No figure (an
    empty list) without absorption results: the two references alone say nothing.
    """
    cases = []
    dip = _load(study_dir, "dipolar")
    if dip is not None:
        values = dip["coupling_strength"].values
        k = _nearest(values, 0.03)
        first = (f"independent TLS ({parameter_text('strength', 0)})" if values[0] == 0
                 else f"dipolar {parameter_text('strength', values[0])}")
        cases.append((first, dip, {"coupling_strength": 0}))
        if k != 0:
            cases.append((f"dipolar {parameter_text('strength', values[k])}", dip,
                          {"coupling_strength": k}))
    adm = _load(study_dir, "admixture")
    if adm is not None:
        lam = adm["random_matrix_weight"].values
        k = _nearest(lam, 0.1)
        cases.append((f"TLS + GOE, {parameter_text('weight', lam[k])}", adm,
                      {"random_matrix_weight": k}))
    blk = _load(study_dir, "random_block")
    if blk is not None:
        for i, kind in enumerate(blk["random_matrix_kind"].values):
            label = {"flat": "random block, flat density",
                     "goe": "GOE block at its edge"}.get(str(kind), f"random block ({kind})")
            cases.append((label, blk, {"random_matrix_kind": i}))
    if not cases:  # no absorption results (e.g. --only saturation): no figure of references alone
        return []
    frequencies = sorted({float(ds["frequency"].values[0]) for _, ds, _ in cases})
    fig = new_figure(figsize=(7.2, 4.1), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    xs = np.geomspace(0.15, 12, 200)
    ax.plot(xs, law_tls(xs), "k-", lw=1.0, label=r"$\tanh(x/2)$ (TLS)")
    ax.plot(xs, law_generic(xs), "k--", lw=1.0, label=r"$1-e^{-x}$ (generic block)")
    ax2.plot(xs, law_tls(xs) / law_generic(xs), "k-", lw=1.0, label=r"TLS: $1/(1+e^{-x})$")
    ax2.axhline(1.0, color="k", ls="--", lw=1.0, label="generic block: const")
    for i, (label, ds, sel) in enumerate(cases):
        x, mean, _, q = _curve(ds, sel)
        smearing = kernel_smearing(dataset_spec(ds))
        with warnings.catch_warnings():  # its data warnings were given, naming the sweep
            warnings.simplefilter("ignore", UserWarning)  # point, when the summary was fitted
            shape = analyse_shape(x, q, n_bootstrap=0, smearing=smearing)  # (session 39's
            # referee: the figure stage repeated them without naming what they were about)
        q_max = float(np.max(mean))
        # the errors of the ratios drawn (to the mean at the largest point, of the same
        # realisations), not the numerator's scaled: 0 at that point (a tester, session 39)
        top = int(np.argmax(mean))
        shown, shown_err = ratio_of_means(q, q[:, top])
        s_plus = q / law_generic(x)
        top_plus = int(np.argmax(s_plus.mean(0)))
        shown_plus, shown_plus_err = ratio_of_means(s_plus, s_plus[:, top_plus])
        lab = rf"{label}: $a$ = {shape.index:.2f}, max $Q^{{-1}}$ = {q_max:.3g} $\pi C_0$"
        ax.errorbar(x, shown, shown_err, fmt=MARKERS[i % 8], ms=3,
                    color=PALETTE[i % 8], label=lab, lw=0.8)
        ax2.errorbar(x, shown_plus, shown_plus_err, fmt=MARKERS[i % 8],
                     ms=3, color=PALETTE[i % 8], lw=0.8)
    for a in (ax, ax2):
        a.set_xscale("log")
        a.set_xlabel(X_LABEL)
    ax.set_ylabel(axis_label(r"$Q^{-1}(x) \,/\, \max_x Q^{-1}$"))
    ax2.set_ylabel(axis_label(r"$S_+(x) \,/\, \max_x S_+$"))
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, frameon=False)
    fixed = " or ".join(f"{w:g} K ({w / KELVIN_PER_GHZ:.3g} GHz)" for w in frequencies)
    ax.set_title(rf"Resonant absorption at fixed $\hbar\omega$ = {fixed}", fontsize=9)
    ax2.set_title(r"Emission-stripped $S_+ = Q^{-1} / (1 - e^{-x})$", fontsize=9)
    return save_figure(fig, out, "absorption_shape")


def _summary(study_dir: Path) -> list[dict]:
    path = study_dir / "summary.json"
    return load_rows(path) if path.exists() else []


def _broken_log_axes(fig, cell):
    """A narrow linear axis holding only x = 0 and a log axis beside it, with break marks.

    Zero coupling cannot sit on a log axis; putting it at some small positive value makes it read
    as that value. Every panel against a coupling uses this pair, so zero is marked the same way.
    """
    sub = cell.subgridspec(1, 2, width_ratios=(1, 7), wspace=0.06)
    ax0 = fig.add_subplot(sub[0])
    ax = fig.add_subplot(sub[1], sharey=ax0)
    ax0.set_xlim(-1, 1)
    ax0.set_xticks([0], ["0"])
    ax0.xaxis.grid(False)
    ax0.spines["right"].set_visible(False)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", left=False, labelleft=False)
    ax.set_xscale("log")
    mark = dict(marker=[(-1, -1.5), (1, 1.5)], markersize=8, linestyle="none", color="k", mec="k",
                mew=0.8, clip_on=False)
    ax0.plot([1, 1], [0, 1], transform=ax0.transAxes, **mark)
    ax.plot([0, 0], [0, 1], transform=ax.transAxes, **mark)
    return ax0, ax


def _plot_against_coupling(ax0, ax, value, y, err, offset: float, **style):
    """Zero-coupling points on ``ax0`` (at 0, shifted by ``offset`` so series do not overlap),
    the others on the log axis ``ax``."""
    zero = value == 0
    if np.any(zero):
        marker_only = {k: v for k, v in style.items() if k not in ("label", "fmt")}
        ax0.errorbar(np.full(zero.sum(), offset), y[zero], err[zero],
                     fmt=style.get("fmt", "o").rstrip("-"), **marker_only)
    ax.errorbar(value[~zero], y[~zero], err[~zero], **style)


#: Legend of the points whose TLS index sits on the family fit's bound (a referee, session 39:
#: they were drawn as ordinary points).
AT_BOUND_LABEL = f"fit on its bound $a$ = {FAMILY_INDEX_BOUNDS[0]:g} ($a$ not determined)"


def _mark_at_bound(ax, value, index, ax0=None, offset: float = 0.0) -> None:
    """Cross out the points whose index lies on the family fit's bounds (the data do not
    determine a there); with ``ax0``, zero couplings are on that axis at ``offset``."""
    lo, hi = FAMILY_INDEX_BOUNDS
    pinned = np.isfinite(index) & ((index <= lo + 1e-4) | (index >= hi - 1e-4))  # as
    # the summary table's index_text
    if not pinned.any():
        return
    style = dict(color="k", ms=8, mew=1.2, ls="none", label=AT_BOUND_LABEL)
    zero = (value == 0) if ax0 is not None else np.zeros_like(pinned)
    if np.any(pinned & zero):
        ax0.plot(np.full(int((pinned & zero).sum()), offset), index[pinned & zero], "x", **style)
    if np.any(pinned & ~zero):
        ax.plot(value[pinned & ~zero], index[pinned & ~zero], "x", **style)


def _without_zero(ax0, ax) -> None:
    """Drop the zero part of a broken coupling axis (no series has a zero coupling): the log
    axis alone, with its own y axis."""
    ax0.set_visible(False)
    for line in list(ax.get_lines()):  # the break marks
        if line.get_transform() is ax.transAxes:
            line.remove()
    ax.spines["left"].set_visible(True)
    ax.tick_params(axis="y", left=True, labelleft=True)
    ax.set_ylabel(ax0.get_ylabel())
    ax.set_title(ax0.get_title("left"), loc="left", fontsize=9)


def _empty_pair(ax0, ax, why: str) -> None:
    """A broken coupling axis without data: one plain panel saying why."""
    _without_zero(ax0, ax)
    ax.set_xscale("linear")
    empty_panel(ax, why)


#: Reference lines of the TLS-index panels: (value, line style, legend).
INDEX_REFERENCES = ((1.0, "-", r"$\tanh(x/2)$: $a$ = 1"), (0.0, "--", r"$1 - e^{-x}$: $a$ = 0"))
#: y axis of every TLS-index panel.
INDEX_LABEL = axis_label("TLS index $a$")
#: x axis of the panels against a coupling of either kind.
COUPLING_LABEL = axis_label(r"coupling $J_0$ or GOE weight $W$", "K")
#: Largest TLS-index error that widens a panel: an index known to worse than +-1 is undetermined.
INDEX_ERROR_CAP = 1.0
#: Series of the panels against a coupling: (study, legend).
COUPLING_SERIES = (("dipolar", "dipolar, $J_0$ (K)"), ("gaussian", "Gaussian, $J_0$ (K)"),
                   ("admixture", r"GOE admixture, weight $W$ (K)"))


@_study_figure
@styled
def figure_index(study_dir: Path, out: Path) -> list[Path]:
    """TLS index a against coupling J0 and GOE weight W, <r> against them, a against N and
    against the two-body stress (in units of the deformation potential gamma of its spec).
    A panel whose study is not in ``summary.json`` says so."""
    rows = _summary(study_dir)
    fig = new_figure(figsize=(7.0, 6.0))
    # the top 10 %: one legend for every panel (inside the panels it covered data)
    grid = fig.add_gridspec(2, 2, wspace=0.32, hspace=0.42, top=0.86)
    ax0_a, ax_a = _broken_log_axes(fig, grid[0, 0])
    ax0_r, ax_r = _broken_log_axes(fig, grid[0, 1])
    ax_n = fig.add_subplot(grid[1, 0])
    ax_s = fig.add_subplot(grid[1, 1])

    def series(study):
        sel = [r for r in rows if r["study"] == study]
        return {k: np.array([nan_if_none(r.get(k)) for r in sel], dtype=float) for k in
                ("value", "index", "index_error", "spacing_ratio", "spacing_ratio_error")}

    drawn = [study for study, _ in COUPLING_SERIES if any(r["study"] == study for r in rows)]
    for i, (study, label) in enumerate(COUPLING_SERIES):
        if study not in drawn:
            continue
        d = series(study)
        offset = 0.45 * (i - 1)
        style = dict(fmt=MARKERS[i] + "-", color=PALETTE[i], label=label)
        _plot_against_coupling(ax0_a, ax_a, d["value"], d["index"], d["index_error"], offset,
                               **style)
        _mark_at_bound(ax_a, d["value"], d["index"], ax0_a, offset)
        _plot_against_coupling(ax0_r, ax_r, d["value"], d["spacing_ratio"],
                               d["spacing_ratio_error"], offset, **style)
    if drawn:
        shown = [series(study) for study in drawn]
        limit_runaway_errors(ax0_a, np.concatenate([d["index"] for d in shown]),
                             np.concatenate([d["index_error"] for d in shown]),
                             cap=INDEX_ERROR_CAP, include=(0.0, 1.0))
        for a in (ax_r, ax0_r):
            a.axhline(0.3863, color="k", lw=0.8, ls=":", label=r"Poisson: $\langle r\rangle$ = 0.386")
            a.axhline(0.5307, color="k", lw=0.8, ls="-.", label=r"GOE: $\langle r\rangle$ = 0.531")
        for a in (ax_a, ax_r):
            a.set_xlabel(COUPLING_LABEL)
        ax0_a.set_ylabel(INDEX_LABEL)
        ax0_r.set_ylabel(axis_label(r"spacing ratio $\langle r\rangle$"))
    else:
        why = "no coupling sweep (dipolar, gaussian, admixture)\nin this study's summary.json"
        for a0, a, tag in ((ax0_a, ax_a, "(a)"), (ax0_r, ax_r, "(b)")):
            a0.set_title(tag, loc="left", fontsize=9)
            _empty_pair(a0, a, why)
    if any(r["study"] == "finite_size" for r in rows):
        d = series("finite_size")
        ax_n.errorbar(d["value"], d["index"], d["index_error"], fmt="o-", color=PALETTE[3],
                      label=_finite_size_label(study_dir))
        _mark_at_bound(ax_n, d["value"], d["index"])
        limit_runaway_errors(ax_n, d["index"], d["index_error"], cap=INDEX_ERROR_CAP,
                             include=(0.0, 1.0))
        ax_n.set_xlabel(axis_label("number of TLS $N$"))
    else:  # an optional spec: say where it comes from instead of an empty panel
        empty_panel(ax_n, "finite-size check: an optional spec\n"
                    "manybody study --only finite_size\n-o results/finite_size (committed there)")
    if any(r["study"] == "two_body_stress" for r in rows):
        d = series("two_body_stress")
        spec = _study_spec(study_dir, "two_body_stress")
        gamma = spec.model.stress.deformation_potential if spec.model.stress else 1.0
        coupling = spec.model.coupling
        name = (f"{coupling.kind} {parameter_text('strength', coupling.strength)}"
                if coupling is not None else "independent TLS")
        ax_s.errorbar(d["value"] / gamma, d["index"], d["index_error"], fmt="s-",
                      color=PALETTE[4], label=f"{name} + two-body stress")
        _mark_at_bound(ax_s, d["value"] / gamma, d["index"])
        limit_runaway_errors(ax_s, d["index"], d["index_error"], cap=INDEX_ERROR_CAP,
                             include=(0.0, 1.0))
        ax_s.set_xlabel(axis_label(r"two-body stress rms $K^T$", r"units of $\gamma$"))
    else:
        empty_panel(ax_s, "no two-body stress sweep\nin this study's summary.json")
    for a in (ax_n, ax_s):
        if a.get_lines():
            a.set_ylabel(INDEX_LABEL)
    index_panels = [ax0_a, ax_a] * bool(drawn) + [a for a in (ax_n, ax_s) if a.get_lines()]
    for a in index_panels:
        for value, ls, label in INDEX_REFERENCES:
            a.axhline(value, color="k", lw=0.8, ls=ls, label=label)
    named = {}  # every series and reference once, in one legend above the panels
    for a in (*index_panels[-1:], ax_a, ax_r, ax_n, ax_s):
        for handle, label in zip(*a.get_legend_handles_labels(), strict=True):
            named.setdefault(label, handle)
    if named:
        fig.legend(list(named.values()), list(named), loc="upper center", ncol=3,
                   frameon=False, fontsize=6.5, bbox_to_anchor=(0.5, 1.0))
    for a, tag in zip((ax0_a, ax0_r, ax_n, ax_s), "abcd", strict=True):
        a.set_title(f"({tag})", loc="left", fontsize=9)
    for a0, a in ((ax0_a, ax_a), (ax0_r, ax_r)):
        if drawn and not any(line.get_transform() is a0.transData for line in a0.get_lines()
                             if np.any(np.isfinite(line.get_xdata()))):
            _without_zero(a0, a)  # no zero coupling in this study: no zero axis to show
    return save_figure(fig, out, "tls_index")


def _finite_size_label(study_dir: Path) -> str:
    """Legend of the finite-size series: the coupling it was run at."""
    coupling = _study_spec(study_dir, "finite_size").model.coupling
    if coupling is None:
        return "finite-size check, independent TLS"
    return f"{coupling.kind}, {parameter_text('strength', coupling.strength)}"


@_study_figure
@styled
def figure_specific_heat(study_dir: Path, out: Path) -> list[Path]:
    """C(T)/N against T for independent and interacting TLS and the random blocks; no figure
    without specific-heat results."""
    curves = []
    for name, dim in (("dipolar", "coupling_strength"), ("random_block", "random_matrix_kind")):
        ds = _load(study_dir, name)
        if ds is None or "specific_heat" not in ds:
            continue
        n = dataset_spec(ds).model.n_tls
        values = ds[dim].values
        picks = sorted({0, len(values) - 1}) if name == "dipolar" else range(len(values))
        for k in picks:
            label = (f"dipolar {parameter_text('strength', values[k])}" if name == "dipolar"
                     else f"random block, {symbolise(str(values[k]))}")
            c = realised(ds.isel({dim: k}))["specific_heat"].values / n
            curves.append((ds["temperature"].values, c, label))
    if not curves:
        return []
    fig = new_figure(figsize=(3.6, 3.3))
    ax = fig.subplots()
    for i, (t, c, label) in enumerate(curves):
        error = c.std(0, ddof=1) / math.sqrt(c.shape[0]) if c.shape[0] > 1 else None
        ax.errorbar(t, c.mean(0), error, fmt=MARKERS[i % len(MARKERS)] + "-",
                    color=PALETTE[i % len(PALETTE)], ms=3, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(axis_label("$T$", "K"))
    ax.set_ylabel(axis_label(r"$C / (N k_B)$"))
    legend_below(ax, ncol=2, fontsize=6.5)
    ax.set_title("Specific heat per TLS", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, out, "specific_heat")


@_study_figure
@styled
def figure_matrix_elements(study_dir: Path, out: Path) -> list[Path]:
    """Mean |T_mn|^2 against w_mn for several bins of E_m, with standard errors.

    If the mean depended on w_mn only (the random-matrix assumption), the curves of the different
    E_m bins would coincide within their error bars. Bins with too few pairs are not drawn; a
    system none of whose bins has enough pairs gets a panel that says so.
    """
    path = study_dir / "matrix_elements.nc"
    if not path.exists():
        return []
    ds = load_results(path)
    systems = ds["system"].values
    a = ds.attrs
    fig = new_figure(figsize=(7.4, 3.1))
    axes = np.atleast_1d(fig.subplots(1, len(systems), sharex=True, sharey=True))
    w = ds["frequency"].values
    handles: dict[str, object] = {}
    shown = []
    for ax, system in zip(axes, systems, strict=True):
        drawn = False
        for j, ebin in enumerate(ds["energy_bin"].values):
            point = ds.sel(system=system).isel(energy_bin=j)
            m = point["mean_square_stress"].values
            if not np.any(np.isfinite(m) & (m > 0)):
                continue  # no bin of this E_m range with enough pairs
            err = point["standard_error"].values if "standard_error" in point else None
            label = "$E_m - E_0$: " + re.sub(r"(?<=\d)-(?=\d)", "–", str(ebin))
            handles[label] = ax.errorbar(w, m, err, fmt=MARKERS[j % len(MARKERS)] + "-",
                                         color=PALETTE[j % len(PALETTE)], ms=3, lw=0.8,
                                         label=label)
            drawn = True
        ax.set_title(symbolise(str(system)), fontsize=8)
        if drawn:
            shown.append(ax)
            ax.set_xscale("log")
            ax.set_yscale("log", nonpositive="clip")
            ax.set_xlabel(axis_label(r"$\hbar\omega_{mn} = E_m - E_n$", "K"))
        else:
            empty_panel(ax, f"no transitions in the window:\nevery bin of $E_m - E_0$ and "
                            f"$\\hbar\\omega_{{mn}}$\nhas fewer than {a.get('min_pairs', '?')} pairs\n"
                            f"($N$ = {a.get('n_tls', '?')}, {a.get('realisations', '?')} "
                            "realisations)")
    for ax in shown:
        ax.set_xlim(float(w.min()) / 1.5, float(w.max()) * 1.5)
    if shown:
        shown[0].set_ylabel(axis_label(r"$\langle |T_{mn}|^2 \rangle$ / overall mean"))
        shown[0].tick_params(axis="y", labelleft=True)
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="lower center",
                   ncol=min(len(handles), 4), frameon=False, fontsize=6.5)
    fig.suptitle(f"$N$ = {a.get('n_tls', '?')}, {a.get('realisations', '?')} realisations per system; "
                 f"error bars: standard error between realisations; bins with fewer than "
                 f"{a.get('min_pairs', '?')} pairs omitted", fontsize=7)
    fig.tight_layout(rect=(0, 0.06 if handles else 0, 1, 1))
    return save_figure(fig, out, "matrix_elements")


def _point_name(study: str, key: str, spec, point) -> str:
    """Legend name of one sweep point of a velocity spec: its swept parameter's symbol, value
    and unit (the GOE weight named as such)."""
    if not key:
        return symbolise(study)
    text = parameter_text(key, spec.sweep[key][point.index[0]], axis_units(key, spec))
    return f"GOE {text}" if key.endswith("random_matrix.weight") else text


def _velocity_curve(ax, t, total, name: str, i: int) -> float | None:
    """Draw one model's mean delta v/v (relative to its fitted maximum) with its fitted slope lines
    and its ratio in the legend; returns T_max, or None when no slopes could be fitted."""
    mean = total.mean(0)
    colour, marker = PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]
    try:
        fit = fit_with_fallback(t, total)
    except ValueError:  # no maximum in range: the curve without lines, said in the legend
        offset, label, t_max = float(mean.max()), f"{name}: no slopes (maximum not in range)", None
    else:
        offset, t_max = fit.value_max, fit.temperature_max
        label = (f"{name}: {fit.below:+.2f} / {fit.above:+.2f} $C_0$, "
                 f"ratio {plus_minus(fit.ratio, fit.ratio_error)}")
        for side, window in (("below", fit.window_below), ("above", fit.window_above)):
            tw = np.geomspace(*window, 20)
            ax.plot(tw, fit.line(side, tw) - offset, "-", color=colour, lw=1.6, alpha=0.5)
    # the error of the difference from the point nearest the maximum, of the same realisations:
    # the standard error of delta v/v itself is mostly each realisation's own offset, which the
    # slopes do not see (+-0.6 C0 bars beside a slope of 0.01 +- 0.01; a tester, session 39)
    near = int(np.argmin(np.abs(np.log(t / t_max)))) if t_max else int(np.argmax(mean))
    error = difference_of_means(total, near)[1] if total.shape[0] > 1 else None
    ax.errorbar(t, mean - offset, error, fmt=marker, color=colour, ms=3, lw=0.8, label=label)
    return t_max


@_study_figure
@styled
def figure_velocity_shift(study_dir: Path, out: Path) -> list[Path]:
    """Total (resonant + relaxation) delta v / v against T (log axis, i.e. against ln T) for each
    sweep point, relative to its fitted maximum, with the slope lines fitted by
    :func:`fit_with_fallback` over their windows, the TTLS 2 : -1 and the measured 1 : -1
    references through the first model's maximum, and each ratio with its error in the legend."""
    files = [(name, _load(study_dir, name)) for name in VELOCITY_SPECS]
    files = [(name, ds) for name, ds in files if ds is not None and "relaxation_velocity_shift" in ds]
    if not files:
        return []
    fig = new_figure(figsize=(4.6, 3.6))
    ax = fig.subplots()
    t_ref, i = None, 0
    for name, ds in files:
        t = ds["temperature"].values
        spec = dataset_spec(ds)
        key = next(iter(spec.sweep), "")
        for point in sweep_points(ds, spec):
            total = (point.data["velocity_shift"]
                     + point.data["relaxation_velocity_shift"]).isel(frequency=0).values
            fit_ref = _velocity_curve(ax, t, total, _point_name(name, key, spec, point), i)
            t_ref = t_ref or fit_ref
            i += 1
    t_ref = t_ref or float(t[len(t) // 2])
    # both references start at the maximum itself (it lies between grid temperatures)
    below, above = np.append(t[t < t_ref], t_ref), np.insert(t[t > t_ref], 0, t_ref)
    ax.plot(below, np.log(below / t_ref), "k-", lw=0.8,
            label=r"TTLS: +1 below, $-$1/2 above ($C_0$), 2 : $-$1")
    ax.plot(above, -0.5 * np.log(above / t_ref), "k-", lw=0.8)
    ax.plot(above, -1.0 * np.log(above / t_ref), "k--", lw=0.8,
            label=r"a-SiO$_2$, BK7 (measured): 1 : $-$1")
    ax.set_xscale("log")
    ax.set_xlabel(axis_label("$T$", "K"))
    ax.set_ylabel(axis_label(r"$\Delta v/v - (\Delta v/v)_{max}$", "units of $C_0$"))
    khz = float(files[0][1]["frequency"].values[0]) / KELVIN_PER_GHZ * 1e6  # w (K) -> kHz
    n_tls = sorted({dataset_spec(ds).model.n_tls for _, ds in files})
    ax.set_title(f"Velocity shift at {khz:.2g} kHz, $N$ = {', '.join(map(str, n_tls))}, "
                 "a-SiO$_2$ bath;\nslopes of $\\Delta v/v$ against $\\ln T$ below / above the "
                 "maximum", fontsize=7)
    legend_below(ax, fontsize=5.5)  # inside, it covered the curves' ends
    fig.tight_layout()
    return save_figure(fig, out, "velocity_shift")


def make_all_figures(study_dir: str | Path, out: str | Path | None = None,
                     not_drawn: list[str] | None = None) -> list[Path]:
    """Draw every figure the available results allow into ``out`` (default study_dir/figures).

    ``not_drawn``, when given, receives the names of the figures whose inputs are missing (most
    need the results files, ``<spec>.nc``, which a repository may not ship: the script that
    redraws the figures said nothing of the six it skipped; a new user, session 36).
    """
    study_dir, out = _folders(study_dir, out, default=True)
    if not_drawn is not None:
        validate.instance("not_drawn", not_drawn, list,
                          "a list (it receives the names of the figures not drawn) or None")
    with _figures_lock(out):
        return _draw_all(study_dir, out, not_drawn)


#: Temporaries of save_figure's atomic writes (``.<name>.<fmt>.XXXXXXXX.tmp``, mkstemp's 8 chars).
_FIGURE_TEMPORARY = re.compile(r"\.[^/]+\.(pdf|png|svg)\.[A-Za-z0-9_]{8}\.tmp")


@contextlib.contextmanager
def _figures_lock(out: Path):
    """Hold an exclusive lock on the figure folder while drawing, and remove the temporaries a
    killed drawing left there (a kill -9 left ``.absorption_shape.png.XXXXXXXX.tmp`` that nothing
    removed; session 37). As for results files (files.remove_stale_temporaries), only while no other
    process writes: every drawing holds this lock, so a temporary found under it is stale. The
    lock is on the folder itself (no lock file among the figures)."""
    if not out.is_dir():  # nothing stale; save_figure creates it
        yield
        return
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another drawing into this folder: wait for it
        with contextlib.suppress(OSError):
            for entry in out.iterdir():
                if _FIGURE_TEMPORARY.fullmatch(entry.name) and entry.is_file():
                    entry.unlink(missing_ok=True)
        yield
    finally:
        os.close(fd)  # releases the lock


def _draw_all(study_dir: Path, out: Path, not_drawn: list[str] | None) -> list[Path]:
    paths: list[Path] = []
    for fn in (figure_absorption, figure_index, figure_specific_heat, figure_matrix_elements,
               figure_velocity_shift, figure_decomposition, figure_equilibration, figure_collapse,
               figure_saturation_study):
        # no summary (a folder of |T_mn|^2 runs only): four empty panels said nothing
        drawn = [] if fn is figure_index and not _summary(study_dir) else fn(study_dir, out)
        paths.extend(drawn)
        if not drawn and not_drawn is not None:
            not_drawn.append(fn.__name__.removeprefix("figure_"))
    return paths
