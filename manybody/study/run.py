"""Running the built-in study (``manybody study``): does TLS structure survive interactions?

Runs the shipped run specifications (``manybody/study/specs/*.toml``) through the sweep runner, one
results file each, then fits the absorption shape of every sweep point (TLS index a, shape ratio R),
collects the level statistics, writes ``summary.json`` / ``summary.md``, runs the |T_mn|^2
statistics of three representative systems (``specs/matrix_elements_*.toml``, through the same
sweep runner) and pools them, and draws the figures.

A finished results file whose specification matches is reused (and the study says so), and
unfinished sweeps resume from their checkpoints, so an interrupted study loses nothing.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from manybody.runs.checkpoint import checkpoint_dir
from manybody.runs.results import check_writable, dataset_spec, load_results
from manybody.runs.reuse import seed_checkpoint
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import check_checkpoint, check_run_arguments, run_sweep
from manybody.study.catalogue import ALL_SPECS
from manybody.study.figures import make_all_figures
from manybody.study.matrix_elements import matrix_elements_reusable, write_matrix_elements
from manybody.study.specs import (
    MATRIX_ELEMENT_SPECS,
    STUDY_SPECS,
    load_matrix_element_spec,
    load_study_spec,
)
from manybody.study.summary import (
    SUMMARY_FILES,
    PointSummary,
    SaturationSummary,
    VelocitySummary,
    summarise,
    summarise_saturation,
    write_summary,
)
from manybody.support import validate as v
from manybody.support.paths import (
    created_directories,
    dangling_link,
    link_description,
    nearest_existing,
    remove_created,
    unwritable_reason,
    without_missing_detours,
)

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

log = logging.getLogger(__name__)



def _points(count: int) -> str:
    """'1 point', '4 points'."""
    return f"{count} point{'' if count == 1 else 's'}"

def _quiet(message: str) -> None:
    """Default ``echo`` of :func:`execute_study`: messages go to the log only."""
    log.info("%s", message)


def make_output_directory(out: Path) -> list[Path]:
    """Create the study's output folder (and its parents), or a ValueError naming it and why not.

    Returns
    -------
    list of Path
        The directories created, outermost first.

    Raises
    ------
    ValueError
        ``out`` or a directory above it is a file or a link to a missing target, cannot be
        searched, or no file can be written in it.
    """
    text = str(out)
    link = dangling_link(out)
    if link is not None:
        raise ValueError(f"output directory {text!r}: {link_description(link)}; create the "
                         "directory it points to, remove the link or choose another -o")
    if out.exists() and not out.is_dir():
        raise ValueError(f"output directory {text!r} exists and is not a directory; the study "
                         "writes a folder of results, summary and figures there")
    _, reason = nearest_existing(out / "summary.md")
    if reason is not None:
        raise ValueError(f"output directory {text!r}: {reason}; choose another -o")
    created = created_directories(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        remove_created(created)
        raise ValueError(f"cannot create the output directory {text!r}: "
                         f"{exc.strerror or exc}; choose another -o") from None
    why = unwritable_reason(out)
    if why is not None:
        remove_created(created)
        raise ValueError(f"output directory {text!r}: {why}; choose another -o")
    return created


def _check_only(only) -> tuple[str, ...] | None:
    """``only`` as a tuple of names: a single string is one name (it was read letter by letter:
    "study spec must be one of ..., got 'd'", session 39); anything but strings is refused."""
    if only is None:
        return None
    if isinstance(only, str):
        return (only,)
    if not isinstance(only, list | tuple | set | frozenset):
        raise TypeError(f"only must be a spec name or a list/tuple of spec names (e.g. "
                        f"only=('dipolar',)), got {type(only).__name__}")
    wrong = [name for name in only if not isinstance(name, str)]
    if wrong:
        raise TypeError(f"only must hold spec names (strings), got {v._describe(wrong[0])}")
    return tuple(sorted(only)) if isinstance(only, set | frozenset) else tuple(only)


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
        See :func:`~manybody.study.run.load_study_spec`.
    n_jobs : int
        Worker processes.
    only : str or tuple of str, optional
        Run only these specs: names of ``ALL_SPECS`` (summarised: the summary files hold their
        rows only) and of the |T_mn|^2 runs ``MATRIX_ELEMENT_SPECS`` (pooled into
        ``matrix_elements.nc`` with those already finished in ``output_dir``; no summary is
        written when only these are named). A single string is one name (``only="dipolar"``
        is ``only=("dipolar",)``); a list or set of names is taken as a tuple.
    progress : bool
        Progress bars on stderr.
    figures : bool
        Draw the figures (matplotlib) at the end.
    backend : {"loky", "dask"}
        Where the realisations run (see :func:`manybody.runs.sweep.run_sweep`); "dask" with
        ``scheduler`` spreads a ``full`` study over a cluster.
    scheduler : str, optional
        Address of a running dask scheduler (backend "dask").
    echo : callable, optional
        Called with one line of text for each step (the plan, then per sweep whether finished
        results are reused, a checkpoint resumed or the sweep computed). Default: the log at
        INFO level. The CLI prints them on stderr.

    Raises
    ------
    TypeError
        ``output_dir`` not a path; ``only`` not a string or a list/tuple/set of strings (a name
        that is not a spec is a ValueError); ``progress`` or ``figures`` not True or False;
        ``n_jobs`` not an integer.
    ValueError
        ``size`` not one of the study's sizes, a name in ``only`` that is not a spec, ``n_jobs``
        out of range.
    """
    only = _check_only(only)
    v.boolean("progress", progress)
    v.boolean("figures", figures)
    say = echo or _quiet
    # 'new/../st' left an empty 'new' (session 36)
    out = without_missing_detours(v.path("output_dir", output_dir))
    names = tuple(name for name in only or STUDY_SPECS if name not in MATRIX_ELEMENT_SPECS)
    specs = {name: load_study_spec(name, size) for name in names}  # validate all before running
    matrix_specs = {name: load_matrix_element_spec(name, size)
                    for name in _matrix_element_names(out, only)}
    for spec in (*specs.values(), *matrix_specs.values()):
        spec.check()  # every sweep point of every spec (memory, observables), before any work
    n_jobs = check_run_arguments(n_jobs, backend, scheduler)  # before the plan and any file
    if only is not None and names:  # matrix elements alone write no summary
        _check_partial_output(out, names)
    if matrix_specs and only is not None:  # no summary of theirs: the folder's says its size,
        # and a tiny |T_mn|^2 run redrew a default study's matrix_elements figure (session 38)
        _check_same_study(out, size, {**{name: load_study_spec(name, size)
                                         for name in _summarised(out) & set(ALL_SPECS)
                                         if name not in specs},
                                      **specs})
    else:
        _check_same_study(out, size, specs)
    if specs:  # the summary files are written (matrix elements alone write none)
        _check_summary_markdown(out)
    created = make_output_directory(out)
    try:
        for name in (*specs, *matrix_specs):  # a file in the way of any spec: before any work
            path = out / f"{name}.nc"
            if not path.exists():
                check_writable(path)
                check_checkpoint(path)
            elif name in specs:  # another spec's results: refused before any sweep (session 37)
                _check_results_spec(path, name, specs[name], size)
        return _execute(out, size, specs, matrix_specs, say, n_jobs, progress=progress,
                        figures=figures, backend=backend, scheduler=scheduler)
    except BaseException:
        remove_created(created)  # only what is still empty: a refused study leaves no folder
        raise


