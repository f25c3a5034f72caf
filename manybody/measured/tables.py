"""Read measured loss tables (Q_int, Q^-1 or tan delta against T) as experimentalists have them.

A table is a delimited text file with one header line naming the columns (optionally preceded by
free-text or ``#`` comment lines). The reader copes with:

* separators ``,`` ``;`` or tab (sniffed from the lines, not guessed from the extension);
* decimal commas (``1,64E+06``) whenever the separator is not a comma, and mixed number formats
  (``1,64E+06`` beside ``3464415``);
* a UTF-8 (or UTF-16) byte-order mark, Windows line endings, quoted fields;
* units in the headers: temperature in ``mK`` or ``K`` (``Temperatur (mK)``, ``T [K]``, ``T_mK``);
  loss as a quality factor (``Q``, ``Qi``, ``Qint``: converted to 1/Q), as an inverse quality factor
  (``Q^-1``, ``1/Q``, ``loss``) or as a loss tangent (``tan delta``: kept as is and flagged);
  optional drive power (``Power (dBm)``, ``P [W]``, ``photons``);
* units written in the cells (``100 mK``), as long as one column uses one unit;
* a scale in the loss column's header: ``tan d (ppm)``, ``loss (%)``, ``1/Q (1e-6)``,
  ``Qi (x10^5)`` (the values shown are in units of it; ppm or % of a Q is refused, as is any
  unit that is not dimensionless, e.g. ``(Hz)``);
* an optional uncertainty column (``Qi error``, ``Qi_err``, ``dQi``, ``sigma``, ...), in the units
  of the loss column, or in its own (``(%)``: percent of the value; ``(ppm)``, ``(1e-6)``): errors
  of Q are converted to errors of Q^-1, sigma_Q / Q^2.

Values outside the physical range are refused, naming the file, column, row and value:
temperatures outside 0 < T < 1000 K, quality factors, inverse quality factors, loss tangents and
errors <= 0, powers outside -300 ... +100 dBm. Exactly repeated rows are read but warned about
(``UserWarning``). Anything it cannot read is reported as a ValueError naming the file, the column
and what was found. :func:`curves_from_table` splits a table into the loss curves the law fits
take (:class:`manybody.laws.inputs.LossCurve`, one per drive power).
"""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from manybody.laws.inputs import MAX_TEMPERATURE, LossCurve, check_power_dbm

#: Number of leading lines used to sniff the separator.
_SNIFF_LINES = 50
_SEPARATORS = ("\t", ";", ",")
_SEP_NAMES = {"\t": "tab", ";": "';'", ",": "','"}


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_CELL_UNIT = re.compile(r"^(?P<num>.*?\d\.?)\s*(?P<unit>mK|K)$")


@dataclass(frozen=True)
class LossTable:
    """A measured loss curve read from one file.

    Attributes
    ----------
    temperature : numpy.ndarray
        Temperatures T (K), > 0, in file order.
    loss : numpy.ndarray
        Q^-1 (dimensionless; converted from Q when the file gives a quality factor) or, when
        ``is_loss_tangent``, the loss tangent tan(delta) as given.
    power : numpy.ndarray or None
        Drive power per row in ``units["power"]`` (e.g. dBm), or None when the file has no power
        column.
    is_loss_tangent : bool
        True when the loss column is a loss tangent (kept as is, not converted).
    source : str
        Path of the file.
    label : str
        Short name (the file stem), used in joint fits and figures.
    columns : tuple of str
        All column names found in the header.
    temperature_column, loss_column : str
        Columns used.
    power_column : str or None
        Power column used.
    units : dict
        Units detected: "temperature" ("mK" or "K"), "loss" (what the column held: "Q",
        "Q^-1" or "tan delta"), "power" (e.g. "dBm") when present.
    separator, decimal : str
        Separator and decimal mark detected.
    sigma : numpy.ndarray or None
        One-standard-deviation errors of ``loss`` (converted like the loss: sigma_Q / Q^2 when
        the file gives Q and its error), or None without an error column.
    error_column : str or None
        Uncertainty column used.
    """

    temperature: np.ndarray
    loss: np.ndarray
    power: np.ndarray | None
    is_loss_tangent: bool
    source: str
    label: str
    columns: tuple[str, ...]
    temperature_column: str
    loss_column: str
    power_column: str | None
    units: dict = field(default_factory=dict)
    separator: str = ","
    decimal: str = "."
    sigma: np.ndarray | None = None
    error_column: str | None = None

    def __len__(self) -> int:
        return int(self.temperature.size)

    def metadata(self) -> dict:
        """JSON-ready description of where the numbers came from."""
        return {
            "source": self.source, "label": self.label, "columns": list(self.columns),
            "temperature_column": self.temperature_column, "loss_column": self.loss_column,
            "power_column": self.power_column, "units": dict(self.units),
            "is_loss_tangent": self.is_loss_tangent, "separator": _SEP_NAMES[self.separator],
            "decimal": self.decimal, "n_rows": len(self), "error_column": self.error_column,
        }


