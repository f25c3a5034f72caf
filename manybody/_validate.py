"""Small helpers that turn bad input into errors naming the parameter, its value and what was expected."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np


def finite(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real number."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(out):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return out


def positive(name: str, value: Any) -> float:
    """A finite number > 0."""
    out = finite(name, value)
    if out <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return out


def non_negative(name: str, value: Any) -> float:
    """A finite number >= 0."""
    out = finite(name, value)
    if out < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return out


def integer(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """An integer within [low, high] (bools and non-integral floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    out = int(value)
    if (low is not None and out < low) or (high is not None and out > high):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name} must be an integer between {lo} and {hi}, got {out}")
    return out


def choice(name: str, value: Any, options: Iterable[str]) -> str:
    """One of a fixed set of names."""
    options = tuple(options)
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}")
    return value


def real_array(name: str, value: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A finite float64 array, optionally of a given shape."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of real numbers, got {value!r}") from None
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers, got NaN or inf")
    return arr


def positive_array(name: str, value: Any) -> np.ndarray:
    """A 1-d, non-empty array of finite numbers > 0."""
    arr = np.atleast_1d(real_array(name, value))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d array, got shape {arr.shape}")
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0 everywhere, got minimum {arr.min()!r}")
    return arr


def from_mapping(cls: type, data: Mapping[str, Any], where: str) -> Any:
    """Build a keyword-only dataclass from a mapping, rejecting unknown keys with the valid ones."""
    if not isinstance(data, Mapping):
        raise TypeError(f"{where} must be a table of keys, got {type(data).__name__}")
    valid = [f.name for f in dataclasses.fields(cls) if f.init]
    unknown = sorted(set(data) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown key(s) {', '.join(map(repr, unknown))} in {where}; "
            f"valid keys are {', '.join(valid)}"
        )
    return cls(**data)