def _execute(out: Path, size: str, specs: dict[str, RunSpec], matrix_specs: dict[str, RunSpec],
             say: Callable[[str], None], n_jobs: int, *, progress: bool, figures: bool,
             backend: str, scheduler: str | None) -> list[PointSummary]:
    """The body of :func:`execute_study` once everything is checked and ``out`` exists."""
    _say_plan(say, size, out, n_jobs, {**specs, **matrix_specs})
    rows: list[PointSummary] = []
    velocity_rows: list[VelocitySummary] = []
    saturation_rows: list[SaturationSummary] = []
    finished: list[xr.Dataset] = []  # donors of identical sweep points to the later specs
    for name, spec in specs.items():
        ds = _results(name, spec, out / f"{name}.nc", size, say, finished, n_jobs=n_jobs,
                      backend=backend, scheduler=scheduler, progress=progress)
        finished.append(ds)
        say(f"{name}: fitting the absorption shape at {_points(spec.n_points)}")
        shape, velocity = summarise(ds, name, n_jobs=n_jobs)
        rows.extend(shape)
        velocity_rows.extend(velocity)
        saturation_rows.extend(summarise_saturation(ds, name))
    if matrix_specs:
        _matrix_elements(out, matrix_specs, size, say, n_jobs=n_jobs, backend=backend,
                         scheduler=scheduler, progress=progress)
    if specs:
        write_summary(out, rows, velocity_rows, saturation_rows)
        say(f"summary: {out / 'summary.md'}, {out / 'summary.json'}, "
            f"{out / 'velocity_slopes.json'}")
    if figures:
        say(f"figures: drawing into {out / 'figures'}/")
        make_all_figures(out)
    return rows


