"""Run specifications: what a sweep computes, read from TOML or built in Python.

A :class:`RunSpec` fixes everything that determines the numbers of a sweep: a base model, the
swept parameters and their values (a cartesian product of axes), the number of disorder
realisations, the seed, the probe (temperatures, frequencies, line kernel, observables) and the
solver options. It is validated when built; unknown keys are rejected with the list of valid ones.
Types are strict (see :mod:`manybody.support.validate`): numbers must be TOML numbers, not strings or
booleans, and counts (``n_tls``, ``seed``, ``realisations``, ``count``, ...) must be TOML
integers (``4``, not ``4.0``). :func:`preflight` (called first by
:func:`manybody.runs.sweep.run_sweep`) checks every sweep point against its solver and this machine's
memory before anything is computed or written.

Example TOML::

    name = "coupling-sweep"
    seed = 1234
    realisations = 16
    [model]
    n_tls = 8
    [model.coupling]
    kind = "dipolar"
    strength = 0.0
    [sweep]
    "model.coupling.strength" = [0.0, 0.01, 0.05]
    [probe]
    frequencies = [0.1]                                        # K
    temperatures = { x_min = 0.2, x_max = 10.0, count = 25 }   # T = frequencies[0] / x
    observables = ["absorption", "specific_heat"]
    [probe.broadening]
    kind = "gaussian"
    width = 0.004
    [solver]
    dtype = "float64"
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import os
import re
import tomllib
import unicodedata
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from manybody.config.keys import spec_keys
from manybody.config.model import (
    CouplingParams,
    EquilibrationParams,
    ModelParams,
    RandomMatrixParams,
    StressParams,
    TLSParams,
)
from manybody.config.probe import (
    DEFAULT_OBSERVABLES,
    OBSERVABLE_DIMS,
    OBSERVABLES,
    RELATIVE_WIDTH_LIMIT,
    Broadening,
    MatrixElementBins,
    Probe,
    SaturationDrive,
    WideKernelWarning,
)
from manybody.config.solver import ChebyshevParams, SolverParams
from manybody.config.unused import STRESS_FREE_OBSERVABLES, UnusedParameterWarning, unused_parameters
from manybody.simulation.equilibration import check_equilibration, warn_if_all_frozen
from manybody.simulation.observables.absorption import warn_if_far_above_spectrum
from manybody.simulation.observables.saturation import warn_if_beyond_rotating_wave
from manybody.simulation.solvers import SOLVERS, solver_for, solver_route
from manybody.simulation.solvers.memory import available_memory
from manybody.support import validate as v
from manybody.support.paths import refuse_text_as_path

#: Model sections and their parameter classes (keys of ``[model.<section>]``).
MODEL_SECTIONS: dict[str, type] = {
    "tls": TLSParams,
    "coupling": CouplingParams,
    "random_matrix": RandomMatrixParams,
    "stress": StressParams,
    "equilibration": EquilibrationParams,
}
#: Top-level keys of a run specification.
TOP_LEVEL_KEYS = ("name", "seed", "realisations", "model", "sweep", "probe", "solver")
#: Keys of ``[probe]``.
PROBE_KEYS = ("frequencies", "temperatures", "observables", "broadening", "phonon_rate_prefactor",
              "matrix_element_bins", "saturation")
#: Keys of ``[probe.matrix_element_bins]``, and of the log-spaced table form of one of its edges.
MATRIX_ELEMENT_BIN_KEYS = ("energy", "frequency")
LOG_EDGES_KEYS = ("min", "max", "count")
#: Keys of the ``probe.temperatures`` table form.
TEMPERATURE_GRID_KEYS = ("x_min", "x_max", "count")
#: A message of ModelParams that names a key of its own (tls.x, stress.x, n_tls, ...): in a run
#: specification the key is model.tls.x (a new user, session 34: a typo was "in model.tls", a
#: bad value "tls.asymmetry_max").

#: Units of numeric sweepable parameters (dotted path without the leading "model."/"probe.").
PARAMETER_UNITS: dict[str, str] = {
    "n_tls": "1",
    "tls.asymmetry_max": "K",
    "tls.tunnelling_min": "K",
    "tls.tunnelling_max": "K",
    "coupling.strength": "K",
    "coupling.min_distance": "r0",
    "random_matrix.weight": "K",
    "random_matrix.growth_temperature": "K",
    "stress.deformation_potential": "K per unit strain",
    "stress.two_body": "K per unit strain",
    "stress.random_matrix": "K per unit strain",
    "stress.eth_energy_scale": "K",
    "equilibration.measurement_time": "s",
    "broadening.width": "K",
    "broadening.resolution": "1",
    "saturation.dephasing_rate": "s^-1",
}
#: Largest number of realisations a spec accepts.
MAX_REALISATIONS = 10**7
MAX_SEED = v.MAX_SEED  #: seeds fit a signed 64-bit integer (stored as file attributes)
#: Most sweep points a run takes (every point is validated when the spec is read, ~20 us each;
#: 9e6 points took 157 s before any message, session 31).
MAX_SWEEP_POINTS = 10**6
#: The results are held about three times at the end of a run: the finished realisations, the
#: stacked arrays (:func:`manybody.runs.tasks.stack_results`) and the encoded netCDF file. Measured
#: (session 49: 1000 temperatures x 1000 frequencies x 25-50 realisations) the peak is 2.0-2.1
#: times the results above the process's own 0.3 GB, since the realisations are released as they
#: are stacked and the file is sealed in place; 4.6 times before, which let a run the preflight
#: passed fail for memory after all its work (a break test).
RESULTS_COPIES = 3
#: One realisation's arrays are held about five times while it is computed (the line kernel's
#: temperature x frequency intermediates; 0.77 GB peak for 0.14 GB of output, N = 10, 3000 x 3000).
WORKING_COPIES = 5
#: Bytes of bookkeeping per finished realisation besides its arrays' data, plus per array: the
#: run's (point, realisation) keys, what is pending, and one dict of array views per realisation
#: until the end (:class:`manybody.runs.sweep._RunState`). Measured with tracemalloc (session
#: 62): 567, 705, 983 and 1627 bytes for 1, 2, 4 and 8 arrays of one number. 3e7 realisations of
#: one number each passed the results check (0.7 GB) and grew to 5 GB while the tasks were still
#: being planned (a tester, bt218 F2).
REALISATION_OVERHEAD = 450
ARRAY_OVERHEAD = 150
#: How realisation r gets its random numbers (stored in every results file).
SPAWN_SCHEME = (
    "realisation r uses numpy.random.default_rng(numpy.random.SeedSequence(seed, spawn_key=(r,))); "
    "the same r gives the same disorder at every sweep point, for any worker count or backend"
)


def _field_defaults(cls: type) -> dict[str, Any]:
    return {f.name: f.default for f in dataclasses.fields(cls) if f.init}


def _sweepable() -> dict[str, Any]:
    """Dotted sweep keys -> the default value of that field (for type coercion)."""
    keys: dict[str, Any] = {"model.n_tls": 1}
    for section, cls in MODEL_SECTIONS.items():
        for name, default in _field_defaults(cls).items():
            if isinstance(default, int | float | str):
                keys[f"model.{section}.{name}"] = default
    for name, default in _field_defaults(Broadening).items():
        keys[f"probe.broadening.{name}"] = default
    keys["probe.saturation.dephasing_rate"] = 0.0
    return keys


#: Parameters that may be swept: dotted path -> default value (its type is the expected type).
SWEEPABLE: dict[str, Any] = _sweepable()


#: Longest run name: it goes into messages, file metadata and figure titles.
MAX_NAME_LENGTH = 200


def _check_name(name: str) -> None:
    """A run name must be printable text: a NUL or other control character (a TOML escape such as
    "\\u0000") passed validation and failed only at the netCDF write, after all the work (session
    31), and a newline would break the one-line messages."""
    bad = [c for c in name if unicodedata.category(c)[0] == "C"]
    if bad:
        raise ValueError(f"name must be printable text, got {name!r} (control or unassigned "
                         f"character {bad[0]!r}, U+{ord(bad[0]):04X})")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"name must be at most {MAX_NAME_LENGTH} characters, got "
                         f"{len(name)}: {name[:40]!r}...")


def axis_name(key: str) -> str:
    """Dimension name of a sweep axis: "model.coupling.strength" -> "coupling_strength".

    Parameters
    ----------
    key : str
        Dotted parameter path, e.g. "model.n_tls" or "probe.broadening.width".
    """
    v.string("key", key)
    for prefix in ("model.", "probe."):
        if key.startswith(prefix):
            key = key[len(prefix):]
            break
    return key.replace(".", "_")


#: Units of a relative kernel width (probe.broadening.scaling = "relative").
RELATIVE_WIDTH_UNITS = "1 (eta / w)"


def axis_units(key: str, spec: RunSpec | None = None) -> str:
    """Units of a swept parameter ("1" for counts and names); with ``spec``, the kernel width of a
    relative kernel is eta / w, not K (and both where the scaling is swept too), and a bath given
    as numbers is K_ph in s^-1 K^-3."""
    v.string("key", key)
    if "." not in key:
        raise ValueError(f"key must be a dotted parameter path such as 'model.n_tls', got {key!r}")
    if spec is not None:
        v.instance("spec", spec, RunSpec, "a RunSpec or None")
    units = PARAMETER_UNITS.get(key.split(".", 1)[1], "1")
    if key in _NAME_OR_NUMBER and spec is not None:  # a numeric bath was labelled '1' (session 36)
        numbers = [not isinstance(x, str) for x in spec.sweep.get(key, ())]
        if all(numbers):
            return BATH_UNITS
        if any(numbers):
            return f"{BATH_UNITS} for the numbers (K_ph); the names are material presets"
    if key == "probe.broadening.width" and spec is not None:
        scalings = set(spec.sweep.get("probe.broadening.scaling",
                                      [spec.probe.broadening.scaling]))
        if scalings == {"relative"}:
            return RELATIVE_WIDTH_UNITS
        if "relative" in scalings:
            return f"{units} or {RELATIVE_WIDTH_UNITS} (see probe.broadening.scaling)"
    return units


#: Sweepable parameters that take a name or a number.
_NAME_OR_NUMBER = ("model.equilibration.bath",)
#: Units of a numeric ``model.equilibration.bath``: the one-phonon rate prefactor K_ph.
BATH_UNITS = "s^-1 K^-3"


def _coerce(key: str, value: Any) -> Any:
    """Check one sweep value is a scalar of the parameter's type; ints become floats for floats."""
    default = SWEEPABLE[key]
    if isinstance(value, np.generic) and not isinstance(value, np.bool_ | np.complexfloating):
        # numpy scalars (a list built with np.arange; session 26), float32 as written
        value = v.written_numbers(value)
        value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"sweep[{key!r}] values must be numbers or strings, got {v._describe(value)}")
    if isinstance(value, float):  # -0.0 passed '>= 0' and was kept as '-0' (session 37)
        value = _without_negative_zero(value)
    if key in _NAME_OR_NUMBER:  # a preset name or a number (equilibration.bath: K_ph); the
        # parameter's own check decides (a numeric bath could not be swept: session 25)
        return float(value) if isinstance(value, int) else value
    if isinstance(default, float) and isinstance(value, int):
        return float(value)
    if isinstance(default, str) and not isinstance(value, str):
        raise TypeError(f"sweep[{key!r}] values must be strings, got {v._describe(value)}")
    if not isinstance(default, str) and isinstance(value, str):
        raise TypeError(f"sweep[{key!r}] values must be numbers, got {v._describe(value)}")
    return value


