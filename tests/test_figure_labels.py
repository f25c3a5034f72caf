"""The figures can go into a paper without edits (session 28): every axis that shows numbers has
a label ending in its unit in parentheses ("(K)", "(GHz)", "(units of $C_0$)", or
"(dimensionless)"); every "symbol = value" in a legend, title or note carries its unit unless
the quantity is a pure number; parameters are written with the field's symbols (no "lambda",
"J0", "Pc", "w" for the frequency, "^-" for an exponent); a panel without data says why; no
legend covers data; the resonance figure (saved without a tight box) clips no text.

The figures are drawn from small synthetic study directories (results files built with
:func:`manybody.runs.results.build_dataset` from the shipped specs, and ``summary.json`` rows),
and caught where they are saved (``Figure.savefig``), so the checks read the Figure objects
themselves. Agg canvas, no pyplot.
"""

from __future__ import annotations

import importlib
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from manybody.measured import resonance_figures
from manybody.measured.resonance import fit_notch, notch_s21
from manybody.measured.sweeps import S21Sweep
from manybody.runs.results import build_dataset
from manybody.study import decomposition_figures, figures, saturation_figures
from manybody.study.specs import load_study_spec

#: The labelling helpers (module-level import; the new functions are looked up in the tests).
style = importlib.import_module("manybody.support.style")

# -- the rules ----------------------------------------------------------------------------------

#: An axis label ends with its unit in parentheses.
UNIT_AT_END = re.compile(r"\((K|mK|GHz|MHz|kHz|Hz|s|dB|rad|dimensionless|units of [^()]+)\)\s*$")
#: Plain spellings that must be symbols in a figure.
PLAIN = (
    (re.compile(r"(?<!\\)\blambda\b", re.IGNORECASE), "lambda spelled out (use $\\lambda$)"),
    (re.compile(r"\bJ0\b"), "J0 (use $J_0$)"),
    (re.compile(r"(?<!\\)\b(?:eps|epsilon|Delta)_(?:min|max)\b"), "plain eps/Delta subscript"),
    (re.compile(r"\bPc\b"), "Pc (use $P_c$)"),
    (re.compile(r"(?<![\w\\])[0-9.]*w\b"), "w for the frequency (use $\\omega$)"),
    (re.compile(r"\^-"), "'^-' instead of a mathtext exponent"),
)
#: Units a value may be followed by.
VALUE_UNITS = ("K", "mK", "GHz", "MHz", "kHz", "Hz", "s", "rad", "dB", "%", r"$\pi C_0$",
               "$C_0$", "r0")
#: Pure numbers: a value after these symbols needs no unit.
PURE_NUMBERS = ("a", r"\beta", "β", r"\chi", "χ", "x", "N", r"\rangle", r"J_0/\epsilon_{max}",
                "Q_i", "Q_c")
EQUALS_VALUE = re.compile(r"=\s*[-−+]?\d[\d.]*(?:e[-+]?\d+)?(?:/\d+)?")


def _values_without_units(text: str) -> list[str]:
    """Every "symbol = value" of ``text`` whose value has no unit and whose symbol is not a
    pure number."""
    bad = []
    for m in EQUALS_VALUE.finditer(text):
        after = text[m.end():].lstrip()
        if any(after.startswith(u) and not after[len(u):len(u) + 1].isalnum()
               for u in VALUE_UNITS):
            continue
        clause = re.split(r"[,:;(+\n]", text[:m.start()])[-1]
        symbol = clause.replace("$", "").replace(" ", "")
        if not symbol.endswith(PURE_NUMBERS):
            bad.append(f"{clause.strip()} {m.group(0)}")
    return bad


NUMBER_TICK = re.compile(r"^[\s$]*(\\mathdefault\{)?[-−+]?[\d.]*(\\times)?\s*"
                         r"(10\^\{[-−+]?\d+\})?\}?[\s$]*$")


