"""Labelled sweep results: build an xarray.Dataset with units and provenance; atomic netCDF I/O.

Layout of a results file (netCDF4/HDF5, readable with plain xarray or h5py)::

    dims:    <sweep axes...>, realisation, temperature, frequency (energy_bin, frequency_bin, bound
             with the |T_mn|^2 statistics; amplitude with the saturation observable)
    coords:  every sweep axis (attrs: units, parameter = dotted path), realisation,
             temperature (K), frequency (K); energy_bin, frequency_bin (bin centres, K) with their
             edges in energy_bin_bounds, frequency_bin_bounds (K); amplitude (strain e0, 1)
    vars:    one per observable, dims (*sweep axes, realisation, *observable dims), attr units;
             realisation_count (*sweep axes): realisations computed at each point; with per-point
             counts the observables are NaN beyond it (schema 2)
    attrs:   schema_version, versions, git commit, spec (JSON), seed, spawn scheme, created, host,
             n_jobs, backend, blas_threads, wall_time_s, finished, solver_routes (JSON list, how
             each point was solved, C order), run_stretches (JSON list: every stretch of a run
             that was interrupted and resumed, with its code version, backend, n_jobs, wall time
             and realisations computed; n_jobs, backend and wall_time_s are the last one's),
             code_versions (JSON list of every manybody_version, git_commit and git_dirty that computed
             realisations), wall_time_total_s, chebyshev_options (JSON, the Chebyshev solver's
             options in full, where a point ran it), realisation_warnings (JSON list: each kind of
             warning the realisations raised, how many raised it), ...
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import os
import platform
import socket
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from manybody.config.model import ModelParams
from manybody.config.probe import OBSERVABLE_DIMS, Probe
from manybody.runs.spec import SPAWN_SCHEME, RunSpec, axis_name, axis_units, repeated_toml_key
from manybody.support import validate as v
from manybody.support.files import atomic_write_bytes
from manybody.support.paths import (
    created_directories,
    dangling_link,
    link_description,
    name_too_long_reason,
    nearest_existing,
    refuse_text_as_path,
    remove_created,
    unwritable_reason,
    without_missing_detours,
)
from manybody.support.provenance import blas_description, git_state, now_utc, package_version
from manybody.support.sealed_bytes import check_seal, placeholder, seal

if TYPE_CHECKING:  # pragma: no cover
    import argparse

    import xarray as xr

log = logging.getLogger(__name__)

#: Version of the file layout; bump when dims, names or attrs change meaning.
SCHEMA_VERSION = 2
#: Units of the coordinates every observable may use.
#: Global attribute holding the SHA-256 of the file's own bytes (:mod:`manybody.support.sealed_bytes`),
#: written by :func:`save_results` and checked, then dropped, by :func:`load_results`.
FILE_CHECKSUM = "file_checksum"
_SEAL_TAG = "manybody-results"

COORDINATE_UNITS = {"temperature": "K", "frequency": "K", "realisation": "1"}


def provenance(spec: RunSpec, *, n_jobs: int, backend: str, blas_threads: int,
               wall_time: float, tasks_resumed: int = 0, finished: bool = True,
               scheduler: str | None = None, routes: list[str] | None = None,
               stretches: list[dict[str, Any]] | None = None,
               raised: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """File attributes describing how a result was made (strings and numbers only).

    Parameters
    ----------
    spec : RunSpec
        The run specification (stored in full as JSON).
    n_jobs : int
        Number of workers.
    backend : str
        joblib backend ("loky" or "dask").
    blas_threads : int
        BLAS threads per task.
    wall_time : float
        Wall-clock time of the run (s).
    tasks_resumed : int
        (Sweep point, realisation) pairs taken from a checkpoint instead of computed (the
        attribute tasks_total counts all pairs).
    finished : bool
        Whether every task is present.
    scheduler : str, optional
        dask scheduler address (backend "dask"); "LocalCluster" when none was given.
    routes : list of str, optional
        How each sweep point was solved, in C order (:func:`manybody.runs.spec.point_routes`),
        stored as the JSON list ``solver_routes``.
    stretches : list of dict, optional
        Every stretch of the run, this one last
        (:func:`manybody.runs.checkpoint.stretch_record`, with ``tasks_computed`` and
        ``wall_time_s``): stored as the JSON list ``run_stretches``, with ``code_versions`` (each
        code version that computed realisations, and how many) and ``wall_time_total_s``. Default:
        one stretch, this run. ``n_jobs``, ``backend``, ``scheduler`` and ``wall_time_s`` are
        this (last) stretch's.
    raised : list of dict, optional
        The warnings the realisations raised, one record per kind, summed over the run's
        stretches (:func:`manybody.runs.task_warnings.merged_summaries`; those of a stretch
        killed outright from its task files): stored as the JSON list ``realisation_warnings``
        (empty: none).

    Also stored, where a point ran the Chebyshev solver (``routes``; without them, where
    ``solver.method`` is not "dense"): ``chebyshev_options``, the JSON of its options in full,
    defaults filled in (the spec keeps the table as given, so a default was whatever the
    reading version's is; a break test, session 54).
    """
    commit, dirty = git_state()
    if stretches is None:
        stretches = [{"manybody_version": package_version("manybody"), "git_commit": commit,
                      "git_dirty": dirty, "backend": backend, "n_jobs": int(n_jobs),
                      "wall_time_s": float(wall_time),
                      "tasks_computed": int(spec.n_tasks) - int(tasks_resumed)}]
    versions: dict[tuple[str, str, bool | None], int] = {}
    for record in stretches:
        if not record.get("tasks_computed") and record is not stretches[-1]:
            continue  # a stretch killed before any task finished computed nothing
        # uncommitted changes make another code version at the same commit (a resume after an
        # edit was not marked MIXED; a tester, session 39)
        flag = str(record.get("git_dirty")).lower()  # "unknown" (no checkout) was written false
        key = (str(record.get("manybody_version")), str(record.get("git_commit")),
               True if flag == "true" else False if flag == "false" else None)
        versions[key] = versions.get(key, 0) + int(record.get("tasks_computed") or 0)
    times = [record.get("wall_time_s") for record in stretches]
    keep = ("manybody_version", "git_commit", "git_dirty", "backend", "n_jobs", "scheduler",
            "started", "wall_time_s", "wall_time_note", "tasks_computed", "outcome")
    return {
        "title": f"manybody sweep {spec.name!r}",
        "schema_version": SCHEMA_VERSION,
        "manybody_version": package_version("manybody"),
        "numpy_version": np.__version__,
        "scipy_version": package_version("scipy"),
        "quspin_version": package_version("quspin"),
        "xarray_version": package_version("xarray"),
        "joblib_version": package_version("joblib"),
        "python_version": platform.python_version(),
        "git_commit": commit,
        "git_dirty": dirty,
        "spec": spec.canonical_json(),
        "spec_sha256": spec.digest(),
        "name": spec.name,
        "seed": spec.seed,
        "spawn_scheme": SPAWN_SCHEME,
        "sweep_axes": json.dumps({axis_name(k): k for k in spec.sweep}),
        "created": now_utc(),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "n_jobs": int(n_jobs),
        "backend": backend,
        "scheduler": (scheduler or "LocalCluster") if backend == "dask" else "none",
        "blas_threads": int(blas_threads),
        "blas": blas_description(),
        "wall_time_s": float(wall_time),
        "tasks_total": int(spec.n_tasks),
        "tasks_resumed": int(tasks_resumed),
        "finished": int(bool(finished)),
        **({"solver_routes": json.dumps(routes)} if routes is not None else {}),
        **({"chebyshev_options": json.dumps(dataclasses.asdict(spec.solver.chebyshev))}
           if spec.solver.method != "dense" and (routes is None or any(
               route.startswith("chebyshev") for route in routes)) else {}),
        "realisation_warnings": json.dumps(raised or []),
        "run_stretches": json.dumps([{k: record.get(k) for k in keep if k in record}
                                     for record in stretches]),
        "code_versions": json.dumps([{"manybody_version": version, "git_commit": sha,
                                      "git_dirty": dirty_code, "realisations": count}
                                     for (version, sha, dirty_code), count in versions.items()]),
        # a stretch killed outright is counted to its last finished task (outcome "killed"),
        # or not at all where its task files predate that record (a lower bound then)
        "wall_time_total_s": float(sum(t for t in times if isinstance(t, int | float))),
    }


def _observable_coords(spec: RunSpec) -> dict[str, tuple[np.ndarray, dict[str, str]]]:
    """Coordinates of the observable dims: dim -> (values, attrs); the |T_mn|^2 bins by their
    centres (arithmetic in E_m - E_0, geometric in w_mn), their edges in "bounds" variables."""
    coords = {
        "temperature": (np.asarray(spec.probe.temperatures, dtype=np.float64), {"units": "K"}),
        "frequency": (np.asarray(spec.probe.frequencies, dtype=np.float64), {"units": "K"}),
    }
    if spec.probe.saturation is not None:
        coords["amplitude"] = (np.asarray(spec.probe.saturation.amplitudes, dtype=np.float64), {
            "units": "1", "long_name": "strain amplitude e0 of the drive (power ~ e0^2)"})
    bins = spec.probe.matrix_element_bins
    if bins is not None:
        e, w = np.asarray(bins.energy), np.asarray(bins.frequency)
        coords["energy_bin"] = (0.5 * (e[1:] + e[:-1]), {
            "units": "K", "long_name": "centre of the E_m - E_0 bin", "bounds": "energy_bin_bounds"})
        coords["frequency_bin"] = (np.sqrt(w[1:] * w[:-1]), {
            "units": "K", "long_name": "geometric centre of the w_mn = E_m - E_n bin",
            "bounds": "frequency_bin_bounds"})
    return coords


def _bin_bounds(spec: RunSpec, dim: str) -> np.ndarray:
    """(n_bins, 2) lower and upper edges (K) of a |T_mn|^2 bin dim."""
    bins = spec.probe.matrix_element_bins
    edges = np.asarray(bins.energy if dim == "energy_bin" else bins.frequency)
    return np.stack([edges[:-1], edges[1:]], axis=1)


def build_dataset(spec: RunSpec, values: Mapping[str, np.ndarray],
                  attrs: Mapping[str, Any] | None = None) -> xr.Dataset:
    """Label stacked observables with dims, coordinates and units.

    Parameters
    ----------
    spec : RunSpec
        The run (sweep axes, realisations, probe).
    values : Mapping[str, numpy.ndarray]
        Observable name -> array of shape (*spec.shape, spec.max_realisations, *observable shape),
        dims and units as registered in ``manybody.config.probe.OBSERVABLE_DIMS``.
    attrs : Mapping, optional
        Global attributes (see :func:`provenance`).

    Returns
    -------
    xarray.Dataset
    """
    import xarray as xr

    # None, text or a DataArray got "'NoneType' object has no attribute 'dims'" (bt187)
    v.instance("spec", spec, RunSpec, "a RunSpec (e.g. RunSpec.from_toml(path))")
    v.instance("values", values, Mapping, "a mapping of observable name to array")
    if attrs is not None:
        v.instance("attrs", attrs, Mapping, "a mapping of attribute name to value, or None")
    sweep_dims = spec.dims
    coords: dict[str, Any] = {}
    for key, dim in zip(spec.sweep, sweep_dims, strict=True):
        coords[dim] = xr.Variable(dim, np.asarray(spec.sweep[key]),
                                  attrs={"units": axis_units(key, spec), "parameter": key})
    coords["realisation"] = xr.Variable(
        "realisation", np.arange(spec.max_realisations, dtype=np.int64),
        attrs={"units": "1", "long_name": "disorder realisation index r (SeedSequence spawn key)"})
    known = _observable_coords(spec)
    data_vars: dict[str, Any] = {}
    for name, arr in values.items():
        if name not in OBSERVABLE_DIMS:  # a raw KeyError (bt187)
            raise ValueError(f"values has the key {v.one_line(repr(name))}, not an observable; "
                             f"the observables are {', '.join(OBSERVABLE_DIMS)}")
        obs_dims, units = OBSERVABLE_DIMS[name]
        dims = (*sweep_dims, "realisation", *obs_dims)
        arr = np.asarray(arr)
        if arr.ndim != len(dims):
            raise ValueError(f"observable {name!r} has shape {arr.shape}, expected dims {dims}")
        for dim, size in zip(obs_dims, arr.shape[len(sweep_dims) + 1:], strict=True):
            if dim in known and dim not in coords:
                coords[dim] = xr.Variable(dim, known[dim][0], attrs=known[dim][1])
                if "bounds" in known[dim][1]:
                    coords[f"{dim}_bounds"] = xr.Variable(
                        (dim, "bound"), _bin_bounds(spec, dim),
                        attrs={"units": "K", "long_name": f"lower and upper edge of the {dim}"})
            if dim in coords and coords[dim].size != size:
                raise ValueError(f"observable {name!r} has {size} entries along {dim!r}, "
                                 f"expected {coords[dim].size}")
        data_vars[name] = xr.Variable(dims, arr, attrs={"units": units})
    data_vars["realisation_count"] = xr.Variable(
        sweep_dims, spec.realisation_counts,
        attrs={"units": "1", "long_name": "realisations computed at this sweep point; the "
                                          "observables are NaN for realisation >= this count"})
    return xr.Dataset(data_vars, coords=coords, attrs=dict(attrs or {}))


def check_results_dataset(caller: str, name: str, value: Any, *, data_array: str) -> None:
    """TypeError unless ``value`` is an xarray Dataset: a path names :func:`load_results`, a
    DataArray (one variable) is told ``data_array``. None, a path or a dict got a raw
    AttributeError, a DataArray a message naming a BytesIO object (a break test, bt185)."""
    import xarray as xr

    if isinstance(value, xr.Dataset):
        return
    if isinstance(value, xr.DataArray):
        raise TypeError(f"{caller}: {name} must be the xarray.Dataset of a results file, got the "
                        f"DataArray {value.name!r} (one variable); {data_array}")
    if isinstance(value, str | os.PathLike):
        raise TypeError(f"{caller}: {name} must be an xarray.Dataset, got the path "
                        f"{os.fspath(value)!r:.80}; read the file first: "
                        f"{caller}(load_results(path))")
    raise TypeError(f"{caller}: {name} must be an xarray.Dataset (a results file as load_results "
                    f"returns it), got {v._describe(value) if value is not None else 'None'}")


def realised(point: xr.Dataset) -> xr.Dataset:
    """One sweep point's results without the NaN padding of per-point realisation counts.

    Parameters
    ----------
    point : xarray.Dataset
        A results Dataset reduced to one sweep point (e.g. ``ds.isel(coupling_strength=2)``), or
        a run without sweep axes.

    Raises
    ------
    TypeError
        ``point`` not an xarray Dataset: a DataArray carries no realisation count (select the
        variable after: ``realised(point)["absorption"]``), a path is read with
        :func:`load_results` first.
    ValueError
        More than one sweep point; no realisation dimension (already reduced over it); a
        realisation count that is not a whole number between 0 and the realisations stored.
    """
    check_results_dataset("realised", "point", point, data_array=(
        "it carries no realisation count, so its NaN padding cannot be told from data: pass the "
        "Dataset and select the variable after, realised(point)[name]"))
    if "realisation_count" not in point:  # schema 1: every point has every realisation
        return point
    count = point["realisation_count"]
    if count.ndim:
        raise ValueError(f"realised() needs a single sweep point; select one along {count.dims}")
    if "realisation" not in point.dims:
        raise ValueError("realised() needs the point's realisation dimension, which this Dataset "
                         "has not (reduced over it already, e.g. with .mean('realisation')?): "
                         "call realised() first, then reduce")
    stored = point.sizes["realisation"]
    value = count.values.item()
    if not (v.is_real(value) and float(value).is_integer() and 0 <= value <= stored):
        raise ValueError(f"realised(): realisation_count must be a whole number from 0 to the "
                         f"{stored} realisation(s) stored, got {value!r}; the file was edited or "
                         "written by other code")
    return point.isel(realisation=slice(0, int(value)))


def dataset_spec(ds: xr.Dataset) -> RunSpec:
    """The run specification a results file was computed from (its ``spec`` attribute).

    Raises
    ------
    TypeError
        ``ds`` not an xarray Dataset (a path: read it with :func:`load_results`; a DataArray:
        pass the Dataset it came from).
    ValueError
        No ``spec`` attribute, or one that is not the JSON of a specification (a file edited or
        written by other code; a raw KeyError or JSONDecodeError before session 56, helper-183).
    """
    check_results_dataset("dataset_spec", "ds", ds, data_array=(
        "the specification is an attribute of the whole file: pass the Dataset it came from"))
    source = ds.encoding.get("source")
    source = source if isinstance(source, str | os.PathLike) else "this dataset"
    text = ds.attrs.get("spec")
    if text is None:
        raise ValueError(f"{source} has no 'spec' attribute: not a results file of manybody run "
                         "or study (or one whose attributes were dropped by an edit)")
    try:
        record = json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{source}: its 'spec' attribute is not the JSON of a run "
                         f"specification ({exc}); the file was edited or written by other "
                         "code") from None
    if not isinstance(record, dict):
        raise ValueError(f"{source}: its 'spec' attribute is JSON of a {type(record).__name__}, "
                         "not of a run specification (a table)")
    return RunSpec.from_record(record)


class SweepPoint(NamedTuple):
    """One sweep point of a results file: its index along the sweep axes, its model and probe,
    and its results without the NaN padding of per-point realisation counts."""

    index: tuple[int, ...]
    model: ModelParams
    probe: Probe
    data: xr.Dataset


def _same_axis(stored: np.ndarray, values: Sequence) -> bool:
    """The coordinate values of a sweep axis in the file against a spec's (numbers to 1e-9
    relative; other values as text)."""
    try:
        given = np.asarray(values, dtype=np.float64)
        return bool(np.allclose(np.asarray(stored, dtype=np.float64), given, rtol=1e-9, atol=0))
    except (TypeError, ValueError):
        return [str(x) for x in np.asarray(stored).tolist()] == [str(x) for x in values]


def _check_spec_fits(ds: xr.Dataset, spec: RunSpec) -> None:
    """ValueError unless ``spec``'s sweep axes (names, counts, values) and realisation counts
    are those of ``ds``: another run's spec gave xarray's "Dimensions {...} do not exist", or,
    with the same axis names, labelled the points with the wrong models (bt185)."""
    wrong = []
    for dim, (key, values), size in zip(spec.dims, spec.sweep.items(), spec.shape, strict=True):
        if dim not in ds.dims:
            wrong.append(f"its sweep axis {dim!r} is not a dimension of the file")
        elif ds.sizes[dim] != size:
            wrong.append(f"its {dim!r} has {size} value(s), the file's {ds.sizes[dim]}")
        elif dim in ds.coords and not _same_axis(ds[dim].values, values):
            wrong.append(f"its {key} values {list(values)!r:.60} are not the file's "
                         f"{ds[dim].values.tolist()!r:.60}")
    if not wrong and "realisation_count" in ds and ds["realisation_count"].shape == spec.shape \
            and not np.array_equal(ds["realisation_count"].values, spec.realisation_counts):
        wrong.append("its realisation counts are not the file's")
    # another run's spec with the same axes labelled the points with its models (helper-187):
    # its name and seed are the file's own attributes (the digest is not compared: a file
    # written by an older version may hold another canonical form of the same spec)
    wrong += [f"its {key} {getattr(spec, key)!r} is not the file's {ds.attrs[key]!r}"
              for key in ("name", "seed") if not wrong and key in ds.attrs
              and str(ds.attrs[key]) != str(getattr(spec, key))]
    if wrong:
        raise ValueError(f"sweep_points: spec does not describe this results file: "
                         f"{'; '.join(wrong)} (file dimensions: {dict(ds.sizes)}); pass "
                         "spec=None to use the file's own (dataset_spec(ds))")


def sweep_points(ds: xr.Dataset, spec: RunSpec | None = None) -> Iterator[SweepPoint]:
    """Iterate over the sweep points of a results file, in the order of
    :meth:`RunSpec.points` (C order, last axis fastest).

    Parameters
    ----------
    ds : xarray.Dataset
        A results file as :func:`load_results` returns it.
    spec : RunSpec, optional
        Its specification, if already at hand (default :func:`dataset_spec`).

    Raises
    ------
    TypeError
        ``ds`` not an xarray Dataset, ``spec`` not a RunSpec (checked at the call, not at the
        first point).
    ValueError
        ``spec`` whose sweep axes, their values or the realisation counts are not the file's;
        as :func:`dataset_spec` and :func:`realised`.
    """
    check_results_dataset("sweep_points", "ds", ds, data_array=(
        "pass the Dataset it came from (its points carry every variable)"))
    if spec is None:
        spec = dataset_spec(ds)
    else:
        v.instance("spec", spec, RunSpec, "a RunSpec (e.g. dataset_spec(ds)) or None")
        _check_spec_fits(ds, spec)
    return _points_of(ds, spec)


def _points_of(ds: xr.Dataset, spec: RunSpec) -> Iterator[SweepPoint]:
    for index, model, probe in spec.points():
        selection = dict(zip(spec.dims, index, strict=True))
        yield SweepPoint(index, model, probe, realised(ds.isel(selection) if selection else ds))


def output_path(path: str | os.PathLike) -> Path:
    """The path a results file given as ``path`` is written at: ``new/../out.nc`` is ``out.nc``
    (no ``new`` is created), and after a link ``..`` is the target's parent, resolved once as the
    kernel does, so that every file of a run has one spelling ('-o link/../x.nc' wrote the
    checkpoint in one folder and looked for its meta.json in another: a bare Errno 2; a helper,
    session 36)."""
    path = without_missing_detours(v.path("path", path))
    if ".." in path.parts:
        path = Path(os.path.realpath(path.parent)) / path.name
    return path


def check_writable(path: str | Path, overwrite: bool = False) -> Path:
    """Fail early if ``path`` cannot be written: no permission, not a directory, or it exists.

    Missing parent directories are not an error as long as they can be created (the nearest
    existing ancestor is a writable directory); :func:`make_parents` creates them. Every message
    begins with ``output '<path>'`` (the command line names its option there).

    Raises
    ------
    ValueError
        ``path`` is ``"-"`` (standard output, which is not written), is a directory, ends with a
        path separator (which names a directory), exists
        and is not a regular file, or its name (or its checkpoint's) is longer than the file
        system allows.
    TypeError
        ``overwrite`` not True or False.
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    NotADirectoryError
        A component of ``path`` is a file, or a link to a missing target.
    PermissionError
        A directory of ``path`` cannot be searched, or the directory (or the nearest existing
        ancestor) is not writable.
    """
    v.path("path", path)  # None got os' "expected str, bytes or os.PathLike object" (bt187)
    v.boolean("overwrite", overwrite)  # "False" is truthy: it replaced files (session 39)
    text = os.fspath(path)
    if text == "-":  # the usual name of stdout: a file named '-' was written (session 37)
        raise ValueError("output '-': manybody writes its results to a file, not to standard "
                         "output; give a file name (e.g. out.nc), or './-' for a file named '-'")
    path = output_path(path)
    link = dangling_link(path.parent)
    if link is not None:
        raise NotADirectoryError(f"output {text!r}: {link_description(link)}; create the "
                                 "directory it points to, remove the link or choose another "
                                 "output")
    ancestor, reason = nearest_existing(path)
    if reason is not None:
        error = PermissionError if "permission" in reason else NotADirectoryError
        raise error(f"output {text!r}: {reason}; choose another output")
    too_long = name_too_long_reason(path, ancestor)
    if too_long is not None:
        raise ValueError(f"output {_shortened(text)!r}: {too_long}")
    if text.endswith(("/", os.sep)) and not path.is_dir():
        raise ValueError(f"output {text!r} ends with '/', which names a directory; give a "
                         f"file name (e.g. {text}results{path.suffix or '.nc'})")
    if path.is_dir():
        raise ValueError(f"output {text!r} is a directory; give a file name")
    if path.exists() and not path.is_file():  # --overwrite replaced /dev/null (session 25)
        raise ValueError(f"output {text!r} exists and is not a regular file (a device, "
                         "pipe or socket); give a file name")
    if os.path.lexists(path) and not overwrite:  # a dangling link too (it was replaced)
        left = path.with_name(path.name + ".checkpoint")  # runs.checkpoint.checkpoint_dir
        beside = (f" (and so does the checkpoint {str(left)!r} of a run into it that was "
                  "stopped: --overwrite resumes that run; if the file is complete, remove the "
                  "checkpoint)" if left.is_dir() else "")
        raise FileExistsError(f"output {text!r} already exists"
                              + (" (a link to a missing file)" if not path.exists() else "")
                              + beside + "; pass overwrite=True (--overwrite) to replace it")
    why = unwritable_reason(ancestor)
    if why is not None:
        raise PermissionError(f"output {text!r}: {why}; choose another output")
    return path


def _shortened(text: str, limit: int = 80) -> str:
    """``text`` cut in its middle to at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    return text[:limit // 2 - 2] + "..." + text[-(limit // 2 - 1):]


def add_overwrite_option(parser: argparse.ArgumentParser, *, entries: bool = False) -> None:
    """``--overwrite`` of a script that writes its record as a whole file
    (:func:`checked_output_option` with ``replaces=True``) or, with ``entries``, merges labelled
    entries into one (:func:`refuse_replaced_records`)."""
    if entries:
        help_text = ("replace entries of the same label already in the output file (without it "
                     "they, e.g. committed records the README quotes, are refused; the file's "
                     "other entries are always kept)")
    else:
        help_text = ("replace an existing output file (without it an existing file, e.g. a "
                     "committed record the README quotes, is refused)")
    parser.add_argument("--overwrite", action="store_true", help=help_text)


def checked_input_spec(parser: argparse.ArgumentParser, option: str, path: str | Path, *,
                       kernel_width: float | None = None) -> dict:
    """The TOML table of the spec file a script's ``option`` names (its default: a spec recorded
    in the repository), or ``parser.error`` (exit 2, one line) naming the file and ``option``
    when it is missing, unreadable or not a spec of the expected kind, before the script's work.
    ``bench_figure_of_merit.py`` ended in a FileNotFoundError traceback where its default spec
    (``results/finite_size_n12/spec.toml``) was not there (a break test, session 53).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Reports the error.
    option : str
        The option that names another spec file (``"--spec"``).
    path : str or Path
        The spec file.
    kernel_width : float, optional
        The Gaussian kernel width (K) the script's analysis assumes: a spec with another
        ``[probe.broadening]`` is refused.
    """
    import tomllib

    path = Path(path)
    try:
        table = tomllib.loads(path.read_text())
    except FileNotFoundError:
        parser.error(f"{option} {str(path)!r}: no such spec file (pass another one with {option})")
    except (OSError, UnicodeDecodeError) as exc:
        parser.error(f"{option} {str(path)!r}: cannot read the spec file "
                     f"({exc.strerror if isinstance(exc, OSError) else exc})")
    except tomllib.TOMLDecodeError as exc:
        parser.error(f"{option} {str(path)!r}: not valid TOML ({exc}"
                     f"{repeated_toml_key(path.read_text(), exc)})")
    probe = table.get("probe") if isinstance(table.get("probe"), dict) else {}
    if not isinstance(table.get("model"), dict) or not probe:
        parser.error(f"{option} {str(path)!r}: expected a run spec with [model] and [probe] tables")
    if kernel_width is not None and probe.get("broadening") != {"kind": "gaussian",
                                                                 "width": kernel_width}:
        parser.error(f"{option} {str(path)!r}: expected [probe.broadening] kind = \"gaussian\", "
                     f"width = {kernel_width:g} (the kernel this script analyses), got "
                     f"{probe.get('broadening')!r}")
    return table


def checked_output_option(parser: argparse.ArgumentParser, option: str, value: str | Path, *,
                          directory: bool = False, replaces: bool = False,
                          overwrite: bool = False) -> Path:
    """The output a script's ``option`` names, or ``parser.error`` (exit 2, one line) saying why it
    cannot be written, before the script's work: a file among its parents, a trailing '/' on a
    file name, a directory given for a file (a file for a directory), a device, no permission.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Reports the error.
    option : str
        The option as the user typed it (``"--out"``), or ``"write"`` for a positional.
    value : str or Path
        The value given (a str keeps a trailing '/').
    directory : bool
        The option names a directory of outputs rather than one file.
    replaces : bool
        The script writes the file as a whole: an existing one is refused unless ``overwrite``
        (a small trial of ``crosscheck_index.py`` replaced the committed record the README
        quotes, without a word; a new user, session 37). Scripts that merge labelled records
        into the file leave this False.
    overwrite : bool
        ``--overwrite`` was given (:func:`add_overwrite_option`).

    Returns
    -------
    Path
        ``value`` as a Path (existing records stay: scripts merge their labels into them).
    """
    text = os.fspath(value)
    path = Path(text)
    if directory:  # 'new/../figs' left an empty 'new' (a helper, session 36)
        if text == "-":  # a folder named '-' was made (session 45)
            parser.error(f"{option} '-': the script writes its results into a folder, not to "
                         "standard output; give a folder name, or './-' for a folder named '-'")
        path = without_missing_detours(path)
        if path.exists() and not path.is_dir():
            parser.error(f"{option} {text!r} exists and is not a directory; give a directory")
        ancestor, reason = nearest_existing(path / "file")
        reason = reason or unwritable_reason(ancestor)
        if reason is not None:
            parser.error(f"{option} {text!r}: {reason}; choose another directory")
        return path
    try:
        check_writable(text, overwrite=True)
    except (ValueError, OSError) as exc:  # every message begins "output '<path>'"
        parser.error(f"{option} {str(exc).removeprefix('output ')}")
    if replaces and not overwrite and os.path.lexists(path):
        parser.error(f"{option} {text!r} already exists (a committed record the README may "
                     f"quote); pass --overwrite to replace it, or give another {option}")
    return path


def refuse_replaced_records(parser: argparse.ArgumentParser, option: str, path: str | Path,
                            keys: Iterable[Sequence[str]], *, overwrite: bool,
                            other: str = "--label") -> None:
    """``parser.error`` (exit 2, one line) before any work if the JSON record ``path`` already
    holds an entry this run would replace, unless ``--overwrite``.

    Scripts that merge labelled records into one file (``bench_chebyshev.py``,
    ``ratio_bias_check.py``, ...) replaced a committed record of the same label without a word
    (session 37's note); the file's other records were always kept.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Reports the refusal.
    option : str
        The option naming the file (``"--out"``).
    path : str or Path
        The record file; a missing or unreadable one refuses nothing (the script's own reader
        reports a damaged file).
    keys : iterable of sequences of str
        The entries the run writes, each as its path of keys (``("figure_of_merit", "sizes",
        "16")``).
    overwrite : bool
        ``--overwrite`` was given (:func:`add_overwrite_option`).
    other : str
        The option that names another entry, suggested with ``--overwrite``.
    """
    if overwrite or not os.path.isfile(path):
        return
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return
    present = []
    for key in keys:
        node: Any = data
        for part in key:
            if not isinstance(node, dict) or part not in node:
                break
            node = node[part]
        else:
            present.append("/".join(key))
    if present:
        shown = ", ".join(repr(entry) for entry in present[:4])
        shown += f" and {len(present) - 4} more" if len(present) > 4 else ""
        parser.error(f"{option} {os.fspath(path)!r} already holds {shown} (a record the README "
                     f"may quote); pass --overwrite to replace "
                     f"{'it' if len(present) == 1 else 'them'}, or give another "
                     f"{other if other == option else f'{other} or {option}'}")


def make_parents(path: str | Path) -> list[Path]:
    """Create the missing parent directories of ``path`` (with the user's umask), as ``mkdir -p``.

    Returns
    -------
    list of Path
        The directories created, outermost first (:func:`manybody.support.paths.remove_created`
        takes them away again if the run is refused later).

    Raises
    ------
    PermissionError, NotADirectoryError
        A directory cannot be created (one line naming it).
    """
    parent = Path(v.path("path", path)).parent
    link = dangling_link(parent)
    if link is not None:
        raise NotADirectoryError(f"output {str(path)!r}: {link_description(link)}; create the "
                                 "directory it points to, remove the link or choose another "
                                 "output")
    created = created_directories(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        remove_created(created)
        raise NotADirectoryError(f"output {str(path)!r}: cannot create its directory "
                                 f"{str(parent)!r}: a file of that name is in the way") from None
    except OSError as exc:
        remove_created(created)
        raise PermissionError(f"output {str(path)!r}: cannot create its directory "
                              f"{str(parent)!r}: {exc.strerror or exc}") from None
    return created


def save_results(ds: xr.Dataset, path: str | Path, overwrite: bool = False) -> Path:
    """Write ``ds`` to netCDF4/HDF5 atomically (temporary file in the same directory, then rename).

    Data variables are gzip-compressed (lossless; plain netCDF readers decompress transparently).
    The global attribute ``file_checksum`` holds the SHA-256 of the file's own bytes, which
    :func:`load_results` checks (:mod:`manybody.support.sealed_bytes`).

    Parameters
    ----------
    ds : xarray.Dataset
        Results.
    path : str or Path
        Destination file (conventionally ``.nc``).
    overwrite : bool
        Replace an existing file; otherwise an existing file is an error. Only True or False
        (a string such as "False" is refused: it is truthy, and replaced the file, session 39).

    Returns
    -------
    Path
        The written path.

    Raises
    ------
    TypeError
        ``ds`` not an xarray.Dataset (e.g. a dict of arrays: build a Dataset, or write what
        :func:`manybody.run_sweep` returns); ``path`` not a str or os.PathLike; ``overwrite``
        not True or False.
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    ValueError, NotADirectoryError, PermissionError
        ``path`` cannot be written (:func:`manybody.runs.results.check_writable`).
    """
    import xarray as xr

    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"ds must be an xarray.Dataset (as run_sweep or load_results return it), "
                        f"got {type(ds).__name__}; wrap a dict of arrays with "
                        "xarray.Dataset(...) first")
    v.path("path", path)
    v.boolean("overwrite", overwrite)
    path = check_writable(path, overwrite)
    make_parents(path)
    # encode in memory first: a full disk then fails in a plain write() with ENOSPC instead of
    # inside HDF5 (which crashed the process); results files are small next to the RAM.
    # lossless gzip: per-point realisation counts leave NaN padding, which it all but removes;
    # with HDF5's byte shuffle first, level 1 writes 400 MB of spectra in 12 s instead of 21 s
    # (level 4 without shuffle) and 19 % smaller (session 49)
    encoding = {name: {"zlib": True, "complevel": 1, "shuffle": True} for name in ds.data_vars}
    ds = ds.copy(deep=False)
    checksum_text = placeholder(_SEAL_TAG)
    ds.attrs = {**ds.attrs, FILE_CHECKSUM: checksum_text}
    data = seal(ds.to_netcdf(engine="h5netcdf", encoding=encoding), checksum_text)

    def refuse_newcomer() -> None:
        if os.path.lexists(path) and not overwrite:  # created by someone else meanwhile
            raise FileExistsError(f"output {str(path)!r} appeared while writing; not replaced")

    atomic_write_bytes(path, data, fsync=True, before_replace=refuse_newcomer)
    log.info("wrote %s", path)
    return path


def load_results(path: str | Path, *, verify: bool = True) -> xr.Dataset:
    """Read a results file fully into memory and close it.

    Parameters
    ----------
    path : str or Path
        A results file written by :func:`save_results` (``manybody run``, ``manybody study``).
    verify : bool
        Check the file's bytes against the SHA-256 :func:`save_results` wrote into it, before
        they are parsed. Files written before session 48, or rewritten by another program,
        carry none and are read unchecked. False reads a file whose checksum does not match
        (one whose attributes another program edited in place, say) at the reader's own risk.

    Returns
    -------
    xarray.Dataset
        Without the ``file_checksum`` attribute, which describes the file, not its content.

    Raises
    ------
    FileNotFoundError
        No such file.
    IsADirectoryError
        ``path`` is a directory.
    ValueError
        Not a readable netCDF4/HDF5 file: damaged (truncated, corrupted header or objects, bytes
        that do not match the file's checksum) or of another format; the message names the file
        and the reader's complaint in one line. Text given as the path (too long for one, or
        with line breaks).
    TypeError
        ``path`` not a str or os.PathLike; ``verify`` not True or False.
    """
    import xarray as xr

    v.path("path", path)
    v.boolean("verify", verify)
    refuse_text_as_path("results file (.nc)", path)  # "[Errno 36] File name too long" (bt185)
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a directory, not a results file; give the "
                                ".nc file written by manybody run")
    if not path.exists():
        raise FileNotFoundError(f"results file {str(path)!r} does not exist")
    if not path.is_file():
        raise ValueError(f"{str(path)!r} is not a regular file; give the .nc file written by "
                         "manybody run")
    kind = _text_kind(path)
    if kind is not None:  # a study's summary.json was called damaged (a new user, session 35)
        raise ValueError(f"{str(path)!r} is {kind}, not a results file; give the .nc file "
                         "written by manybody run or study")
    try:
        data = path.read_bytes()
    except PermissionError as exc:
        raise PermissionError(f"cannot read results file {str(path)!r}: "
                              f"{exc.strerror or exc}") from None
    sealed = check_seal(data, _SEAL_TAG)
    if verify and sealed is False:
        raise ValueError(f"{str(path)!r} is damaged: its bytes changed after it was written "
                         "(truncated or altered: they do not match the SHA-256 checksum written "
                         "into it, global attribute file_checksum); restore it from a "
                         "copy or rerun the sweep that wrote it. A file another program changed "
                         "on purpose: write it anew without the attribute (ds = "
                         "xarray.load_dataset(path); del ds.attrs['file_checksum']; "
                         "ds.to_netcdf(new_path)); deleting the attribute in place leaves its "
                         "text in the file; in Python, load_results(..., verify=False) reads it "
                         "as it is")
    reason = None
    with _quiet_unraisable():
        try:
            ds = xr.load_dataset(io.BytesIO(data), engine="h5netcdf", decode_times=False,
                                 decode_timedelta=False, phony_dims="access")
        # h5py raises OSError for a bad signature or truncation, KeyError or RuntimeError for
        # damaged objects; h5netcdf and xarray ValueError, TypeError or AttributeError
        except (OSError, ValueError, KeyError, RuntimeError, TypeError, AttributeError,
                IndexError) as exc:
            text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
            reason = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        # leaving the except clause dropped the traceback: the half-opened file is collected
        # inside _quiet_unraisable
        else:
            stored = ds.attrs.pop(FILE_CHECKSUM, None)
            if verify and stored is not None and sealed is None:  # the checksum's own text hit
                raise ValueError(f"{str(path)!r} is damaged: its checksum attribute "
                                 f"file_checksum reads {str(stored)[:40]!r}; restore it from a "
                                 "copy or rerun the sweep that wrote it")
            return _bounds_units(ds)
    raise ValueError(f"{str(path)!r} is not a readable netCDF4/HDF5 results file: it is "
                     f"damaged or of another format ({reason}); restore it from a copy or "
                     "rerun the sweep that wrote it")


#: What a text file of these extensions is, for a results file that is not one.
_TEXT_KINDS = {".toml": "a TOML file (a run specification? run it: manybody run FILE -o OUT.nc)",
               ".json": "a JSON file (a study's summary.json or a fit's results?)",
               ".csv": "a CSV table (measured data? fit it: manybody fit-data FILE)",
               ".txt": "a text file", ".md": "a Markdown document", ".py": "a Python script"}


def _text_kind(path: Path) -> str | None:
    """What ``path`` is when it does not begin as an HDF5 or netCDF file and is empty or text
    (by its extension, else 'a text file'; a CSV saved as .dat was called damaged, session 35),
    else None."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return None
    if not head:
        return "an empty file"
    if head.startswith((b"\x89HDF", b"CDF")) or b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end
            return None
    return _TEXT_KINDS.get(path.suffix.lower(), "a text file")


def _bounds_units(ds: xr.Dataset) -> xr.Dataset:
    """Give each bounds variable (energy_bin_bounds, ...) the units of its coordinate: xarray
    drops them on writing, as CF lets bounds inherit them, and `manybody info` showed
    'energy_bin_bounds [?]' (session 33)."""
    for var in ds.variables.values():
        bounds = var.attrs.get("bounds")
        if isinstance(bounds, str) and bounds in ds.variables and "units" in var.attrs:
            ds[bounds].attrs.setdefault("units", var.attrs["units"])
    return ds


@contextlib.contextmanager
def _quiet_unraisable() -> Iterator[None]:
    """Silence "Exception ignored in ..." reports of half-opened h5py/h5netcdf files being
    garbage-collected after a failed open (the failure itself is reported as one line)."""
    import gc
    import sys

    previous = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        yield
    finally:
        gc.collect()
        sys.unraisablehook = previous


def describe(ds: xr.Dataset, path: str | Path | None = None) -> str:
    """Human-readable summary of a results Dataset: dims, variables, sweep values, provenance.

    Raises
    ------
    TypeError
        ``ds`` not an xarray Dataset (a path: read it with :func:`load_results`); ``path`` (the
        file's name, shown as the title) neither None nor a path.
    """
    check_results_dataset("describe", "ds", ds, data_array=(
        "describe the Dataset it came from (its attributes say how it was computed)"))
    if path is not None:
        v.path("path", path)
    lines = [f"{path}" if path is not None else "results"]
    a = ds.attrs
    if "name" in a:
        lines.append(f"  run: {a['name']!r}  finished: {'yes' if a.get('finished') else 'NO'}  "
                     f"schema {a.get('schema_version', '?')}")
    lines.append("  dimensions: " + ", ".join(f"{d}={n}" for d, n in ds.sizes.items()))
    lines.append("  coordinates:")
    for name, coord in ds.coords.items():
        vals = coord.values
        units = coord.attrs.get("units", "?")
        param = coord.attrs.get("parameter")
        if vals.size <= 8:
            shown = ", ".join(_fmt(x) for x in vals)
        elif vals.dtype.kind in "fiu":
            shown = f"{_fmt(vals.min())} .. {_fmt(vals.max())} ({vals.size} values)"
        else:
            shown = f"{_fmt(vals[0])}, ..., {_fmt(vals[-1])} ({vals.size} values)"
        where = f" <- {param}" if param else ""
        lines.append(f"    {name} [{units}]{where}: {shown}")
    lines.append("  variables:")
    for name, var in ds.data_vars.items():
        lines.append(f"    {name} ({', '.join(var.dims)}) [{var.attrs.get('units', '?')}] "
                     f"{var.dtype}")
    lines.append("  provenance:")
    # the usual keys first, then every other attribute stored in the file (BLAS, platform,
    # Python version, and whatever later versions or other tools add), the spec last
    shown = {"title", "name", "finished", "schema_version", "spec"}
    order = [k for k in _PROVENANCE_ORDER if k in a]
    order += sorted(k for k in a if k not in shown and k not in _PROVENANCE_ORDER)
    notes = {**_ATTRIBUTE_NOTES, **_stretch_notes(a)}
    for key in order:
        lines.append(f"    {key}: {_shown_attribute(key, a[key])}{notes.get(key, '')}")
    if "spec" in a:
        lines.append(f"    spec: {_shown_attribute('spec', a['spec'])}")
    return "\n".join(lines)


#: Longest text :func:`describe` shows of one attribute; a longer one is cut, saying where the
#: whole text is (a 6400-point sweep printed 190 KB, one line of 115 000 characters; session 49).
ATTRIBUTE_CHARACTERS = 2000


def _shown_attribute(key: str, value: Any) -> str:
    """An attribute as :func:`describe` shows it: the solver routes counted, the spec's long
    lists shortened as the coordinates are, any other text cut at ATTRIBUTE_CHARACTERS."""
    text = _fmt(value)
    if key == "solver_routes":
        with contextlib.suppress(TypeError, ValueError):
            routes = json.loads(text)
            if isinstance(routes, list) and routes and all(isinstance(r, str) for r in routes):
                counts = Counter(routes)
                if len(counts) == 1:
                    return f"{routes[0]} (every one of {len(routes)} sweep point(s))"
                # which points, not only how many (a mixed "auto" sweep; a break test, 54)
                return "; ".join(f"{route} ({count} point(s): "
                                 f"{_index_ranges([i for i, r in enumerate(routes) if r == route])})"
                                 for route, count in counts.items())
    if key == "realisation_warnings":
        with contextlib.suppress(TypeError, ValueError, KeyError, AttributeError):
            raised = json.loads(text)
            if not raised:
                return "none"
            return "; ".join(f"{r['category']} from {r['realisations']} realisation(s), first "
                             f"{r['first']}: {r['message']}" for r in raised)
    if key == "spec" and len(text) > 200:
        with contextlib.suppress(TypeError, ValueError):
            parsed = json.loads(text)
            short = _short_lists(parsed)
            if short != parsed:  # the stored text is compact JSON; so is the shortened one
                text = json.dumps(short, separators=(",", ":"))
    if len(text) > ATTRIBUTE_CHARACTERS:
        text = (f"{text[:ATTRIBUTE_CHARACTERS]} ... ({len(text)} characters in all; "
                f"load_results(path).attrs[{key!r}] holds the whole text)")
    return text


def _index_ranges(indices: list[int]) -> str:
    """Sweep point indices (C order) as ranges: [0, 1, 2, 5] -> 'points 0-2, 5'."""
    runs: list[str] = []
    start = previous = indices[0]
    for index in [*indices[1:], None]:
        if index is not None and index == previous + 1:
            previous = index
            continue
        runs.append(f"{start}-{previous}" if previous > start else f"{start}")
        if index is not None:
            start = previous = index
    return ("point " if len(indices) == 1 else "points ") + ", ".join(runs)


def _short_lists(value: Any) -> Any:
    """``value`` (parsed JSON) with every list of more than 8 numbers or strings shown as its
    first two, '...', its last and the count."""
    if isinstance(value, dict):
        return {k: _short_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) > 8 and all(isinstance(x, int | float | str) for x in value):
            return [*value[:2], "...", value[-1], f"({len(value)} values)"]
        return [_short_lists(v) for v in value]
    return value


#: What an attribute counts, where its name alone misleads: 'tasks' are (sweep point,
#: realisation) pairs there, while a task of the run is a chunk of realisations (session 35).
_ATTRIBUTE_NOTES = {"tasks_total": " (realisations over every sweep point)",
                    "tasks_resumed": " (realisations taken from a checkpoint)"}


def _stretch_notes(attrs: Mapping[str, Any]) -> dict[str, str]:
    """Notes on the attributes of a run that was resumed: n_jobs, backend and wall_time_s are
    its last stretch's, and a result computed by several code versions says so (session 37)."""
    notes: dict[str, str] = {}
    try:
        stretches = json.loads(attrs.get("run_stretches", "[]"))
        versions = json.loads(attrs.get("code_versions", "[]"))
    except (TypeError, ValueError):
        return notes
    if isinstance(stretches, list) and len(stretches) > 1:
        last = f" (the last of {len(stretches)} stretches of the run; see run_stretches)"
        notes.update(dict.fromkeys(("n_jobs", "backend", "scheduler", "wall_time_s"), last))
        unknown = sum(1 for s in stretches if isinstance(s, dict) and s.get("wall_time_s") is None)
        notes["wall_time_total_s"] = f" (over the {len(stretches)} stretches" + (
            f"; a lower bound: {unknown} killed before any task finished, its time unknown)"
            if unknown else ")")
    if isinstance(versions, list) and len(versions) > 1:
        shown = ", ".join(f"{v.get('manybody_version')} ({str(v.get('git_commit'))[:12]}"
                          + (", uncommitted changes" if v.get("git_dirty") else "")
                          + f"): {v.get('realisations')}" for v in versions if isinstance(v, dict))
        mixed = (f" (MIXED: realisations computed by {len(versions)} code versions, {shown}; "
                 "see code_versions)")
        notes["manybody_version"] = mixed
        notes["git_commit"] = " (MIXED: see manybody_version and code_versions)"
    return notes


#: Order of the provenance lines of :func:`describe` (other attributes follow, sorted).
_PROVENANCE_ORDER = (
    "created", "host", "platform", "python_version", "manybody_version", "git_commit",
    "git_dirty", "numpy_version", "scipy_version", "quspin_version", "xarray_version",
    "joblib_version", "seed", "spawn_scheme", "n_jobs", "backend", "scheduler", "blas_threads",
    "blas", "wall_time_s", "wall_time_total_s", "tasks_total", "tasks_resumed",
    "code_versions", "run_stretches", "sweep_axes", "solver_routes", "chebyshev_options",
    "realisation_warnings", "spec_sha256",
)


def _fmt(x: Any) -> str:
    if isinstance(x, float | np.floating):
        return f"{float(x):.6g}"
    return str(x.item() if isinstance(x, np.generic) else x)