def _without_negative_zero(value: Any) -> Any:
    """``value`` with every float -0.0 in it (in tables and lists too) made 0.0: a negative zero
    passes a ``>= 0`` check and was stored and shown as '-0' (a sweep coordinate, a spec value;
    session 37). Other values are returned unchanged."""
    if isinstance(value, float):
        return 0.0 if value == 0.0 else value
    if isinstance(value, Mapping):
        return {key: _without_negative_zero(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_without_negative_zero(item) for item in value)
    return value


def _flatten_sweep(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Accept quoted dotted keys and (unquoted) nested TOML tables alike."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            nested = _flatten_sweep(value, f"{full}.")
        else:
            nested = {full: value}
        for k, val in nested.items():
            if k in flat:
                raise ValueError(f"sweep key {k!r} is given twice")
            flat[k] = val
    return flat


def _unknown_sweep_key(key: str) -> str:
    """The message for a sweep key that cannot be swept. Under a table that has sweepable keys
    (``model.tls.foo``) it lists that table's keys and suggests one of them only when close; the
    whole list suggested 'model.n_tls' for 'model.tls.foo', alike in their common 'model.'
    (a break test, bt196). Other keys get the whole list and a close spelling."""
    import difflib

    if any(k.startswith(f"{key}.") for k in SWEEPABLE):  # a table itself ('model.tls' got
        # "did you mean 'model.n_tls'"; a tester, bt207)
        return f"sweep key {key!r} " + _table_not_swept(key)
    parts = key.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        table = ".".join(parts[:cut])
        inside = [k for k in SWEEPABLE if k.startswith(f"{table}.")]
        if inside:
            rest = key[len(table) + 1:]
            close = difflib.get_close_matches(rest, [k[len(table) + 1:] for k in inside], n=1,
                                              cutoff=0.7)
            hint = f"; did you mean '{table}.{close[0]}' for {key!r}?" if close else ""
            return (f"unknown sweep key {key!r} in sweep; valid keys are {', '.join(inside)} "
                    f"(the sweepable keys of {table}){hint}")
    return v.unknown_keys([key], SWEEPABLE, "sweep").replace("unknown key(s)", "unknown sweep key", 1)


#: Probe keys that are axes of every sweep point, not sweep axes
_POINT_AXES = {"probe.frequencies": "the frequencies", "probe.temperatures": "the temperatures",
               "probe.observables": "the observables", "frequencies": "the frequencies",
               "temperatures": "the temperatures", "observables": "the observables"}

def normalise_sweep(sweep: Mapping[str, Any] | None) -> MappingProxyType:
    """Validate sweep axes: known keys, non-empty lists of scalars, no repeated values.

    Returns
    -------
    MappingProxyType
        Ordered mapping dotted key -> tuple of values.
    """
    if sweep is None:
        return v.frozen_mapping({})
    if not isinstance(sweep, Mapping):
        raise TypeError(
            f"sweep must be a table of parameter = [values], got {type(sweep).__name__}"
        )
    out: dict[str, tuple] = {}
    for key, values in _flatten_sweep(sweep).items():
        if key in _POINT_AXES:  # every point computes all of them (session 42: the message
            # listed the sweepable keys without saying so)
            raise ValueError(f"sweep key {key!r}: {_POINT_AXES[key]} are computed at every sweep "
                             f"point already (an axis of the results); list them in [probe] "
                             f"(probe.{key.split('.')[-1]} = [...]), not in [sweep]")
        if key not in SWEEPABLE:
            raise ValueError(_unknown_sweep_key(key))
        if isinstance(values, str | bytes) or not isinstance(values, list | tuple | np.ndarray):
            raise TypeError(f"sweep[{key!r}] must be a list of values, got {v._describe(values)}")
        if len(values) == 0:
            raise ValueError(f"sweep[{key!r}] must be a non-empty list of values, got []")
        coerced = tuple(_coerce(key, x) for x in (list(values.ravel()) if isinstance(
            values, np.ndarray) and values.dtype.kind == "f" else np.asarray(values).tolist()
            if isinstance(values, np.ndarray) else values))
        numeric = [x for x in coerced if isinstance(x, int | float) and not isinstance(x, bool)]
        repeats = v.near_repeats(numeric)  # the numbers of an axis mixing numbers and names too
        if len(set(coerced)) != len(coerced) or repeats:
            detail = f" ({v.describe_repeats(repeats)})" if repeats else ""
            raise ValueError(f"sweep[{key!r}] has repeated values: {list(coerced)!r}{detail}; "
                             "give each once")
        out[key] = coerced
    return v.frozen_mapping(out)


def temperature_grid(frequency: float, x_min: Any, x_max: Any, count: Any) -> tuple[float, ...]:
    """Temperatures T = frequency / x (K) for x log-spaced on [x_min, x_max], ascending in T.

    Parameters
    ----------
    frequency : float
        w (K), the first probe frequency.
    x_min, x_max : float
        Range of x = w / T (dimensionless), 0 < x_min <= x_max.
    count : int
        Number of temperatures (>= 1).
    """
    frequency = v.positive("frequency (K)", frequency)
    lo = v.positive("probe.temperatures.x_min", x_min)
    hi = v.positive("probe.temperatures.x_max", x_max)
    n = v.integer("probe.temperatures.count", count, 1, 100_000)
    if lo > hi or (n > 1 and lo == hi) or (n == 1 and lo != hi):
        raise ValueError(
            f"probe.temperatures needs x_min < x_max (x_min == x_max for count 1), got "
            f"x_min={x_min!r}, x_max={x_max!r}, count={n}"
        )
    v.check_log_spacing("probe.temperatures (x_min, x_max, count)", lo, hi, n)
    x = np.geomspace(hi, lo, n)
    return tuple(float(frequency / xi) for xi in x)


def log_edges(where: str, data: Mapping[str, Any]) -> tuple[float, ...]:
    """Bin edges log-spaced from ``min`` to ``max`` (K) for ``count`` bins (count + 1 edges)."""
    bad = sorted(set(map(str, data)) - set(LOG_EDGES_KEYS))
    missing = [k for k in LOG_EDGES_KEYS if k not in data]
    if bad or missing:
        raise ValueError(f"{where} table must have exactly the keys {', '.join(LOG_EDGES_KEYS)}; "
                         f"unknown {bad or 'none'}, missing {missing or 'none'}")
    lo = v.positive(f"{where}.min", data["min"])
    hi = v.positive(f"{where}.max", data["max"])
    n = v.integer(f"{where}.count", data["count"], 1, 100_000)
    if lo >= hi:
        raise ValueError(f"{where} needs min < max, got min={lo!r}, max={hi!r}")
    v.check_log_spacing(f"{where} (min, max, count)", lo, hi, n + 1)
    return tuple(float(x) for x in np.geomspace(lo, hi, n + 1))


def matrix_element_bins_from_dict(data: Any, where: str = "probe.matrix_element_bins"
                                  ) -> MatrixElementBins:
    """``[probe.matrix_element_bins]``: ``energy`` and ``frequency`` edges (K), each a list or a
    log-spaced table ``{min, max, count}`` (count bins)."""
    if not isinstance(data, Mapping):
        raise TypeError(f"{where} must be a table with keys energy and frequency, got {v._describe(data)}")
    unknown = sorted(set(map(str, data)) - set(MATRIX_ELEMENT_BIN_KEYS))
    missing = [k for k in MATRIX_ELEMENT_BIN_KEYS if k not in data]
    if unknown or missing:
        raise ValueError(f"{where} must have exactly the keys {', '.join(MATRIX_ELEMENT_BIN_KEYS)}; "
                         f"unknown {unknown or 'none'}, missing {missing or 'none'}")
    edges = {key: (log_edges(f"{where}.{key}", data[key]) if isinstance(data[key], Mapping)
                   else data[key]) for key in MATRIX_ELEMENT_BIN_KEYS}
    return MatrixElementBins(**edges)


def _elsewhere(unknown: list[str]) -> str:
    """Where keys given in the wrong table belong: "; did you mean probe.broadening.width for
    'width'?" (a key at the top of a spec was met with the top-level keys alone; session 40).
    Empty when none of them is a key of another table."""
    known = [*SWEEPABLE, *(f"probe.{key}" for key in PROBE_KEYS),
             *(f"solver.{f.name}" for f in dataclasses.fields(SolverParams) if f.init),
             *(f"solver.chebyshev.{f.name}" for f in dataclasses.fields(ChebyshevParams)
               if f.init)]
    found = [f"{' or '.join(places)} for {key!r}" for key in unknown
             if (places := sorted({k for k in known if k.rsplit(".", 1)[-1] == key}))]
    return f"; did you mean {', '.join(found)}?" if found else ""


def _refuse_keys_placed_elsewhere(table: Any, valid: list[str], where: str) -> None:
    """Refuse keys of ``where`` that belong to another table, naming it ('strength' in [model]:
    did you mean model.coupling.strength?; a tester, session 41: only the top level and [probe]
    said so). Other unknown keys are left to the table's own reader (its close spelling)."""
    if not isinstance(table, Mapping):
        return
    unknown = sorted(set(map(str, table)) - set(valid))
    elsewhere = _elsewhere(unknown)
    if elsewhere:
        raise ValueError(v.unknown_keys(unknown, valid, where, suggest=False) + elsewhere)


#: A key at the start of a TOML line, bare or quoted, dotted or not (``seed``, ``"model.n_tls"``,
#: ``a.b``), before its ``=``.
_TOML_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
                       r"""(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'))*)\s*=""")
_TOML_HEADER = re.compile(r"""^\s*\[\[?\s*([\w."' -]+?)\s*\]\]?\s*(?:#.*)?$""")


def repeated_toml_key(text: str, exc: tomllib.TOMLDecodeError) -> str:
    """The key tomllib's "Cannot overwrite a value (at line 3, column 9)" means, read from that
    line (or the last line with a key before it: a list over several lines ends on its ``]``), with
    its table: "; the key 'seed' of [model] on line 3 already has a value" (tomllib names the line
    alone; a break test, bt196). Empty for other errors, or when no key is found."""
    message = str(exc)
    if not message.startswith("Cannot overwrite a value"):
        return ""
    lines = text.splitlines()
    where = re.search(r"at line (\d+), column \d+", message)
    number = int(where.group(1)) if where else len(lines)  # "at end of document": the last key
    for index in range(min(number, len(lines)) - 1, -1, -1):
        if _TOML_HEADER.match(lines[index]):
            return ""
        key = _TOML_KEY.match(lines[index])
        if key:
            tables = [m.group(1) for line in lines[:index] if (m := _TOML_HEADER.match(line))]
            table = f" of [{tables[-1]}]" if tables else " at the top level"
            name = key.group(1) if key.group(1)[0] in "\"'" else f"'{key.group(1)}'"
            return (f"; the key {name}{table} on line {index + 1} already has a value "
                    "(give each key once in a table)")
    return ""


def _refuse_top_level_keys_in_tables(data: Mapping[str, Any]) -> None:
    """Refuse a key of the top of a run specification (``seed``, ``name``, ``realisations``, ...)
    found inside a table, naming the table: TOML puts every key written after a ``[table]``
    header into that table, so a ``seed = 1`` written below ``[model]`` is ``model.seed``, and
    was told "seed is required", or listed among the unknown keys of model with no word of where
    it belongs (a break test, bt196). The keys ``model`` and ``probe`` of ``[sweep]`` are its
    unquoted dotted keys (``model.n_tls = [...]``), not misplaced ones."""
    found: list[tuple[str, str, Any]] = []

    def walk(table: Mapping[str, Any], where: str) -> None:
        for key, value in table.items():
            key = str(key)
            if key in TOP_LEVEL_KEYS and not (where == "sweep" and key in ("model", "probe")
                                              and isinstance(value, Mapping)):
                found.append((key, where, value))
            elif isinstance(value, Mapping):
                walk(value, f"{where}.{key}")

    for key, value in data.items():
        if isinstance(value, Mapping):
            walk(value, str(key))
    if not found:
        return
    _refuse_swept_top_level_keys(found, data)

    def shown(value: Any) -> str:
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."

    entries = []  # a table's keys by their dotted names (model.n_tls = 3 under [probe])
    for key, where, value in found:
        entries += [(leaf, where, item) for leaf, item in _leaves_of(value, key)]
    places = ", ".join(f"{leaf} = {shown(item)} {'is ' if i == 0 else ''}inside [{where}]"
                       for i, (leaf, where, item) in enumerate(entries))
    values = {key: value for key, _, value in found}
    keys = list(dict.fromkeys(key for key, _, _ in found))
    also = [f"{key} = {shown(data[key])}" for key in keys
            if key in data and not isinstance(data[key], Mapping)]
    at_top = f" (the top level has {' and '.join(also)} too)" if also else ""
    scalars = [key for key in keys if not isinstance(values[key], Mapping)]
    tables = [leaf for leaf, _, _ in entries if leaf.split(".", 1)[0] not in scalars]
    fixes = ([f"write {' and '.join(scalars)} at the top of the file, before the first [table] "
              "header"] if scalars else []) + [
        f"write {leaf} as {leaf.rsplit('.', 1)[1]} under [{leaf.rsplit('.', 1)[0]}]"
        for leaf in dict.fromkeys(tables)]
    raise ValueError(f"{places}{at_top}: TOML puts every key written after a [table] header "
                     f"into that table; {'; '.join(fixes)}")


#: Why a top-level key cannot be a [sweep] axis.
_NOT_SWEPT = {
    "seed": "the seed of every realisation is derived from the one seed of the run",
    "name": "a run has one name",
    "realisations": "a list of counts, one per sweep point, is written as realisations at the top",
}


def _table_not_swept(key: str) -> str:
    """'is a table, which cannot be swept as a whole; sweep its keys instead: ...' for the table
    ``key`` (its sweepable keys, or that it has none)."""
    fields = [k for k in SWEEPABLE if k.startswith(f"{key}.")]
    return ("is a table, which cannot be swept as a whole; "
            + (f"sweep its keys instead: {', '.join(fields)}" if fields
               else "none of its keys can be swept"))


def _refuse_swept_top_level_keys(found: list[tuple[str, str, Any]], data: Mapping[str, Any]) -> None:
    """Refuse ``seed = [1, 2]`` (or ``name``, ``realisations``) inside ``[sweep]``: an attempt to
    sweep it, which was told to write seed at the top of the file although it was there (a
    tester, bt200)."""
    tables = [(key, value) for key, where, value in found
              if where == "sweep" and key in ("model", "probe", "solver", "sweep")
              and not isinstance(value, Mapping)]
    if tables:  # told to write it at the top of the file, which made invalid TOML (bt210)
        key, value = tables[0]
        raise ValueError(f"{key} = {value!r} is inside [sweep]: {key} " + _table_not_swept(key))
    swept = [(key, value) for key, where, value in found
             if where == "sweep" and key in _NOT_SWEPT and isinstance(value, list)]
    if not swept:
        return
    key, value = swept[0]
    top = f" (the top level has {key} = {data[key]!r})" if key in data else ""
    raise ValueError(f"{key} = {value!r} is inside [sweep]{top}: {key} cannot be swept: "
                     f"{_NOT_SWEPT[key]}; remove it from [sweep]")


def _leaves_of(value: Any, prefix: str) -> list[tuple[str, Any]]:
    """(dotted key, value) of every non-table entry of ``value`` under ``prefix``; ``value``
    itself when it is no table (or an empty one)."""
    if not isinstance(value, Mapping) or not value:
        return [(prefix, value)]
    return [leaf for key, item in value.items() for leaf in _leaves_of(item, f"{prefix}.{key}")]


def _listed(value: Any) -> Any:
    """A 1-d numpy array as the list it holds (a sweep's lists took arrays, the probe's axes
    refused them: "must be a non-empty list ..., got array([0.1])"; a break test, session 55),
    a numpy number as a Python one, float32 numbers as written (:func:`.validate.written_numbers`);
    anything else as it is, for the checks that follow."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return np.asarray(v.written_numbers(value)).tolist()  # float32 as written
    value = v.written_numbers(value)
    return value.item() if isinstance(value, np.floating | np.integer) else value


def _axis_not_used(data: Mapping[str, Any], key: str, where: str) -> str:
    """Why a probe axis no observable asked for has is still required: every run records one
    (spacing_ratio alone was told "probe.temperatures is required", then warned that two
    temperatures had no effect; a tester, session 60). Empty where an observable uses it."""
    asked = data.get("observables", DEFAULT_OBSERVABLES)
    dimension = key[:-3] + "y" if key == "frequencies" else key[:-1]
    if (not isinstance(asked, list | tuple) or not asked
            or not all(isinstance(name, str) and name in OBSERVABLE_DIMS for name in asked)
            or any(dimension in OBSERVABLE_DIMS[name][0] for name in asked)
            or key == "frequencies" and isinstance(data.get("temperatures"), Mapping)):
        return ""  # the x grid of temperatures reads the first frequency
    return (f": every probe has {key}, though no observable asked for has a {dimension} axis "
            f"({where}.observables: {', '.join(asked)}); one value will do, e.g. {key} = [0.1], "
            "and is not used")


def probe_from_dict(data: Mapping[str, Any], where: str = "probe") -> Probe:
    """Build a :class:`~manybody.config.probe.Probe` from a ``[probe]`` table.

    ``temperatures`` is an explicit list (K) or a table ``{x_min, x_max, count}`` giving
    T = frequencies[0] / x with x log-spaced.
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"{where} must be a table of keys, got {type(data).__name__}")
    v.string_keys(where, data)
    unknown = sorted(set(data) - set(PROBE_KEYS))
    if unknown:
        elsewhere = _elsewhere(unknown)
        raise ValueError(v.unknown_keys(unknown, PROBE_KEYS, where, suggest=not elsewhere)
                         + elsewhere)
    for key in ("frequencies", "temperatures"):
        if key not in data:
            raise ValueError(f"{where}.{key} is required" + _axis_not_used(data, key, where))
    frequencies = _listed(data["frequencies"])
    if isinstance(frequencies, int | float) and not isinstance(frequencies, bool):
        frequencies = [frequencies]
    if not isinstance(frequencies, list | tuple) or not frequencies:
        raise TypeError(f"{where}.frequencies must be a non-empty list of frequencies in K, "
                        f"got {v._describe(frequencies)}")
    freqs = v.probe_axis(f"{where}.frequencies", frequencies)
    temps = _listed(data["temperatures"])
    if isinstance(temps, Mapping):
        bad = sorted(set(temps) - set(TEMPERATURE_GRID_KEYS))
        missing = [k for k in TEMPERATURE_GRID_KEYS if k not in temps]
        if bad or missing:
            raise ValueError(
                f"{where}.temperatures table must have exactly the keys "
                f"{', '.join(TEMPERATURE_GRID_KEYS)}; unknown {bad or 'none'}, missing "
                f"{missing or 'none'}"
            )
        temps = temperature_grid(float(freqs[0]), temps["x_min"], temps["x_max"], temps["count"])
    elif isinstance(temps, int | float) and not isinstance(temps, bool):
        temps = [temps]  # one temperature, like one frequency
    elif not isinstance(temps, list | tuple) or not temps:
        raise TypeError(f"{where}.temperatures must be a non-empty list of temperatures in K or a "
                        f"table {{x_min, x_max, count}}, got {v._describe(temps)}")
    temps = v.probe_axis(f"{where}.temperatures", temps)
    observables = _listed(data.get("observables", list(DEFAULT_OBSERVABLES)))
    if isinstance(observables, str) or not isinstance(observables, list | tuple):
        raise TypeError(f"{where}.observables must be a list of names from "
                        f"{', '.join(OBSERVABLES)}, got {v._describe(observables)}")
    broadening = v.from_mapping(Broadening, data.get("broadening", {}), f"{where}.broadening")
    bins = data.get("matrix_element_bins")
    if bins is not None:
        bins = matrix_element_bins_from_dict(bins, f"{where}.matrix_element_bins")
    drive = data.get("saturation")
    if drive is not None:
        drive = v.from_mapping(SaturationDrive, drive, f"{where}.saturation")
    try:
        return Probe(frequencies=tuple(freqs.tolist()), temperatures=tuple(temps.tolist()),
                     broadening=broadening, observables=tuple(observables),
                     phonon_rate_prefactor=data.get("phonon_rate_prefactor"),
                     matrix_element_bins=bins, saturation=drive)
    except (TypeError, ValueError) as exc:  # the spec's key: probe.phonon_rate_prefactor
        message = str(exc)
        field = re.match(r"(\w+)", message)
        if field and field.group(1) in {f.name for f in dataclasses.fields(Probe)}:
            raise type(exc)(f"{where}.{message}") from None
        raise