def _named_ticks(axis) -> bool:
    """Whether the axis's tick labels are names (categories, a marked zero), not numbers
    that need a label with a unit."""
    return any(not NUMBER_TICK.match(t.get_text()) for t in axis.get_ticklabels()
               if t.get_text())


def _zero_of_broken_axis(ax, axis) -> bool:
    """The x axis of the narrow zero part of a broken coupling axis: its one tick "0", the axis
    label under the log part beside it (sharing y)."""
    shown = [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
    partners = [a for a in ax.get_shared_y_axes().get_siblings(ax) if a is not ax]
    return (axis is ax.xaxis and shown == ["0"]
            and any(a.get_visible() and a.get_xscale() == "log"
                    and UNIT_AT_END.search(a.get_xlabel()) for a in partners))


def _data_points(ax) -> np.ndarray:
    """Display coordinates (n, 2) of the finite data points (curves, markers, error-bar ends)
    drawn in data coordinates on ``ax``."""
    points = []
    for line in ax.get_lines():
        if line.get_visible() and line.get_transform() is ax.transData:
            points.append(np.asarray(line.get_xydata(), dtype=float))
    for coll in ax.collections:
        if coll.get_visible() and coll.get_transform() is ax.transData:
            for path in coll.get_paths():
                points.append(np.asarray(path.vertices, dtype=float))
    if not points:
        return np.empty((0, 2))
    xy = np.concatenate(points)
    xy = xy[np.all(np.isfinite(xy), axis=1)]
    if ax.get_xscale() == "log" or ax.get_yscale() == "log":
        xy = xy[(xy[:, 0] > 0 if ax.get_xscale() == "log" else True)
                & (xy[:, 1] > 0 if ax.get_yscale() == "log" else True)]
    return ax.transData.transform(xy) if xy.size else np.empty((0, 2))


def _texts(fig) -> list[tuple[str, str]]:
    """(where, text) of every visible text of the figure: labels, titles, legends, notes,
    categorical tick labels, the suptitle."""
    out = []
    if fig._suptitle is not None:
        out.append(("suptitle", fig._suptitle.get_text()))
    for legend in fig.legends:
        out += [("figure legend", t.get_text()) for t in legend.get_texts()]
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        where = f"axes {i}"
        out += [(f"{where} xlabel", ax.get_xlabel()), (f"{where} ylabel", ax.get_ylabel())]
        out += [(f"{where} title", ax.get_title(loc)) for loc in ("left", "center", "right")]
        out += [(f"{where} text", t.get_text()) for t in ax.texts if t.get_visible()]
        if ax.get_legend() is not None:
            out += [(f"{where} legend", t.get_text()) for t in ax.get_legend().get_texts()]
        for axis in (ax.xaxis, ax.yaxis):
            if _named_ticks(axis):
                out += [(f"{where} tick", t.get_text()) for t in axis.get_ticklabels()]
    return [(w, t) for w, t in out if t]


def problems(fig) -> list[str]:
    """Everything that keeps ``fig`` out of a paper, by the rules of this module."""
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found = []
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        if not len(_data_points(ax)):
            if not any(t.get_text().strip() for t in ax.texts):
                found.append(f"axes {i} ({ax.get_title('left') or ax.get_title()!r}) has no data "
                             "and no note saying why")
            continue
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            shown = [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            if not shown or _named_ticks(axis) or _zero_of_broken_axis(ax, axis):
                continue  # a shared axis without its own numbers, named categories
            label = axis.get_label_text()
            if not UNIT_AT_END.search(label):
                found.append(f"axes {i} {name} label {label!r} does not end with a unit")
    for where, text in _texts(fig):
        for pattern, what in PLAIN:
            if pattern.search(text):
                found.append(f"{where} {text!r}: {what}")
        found += [f"{where} {text!r}: no unit after {v!r}" for v in _values_without_units(text)]
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            frame = ax.get_window_extent(renderer)
            for x, y in _data_points(ax):
                if box.contains(x, y) and frame.contains(x, y):
                    found.append(f"a legend ({legend.get_texts()[0].get_text()!r}...) covers "
                                 f"data of axes {fig.axes.index(ax)}")
                    break
    return found


# -- catching the figures -----------------------------------------------------------------------


@pytest.fixture
def drawn(monkeypatch):
    """The Figure objects saved while the test runs (``Figure.savefig`` is wrapped)."""
    caught: list[Figure] = []
    original = Figure.savefig

    def record(self, *args, **kwargs):
        if all(self is not f for f in caught):
            caught.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    return caught


# -- synthetic study directories ----------------------------------------------------------------


def _observable(name: str, spec, rng) -> np.ndarray:
    """Plausible values of one observable, shape (*sweep, realisation, *observable dims)."""
    shape = (*spec.shape, spec.max_realisations)
    t = np.asarray(spec.probe.temperatures)
    w = np.asarray(spec.probe.frequencies)
    x = w[None, :] / t[:, None]  # (temperature, frequency)
    noise = 1 + 0.05 * rng.standard_normal((*shape, *x.shape))
    if name in ("absorption", "configuration_bath_absorption",
                "configuration_bath_absorption_infinite", "relaxation_absorption"):
        return np.tanh(x / 2) * noise
    if name == "single_tls_fraction":
        return 0.9 * noise
    if name in ("velocity_shift", "relaxation_velocity_shift"):
        t_max = math.sqrt(t.min() * t.max())
        law = np.where(t < t_max, np.log(t / t_max), -np.log(t / t_max))[:, None]
        curve = law + 0.02 * rng.standard_normal((*shape, *x.shape))
        return curve if name == "velocity_shift" else 0 * curve
    if name == "specific_heat":
        return (x[:, 0] ** 2 / np.cosh(x[:, 0] / 2) ** 2) * noise[..., 0]
    if name == "spacing_ratio":
        return 0.39 + 0.01 * rng.standard_normal(shape)
    if name == "saturation":
        e0 = np.asarray(spec.probe.saturation.amplitudes)
        law = (1 + (e0 / 1e-4) ** 2) ** -0.4
        return law * (1 + 0.02 * rng.standard_normal((*shape, len(t), len(w), len(e0))))
    raise AssertionError(f"no synthetic values for {name}")


def _results_file(study_dir: Path, name: str, spec) -> None:
    rng = np.random.default_rng(28)
    values = {obs: _observable(obs, spec, rng) for obs in spec.probe.observables}
    ds = build_dataset(spec, values, {"spec": spec.canonical_json(), "name": spec.name})
    ds.to_netcdf(study_dir / f"{name}.nc", engine="h5netcdf")


def _row(study: str, value: float, index: float, **extra) -> dict:
    row = {"study": study, "value": value, "index": index, "index_error": 0.05,
           "spacing_ratio": 0.39, "spacing_ratio_error": 0.01, "collapse_slope": 0.1 * index,
           "collapse_slope_error": 0.02, "coupling_lambda": value / 0.3, "coupling_chi": 0.005,
           "single_tls_fraction": None, "single_tls_fraction_error": None,
           "index_configuration_bath_infinite": None,
           "index_configuration_bath_infinite_error": None, "frozen_fraction": None}
    return {**row, **extra}


def _matrix_elements(study_dir: Path, empty_systems: tuple[str, ...] = ()) -> None:
    systems = ["independent TLS", "dipolar J0 = 0.1 K", "flat random block"]
    w = np.geomspace(0.01, 0.5, 8)
    bins = ["0-0.1 K", "0.1-0.2 K", "0.2-0.4 K"]
    mean = np.ones((len(systems), len(bins), len(w))) * np.linspace(0.5, 1.5, len(w))
    for k, system in enumerate(systems):
        if system in empty_systems:
            mean[k] = np.nan
    mean[:, 2, :3] = np.nan  # a bin with too few pairs at low w
    ds = xr.Dataset({"mean_square_stress": (("system", "energy_bin", "frequency"), mean),
                     "standard_error": (("system", "energy_bin", "frequency"), 0.1 * mean)},
                    coords={"system": systems, "energy_bin": bins, "frequency": w},
                    attrs={"n_tls": 4, "realisations": 3, "min_pairs": 20})
    ds.to_netcdf(study_dir / "matrix_elements.nc", engine="h5netcdf")


def full_study(study_dir: Path) -> Path:
    """Every results file the figures read, at the shipped sweep values (zero coupling
    included), 6 realisations per point."""
    study_dir.mkdir()
    for name in ("dipolar", "admixture", "random_block", "decomposition", "relaxation",
                 "relaxation_admixture", "saturation", "saturation_block"):
        _results_file(study_dir, name, load_study_spec(name).resized(realisations=6))
    rows = []
    for study in ("dipolar", "gaussian"):
        rows += [_row(study, v, 1 - 3 * v) for v in (0.0, 0.003, 0.01, 0.03, 0.1, 0.3)]
    rows += [_row("admixture", v, 1 - v) for v in (0.0, 0.01, 0.1, 1.0)]
    rows += [_row("two_body_stress", v, 0.1 - v) for v in (0.0, 0.3, 1.0)]
    rows += [_row("finite_size", n, 0.5) for n in (6, 8, 10)]
    rows += [_row("coupling_density", v, 0.5, coupling_lambda=v / 0.9) for v in (0.01, 0.03)]
    rows += [_row("tunnelling_min", v, 0.45, coupling_lambda=1 / 30) for v in (1e-3, 1e-4, 1e-5)]
    rows += [_row("measurement_time", v, 0.6, frozen_fraction=0.2) for v in (1e-4, 1e-2, 1e4)]
    rows += [_row("decomposition", v, 0.5, single_tls_fraction=0.9, single_tls_fraction_error=0.01,
                  index_configuration_bath_infinite=1.0,
                  index_configuration_bath_infinite_error=0.01) for v in (0.0, 0.01, 0.03, 0.1)]
    (study_dir / "summary.json").write_text(json.dumps(rows))
    _matrix_elements(study_dir)
    return study_dir


def sparse_study(study_dir: Path) -> Path:
    """A study with holes: the tiny dipolar sweep (no J0 of the collapse panel), no
    two-body stress, lambda, decomposition or tunnelling rows, a matrix-element system without a
    single bin of enough pairs."""
    study_dir.mkdir()
    _results_file(study_dir, "dipolar", load_study_spec("dipolar", "tiny"))
    rows = [_row("dipolar", v, 0.5) for v in (0.1, 0.3)]
    rows += [_row("measurement_time", v, 0.6, frozen_fraction=0.2) for v in (1e-2, 1e4)]
    (study_dir / "summary.json").write_text(json.dumps(rows))
    _matrix_elements(study_dir, empty_systems=("dipolar J0 = 0.1 K",))
    return study_dir


def _draw_all(study_dir: Path, out: Path) -> list[Path]:
    return figures.make_all_figures(study_dir, out)


def _report(caught) -> dict[str, list[str]]:
    return {str(f.get_axes()[0].get_title("left") or f.get_axes()[0].get_title() or i):
            p for i, f in enumerate(caught) if (p := problems(f))}


# -- the study's figures ------------------------------------------------------------------------


def test_every_figure_of_a_full_study_has_units_symbols_and_uncovered_data(tmp_path, drawn):
    paths = _draw_all(full_study(tmp_path / "study"), tmp_path / "fig")
    names = {p.stem for p in paths}
    assert names == {"absorption_shape", "tls_index", "specific_heat", "matrix_elements",
                     "velocity_shift", "decomposition", "equilibration", "collapse",
                     "saturation_models"}, names
    assert len(drawn) == len(names)
    assert _report(drawn) == {}


def test_empty_panels_of_a_study_with_holes_say_why(tmp_path, drawn):
    study = sparse_study(tmp_path / "study")
    assert decomposition_figures.figure_decomposition(study, tmp_path / "fig") == []  # no file
    _draw_all(study, tmp_path / "fig")
    assert drawn
    assert _report(drawn) == {}
    notes = [t.get_text() for f in drawn for ax in f.axes if ax.get_visible() for t in ax.texts]
    assert any("no transitions in the window" in n for n in notes), notes
    assert any("two-body stress" in n for n in notes), notes  # tls_index (d)


def test_a_study_without_coupling_sweeps_says_so_in_the_coupling_panels(tmp_path, drawn):
    study = tmp_path / "study"
    study.mkdir()
    (study / "summary.json").write_text(json.dumps([_row("two_body_stress", v, 0.1 - v)
                                                    for v in (0.0, 0.3, 1.0)]))
    paths = figures.figure_index(study, tmp_path / "fig")
    assert [p.name for p in paths] == ["tls_index.pdf", "tls_index.png"]
    (fig,) = drawn
    assert problems(fig) == []
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert sum(bool(ax.texts) for ax in visible) == 3  # (a), (b) and the finite-size panel


def test_an_undetermined_index_runs_off_its_panel_instead_of_squashing_the_others(tmp_path, drawn):
    """A fit pinned at its bound gave a TLS-index error of 3.6e138 (tiny study, session 28):
    autoscaled, every other point lay on one line under a "1e138" offset label."""
    study = tmp_path / "study"
    study.mkdir()
    rows = [_row(s, v, 0.5 - v) for s in ("dipolar", "gaussian") for v in (0.0, 0.01, 0.1)]
    rows += [_row("measurement_time", v, 0.6) for v in (1e-2, 1e4)]
    rows += [_row("two_body_stress", v, 0.1 - v) for v in (0.0, 0.3, 1.0)]
    for row, error in zip(rows[1::4], (3.6e138, 1e27, 15.6), strict=False):
        row["index_error"] = error
    (study / "summary.json").write_text(json.dumps(rows))
    figures.figure_index(study, tmp_path / "fig")
    decomposition_figures.figure_equilibration(study, tmp_path / "fig")
    for fig in drawn:
        FigureCanvasAgg(fig)
        fig.canvas.draw()
    panels = [ax for fig in drawn for ax in fig.axes if ax.get_visible()
              and ax.get_ylabel().startswith("TLS index") and len(_data_points(ax))]
    assert len(panels) >= 3, [ax.get_ylabel() for fig in drawn for ax in fig.axes]
    for ax in panels:
        lo, hi = ax.get_ylim()
        assert -3 < lo < 0 and 1 < hi < 3, (ax.get_title("left"), lo, hi)


def test_an_index_on_the_fit_bound_is_crossed_out_and_named(tmp_path, drawn):
    """An index pinned at the family fit's bound (a = -0.999: the data do not determine it) was
    drawn as an ordinary point (a referee, session 39); it is now crossed out, in every index
    panel and on the zero-coupling axis, with one legend entry saying what the cross means."""
    from manybody.laws.fit import FAMILY_INDEX_BOUNDS

    study = tmp_path / "study"
    study.mkdir()
    lo = FAMILY_INDEX_BOUNDS[0]
    rows = [_row("dipolar", v, a) for v, a in ((0.0, lo), (0.01, 0.4), (0.1, lo))]
    rows += [_row("two_body_stress", v, a) for v, a in ((0.0, 0.1), (0.3, lo), (1.0, 0.2))]
    (study / "summary.json").write_text(json.dumps(rows))
    figures.figure_index(study, tmp_path / "fig")
    (fig,) = drawn
    crosses = [line for ax in fig.axes for line in ax.get_lines()
               if line.get_label() == figures.AT_BOUND_LABEL]
    assert sorted(float(x) for line in crosses for x in line.get_xdata()) == [
        pytest.approx(-0.45), 0.1, pytest.approx(0.3)]  # zero coupling at its offset, 0.1, 0.3
    assert all(np.all(line.get_ydata() == lo) for line in crosses)
    legend_texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert legend_texts.count(figures.AT_BOUND_LABEL) == 1


def test_no_absorption_results_give_no_figure_of_references_alone(tmp_path, drawn):
    study = tmp_path / "study"
    study.mkdir()
    assert figures.figure_absorption(study, tmp_path / "fig") == []
    assert figures.figure_specific_heat(study, tmp_path / "fig") == []
    assert drawn == []


@pytest.mark.parametrize("labels", [
    ["independent TLS", "dipolar J0 = 0.1 K", "TLS + GOE 0.1 K (x = 1)"],
    ["TLS + dipolar J0 = 0.03 K + GOE 0.1 K (x = 4)", "GOE lambda = 0.3 K", "flat random block"],
])
def test_saturation_figure_writes_symbols_and_units(labels):
    x = np.geomspace(0.01, 100.0, 12)
    curves = [(1 + x) ** -0.5, (1 + x) ** -0.3, (1 + x) ** -0.15]
    fig = saturation_figures.draw_saturation_models(x, curves, labels)
    assert problems(fig) == []
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(t.startswith(r"$(1 + P/P_c)^{-\beta}$, $\beta$ = 0.30") for t in legend), legend


# -- the resonance-fit figure -------------------------------------------------------------------


def _sweep(seed: int) -> S21Sweep:
    qi, qc, phi, f0 = 2.0e4, 8.0e3, 0.25, 5.0e9
    ql = 1.0 / (1.0 / qi + math.cos(phi) / qc)
    f = f0 + f0 / ql * np.linspace(-8, 8, 401)
    z = notch_s21(f, f0, ql, qc, phi, 0.05, 1.1, 45e-9)
    rng = np.random.default_rng(seed)
    return S21Sweep(f, z + 1e-4 * (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size)),
                    f"synthetic {seed}", "real-imag")


def _flat() -> S21Sweep:
    f = np.linspace(4.99e9, 5.01e9, 401)
    z = 1 + 1e-3 * np.random.default_rng(0).standard_normal(f.size) + 0j
    return S21Sweep(f, z, "flat.csv", "real-imag")


def _texts_inside(fig) -> list[str]:
    """Texts that reach beyond the figure (the resonance figure is saved without a tight box)."""
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    out = []
    hidden_ticks = set()  # tick labels outside the view: not drawn
    for ax in fig.axes:
        for axis, (lo, hi) in ((ax.xaxis, sorted(ax.get_xlim())), (ax.yaxis, sorted(ax.get_ylim()))):
            for tick in (*axis.get_major_ticks(), *axis.get_minor_ticks()):
                if not lo <= tick.get_loc() <= hi:
                    hidden_ticks |= {id(tick.label1), id(tick.label2)}
    for text in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_window_extent")):
        if not text.get_visible() or not text.get_text().strip():
            continue
        if id(text) in hidden_ticks:
            continue  # a tick outside the axis's view: not drawn
        ext = text.get_window_extent(renderer)
        if ext.x0 < box.x0 - 1 or ext.x1 > box.x1 + 1 or ext.y0 < box.y0 - 1 or ext.y1 > box.y1 + 1:
            out.append(text.get_text())
    return out


def test_resonance_figure_labels_a_failed_fit_and_clips_nothing(drawn):
    items = [(s, fit_notch(s), f"{s.source}\nT = {t} mK")
             for s, t in ((_sweep(1), 20), (_sweep(2), 50), (_flat(), 100))]
    assert items[2][1].flag and not np.isfinite(items[2][1].f0)  # the failed fit
    rendered = resonance_figures.render_resonance_fits(items)
    assert set(rendered) == {".png", ".pdf"}
    (fig,) = drawn
    assert problems(fig) == []
    assert _texts_inside(fig) == []
    notes = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("no fit" in n for n in notes), notes


def test_resonance_figure_without_sweeps_says_so(drawn):
    resonance_figures.render_resonance_fits([])
    (fig,) = drawn
    assert problems(fig) == []
    assert [t.get_text() for ax in fig.axes if ax.get_visible() for t in ax.texts]


# -- the helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(("plain", "symbols"), [
    ("dipolar J0 = 0.1 K", "dipolar $J_0$ = 0.1 K"),
    ("TLS + dipolar J0 = 0.03 K + GOE 0.1 K (x = 1)",
     r"TLS + dipolar $J_0$ = 0.03 K + GOE $W$ = 0.1 K ($x$ = 1)"),
    ("TLS + GOE, lambda = 0.3 K", r"TLS + GOE, $\lambda$ = 0.3 K"),
    ("Delta_min = 1e-05 K, eps_max = 0.3 K", r"$\Delta_{min}$ = 1e-05 K, $\epsilon_{max}$ = 0.3 K"),
    ("Q(2w) / Q(w), in pi C0", r"Q(2$\omega$) / Q($\omega$), in $\pi C_0$"),
    ("random block: goe", "random block: GOE"),
    (r"already $\lambda$ = 1 K", r"already $\lambda$ = 1 K"),
])
def test_symbolise_writes_the_fields_symbols(plain, symbols):
    assert style.symbolise(plain) == symbols


