"""Small helpers that turn bad input into errors naming the parameter, its value and what was expected.

Strict types, one rule for the whole package (dataclass ``__post_init__``, run specifications,
command-line options):

- a *real number* is an ``int`` or ``float`` (or a numpy integer/floating scalar), never a ``bool``
  and never a string: ``"0.5"`` and ``True`` are refused, not converted;
- an *integer* is an ``int`` (or numpy integer), never a ``bool`` and never a float, not even an
  integral one: ``n_tls = 4.0`` is refused with a message that says to write ``4`` (a float where a
  count is expected is usually a mistake in a generated file, and accepting it would let ``4.5``
  slip through the same path);
- a *name from a set* is a ``str`` equal to one of the options;
- an *array of real numbers* is a (nested) list/tuple of real numbers or a numeric numpy array
  (integer or floating dtype; boolean, string, complex and object arrays of non-numbers are refused).

Type mistakes raise :class:`TypeError`, values out of range :class:`ValueError`; both name the
parameter, show the value and say what was expected.
"""

from __future__ import annotations

import argparse
import copyreg
import dataclasses
import errno
import itertools
import math
import os
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

_REAL_TYPES = (int, float, np.integer, np.floating)
_INT_TYPES = (int, np.integer)


def is_real(value: Any) -> bool:
    """True for an int/float or numpy integer/floating scalar that is not a bool."""
    return isinstance(value, _REAL_TYPES) and not isinstance(value, bool | np.bool_)