# --------------------------------------------------------------------------- header classification


_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")


def _norm(name: str) -> str:
    """Lower-case header with BOM, quotes and surrounding blanks removed, and a superscript
    exponent written out ('×10⁻⁶' -> '×10^-6'; it was read as no scale, a reviewer, session 27)."""
    text = name.replace("\ufeff", "").strip().strip('"').strip().lower()
    return re.sub(r"10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+)",
                  lambda m: "10^" + m.group(1).translate(_SUPERSCRIPTS), text)


def header_unit(name: str) -> str | None:
    """Unit written in a header: '(mK)', '[K]', '/ K', '_mK', ' in mK', ... (None if none)."""
    n = _norm(name)
    m = re.search(r"[\(\[\{]\s*([^\)\]\}]*)\s*[\)\]\}]\s*$", n)
    if m:
        return m.group(1).strip()
    m = re.search(r"(?:[_/ ]|\bin\s)\s*(mk|k|dbm|mw|w|uw|nw)$", n)
    return m.group(1) if m else None


def _temperature_unit(name: str) -> str | None:
    unit = header_unit(name)
    if unit is None:
        return None
    unit = unit.replace(" ", "")
    return {"mk": "mK", "k": "K"}.get(unit, "?" + unit)


def is_temperature(name: str) -> bool:
    n = _norm(name)
    return bool(re.match(r"^(temp|temperatur|temperature|t)\b|^t[_\(\[ ]|^t$|^temp", n))


_INVERSE_Q = re.compile(
    r"(q_?(i|int|internal)?\s*\^?\s*\{?\s*-\s*1\}?|1\s*/\s*q|inverse\s*q|q_?inv|^loss\b|"
    r"internal\s+loss|^qi?\s*-1)")
_TAN_DELTA = re.compile(r"(tan\s*[\(_ ]?\s*(delta|δ|d)\b|loss\s*tangent|tandelta|tand\b)")
_Q_AUTO = re.compile(r"^(q|qi|q_i|qint|q_int|q\s*int|q\s*i|q\s*internal|q_internal|"
                     r"internal\s*q|internal\s+quality\s+factor|quality\s*factor)$")
_Q_OTHER = re.compile(
    r"^(ql|q_l|qc|q_c|qe|q_e|qload|qloaded|q_loaded|qcoupling|q_coupling|q0|q_0)$")
_ERROR = re.compile(r"(\berr(or|ors)?\b|_err|err$|\buncertaint|\bsigma\b|σ|^sigma|^d\s*q|"
                    r"^delta\s*q|^δ\s*q|\bstd\b|\bstdev\b|\bstd\.?\s*dev)")
_POWER = re.compile(r"(power|^p$|^p_|^p\s|^pin|dbm|photon|^n$|^<n>|^nph|^n_ph)")


def strip_unit(name: str) -> str:
    """The header without its unit: in brackets at the end, or a scale word after the name
    (``'tan d ppm'``, ``'Qi x 10^5'``)."""
    n = _norm(name)
    n = re.sub(r"[\(\[\{][^\)\]\}]*[\)\]\}]\s*$", "", n).strip()
    return _TRAILING_SCALE.sub("", n).strip().rstrip(",;:").strip() or n


def _loss_kind(name: str, explicit: bool = False) -> str | None:
    """'tan delta', 'Q^-1', 'Q' for a loss column, or None. Q_l/Q_c only when chosen explicitly.
    A condition after the name ('Qi at -100 dBm', 'Q @ 10 photons') is not part of it."""
    n = without_condition(name)
    bare = strip_unit(n)
    if _TAN_DELTA.search(n) or _TAN_DELTA.search(bare):
        return "tan delta"
    if _INVERSE_Q.search(n) or _INVERSE_Q.search(bare):
        return "Q^-1"
    if _Q_AUTO.match(bare):
        return "Q"
    if explicit and (_Q_OTHER.match(bare) or bare.startswith("q")):
        return "Q"
    return None


def is_error_column(name: str) -> bool:
    """An uncertainty column: 'Qi error', 'Qi_err', 'dQi', 'sigma', 'std', 'uncertainty'."""
    return bool(_ERROR.search(strip_unit(name)))


def _power_unit(name: str) -> str:
    n = _norm(name)
    unit = header_unit(name)
    if unit:
        return {"dbm": "dBm", "w": "W", "mw": "mW", "uw": "uW", "nw": "nW"}.get(unit, unit)
    if "dbm" in n:
        return "dBm"
    if "photon" in n or n in ("n", "<n>") or n.startswith("nph") or n.startswith("n_ph"):
        return "photons"
    return "?"