def _plain(obj: Any) -> dict[str, Any]:
    """A parameter dataclass as a plain dict, floats as floats and tuples as lists."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(f.default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, np.generic):
            value = value.item()
        out[f.name] = value
    return out


def model_to_dict(model: ModelParams) -> dict[str, Any]:
    """Inverse of :meth:`ModelParams.from_dict` (absent sections omitted, ``tls = false`` kept)."""
    out: dict[str, Any] = {"n_tls": int(model.n_tls)}
    for section in MODEL_SECTIONS:
        value = getattr(model, section)
        if value is None:
            if section == "tls":
                out[section] = False
            continue
        out[section] = _plain(value)
    return out


def probe_to_dict(probe: Probe) -> dict[str, Any]:
    """Inverse of :func:`probe_from_dict` (temperatures written out as an explicit list in K)."""
    return {
        "frequencies": list(probe.frequencies),
        "temperatures": list(probe.temperatures),
        "observables": list(probe.observables),
        "broadening": _broadening_to_dict(probe.broadening),
        **({"phonon_rate_prefactor": probe.phonon_rate_prefactor}
           if probe.phonon_rate_prefactor is not None else {}),
        **({"matrix_element_bins": _plain(probe.matrix_element_bins)}
           if probe.matrix_element_bins is not None else {}),
        **({"saturation": _plain(probe.saturation)} if probe.saturation is not None else {}),
    }


def _broadening_to_dict(broadening: Broadening) -> dict[str, Any]:
    """The kernel as a plain dict; the default ``scaling = "absolute"`` is left out, so specs and
    results files written before the key existed keep their digest."""
    out = _plain(broadening)
    if out["scaling"] == "absolute":
        del out["scaling"]
    return out


def _realisation_counts(value: Any, shape: tuple[int, ...]) -> int | tuple:
    """Validate ``realisations``: an int, or per-point counts of the sweep's shape (nested tuple)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer | list | tuple | np.ndarray):
        raise TypeError(f"realisations must be an integer >= 1 or a list of per-point counts of "
                        f"shape {shape}, got {v._describe(value)}")
    if isinstance(value, int | np.integer):
        return v.integer("realisations", value, 1, MAX_REALISATIONS)
    flags = [leaf for leaf in _leaves(value) if isinstance(leaf, bool | np.bool_)]
    if flags or (isinstance(value, np.ndarray) and value.dtype == bool):  # [3, true] ran 1
        raise TypeError(f"realisations must hold integer counts, got a boolean in {v._describe(value)}")
    leaves = list(value.flat) if isinstance(value, np.ndarray) else _leaves(value)
    others = [leaf for leaf in leaves if not isinstance(leaf, int | np.integer)]
    if others:  # [2.0, 3] was told about the sweep's shape, which it had (session 35)
        leaf = others[0].item() if isinstance(others[0], np.generic) else others[0]
        kind = type(leaf).__name__
        hint = f"; write {int(leaf)}" if isinstance(leaf, float | np.floating) and \
            math.isfinite(leaf) and float(leaf).is_integer() else ""
        raise TypeError(f"realisations must hold integer counts, got {leaf!r} (a {kind}) in "
                        f"{v._describe(value)}{hint}")
    try:
        counts = np.asarray(value)
    except ValueError:  # ragged nesting
        counts = np.asarray([], dtype=object)
    if not shape:  # "of the sweep's shape (); got [2]" for a run without sweep (bt196)
        one = f"; write realisations = {leaves[0]}" if len(leaves) == 1 else ""
        raise ValueError(f"realisations must be an integer, got {v._describe(value)}: a list "
                         "gives one count per sweep point, and this specification has no "
                         f"[sweep]{one}")
    if counts.shape != shape or counts.dtype.kind not in "iu":
        raise ValueError(f"realisations must be one integer or a list of integers with one count "
                         f"per sweep point, of the sweep's shape {shape}; got {v._describe(value)}")
    if counts.min(initial=1) < 1 or counts.max(initial=1) > MAX_REALISATIONS:
        raise ValueError(f"realisations must be between 1 and {MAX_REALISATIONS} at every sweep "
                         f"point, got {counts.tolist()!r}")
    if (counts == counts.flat[0]).all():
        return int(counts.flat[0])  # uniform counts: the same spec as a plain integer
    return _nested_tuple(counts.tolist())


