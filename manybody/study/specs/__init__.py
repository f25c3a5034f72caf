"""The shipped run specifications of the study (``<name>.toml`` in this folder) and their sizes.

Sizes: the default takes about 14 minutes of wall time on a quiet 2-core machine (measured: 13.8
min, 1615 CPU-s; other jobs stretch it in proportion to the load); ``full`` is for bigger machines (N = 12,
finite-size check up to N = 14); ``tiny`` is a seconds-long smoke run for tests. A size is the
shipped spec resized with :meth:`RunSpec.resized`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

import numpy as np

from manybody.runs.spec import RunSpec, temperature_grid
from manybody.study.catalogue import ALL_SPECS, SIZES, VELOCITY_SPECS
from manybody.study.catalogue import STUDY_SPECS as STUDY_SPECS  # re-exported
from manybody.support import validate as v

#: Shipped specifications, in the order of the summary table.
#: Shipped |T_mn|^2 statistics runs (``<name>.toml``) -> the system they stand for, in the order
#: of the matrix-element figure; pooled by :mod:`manybody.study.matrix_elements`.
MATRIX_ELEMENT_SPECS = {
    "matrix_elements_independent": "independent TLS",
    "matrix_elements_dipolar": "dipolar J0 = 0.1 K",
    "matrix_elements_flat_block": "flat random block",
}
#: (N, realisations) of the matrix-element runs in a "tiny" study (default and full: as shipped).
TINY_MATRIX_ELEMENTS = (4, 3)
#: Finite-size check of the "full" study: sizes, and realisations n(N) = scale / N. The default run
#: measured (TLS-index error)^2 ~ 42 / (n N) at N = 6, 8, 10 (each realisation averages over N
#: TLS), so scale = 16800 aims at errors of about 0.05 at every N.
FULL_FINITE_SIZES = (8, 10, 12, 14)
FULL_FINITE_SIZE_ERROR_SCALE = 16800
#: N of the velocity-slope specs in a "full" study (default N = 4; their noise is set by the number
#: of TLS samples, see relaxation.toml): N = 8 with twice the realisations, about 5 CPU-hours
#: (relaxation) and 0.8 CPU-hours (relaxation_admixture) at ~0.45 CPU-s per realisation.
FULL_VELOCITY_N_TLS = 8
#: Temperatures of a "tiny" run whose spec gives a temperature grid.
TINY_TEMPERATURES = 13


def load_study_spec(name: str, size: str = "default") -> RunSpec:
    """Read a shipped study specification, resized for ``size``.

    Parameters
    ----------
    name : str
        One of ``STUDY_SPECS`` or ``OPTIONAL_SPECS`` (``manybody.study.catalogue``).
    size : {"tiny", "default", "full"}
        "tiny": N <= 5, 6 realisations (6, 8, ... where the default has per-point counts), two
        values per axis, 13 temperatures (tests; 4 per octave on the shipped x grid).
        "full": N = 12 (N = 8 for the velocity specs) with twice the realisations (per point);
        finite-size check at
        N = 8..14 with 16800 / N realisations (TLS-index errors ~0.05). Roughly 700 CPU-hours
        (18 CPU-s per realisation at N = 12, 530 at N = 14): a cluster job.
    """
    # None or a list got "study spec must be one of ...", a path the whole list (bt187)
    v.choice("name", name, ALL_SPECS)
    data = _read(name, size)
    spec = RunSpec.from_dict(data)
    if size == "tiny":
        return _tiny(spec, data["probe"]["temperatures"])
    if size == "full":
        return _full(spec, FULL_VELOCITY_N_TLS if name in VELOCITY_SPECS else 12)
    return spec


def load_matrix_element_spec(name: str, size: str = "default") -> RunSpec:
    """Read a shipped |T_mn|^2 statistics run: as shipped (N = 8, 24 realisations) for the
    "default" and "full" sizes, N and realisations ``TINY_MATRIX_ELEMENTS`` for "tiny".

    Parameters
    ----------
    name : str
        One of ``MATRIX_ELEMENT_SPECS``.
    size : {"tiny", "default", "full"}
    """
    v.choice("name", name, MATRIX_ELEMENT_SPECS)
    spec = RunSpec.from_dict(_read(name, size))
    if size == "tiny":
        n_tls, realisations = TINY_MATRIX_ELEMENTS
        return spec.resized(n_tls=n_tls, realisations=realisations)
    return spec


def _read(name: str, size: str) -> dict[str, Any]:
    """The TOML of a shipped spec, after checking ``size``."""
    v.choice("size", size, SIZES)
    return tomllib.loads(resources.files(__name__).joinpath(f"{name}.toml").read_text())


def _tiny(spec: RunSpec, temperatures: Any) -> RunSpec:
    """N <= 5, the last two values of each axis (N = 3..5 for an N axis), 6 realisations (6, 8,
    ... per point where the spec has per-point counts, so the tiny run exercises them too), 13
    temperatures of the spec's grid (every other one of an explicit list)."""
    sweep = {key: (list(range(3, 6)) if key == "model.n_tls" else list(values[-2:]))
             for key, values in spec.sweep.items()}
    shape = tuple(len(values) for values in sweep.values())
    realisations = (6 if isinstance(spec.realisations, int)
                    else (6 + 2 * np.arange(int(np.prod(shape)))).reshape(shape).tolist())
    if isinstance(temperatures, Mapping):
        grid = temperature_grid(spec.probe.frequencies[0], temperatures["x_min"],
                                temperatures["x_max"], TINY_TEMPERATURES)
    else:
        grid = spec.probe.temperatures[::2]
    return spec.resized(n_tls=min(spec.model.n_tls, 5), sweep=sweep, realisations=realisations,
                        temperatures=grid)


def _full(spec: RunSpec, n_tls: int = 12) -> RunSpec:
    """N = ``n_tls`` with twice the realisations; the finite-size axis at ``FULL_FINITE_SIZES``
    with ``FULL_FINITE_SIZE_ERROR_SCALE / N`` realisations."""
    counts = 2 * np.asarray(spec.realisations)
    if "model.n_tls" in spec.sweep:
        counts = np.array([FULL_FINITE_SIZE_ERROR_SCALE // n for n in FULL_FINITE_SIZES])
    sweep = {key: (list(FULL_FINITE_SIZES) if key == "model.n_tls" else list(values))
             for key, values in spec.sweep.items()}
    return spec.resized(n_tls=n_tls, sweep=sweep, realisations=counts.tolist())