#: Scales of dimensionless numbers written as a header's unit (values shown x scale = value).
_DIMENSIONLESS_UNITS = {"ppm": 1e-6, "ppb": 1e-9, "%": 1e-2, "percent": 1e-2}
_POWER_OF_TEN = re.compile(r"^(x|×|\*)?(1(?:\.0*)?e|10\^|10\*\*|10e)\(?([+-]?\d+)\)?$")
#: A scale written after the name without brackets: 'df/f ppm', 'loss in %', 'tan d / ppm',
#: 'loss x 1e-6', 'loss 1e-6' (session 25: these were read as plain numbers).
_TRAILING_SCALE = re.compile(
    r"(?:^|[\s_/*,;:])(?:in\s+|/\s*)?((?:ppm|ppb|%|percent)|(?:(?:x|×|\*)\s*)?(?:1(?:\.0*)?e|10\^|10\*\*)"
    r"\s*[+-]?\d+)$")
_NO_UNIT = ("", "1", "-")
_PERCENT = ("%", "percent")


#: A condition after a quantity's name (at or @, a number, a unit word): 'Qi at -100 dBm',
#: 'Qi @ 10 photons (1e5)', 'tan d @ -80 dBm x 1e-6'.
_VALUE = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?"
#: A condition in brackets or after a comma: a number with a unit of power, temperature or
#: photon number, or a name = value (a reviewer, session 26).
_CONDITION_UNITS = r"(?:dbm|db|photons?|mk|k|w|mw|uw|µw|nw)"
#: After at/@/_at_ the number is a condition whatever follows; after a comma only with a name or
#: a condition's unit: 'Qi, 1e6' is the column's scale (it was dropped as a condition, and the
#: values read 10^6 off; a reviewer, session 27).
_CONDITION = re.compile(r"\s*(?:(?:\bat\b|@|_at_)\s*(?:[a-z<>]+\s*=\s*)?" + _VALUE
                        + r"\s*[a-zμ]*\b|,\s*(?:[a-z<>]+\s*=\s*" + _VALUE + r"\s*[a-zμ]*\b|"
                        + _VALUE + r"\s*" + _CONDITION_UNITS + r"\b))")
_CONDITION_BRACKETS = re.compile(r"\s*[\(\[\{]\s*(?:[a-z<>]+\s*=\s*" + _VALUE + r"\s*"
                                 + _CONDITION_UNITS + r"?|" + _VALUE + r"\s*" + _CONDITION_UNITS
                                 + r")\s*[\)\]\}]")


def without_condition(name: str) -> str:
    """The normalised header without a condition after the quantity's name (``'Qi at -100 dBm'``
    -> ``'qi'``, ``'Qi @ 10 photons (1e5)'`` -> ``'qi (1e5)'``): the condition is not the name
    of the quantity, nor its unit."""
    n = _norm(name)
    out = _CONDITION.sub("", n)
    out = _CONDITION_BRACKETS.sub("", out)
    return out.strip() or n


def scale_unit(name: str) -> str | None:
    """The unit of a dimensionless column's header, compact and lower case: in brackets at the
    end (``'df/f (ppm)'``) or a scale word after the name (``'df/f ppm'``, ``'loss in %'``,
    ``'loss x 1e-6'``), after any condition (:func:`without_condition`); None without one."""
    name = without_condition(name)
    unit = header_unit(name)
    if unit is None:
        match = _TRAILING_SCALE.search(_norm(name))
        unit = match.group(1) if match else None
    return None if unit is None else unit.replace(" ", "")


def dimensionless_scale(src: str, column: str, what: str, allow_fractions: bool = True) -> float:
    """The factor turning the numbers of a dimensionless column into plain numbers, from the unit
    in its header (:func:`scale_unit`): none 1, ppm 1e-6, ppb 1e-9, % 1e-2, a power of ten such
    as ``(1e-6)``, ``(x10^-6)``, ``x 1e-6`` or ``[10^5]`` that number (the values shown are in
    units of it).

    Parameters
    ----------
    src, column : str
        The file (for messages) and the column's header.
    what : str
        The quantity, for messages ("loss", "quality factor", "shift").
    allow_fractions : bool
        False for a quality factor: only a power of ten is a unit of Q (ppm or % of a Q is not).

    Raises
    ------
    ValueError
        Any other unit (``Hz``, ``dB``, ...), naming the file and column (session 25: a
        ``df/f (ppm)`` or ``tan d (ppm)`` column was read as plain numbers, and the error column
        ``Qi error (%)`` as absolute errors of 1).
    """
    unit = scale_unit(column)
    if unit is None or unit in _NO_UNIT:
        return 1.0
    if unit in _DIMENSIONLESS_UNITS and allow_fractions:
        return _DIMENSIONLESS_UNITS[unit]
    match = _POWER_OF_TEN.match(unit)
    if match:
        return 10.0 ** int(match.group(3))
    allowed = ("a power of ten such as (1e6) or (x10^5)" if not allow_fractions else
               "ppm, ppb, % or a power of ten such as (1e-6) or (x10^-6)")
    raise ValueError(f"{src}: column {column!r}: the unit in its header is not a unit of the "
                     f"{what} (a dimensionless number): give it as a plain number or in "
                     f"{allowed}")