def _leaves(value: Any) -> list:
    """The non-list entries of nested lists and tuples."""
    if isinstance(value, list | tuple):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _nested_tuple(value: Any) -> Any:
    return tuple(_nested_tuple(x) for x in value) if isinstance(value, list) else int(value)


def _dotted_keys(table: Any, prefix: str) -> list[str]:
    """``prefix`` and the dotted key of every entry of ``table`` and of its sub-tables
    (``model``, ``model.coupling``, ``model.coupling.min_distance``, ...)."""
    keys = [prefix]
    if isinstance(table, Mapping):
        for name, value in table.items():
            keys += _dotted_keys(value, f"{prefix}.{name}")
    return keys


def _replace_path(obj: Any, path: list[str], value: Any, key: str) -> Any:
    """dataclasses.replace along a dotted path; names the sweep key if a section is absent."""
    head = path[0]
    if len(path) == 1:
        return dataclasses.replace(obj, **{head: value})
    child = getattr(obj, head)
    if child is None:
        raise ValueError(
            f"sweep key {key!r} needs a [{key.rsplit('.', 1)[0]}] section in the base "
            f"specification, but it is absent (add the section with the base model's values)"
        )
    return dataclasses.replace(obj, **{head: _replace_path(child, path[1:], value, key)})


@dataclass(frozen=True, kw_only=True, eq=False)
class RunSpec:
    """A full sweep: base model, swept axes, realisations, seed, probe and solver.

    Parameters
    ----------
    name : str
        Short name of the run (used in messages and file metadata).
    seed : int
        Run seed (>= 0); realisation r uses ``SeedSequence(seed, spawn_key=(r,))``.
    realisations : int or nested sequence of int
        Disorder realisations per sweep point (>= 1): one count for every point, or one count per
        point as a (nested) list of the sweep's shape, e.g. ``[640, 640, 4000]`` along a single
        axis of three values. Per-point counts put the work where the disorder average is noisy;
        point p then uses realisations r = 0 .. count[p] - 1 (the same disorder at every point
        for the r they share) and results are padded with NaN up to the largest count.
    model : ModelParams
        Base point of the model; swept parameters override it.
    sweep : Mapping[str, Sequence]
        Ordered mapping dotted parameter path -> non-empty list of values, e.g.
        ``{"model.coupling.strength": [0.0, 0.01]}`` (coupling strength J0 in K). The sweep
        points are the cartesian product of the axes, first axis slowest.
    probe : Probe
        Frequencies (K), temperatures (K), line kernel and observables.
    solver : SolverParams
        Solver options (dtype).

    Raises
    ------
    ValueError, TypeError
        Any bad value, named with what was expected.
    """

    name: str = "run"
    seed: int
    realisations: int | tuple = 1
    model: ModelParams
    sweep: Mapping[str, Any] = field(default_factory=dict)
    probe: Probe
    solver: SolverParams = field(default_factory=SolverParams)
    #: The dotted keys of the tables this spec was read from (:meth:`from_dict`, hence
    #: :meth:`from_toml`), e.g. ``"model.coupling.min_distance"``: a key written at its default
    #: value is still one the user set, and is warned about when it changes nothing (a tester,
    #: bt189). None for a spec built in Python or read back from a results file
    #: (:meth:`from_record`, where every key is written), whose unused-parameter check counts
    #: only values away from their defaults (:func:`preflight`).
    _keys: frozenset[str] | None = field(default=None, init=False, repr=False, compare=False)
    #: The TOML text :meth:`from_toml` read (a checkpoint keeps a copy: a spec read from standard
    #: input cannot be read again to resume; a tester, bt196); None for a spec built otherwise.
    _text: str | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise TypeError(f"name must be a non-empty string, got {v._describe(self.name)}")
        _check_name(self.name)
        object.__setattr__(self, "seed", v.integer("seed", self.seed, 0, MAX_SEED))
        for key, cls in (("model", ModelParams), ("probe", Probe), ("solver", SolverParams)):
            value = getattr(self, key)
            if not isinstance(value, cls):
                raise TypeError(f"{key} must be a {cls.__name__}, got {type(value).__name__}")
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "sweep", normalise_sweep(self.sweep))
        n_points = math.prod(len(values) for values in self.sweep.values())
        if n_points > MAX_SWEEP_POINTS:
            sizes = " x ".join(f"{len(values)} ({key})" for key, values in self.sweep.items())
            raise ValueError(f"sweep has {n_points} points ({sizes}); at most "
                             f"{MAX_SWEEP_POINTS} are taken: split it into several runs")
        object.__setattr__(self, "realisations", _realisation_counts(self.realisations, self.shape))
        for index in itertools.product(*(range(n) for n in self.shape)):
            try:  # every sweep point must be a valid model and probe
                self.point(index)
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"{self.point_label(index)}: {spec_keys(str(exc))}") from None

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> RunSpec:
        """Build from a spec :meth:`to_dict` wrote (a results file's or a checkpoint's): as
        :meth:`from_dict`, but every ``[solver]`` key is written there, so only those away from
        their defaults count as set (:meth:`SolverParams.as_recorded`)."""
        spec = cls.from_dict(data)
        return dataclasses.replace(spec, solver=spec.solver.as_recorded())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSpec:
        """Build from a nested mapping laid out like the TOML file (see module docstring)."""
        if not isinstance(data, Mapping):
            raise TypeError(
                f"a run specification must be a table of keys, got {type(data).__name__}"
            )
        v.string_keys("the run specification", data)
        _refuse_top_level_keys_in_tables(data)
        unknown = sorted(set(data) - set(TOP_LEVEL_KEYS))
        if unknown:
            elsewhere = _elsewhere(unknown)
            raise ValueError(v.unknown_keys(unknown, TOP_LEVEL_KEYS, "the run specification",
                                            suggest=not elsewhere) + elsewhere)
        for key in ("seed", "model", "probe"):
            if key not in data:
                what = {"seed": "an integer >= 0; realisation r uses SeedSequence(seed, "
                                "spawn_key=(r,))",
                        "model": "a [model] table with at least n_tls",
                        "probe": "a [probe] table with frequencies and temperatures"}[key]
                raise ValueError(f"{key} is required ({what})")
        if "realisations" not in data:
            raise ValueError("realisations is required (number of disorder realisations, >= 1)")
        data = _without_negative_zero(data)  # every scalar and sweep value
        sweep = normalise_sweep(data.get("sweep"))
        model_table = data["model"]
        if not isinstance(model_table, Mapping):
            raise TypeError(f"model must be a table of keys, got {type(model_table).__name__}")
        if "n_tls" not in model_table and "model.n_tls" in sweep:
            model_table = {**model_table, "n_tls": sweep["model.n_tls"][0]}
        block = model_table.get("random_matrix")
        if "model.random_matrix.weight" in sweep and isinstance(block, Mapping) \
                and "weight" not in block:  # swept: the base takes its first value
            model_table = {**model_table, "random_matrix": {
                **block, "weight": sweep["model.random_matrix.weight"][0]}}
        _refuse_keys_placed_elsewhere(model_table, ["n_tls", *MODEL_SECTIONS], "model")
        _refuse_keys_placed_elsewhere(data.get("solver", {}), [
            f.name for f in dataclasses.fields(SolverParams) if f.init], "solver")
        try:  # the spec's keys: model.tls.x, not tls.x (spec_keys)
            solver = SolverParams.from_table(data.get("solver", {}))
            model = ModelParams.from_dict(model_table)
            probe = probe_from_dict(data["probe"])
        except (TypeError, ValueError) as exc:
            raise type(exc)(spec_keys(str(exc))) from None
        spec = cls(
            name=data.get("name", "run"),
            seed=data["seed"],
            realisations=data["realisations"],
            model=model,
            sweep=sweep,
            probe=probe,
            solver=solver,
        )
        object.__setattr__(spec, "_keys", frozenset(
            key for section in ("model", "probe", "solver")
            for key in _dotted_keys(data.get(section, {}), section)))
        return spec

    @property
    def given_keys(self) -> frozenset[str] | None:
        """The dotted keys the specification's tables gave, with the sweep's keys (a swept key
        is given at each of its values); None when unknown (a spec built in Python, or read back
        from a results file)."""
        if self._keys is None:
            return None
        return self._keys | frozenset(self.sweep)

    @classmethod
    def from_toml(cls, path: str | Path) -> RunSpec:
        """Read and validate a TOML run specification.

        Every error message starts with the file name.

        Raises
        ------
        FileNotFoundError
            No such file.
        PermissionError
            The file cannot be read.
        ValueError
            Not UTF-8, malformed TOML (with the parser's line and column), a directory, a bad
            specification, or text given as the path (TOML, or any text too long for a path).
        TypeError
            A value of the wrong type (e.g. a string where a number is expected).
        """
        if not isinstance(path, str | os.PathLike) or isinstance(path, bytes):
            raise TypeError(f"from_toml takes the path of a TOML file, got "
                            f"{type(path).__name__}; for TOML text use "
                            "RunSpec.from_dict(tomllib.loads(text))")
        if (isinstance(path, str) and re.match(r"\s*[\w.\"']+\s*=\s*\S", path)
                and not Path(path).exists()):
            # TOML text given as the path: 'File name too long' (helper-183); other text (a
            # table header first, a comment) is refused just below
            raise ValueError("from_toml takes the path of a TOML file, got what looks like TOML "
                             f"text ({path[:40]!r}...); for text use "
                             "RunSpec.from_dict(tomllib.loads(text))")
        # any other text too long for a path: the raw "File name too long" (bt185)
        refuse_text_as_path("run specification (TOML)", path, text_use="for TOML text use "
                            "RunSpec.from_dict(tomllib.loads(text))")
        path = Path(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(f"run specification {str(path)!r} does not exist") from None
        except IsADirectoryError:
            raise ValueError(f"run specification {str(path)!r} is a directory, not a TOML file") \
                from None
        except PermissionError:
            raise PermissionError(f"run specification {str(path)!r} cannot be read (permission "
                                  "denied)") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[:exc.start].count(b"\n") + 1
            raise ValueError(f"{path}: not a UTF-8 text file (byte {raw[exc.start]:#04x} at line "
                             f"{line}); a run specification is TOML, which must be UTF-8") \
                from None
        text = text.removeprefix("\ufeff")  # a byte-order mark some editors write: not content
        if not text.strip():
            raise ValueError(f"{path} is empty; a run specification needs at least seed, [model] "
                             "and [probe] (see examples/independent_tls.toml)")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path} is not valid TOML: {exc}{repeated_toml_key(text, exc)}") \
                from None
        try:
            spec = cls.from_dict(data)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{path}: {exc}") from None
        object.__setattr__(spec, "_text", text)
        return spec

    def resized(self, *, n_tls: int | None = None, sweep: Mapping[str, Any] | None = None,
                realisations: Any = None,
                temperatures: tuple[float, ...] | None = None) -> RunSpec:
        """The same run at another size: base N, sweep axes (values of the same keys or others),
        realisations (one count or per-point counts of the new sweep's shape) and temperatures
        (K); what is not given is kept. Validated like any spec."""
        model = self.model if n_tls is None else dataclasses.replace(self.model, n_tls=n_tls)
        probe = (self.probe if temperatures is None
                 else dataclasses.replace(self.probe, temperatures=tuple(temperatures)))
        resized = dataclasses.replace(
            self, model=model, probe=probe, sweep=self.sweep if sweep is None else sweep,
            realisations=self.realisations if realisations is None else realisations)
        object.__setattr__(resized, "_keys", self._keys)  # the same keys, other values
        return resized

    # -- serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (TOML/JSON compatible); ``RunSpec.from_dict(s.to_dict()) == s``."""
        return {
            "name": self.name,
            "seed": self.seed,
            "realisations": (self.realisations if isinstance(self.realisations, int)
                             else np.asarray(self.realisations).tolist()),
            "model": model_to_dict(self.model),
            "sweep": {key: list(values) for key, values in self.sweep.items()},
            "probe": probe_to_dict(self.probe),
            "solver": self.solver.to_dict(),
        }

    def canonical_json(self) -> str:
        """Deterministic JSON of :meth:`to_dict` (key order fixed by construction, sweep order
        kept)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    def digest(self) -> str:
        """SHA-256 hex digest of :meth:`canonical_json` (detects a changed spec)."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RunSpec):
            return NotImplemented
        return self.canonical_json() == other.canonical_json()

    def __hash__(self) -> int:
        return hash(self.canonical_json())

    # -- sweep points -------------------------------------------------------------------------
    @property
    def dims(self) -> tuple[str, ...]:
        """Dimension names of the sweep axes, in order (e.g. ("coupling_strength",))."""
        return tuple(axis_name(k) for k in self.sweep)

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of values along each sweep axis."""
        return tuple(len(values) for values in self.sweep.values())

    @property
    def n_points(self) -> int:
        """Number of sweep points (1 without a sweep)."""
        return math.prod(self.shape)

    @property
    def realisation_counts(self) -> np.ndarray:
        """Realisations at every sweep point, an int64 array of the sweep's shape."""
        return np.broadcast_to(np.asarray(self.realisations, dtype=np.int64), self.shape).copy()

    @property
    def max_realisations(self) -> int:
        """The largest per-point count (the length of the results' realisation axis)."""
        return int(self.realisation_counts.max(initial=1))

    @property
    def n_tasks(self) -> int:
        """Total (sweep point, realisation) pairs."""
        return int(self.realisation_counts.sum())

    def point(self, index: tuple[int, ...]) -> tuple[ModelParams, Probe]:
        """Model and probe at one sweep point.

        Parameters
        ----------
        index : tuple of int
            One entry per sweep axis, each in [0, the axis's length) (:attr:`shape`); () without
            sweep axes.

        Raises
        ------
        TypeError, IndexError
            An index that is not a tuple of integers, or not one entry per axis inside its
            length (raw zip/tuple errors before session 56; helper-183).
        """
        index = self._checked_index(index)
        model, probe = self.model, self.probe
        for (key, values), i in zip(self.sweep.items(), index, strict=True):
            section, *path = key.split(".")
            if section == "model":
                model = _replace_path(model, path, values[i], key)
            else:
                probe = _replace_path(probe, path, values[i], key)
        return model, probe

    def _checked_index(self, index) -> tuple[int, ...]:
        """``index`` as a tuple of ints, one per sweep axis inside its length, or TypeError /
        IndexError naming the sweep's shape."""
        shape = self.shape
        axes = ", ".join(self.sweep) or "none"
        expected = (f"a tuple of {len(shape)} integer(s), one per sweep axis ({axes}), in "
                    f"[0, n) for the shape {tuple(shape)}" if shape else
                    "the empty tuple () (the specification has no sweep axes)")
        if not isinstance(index, tuple | list) or not all(
                isinstance(i, int | np.integer) and not isinstance(i, bool) for i in index):
            raise TypeError(f"index must be {expected}, got {v._describe(index)}")
        if len(index) != len(shape) or any(not 0 <= i < n for i, n in zip(index, shape,
                                                                           strict=False)):
            raise IndexError(f"index must be {expected}, got {tuple(index)!r}")
        return tuple(int(i) for i in index)

    def point_label(self, index: tuple[int, ...]) -> str:
        """``"sweep point model.n_tls=30, probe.broadening.width=0.01"`` (the axis values)."""
        index = self._checked_index(index)
        values = ", ".join(f"{key}={values[i]!r}"
                           for (key, values), i in zip(self.sweep.items(), index, strict=True))
        return f"sweep point {values}" if values else "run specification"

    def check(self) -> None:
        """Refuse, before any work, a spec that would fail at some sweep point (see
        :func:`preflight`)."""
        preflight(self)

    def points(self) -> Iterator[tuple[tuple[int, ...], ModelParams, Probe]]:
        """Yield ``(index, model, probe)`` for every sweep point, in C order (last axis fastest)."""
        for index in itertools.product(*(range(n) for n in self.shape)):
            model, probe = self.point(index)
            yield index, model, probe