def _describe(value: Any, integral: bool = False) -> str:
    """``value!r`` plus a hint on the common type mistakes; ``integral``: an integer was
    expected, so a whole float is told the integer to write (the hint "(a float; write 2)"
    was given for a valid gap of 2.0 K and for labels; bt193)."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return f"{one_line(repr(value))} (a string)"
        return f"{value!r} (a string; write the number without quotes)"
    if isinstance(value, bool | np.bool_) or (isinstance(value, np.ndarray) and value.ndim == 0
                                               and value.dtype.kind == "b"):
        return f"{value!r} (a boolean)"
    if (integral and isinstance(value, float | np.floating) and math.isfinite(value)
            and float(value).is_integer()):
        return f"{value!r} (a float; write {int(value)})"
    shape = getattr(value, "shape", None)
    text = repr(value)
    if "\n" not in text and len(text) <= SHOWN_CHARACTERS:  # array([0.2]) says it best
        return text
    if isinstance(shape, tuple) and len(shape) and not isinstance(value, type):
        # an array, DataArray, Series or DataFrame: its shape in one line, not numpy's repr of
        # many lines (an array as a temperature printed 25 numbers over 6 lines; bt187)
        name = getattr(value, "name", None)
        named = f" {name!r}" if isinstance(name, str) and len(name) <= 40 else ""
        dtype = getattr(value, "dtype", None)
        of = f" of {dtype}" if isinstance(getattr(dtype, "kind", None), str) else ""
        return f"a {type(value).__name__}{named} of shape {shape}{of}"
    return one_line(text, type(value).__name__)


#: Most characters of a value's repr shown in an error message.
SHOWN_CHARACTERS = 80


def one_line(text: str, kind: str = "") -> str:
    """``text`` (a value's repr) for a one-line error message: its line breaks and runs of blanks
    as single blanks, cut after :data:`SHOWN_CHARACTERS` characters with "..." and ``kind`` (the
    value's type) after it; short text of one line unchanged. A Spectrum, a long list or a
    DataArray printed tens of lines (bt187)."""
    if "\n" not in text and "\r" not in text and len(text) <= SHOWN_CHARACTERS + 40:
        return text
    flat = " ".join(text.split())
    if len(flat) <= SHOWN_CHARACTERS + 40:
        return flat
    return f"{flat[:SHOWN_CHARACTERS]}..." + (f" (a {kind})" if kind else "")


def unwrap_scalar(name: str, value: Any) -> Any:
    """A 0-d numeric array (e.g. from a numpy reduction) as its number; a masked scalar
    (``np.ma.masked``, or a 0-d masked array whose entry is masked) refused, since its data value
    would be used (session 46: a masked temperature was taken as the 0.5 under the mask).
    A 0-d xarray DataArray (e.g. ``ds.width.sel(...)`` or a reduction of one) is taken as its
    number as well: one rule for every number check (``Broadening(width=xr.DataArray(0.02))``
    was refused with the DataArray's repr while arrays of DataArrays were taken; bt192)."""
    if (getattr(value, "ndim", None) == 0 and not isinstance(value, np.ndarray | np.generic)
            and type(value).__module__.split(".")[0] == "xarray"):
        value = getattr(value, "values", value)
    if isinstance(value, np.ma.MaskedArray) and value.ndim == 0:
        if np.ma.getmaskarray(value).any():
            raise ValueError(f"{name} is masked (a numpy masked scalar): the number under the "
                             "mask would be used; pass a valid number")
        value = np.ma.getdata(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()] if value.dtype.kind == "f" and value.dtype.itemsize < 8 else value.item()
    return value


def _as_written(value: np.floating) -> float:
    """A float32 (or float16) number as the shortest decimal that gives it back in its precision:
    np.float32(0.3) is 0.3, not 0.30000001192092896, which changed a spec's digest and its
    recorded values against the same parameter written 0.3 (a break test, session 55)."""
    return float(np.format_float_scientific(value, unique=True))


def _narrow(value: Any) -> bool:
    """A finite numpy float32 or float16 scalar."""
    return (isinstance(value, np.floating) and value.dtype.itemsize < 8
            and bool(np.isfinite(value)))


def written_numbers(value: Any) -> Any:
    """``value`` with its float32 (float16) numbers as written (:func:`_as_written`): a scalar, a
    1-d or n-d array (then float64) or a list or tuple of them; anything else unchanged. Probe
    axes and sweep values of float32 were 0.30000001192092896 where one number was 0.3, and the
    spec's digest differed from the same spec written in TOML (a break test, session 55)."""
    if _narrow(value):
        return _as_written(value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.dtype.itemsize < 8:
        flat = [_as_written(x) if np.isfinite(x) else float(x) for x in value.ravel()]
        return np.array(flat, dtype=np.float64).reshape(value.shape)
    if isinstance(value, list | tuple):
        return type(value)(_as_written(x) if _narrow(x) else x for x in value)
    return value


def real(name: str, value: Any, *, allow_nonfinite: bool = False) -> float:
    """Return ``value`` as a float; it must be a real number (int or float, not bool or str).

    Raises
    ------
    TypeError
        Not a real number.
    ValueError
        NaN or infinite (unless ``allow_nonfinite``).
    """
    value = unwrap_scalar(name, value)
    if not is_real(value):
        raise TypeError(f"{name} must be a real number (int or float), got {_describe(value)}")
    narrow = isinstance(value, np.floating) and value.dtype.itemsize < 8
    out = _as_written(value) if narrow and np.isfinite(value) else float(value)
    if not allow_nonfinite and not math.isfinite(out):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return out


def single(name: str, value: Any) -> Any:
    """``value`` itself, or the one element of an array (or list or tuple) of size 1, for the
    scalar arguments of the API (a temperature or frequency): neighbouring functions take
    arrays there, and ``temps[i:i + 1]`` was refused as "not a real number" (bt220 F3). The
    element is checked by the caller (:func:`positive` etc.).

    Raises
    ------
    TypeError
        An array of more than one element (or none), naming its shape.
    """
    if isinstance(value, np.ndarray | list | tuple):
        arr = value if isinstance(value, np.ndarray) else np.asarray(value, dtype=object)
        if arr.size != 1:
            raise TypeError(f"{name} must be one number (int or float, or an array of one "
                            f"element), got an array of shape {arr.shape}; call once per value")
        if isinstance(value, np.ndarray):
            return value.reshape(())
        return arr.reshape(-1)[0]
    return value


def finite(name: str, value: Any) -> float:
    """A finite real number, as a float."""
    return real(name, value)


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


def in_range(name: str, value: Any, low: float, high: float, *, low_open: bool = False,
             high_open: bool = False) -> float:
    """A finite number in [low, high] (or with open ends)."""
    out = finite(name, value)
    if (out < low or (low_open and out == low)) or (out > high or (high_open and out == high)):
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be in {left}{low:g}, {high:g}{right}, got {value!r}")
    return out


def integer(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """An integer within [low, high]; bools, strings and floats (even integral ones) are refused."""
    value = unwrap_scalar(name, value)
    if isinstance(value, bool | np.bool_) or not isinstance(value, _INT_TYPES):
        raise TypeError(f"{name} must be an integer, got {_describe(value, integral=True)}")
    out = int(value)
    if (low is not None and out < low) or (high is not None and out > high):
        if high is None:
            raise ValueError(f"{name} must be an integer >= {low}, got {out}")
        if low is None:
            raise ValueError(f"{name} must be an integer <= {high}, got {out}")
        raise ValueError(f"{name} must be an integer between {low} and {high}, got {out}")
    return out


#: Most bootstrap resamples taken: each is a fit (milliseconds), so 10^5 is minutes; 10^12 ran
#: for ever without a word (session 33). The error of an error from B resamples is ~1/sqrt(2B):
#: 10^5 gives it to 0.2 %.
MAX_BOOTSTRAP = 100_000


#: Fewest bootstrap resamples an error is taken from: the spread of B resamples is itself
#: uncertain by about 1 / sqrt(2 (B - 1)) -- 16 % at 20, 71 % at 2 (two or three resamples gave
#: errors 5-7x too small and wrong verdicts, session 43).
MIN_BOOTSTRAP = 20


def bootstrap_count(name: str, value: Any, none_means: str | None = "no bootstrap") -> int:
    """A number of bootstrap resamples: 0 (``none_means``; not allowed when None) or
    :data:`MIN_BOOTSTRAP` ... :data:`MAX_BOOTSTRAP`."""
    out = integer(name, value, 0, MAX_BOOTSTRAP)
    if out == 0 and not none_means:
        raise ValueError(f"{name} must be at least {MIN_BOOTSTRAP} ({_too_few_resamples(0)}), "
                         "got 0")
    if 0 < out < MIN_BOOTSTRAP:
        zero = f"0 ({none_means}) or " if none_means else ""
        raise ValueError(f"{name} must be {zero}at least {MIN_BOOTSTRAP} "
                         f"({_too_few_resamples(out)}), got {out}")
    return out


def _too_few_resamples(count: int) -> str:
    """Why ``count`` (0 where the errors need the bootstrap, or 1 ... MIN_BOOTSTRAP - 1)
    bootstrap resamples are refused (:func:`bootstrap_count`, :func:`cli_bootstrap`)."""
    if count == 0:
        return "the errors come from the bootstrap alone"
    return (f"the spread of n resamples is uncertain by about 1/sqrt(2(n - 1)): "
            f"{100 / math.sqrt(2 * max(count - 1, 1)):.0f} % at {count}")


def string(name: str, value: Any) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{name} must be a non-empty string, got {_describe(value)}")
    return value


def choice(name: str, value: Any, options: Iterable[str]) -> str:
    """One of a fixed set of names (a string; numbers and booleans are refused by type); a
    misspelt name is told the closest one (:func:`difflib.get_close_matches`)."""
    options = tuple(options)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {', '.join(map(repr, options))}; "
                        f"got {_describe(value)}")
    if value not in options:
        import difflib

        close = difflib.get_close_matches(value, options, n=1, cutoff=0.7) or [
            option for option in options if option.lower() == value.lower()]
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, "
                         f"got {one_line(repr(value))}"
                         + (f"; did you mean {close[0]!r}?" if close else ""))
    return value


def keywords(caller: str, options: Mapping[str, Any], target: Callable,
             excluded: Iterable[str] = (), before: Iterable[str] = ()) -> None:
    """Refuse keyword arguments that ``caller`` passes on to ``target`` but ``target`` does not
    take, named as ``caller``'s, with its keywords (``before`` its own, then ``target``'s less
    ``excluded``) and the closest one: ``compare_laws(..., t_max=0.8)`` said "fit_joint() got an
    unexpected keyword argument" (sessions 25 and 50).

    Raises
    ------
    TypeError
        Naming the unknown keywords, the accepted ones and the closest match.
    """
    import difflib
    import inspect

    excluded = set(excluded)
    accepted = [*before, *(name for name in inspect.signature(target).parameters
                           if name not in excluded)]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        close = difflib.get_close_matches(unknown[0], accepted, n=1, cutoff=0.6)
        raise TypeError(f"{caller}() got unexpected keyword argument(s) "
                        f"{', '.join(map(repr, unknown))}; its keywords are {', '.join(accepted)}"
                        + (f" (did you mean {close[0]!r}?)" if close else ""))


def _check_elements(name: str, value: Any) -> None:
    """Every leaf of a nested list/tuple is a real number (no bool, str, None)."""
    for item in value:
        if isinstance(item, list | tuple):
            _check_elements(name, item)
        elif isinstance(item, np.ndarray):
            _check_array_dtype(name, item)
        elif not is_real(item):
            raise TypeError(f"{name} must contain only real numbers (int or float), got "
                            f"{_describe(item)} in {_describe(value)}")


def _check_array_dtype(name: str, arr: np.ndarray) -> None:
    kind = arr.dtype.kind
    if kind in "iuf":
        return
    if kind == "O":
        for item in arr.ravel():
            if not is_real(item):
                raise TypeError(f"{name} must contain only real numbers (int or float), got "
                                f"{_describe(item)}")
        return
    what = {"b": "booleans", "U": "strings", "S": "bytes", "c": "complex numbers"}.get(
        kind, f"dtype {arr.dtype}")
    raise TypeError(f"{name} must be an array of real numbers, got an array of {what}")


def check_real_elements(name: str, value: Any) -> None:
    """TypeError naming ``name`` unless ``value`` is a real number or a (nested) list, tuple or
    numeric array of them: None, a string, a mapping, booleans or complex numbers are refused
    (the type checks of :func:`real_array`, for callers that word their own messages about
    shapes and non-finite values)."""
    if isinstance(value, str | bytes | Mapping) or value is None:
        raise TypeError(f"{name} must be an array of real numbers, got {_describe(value)}")
    if isinstance(value, list | tuple):
        _check_elements(name, value)
    elif isinstance(value, np.ndarray):
        _check_array_dtype(name, value)
    elif np.ndim(value) == 0:
        if not is_real(unwrap_scalar(name, value)):
            raise TypeError(f"{name} must be a real number or an array of them, got "
                            f"{_describe(value)}")


def real_array(name: str, value: Any, shape: tuple[int, ...] | None = None, *,
               keep_float: bool = False) -> np.ndarray:
    """A finite float64 array, optionally of a given shape (elements must be real numbers).

    With ``keep_float`` a float32 or float64 numpy array is returned as it is (not converted, not
    copied): for large operators computed in float32 on purpose. A numpy masked array with masked
    entries is refused (numpy would hand over the numbers under the mask; a reviewer, session 27);
    one without is taken as its data.
    """
    if isinstance(value, np.ma.MaskedArray):
        masked = int(np.count_nonzero(np.ma.getmaskarray(value)))
        if masked:
            raise ValueError(f"{name} has {masked} masked entr{'y' if masked == 1 else 'ies'} (a "
                             "numpy masked array): the numbers under the mask would be used; "
                             "pass the valid entries only (with those of the other arrays)")
        value = np.ma.getdata(value)
    if keep_float and isinstance(value, np.ndarray) and value.dtype in (np.float32, np.float64):
        if shape is not None and value.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got shape {value.shape}")
        _require_finite(name, value)
        return value
    check_real_elements(name, value)
    try:
        arr = np.asarray(value)
        if not isinstance(value, list | tuple | np.ndarray):
            _check_array_dtype(name, arr)
        arr = arr.astype(np.float64, copy=False)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of real numbers, got {_describe(value)}"
                        ) from None
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got shape {arr.shape}")
    _require_finite(name, arr)
    return arr


def _is_default(labels: Any) -> bool:
    """A pandas RangeIndex 0 .. n-1: the labels pandas gives when none were chosen."""
    return type(labels).__name__ == "RangeIndex" and labels.start == 0 and labels.step == 1


def _labels(value: Any) -> tuple[str, Any, bool] | None:
    """(what, labels, default) of a labelled array: a pandas Series' index (``default`` when it
    is the default 0 .. n-1 RangeIndex), a DataFrame's columns or a 2-d xarray DataArray's last
    coordinate (the axis paired with x, as in ``analyse_shape``'s realisations x points), a 1-d
    DataArray's coordinate; None for anything else."""
    module = type(value).__module__.split(".")[0]
    if module == "pandas" and hasattr(value, "index"):
        if getattr(value, "ndim", 0) == 1:
            return "index", value.index, _is_default(value.index)
        if getattr(value, "ndim", 0) == 2 and hasattr(value, "columns"):
            # default 0 .. n-1 columns as a default index (helper-155)
            return "columns", value.columns, _is_default(value.columns)
    if module == "xarray" and getattr(value, "ndim", 0) in (1, 2) and hasattr(value, "dims"):
        dim = value.dims[-1]
        return "coordinate", (value.indexes[dim] if dim in value.indexes else None), False
    return None


def _compared(a: tuple[str, Any, bool], b: tuple[str, Any, bool]) -> bool:
    """Whether two arrays' labels must agree. A default 0 .. n-1 index labels nothing beside
    labels of another kind or another set (a Series built from numpy beside a DataFrame of
    realisations, or beside a filtered column), but beside the same labels in another order it
    is the row order numpy would pair wrongly: ``q.sort_values()`` beside ``t``, both from a
    ``read_csv`` frame, gave a = 100 for a tanh curve (a break test, session 50)."""
    if a[1] is None or b[1] is None:
        return False
    if a[2] or b[2]:  # sets, not sorted labels: an index of str and int cannot be sorted and
        # raised "'<' not supported" (a second round, helper-155)
        return (a[0] in ("index", "columns") and b[0] in ("index", "columns")
                and len(a[1]) == len(b[1])
                and a[1].difference(b[1]).empty and b[1].difference(a[1]).empty)
    return True


def _check_dimension_order(arrays: dict[str, Any]) -> None:
    """Refuse a 2-d xarray DataArray whose dimension shared with a 1-d DataArray beside it is
    not its last: a square (x, realisation) array was taken transposed (a = -0.999 for -0.099;
    a second round, helper-155)."""
    dims = {name: tuple(value.dims) for name, value in arrays.items()
            if type(value).__module__.split(".")[0] == "xarray" and hasattr(value, "dims")}
    for one, one_dims in dims.items():
        for two, two_dims in dims.items():
            if len(one_dims) == 1 and len(two_dims) == 2 and one_dims[0] == two_dims[0]:
                raise ValueError(f"{two} has dimensions {two_dims} and {one} {one_dims}: the "
                                 f"dimension paired with {one} must be {two}'s last (e.g. "
                                 f"{two}.transpose(..., {one_dims[0]!r}))")


def check_aligned(**arrays: Any) -> None:
    """Refuse paired labelled arrays whose labels differ: numpy pairs them by position, so the
    same pandas Series in another row order (``q.sort_values()``) gave a different fit without a
    word (index a = 1.0 became -0.68; a break test, session 46). Looked at: pandas Series (their
    index; a default 0 .. n-1 index only beside the same labels in another order), DataFrames
    (their columns, the axis paired with x), xarray DataArrays (the coordinate of their last
    dimension, as xarray's own arithmetic aligns them; 2-d ones were not looked at before
    session 50). Equal labels are taken as pairing the entries in order, repeated ones too (two
    columns of one DataFrame share them; which rows of two separately built Series with repeated
    labels belong together cannot be told). Other arguments are not looked at.

    Raises
    ------
    ValueError
        Naming the first two arguments whose labels differ.
    """
    _check_dimension_order(arrays)
    labelled = [(name, found) for name, value in arrays.items() if (found := _labels(value)) is not None]
    for (first, found_a), (second, found_b) in itertools.combinations(labelled, 2):
        (kind_a, a, default_a), (kind_b, b, default_b) = found_a, found_b
        if a is b or not _compared(found_a, found_b):
            continue
        if not a.equals(b) and (default_a or default_b):
            # which one was reordered cannot be told: the reindex advice scrambled a Series
            # whose default index was only its positions (a second round, helper-155)
            plain, other = (first, second) if default_a else (second, first)
            raise ValueError(
                f"{first} ({kind_a}) and {second} ({kind_b}) carry the same labels in different "
                f"orders ({plain} the default 0 .. n-1 index, {other} another order): numpy "
                f"pairs them by position, pandas by label, and which is meant cannot be told; "
                f"pass numpy arrays in the order you mean (.to_numpy() of each), or give them "
                f"the same index")
        if not a.equals(b):
            overlap = len(a.intersection(b)) if hasattr(a, "intersection") else 0
            fix = (f"align them first (e.g. {second} = {second}.reindex({first}.index)) or pass "
                   "numpy arrays in one order" if overlap and kind_a == kind_b == "index" else
                   "pass numpy arrays in one order (.to_numpy() of each), or give them the same "
                   "labels")
            raise ValueError(f"{first} ({kind_a}) and {second} ({kind_b}) carry different labels, "
                             f"and would be paired by position, not by label: {fix}")


def native_order(value: Any) -> Any:
    """A float32/float64 array stored in the other byte order ('>f8' on this machine) as the same
    numbers in the native order (a copy); anything else unchanged. The dense solver and T_mn
    refused '>f8' while every other function converted it (a break test, session 46)."""
    if (isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.dtype.itemsize in (4, 8)
            and not value.dtype.isnative):
        return value.astype(value.dtype.newbyteorder("="))
    return value


def _require_finite(name: str, arr: np.ndarray) -> None:
    """ValueError naming the first NaN or inf of a float array. The sum (NaN and inf propagate)
    decides without a temporary of the array's size; only an overflowing sum or a genuine NaN/inf
    is looked at element by element."""
    if arr.size == 0:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(np.sum(arr, dtype=np.float64))
    if math.isfinite(total):
        return
    bad = ~np.isfinite(arr)
    if not bad.any():
        return
    where = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), arr.shape))
    at = where[0] if len(where) == 1 else where
    raise ValueError(f"{name} must contain only finite numbers, got NaN or inf "
                     f"({float(arr[where])!r} at index {at}, {int(bad.sum())} in all)")