def scaled_errors(src: str, e_name: str, e_values: np.ndarray, values: np.ndarray,
                  value_scale: float, what: str, value_name: str | None = None,
                  allow_fractions: bool = True) -> np.ndarray:
    """Errors in the units of the values (``values`` already scaled by ``value_scale``, the
    value column's unit) from the error column ``e_name``.

    Without a unit of its own the column is in the value column's unit; in % it is a percent of
    each value, unless the value column (``value_name``) is itself in %, where it is in the same
    unit; in ppm, ppb or a power of ten it is in that unit (not for the error of a quality
    factor, ``allow_fractions=False``: a ppm of Q is refused as Q in ppm is).
    """
    unit = scale_unit(e_name)
    if unit is None or unit in _NO_UNIT:
        return e_values * value_scale
    if error_is_relative(e_name, value_name):
        return e_values * 1e-2 * np.abs(values)
    return e_values * dimensionless_scale(src, e_name, f"error of a {what}", allow_fractions)


def error_is_relative(e_name: str | None, value_name: str | None) -> bool:
    """Whether the error column holds percents of the values (:func:`scaled_errors`)."""
    if e_name is None:
        return False
    value_unit = scale_unit(value_name) if value_name is not None else None
    return scale_unit(e_name) in _PERCENT and value_unit not in _PERCENT


# --------------------------------------------------------------------------- low-level parsing