# -- preflight: everything that can be checked without building operators ---------------------

def check_point(model: ModelParams, probe: Probe, solver: SolverParams) -> str:
    """Check one sweep point against its solver without drawing or building anything.

    Resolves ``solver.method = "auto"`` and asks the chosen solver of the registry
    (:mod:`manybody.simulation.solvers`): observables against N (levels needed) or against what
    the solver computes (eigenstate-only observables with the Chebyshev solver), temperatures the
    Chebyshev ladder cannot reach, and memory (the dense ED estimate, or the Chebyshev lower bound).

    Returns
    -------
    str
        The solver this point would use ("dense" or "chebyshev").

    Raises
    ------
    ValueError
        An observable the point cannot compute (also: relaxation observables with
        ``model.equilibration``), or temperatures the Chebyshev ladder cannot reach.
    MemoryError
        The point does not fit in memory (the message lists only remedies that would fit).
    """
    method = solver_for(model, solver)
    SOLVERS[method].check_point(model, probe, solver)
    check_equilibration(model, probe)
    warn_if_all_frozen(model, probe)
    warn_if_beyond_rotating_wave(model, probe)
    warn_if_far_above_spectrum(model, probe)
    _warn_if_stress_is_zero(model, probe)
    return method


def _warn_if_stress_is_zero(model: ModelParams, probe: Probe) -> None:
    """Warn when the stress operator is identically 0 (no linear, two-body or random-matrix
    stress) and an observable that needs it is asked for: every such value is exactly 0 (a new
    user's run printed nothing; session 27). Not refused: a swept stress may pass through 0."""
    stress = model.stress
    needing = [o for o in probe.observables if o not in STRESS_FREE_OBSERVABLES]
    if (needing and stress.distribution == "none" and stress.two_body == 0
            and stress.random_matrix == 0):
        warnings.warn(spec_keys(f"the stress operator is zero (stress.distribution = 'none', no "
                                f"two_body or random_matrix stress): {', '.join(needing)} will be "
                                "exactly 0; give a linear (distribution), two-body or "
                                "random-matrix stress"), UserWarning, stacklevel=3)


