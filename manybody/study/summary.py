"""The study's summary: the absorption shape (TLS index a, shape ratio R, law fits and verdict),
the level statistics and the velocity slopes of every sweep point of a results file, as rows of
``summary.json`` / ``velocity_slopes.json`` / ``summary.md``."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from manybody.laws.analysis import analyse_shape
from manybody.runs.results import SweepPoint, dataset_spec, sweep_points
from manybody.runs.spec import RunSpec
from manybody.study.velocity_table import VelocitySummary, format_velocity_table, velocity_row
from manybody.support import jsonio
from manybody.support.files import atomic_write_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PointSummary:
    """Shape analysis of one sweep point (one row of the summary table)."""

    study: str
    parameter: str
    value: Any
    n_tls: int
    realisations: int
    index: float
    index_error: float
    ratio: float
    ratio_error: float
    spacing_ratio: float
    spacing_ratio_error: float
    reduced_chi2_tls: float
    reduced_chi2_generic: float
    verdict: str


def kernel_smearing(spec: RunSpec) -> float | None:
    """eta / w of a Gaussian kernel (the laws are fitted kernel-averaged), else None."""
    b = spec.probe.broadening
    return b.width / spec.probe.frequencies[0] if b.kind == "gaussian" else None


def summarise(ds, name: str) -> tuple[list[PointSummary], list[VelocitySummary]]:
    """Fit the absorption shape and the velocity slopes at every sweep point of a results file.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of one study spec (absorption with a single frequency; the velocity slopes need
        ``velocity_shift`` and ``relaxation_velocity_shift``).
    name : str
        Study name for the table.

    Returns
    -------
    (shape rows, velocity rows)
        One row per sweep point each, or none when the file lacks the observables.
    """
    spec = dataset_spec(ds)
    shape_rows: list[PointSummary] = []
    velocity_rows: list[VelocitySummary] = []
    has_velocity = "relaxation_velocity_shift" in ds and "velocity_shift" in ds
    reference = None
    for point in sweep_points(ds, spec):
        key = next(iter(spec.sweep), "")
        value = spec.sweep[key][point.index[0]] if key else None
        label = dict(study=name, parameter=key.split(".")[-1] if key else "-",
                     value=value.item() if hasattr(value, "item") else value,
                     n_tls=point.model.n_tls)
        if "absorption" in ds:
            shape_rows.append(_shape_row(spec, ds, point, label))
        if has_velocity:
            velocity_rows.append(_velocity_row(ds, point, label, reference))
            if reference is None:  # the first sweep point: the paired reference of the others
                reference = (point.data["velocity_shift"] + point.data["relaxation_velocity_shift"]
                             ).isel(frequency=0).values
    return shape_rows, velocity_rows


def _shape_row(spec: RunSpec, ds, point: SweepPoint, label: dict[str, Any]) -> PointSummary:
    """Law fits of Q^-1(x = w / T) at one sweep point, and its mean spacing ratio."""
    x = float(ds["frequency"].values[0]) / ds["temperature"].values
    q = point.data["absorption"].isel(frequency=0).values  # (realisation, temperature)
    shape = analyse_shape(x, q, smearing=kernel_smearing(spec))
    r = point.data["spacing_ratio"].values if "spacing_ratio" in point.data else np.array([np.nan])
    return PointSummary(
        **label, realisations=point.data.sizes["realisation"],
        index=shape.index, index_error=shape.index_error,
        ratio=shape.ratio, ratio_error=shape.ratio_error,
        spacing_ratio=float(np.mean(r)),
        spacing_ratio_error=float(np.std(r, ddof=1) / math.sqrt(r.size)) if r.size > 1 else math.nan,
        reduced_chi2_tls=shape.fits["tls"].reduced_chi2,
        reduced_chi2_generic=shape.fits["generic"].reduced_chi2,
        verdict=shape.verdict,
    )


def _velocity_row(ds, point: SweepPoint, label: dict[str, Any], reference) -> VelocitySummary:
    """Slopes of the total (resonant + relaxation) delta v / v in ln T at one sweep point, with the
    paired change against ``reference`` (the first sweep point's curves; None for that point)."""
    total = (point.data["velocity_shift"]
             + point.data["relaxation_velocity_shift"]).isel(frequency=0).values
    return velocity_row(ds["temperature"].values, total, label, reference)


def format_summary(rows: list[PointSummary], velocity_rows: list[VelocitySummary]) -> str:
    """The text of ``summary.md``: the shape table, then the velocity-slope table if any."""
    text = format_table(rows)
    if velocity_rows:
        text += "\n\nVelocity shift (resonant + relaxation), slopes in units of C0 per ln T:\n\n"
        text += format_velocity_table(velocity_rows)
    return text + "\n"


def _rows_from_json(cls, records: list[dict]) -> list:
    """Rows of ``cls`` read back from ``summary.json``/``velocity_slopes.json`` (null -> NaN)."""
    floats = {f.name for f in cls.__dataclass_fields__.values() if f.type == "float"}
    return [cls(**{k: (jsonio.nan_if_none(v) if k in floats else v) for k, v in r.items()})
            for r in records]


def read_summary(study_dir: str | Path) -> tuple[list[PointSummary], list[VelocitySummary]]:
    """The rows of a finished study's ``summary.json`` and ``velocity_slopes.json`` (no refitting).

    Raises
    ------
    FileNotFoundError
        ``summary.json`` is missing (``velocity_slopes.json`` is optional).
    """
    study_dir = Path(study_dir)
    path = study_dir / "summary.json"
    if not path.is_file():
        raise FileNotFoundError(f"no study summary {str(path)!r}; run `manybody study` first")
    rows = _rows_from_json(PointSummary, json.loads(path.read_text()))
    vpath = study_dir / "velocity_slopes.json"
    velocity = _rows_from_json(VelocitySummary, json.loads(vpath.read_text())) if vpath.is_file() else []
    return rows, velocity


def write_summary(out: Path, rows: list[PointSummary], velocity_rows: list[VelocitySummary]) -> None:
    """Write ``summary.json``, ``velocity_slopes.json`` (strict JSON: NaN as null) and ``summary.md``."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "summary.json",
                      jsonio.dumps([asdict(r) for r in rows], indent=1, default=str) + "\n")
    atomic_write_text(out / "velocity_slopes.json",
                      jsonio.dumps([asdict(r) for r in velocity_rows], indent=1, default=str) + "\n")
    atomic_write_text(out / "summary.md", format_summary(rows, velocity_rows))


def format_table(rows: list[PointSummary]) -> str:
    """The summary as a Markdown table."""
    head = ("| study | parameter | value | N | realisations | TLS index a | R = Q(2)/Q(0.5) | <r> "
            "| chi2/dof tanh | chi2/dof 1-e^-x | verdict |")
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        value = r.value if isinstance(r.value, str) else ("-" if r.value is None else f"{r.value:g}")
        lines.append(
            f"| {r.study} | {r.parameter} | {value} | {r.n_tls} | {r.realisations} "
            f"| {r.index:.3f} ± {r.index_error:.3f} "
            f"| {r.ratio:.3f} ± {r.ratio_error:.3f} | {r.spacing_ratio:.3f} ± {r.spacing_ratio_error:.3f} "
            f"| {r.reduced_chi2_tls:.3g} | {r.reduced_chi2_generic:.3g} | {r.verdict} |")
    return "\n".join(lines)