def _decode(raw: bytes, path: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # German Excel exports


def _sniff_separator(lines: list[str], path: str, numbers: list[int] | None = None) -> str:
    """The separator that splits the most lines into the same number (> 1) of fields.

    ``numbers``: the line numbers in the file of ``lines`` (for messages about ragged lines)."""
    numbers = list(numbers) if numbers is not None else list(range(1, len(lines) + 1))
    kept = [(n, ln) for n, ln in zip(numbers, lines[:_SNIFF_LINES], strict=False) if ln.strip()]
    sample = [ln for _, ln in kept]
    best, best_score = None, (0, 0)
    for sep in _SEPARATORS:
        counts = [len(next(csv.reader([ln], delimiter=sep))) for ln in sample]
        if not counts:
            continue
        tail = counts[len(counts) // 2:] or counts  # data lines decide; preambles may differ
        mode = max(set(tail), key=tail.count)
        if mode < 2:
            continue
        score = (sum(c == mode for c in counts), mode)
        if score > best_score:
            best, best_score = sep, score
    if best is None:
        first = sample[0].strip() if sample else ""
        for sep in _SEPARATORS:  # ragged: the separator is there, the field counts differ
            counts = [len(next(csv.reader([ln], delimiter=sep))) for ln in sample]
            if max(counts, default=0) >= 2 and len(set(counts)) > 1:
                where = ", ".join(f"line {kept[i][0]}: {c}" for i, c in enumerate(counts)
                                  if c != max(counts))
                raise ValueError(
                    f"{path}: ragged lines: with separator {_SEP_NAMES[sep]} the first lines have "
                    f"different numbers of fields ({max(counts)} at most; {where[:200]}); "
                    "every line needs the same columns")
        raise ValueError(
            f"{path}: found only one column (tried separators ',', ';' and tab); first line is "
            f"{first[:80]!r}; need at least a temperature and a loss column")
    return best


def _parse_number(cell: str, decimal_comma: bool) -> tuple[float | None, str | None]:
    """(value, unit-in-cell) or (None, None) when the cell is not a number. 'nan' gives NaN."""
    s = cell.strip().strip('"').replace("\u2009", "").replace("\u202f", "").replace(" ", "")
    s = s.replace("\u2212", "-")  # unicode minus
    unit = None
    m = _CELL_UNIT.match(s)
    if m:
        s, unit = m.group("num"), m.group("unit")
    if decimal_comma and "," in s:
        s = s.replace(".", "").replace(",", ".")  # 1.234,5 -> 1234.5
    if s.lower() in ("nan", "na", "n/a", "none", "null", "-", ""):
        return (math.nan, unit) if s else (None, None)
    if s.lower() in ("inf", "+inf", "-inf", "infinity"):
        return float(s.lower().replace("infinity", "inf")), unit
    if _NUMBER.match(s):
        return float(s), unit
    return None, None


# --------------------------------------------------------------------------- the reader


def pick_column(kind: str, requested: str | None, candidates: list[str], columns: list[str],
          path: str) -> str | None:
    if requested is not None:
        matches = [c for c in columns if _norm(c) == _norm(requested)]
        if not matches:
            raise ValueError(
                f"{path}: no column named {requested!r} for the {kind}; columns found: "
                f"{', '.join(map(repr, columns))}")
        return matches[0]
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        raise ValueError(
            f"{path}: cannot tell which column is the {kind}: {', '.join(map(repr, candidates))} "
            f"all qualify; choose one by name (columns found: {', '.join(map(repr, columns))})")
    return None


def read_loss_table(
    path: str | Path,
    temperature_column: str | None = None,
    loss_column: str | None = None,
    power_column: str | None = None,
    *,
    temperature_unit: str | None = None,
    error_column: str | None | bool = None,
) -> LossTable:
    """Read one loss-against-temperature table.

    Parameters
    ----------
    path : str or Path
        Delimited text file (``,`` ``;`` or tab separated) with a header line.
    temperature_column, loss_column, power_column : str, optional
        Column names (case-insensitive, matched after stripping blanks and a BOM) to use instead of
        the automatic choice. The loss column may hold a quality factor Q (converted to 1/Q), an
        inverse quality factor, or a loss tangent (kept; ``is_loss_tangent`` set).
    temperature_unit : {"K", "mK"}, optional
        Unit of the temperature column when its header does not say.
    error_column : str, None or False
        Uncertainty column of the loss, in the units of the loss column (an error of Q is
        converted to sigma_Q / Q^2). None (default): found automatically when a column is named
        like "Qi error", "Qi_err", "dQi", "sigma", "std" or "uncertainty"; False: ignore errors.

    Returns
    -------
    LossTable
        Temperatures in K, loss as Q^-1 (or tan delta), optional power, metadata.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    IsADirectoryError
        If the path is a directory.
    ValueError
        Ragged lines (different numbers of fields; their line numbers are given), loss (Q^-1 or
        tan delta) > 1 or Q < 1 (a Q/loss swap), one column only, no numeric rows,
        no or ambiguous temperature/loss/error columns (the
        columns found are listed), unknown or mixed units, temperatures outside 0 < T < 1000 K,
        Q, Q^-1, tan delta or errors <= 0, powers outside -300 ... +100 dBm, NaN or unparsable
        cells. Each message names the file, the column, the data row and the value found.

    Examples
    --------
    >>> t = read_loss_table("qint_160dBm.csv")            # doctest: +SKIP
    >>> t.temperature[0], 1 / t.loss[0], t.units["temperature"]   # doctest: +SKIP
    (0.1, 1640000.0, 'mK')
    """
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"loss table {str(p)!r} is a directory, not a file")
    if not p.is_file():
        raise FileNotFoundError(f"loss table {str(p)!r} not found")
    grid = read_grid(p)
    t_name, l_name, kind, pw_name = _data_columns(grid, temperature_column, loss_column,
                                                  power_column)
    e_name = error_column_of(grid, error_column, t_name, l_name, (pw_name,))
    temperature, t_unit = temperature_column_values(grid, t_name, temperature_unit)
    l_values, _ = grid.column(l_name)
    scale = dimensionless_scale(grid.src, l_name, "quality factor" if kind == "Q" else "loss",
                                allow_fractions=kind != "Q")
    l_values = l_values * scale
    loss = _losses(grid.src, l_name, l_values, kind)
    units = {"temperature": t_unit, "loss": kind}
    if scale != 1.0:
        units["loss_scale"] = scale
    power = None
    if pw_name is not None:
        power, units["power"] = _powers(grid, pw_name)
    sigma = None
    if e_name is not None:
        sigma, units["error"] = _errors(grid, e_name, l_values, kind, scale, l_name)
    _warn_repeated(grid.src, temperature, loss, power)
    return LossTable(
        temperature=temperature, loss=loss, power=power, is_loss_tangent=kind == "tan delta",
        source=grid.src, label=p.stem, columns=tuple(grid.columns), temperature_column=t_name,
        loss_column=l_name, power_column=pw_name, units=units, separator=grid.sep,
        decimal="," if grid.decimal_comma else ".", sigma=sigma, error_column=e_name)


@dataclass(frozen=True)
class CellGrid:
    """The cells of a table: header columns, data rows and where each row is in the file."""

    src: str
    sep: str
    decimal_comma: bool
    columns: list
    data: list
    lines: list  # line number in the file (1-based) of each data row

    def column(self, name: str) -> tuple[np.ndarray, set[str]]:
        """The numbers of column ``name`` and the units written in its cells."""
        j = self.columns.index(name)
        out, units = np.empty(len(self.data)), set()
        unit_rows: dict[str, int] = {}
        for i, row in enumerate(self.data):
            cell = row[j] if j < len(row) else ""
            value, unit = _cell_value(self.src, name, i, cell, self.decimal_comma)
            if unit:
                units.add(unit)
                unit_rows.setdefault(unit, self.lines[i])
            out[i] = value
        if len(units) > 1:
            where = ", ".join(f"{u} (first at line {r})" for u, r in unit_rows.items())
            raise ValueError(f"{self.src}: mixed units in column {name!r}: {where}")
        return out, units


def _cell_value(src: str, name: str, i: int, cell: str, decimal_comma: bool
                ) -> tuple[float, str | None]:
    """The finite number in a cell of data row i + 1 and its unit, or a ValueError."""
    value, unit = _parse_number(cell, decimal_comma)
    if value is None:
        raise ValueError(f"{src}: column {name!r}, data row {i + 1}: cannot read "
                         f"{cell!r} as a number")
    if math.isnan(value):
        raise ValueError(f"{src}: column {name!r}, data row {i + 1}: missing value or NaN "
                         f"({cell!r})")
    if math.isinf(value):
        raise ValueError(f"{src}: column {name!r}, data row {i + 1}: infinite value "
                         f"({cell!r})")
    return value, unit


def read_grid(p: Path) -> CellGrid:
    """Decode, drop comments, sniff the separator, find the header and the data rows."""
    src = str(p)
    text = _decode(p.read_bytes(), src)
    numbered = [(i + 1, ln) for i, ln in enumerate(text.splitlines())
                if ln.strip() and not ln.lstrip().startswith("#")]
    lines = [ln for _, ln in numbered]
    if not lines:
        raise ValueError(f"{src}: file is empty (no lines besides comments)")
    sep = _sniff_separator(lines, src, [n for n, _ in numbered])
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=sep))
    decimal_comma = sep != ","

    def numeric(row: list[str]) -> bool:
        vals = [_parse_number(c, decimal_comma)[0] for c in row if c.strip()]
        return bool(vals) and all(v is not None for v in vals)

    def numbers(row: list[str]) -> int:
        return sum(_parse_number(c, decimal_comma)[0] is not None for c in row if c.strip())

    # the data start at the first row with two numbers under a row of none (the header): text
    # columns beside the numbers (a date, a note, sometimes empty) are allowed (session 25: such
    # a table was "no numeric rows found", or its first data row was taken for the header); a
    # text cell in a column that is used is refused by name. Else: the first all-numeric row.
    first = next((i for i in range(1, len(rows))
                  if numbers(rows[i]) >= 2 and numbers(rows[i - 1]) == 0), None)
    if first is None:
        first = next((i for i, r in enumerate(rows) if numeric(r)), None)
    if first is None:
        raise ValueError(
            f"{src}: no numeric rows found ({len(rows)} line(s), separator "
            f"{_SEP_NAMES[sep]}); first line: {sep.join(rows[0])[:80]!r}")
    if first == 0:
        columns = [f"column {i + 1}" for i in range(len(rows[0]))]
        raise ValueError(
            f"{src}: no header line, so the columns cannot be identified "
            f"({len(columns)} unnamed columns); add a header such as 'Temperature (mK);Qint'")
    columns = [c.replace("\ufeff", "").strip().strip('"') for c in rows[first - 1]]
    if len(columns) < 2:
        raise ValueError(f"{src}: found only one column ({columns[0]!r}); need a temperature "
                         "and a loss column")
    return CellGrid(src, sep, decimal_comma, columns, rows[first:],
                 [n for n, _ in numbered[first:]])