def _matrix_element_names(out: Path, only: tuple[str, ...] | None) -> list[str]:
    """The |T_mn|^2 statistics runs of this study, in the figure's order: all of them in a whole
    study; with ``--only``, those named and, when one is, the others already finished in
    ``out`` (reused: ``matrix_elements.nc`` pools every system the folder has, not just the one
    rerun)."""
    if only is None:
        return list(MATRIX_ELEMENT_SPECS)
    if not set(only) & set(MATRIX_ELEMENT_SPECS):
        return []
    return [name for name in MATRIX_ELEMENT_SPECS
            if name in only or (out / f"{name}.nc").is_file()]


def _summary_rows(path: Path) -> list[dict]:
    """The rows of the summary file at ``path`` ([] when there is none).

    Raises
    ------
    FileExistsError
        A file there that is not a study's summary (not JSON, not a list of rows): the study
        would replace it (a user's own summary.json was overwritten without a word, while the
        scripts called it an error; a tester, bt203).
    """
    if not path.exists() and not path.is_symlink():
        return []
    try:
        rows = json.loads(path.read_text())
    except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError among them
        rows, why = None, f"cannot be read as JSON ({exc})"
    else:
        why = "is not a list of study rows (JSON objects with a 'study' key)"
    if not isinstance(rows, list) or not all(isinstance(r, dict) and "study" in r for r in rows):
        raise FileExistsError(f"{str(path)!r} {why}: not a study summary, and the study would "
                              "replace it; move it away, or give the study another output "
                              "directory (-o)")
    return rows


#: How the study's summary.md begins (:func:`manybody.study.summary.format_summary`).
SUMMARY_MARKDOWN_START = "| study | parameter |"


def _check_summary_markdown(out: Path) -> None:
    """Refuse a summary.md in ``out`` that is not a study's table: the study would replace it (a
    user's notes there were overwritten without a word; a tester, bt205)."""
    path = out / "summary.md"
    if not path.is_file():
        return
    try:
        with path.open(encoding="utf-8") as fh:
            first = fh.readline()
    except (OSError, UnicodeDecodeError):
        first = ""
    if not first.startswith(SUMMARY_MARKDOWN_START):
        raise FileExistsError(f"{str(path)!r} is not a study's summary table (it does not begin "
                              f"with {SUMMARY_MARKDOWN_START!r}), and the study would replace it; "
                              "move it away, or give the study another output directory (-o)")


