"""The study's summary: the absorption shape (TLS index a, shape ratio R, law fits and verdict),
the level statistics and the velocity slopes of every sweep point of a results file, as rows of
``summary.json`` / ``velocity_slopes.json`` / ``summary.md``."""

from __future__ import annotations

import json
import logging
import math
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from manybody.laws.analysis import analyse_shape
from manybody.laws.collapse import frequency_collapse
from manybody.laws.fit import FAMILY_INDEX_BOUNDS
from manybody.laws.gof import NO_TEST
from manybody.runs.execution import release_workers, terminal_signals_blocked
from manybody.runs.lifecycle import start_watchdog
from manybody.runs.results import (
    SweepPoint,
    check_results_dataset,
    dataset_spec,
    load_results,
    sweep_points,
)
from manybody.runs.spec import RunSpec
from manybody.simulation.equilibration import frozen_fraction
from manybody.study.decomposition import control_parameters, decompose
from manybody.study.saturation_table import (
    SATURATION_BOOTSTRAP,
    SaturationSummary,
    format_saturation_table,
    saturation_rows,
)
from manybody.study.velocity_table import VelocitySummary, format_velocity_table, velocity_row
from manybody.support import jsonio
from manybody.support import validate as v
from manybody.support.files import atomic_write_text, output_set
from manybody.support.paths import check_input_file, refuse_text_as_path
from manybody.support.table_text import plus_minus

log = logging.getLogger(__name__)

#: Per-realisation observables the decomposition reads besides "absorption", where computed.
DECOMPOSITION_OBSERVABLES = ("absorption", "configuration_bath_absorption",
                             "configuration_bath_absorption_infinite", "single_tls_fraction")


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
    p_value_tls: float = math.nan
    p_value_generic: float = math.nan
    p_value_family: float = math.nan
    p_value_method: str = ""
    index_high_x: float = math.nan
    index_high_x_error: float = math.nan
    collapse_slope: float = math.nan
    collapse_slope_error: float = math.nan
    collapse_contrast: float = math.nan
    collapse_contrast_error: float = math.nan
    collapse_p_value: float = math.nan
    coupling_lambda: float = math.nan
    coupling_chi: float = math.nan
    resonant_density_rise: float = math.nan
    resonant_density_rise_error: float = math.nan
    configuration_bath_error: float = math.nan
    configuration_bath_infinite_error: float = math.nan
    index_configuration_bath: float = math.nan
    index_configuration_bath_error: float = math.nan
    index_configuration_bath_infinite: float = math.nan
    index_configuration_bath_infinite_error: float = math.nan
    single_tls_fraction: float = math.nan
    single_tls_fraction_error: float = math.nan
    single_tls_fraction_min: float = math.nan
    frozen_fraction: float = math.nan
    verdict_reason: str = ""


def kernel_smearing(spec: RunSpec) -> float | None:
    """eta / w of a Gaussian kernel (the laws are fitted kernel-averaged), else None."""
    b = spec.probe.broadening.at(spec.probe.frequencies[0])
    return b.width / spec.probe.frequencies[0] if b.kind == "gaussian" else None


