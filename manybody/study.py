"""The built-in study: does TLS structure survive interactions? (``manybody study``)

Runs the shipped run specifications (``manybody/studies/*.toml``) through the sweep runner, one
results file each, then fits the absorption shape of every sweep point (TLS index a, shape ratio R),
collects the level statistics, writes ``summary.json`` / ``summary.md``, computes |T_mn|^2
statistics for three representative systems and draws the figures.

Sizes: the default fits a 2-core machine in about ten minutes of wall time on a quiet machine
(other jobs stretch it in proportion to the load); ``full`` is for bigger machines (N = 12,
finite-size check up to N = 14); ``tiny`` is a seconds-long smoke run for tests. A finished results
file whose specification matches is reused (and the study says so), and unfinished sweeps resume
from their checkpoints, so an interrupted study loses nothing.
"""

from __future__ import annotations

import json
import logging
import math
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from manybody import _validate as v
from manybody import jsonio
from manybody.spec import RunSpec

log = logging.getLogger(__name__)

#: Shipped specifications, in the order of the summary table.
STUDY_SPECS = (
    "dipolar", "gaussian", "admixture", "two_body_stress", "random_block", "finite_size", "relaxation",
)
SIZES = ("tiny", "default", "full")
#: Finite-size check of the "full" study: sizes, and realisations n(N) = scale / N. The default run
#: measured (TLS-index error)^2 ~ 42 / (n N) at N = 6, 8, 10 (each realisation averages over N
#: TLS), so scale = 16800 aims at errors of about 0.05 at every N.
FULL_FINITE_SIZES = (8, 10, 12, 14)
FULL_FINITE_SIZE_ERROR_SCALE = 16800