def _data_columns(grid: CellGrid, temperature_column: str | None, loss_column: str | None,
                  power_column: str | None) -> tuple[str, str, str, str | None]:
    """(temperature, loss, loss kind, power or None) columns, chosen by name or recognised."""
    src, columns = grid.src, grid.columns
    t_name = pick_column("temperature", temperature_column,
                   [c for c in columns if is_temperature(c) and not is_error_column(c)], columns, src)
    if t_name is None:
        raise ValueError(f"{src}: cannot tell which column is the temperature; columns found: "
                         f"{', '.join(map(repr, columns))}; name it e.g. 'Temperature (mK)' or "
                         "pass temperature_column=")
    loss_candidates = [c for c in columns
                       if c != t_name and _loss_kind(c) is not None and not is_error_column(c)]
    l_name = pick_column("loss (Q, Q^-1 or tan delta)", loss_column, loss_candidates, columns, src)
    if l_name is None:
        raise ValueError(f"{src}: cannot tell which column is the loss (Q, Qi, Qint, Q^-1, 1/Q, "
                         f"loss or tan delta); columns found: {', '.join(map(repr, columns))}; "
                         "name it e.g. 'Qi' or pass loss_column=")
    kind = _loss_kind(l_name, explicit=True)
    if kind is None:
        raise ValueError(f"{src}: column {l_name!r} is not recognised as Q, Q^-1 or tan delta "
                         "(rename it, e.g. 'Qi' or '1/Q')")
    power_candidates = [c for c in columns if c not in (t_name, l_name) and not is_error_column(c)
                        and _POWER.search(_norm(c))]
    try:
        pw_name = pick_column("power", power_column, power_candidates, columns, src)
    except ValueError:
        if power_column is not None:
            raise
        pw_name = None  # several power-like columns and none chosen: ignore power
    return t_name, l_name, kind, pw_name