def _warn_kernel_wider_than_frequency(wide: list[tuple[float, float]]) -> None:
    """One warning for the sweep points of :meth:`Probe.kernel_wider_than_frequency` (values listed,
    as the unused-parameter warnings; a swept width gave one warning per point, session 27)."""
    if not wide:
        return
    pairs = list(dict.fromkeys(wide))
    lowest = {low for _, low in pairs}
    if len(lowest) == 1:
        widths = list(dict.fromkeys(f"{width:g}" for width, _ in pairs))
        what = (listed(widths) + (" K is" if len(widths) == 1 else " K are")
                + f" at least {RELATIVE_WIDTH_LIMIT:g} of the lowest frequency "
                f"{lowest.pop():g} K")
    else:
        what = (listed([f"{width:g} K at a lowest frequency of {low:g} K"
                        for width, low in pairs])
                + f" are at least {RELATIVE_WIDTH_LIMIT:g} of that frequency")
    warnings.warn(f"probe.broadening.width = {what}: the line kernel smears Q^-1 over a range "
                  "as wide as the frequency (narrow it, or use scaling = 'relative')",
                  WideKernelWarning, stacklevel=3)


def observable_shape(probe: Probe, name: str) -> tuple[int, ...]:
    """Shape of one realisation's value of observable ``name`` (its dims in
    :data:`manybody.config.probe.OBSERVABLE_DIMS`, sized by ``probe``)."""
    sizes = {"temperature": len(probe.temperatures), "frequency": len(probe.frequencies)}
    if probe.saturation is not None:
        sizes["amplitude"] = len(probe.saturation.amplitudes)
    if probe.matrix_element_bins is not None:
        sizes["energy_bin"] = len(probe.matrix_element_bins.energy) - 1
        sizes["frequency_bin"] = len(probe.matrix_element_bins.frequency) - 1
    return tuple(sizes[dim] for dim in OBSERVABLE_DIMS[name][0])