def summarise(ds, name: str, n_jobs: int = 1) -> tuple[list[PointSummary], list[VelocitySummary]]:
    """Fit the absorption shape and the velocity slopes at every sweep point of a results file.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of one study spec (absorption with a single frequency; the velocity slopes need
        ``velocity_shift`` and ``relaxation_velocity_shift``).
    name : str
        Study name for the table.
    n_jobs : int
        Processes for the shape fits (one sweep point per task, joblib/loky). Every fit runs
        with single-threaded BLAS and its own fixed bootstrap seed, so the rows are bit for bit
        the same for any ``n_jobs``.

    Returns
    -------
    (shape rows, velocity rows)
        One row per sweep point each, or none when the file lacks the observables.
    """
    check_results_dataset("summarise", "ds", ds, data_array="pass the Dataset it came from")
    spec = dataset_spec(ds)
    velocity_rows: list[VelocitySummary] = []
    has_velocity = "relaxation_velocity_shift" in ds and "velocity_shift" in ds
    reference = None
    tasks = []
    frequencies, temperatures = ds["frequency"].values, ds["temperature"].values
    for point in sweep_points(ds, spec):
        label = dict(study=name, **_axis_label(spec, point.index), n_tls=point.model.n_tls)
        if "absorption" in ds:
            tasks.append((spec, frequencies, temperatures, point, label))
        if has_velocity:
            velocity_rows.append(_velocity_row(ds, point, label, reference))
            if reference is None:  # the first sweep point: the paired reference of the others
                reference = (point.data["velocity_shift"] + point.data["relaxation_velocity_shift"]
                             ).isel(frequency=0).values
    if n_jobs == 1 or len(tasks) < 2:
        results = [_shape_row_and_warnings(*task) for task in tasks]
    else:
        from joblib import Parallel, delayed  # only for a parallel summary

        parent = os.getpid()
        # the workers start deaf to the terminal's Ctrl-C, as the sweep's do: a second Ctrl-C
        # while they imported joblib printed their KeyboardInterrupt tracebacks (bt205 F17);
        # the generator returns once they have started, so this process keeps its Ctrl-C
        release_workers()  # the sweep's pool, replaced outside the window below (bt210)
        with terminal_signals_blocked():
            started = Parallel(n_jobs=min(n_jobs, len(tasks)), return_as="generator")(
                delayed(_shape_row_and_warnings)(*task, parent=parent) for task in tasks)
        results = list(started)
    shape_rows = []
    for task, (row, caught) in zip(tasks, results, strict=True):
        # the workers' warnings, shown here as in one process (a worker printed them raw, with
        # its source line, session 33), each naming its sweep point (session 35)
        for category, message in caught:
            warnings.warn(f"{_point_name(task[-1])}: {message}", category, stacklevel=2)
        shape_rows.append(row)
    return shape_rows, velocity_rows


def _point_name(label: dict[str, Any]) -> str:
    """'random_block, weight = 0.5' (the study's name and the sweep point's axis values)."""
    if label["parameter"] == "-":
        return f"{label['study']} (N = {label['n_tls']})"
    return f"{label['study']}, {label['parameter']} = {label['value']} (N = {label['n_tls']})"


def _shape_row_and_warnings(*args, parent: int | None = None
                            ) -> tuple[PointSummary, list[tuple[type, str]]]:
    """:func:`_single_threaded_shape_row` (in a worker process or this one), with the warnings
    it raised (category, message) for the caller to show with the sweep point's name. In a
    worker, ``parent`` is the study's process: the worker exits when it dies (``kill -9`` of a
    study while it fitted left two idle 160 MB workers for 300 s; a new user, session 36), as
    a sweep's workers do (:func:`manybody.runs.lifecycle.start_watchdog`)."""
    if parent is not None:
        start_watchdog(parent)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        row = _single_threaded_shape_row(*args)
    return row, [(w.category, str(w.message)) for w in caught]


def summarise_saturation(ds, name: str, n_bootstrap: int = SATURATION_BOOTSTRAP
                         ) -> list[SaturationSummary]:
    """The saturation law (beta, Pc, p-value of beta = 1/2) at every sweep point and temperature of
    a results file with the ``saturation`` observable (none without it), errors from
    ``n_bootstrap`` resamples of the realisations; see
    :func:`manybody.study.saturation_table.saturation_rows`."""
    check_results_dataset("summarise_saturation", "ds", ds,
                          data_array="pass the Dataset it came from")
    return saturation_rows(ds, name, _axis_label, n_bootstrap)


