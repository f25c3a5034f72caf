"""|T_mn|^2 statistics of the study: the mean squared stress matrix element against E_m and w_mn
for three representative systems, pooled from their results files (written to
``matrix_elements.nc``, drawn by the figures).

Each system is an ordinary run of the sweep runner (``study/specs/matrix_elements_*.toml``: seeded,
checkpointed, written atomically with provenance) whose observables "stress_squared_sum" and
"pair_count" hold, per realisation, the sum of |T_mn|^2 and the number of pairs in each
(E_m - E_0, w_mn) bin. Here they are pooled over realisations with a ratio estimator.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from manybody.runs.results import dataset_spec, load_results, realised, save_results
from manybody.support import validate

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

#: Bins of the matrix-element figure with fewer pairs than this are left out (their mean is noise).
MATRIX_ELEMENT_MIN_PAIRS = 20
#: Bumped when the matrix-element file gains variables, so an older file is pooled again.
MATRIX_ELEMENT_VERSION = 4


def pooled_statistics(totals: np.ndarray, pairs: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean |T_mn|^2 per bin over realisations, its standard error and the pair count.

    Parameters
    ----------
    totals, pairs : numpy.ndarray
        (realisation, n_E, n_w) sum of |T_mn|^2 and number of pairs per bin, per realisation.

    Returns
    -------
    mean, error, count : numpy.ndarray
        (n_E, n_w): pooled mean |T_mn|^2 divided by its mean over the bins, the standard error of
        that ratio from the scatter between realisations (linearised ratio estimator with the
        realisations as the independent units, the normalisation's own scatter included; NaN with
        one realisation), and the pairs over all realisations. Bins whose mean is
        at round-off level (no allowed transition) or with fewer than
        ``MATRIX_ELEMENT_MIN_PAIRS`` pairs are NaN in mean and error.
    """
    totals, pairs = _binned("totals", totals), _binned("pairs", pairs)
    if totals.shape != pairs.shape:
        raise ValueError(f"totals and pairs must have one shape, got {totals.shape} and {pairs.shape}")
    total, count = totals.sum(0), pairs.sum(0)
    n = totals.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        scale = np.nanmean(mean)
        ratio = mean / scale
        if n > 1:
            # Linearised (delta-method) error of the plotted ratio mean_b / scale, where the scale
            # is the mean over bins of the same realisations (Cochran 1977, section 6.3; as
            # study/normalised_curves.py): each realisation's influence on a bin's pooled mean is
            # (T_rb - mean_b C_rb) / mean_r(C_rb); a level common to the bins cancels in the ratio.
            influence = (totals - mean * pairs) / (count / n)
            binned = np.isfinite(mean)
            influence_scale = (np.where(binned, influence, 0.0).sum(axis=(1, 2))
                               / max(int(binned.sum()), 1))
            influence_ratio = (influence - ratio * influence_scale[:, None, None]) / scale
            error = influence_ratio.std(axis=0, ddof=1) / np.sqrt(n)
        else:
            error = np.full_like(mean, np.nan)
    mean = ratio
    drop = ~(mean > 1e-12) | (count < MATRIX_ELEMENT_MIN_PAIRS)  # round-off level or too few
    mean[drop] = np.nan
    error[drop] = np.nan
    return mean, error, count


def _binned(name: str, value) -> np.ndarray:
    """``value`` as an array of numbers of shape (realisation, n_E, n_w), else a one-line error
    naming ``name`` (None got "'NoneType' object has no attribute 'sum'"; bt195)."""
    validate.check_real_elements(name, value)
    arr = np.asarray(value)
    if arr.ndim != 3 or arr.shape[0] == 0:
        raise ValueError(f"{name} must have shape (realisation, n_E, n_w) with at least one "
                         f"realisation, got shape {arr.shape}")
    return arr


def _results(results) -> Mapping:
    """``results`` checked: a non-empty mapping of system label to xarray Dataset (a path got
    "'str' object has no attribute 'items'"; bt195)."""
    import xarray as xr  # heavy: only when the statistics are pooled

    validate.instance("results", results, Mapping, "a mapping of system label to results "
                      "Dataset", reader="load_results(path)")
    if not results:
        raise ValueError("results must hold at least one system's results Dataset, got an empty "
                         "mapping")
    for system, ds in results.items():
        validate.instance(f"results[{system!r}]", ds, xr.Dataset, "an xarray Dataset (a results "
                          "file)", reader="load_results(path)")
    return results


def _dataset(name: str, ds) -> xr.Dataset:
    """``ds`` if it is an xarray Dataset, else a one-line TypeError naming ``name``."""
    import xarray as xr

    return validate.instance(name, ds, xr.Dataset, "an xarray Dataset", reader="load_results(path)")


def _sources(results: Mapping[str, xr.Dataset]) -> str:
    """JSON {system: spec digest} of the results files a pooled file was made from."""
    return json.dumps({system: ds.attrs["spec_sha256"] for system, ds in results.items()})