def _summarised(out: Path) -> set[str]:
    """The studies with rows in the summary files of ``out``."""
    names: set[str] = set()
    for filename in SUMMARY_FILES:
        names |= {str(r.get("study")) for r in _summary_rows(out / filename)}
    return names


def _check_partial_output(out: Path, names: tuple[str, ...]) -> None:
    """Refuse an ``--only`` run into a directory whose summary holds rows of other specs: the
    partial run would replace that summary (and its tables) with its own rows only."""
    others = _summarised(out) - set(names)
    if others:
        raise ValueError(
            f"output directory {str(out)!r} holds the summary of other specs "
            f"({', '.join(sorted(others))}); a run of only {', '.join(names)} would replace it. "
            f"Give the partial run its own directory, e.g. -o results/{names[0]}")


def _check_same_study(out: Path, size: str, specs: dict[str, RunSpec]) -> None:
    """Refuse a study whose sizes differ from those of the summaries already in ``out``: the
    results files (.nc) are not kept in git, so a fresh clone's ``manybody study --tiny`` (N <=
    5) replaced the committed summary and figures of the default study in results/study
    (session 33). A row whose spec is run again must have an N and a realisation count that
    spec runs: comparing N alone let ``--tiny --only velocity_dipolar`` (N = 4 in both sizes)
    replace the committed 16000-realisation rows of results/velocity with 6-realisation ones
    (session 37). Every summary file is checked (summary.json, velocity_slopes.json,
    saturation.json); one that is not a study's summary is refused (:func:`_summary_rows`)."""
    planned = {name: ({model.n_tls for _, model, _ in spec.points()},
                      {int(c) for c in np.ravel(spec.realisation_counts)})
               for name, spec in specs.items()}
    for filename in SUMMARY_FILES:
        path = out / filename
        for row in _summary_rows(path):
            if row.get("study") not in planned:
                continue
            name = row["study"]
            n_tls, counts = planned[name]
            if row.get("n_tls") not in n_tls:
                what = (f"{name} at N = {row.get('n_tls')}, not the {size!r} study's N = "
                        f"{_listing(n_tls)}")
            elif row.get("realisations") not in counts:
                what = (f"{name} with {row.get('realisations')} realisations per point, not the "
                        f"{size!r} study's {_listing(counts)}")
            else:
                continue
            raise ValueError(
                f"{path} holds the rows of a study with {what}: this run would replace it and "
                f"its figures. Give it its own directory, e.g. -o results/study_{size}, or move "
                f"{filename} away to replace it")


def _load_own(path: Path, name: str) -> xr.Dataset:
    """The study's own results file of spec ``name``; a damaged one is refused with the study's
    way on: the advice to restore it or rewrite it with xarray did not say that the study
    computes it again once it is moved away (a break test, session 55), nor did the check before
    any work (it said to rerun the sweep that wrote it, which the user had just done; bt203)."""
    try:
        return load_results(path)
    except ValueError as exc:
        what = str(exc).split("; restore it from a copy")[0]
        raise ValueError(f"{what}. The study computes this file: delete it (or move it away) "
                         f"and rerun the study to compute {name!r} again") from None


def _check_results_spec(path: Path, name: str, spec: RunSpec, size: str,
                        ds: xr.Dataset | None = None) -> None:
    """Refuse a finished results file at ``path`` whose spec is not ``spec``, naming the spec
    the file holds (its name, and whether its sizes differ)."""
    held = dataset_spec(_load_own(path, name) if ds is None else ds)
    if held.digest() == spec.digest():
        return
    what = f"spec {held.name!r}" if held.name != spec.name else f"another {held.name!r} spec"
    raise FileExistsError(
        f"{path} holds the results of {what}, not the {size!r} study's {name!r} "
        f"(specification digests differ); move it away or choose another output directory")


def _listing(values: set) -> str:
    return ", ".join(map(str, sorted(values)))