def _axis_label(spec: RunSpec, index: tuple[int, ...]) -> dict[str, Any]:
    """``parameter`` and ``value`` of a sweep point: the axis name and its value for one axis
    (a number), "a, b" and "va, vb" for several, "-" and None without a sweep."""
    if not spec.sweep:
        return {"parameter": "-", "value": None}
    values = [values[i] for values, i in zip(spec.sweep.values(), index, strict=True)]
    values = [value.item() if hasattr(value, "item") else value for value in values]
    names = [key.split(".")[-1] for key in spec.sweep]
    if len(names) == 1:
        return {"parameter": names[0], "value": values[0]}
    return {"parameter": ", ".join(names), "value": ", ".join(f"{value:g}" if isinstance(
        value, float | int) else str(value) for value in values)}


def _index_of(x: np.ndarray, q: np.ndarray, smearing: float | None) -> tuple[float, float]:
    """TLS index a and its bootstrap error of per-realisation curves q (n_real, n_x)."""
    shape = analyse_shape(x, q, smearing=smearing)
    return shape.index, shape.index_error


def _decomposition_fields(spec: RunSpec, point: SweepPoint, x: np.ndarray,
                          smearing: float | None) -> dict[str, float]:
    """The decomposition columns of a shape row (docs/PHYSICS.md section 7)."""
    lam, chi = control_parameters(point.model)
    data = {name: point.data[name].isel(frequency=0).values for name in DECOMPOSITION_OBSERVABLES
            if name in point.data}
    fields = {"coupling_lambda": lam, "coupling_chi": chi,
              **asdict(decompose(x, data, smearing))}
    if point.model.equilibration is not None:  # TLS frozen at T = w (draws only, no solve)
        fields["frozen_fraction"] = float(np.mean(frozen_fraction(
            point.model, spec.seed, point.data.sizes["realisation"], [spec.probe.frequencies[0]])))
    for name, column in (("configuration_bath_absorption", "index_configuration_bath"),
                         ("configuration_bath_absorption_infinite",
                          "index_configuration_bath_infinite")):
        if name in data:
            fields[column], fields[f"{column}_error"] = _index_of(x, data[name], smearing)
    return fields


