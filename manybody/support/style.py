"""The look of every figure: palette, markers, rc settings, fixed file metadata, and the words
of its labels.

Figures are :class:`matplotlib.figure.Figure` objects drawn inside :func:`styled` (a local
``rc_context``): no pyplot state and no global rcParams changes. Saved without dates or version
strings, so the same data give byte-identical files.

Labels (so that a figure can go into a paper without edits):

- every axis label ends with its unit in parentheses, built by :func:`axis_label`: "(K)", "(GHz)",
  "(s)", "(units of $\\pi C_0$)", or "(dimensionless)" for ratios, indices and counts;
- a parameter in a legend or title is its symbol, its value and its unit, built by
  :func:`parameter_text` ("$J_0$ = 0.01 K", "$W$ = 0.1 K"); names that come from data (a
  model's description, a system's name) pass through :func:`symbolise`, which turns the plain
  spellings of the API and of the summary tables (J0, lambda, eps_max, Delta_min, w) into those
  symbols;
- a panel without data says why in its middle (:func:`empty_panel`) instead of an empty frame.
"""

from __future__ import annotations

import contextlib
import functools
import numbers
import re
from collections.abc import Iterator
from pathlib import Path

from manybody.support.files import atomic_destination

#: Okabe-Ito colour-blind-safe palette.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
#: rc settings of every figure, applied with matplotlib.rc_context (never to the global rcParams).
STYLE = {
    "figure.dpi": 150, "savefig.dpi": 200, "font.size": 9, "axes.labelsize": 9,
    "legend.fontsize": 7.5, "errorbar.capsize": 2, "lines.linewidth": 1.2, "lines.markersize": 4,
    "pdf.fonttype": 42, "axes.grid": True, "grid.alpha": 0.25,
}
#: Fixed file metadata: no creation date and no version strings.
PDF_METADATA = {"Creator": "manybody", "Producer": "manybody", "CreationDate": None, "ModDate": None}
PNG_METADATA = {"Software": "manybody"}


@contextlib.contextmanager
def style_context() -> Iterator[None]:
    """The package style as a local matplotlib ``rc_context``."""
    import matplotlib

    with matplotlib.rc_context({**STYLE, "axes.prop_cycle": matplotlib.cycler(color=PALETTE)}):
        yield


def styled(fn):
    """Decorator: draw the figure of ``fn`` inside :func:`style_context`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with style_context():
            return fn(*args, **kwargs)

    return wrapper


def new_figure(**kwargs):
    """A new Figure not registered with pyplot (no global state, nothing to close)."""
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def save_figure(fig, out: Path, name: str, formats: tuple[str, ...] = ("pdf", "png"),
                bbox_inches: str | None = "tight") -> list[Path]:
    """Write ``out/name.<format>`` for each format (creating ``out``), atomically, with fixed
    metadata; returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out / f"{name}.{fmt}"
        metadata = PDF_METADATA if fmt == "pdf" else PNG_METADATA if fmt == "png" else None
        with atomic_destination(path) as tmp:
            fig.savefig(tmp, format=fmt, metadata=metadata, bbox_inches=bbox_inches)
        paths.append(path)
    return paths


#: Unit marker of a pure number (ratio, index, count) in an axis label.
DIMENSIONLESS = "dimensionless"
#: Symbol (mathtext) and unit of the model and probe parameters the figures name, keyed by the
#: last part of the dotted parameter path (``model.coupling.strength`` -> ``strength``) or the
#: dimension name of a results file (``coupling_strength``). Unit "" is a pure number.
PARAMETER_SYMBOLS: dict[str, tuple[str, str]] = {
    "strength": (r"$J_0$", "K"),
    "weight": (r"$W$", "K"),  # the GOE weight; lambda is the README's J0/eps_max
    "asymmetry_max": (r"$\epsilon_{max}$", "K"),
    "tunnelling_min": (r"$\Delta_{min}$", "K"),
    "tunnelling_max": (r"$\Delta_{max}$", "K"),
    "growth_temperature": (r"$T_g$", "K"),
    "measurement_time": (r"$t_m$", "s"),
    "two_body": (r"rms $K^T$", "K per unit strain"),
    "deformation_potential": (r"$\gamma$", "K per unit strain"),
    "n_tls": (r"$N$", ""),
    "temperature": (r"$T$", "K"),
    "frequency": (r"$\hbar\omega$", "K"),
}
for _key, _value in list(PARAMETER_SYMBOLS.items()):
    for _section in ("coupling", "random_matrix", "tls", "equilibration", "stress"):
        PARAMETER_SYMBOLS.setdefault(f"{_section}_{_key}", _value)