def load_study_spec(name: str, size: str = "default") -> RunSpec:
    """Read a shipped study specification, resized for ``size``.

    Parameters
    ----------
    name : str
        One of ``STUDY_SPECS``.
    size : {"tiny", "default", "full"}
        "tiny": N <= 5, 6 realisations (6, 8, ... where the default has per-point counts), two
        values per axis, 9 temperatures (tests).
        "full": N = 12 with twice the realisations (per point); finite-size check at
        N = 8..14 with 16800 / N realisations (TLS-index errors ~0.05). Roughly 700 CPU-hours
        (18 CPU-s per realisation at N = 12, 530 at N = 14): a cluster job.
    """
    if name not in STUDY_SPECS:
        raise ValueError(f"study spec must be one of {', '.join(STUDY_SPECS)}, got {name!r}")
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    import tomllib

    text = resources.files("manybody").joinpath("studies", f"{name}.toml").read_text()
    data = tomllib.loads(text)
    if size == "tiny":
        data["model"]["n_tls"] = min(data["model"]["n_tls"], 5)
        data["sweep"] = {k: (list(range(3, 6)) if k == "model.n_tls" else vals[-2:])
                         for k, vals in data.get("sweep", {}).items()}
        # per-point counts stay per point (6, 8, ...), so the tiny run exercises them too
        points = len(next(iter(data["sweep"].values()), [None]))
        data["realisations"] = (list(range(6, 6 + 2 * points, 2))
                                if isinstance(data["realisations"], list) else 6)
        temps = data["probe"]["temperatures"]
        if isinstance(temps, dict):
            temps["count"] = 9
        else:
            data["probe"]["temperatures"] = temps[::2]
    elif size == "full":
        counts = 2 * np.asarray(data["realisations"])
        if "model.n_tls" in data.get("sweep", {}):
            counts = np.array([FULL_FINITE_SIZE_ERROR_SCALE // n for n in FULL_FINITE_SIZES])
        data["realisations"] = counts.tolist()
        data["model"]["n_tls"] = 12
        data["sweep"] = {k: (list(FULL_FINITE_SIZES) if k == "model.n_tls" else vals)
                         for k, vals in data.get("sweep", {}).items()}
    return RunSpec.from_dict(data)


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


def summarise(ds, name: str) -> list[PointSummary]:
    """Fit the absorption shape at every sweep point of a study results file.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of one study spec (absorption with a single frequency).
    name : str
        Study name for the table.
    """
    from manybody.laws.analysis import analyse_shape
    from manybody.results import realised

    spec = RunSpec.from_dict(json.loads(ds.attrs["spec"]))
    if "absorption" not in ds:
        return []
    sweep_dims = list(spec.dims)
    w = float(ds["frequency"].values[0])
    x = w / ds["temperature"].values
    smearing = kernel_smearing(spec)
    rows = []
    for index, params, _ in spec.points():
        sel = dict(zip(sweep_dims, index, strict=True))
        point = realised(ds.isel(sel) if sel else ds)
        q = point["absorption"].isel(frequency=0).values  # (realisation, temperature)
        shape = analyse_shape(x, q, smearing=smearing)
        r = point["spacing_ratio"].values if "spacing_ratio" in point else np.array([np.nan])
        key = next(iter(spec.sweep), "")
        value = spec.sweep[key][index[0]] if key else None
        rows.append(PointSummary(
            study=name, parameter=key.split(".")[-1] if key else "-",
            value=value.item() if hasattr(value, "item") else value,
            n_tls=params.n_tls, realisations=point.sizes["realisation"],
            index=shape.index, index_error=shape.index_error,
            ratio=shape.ratio, ratio_error=shape.ratio_error,
            spacing_ratio=float(np.mean(r)),
            spacing_ratio_error=float(np.std(r, ddof=1) / math.sqrt(r.size)) if r.size > 1 else math.nan,
            reduced_chi2_tls=shape.fits["tls"].reduced_chi2,
            reduced_chi2_generic=shape.fits["generic"].reduced_chi2,
            verdict=shape.verdict,
        ))
    return rows


@dataclass(frozen=True)
class VelocitySummary:
    """Slopes of the total (resonant + relaxation) delta v / v in ln T at one sweep point."""

    study: str
    parameter: str
    value: Any
    n_tls: int
    temperature_max: float
    slope_below: float
    slope_below_error: float
    slope_above: float
    slope_above_error: float
    ratio: float


def summarise_velocity(ds, name: str) -> list[VelocitySummary]:
    """Velocity slopes below and above the maximum (canonical TTLS: +1 and -1/2, in C0)."""
    from manybody.results import realised
    from manybody.simulation.observables.relaxation import velocity_slopes

    if "relaxation_velocity_shift" not in ds or "velocity_shift" not in ds:
        return []
    spec = RunSpec.from_dict(json.loads(ds.attrs["spec"]))
    rows = []
    t = ds["temperature"].values
    for index, params, _ in spec.points():
        sel = dict(zip(spec.dims, index, strict=True))
        point = realised(ds.isel(sel) if sel else ds)
        total = (point["velocity_shift"] + point["relaxation_velocity_shift"]).isel(frequency=0)
        try:
            slopes = velocity_slopes(t, total.values)
        except ValueError as exc:  # maximum too close to an end of the temperature range
            log.warning("%s %s: no velocity slopes (%s)", name, index, exc)
            nan = math.nan
            slopes = type("NoSlopes", (), dict(temperature_max=nan, below=nan, below_error=nan,
                                                above=nan, above_error=nan, ratio=nan))
        key = next(iter(spec.sweep), "")
        value = spec.sweep[key][index[0]] if key else None
        rows.append(VelocitySummary(
            study=name, parameter=key.split(".")[-1] if key else "-",
            value=value.item() if hasattr(value, "item") else value, n_tls=params.n_tls,
            temperature_max=slopes.temperature_max, slope_below=slopes.below,
            slope_below_error=slopes.below_error, slope_above=slopes.above,
            slope_above_error=slopes.above_error, ratio=slopes.ratio))
    return rows


def format_velocity_table(rows: list[VelocitySummary]) -> str:
    """Velocity slopes as a Markdown table (units of C0 per unit ln T)."""
    lines = ["| study | parameter | value | N | T_max (K) | slope below | slope above | ratio |",
             "|" + "---|" * 8]
    for r in rows:
        if not math.isfinite(r.temperature_max):  # no interior maximum: no slopes
            lines.append(f"| {r.study} | {r.parameter} | {r.value:g} | {r.n_tls} | "
                         "no maximum in range | - | - | - |")
            continue
        lines.append(f"| {r.study} | {r.parameter} | {r.value:g} | {r.n_tls} | "
                     f"{r.temperature_max:.3g} | {r.slope_below:.2f} ± {r.slope_below_error:.2f} | "
                     f"{r.slope_above:.2f} ± {r.slope_above_error:.2f} | {r.ratio:.2f} |")
    return "\n".join(lines)


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
    (out / "summary.json").write_text(jsonio.dumps([asdict(r) for r in rows], indent=1, default=str)
                                      + "\n")
    (out / "velocity_slopes.json").write_text(
        jsonio.dumps([asdict(r) for r in velocity_rows], indent=1, default=str) + "\n")
    (out / "summary.md").write_text(format_summary(rows, velocity_rows))


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


#: Bins of the matrix-element figure with fewer pairs than this are left out (their mean is noise).
MATRIX_ELEMENT_MIN_PAIRS = 20
#: Bumped when the matrix-element file gains variables, so an older file is recomputed.
MATRIX_ELEMENT_VERSION = 2


def matrix_element_dataset(n_tls: int = 8, seed: int = 20261123, realisations: int = 24):
    """|T_mn|^2 statistics against E_m and w_mn for three representative systems.

    Independent TLS, dipolar couplings (J0 = 0.1 K) and a flat random block at N = ``n_tls``,
    pooled over ``realisations``: the random-matrix scenario assumes the mean |T_mn|^2 depends on
    w_mn only. Bins whose mean is at round-off level (no allowed transition) are NaN.

    Returns
    -------
    xarray.Dataset
        ``mean_square_stress`` (system, energy_bin, frequency): pooled mean |T_mn|^2 divided by its
        mean over the bins of that system; ``standard_error``: its standard error, from the
        scatter between realisations (ratio estimator, realisations are the independent units);
        ``pair_count``: number of (m, n) pairs in the bin over all realisations.
    """
    import xarray as xr

    from manybody.config.model import CouplingParams, ModelParams, RandomMatrixParams, StressParams, TLSParams
    from manybody.simulation.ensembles import draw_realisation, realisation_rng
    from manybody.simulation.observables.statistics import matrix_element_statistics
    from manybody.simulation.solvers.dense import solve

    tls = TLSParams(asymmetry_max=0.3, tunnelling_min=1e-3, tunnelling_max=0.3)
    systems = {
        "independent TLS": ModelParams(n_tls=n_tls, tls=tls,
                                       stress=StressParams(distribution="random_sign")),
        "dipolar J0 = 0.1 K": ModelParams(n_tls=n_tls, tls=tls,
                                          coupling=CouplingParams(kind="dipolar", strength=0.1),
                                          stress=StressParams(distribution="random_sign")),
        "flat random block": ModelParams(n_tls=n_tls, tls=None,
                                         random_matrix=RandomMatrixParams(kind="flat", weight=10.0),
                                         stress=StressParams(distribution="none", random_matrix=1.0)),
    }
    energy_edges = np.array([0.0, 0.1, 0.2, 0.4, 0.8])
    frequency_edges = np.geomspace(1e-3, 1.0, 31)
    means, errors, counts = [], [], []
    for params in systems.values():
        totals, pairs = [], []  # per realisation: sum of |T|^2 and number of pairs per bin
        for r in range(realisations):
            spectrum, elements = solve(draw_realisation(params, realisation_rng(seed, r)))
            stats = matrix_element_statistics(spectrum.energies, elements, energy_edges,
                                              frequency_edges)
            totals.append(np.nan_to_num(stats["mean"]) * stats["count"])
            pairs.append(stats["count"])
        totals, pairs = np.array(totals), np.array(pairs)  # (realisation, n_E, n_w)
        total, count = totals.sum(0), pairs.sum(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / count
            # ratio estimator: var(sum T / sum C) ~ n/(n-1) sum_r (T_r - mean C_r)^2 / (sum C)^2
            resid = totals - mean * pairs
            n = realisations
            error = (np.sqrt(n / max(n - 1, 1) * np.nansum(resid**2, axis=0)) / count
                     if n > 1 else np.full_like(mean, np.nan))
        scale = np.nanmean(mean)
        mean, error = mean / scale, error / scale
        drop = ~(mean > 1e-12) | (count < MATRIX_ELEMENT_MIN_PAIRS)  # round-off level or too few
        mean[drop] = np.nan
        error[drop] = np.nan
        means.append(mean)
        errors.append(error)
        counts.append(count)
    centres = np.sqrt(frequency_edges[1:] * frequency_edges[:-1])
    dims = ("system", "energy_bin", "frequency")
    return xr.Dataset(
        {"mean_square_stress": (dims, np.array(means),
                                {"units": "1", "long_name": "mean |T_mn|^2 / its overall mean"}),
         "standard_error": (dims, np.array(errors),
                            {"units": "1", "long_name": "standard error of mean_square_stress "
                             "(between realisations)"}),
         "pair_count": (dims, np.array(counts).astype(np.int64),
                        {"units": "1", "long_name": "(m, n) pairs in the bin, all realisations"})},
        coords={"system": list(systems),
                "energy_bin": ("energy_bin", [f"{a:g}-{b:g} K" for a, b in
                                              zip(energy_edges[:-1], energy_edges[1:], strict=True)]),
                "frequency": ("frequency", centres, {"units": "K"})},
        attrs={"description": "E_m - E_0 bins (energy_bin) and w_mn = E_m - E_n (frequency); bins "
               f"with fewer than {MATRIX_ELEMENT_MIN_PAIRS} pairs or a round-off-level mean are NaN",
               "n_tls": n_tls, "seed": seed, "realisations": realisations,
               "min_pairs": MATRIX_ELEMENT_MIN_PAIRS, "version": MATRIX_ELEMENT_VERSION})


def _matrix_elements_reusable(path: Path, n_tls: int, realisations: int) -> bool:
    """True when ``path`` holds finished matrix-element statistics of the same size and version."""
    if not path.is_file():
        return False
    import xarray as xr

    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            a = ds.attrs
            return (int(a.get("n_tls", -1)) == n_tls and int(a.get("realisations", -1)) == realisations
                    and int(a.get("version", 0)) == MATRIX_ELEMENT_VERSION)
    except (OSError, ValueError):
        return False


def _quiet(message: str) -> None:
    """Default ``echo`` of :func:`execute_study`: messages go to the log only."""
    log.info("%s", message)


def make_output_directory(out: Path) -> None:
    """Create the study's output folder (and its parents), or a ValueError naming it and why not."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"output directory {str(out)!r} exists and is not a directory; the study "
                         "writes a folder of results, summary and figures there")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create the output directory {str(out)!r}: "
                         f"{exc.strerror or exc}") from None


def execute_study(
    output_dir: str | Path = "results/study",
    size: str = "default",
    n_jobs: int = 2,
    only: tuple[str, ...] | None = None,
    progress: bool = False,
    figures: bool = True,
    backend: str = "loky",
    scheduler: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> list[PointSummary]:
    """Run (or resume) the study, write its summary and figures, and return the table rows.

    Parameters
    ----------
    output_dir : str or Path
        Directory for ``<spec>.nc``, ``summary.json``, ``summary.md`` and ``figures/``.
    size : {"tiny", "default", "full"}
        See :func:`load_study_spec`.
    n_jobs : int
        Worker processes.
    only : tuple of str, optional
        Run only these specs.
    progress : bool
        Progress bars on stderr.
    figures : bool
        Draw the figures (matplotlib) at the end.
    backend : {"loky", "dask"}
        Where the realisations run (see :func:`manybody.sweep.run_sweep`); "dask" with
        ``scheduler`` spreads a ``full`` study over a cluster.
    scheduler : str, optional
        Address of a running dask scheduler (backend "dask").
    echo : callable, optional
        Called with one line of text for each step (the plan, then per sweep whether finished
        results are reused, a checkpoint resumed or the sweep computed). Default: the log at
        INFO level. The CLI prints them on stderr.
    """
    from manybody.results import load_results
    from manybody.sweep import check_run_arguments, checkpoint_dir, run_sweep

    say = echo or _quiet
    out = Path(output_dir)
    names = only or STUDY_SPECS
    specs = {name: load_study_spec(name, size) for name in names}  # validate all before running
    for spec in specs.values():
        spec.check()  # every sweep point of every spec (memory, observables), before any work
    n_jobs = check_run_arguments(n_jobs, backend, scheduler)  # before the plan and any file
    make_output_directory(out)
    total = sum(int(spec.realisation_counts.sum()) for spec in specs.values())
    say(f"study ({size}): {len(specs)} sweeps, {total} realisations in all, {n_jobs} workers, "
        f"results in {out}/")
    for name, spec in specs.items():
        n_tls = sorted({params.n_tls for _, params, _ in spec.points()})
        say(f"  {name}: {spec.n_points} points, N = {', '.join(map(str, n_tls))}, "
            f"{int(spec.realisation_counts.sum())} realisations")
    rows: list[PointSummary] = []
    velocity_rows: list[VelocitySummary] = []
    for name, spec in specs.items():
        path = out / f"{name}.nc"
        ds = None
        if path.exists():
            ds = load_results(path)
            if RunSpec.from_dict(json.loads(ds.attrs["spec"])).digest() != spec.digest():
                raise FileExistsError(
                    f"{path} holds a different specification than the {size!r} study; "
                    "move it away or choose another output directory")
            say(f"{name}: reusing finished results from {path}")
        else:
            n = int(spec.realisation_counts.sum())
            resumed = " (resuming from its checkpoint)" if checkpoint_dir(path).exists() else ""
            say(f"{name}: computing {n} realisations at {spec.n_points} points{resumed}")
            ds = run_sweep(spec, path, n_jobs=n_jobs, backend=backend, scheduler=scheduler,
                           progress=progress)
        say(f"{name}: fitting the absorption shape at {spec.n_points} points")
        rows.extend(summarise(ds, name))
        velocity_rows.extend(summarise_velocity(ds, name))
    if only is None:
        n_me, r_me = (4, 3) if size == "tiny" else (8, 24)
        me_path = out / "matrix_elements.nc"
        if _matrix_elements_reusable(me_path, n_me, r_me):
            say(f"matrix elements: reusing finished results from {me_path}")
        else:
            say(f"matrix elements: computing |T_mn|^2 statistics (3 systems, N = {n_me}, "
                f"{r_me} realisations each)")
            tmp = me_path.with_name(me_path.name + ".tmp")
            matrix_element_dataset(n_tls=n_me, realisations=r_me).to_netcdf(tmp, engine="h5netcdf")
            tmp.replace(me_path)
    write_summary(out, rows, velocity_rows)
    say(f"summary: {out / 'summary.md'}, {out / 'summary.json'}, {out / 'velocity_slopes.json'}")
    if figures:
        from manybody.plotting import make_all_figures

        say(f"figures: drawing into {out / 'figures'}/")
        make_all_figures(out)
    return rows


def configure(parser) -> None:
    """Arguments of ``manybody study``."""
    parser.add_argument("-o", "--output", default="results/study",
                        help="output directory (default: results/study)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--full", action="store_const", dest="size", const="full",
                       help="paper-quality sizes (N = 12, finite-size to N = 14): ~700 CPU-hours, "
                            "a cluster job")
    group.add_argument("--tiny", action="store_const", dest="size", const="tiny",
                       help="a seconds-long smoke run (tests)")
    parser.set_defaults(size="default")
    parser.add_argument("-j", "--jobs", type=v.cli_integer(low=1), default=2,
                        help="worker processes (default 2)")
    parser.add_argument("--only", nargs="+", choices=STUDY_SPECS, help="run only these specs")
    parser.add_argument("--no-figures", action="store_true", help="skip drawing figures")
    parser.add_argument("--backend", choices=("loky", "dask"), default="loky",
                        help="joblib backend (default loky; dask for a cluster)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="dask scheduler address, e.g. tcp://host:8786 (with --backend dask)")


def _print_err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args) -> int:
    """Entry point of ``manybody study``: run, then print the summary table."""
    try:
        execute_study(args.output, args.size, args.jobs, tuple(args.only) if args.only else None,
                      progress=True, figures=not args.no_figures, backend=args.backend,
                      scheduler=args.scheduler, echo=_print_err)
    except ImportError as exc:  # e.g. dask not installed
        raise ValueError(str(exc)) from None
    print((Path(args.output) / "summary.md").read_text())
    print(f"\nresults, summary and figures in {args.output}/")
    return 0