def error_column_of(grid: CellGrid, error_column: str | None | bool, t_name: str, value_name: str,
                    others: tuple[str | None, ...] = (), value_kind: str = "loss") -> str | None:
    """The uncertainty column of ``value_name`` (the loss, or the velocity shift): the one chosen
    (``error_column``, a name), none (``False``), or the one recognised by its name among the
    columns other than temperature, value and ``others``; with several, the one naming the value
    column, else a ValueError naming them. ``value_kind`` names the value column in messages."""
    src, columns = grid.src, grid.columns
    if error_column is False:
        return None
    if error_column is not None and error_column is not True:
        e_name = pick_column("error", error_column, [], columns, src)
    else:
        e_cands = [c for c in columns
                   if c not in (t_name, value_name, *others) and is_error_column(c)]
        bare = strip_unit(value_name)
        if len(e_cands) > 1:  # prefer the error of the value column: 'Qi error' beside 'Qc error'
            e_cands = [c for c in e_cands if bare and bare in _norm(c)] or e_cands
        if len(e_cands) > 1:
            raise ValueError(
                f"{src}: cannot tell which column is the error of {value_name!r}: "
                f"{', '.join(map(repr, e_cands))} all qualify; choose one by name (error_column=, "
                "--error-column) or ignore them (error_column=False, --error-column none)")
        e_name = e_cands[0] if e_cands else None
    if e_name in (t_name, value_name):
        raise ValueError(f"{src}: the error column {e_name!r} is also the temperature or "
                         f"{value_kind} column")
    return e_name


def _temperature_unit_of(grid: CellGrid, t_name: str, cell_units: set[str],
                         temperature_unit: str | None) -> str:
    """mK or K, from the header, the cells or ``temperature_unit`` (which must agree)."""
    src = grid.src
    t_unit = _temperature_unit(t_name)
    if t_unit is not None and t_unit.startswith("?"):
        raise ValueError(f"{src}: temperature column {t_name!r} has unit {t_unit[1:]!r}; "
                         "expected mK or K")
    if cell_units:
        cell_unit = next(iter(cell_units))
        if t_unit is not None and cell_unit != t_unit:
            raise ValueError(f"{src}: mixed units in column {t_name!r}: header says {t_unit}, "
                             f"cells say {cell_unit}")
        t_unit = cell_unit
    if temperature_unit is not None:
        if temperature_unit not in ("K", "mK"):
            raise ValueError(f"temperature_unit must be 'K' or 'mK', got {temperature_unit!r}")
        if t_unit is not None and t_unit != temperature_unit:
            raise ValueError(f"{src}: temperature_unit={temperature_unit!r} contradicts column "
                             f"{t_name!r} ({t_unit})")
        t_unit = temperature_unit
    if t_unit is None:
        raise ValueError(f"{src}: cannot tell the unit of temperature column {t_name!r} (mK or "
                         "K); write it in the header, e.g. 'Temperature (mK)', or pass "
                         "temperature_unit=")
    return t_unit


def temperature_column_values(grid: CellGrid, t_name: str, temperature_unit: str | None
                  ) -> tuple[np.ndarray, str]:
    """Temperatures in K (0 < T < MAX_TEMPERATURE) and the unit the file used."""
    src = grid.src
    t_values, t_cell_units = grid.column(t_name)
    t_unit = _temperature_unit_of(grid, t_name, t_cell_units, temperature_unit)
    temperature = t_values * (1e-3 if t_unit == "mK" else 1.0)
    bad = np.flatnonzero(temperature <= 0)
    if bad.size:
        raise ValueError(f"{src}: column {t_name!r}: temperatures must be > 0 K, found "
                         f"{t_values[bad[0]]:g} {t_unit} in data row {bad[0] + 1}")
    bad = np.flatnonzero(temperature >= MAX_TEMPERATURE)
    if bad.size:
        raise ValueError(f"{src}: column {t_name!r}: temperatures must be below "
                         f"{MAX_TEMPERATURE:g} K, found {t_values[bad[0]]:g} {t_unit} in data row "
                         f"{bad[0] + 1} (wrong unit?)")
    return temperature, t_unit