def _result_names(spec: RunSpec) -> list[str]:
    """The arrays of one realisation: the observables, with the Chebyshev solver's error arrays
    unless ``solver.method = "dense"``."""
    names = list(spec.probe.observables)
    if spec.solver.method != "dense":
        names += [f"{n}_error" for n in names if f"{n}_error" in OBSERVABLE_DIMS]
    return names


def realisation_bytes(spec: RunSpec) -> int:
    """Bytes of one realisation's results (float64; with the Chebyshev solver's error arrays
    unless ``solver.method = "dense"``): the sum of the observables' shapes."""
    return 8 * sum(math.prod(observable_shape(spec.probe, n)) for n in _result_names(spec))


def bookkeeping_bytes(spec: RunSpec) -> int:
    """Bytes a run holds for its realisations besides their arrays' data
    (:data:`REALISATION_OVERHEAD` and :data:`ARRAY_OVERHEAD` per array, times every realisation
    of every sweep point)."""
    return spec.n_tasks * (REALISATION_OVERHEAD + ARRAY_OVERHEAD * len(_result_names(spec)))


def results_bytes(spec: RunSpec) -> int:
    """Bytes of a run's results arrays (NaN-padded to the largest realisation count): one
    realisation's (:func:`realisation_bytes`) times sweep points times realisations."""
    return realisation_bytes(spec) * spec.n_points * spec.max_realisations


