"""Figure of a few resonance fits for a by-eye check: the circle and |S21| with the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from manybody.measured.resonance import ResonanceFit, notch_s21
from manybody.measured.sweeps import S21Sweep
from manybody.support.files import atomic_write
from manybody.support.style import PALETTE


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

    from matplotlib.figure import Figure  # heavy: only when a figure is drawn

    n = max(len(items), 1)
    fig = Figure(figsize=(3.2 * n, 6.4), layout="constrained")
    axes = fig.subplots(2, n, squeeze=False)
    for j, (sweep, fit, title) in enumerate(items):
        top, bottom = axes[0, j], axes[1, j]
        f = sweep.frequency
        col = PALETTE[j % len(PALETTE)]
        ok = np.isfinite(fit.f0)
        if ok:
            data = fit.normalise(f, sweep.s21)
            grid = np.linspace(f[0], f[-1], 600)
            model = notch_s21(grid, fit.f0, fit.ql, fit.qc_abs, fit.phi)
            top.plot(data.real, data.imag, ".", color=col, ms=1.5, label="data", rasterized=True)
            top.plot(model.real, model.imag, "k-", lw=1.0, label="fit")
            top.plot([1.0], [0.0], "k+", ms=8)
            offset = (f - fit.f0) / 1e6
            bottom.plot(offset, 20 * np.log10(np.abs(sweep.s21)), ".", color=col, ms=1.5,
                        rasterized=True)
            bottom.plot((grid - fit.f0) / 1e6, 20 * np.log10(np.abs(fit.model(grid))), "k-",
                        lw=1.0)
            bottom.set_xlabel(f"f − f0 (MHz), f0 = {fit.f0 / 1e9:.7g} GHz")
            text = (f"Qi = {fit.qi:.4g} ± {fit.qi_err:.2g}\nQc = {fit.qc:.4g} ± {fit.qc_err:.2g}"
                    f"\nφ = {fit.phi:.3f}, misfit {fit.misfit:.3g}")
            top.text(0.03, 0.03, text, transform=top.transAxes, fontsize=7, va="bottom")
        else:
            bottom.plot(f / 1e9, 20 * np.log10(np.abs(sweep.s21)), ".", color=col, ms=1.5,
                        rasterized=True)
            bottom.set_xlabel("f (GHz)")
        top.set_aspect("equal", adjustable="datalim")
        top.set_xlabel("Re S21 (normalised)")
        top.set_ylabel("Im S21 (normalised)")
        top.set_title(title + (f"\nFLAGGED: {fit.reason[:60]}" if fit.flag else ""),
                      fontsize=8, color="C3" if fit.flag else "k")
        bottom.set_ylabel("|S21| (dB, raw)")
        for a in (top, bottom):
            a.grid(True, alpha=0.3, lw=0.5)
    axes[0, 0].legend(fontsize=7, loc="upper right")
    rendered = {}
    for suffix in (".png", ".pdf"):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=suffix[1:], dpi=150)
        rendered[suffix] = buffer.getvalue()
    return rendered