def _losses(src: str, l_name: str, l_values: np.ndarray, kind: str) -> np.ndarray:
    """Q^-1 (or tan delta) from the loss column, refusing values of the wrong kind."""
    what = {"Q": "quality factors", "Q^-1": "inverse quality factors (loss)",
            "tan delta": "loss tangents"}[kind]
    bad = np.flatnonzero(l_values <= 0)
    if bad.size:
        raise ValueError(f"{src}: column {l_name!r}: {what} must be > 0, found "
                         f"{l_values[bad[0]]:g} in data row {bad[0] + 1}")
    if kind == "Q":
        bad = np.flatnonzero(l_values < 1)
        if bad.size:
            raise ValueError(f"{src}: column {l_name!r}: quality factors must be >= 1, found "
                             f"{l_values[bad[0]]:g} in data row {bad[0] + 1}; this looks like a "
                             "loss (1/Q or tan delta): the column is probably Q/loss swapped "
                             "(name it e.g. '1/Q')")
    else:
        bad = np.flatnonzero(l_values > 1)
        if bad.size:
            raise ValueError(f"{src}: column {l_name!r}: {what} must be <= 1, found "
                             f"{l_values[bad[0]]:g} in data row {bad[0] + 1}; this looks like a "
                             "quality factor Q: the column is probably Q/loss swapped "
                             "(name it e.g. 'Qi')")
    return 1.0 / l_values if kind == "Q" else l_values


def _powers(grid: CellGrid, pw_name: str) -> tuple[np.ndarray, str]:
    """The drive powers and their unit (dBm checked against the physical range)."""
    power, _ = grid.column(pw_name)
    unit = _power_unit(pw_name)
    if unit == "dBm":
        for i, pv in enumerate(power):
            try:
                check_power_dbm(f"{grid.src}: column {pw_name!r}, data row {i + 1}: power", pv)
            except ValueError as exc:
                raise ValueError(str(exc)) from None
    return power, unit


def _errors(grid: CellGrid, e_name: str, l_values: np.ndarray, kind: str, scale: float = 1.0,
            l_name: str | None = None) -> tuple[np.ndarray, str]:
    """Errors of Q^-1 (sigma_Q / Q^2 from errors of Q) and what the column held; ``l_values``
    already scaled by the loss column's unit, ``scale`` (:func:`scaled_errors`)."""
    e_values, _ = grid.column(e_name)
    bad = np.flatnonzero(e_values <= 0)
    if bad.size:
        raise ValueError(f"{grid.src}: error column {e_name!r}: errors must be > 0, found "
                         f"{e_values[bad[0]]:g} in data row {bad[0] + 1}")
    e_values = scaled_errors(grid.src, e_name, e_values, l_values, scale,
                             "quality factor" if kind == "Q" else "loss", l_name,
                             allow_fractions=kind != "Q")
    sigma = e_values / l_values**2 if kind == "Q" else e_values
    return sigma, f"{kind} (converted to Q^-1)" if kind == "Q" else kind


def _warn_repeated(src: str, temperature: np.ndarray, loss: np.ndarray,
                   power: np.ndarray | None) -> None:
    """UserWarning for exactly repeated rows (they are kept: each counts as a measurement)."""
    key = np.stack([temperature, loss] + ([power] if power is not None else []), axis=1)
    _, first_rows, counts = np.unique(key, axis=0, return_index=True, return_counts=True)
    if np.any(counts > 1):
        rows_dup = sorted(int(r) + 1 for r, c in zip(first_rows, counts, strict=True) if c > 1)
        warnings.warn(f"{src}: {int(np.sum(counts[counts > 1] - 1))} repeated row(s) (same "
                      f"temperature, loss{' and power' if power is not None else ''}; first at "
                      f"data row(s) {', '.join(map(str, rows_dup[:5]))}); each copy counts as a "
                      "measurement", UserWarning, stacklevel=3)


def curves_from_table(table: LossTable) -> list[LossCurve]:
    """Split a :class:`LossTable` into one :class:`manybody.laws.inputs.LossCurve` per drive power.

    Powers in W/mW/uW/nW are converted to dBm, photon numbers to dB(photons) = 10 log10(n).
    """
    unit = table.units.get("power")
    sigma = getattr(table, "sigma", None)
    if table.power is None:
        return [LossCurve(table.temperature, table.loss, sigma, label=table.label)]
    p = np.asarray(table.power, dtype=np.float64)
    scale = {"W": 1e3, "mW": 1.0, "uW": 1e-3, "nW": 1e-6}
    if unit in scale or unit == "photons":
        if np.any(p <= 0):
            raise ValueError(f"{table.source}: power column {table.power_column!r} in {unit} must "
                             "be > 0 to convert to a logarithmic scale")
        p = 10 * np.log10(p * scale.get(unit, 1.0))
        unit = "dBm" if unit in scale else "dB(photons)"
    values = np.unique(p)
    if values.size == 1:
        return [LossCurve(table.temperature, table.loss, sigma, power=float(values[0]),
                          label=table.label, power_unit=unit or "dBm")]
    return [LossCurve(table.temperature[p == pv], table.loss[p == pv],
                      None if sigma is None else sigma[p == pv], power=float(pv),
                      label=f"{table.label} {pv:g} {unit}", power_unit=unit or "dBm")
            for pv in values]