def real_vector(name: str, value: Any, size: int | None = None, *, hint: str = "") -> np.ndarray:
    """A non-empty 1-d float64 array of finite real numbers; a scalar is one value. ``size``
    fixes the length; ``hint`` (e.g. " (one value per TLS)") is added to the shape messages."""
    if hasattr(value, "energies") and not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be an array of real numbers{hint}, got a "
                        f"{type(value).__name__} (pass its .energies)")
    arr = np.atleast_1d(real_array(name, value))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d array, got shape {arr.shape}{hint}")
    if size is not None and arr.size != size:
        got = f"{value!r}" if np.ndim(value) == 0 else f"shape {arr.shape}"
        raise ValueError(f"{name} must have shape ({size},), got {got}{hint}")
    return arr


def non_negative_below(name: str, value: Any, high: float, what: str = "", why: str = "") -> float:
    """A finite number in [0, high); ``what`` names the quantity before the bound and ``why``
    explains it after (``"{name} must be{what} < {high}{why}, got ..."``)."""
    out = non_negative(name, value)
    if out >= high:
        raise ValueError(f"{name} must be{what} < {high:g}{why}, got {value!r}")
    return out


def generator(name: str, value: Any, *, optional: bool = True) -> Any:
    """A ``numpy.random.Generator``, or None where ``optional``; an int seed or a legacy
    RandomState is refused with the way to make a Generator from it (one check for every
    function that draws: five copies with three wordings before session 57)."""
    if isinstance(value, np.random.Generator) or (optional and value is None):
        return value
    if isinstance(value, _INT_TYPES) and not isinstance(value, bool | np.bool_):
        hint, got = f" (e.g. numpy.random.default_rng({int(value)}))", f"int {int(value)}"
    else:
        hint, got = " (numpy.random.default_rng(seed))", _describe(value)
    raise TypeError(f"{name} must be a numpy.random.Generator{hint}{' or None' if optional else ''}"
                    f", got {got}")