def axis_label(quantity: str, unit: str | None = None) -> str:
    """An axis label: the quantity and its unit in parentheses at the end.

    Parameters
    ----------
    quantity : str
        Name and/or symbol of the quantity (mathtext allowed), e.g. ``r"$T$"``.
    unit : str or None
        "K", "GHz", "s", "units of $\\pi C_0$", ...; None, "" or "1" for a pure number, which is
        written "(dimensionless)".

    Returns
    -------
    str
        ``"quantity (unit)"``.
    """
    return f"{quantity} ({unit if unit not in (None, '', '1') else DIMENSIONLESS})"


def _number(value) -> str:
    """A value as a legend writes it: numbers in the shortest form ("0.01", "1e-05")."""
    return f"{value:g}" if isinstance(value, numbers.Real) and not isinstance(value, bool) \
        else str(value)


def parameter_text(key: str, value, unit: str | None = None) -> str:
    """A parameter and its value for a legend or title: its symbol, the value and its unit.

    Parameters
    ----------
    key : str
        Dotted parameter path (``"model.coupling.strength"``), its last part (``"strength"``)
        or a results file's dimension name (``"coupling_strength"``).
    value : float or str
        The value, in the parameter's unit (K for energies, s for times).
    unit : str, optional
        The unit, for a parameter without an entry in :data:`PARAMETER_SYMBOLS` (e.g.
        ``manybody.runs.spec.axis_units(key)``); "1" or "" for a pure number. Default: the
        table's unit.

    Returns
    -------
    str
        E.g. ``"$J_0$ = 0.01 K"``; a parameter without a symbol in the table is named by its
        last path part, spaces for underscores.
    """
    last = key.rsplit(".", 1)[-1]
    dimension = key.split(".", 1)[1].replace(".", "_") if key.count(".") >= 2 else last
    symbol, known = PARAMETER_SYMBOLS.get(dimension, PARAMETER_SYMBOLS.get(last, (None, "")))
    symbol = symbol or last.replace("_", " ")
    unit = known if unit is None else unit
    text = f"{symbol} = {_number(value)}"
    return f"{text} {unit}" if unit not in ("", "1") and not isinstance(value, str) else text


#: Plain spellings (of the API, the summary tables and the system names) and their symbols.
_PLAIN_SYMBOLS = (
    (re.compile(r"\bJ_?0\b"), r"$J_0$"),
    (re.compile(r"\blambda\b", re.IGNORECASE), r"$\\lambda$"),
    (re.compile(r"\b(?:eps|epsilon)_max\b"), r"$\\epsilon_{max}$"),
    (re.compile(r"\bDelta_(min|max)\b"), r"$\\Delta_{\1}$"),
    (re.compile(r"\bDelta\b"), r"$\\Delta$"),
    (re.compile(r"\b(?:eps|epsilon)\b"), r"$\\epsilon$"),
    (re.compile(r"\bgamma\b"), r"$\\gamma$"),
    (re.compile(r"\bchi\b"), r"$\\chi$"),
    (re.compile(r"\bbeta\b"), r"$\\beta$"),
    (re.compile(r"\bomega\b"), r"$\\omega$"),
    (re.compile(r"\b([0-9.]*)w\b"), r"\1$\\omega$"),
    (re.compile(r"\bT_?(min|max)\b"), r"$T_{\1}$"),
    (re.compile(r"\b([xNT]) = "), r"$\1$ = "),
    (re.compile(r"\bgoe\b"), "GOE"),
    (re.compile(r"\bGOE ([0-9][0-9.e+-]*) K\b"), r"GOE $W$ = \1 K"),
    (re.compile(r"\bSiO2\b"), r"SiO$_2$"),
    (re.compile(r"\bpi[ *]?C0\b"), r"$\\pi C_0$"),
    (re.compile(r"\bC0\b"), r"$C_0$"),
)