def _results(name: str, spec: RunSpec, path: Path, size: str, say: Callable[[str], None],
             donors: list[xr.Dataset] = (), **execution) -> xr.Dataset:
    """The results of one study spec: the finished file at ``path`` if its spec matches, else
    the sweep run (resuming from its checkpoint) with the ``execution`` options of run_sweep,
    after copying the realisations of sweep points identical to points of ``donors`` (finished
    results of earlier specs; :func:`manybody.runs.reuse.seed_checkpoint`: bit for bit the same
    numbers)."""
    if path.exists():
        ds = _load_own(path, name)
        _check_results_spec(path, name, spec, size, ds)
        say(f"{name}: reusing finished results from {path}")
        return ds
    n = int(spec.realisation_counts.sum())
    resumed = " (resuming from its checkpoint)" if checkpoint_dir(path).exists() else ""
    copied = seed_checkpoint(spec, path, donors)
    shared = "".join(f"; {count} of them from the identical points of {donor}"
                     for donor, count in copied.items())
    say(f"{name}: computing {n} realisations at {_points(spec.n_points)}{resumed}{shared}")
    ds = run_sweep(spec, path, **execution)
    taken = int(ds.attrs.get("tasks_resumed", 0))
    if taken:  # "computing 14 realisations (resuming ...)" when all 14 were kept (bt203)
        say(f"{name}: {taken} of {n} realisations taken from the checkpoint, {n - taken} computed")
    return ds


def _other_entries(out: Path) -> list[str]:
    """The entries of ``out`` when none of them is the study's (results, checkpoints, summaries,
    figures); [] for a study folder or an empty one."""
    ours = {*(f"{name}.nc" for name in ALL_SPECS), *SUMMARY_FILES, "summary.md", "figures",
            "matrix_elements.nc"}
    try:
        entries = sorted(entry.name for entry in out.iterdir())
    except OSError:
        return []
    if any(name in ours or name.endswith((".nc.checkpoint", ".tmp")) or ".nc." in name
           for name in entries):
        return []
    return entries


def _say_plan(say: Callable[[str], None], size: str, out: Path, n_jobs: int,
              specs: dict[str, RunSpec]) -> None:
    """The plan of the study: every sweep with its points, sizes and realisations."""
    total = sum(int(spec.realisation_counts.sum()) for spec in specs.values())
    plural = "s" if len(specs) != 1 else ""  # '1 sweeps' (a new user, session 37)
    say(f"study ({size}): {len(specs)} sweep{plural}, {total} realisations in all, {n_jobs} workers, "
        f"results in {os.path.join(out, '')}")
    others = _other_entries(out)
    if others:  # -o / wrote the study among the system's folders without a word (bt203)
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        say(f"note: {os.path.join(out, '')} holds no study yet but other files ({shown}); the "
            "study writes its own beside them")
    for name, spec in specs.items():
        n_tls = sorted({params.n_tls for _, params, _ in spec.points()})
        say(f"  {name}: {_points(spec.n_points)}, N = {', '.join(map(str, n_tls))}, "
            f"{int(spec.realisation_counts.sum())} realisations")


def _matrix_elements(out: Path, specs: dict[str, RunSpec], size: str,
                     say: Callable[[str], None], **execution) -> None:
    """The |T_mn|^2 statistics of the study: one run per system (reused when finished, resumed
    from its checkpoint otherwise), pooled into ``matrix_elements.nc`` unless already pooled from
    the same runs."""
    results = {MATRIX_ELEMENT_SPECS[name]: _results(name, spec, out / f"{name}.nc", size, say,
                                                    **execution)
               for name, spec in specs.items()}
    path = out / "matrix_elements.nc"
    if matrix_elements_reusable(path, results):
        say(f"matrix elements: reusing finished results from {path}")
        return
    say(f"matrix elements: pooling |T_mn|^2 statistics of {len(results)} "
        f"system{'s' if len(results) != 1 else ''} into {path}")
    write_matrix_elements(path, results)
