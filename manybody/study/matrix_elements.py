"""|T_mn|^2 statistics of the study: the mean squared stress matrix element against E_m and w_mn
for three representative systems (written to ``matrix_elements.nc``, drawn by the figures).

Computed here, outside the sweep runner, for now; they become an ordinary sweep run once the
observable registry can hold them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from manybody.config.model import CouplingParams, ModelParams, RandomMatrixParams, StressParams, TLSParams
from manybody.simulation.ensembles import draw_realisation, realisation_rng
from manybody.simulation.observables.statistics import matrix_element_statistics
from manybody.simulation.solvers.dense import solve
from manybody.support.files import atomic_destination

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
    import xarray as xr  # heavy: only when the statistics are computed

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


def matrix_elements_reusable(path: Path, n_tls: int, realisations: int) -> bool:
    """True when ``path`` holds finished matrix-element statistics of the same size and version."""
    if not path.is_file():
        return False
    import xarray as xr  # heavy: only when a file is there to check

    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            a = ds.attrs
            return (int(a.get("n_tls", -1)) == n_tls and int(a.get("realisations", -1)) == realisations
                    and int(a.get("version", 0)) == MATRIX_ELEMENT_VERSION)
    except (OSError, ValueError):
        return False




def write_matrix_elements(path: Path, n_tls: int, realisations: int) -> None:
    """Compute :func:`matrix_element_dataset` and write it to ``path`` atomically."""
    ds = matrix_element_dataset(n_tls=n_tls, realisations=realisations)
    with atomic_destination(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")