def matrix_element_dataset(results: Mapping[str, xr.Dataset]) -> xr.Dataset:
    """|T_mn|^2 statistics against E_m and w_mn, pooled from the results files of the systems.

    The random-matrix scenario assumes the mean |T_mn|^2 depends on w_mn only.

    Parameters
    ----------
    results : Mapping[str, xarray.Dataset]
        System label -> results file of its run (no sweep axes; observables "stress_squared_sum"
        and "pair_count"; the same bins, N, seed and realisations in every system).

    Returns
    -------
    xarray.Dataset
        ``mean_square_stress`` (system, energy_bin, frequency): pooled mean |T_mn|^2 divided by its
        mean over the bins of that system; ``standard_error``: its standard error (see
        :func:`pooled_statistics`); ``pair_count``: number of (m, n) pairs in the bin over all
        realisations.
    """
    import xarray as xr  # heavy: only when the statistics are pooled

    _results(results)
    specs = {system: dataset_spec(ds) for system, ds in results.items()}
    first = next(iter(specs.values()))
    for system, spec in specs.items():
        if spec.sweep:
            raise ValueError(f"matrix-element run {spec.name!r} ({system}) must have no sweep axes")
        if (spec.probe.matrix_element_bins, spec.model.n_tls, spec.seed, spec.realisations) != (
                first.probe.matrix_element_bins, first.model.n_tls, first.seed, first.realisations):
            raise ValueError(f"matrix-element run {spec.name!r} ({system}) differs from "
                             f"{first.name!r} in bins, N, seed or realisations")
    means, errors, counts = [], [], []
    for ds in results.values():
        point = realised(ds)
        mean, error, count = pooled_statistics(point["stress_squared_sum"].values,
                                               point["pair_count"].values)
        means.append(mean)
        errors.append(error)
        counts.append(count)
    energy_edges = np.asarray(first.probe.matrix_element_bins.energy)
    frequency_edges = np.asarray(first.probe.matrix_element_bins.frequency)
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
        coords={"system": list(results),
                "energy_bin": ("energy_bin", [f"{a:g}-{b:g} K" for a, b in
                                              zip(energy_edges[:-1], energy_edges[1:], strict=True)]),
                "frequency": ("frequency", centres, {"units": "K"})},
        attrs={"description": "E_m - E_0 bins (energy_bin) and w_mn = E_m - E_n (frequency); bins "
               f"with fewer than {MATRIX_ELEMENT_MIN_PAIRS} pairs or a round-off-level mean are NaN",
               "n_tls": first.model.n_tls, "seed": first.seed,
               "realisations": int(first.max_realisations),
               "min_pairs": MATRIX_ELEMENT_MIN_PAIRS, "version": MATRIX_ELEMENT_VERSION,
               "sources": _sources(results)})


def is_matrix_element_file(ds: xr.Dataset) -> bool:
    """Whether ``ds`` is pooled |T_mn|^2 statistics (:func:`matrix_element_dataset`)."""
    _dataset("ds", ds)
    return "mean_square_stress" in ds.data_vars and "sources" in ds.attrs


def describe_matrix_elements(ds: xr.Dataset, path: str) -> str:
    """Human-readable summary of a pooled ``matrix_elements.nc`` (what ``manybody info`` prints).

    Parameters
    ----------
    ds : xarray.Dataset
        As written by :func:`write_matrix_elements`.
    path : str
        The file's name as the user gave it.
    """
    _dataset("ds", ds)
    validate.path("path", path)
    a = ds.attrs
    counts = ds["pair_count"].values
    filled = np.isfinite(ds["mean_square_stress"].values)
    lines = [f"{path}: |T_mn|^2 statistics pooled by manybody study (format version "
             f"{a.get('version', '?')}), not a run's results file",
             f"  N = {a.get('n_tls', '?')} TLS, seed {a.get('seed', '?')}, "
             f"{a.get('realisations', '?')} realisations per system",
             f"  energy bins (E_m - E_0): {', '.join(map(str, ds['energy_bin'].values))}",
             f"  frequency bins (w_mn, centres): {ds['frequency'].size} from "
             f"{float(ds['frequency'].min()):.3g} to {float(ds['frequency'].max()):.3g} K",
             "  systems (pairs counted; bins with a mean, of all bins):"]
    for i, system in enumerate(ds["system"].values):
        lines.append(f"    {system}: {int(counts[i].sum())} pairs; {int(filled[i].sum())} of "
                     f"{filled[i].size} bins (fewer than {a.get('min_pairs', '?')} pairs or a "
                     "round-off-level mean: NaN)")
    try:
        sources = json.loads(a.get("sources", "{}"))
    except ValueError:
        sources = {}
    if sources:
        lines.append("  made from the runs (system: spec sha256): "
                     + "; ".join(f"{k}: {str(v)[:12]}" for k, v in sources.items()))
    return "\n".join(lines)


def matrix_elements_reusable(path: Path, results: Mapping[str, xr.Dataset]) -> bool:
    """True when ``path`` holds statistics of this version pooled from exactly these runs."""
    path = Path(validate.path("path", path))
    _results(results)
    if not path.is_file():
        return False
    try:  # a damaged file (its checksum, session 48) is computed again
        a = load_results(path).attrs
        return (int(a.get("version", 0)) == MATRIX_ELEMENT_VERSION
                and a.get("sources") == _sources(results))
    except (OSError, ValueError):
        return False


def write_matrix_elements(path: Path, results: Mapping[str, xr.Dataset]) -> None:
    """Pool the runs with :func:`matrix_element_dataset` and write the result to ``path``
    atomically, with the checksum of a results file (:func:`manybody.runs.results.save_results`)."""
    validate.path("path", path)
    save_results(matrix_element_dataset(results), path, overwrite=True)
