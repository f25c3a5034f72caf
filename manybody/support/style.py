"""The look of every figure: palette, markers, rc settings and fixed file metadata.

Figures are :class:`matplotlib.figure.Figure` objects drawn inside :func:`styled` (a local
``rc_context``): no pyplot state and no global rcParams changes. Saved without dates or version
strings, so the same data give byte-identical files.
"""

from __future__ import annotations

import contextlib
import functools
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
