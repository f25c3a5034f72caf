"""Figure of a few resonance fits for a by-eye check: the circle and |S21| with the model."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from manybody.measured.resonance import ResonanceFit, notch_s21
from manybody.measured.sweeps import S21Sweep
from manybody.support.files import atomic_write
from manybody.support.style import (
    PALETTE,
    PDF_METADATA,
    PNG_METADATA,
    axis_label,
    empty_panel,
    legend_below,
    new_figure,
    style_context,
)

#: Colour of a flagged sweep's title (vermillion of the palette).
FLAG_COLOUR = PALETTE[1]
#: Characters of a flag's reason shown in a title (the full reason is in resonator_fits.csv).
FLAG_CHARACTERS = 140


def representative(n_items: int, n_shown: int = 4) -> list[int]:
    """Indices of ``n_shown`` items spread evenly from the first to the last."""
    if n_items <= n_shown:
        return list(range(n_items))
    return sorted({int(round(i)) for i in np.linspace(0, n_items - 1, n_shown)})


def plot_resonance_fits(items: list[tuple[S21Sweep, ResonanceFit, str]], stem: str | Path
                        ) -> list[Path]:
    """Normalised circles (top) and |S21| in dB (bottom) of the sweeps, data and model.

    Parameters
    ----------
    items : list of (S21Sweep, ResonanceFit, str)
        The sweeps, their fits and a title each (e.g. the temperature). Flagged fits are drawn
        with their reason in the title; failed fits (no parameters) show the data only.
    stem : str or Path
        Output path without suffix; ``.png`` and ``.pdf`` are written.

    Returns
    -------
    list of Path
        The files written.
    """
    stem = Path(stem)
    out = []
    for suffix, data in render_resonance_fits(items).items():
        path = stem.with_suffix(suffix)
        atomic_write(path, lambda fh, d=data: fh.write(d))
        out.append(path)
    return out


def render_resonance_fits(items: list[tuple[S21Sweep, ResonanceFit, str]]) -> dict[str, bytes]:
    """The figure of :func:`plot_resonance_fits` in memory, suffix (".png", ".pdf") -> bytes,
    so that a command can write it together with its other files once everything succeeded."""
    import io

    with style_context():
        fig = draw_resonance_fits(items)
        rendered = {}
        for suffix in (".png", ".pdf"):
            buffer = io.BytesIO()
            fmt = suffix[1:]
            fig.savefig(buffer, format=fmt, dpi=150,
                        metadata=PDF_METADATA if fmt == "pdf" else PNG_METADATA)
            rendered[suffix] = buffer.getvalue()
    return rendered


def draw_resonance_fits(items: list[tuple[S21Sweep, ResonanceFit, str]]):
    """The figure of :func:`plot_resonance_fits` (not saved).

    Parameters
    ----------
    items : list of (S21Sweep, ResonanceFit, str)
        As :func:`plot_resonance_fits`.

    Returns
    -------
    matplotlib.figure.Figure
        One column per sweep: the normalised circle (top; a failed fit has none, and its panel
        says so) and |S21| in dB against f - f0 in MHz (against f in GHz for a failed fit).
        Without items, one panel that says there is nothing to show.
    """
    n = max(len(items), 1)
    fig = new_figure(figsize=(3.2 * n, 6.4), layout="constrained")
    axes = fig.subplots(2, n, squeeze=False)
    if not items:
        axes[1, 0].set_visible(False)
        empty_panel(axes[0, 0], "no sweeps to show")
        return fig
    for j, (sweep, fit, title) in enumerate(items):
        top, bottom = axes[0, j], axes[1, j]
        f = sweep.frequency
        col = PALETTE[j % len(PALETTE)]
        if np.isfinite(fit.f0):
            data = fit.normalise(f, sweep.s21)
            grid = np.linspace(f[0], f[-1], 600)
            model = notch_s21(grid, fit.f0, fit.ql, fit.qc_abs, fit.phi)
            top.plot(data.real, data.imag, ".", color=col, ms=1.5, label="data", rasterized=True)
            top.plot(model.real, model.imag, "k-", lw=1.0, label="fit")
            top.plot([1.0], [0.0], "k+", ms=8)
            top.set_aspect("equal", adjustable="datalim")
            top.set_xlabel(axis_label(r"Re $S_{21}$, normalised"))
            top.set_ylabel(axis_label(r"Im $S_{21}$, normalised"))
            # the numbers above the panel: inside, they crossed the circle
            title += (f"\n$f_0$ = {fit.f0 / 1e9:.7g} GHz, $\\phi$ = {fit.phi:.3f} rad, "
                      f"misfit {fit.misfit:.3g}\n$Q_i$ = {fit.qi:.4g} ± {fit.qi_err:.2g}, "
                      f"$Q_c$ = {fit.qc:.4g} ± {fit.qc_err:.2g}")
            offset = (f - fit.f0) / 1e6
            bottom.plot(offset, 20 * np.log10(np.abs(sweep.s21)), ".", color=col, ms=1.5,
                        rasterized=True)
            bottom.plot((grid - fit.f0) / 1e6, 20 * np.log10(np.abs(fit.model(grid))), "k-",
                        lw=1.0)
            bottom.set_xlabel(axis_label(r"$f - f_0$", "MHz"))
        else:
            empty_panel(top, "no fit: no normalised circle\n(the data are below)")
            bottom.plot(f / 1e9, 20 * np.log10(np.abs(sweep.s21)), ".", color=col, ms=1.5,
                        rasterized=True)
            bottom.set_xlabel(axis_label("$f$", "GHz"))
        bottom.set_ylabel(axis_label(r"$|S_{21}|$, raw", "dB"))
        if fit.flag:
            reason = textwrap.shorten(fit.reason, FLAG_CHARACTERS, placeholder=" ...")
            title += "\n" + "\n".join(textwrap.wrap(f"FLAGGED: {reason}", 48))
        top.set_title(title, fontsize=7, color=FLAG_COLOUR if fit.flag else "k")
    fitted = [ax for ax in axes[0] if ax.get_lines()]
    if fitted:  # below the circle's label: inside, it covered points of the circle
        legend_below(fitted[0], ncol=2, fontsize=7)
    return fig