@pytest.mark.parametrize(("key", "value", "unit", "text"), [
    ("model.coupling.strength", 0.01, None, "$J_0$ = 0.01 K"),
    ("coupling_strength", 0.0, None, "$J_0$ = 0 K"),
    ("model.random_matrix.weight", 0.1, None, r"$W$ = 0.1 K"),
    ("model.tls.tunnelling_min", 1e-5, None, r"$\Delta_{min}$ = 1e-05 K"),
    ("model.equilibration.measurement_time", 1e4, None, "$t_m$ = 10000 s"),
    ("model.n_tls", 8, None, "$N$ = 8"),
    ("model.coupling.min_distance", 0.5, "r0", "min distance = 0.5 r0"),
    ("probe.broadening.resolution", 0.2, "1", "resolution = 0.2"),
    ("coupling_strength", np.float64(0.03), None, "$J_0$ = 0.03 K"),  # from a results file
    ("random_matrix_kind", np.str_("flat"), None, "random matrix kind = flat"),
])
def test_parameter_text_gives_symbol_value_and_unit(key, value, unit, text):
    assert style.parameter_text(key, value, unit) == text


def test_axis_label_states_a_pure_number_as_dimensionless():
    assert style.axis_label("$T$", "K") == "$T$ (K)"
    for unit in (None, "", "1"):
        assert style.axis_label("TLS index $a$", unit) == "TLS index $a$ (dimensionless)"
    assert UNIT_AT_END.search(style.axis_label(r"$\Delta v/v$", "units of $C_0$"))


def test_the_rules_catch_what_they_are_for():
    """The checker itself: each kind of fault of the old figures is found."""
    fig = Figure()
    ax, bx = fig.subplots(1, 2)
    ax.plot([1, 2, 3], [1, 2, 3], "o", label="J0 = 0.1")
    ax.plot([1, 2], [3, 1], label="TLS + GOE, lambda = 0.1 K")
    ax.legend(loc="center")
    ax.set_xlabel("coupling")
    ax.set_ylabel("TLS index a")
    bx.errorbar([1, 2], [np.nan, np.nan], [0.1, 0.1])
    found = "\n".join(problems(fig))
    for expected in ("x label 'coupling' does not end with a unit", "y label 'TLS index a'",
                     "lambda spelled out", "J0 (use $J_0$)", "no unit after 'J0 = 0.1'",
                     "axes 1 ('') has no data and no note", "covers data of axes 0"):
        assert expected in found, found