def _single_threaded_shape_row(*args) -> PointSummary:
    """:func:`_shape_row` with BLAS limited to one thread (the same sums in any process)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _shape_row(*args)


def _shape_row(spec: RunSpec, frequencies: np.ndarray, temperatures: np.ndarray,
               point: SweepPoint, label: dict[str, Any]) -> PointSummary:
    """Law fits of Q^-1(x = w / T) at one sweep point (``frequencies`` and ``temperatures``: the
    results file's axes, K), its decomposition and mean spacing ratio."""
    x = float(frequencies[0]) / temperatures
    q = point.data["absorption"].isel(frequency=0).values  # (realisation, temperature)
    smearing = kernel_smearing(spec)
    shape = analyse_shape(x, q, smearing=smearing)
    r = point.data["spacing_ratio"].values if "spacing_ratio" in point.data else np.array([np.nan])
    return PointSummary(
        **label, realisations=point.data.sizes["realisation"],
        index=shape.index, index_error=shape.index_error,
        ratio=shape.ratio, ratio_error=shape.ratio_error,
        spacing_ratio=float(np.mean(r)),
        spacing_ratio_error=float(np.std(r, ddof=1) / math.sqrt(r.size)) if r.size > 1 else math.nan,
        reduced_chi2_tls=shape.fits["tls"].reduced_chi2,
        reduced_chi2_generic=shape.fits["generic"].reduced_chi2,
        verdict=shape.verdict, verdict_reason=shape.reason,
        p_value_tls=shape.p_value_tls, p_value_generic=shape.p_value_generic,
        p_value_family=shape.p_value_family, p_value_method=shape.p_value_method,
        index_high_x=shape.index_high_x, index_high_x_error=shape.index_high_x_error,
        **_collapse_fields(frequencies, temperatures, point),
        **_decomposition_fields(spec, point, x, smearing),
    )


def _collapse_fields(frequencies: np.ndarray, temperatures: np.ndarray,
                     point: SweepPoint) -> dict[str, float]:
    """Frequency collapse of Q(w, T) / A(w) in x = w / T over the probe's frequencies
    (docs/PHYSICS.md section 7.2); empty with a single frequency."""
    if frequencies.size < 2:
        return {}
    q = point.data["absorption"].transpose("realisation", "temperature", "frequency").values
    try:
        with np.errstate(over="ignore"):  # the contrast exp(slope L) of a wild resample
            result = frequency_collapse(temperatures, frequencies, q)
    except ValueError as exc:  # e.g. no absorption at some frequency: say so, leave NaN
        log.warning("no frequency collapse at %s: %s", point.index, exc)
        return {}
    return {"collapse_slope": result.slope, "collapse_slope_error": result.slope_error,
            "collapse_contrast": result.contrast, "collapse_contrast_error": result.contrast_error,
            "collapse_p_value": result.p_value}


def _velocity_row(ds, point: SweepPoint, label: dict[str, Any], reference) -> VelocitySummary:
    """Slopes of the total (resonant + relaxation) delta v / v in ln T at one sweep point, with the
    paired change against ``reference`` (the first sweep point's curves; None for that point)."""
    total = (point.data["velocity_shift"]
             + point.data["relaxation_velocity_shift"]).isel(frequency=0).values
    return velocity_row(ds["temperature"].values, total, label, reference)


#: A ratio-like number of order one (rho_eff rise, collapse contrast) whose error exceeds this
#: multiple of max(|value|, 1) is shown as "n.d." (not determined).
RATIO_NOT_DETERMINED = 10.0


def ratio_text(value: float, error: float) -> str:
    """:func:`~manybody.support.table_text.plus_minus` of a ratio-like number of order one, or
    "n.d." where its error is not finite or above RATIO_NOT_DETERMINED times max(|value|, 1):
    the tiny study printed "rho_eff rise 4.75 ± 4.6e+14" and "contrast 6.91e+08 ± 5.1e+16",
    heavy-tailed ratios of a few realisations (session 33); summary.json keeps the numbers."""
    if math.isfinite(value) and not (math.isfinite(error) and error <= RATIO_NOT_DETERMINED
                                     * max(abs(value), 1.0)):
        return "n.d."
    return plus_minus(value, error)


def index_text(value: float, error: float, digits: int = 3) -> str:
    """A TLS index as "a ± e", or "<= -0.999 (at bound)" where the fit ran to a bound of the
    family (``FAMILY_INDEX_BOUNDS``): its bootstrap resamples sit there too, so "-0.999 ± 0.000"
    looked precise where the index is only bounded (a new user, session 27)."""
    low, high = FAMILY_INDEX_BOUNDS
    if math.isfinite(value) and value <= low + 1e-4:  # 2e-6 off printed "-1.00 ± 0.00" (s38)
        return f"<= {low:g} (at bound)"
    if math.isfinite(value) and value >= high - 1e-4:
        return f">= {high:g} (at bound)"
    return plus_minus(value, error, digits)


def _p(value: float) -> str:
    """A p-value to two significant digits ("-" for NaN)."""
    return f"{value:.2g}" if math.isfinite(value) else "-"


def _number(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else "-"


def format_decomposition_table(rows: list[PointSummary]) -> str:
    """The decomposition Q = tanh(x/2) rho_eff(w, T) of every sweep point as a Markdown table."""
    lines = ["| study | parameter | value | lambda | chi | rho_eff(T_max)/rho_eff(T_min) "
             "| collapse slope | contrast w/2 : 2w | p collapse "
             "| SCB error | a (SCB thermal) | a (SCB T=inf) | single-TLS fraction (x=1) "
             "| frozen at T=w |",
             "|" + "---|" * 14]
    for r in rows:
        value = r.value if isinstance(r.value, str) else ("-" if r.value is None else f"{r.value:g}")
        scb = f"{r.configuration_bath_error:.3f}" if math.isfinite(r.configuration_bath_error) else "-"
        bath = r.index_configuration_bath_infinite, r.index_configuration_bath_infinite_error
        lines.append(
            f"| {r.study} | {r.parameter} | {value} | {_number(r.coupling_lambda)} "
            f"| {_number(r.coupling_chi)} "
            f"| {ratio_text(r.resonant_density_rise, r.resonant_density_rise_error)} "
            f"| {plus_minus(r.collapse_slope, r.collapse_slope_error, 3)} "
            f"| {ratio_text(r.collapse_contrast, r.collapse_contrast_error)} "
            f"| {_p(r.collapse_p_value)} "
            f"| {scb} "
            f"| {index_text(r.index_configuration_bath, r.index_configuration_bath_error, 2)} "
            f"| {index_text(*bath, 2)} "
            f"| {plus_minus(r.single_tls_fraction, r.single_tls_fraction_error, 3)} "
            f"| {_number(r.frozen_fraction)} |")
    if any("| n.d. |" in line for line in lines[2:]):
        lines.append(f"\nn.d.: not determined (the error is not finite or above "
                     f"{RATIO_NOT_DETERMINED:g} times max(|value|, 1); summary.json keeps the "
                     "numbers)")
    return "\n".join(lines)


def format_summary(rows: list[PointSummary], velocity_rows: list[VelocitySummary],
                   saturation: list[SaturationSummary] = ()) -> str:
    """The text of ``summary.md``: the shape table, the decomposition table, then the
    velocity-slope and saturation tables if any."""
    text = format_table(rows) + _untested_note(rows)
    if rows:
        text += ("\n\nDecomposition Q = tanh(x/2) rho_eff(w, T) (docs/PHYSICS.md section 7); "
                 "lambda = J0 / eps_max, chi = P J0; SCB = static configuration bath:\n\n")
        text += format_decomposition_table(rows)
    if velocity_rows:
        text += ("\n\nVelocity shift (resonant + relaxation), slopes in units of C0 per ln T; the "
                 "change vs the first row is paired: both slopes fitted over this row's own "
                 "windows on the realisations the two rows share (the same disorder), so it is "
                 "not the difference of the slopes printed, which each row fits over its own "
                 "windows on all its realisations:\n\n")
        text += format_velocity_table(velocity_rows)
    if saturation:
        text += ("\n\nPower saturation Q^-1(P) = Q^-1(0) (1 + P/Pc)^-beta, P ~ e0^2 (docs/PHYSICS.md "
                 "section 8); Pc(TLS) = that of a resonant TLS with the spec's dephasing; "
                 "bootstrap errors over realisations; p (beta = 0.5) from beta's bootstrap "
                 "error; chi2/dof takes the means at each amplitude as independent, which they "
                 "are not (the same realisations at every amplitude): it lies far below 1 and "
                 "is not a goodness-of-fit test:\n\n")
        text += format_saturation_table(list(saturation))
    return text + "\n"


def _untested_note(rows: list[PointSummary]) -> str:
    """A note under the shape table for its rows without a goodness-of-fit test (p "-": the
    tiny study's rows gave "neither law" beside three "-" and nothing said what the verdict
    rested on; a tester, session 61), with each such row's reason where summary.json has it."""
    untested = [r for r in rows if r.p_value_method == NO_TEST]
    if not untested:
        return ""
    reasons = [f"{r.study} {r.parameter} = {r.value}: {r.verdict} ({r.verdict_reason})"
               for r in untested if r.verdict_reason]
    return ("\n\nRows with p \"-\" have no goodness-of-fit test (too few realisations for the "
            "covariance of their temperatures): their verdicts rest on the TLS index, its "
            "bootstrap error and the fits' own checks, not on a test of the fits' quality"
            + (". Their reasons: " + "; ".join(reasons) if reasons else "") + ".")


def _rows_from_json(cls, records: list[dict]) -> list:
    """Rows of ``cls`` read back from ``summary.json``/``velocity_slopes.json`` (null -> NaN).

    A summary written by an earlier version lacks the newer columns: they read as NaN (numbers),
    "" (text) or 0 (counts), so old results still print and draw."""
    fields = cls.__dataclass_fields__.values()
    floats = {f.name for f in fields if f.type == "float"}
    missing = {f.name: {"float": math.nan, "str": "", "int": 0}.get(f.type) for f in fields}
    return [cls(**{**missing, **{k: (jsonio.nan_if_none(v) if k in floats else v)
                                 for k, v in r.items() if k in missing}}) for r in records]


#: Every summary file the study writes with one row per sweep point (spec name in "study").
SUMMARY_FILES = ("summary.json", "velocity_slopes.json", "saturation.json")
#: Keys every row of a summary file (summary.json, velocity_slopes.json, saturation.json) has.
ROW_KEYS = ("study", "value")


def load_rows(path: str | Path) -> list[dict]:
    """The rows of one summary file, checked: a damaged or odd file (truncated JSON, not a list,
    a row without ``study`` or ``value``) gave a JSONDecodeError or KeyError traceback
    in the scripts, and ``{}`` left the main table out without a word (session 37).

    Raises
    ------
    TypeError
        ``path`` not a str or os.PathLike.
    FileNotFoundError, IsADirectoryError
        No file at ``path`` (:func:`manybody.support.paths.check_input_file`).
    ValueError
        One line naming the file, what is wrong with it and the way on; text given as the path.
    """
    # None, a number or text got os' message or a bare "[Errno 2]" (bt187)
    path = check_input_file("study summary (JSON)", path)
    way_on = ("restore it (git checkout) or rewrite it from the results files with "
              "scripts/summarise_study.py --recompute --write")
    try:
        records = json.loads(path.read_text())
    except UnicodeDecodeError:
        raise ValueError(f"{str(path)!r} is not a text file: {way_on}") from None
    except ValueError as exc:
        raise ValueError(f"{str(path)!r} is not valid JSON ({exc}), damaged or truncated: "
                         f"{way_on}") from None
    if not isinstance(records, list):
        raise ValueError(f"{str(path)!r} holds a JSON {type(records).__name__}, not a list of "
                         f"study rows: {way_on}")
    for i, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise ValueError(f"{str(path)!r}: row {i} is a JSON {type(record).__name__}, not an "
                             f"object of named columns: {way_on}")
        missing = [k for k in ROW_KEYS if k not in record]
        if missing:
            raise ValueError(f"{str(path)!r}: row {i} has no {', '.join(missing)}: {way_on}")
    return records


def unreadable_results(study_dir: str | Path, names: Any) -> str | None:
    """The one-line message of the first results file ``<name>.nc`` of ``study_dir`` (for
    ``name`` in ``names``, those present) that :func:`manybody.runs.results.load_results`
    refuses (damaged, truncated, of another format) or that holds another spec's results, else
    None. The scripts check before refitting or drawing: ``summarise_study.py --recompute`` and
    ``make_figures.py`` ended in a traceback on a half-copied .nc midway (bt203 F9)."""
    for name in names:
        path = Path(study_dir) / f"{name}.nc"
        if path.exists():
            try:
                ds = load_results(path)
                held = dataset_spec(ds).name if "spec" in ds.attrs else name
            except (ValueError, OSError) as exc:
                return str(exc)
            if held != name:  # a run of another spec was summarised as this study's rows, and
                # drawn into a KeyError (a tester, bt205), where manybody study refuses it
                return (f"{str(path)!r} holds the results of spec {held!r}, not the study's "
                        f"{name!r}; move it away (manybody study computes it again)")
    return None


def _study_dir(study_dir: Any) -> Path:
    """``study_dir`` as a Path: TypeError unless a str or os.PathLike, ValueError for text."""
    v.path("study_dir", study_dir)
    refuse_text_as_path("study folder", study_dir, name="study_dir")
    return Path(study_dir)


def read_summary(study_dir: str | Path) -> tuple[list[PointSummary], list[VelocitySummary]]:
    """The rows of a finished study's ``summary.json`` and ``velocity_slopes.json`` (no refitting).

    Either file may be missing, not both: a folder of velocity specs alone (``results/velocity``)
    has no ``summary.json`` (it was refused as "no study summary"; a tester, session 39).

    Raises
    ------
    TypeError
        ``study_dir`` not a str or os.PathLike.
    FileNotFoundError
        Both files are missing.
    ValueError
        A file is damaged or not a list of rows (:func:`load_rows`).
    """
    study_dir = _study_dir(study_dir)
    path = study_dir / "summary.json"
    vpath = study_dir / "velocity_slopes.json"
    if not path.is_file() and not vpath.is_file():
        raise FileNotFoundError(f"no study summary {str(path)!r} (nor velocity_slopes.json); run "
                                "`manybody study` first")
    rows = _rows_from_json(PointSummary, load_rows(path)) if path.is_file() else []
    velocity = _rows_from_json(VelocitySummary, load_rows(vpath)) if vpath.is_file() else []
    return rows, velocity


def read_saturation(study_dir: str | Path) -> list[SaturationSummary]:
    """The rows of a finished study's ``saturation.json`` (none if the study has no such file,
    e.g. one written before the saturation comparison; missing columns read as NaN)."""
    path = _study_dir(study_dir) / "saturation.json"
    return _rows_from_json(SaturationSummary, load_rows(path)) if path.is_file() else []


def write_summary(out: Path, rows: list[PointSummary], velocity_rows: list[VelocitySummary],
                  saturation: list[SaturationSummary] = ()) -> None:
    """Write ``summary.json``, ``velocity_slopes.json``, ``saturation.json`` (strict JSON: NaN as
    null; the last only with saturation rows) and ``summary.md``, as one set: they replace an
    earlier summary's together or not at all (a SIGTERM left a new summary.json beside the old
    summary.md; a break test, session 47)."""
    out.mkdir(parents=True, exist_ok=True)
    with output_set():
        atomic_write_text(out / "summary.json",
                          jsonio.dumps([asdict(r) for r in rows], indent=1, default=str) + "\n")
        atomic_write_text(out / "velocity_slopes.json", jsonio.dumps(
            [asdict(r) for r in velocity_rows], indent=1, default=str) + "\n")
        if saturation:
            atomic_write_text(out / "saturation.json", jsonio.dumps(
                [asdict(r) for r in saturation], indent=1, default=str) + "\n")
        atomic_write_text(out / "summary.md", format_summary(rows, velocity_rows, saturation))


def format_table(rows: list[PointSummary]) -> str:
    """The summary as a Markdown table."""
    head = ("| study | parameter | value | N | realisations | TLS index a | a (x >= 1) "
            "| R = Q(2)/Q(0.5) | <r> | p tanh | p 1-e^-x | p family | verdict |")
    lines = [head, "|" + "---|" * 13]
    for r in rows:
        value = r.value if isinstance(r.value, str) else ("-" if r.value is None else f"{r.value:g}")
        lines.append(
            f"| {r.study} | {r.parameter} | {value} | {r.n_tls} | {r.realisations} "
            f"| {index_text(r.index, r.index_error)} | {index_text(r.index_high_x, r.index_high_x_error)} "
            f"| {plus_minus(r.ratio, r.ratio_error, 3)} "
            f"| {plus_minus(r.spacing_ratio, r.spacing_ratio_error, 3)} "
            f"| {_p(r.p_value_tls)} | {_p(r.p_value_generic)} | {_p(r.p_value_family)} "
            f"| {r.verdict} |")
    return "\n".join(lines)