def boolean(name: str, value: Any) -> bool:
    """A ``bool`` (or numpy bool); 0/1, "yes" and None are refused (a number is told the bool
    to write: the number describer's "(a float; write 0)" named a value refused here; session
    45). A 0-d bool array (e.g. ``np.all(...)`` of an array) is taken as its bool."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind == "b":
        value = bool(value)
    if not isinstance(value, bool | np.bool_):
        if isinstance(value, int | float | np.integer | np.floating) and value in (0, 1):
            raise TypeError(f"{name} must be True or False, got {value!r} (a number; write "
                            f"{bool(value)})")
        raise TypeError(f"{name} must be True or False, got {_describe(value)}")
    return bool(value)


def path(name: str, value: Any) -> Any:
    """``value`` if it is a path, a ``str`` or ``os.PathLike``; else a TypeError naming ``name``
    (None or a dict got Python's own "expected str, bytes or os.PathLike object", naming no
    parameter; a break test, session 48)."""
    import os

    if not isinstance(value, str | os.PathLike):
        raise TypeError(f"{name} must be a file path (str or os.PathLike), got {_describe(value)}")
    return value


def temperature_window(name: str, value: Any) -> tuple[float | None, float | None]:
    """A temperature window ``(tmin, tmax)`` (K): a pair (tuple, list or 2-element array) of
    numbers or None (an open edge), tmin >= 0 (0: no lower edge), tmax > 0, tmin below tmax;
    returned as floats (or None). Text (``"0.1,0.5"``), one number, a pair of strings
    (``("50mK", "0.8K")``) or a reversed pair got numpy's messages or an empty window found
    after reading (bt190).

    Raises
    ------
    TypeError
        Not a pair, or an edge that is not a number or None.
    ValueError
        A pair of another length, an edge not finite, tmin < 0, tmax <= 0, tmin at or above
        tmax.
    """
    expected = "a (tmin, tmax) pair of temperatures in K (a number or None for an open edge)"
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "iuf":
        value = tuple(value.tolist())
    if not isinstance(value, tuple | list):
        raise TypeError(f"{name} must be {expected}, got {_describe(value)}")
    if len(value) != 2:
        raise ValueError(f"{name} must be {expected}, got {len(value)} value(s): "
                         f"{one_line(repr(value), type(value).__name__)}")
    tmin = None if value[0] is None else non_negative(f"{name}[0] (tmin, K)", value[0])
    tmax = optional_positive(f"{name}[1] (tmax, K)", value[1])
    if tmin is not None and tmax is not None and tmin >= tmax:
        raise ValueError(f"{name} must be {expected} with tmin below tmax, got "
                         f"({tmin:g}, {tmax:g})")
    return tmin, tmax


def window_edges(tmin: Any, tmax: Any) -> tuple[float | None, float | None]:
    """The edges of a temperature window given as two parameters ``tmin`` and ``tmax`` (K): each
    None (open) or a finite number (tmin >= 0, tmax > 0), tmin below tmax (the rule of
    :func:`temperature_window` for functions that take the edges apart)."""
    low = None if tmin is None else non_negative("tmin (K)", tmin)
    high = optional_positive("tmax (K)", tmax)
    if getattr(tmax, "unit_given", False):  # the command line's '20K' (a float that knows its
        high = tmax  # unit was written) stays one: check_tmax takes it as meant, not as mK
    if low is not None and high is not None and low >= high:
        raise ValueError(f"tmin must be below tmax, got tmin={low:g} K, tmax={high:g} K")
    return low, high


def optional_positive(name: str, value: Any) -> float | None:
    """None, or a finite number > 0 as a float."""
    return None if value is None else positive(name, value)


def callable_or_none(name: str, value: Any, expected: str = "a function") -> Any:
    """``value`` if it is None or callable, else a TypeError naming ``name``."""
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be {expected} or None, got {_describe(value)}")
    return value


def instance(name: str, value: Any, cls: type | tuple[type, ...], expected: str, *,
             reader: str = "") -> Any:
    """``value`` if it is an instance of ``cls``, else a TypeError saying what was expected.
    ``reader`` (e.g. ``"read_sweep(path)"``): the function that reads such an object from a file,
    named when ``value`` is a path (a path given for the object got "'str' object has no
    attribute ...", bt187)."""
    if not isinstance(value, cls):
        hint = (f"; read the file first with {reader}" if reader
                and isinstance(value, str | os.PathLike) else "")
        raise TypeError(f"{name} must be {expected}, got {_describe(value)}{hint}")
    return value


def frozen_copy(value: np.ndarray | None) -> np.ndarray | None:
    """A read-only copy of a validated array, for a frozen dataclass to keep (None stays None).

    Keeping the validated array itself froze the caller's array when it was one (``eps *= 2``
    then failed), and kept a view of the caller's data, which changed the "validated" object
    when the caller edited it (a tester, session 39)."""
    if value is None:
        return None
    out = np.array(value, copy=True)
    out.setflags(write=False)
    return out


def frozen_mapping(items: Mapping) -> MappingProxyType:
    """A read-only view of a copy of ``items``, for a frozen dataclass to keep (a sweep's axes,
    a realisation's couplings). Such views pickle and deep-copy (as this mapping) once this
    module is imported: the standard library cannot, and ``pickle.dumps(spec)``,
    ``copy.deepcopy(spec)`` and ``dataclasses.asdict(spec)`` of a RunSpec failed with "cannot
    pickle 'mappingproxy' object" (a break test, session 47)."""
    return MappingProxyType(dict(items))


def same_values(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` hold the same values: arrays by shape and content, mappings and
    dataclasses field by field, anything else by ``==``. The ``__eq__`` of frozen dataclasses
    that keep arrays: the generated one compared tuples of arrays and raised numpy's "truth value
    of an array is ambiguous" (a break test, session 47)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and bool(np.array_equal(a, b)))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same_values(a[k], b[k]) for k in a)
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(same_values(getattr(a, f.name), getattr(b, f.name))
                                          for f in dataclasses.fields(a))
    return bool(a == b)


class ArrayFields:
    """Base of the frozen dataclasses that keep read-only arrays (declared with ``eq=False``, so
    that these methods stand): equality by value (:func:`same_values`; the generated ``__eq__``
    compared tuples of arrays and raised numpy's "truth value of an array is ambiguous"), and
    the arrays named in ``READ_ONLY_ARRAYS`` read-only again after pickle or deepcopy, which give
    back writable ones (a copied LossCurve's temperatures could be set to -5 past every check;
    the arrays are fresh, so no copy is made). Two break tests, session 47. Unhashable, as
    their arrays are."""

    #: Set in a subclass without an annotation, so that it is no field, not even a ClassVar
    #: one in ``__dataclass_fields__``, which code rebuilding a dataclass from it passes on.
    READ_ONLY_ARRAYS: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return same_values(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __setstate__(self, state: dict) -> None:
        for name, value in state.items():
            if name in self.READ_ONLY_ARRAYS and isinstance(value, np.ndarray):
                value.setflags(write=False)
            object.__setattr__(self, name, value)


def _reduce_mapping_view(view: MappingProxyType) -> tuple:
    return frozen_mapping, (dict(view),)


copyreg.pickle(MappingProxyType, _reduce_mapping_view)


def positive_array(name: str, value: Any) -> np.ndarray:
    """A 1-d, non-empty array of finite numbers > 0."""
    arr = np.atleast_1d(real_array(name, value))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d array, got shape {arr.shape}")
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0 everywhere, got minimum {float(arr.min())!r}")
    return arr


#: Largest temperature or probe frequency accepted (K): far above any glass experiment, low enough
#: that a value in the wrong unit (mK or Hz read as K) is caught.
MAX_KELVIN = 1000.0


def probe_axis(name: str, value: Any) -> np.ndarray:
    """Probe frequencies or temperatures (K): a 1-d array of distinct finite numbers in
    (0, MAX_KELVIN); a scalar is one value. Repeated values would make duplicate coordinates in the
    results (``sel`` would return several columns)."""
    arr = positive_array(name, written_numbers(value))
    if np.any(arr >= MAX_KELVIN):
        raise ValueError(f"{name} must be below {MAX_KELVIN:g} K (energies, temperatures and "
                         f"frequencies are in kelvin: 1 GHz = 0.048 K), got {float(arr.max())!r}")
    repeats = near_repeats(arr)
    if repeats:
        raise ValueError(f"{name} must not repeat a value, got {describe_repeats(repeats)}; "
                         "give each once")
    return arr


#: Values of a coordinate closer than this, relative to their size, are one value given twice
#: (e.g. a generated grid rounded twice): results with such coordinates cannot be told apart.
REPEAT_RTOL = 1e-9


def near_repeats(values: Any, rtol: float = REPEAT_RTOL) -> list[tuple[float, float]]:
    """Pairs of numbers in ``values`` that are equal, or equal within ``rtol`` of their size.

    Parameters
    ----------
    values : array_like
        Real numbers (any order); non-numeric entries are ignored (an empty list is returned).
    rtol : float
        Relative tolerance |a - b| <= rtol * max(|a|, |b|).

    Returns
    -------
    list of (float, float)
        Neighbours in sorted order that coincide within ``rtol`` (exact repeats included).
    """
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        return []
    if arr.size < 2 or not np.all(np.isfinite(arr)):
        return []
    order = np.argsort(arr, kind="stable")
    arr = arr[order]
    # the numbers as given (whole numbers stay whole: "[3, 3] (3 twice)", not "3.0 twice")
    given = [x.item() if isinstance(x, np.generic) else x
             for x in np.asarray(values, dtype=object).ravel()[order]]
    given = [x if isinstance(x, int) and not isinstance(x, bool) else float(x) for x in given]
    low, high = arr[:-1], arr[1:]
    with np.errstate(over="ignore"):  # -1.7e308 .. 1.7e308: an infinite gap is not close
        close = (high - low) <= rtol * np.maximum(np.abs(low), np.abs(high))
    return [(given[i], given[i + 1]) for i in np.flatnonzero(close)]


def describe_repeats(pairs: list[tuple[float, float]], shown: int = 3) -> str:
    """``0.01 twice``, ``0.02 three times`` or ``0.01 and 0.010000000001, equal within 1e-09
    relative``, joined by "; ": one entry per group of coinciding values (the neighbour pairs of
    :func:`near_repeats` that share a value; three equal values were "0.02 twice; 0.02 twice",
    a break test bt196), the first ``shown`` groups and how many more (50 listed pairs made one
    unreadable line)."""
    groups: list[list] = []
    for a, b in pairs:  # neighbours in sorted order: a chain of coinciding values shares its ends
        if groups and groups[-1][-1] == a:
            groups[-1].append(b)
        else:
            groups.append([a, b])

    def told(group: list) -> str:
        if all(x == group[0] for x in group):
            return f"{group[0]!r} {_times(len(group))}"
        return (f"{', '.join(map(repr, group[:-1]))} and {group[-1]!r}, equal within "
                f"{REPEAT_RTOL:g} relative")

    text = "; ".join(told(group) for group in groups[:shown])
    rest = groups[shown:]
    if not rest:
        return text
    what = "pair(s)" if all(len(group) == 2 for group in rest) else "group(s) of coinciding values"
    return text + f"; and {len(rest)} more {what}"


def _times(count: int) -> str:
    """``twice``, ``three times``, ..., ``12 times``."""
    words = {2: "twice", 3: "three times", 4: "four times", 5: "five times"}
    return words.get(count, f"{count} times")


def check_log_spacing(where: str, low: float, high: float, count: int) -> None:
    """Refuse ``count`` log-spaced values on [low, high] whose neighbours would be equal within
    ``REPEAT_RTOL``, naming the three numbers (instead of listing every generated pair)."""
    if count > 1 and high > low and math.log(high / low) / (count - 1) <= 2 * REPEAT_RTOL:
        raise ValueError(f"{where}: {count} log-spaced values from {low!r} to {high!r} are "
                         f"closer than {REPEAT_RTOL:g} relative; give fewer values or a wider "
                         "range")


def string_keys(where: str, data: Any) -> None:
    """Refuse a key that is not a string anywhere in the nested tables ``data`` (mappings, and
    lists or tuples of them), as a TOML file cannot hold one: a dict built in Python with
    ``{3: 4}`` got difflib's "'int' object is not iterable" from the unknown-key message (a
    tester, bt207 F4).

    Raises
    ------
    TypeError
        Naming the key, its type and the table (``where`` and the keys leading to it).
    """
    if isinstance(data, Mapping):
        for key, value in data.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has the key {one_line(repr(key))} "
                                f"({type(key).__name__}); every key of a table must be a string, "
                                "as in a TOML file")
            string_keys(f"{where}.{key}" if where != "the run specification" else key, value)
    elif isinstance(data, list | tuple):
        for item in data:
            string_keys(where, item)


def unknown_keys(unknown: Iterable[str], valid: Iterable[str], where: str, *,
                 suggest: bool = True) -> str:
    """The message for keys of ``where`` that are not among ``valid``: "unknown key(s) 'asymetry_max'
    in model.tls; valid keys are ...; did you mean 'asymmetry_max' for 'asymetry_max'?" (the
    close spelling by :func:`difflib.get_close_matches`; a misspelt ``[solvr]`` or
    ``asymetry_max`` got the list alone, session 40); ``suggest=False`` leaves it out (where
    the caller names the keys' places itself)."""
    import difflib

    unknown, valid = list(unknown), list(valid)
    close = [f"{match[0]!r} for {key!r}" for key in unknown
             if suggest and (match := difflib.get_close_matches(key, valid, n=1, cutoff=0.7)
                             or [k for k in valid if sorted(k) == sorted(key)])]
    return (f"unknown key(s) {', '.join(map(repr, unknown))} in {where}; valid keys are "
            f"{', '.join(valid)}" + (f"; did you mean {', '.join(close)}?" if close else ""))


def from_mapping(cls: type, data: Mapping[str, Any], where: str) -> Any:
    """Build a keyword-only dataclass from a mapping, rejecting unknown keys with the valid ones
    and naming the required keys it lacks (``where.key``)."""
    if not isinstance(data, Mapping):
        raise TypeError(f"{where} must be a table of keys, got {_describe(data)}")
    string_keys(where, data)
    valid = [f.name for f in dataclasses.fields(cls) if f.init]
    unknown = sorted(set(map(str, data)) - set(valid))
    if unknown:
        raise ValueError(unknown_keys(unknown, valid, where))
    # a missing required key was Python's "__init__() missing 1 required keyword-only argument"
    # (a tester, session 38)
    missing = [f.name for f in dataclasses.fields(cls) if f.init and f.name not in data
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ValueError(f"{', '.join(f'{where}.{name}' for name in missing)} "
                         f"{'is' if len(missing) == 1 else 'are'} required (the keys of {where} "
                         f"are {', '.join(valid)})")
    return cls(**data)


# -- command-line options (argparse ``type=`` functions; argparse names the option) -------------

def cli_path(text: str) -> str:
    """An argparse ``type`` for a path option: a leading ``~`` or ``~user`` is the home
    directory, as the shell would have made it (a quoted ``'~/x.nc'`` created a folder named
    ``~``; a reviewer, session 27). Nothing else changes (globs, relative paths). An empty
    string is refused: it meant the current directory (session 31), never what was meant."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a path, got {text!r}")
    path = os.path.expanduser(text)
    try:
        os.stat(path)
    except OSError as exc:  # a loop of symbolic links: "does not exist", or a traceback from
        if exc.errno == errno.ELOOP:  # the reading or resolving (a tester, bt207)
            raise argparse.ArgumentTypeError(
                f"{text!r} is a loop of symbolic links (too many levels of symbolic links); "
                "give the file itself") from None
    except ValueError:  # an embedded NUL byte: left to the command, which names it
        pass
    return path


def cli_label(text: str) -> str:
    """An argparse ``type`` for a record's name (``--label``, the key of a run in a JSON file of
    results): a non-empty, printable name without surrounding blanks. An empty --label ended
    ``bench_chebyshev.py run`` in a KeyError after the measurement, and
    ``bench_figure_of_merit.py`` wrote its record under the key "" (a break test, session 53)."""
    if not text.strip() or not text.isprintable() or text != text.strip():
        raise argparse.ArgumentTypeError(
            f"expected a non-empty, printable name without leading or trailing blanks, got {text!r}")
    return text


#: Seeds must fit a signed 64-bit integer (they are stored as file attributes).
MAX_SEED = 2**63 - 1


def cli_integer(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """An argparse ``type`` accepting a decimal integer in [low, high] ("4.0" and "yes" refused)."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip(), 10)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer{_bounds(low, high)}, got {text!r}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected an integer{_bounds(low, high)}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def cli_bootstrap(none_means: str | None = "no bootstrap") -> Callable[[str], int]:
    """An argparse ``type`` for a number of bootstrap resamples, as :func:`bootstrap_count`:
    0 (``none_means``; refused when None) or :data:`MIN_BOOTSTRAP` ... :data:`MAX_BOOTSTRAP`.
    Every refusal states the whole rule (a first version answered -1 with "between 0 and
    100000" where 0 is refused; a break test, session 44)."""
    rule = (f"an integer between {MIN_BOOTSTRAP} and {MAX_BOOTSTRAP}" if not none_means else
            f"0 ({none_means}) or an integer between {MIN_BOOTSTRAP} and {MAX_BOOTSTRAP}")

    def parse(text: str) -> int:
        try:
            value = int(text.strip(), 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {rule}, got {text!r}") from None
        if value == 0 and none_means:
            return 0
        if MIN_BOOTSTRAP <= value <= MAX_BOOTSTRAP:
            return value
        why = f" ({_too_few_resamples(value)})" if 0 <= value < MIN_BOOTSTRAP else ""
        raise argparse.ArgumentTypeError(f"expected {rule}{why}, got {value}")

    return parse


def cli_real(low: float | None = None, high: float | None = None, *,
             low_open: bool = False) -> Callable[[str], float]:
    """An argparse ``type`` accepting a finite real number in [low, high] (or (low, high])."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        bad = not math.isfinite(value) or (low is not None and (
            value < low or (low_open and value == low))) or (high is not None and value > high)
        if bad:
            lo = "" if low is None else (f" > {low:g}" if low_open else f" >= {low:g}")
            hi = "" if high is None else f" <= {high:g}"
            joint = " and" if lo and hi else ""
            raise argparse.ArgumentTypeError(f"expected a finite number{lo}{joint}{hi}, "
                                             f"got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


def _bounds(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f" between {low} and {high}"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""


def cli_refuse_repeats(parser: argparse.ArgumentParser, args: argparse.Namespace,
                       *names: str) -> None:
    """``parser.error`` (one line, exit status 2) where a list option among ``names`` (argparse
    destinations) repeats a value: a repeated size or ratio ran its case twice and kept one record
    (a reviewer's check of the benchmark scripts, session 24)."""
    for name in names:
        values = getattr(args, name, None)
        if values and len(set(values)) != len(values):
            parser.error(f"--{name.replace('_', '-')} must not repeat a value, got "
                         f"{' '.join(map(str, values))}")


#: An argparse ``type`` for a seed: an integer in [0, MAX_SEED].
cli_seed = cli_integer(0, MAX_SEED)


def labels(name: str, value: Any, count: int | None = None) -> tuple[str, ...]:
    """Names of ``count`` items (e.g. one per curve): a list or tuple of strings, returned as a
    tuple. A bare string (``"ab"`` was split into the labels 'a', 'b'), a mapping (its keys were
    taken), numbers, None or a list of another length are refused in one line (bt193).

    Raises
    ------
    TypeError
        Not a list/tuple, or an item that is not a string.
    ValueError
        Not ``count`` items.
    """
    expected = "a list or tuple of strings" + (f", one per curve ({count})" if count is not None
                                                else "")
    if not isinstance(value, list | tuple):
        raise TypeError(f"{name} must be {expected}, got {_describe(value)}")
    if count is not None and len(value) != count:
        raise ValueError(f"{name} must be {expected}, got {len(value)} label(s): "
                         f"{one_line(repr(value), type(value).__name__)}")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise TypeError(f"{name}[{i}] must be a string, got {_describe(item)}")
    return tuple(value)
