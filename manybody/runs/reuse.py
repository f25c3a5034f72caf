"""Reuse of finished realisations of identical sweep points across runs.

A realisation's numbers depend only on the sweep point (its model and probe), the run's seed, its
solver, ``blas_threads`` and the realisation index r (``SeedSequence(seed, spawn_key=(r,))``), never
on the run it belongs to or on the point's position in the sweep (:mod:`manybody.runs.sweep`). Two
runs that share a point therefore compute the same realisations twice. :func:`seed_checkpoint`
copies them from a finished results Dataset into the checkpoint of the run about to start, which
then computes only the rest: the results are bit for bit those of a run from scratch (tested), at
the cost of reading the donor's arrays.

The built-in study uses it: its lambda, tunnelling-minimum and two-body-stress sweeps contain
points of the dipolar sweep (4600 of the default study's N = 8 realisations; 5400 with the
optional finite-size spec).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from manybody.runs.checkpoint import Checkpoint, checkpoint_dir, stretch_record
from manybody.runs.results import dataset_spec
from manybody.runs.spec import RunSpec, model_to_dict, probe_to_dict

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

    from manybody.config.model import ModelParams
    from manybody.config.probe import Probe

__all__ = ["point_identity", "seed_checkpoint"]


def point_identity(spec: RunSpec, model: ModelParams, probe: Probe, blas_threads: int = 1) -> str:
    """Everything that fixes the realisations of one sweep point, as canonical JSON.

    Two points with the same identity give bit-identical realisation r for every r. Values are
    compared as written (a coupling of strength 0 of one kind is not identified with no coupling).
    """
    return json.dumps({"seed": spec.seed, "model": model_to_dict(model),
                       "probe": probe_to_dict(probe), "solver": spec.solver.to_dict(),
                       "blas_threads": int(blas_threads)}, sort_keys=True, separators=(",", ":"))


def _donor_points(donors: Iterable[xr.Dataset]) -> dict[str, tuple[xr.Dataset, tuple[int, ...], int]]:
    """identity -> (donor Dataset, point index, finished realisations); the first donor holding
    the most realisations of a point wins."""
    found: dict[str, tuple[xr.Dataset, tuple[int, ...], int]] = {}
    for ds in donors:
        spec = dataset_spec(ds)
        counts = spec.realisation_counts
        blas_threads = int(ds.attrs.get("blas_threads", 1))
        for index, model, probe in spec.points():
            key = point_identity(spec, model, probe, blas_threads)
            count = int(counts[index])
            if count and (key not in found or found[key][2] < count):
                found[key] = (ds, index, count)
    return found


def seed_checkpoint(spec: RunSpec, output: str | Path, donors: Iterable[xr.Dataset],
                    blas_threads: int = 1) -> dict[str, int]:
    """Copy the realisations of ``spec``'s points that finished results already hold into the
    checkpoint of ``output``, so that :func:`~manybody.runs.sweep.run_sweep` computes only the rest.

    Parameters
    ----------
    spec : RunSpec
        The run about to start.
    output : str or Path
        Its results file (the checkpoint is ``<output>.checkpoint``; created if absent, and
        refused as usual if it belongs to another spec).
    donors : iterable of xarray.Dataset
        Finished results (with their ``spec`` attribute), e.g. earlier runs of a study.
    blas_threads : int
        BLAS threads of the run about to start (a donor computed with others is not used).

    Returns
    -------
    dict
        Donor run name -> realisations copied from it (empty when nothing matched). Realisations
        the checkpoint already holds are not copied again.
    """
    found = _donor_points(donors)
    wanted = {}
    counts = spec.realisation_counts
    for flat, (index, model, probe) in enumerate(spec.points()):
        match = found.get(point_identity(spec, model, probe, blas_threads))
        if match is not None and counts[index]:
            wanted[flat] = (*match, min(int(counts[index]), match[2]))
    if not wanted:
        return {}
    checkpoint = Checkpoint(checkpoint_dir(output), spec, blas_threads)
    checkpoint.open(_copy_record(None))
    own = checkpoint.stretch
    copied: dict[str, int] = {}
    donors_seen: dict[int, int] = {}  # id(donor) -> its stretch in the checkpoint
    try:
        held = checkpoint.files().values()
        names = [*spec.probe.observables]
        for point, (ds, index, _, count) in wanted.items():
            have = {r for p, start, stop in held if p == point for r in range(start, stop)}
            if all(r in have for r in range(count)):
                continue
            arrays = {name: np.asarray(ds[name].values[index][:count])
                      for name in (*names, *(f"{n}_error" for n in names))
                      if name in ds.data_vars}
            if id(ds) not in donors_seen:  # its realisations are the donor's code's (session 37)
                checkpoint.meta["stretches"].append(_copy_record(ds))
                donors_seen[id(ds)] = len(checkpoint.meta["stretches"]) - 1
            checkpoint.stretch = donors_seen[id(ds)]
            checkpoint.write(point, 0, arrays)
            copied[ds.attrs.get("name", "?")] = copied.get(ds.attrs.get("name", "?"), 0) + count
        if donors_seen:  # the meta file gets the donors' records
            checkpoint.stretch = own
            checkpoint.end_stretch(0.0, 0, "copied")
    finally:
        checkpoint.close()
    return copied


def _copy_record(donor: xr.Dataset | None) -> dict:
    """The stretch record of realisations copied from ``donor`` (its code version, as its file
    records it), or of the copying itself (None: this code, nothing computed)."""
    record = stretch_record()
    record.update(backend=None, outcome="copied", tasks_computed=0, wall_time_s=0.0)
    if donor is not None:
        a = donor.attrs
        version, commit = str(a.get("manybody_version", "unknown")), str(a.get("git_commit",
                                                                                "unknown"))
        record.update(code=f"{version} ({commit})", manybody_version=version, git_commit=commit,
                      git_dirty=str(a.get("git_dirty", "unknown")), tasks_computed=None,
                      outcome=f"copied from the finished results of {a.get('name', '?')!r}")
    return record