def symbolise(text: str) -> str:
    """Write the plain spellings of parameters in a label from data as the field's symbols.

    Parameters
    ----------
    text : str
        A name from data, e.g. a model description ``"TLS + dipolar J0 = 0.03 K + GOE 0.1 K"``.

    Returns
    -------
    str
        The same text with mathtext symbols: ``"TLS + dipolar $J_0$ = 0.03 K + GOE
        $W$ = 0.1 K"``; J0, lambda, eps_max, Delta_min/max, Delta, eps, gamma, chi, beta,
        omega and w (a frequency), T_min/max, goe and SiO2 are replaced; text already between
        ``$`` signs is left alone.
    """
    text = str(text)
    for pattern, replacement in _PLAIN_SYMBOLS:
        parts = text.split("$")
        for i in range(0, len(parts), 2):  # outside mathtext only (also what earlier ones wrote)
            parts[i] = pattern.sub(replacement, parts[i])
        text = "$".join(parts)
    return text


def empty_panel(ax, why: str) -> None:
    """Say in the middle of a panel why it has no data, and drop its ticks and grid.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel.
    why : str
        The reason, e.g. "no transitions in the window"; written as it is.

    Notes
    -----
    The ticks are hidden, not removed, so an axis shared with a panel that has data keeps its
    ticks there.
    """
    ax.text(0.5, 0.5, why, transform=ax.transAxes, ha="center", va="center", fontsize=7,
            wrap=True)
    ax.tick_params(axis="both", which="both", bottom=False, left=False, top=False,
                   right=False, labelbottom=False, labelleft=False)
    ax.grid(False)
    ax.set_xlabel("")
    ax.set_ylabel("")


def legend_below(ax, *, ncol: int = 1, fontsize: float = 6.0, gap: float = 34.0, **kwargs):
    """A legend under a panel's x axis label, outside the data.

    A legend inside the axes covers whatever data fall behind it, and where the data fall
    depends on the run; below the x label it covers nothing.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel.
    ncol : int
        Columns of the legend.
    fontsize : float
        Font size (points).
    gap : float
        Distance (points) from the bottom of the axes to the top of the legend: room for the
        tick labels and the x label.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.legend`.

    Returns
    -------
    matplotlib.legend.Legend
    """
    from matplotlib.transforms import offset_copy

    anchor = offset_copy(ax.transAxes, fig=ax.figure, y=-gap, units="points")
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=anchor,
                     ncol=ncol, frameon=False, fontsize=fontsize, **kwargs)


def limit_runaway_errors(ax, values, errors, *, cap: float, include: tuple[float, ...] = ()
                         ) -> None:
    """Set a panel's y limits from its values and their errors, each error counted up to ``cap``.

    A point whose error bar is larger than ``cap`` (a value the data do not determine, e.g. a
    fit pinned at a bound) then runs off the panel instead of squashing every other point into
    a line under a "1e138" offset label.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel (its shared partners follow).
    values, errors : array_like
        The plotted values and their one-standard-deviation errors (same size; NaN allowed).
    cap : float
        Largest error that widens the limits (units of the values).
    include : tuple of float
        Values that must stay inside the limits (reference lines).
    """
    import numpy as np

    v = np.asarray(values, dtype=float).ravel()
    e = np.minimum(np.nan_to_num(np.abs(np.asarray(errors, dtype=float).ravel()), nan=0.0), cap)
    keep = np.isfinite(v)
    if not keep.any():
        return
    lo = min(float(np.min(v[keep] - e[keep])), *include)
    hi = max(float(np.max(v[keep] + e[keep])), *include)
    pad = 0.05 * ((hi - lo) or 1.0)
    ax.set_ylim(lo - pad, hi + pad)