def check_results_size(spec: RunSpec, available: int | None = None) -> int:
    """Refuse a run whose results cannot be held in memory at its end, before any work.

    The results are held about :data:`RESULTS_COPIES` times when the run finishes (the finished
    realisations, the stacked arrays, the encoded file), and a realisation's arrays about
    :data:`WORKING_COPIES` times while it is computed; 10^7 realisations x 10^5 temperatures
    computed for a minute and then failed in numpy's allocation, 10^5 temperatures x 10^5
    frequencies in the line kernel after 2 s (session 31). The solvers' own memory (dense
    eigenvectors, Chebyshev vectors) is checked per point by :func:`check_point`.

    Parameters
    ----------
    spec : RunSpec
    available : int, optional
        Bytes of memory available (default: what the machine has available now).

    Returns
    -------
    int
        The results' size in bytes (:func:`results_bytes`).

    Raises
    ------
    MemoryError
        Naming the size, the memory available and what makes it smaller.
    """
    size = results_bytes(spec)
    if available is None:
        available = available_memory()
    bookkeeping = bookkeeping_bytes(spec)
    arrays = RESULTS_COPIES * size + WORKING_COPIES * realisation_bytes(spec)
    if arrays <= available and (arrays + bookkeeping > available or bookkeeping > available / 2):
        # many realisations of small arrays: what each costs to keep, not the arrays, fills the
        # memory (bt218 F2: 3e7 realisations of one number reached 5 GB before any task ran)
        raise MemoryError(
            f"the run asks for {spec.n_tasks:,} realisations in all ({spec.n_points} sweep "
            f"point(s), up to {spec.max_realisations:,} each); keeping each finished realisation "
            f"takes about {bookkeeping / spec.n_tasks:.0f} bytes besides its numbers, "
            f"{bookkeeping / 1e9:.3g} GB in all, beside {arrays / 1e9:.3g} GB of results, "
            f"against {available / 1e9:.3g} GB of memory available (at most half for the "
            "bookkeeping): fewer realisations (a disorder average converges as "
            "1/sqrt(realisations)), or split the sweep into several runs")
    if arrays > available:
        probe = spec.probe
        raise MemoryError(
            f"the results would take {size / 1e9:.3g} GB ({spec.n_points} sweep point(s) x "
            f"{spec.max_realisations} realisation(s) x {len(probe.temperatures)} "
            f"temperature(s) x {len(probe.frequencies)} frequenc(y/ies), "
            f"{len(probe.observables)} observable(s), float64), held about {RESULTS_COPIES} "
            f"times at the end of the run and one realisation's about {WORKING_COPIES} times "
            f"while it is computed, against {available / 1e9:.3g} GB of memory available: "
            "fewer realisations, temperatures, frequencies or observables, or split the sweep "
            "into several runs")
    return size


def preflight(spec: RunSpec) -> dict[str, int]:
    """Check every sweep point of ``spec`` before any computation or any file is touched.

    The results' size is checked against the memory available (:func:`check_results_size`), then
    each point is expanded (model and probe validated) and checked with :func:`check_point`:
    observables against N, solver against observables, dense and Chebyshev memory. Nothing is
    drawn, built or written. :func:`manybody.runs.sweep.run_sweep` calls it first.

    Returns
    -------
    dict
        Number of points per solver, e.g. ``{"dense": 3, "chebyshev": 1}``.

    Raises
    ------
    TypeError
        ``spec`` is not a RunSpec.
    ValueError, MemoryError
        Prefixed with the sweep point (its axis values), naming the key and the value.

    Warns
    -----
    UserWarning
        Once per parameter whose value has no effect given the others at every sweep point
        (e.g. ``coupling.min_distance`` with Gaussian couplings; :mod:`manybody.config.unused`),
        with its values over the sweep, after every point has passed: any value of a key the
        spec's tables or sweep gave (:attr:`RunSpec.given_keys`), its default too; without
        them (a spec built in Python), the values away from the default. Once for an absolute
        line kernel at least half the lowest frequency where an observable that uses the kernel
        is asked for, with its widths over the sweep.
    """
    if not isinstance(spec, RunSpec):
        raise TypeError(f"spec must be a RunSpec, got {type(spec).__name__}")
    check_results_size(spec)
    methods: dict[str, int] = {}
    # values without effect: those away from the default, and any value of a key the spec's
    # file gave (a key written at its default changes nothing either; bt189)
    given: dict[str, tuple[dict[str, list[tuple[int, ...]]], list[Any]]] = {}
    present = spec.given_keys or frozenset()
    idle: dict[str, int] = {}  # points where the parameter has no effect, whatever its value
    wide: list[tuple[float, float]] = []  # (kernel width, lowest frequency) of too wide kernels
    # a point's warnings, gathered to name the sweep points they apply to (a run's far-above
    # warning did not say at which point; a tester, session 38)
    said: dict[tuple[type, str], list[tuple[int, ...]]] = {}
    for index, model, probe in spec.points():
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                method = check_point(model, probe, spec.solver)
        except (ValueError, TypeError, MemoryError) as exc:
            raise type(exc)(f"{spec.point_label(index)}: {spec_keys(str(exc))}") from None
        for w in caught:
            said.setdefault((w.category, str(w.message)), []).append(index)
        if (too_wide := probe.kernel_wider_than_frequency()) is not None:
            wide.append(too_wide)
        methods[method] = methods.get(method, 0) + 1
        idle_here = unused_parameters(model, probe, spec.solver, method, include_defaults=True)
        for key, value, reason in unused_parameters(model, probe, spec.solver, method):
            _note_unused(given, key, value, reason, index)
        for key, value, reason in idle_here:
            if key in present:  # a key the file gave, at its default too (bt189)
                _note_unused(given, key, value, reason, index)
        for key in {k for k, _, _ in idle_here}:
            idle[key] = idle.get(key, 0) + 1
    # a parameter that has an effect at some point of the sweep is not warned about (a
    # reviewer, session 26: growth_temperature with the kind swept over exponential and flat)
    n_points = sum(methods.values())
    for (category, message), indices in said.items():
        warnings.warn(spec_keys(message) + _where(spec, indices, n_points), category,
                      stacklevel=2)
    _warn_kernel_wider_than_frequency(wide)
    for key, (reasons, values) in given.items():
        if idle.get(key, 0) == n_points:
            # each reason where it holds: the reason of the first point was given for every
            # point ("coupling.strength = 0" beside strength 0.01; a tester, bt208)
            why = (next(iter(reasons)) if len(reasons) == 1 else "; ".join(
                reason + _where(spec, indices, n_points) for reason, indices in reasons.items()))
            warnings.warn(spec_keys(f"{key} = {listed([_shown(x) for x in values])} has no "
                                    f"effect: {why}"), UnusedParameterWarning, stacklevel=2)
    return methods


def _note_unused(given: dict, key: str, value: Any, reason: str, index: tuple[int, ...]) -> None:
    """Record in ``given`` (key -> ({reason: sweep points}, values)) that ``key`` = ``value``
    has no effect at the sweep point ``index``, for ``reason``."""
    reasons, values = given.setdefault(key, ({}, []))
    points = reasons.setdefault(reason, [])
    if index not in points:
        points.append(index)
    if value not in values:
        values.append(value)


def _where(spec: RunSpec, indices: list[tuple[int, ...]], n_points: int) -> str:
    """' (at every sweep point)', ' (at sweep point a=1, b=2; ...)' or '' without a sweep."""
    if not spec.sweep:
        return ""
    if len(indices) == n_points:
        return " (at every sweep point)" if n_points > 1 else ""
    labels = [spec.point_label(i).removeprefix("sweep point ") for i in indices]
    return (f" (at {len(indices)} of {n_points} sweep points: " if len(indices) > 1
            else " (at sweep point ") + "; ".join(labels[:3]) + ("; ..." if len(labels) > 3
                                                                else "") + ")"


#: A list of values in a message is cut to its first and last few beyond this many (a swept
#: width of 1000 values made one warning line of 8 kB, a new user, session 35).
LISTED_MAX = 6


def listed(texts: list[str]) -> str:
    """'a, b, c' or, beyond :data:`LISTED_MAX` items, 'a, b, c, ..., y, z (1000 values)'."""
    if len(texts) <= LISTED_MAX:
        return ", ".join(texts)
    return (", ".join(texts[:3]) + ", ..., " + ", ".join(texts[-2:])
            + f" ({len(texts)} values)")


def _shown(value: Any) -> str:
    """A parameter's value as in the specification (lists for tuples, floats as given)."""
    return repr(list(value)) if isinstance(value, tuple) else repr(value)


def point_routes(spec: RunSpec) -> list[str]:
    """How each sweep point is solved, in C order (:func:`manybody.simulation.solvers.solver_route`:
    the solver with "auto" resolved and, for the chebyshev solver, the operator form), for the
    results' provenance. Nothing is drawn or built."""
    return [solver_route(model, spec.solver) for _, model, _ in spec.points()]
