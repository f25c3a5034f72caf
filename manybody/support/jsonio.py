"""Strict JSON for results records: NaN and infinities become ``null``.

Python's :func:`json.dumps` writes bare ``NaN``/``Infinity`` by default, which is not JSON (RFC 8259)
and which other readers (JavaScript, jq, many JSON libraries) reject. Every JSON record that
``manybody`` and its scripts write goes through :func:`dumps`, which replaces non-finite numbers by
``None`` and then serialises with ``allow_nan=False``, so a non-finite value that slips through
raises instead of producing an invalid file.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any


def finite_or_none(obj: Any) -> Any:
    """Copy of ``obj`` with every non-finite float (also numpy scalars and arrays) set to None.

    Mappings, lists, tuples, dataclasses and numpy arrays are walked recursively; numpy scalars
    become Python numbers; other objects are returned unchanged.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite_or_none(v) for v in obj]
    if hasattr(obj, "tolist") and hasattr(obj, "dtype"):  # numpy array or scalar
        return finite_or_none(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` of ``obj`` with non-finite numbers written as ``null`` (valid JSON).

    Parameters
    ----------
    obj : object
        JSON-serialisable data; dataclasses and numpy arrays/scalars are converted.
    **kwargs
        Passed to :func:`json.dumps` (e.g. ``indent``, ``default``); ``allow_nan`` is always False.

    Raises
    ------
    TypeError
        An object that is not serialisable (unless ``default`` handles it).
    """
    kwargs["allow_nan"] = False
    default = kwargs.get("default")
    if default is not None:  # the fallback's output is cleaned as well
        kwargs["default"] = lambda o: finite_or_none(default(o))
    return json.dumps(finite_or_none(obj), **kwargs)


def nan_if_none(value: Any) -> float:
    """Read back a number written by :func:`dumps`: ``None`` (null) becomes NaN."""
    return math.nan if value is None else float(value)
