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
* units in a row of their own under the names (``Temperature,Qi`` then ``K,``, as Origin and
  LabVIEW export): each joins its name (``Temperature (K)``);
* a scale in the loss column's header: ``tan d (ppm)``, ``loss (%)``, ``1/Q (1e-6)``,
  ``Qi (x10^5)``, ``Qi/10^6``, ``Qi, 1e6``, ``tan δ ×10⁻⁶`` (the values shown are in units of
  it: ``Qi (x1e6)`` with 1.2 is Q = 1.2e6; ppm or % of a Q is refused, as is any unit that is
  not dimensionless, e.g. ``(Hz)``, and a scale pointing the wrong way for the quantity, e.g.
  ``Qi x 1e-6``, which more likely holds Q times 10^-6);
* conditions of the measurement in a header, before or after the scale, in brackets or not:
  ``Qi (-80 dBm, x1e6)``, ``Qi, P_in = -80 dBm (x10^6)``, ``tan delta [1e-6] @ -80 dBm``,
  ``Qi (<n> ~ 10)``, ``Qi @ T = 20 mK`` (set aside; :func:`.headers.parse_header`). A part that could be
  read two ways, such as a number without a unit (``Qi at 1e6``: a scale or a power?), is
  refused naming the header cell, what is ambiguous and the spellings that are read;
* an optional uncertainty column (``Qi error``, ``Qi_err``, ``dQi``, ``sigma``, ...), in the units
  of the loss column, or in its own (``(%)``: percent of the value; ``(ppm)``, ``(1e-6)``), or
  a fraction of the value when its name says so (``dQi/Qi``, ``Qi_rel_err``, ``(rel)``): errors
  of Q are converted to errors of Q^-1, sigma_Q / Q^2. Found by its name, a column that names
  another quantity (``T_err``, ``sigma_T``, ``f0_err``, ``Qc_err``, another column's name) is
  not taken (a UserWarning when no other is left); one that names Q beside a 1/Q or tan delta
  column, or the reverse, is refused (session 50).

Values outside the physical range are refused, naming the file, column, row and value:
temperatures outside 0 < T < 1000 K, quality factors, inverse quality factors, loss tangents and
errors <= 0, powers outside -300 ... +100 dBm. Exactly repeated rows are read but warned about
(``UserWarning``), as is a loss above 1e-2 (Q below 100: a scale or unit missing from the
header, e.g. a Qi in millions). Anything it cannot read is reported as a ValueError naming the
file, the column and what was found. :func:`curves_from_table` splits a table into the loss
curves the law fits take (:class:`manybody.laws.inputs.LossCurve`, one per drive power).
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from manybody.laws.inputs import MAX_TEMPERATURE, LossCurve, check_power
from manybody.measured import headers as headers_mod
from manybody.measured.headers import (
    HEADER_SPELLINGS,
    LOSS_START,
    check_header,
    dimensionless_scale,
    error_is_fraction,
    error_is_relative,
    error_names_other,
    error_subject,
    header_power_unit,
    header_temperature_unit,
    is_error_column,
    is_power_column,
    is_temperature,
    loss_kind,
    normalised_header,
    parse_header,
    scale_factor,
    scale_unit,
    scaled_errors,
    strip_unit,
)
from manybody.measured.outliers import LONE_RATIO, lone_points
from manybody.support import validate as v
from manybody.support.paths import check_input_file

#: Number of leading lines used to sniff the separator.
_SNIFF_LINES = 50
_SEPARATORS = ("\t", ";", ",")
_SEP_NAMES = {"\t": "tab", ";": "';'", ",": "','", " ": "spaces"}
#: The separator of a table whose columns are separated by runs of spaces (numpy.savetxt's
#: default, many instruments' .dat files): tried when no other separator splits the lines.
_WHITESPACE = " "
#: Characters that begin a comment line ('#': Python, gnuplot; '%': MATLAB, Origin; '!': VNAs,
#: Touchstone, since session 50).
_COMMENT_MARKS = ("#", "%", "!")
#: A data line (it starts with a number), a comment after its numbers, and two numbers side by
#: side in one cell (a table separated by blanks read at commas: '20 1,1e5' -> '20 1').
_STARTS_WITH_NUMBER = re.compile(r"\s*[-+]?\.?\d")
_TRAILING_COMMENT = re.compile(r"\s+#.*$")
_TWO_NUMBERS = re.compile(r"\d\s+[-+]?\.?\d")


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


# --------------------------------------------------------------------------- low-level parsing


#: Leading bytes of binary formats a user may hand in as a table: netCDF-4/HDF5 (manybody's
#: results files), classic netCDF, Excel (xlsx is a zip, xls an OLE file).
BINARY_FORMATS = ((b"\x89HDF\r\n\x1a\n", "a netCDF-4/HDF5 file (a results file of manybody run? "
                   "fit it with --simulated)"),
                  (b"CDF\x01", "a netCDF file"), (b"CDF\x02", "a netCDF file"),
                  (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook? export it as CSV)"),
                  (b"\xd0\xcf\x11\xe0", "an Excel/OLE file (export it as CSV)"),
                  # read as text a compressed file was "found only one column" (session 46)
                  (b"\x1f\x8b", "a gzip-compressed file (decompress it first: gunzip FILE)"),
                  (b"BZh", "a bzip2-compressed file (decompress it first: bunzip2 FILE)"),
                  (b"\xfd7zXZ\x00", "an xz-compressed file (decompress it first: unxz FILE)"))


#: Text formats by their extension that are never a table of columns (a run specification
#: given as a loss table was "ragged lines: ... line 1: 1, line 3: 1, ...", session 35).
TEXT_FORMATS = {".toml": "a TOML file (a run specification?)", ".json": "a JSON file",
                ".py": "a Python script", ".md": "a Markdown document",
                ".yaml": "a YAML file", ".yml": "a YAML file", ".ipynb": "a Jupyter notebook",
                ".sh": "a shell script", ".tex": "a LaTeX document", ".html": "an HTML page"}


def refuse_other_formats(raw: bytes, path: str) -> None:
    """Refuse a file that is not a text table by its leading bytes (a results file, a workbook)
    or its extension (a run specification, a script), naming what it is.

    Parameters
    ----------
    raw : bytes
        The file's first bytes (8 suffice).
    path : str
        Its path, for the extension and the message.

    Raises
    ------
    ValueError
        One of :data:`BINARY_FORMATS` or :data:`TEXT_FORMATS`.
    """
    for magic, what in BINARY_FORMATS:  # read as text they were "ragged lines" (session 33)
        if raw.startswith(magic):
            raise ValueError(f"{path} is {what}, not a text table of columns")
    what = TEXT_FORMATS.get(Path(path).suffix.lower())
    if what is not None:
        raise ValueError(f"{path} is {what}, not a table of columns (a CSV or text export of "
                         "temperature and loss)")


def decode_text(raw: bytes, path: str) -> str:
    """A text file's contents: UTF-16 by its byte-order mark, else UTF-8 (a BOM dropped), else
    Latin-1; binary and compressed files refused by :func:`refuse_other_formats`."""
    refuse_other_formats(raw, path)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # German Excel exports


def _split(line: str, sep: str) -> list[str]:
    """The cells of one line: csv rules for a one-character separator, runs of blanks for
    ``_WHITESPACE`` (leading and trailing blanks ignored)."""
    if sep == _WHITESPACE:
        return line.split()
    return next(csv.reader([line], delimiter=sep), [])


def _blank_separated(header: str, lines: list[str]) -> bool:
    """True when a table sniffed as comma-separated is one separated by blanks with decimal
    commas ('T_mK Qi' over '20 1,1e5'): its header holds no comma and splits at blanks (units in
    brackets joined) into as many names as every data line has cells, and every data line split
    at commas holds a cell of two numbers side by side ('20 1'). A comma-separated table with
    blanks inside its numbers ('20,1 100 000') has commas in its header and stays one."""
    counts = {len(_split(ln, _WHITESPACE)) for ln in lines}
    return (bool(lines) and "," not in header and len(counts) == 1 and min(counts) > 1
            and len(_units_joined(_split(header, _WHITESPACE))) == min(counts)
            and all(any(_TWO_NUMBERS.search(cell) for cell in _split(ln, ","))
                    for ln in lines))


def _sniff_separator(lines: list[str], path: str, numbers: list[int] | None = None) -> str:
    """The separator that splits the most lines into the same number (> 1) of fields.

    ``numbers``: the line numbers in the file of ``lines`` (for messages about ragged lines)."""
    numbers = list(numbers) if numbers is not None else list(range(1, len(lines) + 1))
    kept = [(n, ln) for n, ln in zip(numbers, lines[:_SNIFF_LINES], strict=False) if ln.strip()]
    sample = [ln for _, ln in kept]
    best, best_score = None, (0, 0)
    for sep in _SEPARATORS:
        counts = [len(_split(ln, sep)) for ln in sample]
        if not counts:
            continue
        tail = counts[len(counts) // 2:] or counts  # data lines decide; preambles may differ
        mode = max(set(tail), key=tail.count)
        if mode < 2:
            continue
        score = (sum(c == mode for c in counts), mode)
        if score > best_score:
            best, best_score = sep, score
    if best == "," and sample and _blank_separated(sample[0], sample[len(sample) // 2:]):
        return _WHITESPACE  # '20 1,1e5': decimal commas between columns separated by blanks
    if best is None:
        # columns separated by spaces (numpy.savetxt's default): refused as one column (a
        # tester, session 41); the data lines decide, a header with spaces in a name is
        # mended by read_grid
        tail = [len(_split(ln, _WHITESPACE)) for ln in sample[len(sample) // 2:]]
        if tail and min(tail) >= 2 and len(set(tail)) == 1:
            return _WHITESPACE
        first = sample[0].strip() if sample else ""
        for sep in _SEPARATORS:  # ragged: the separator is there, the field counts differ
            counts = [len(_split(ln, sep)) for ln in sample]
            if max(counts, default=0) >= 2 and len(set(counts)) > 1:
                where = ", ".join(f"line {kept[i][0]}: {c}" for i, c in enumerate(counts)
                                  if c != max(counts))
                raise ValueError(
                    f"{path}: ragged lines: with separator {_SEP_NAMES[sep]} the first lines have "
                    f"different numbers of fields ({max(counts)} at most; {where[:200]}); "
                    "every line needs the same columns")
        raise ValueError(
            f"{path}: found only one column (tried separators ',', ';', tab and spaces); first "
            "line is "
            f"{first[:80]!r}; need at least a temperature and a loss column")
    return best


#: A decimal-comma number with '.' grouping its thousands ('1.234,5', '-12.345.678,9E3').
_GROUPED_DECIMAL_COMMA = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+,\d*(?:[eE][+-]?\d+)?")
#: A number with ',' grouping its thousands and a decimal point ('1,100.5', '12,345,678.25').
_GROUPED_DECIMAL_POINT = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+\.\d*(?:[eE][+-]?\d+)?")


def parse_number(cell: str, decimal_comma: bool) -> float | None:
    """The number in a table's cell (a unit written in it dropped), NaN for 'nan', or None
    when the cell is not a number (:func:`_parse_number`)."""
    return _parse_number(cell, decimal_comma)[0]


#: A number with Fortran's double-precision exponent, '1.25D-03'.
_FORTRAN_EXPONENT = re.compile(r"^([+-]?(?:\d+[.,]?\d*|[.,]\d+))[dD]([+-]?\d+)$")


def fortran_exponent(cell: str) -> str:
    """A cell with Fortran's exponent letter D ('1.25D-03', '1,25D-03' with a decimal comma, as
    Fortran programs and some lab software write doubles) written with E; any other cell
    unchanged (such tables were refused as 'no numeric rows found' without naming the D; a
    break test, session 50)."""
    return _FORTRAN_EXPONENT.sub(r"\1e\2", cell)


def _number_text(cell: str) -> tuple[str, str | None]:
    """A cell's number as text (quotes, blanks and thin spaces dropped, the unicode minus
    mended, a Fortran exponent 'D' read as 'e') and the unit written in it (mK or K), if any."""
    s = (cell.strip().strip('"').replace("\u2009", "").replace("\u202f", "").replace("\u00a0", "")
         .replace(" ", ""))
    s = fortran_exponent(s.replace("\u2212", "-"))  # unicode minus
    m = _CELL_UNIT.match(s)
    return (m.group("num"), m.group("unit")) if m else (s, None)


def _parse_number(cell: str, decimal_comma: bool) -> tuple[float | None, str | None]:
    """(value, unit-in-cell) or (None, None) when the cell is not a number. 'nan' gives NaN."""
    s, unit = _number_text(cell)
    if decimal_comma and "," in s:
        # 1.234,5 -> 1234.5; a '.' is dropped only as grouping before the comma: '1,100.5' (US
        # grouping with a decimal point) became 1.1005 (a second break test, session 46)
        if "." in s and not _GROUPED_DECIMAL_COMMA.fullmatch(s):
            return None, None
        s = s.replace(".", "").replace(",", ".")
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
        matches = [c for c in columns if normalised_header(c) == normalised_header(requested)]
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
    TypeError
        ``path`` not a str or os.PathLike.
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
        The table's text given as ``path`` (too long for a path, or with line breaks).

    Examples
    --------
    >>> t = read_loss_table("qint_160dBm.csv")            # doctest: +SKIP
    >>> t.temperature[0], 1 / t.loss[0], t.units["temperature"]   # doctest: +SKIP
    (0.1, 1640000.0, 'mK')
    """
    error_column = check_column_options(error_column, temperature_unit,
                                        temperature_column=temperature_column,
                                        loss_column=loss_column, power_column=power_column)
    p = check_input_file("loss table", v.path("path", path),
                         text_use="write the table to a file (e.g. loss.csv) and pass its path")
    grid = _without_flagged_rows(read_grid(p))
    t_name, l_name, kind, pw_name = _data_columns(grid, temperature_column, loss_column,
                                                  power_column)
    e_name = error_column_of(grid, error_column, t_name, l_name, (pw_name,))
    if e_name is not None:
        _check_error_kind(grid.src, e_name, l_name, kind)
    temperature, t_unit = temperature_column_values(grid, t_name, temperature_unit)
    l_values, _ = grid.column(l_name)
    scale = loss_scale(grid.src, l_name, kind)
    if e_name is not None:
        check_header(grid.src, e_name, "error")
    l_values = l_values * scale
    loss = _losses(grid.src, l_name, l_values, kind)
    _refuse_tiny_column(grid.src, l_name, l_values / scale, loss, kind, scale)
    _warn_doubtful_scale(grid.src, l_name, l_values / scale, loss, kind, scale)
    _warn_implausible_loss(grid.src, l_name, l_values / scale, loss, kind, scale)
    _warn_tiny_loss(grid.src, l_name, l_values / scale, loss, kind)
    named = _warn_isolated_loss(grid.src, l_name, l_values / scale, loss, temperature)
    named = {*named, *np.flatnonzero((loss < MIN_PLAUSIBLE_LOSS) | (loss > MAX_PLAUSIBLE_LOSS))}
    units = {"temperature": t_unit, "loss": kind}
    if scale != 1.0:
        units["loss_scale"] = scale
    power = None
    if pw_name is not None:
        power, units["power"] = _powers(grid, pw_name, temperature)
    sigma = None
    if e_name is not None:
        sigma, units["error"] = _errors(grid, e_name, l_values, kind, scale, l_name)
    _warn_repeated(grid.src, temperature, loss, power)
    warn_isolated_temperature(grid.src, t_name, temperature, t_unit)
    named |= set(slipped_rows(temperature, t_unit))  # named as a unit slip: not again as lone
    _warn_conflicting(grid.src, l_name, kind, temperature, t_unit, l_values, loss, power,
                      named, units.get("power", ""))
    return LossTable(
        temperature=temperature, loss=loss, power=power, is_loss_tangent=kind == "tan delta",
        source=grid.src, label=p.stem, columns=tuple(grid.columns), temperature_column=t_name,
        loss_column=l_name, power_column=pw_name, units=units, separator=grid.sep,
        decimal="," if grid.decimal_comma else ".", sigma=sigma, error_column=e_name)


#: Names of a column flagging rows to leave out (``resonator_fits.csv``, which ``fit-data
#: --sweeps`` writes, has 'flag' (0 or 1) and 'reason').
_FLAG_NAMES = ("flag", "flagged")


def _without_flagged_rows(grid: CellGrid) -> CellGrid:
    """The grid without the rows a numeric 'flag' column beside a 'reason' column marks (non-zero;
    a 'flag' without 'reason' is a user's own column, left alone): the tool's own
    ``resonator_fits.csv`` fed back as a loss table was fitted with the sweeps its sweep step
    had rejected ("resonance at the window edge", "residual > max-misfit"; bt219 F7). A warning
    names the rows, their file and their 'reason'; a row is kept by setting its flag to 0. A
    'flag' column holding text is not such a column and is left alone.

    Raises
    ------
    ValueError
        Every row flagged.
    """
    names = [c for c in grid.columns if normalised_header(c) in _FLAG_NAMES]
    if len(names) != 1 or not any(normalised_header(c) == "reason" for c in grid.columns):
        # only the tool's own layout (a 'flag' and its 'reason'): a user's 'flag' of 1 for a good
        # row lost its good rows (a tester, bt223 F10)
        return grid
    j = grid.columns.index(names[0])
    flags = []
    for row in grid.data:
        cell = row[j].strip().strip('"') if j < len(row) else ""
        value = 0.0 if not cell else parse_number(cell, grid.decimal_comma)
        if value is None or not math.isfinite(value):
            return grid  # not a 0/1 flag
        flags.append(value != 0)
    flagged = [i for i, f in enumerate(flags) if f]
    if not flagged:
        return grid
    def cell_of(name: str, i: int) -> str:
        k = grid.columns.index(name)
        return grid.data[i][k].strip().strip('"') if k < len(grid.data[i]) else ""
    reason = next((c for c in grid.columns if normalised_header(c) == "reason"), None)
    label = next((c for c in grid.columns if normalised_header(c) in ("file", "sweep")), None)
    def described(i: int) -> str:
        text = f"data row {i + 1} (line {grid.lines[i]}"
        text += f", {cell_of(label, i)!r})" if label and cell_of(label, i) else ")"
        why = cell_of(reason, i) if reason else ""
        return text + (f": {why[:90]}{'...' if len(why) > 90 else ''}" if why else "")
    where = f"{grid.src}: column {names[0]!r}"
    if len(flagged) == len(flags):
        raise ValueError(f"{where} flags every row ({len(flags)}): nothing left to fit; set the "
                         "flag to 0 in the rows to keep (the sweep step rejected their fits)")
    shown = "; ".join(described(i) for i in flagged[:5]) + (
        f"; and {len(flagged) - 5} more" if len(flagged) > 5 else "")
    warnings.warn(f"{where}: left out {len(flagged)} flagged row(s) of {len(flags)} ({shown}); a "
                  "flag other than 0 marks a fit the sweep step rejected; set it to 0 to keep "
                  "the row (data rows named in later messages count the rows kept)",
                  UserWarning, stacklevel=3)
    keep = [i for i, f in enumerate(flags) if not f]
    return replace(grid, data=[grid.data[i] for i in keep], lines=[grid.lines[i] for i in keep])


@dataclass(frozen=True)
class CellGrid:
    """The cells of a table: header columns, data rows and where each row is in the file."""

    src: str
    sep: str
    decimal_comma: bool
    columns: list
    data: list
    lines: list  # line number in the file (1-based) of each data row
    #: columns whose header unit and units row disagree -> the refusal, given when one is used
    unit_conflicts: dict = field(default_factory=dict)
    #: the decimal marks the data use beyond doubt -> (line, cell) of the first use
    marks: dict = field(default_factory=dict)

    def column(self, name: str) -> tuple[np.ndarray, set[str]]:
        """The numbers of column ``name`` and the units written in its cells."""
        if name in self.unit_conflicts:
            raise ValueError(self.unit_conflicts[name])
        j = self.columns.index(name)
        refuse_grouped_thousands(self, name, [row[j] if j < len(row) else "" for row in self.data])
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


#: A cell holding a value and its error, '9.19e+06 ± 459500', '(1.2 +/- 0.1)' (Origin and lab
#: programs export them so).
_VALUE_WITH_ERROR = re.compile(r"\(?\s*(?P<value>[^±()]+?)\s*(?:±|\+/-|\+-)\s*(?P<error>[^±()]+?)\s*\)?")


def value_with_error_cell(cell: str, decimal_comma: bool) -> bool:
    """Whether ``cell`` holds 'value ± error' (or '+/-', '+-'): two numbers in one cell."""
    match = _VALUE_WITH_ERROR.fullmatch(cell.strip().strip('"').strip())
    return match is not None and all(
        _parse_number(match.group(part), decimal_comma)[0] is not None
        for part in ("value", "error"))


def value_with_error_message(src: str, where: str, cell: str) -> str:
    """The refusal of a 'value ± error' cell at ``where`` ("column 'Qi', data row 1"): it was
    'no numeric rows found' or 'cannot read' without saying why (bt197 F9)."""
    return (f"{src}: {where}: {cell.strip()!r} holds a value and its error in one cell ('value "
            "± error', as Origin or lab programs export them); split them into two columns, "
            "e.g. 'Qi' and 'Qi_err' (the error column is found by its name), or keep the values "
            "only")


def _cell_value(src: str, name: str, i: int, cell: str, decimal_comma: bool
                ) -> tuple[float, str | None]:
    """The finite number in a cell of data row i + 1 and its unit, or a ValueError."""
    value, unit = _parse_number(cell, decimal_comma)
    if value is None and value_with_error_cell(cell, decimal_comma):
        raise ValueError(value_with_error_message(src, f"column {name!r}, data row {i + 1}",
                                                  cell))
    if value is None:
        text = _number_text(cell)[0]
        grouped = _ONE_GROUP.fullmatch(text)
        hint = (f" (a thousands separator? write {text.replace(',', '')})"
                if (grouped and grouped.group("mark") == ",")
                or _GROUPED_DECIMAL_POINT.fullmatch(text) else "")
        if re.fullmatch(r"[+-]?\d{1,3}(?:['\u2019]\d{3})+(?:\.\d+)?", text):  # Swiss '1'000'
            plain = re.sub("['\u2019]", "", text)
            hint = f" (a thousands separator? write {plain})"
        raise ValueError(f"{src}: column {name!r}, data row {i + 1}: cannot read "
                         f"{cell!r} as a number{hint}")
    if math.isnan(value):
        raise ValueError(f"{src}: column {name!r}, data row {i + 1}: missing value or NaN "
                         f"({cell!r})")
    if math.isinf(value):
        raise ValueError(f"{src}: column {name!r}, data row {i + 1}: infinite value "
                         f"({cell!r})")
    return value, unit


#: A line holding nothing but separators, quotes and blanks.
_EMPTY_CELLS = re.compile(r'[\s,;"]*')


#: A cell of a units row: a unit or scale as spreadsheets export them under the column names
#: (bracketed or not), or a placeholder for "no unit".
_UNIT_CELL = re.compile(
    r"[\[(]?\s*(?:[kmuµn]?k|[mun]?s|[kmg]?hz|db|dbm|deg|°|rad|%|ppm|ppb|[mun]?w|1|-|a\.?u\.?|"
    r"arb\.?(?:\s*units?)?|x?\s*10\^?-?\d+|x?\s*1e-?\d+)?\s*[\])]?", re.IGNORECASE)


def _is_units_row(cells: list[str]) -> bool:
    """Whether a row holds units only (at least one; empty cells and '[]' allowed)."""
    filled = [cell for cell in cells if cell]
    return (any(cell.strip("[]() ") for cell in filled)
            and all(_UNIT_CELL.fullmatch(cell) for cell in filled))


#: Spellings of one unit in headers and units rows (compared lower case, without blanks).
_UNIT_SYNONYMS = {"°": "deg", "degree": "deg", "degrees": "deg", "µk": "uk", "μk": "uk",
                  "a.u.": "au", "a.u": "au", "arb.units": "au", "arb.unit": "au", "arb.": "au",
                  "arb": "au", "arbitraryunits": "au", "radian": "rad", "radians": "rad",
                  "kelvin": "k", "millikelvin": "mk"}


def _unit_key(unit: str) -> str:
    compact = re.sub(r"\s+", "", unit.lower())
    return _UNIT_SYNONYMS.get(compact, compact)


def _with_unit_row(name: str, unit: str) -> str | None:
    """A header name joined with the unit of the units row under it: ``'Temperature (K)'``.

    A name that carries a unit of its own keeps it when the row agrees (the same unit in any
    spelling: ``'deg'`` and ``'°'``, ``x1e6`` and ``x 10^6``); None when they disagree
    (``'Temperature (K)'`` over ``mK``: it was read as the unreadable ``'Temperature (K) (mK)'``,
    "cannot tell the unit"; session 36), refused by :meth:`CellGrid.column` if the column is
    used.
    """
    if unit in ("", "-", "1") or not name:
        return name or unit
    own = parse_header(name)
    if own.unit is None:
        return f"{name} ({unit})"
    row = parse_header(f"{own.quantity} ({unit})").unit
    factor = scale_factor(own.unit.replace(" ", ""))
    if row is not None and (_unit_key(row) == _unit_key(own.unit) or (
            factor is not None and scale_factor(row.replace(" ", "")) == factor)):
        return name
    if _unit_key(unit) == _unit_key(own.unit):
        return name
    return None


#: A number with its digits grouped in threes by a thousands separator, twice or more
#: ('2.910.000', '2,910,000', "2'910'000"; blanks of any kind are dropped and read), maybe with decimals.
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?P<sep>[.,'\u2019\u00a0\u202f])\d{3}(?:(?P=sep)\d{3})+"
                        r"(?:[.,]\d+)?")


#: A number with one group of three digits after a '.' or ',' and a leading digit other than 0
#: ('1.000', '2,500'): read as a decimal (1.0, 2.5), but a thousands separator writes it too
#: (1000, 2500). '0.500' and '1.25' are decimals whichever way.
_ONE_GROUP = re.compile(r"[+-]?[1-9]\d{0,2}(?P<mark>[.,])\d{3}")


def _decimal_mark_example(cell: str, decimal_comma: bool) -> str | None:
    """The mark ('.' or ',') that a numeric cell uses as its decimal mark beyond doubt (a cell
    of one group of three digits is no evidence), else None."""
    text, _ = _number_text(cell)
    if _ONE_GROUP.fullmatch(text) or _parse_number(cell, decimal_comma)[0] is None:
        return None
    if decimal_comma and "," in text:
        return ","
    return "." if "." in text else None


def decimal_marks(rows: list[list[str]], lines: list[int], decimal_comma: bool
                  ) -> dict[str, tuple[int, str]]:
    """For each decimal mark the file uses beyond doubt, the line and cell of its first use."""
    found: dict[str, tuple[int, str]] = {}
    for row, line in zip(rows, lines, strict=False):
        for cell in row:
            mark = _decimal_mark_example(cell, decimal_comma)
            if mark is not None and mark not in found:
                found[mark] = (line, cell.strip())
    return found


def refuse_grouped_thousands(grid: CellGrid, name: str, cells: list[str]) -> None:
    """Refuse a cell such as '1.000' (one group of three digits) that the table reads as a
    decimal (1.0) where it is most likely a thousands separator (1000): the file writes its
    decimals with the other mark, or the column's other numbers include integers of three or
    more digits written without a mark while none of them uses this one as a decimal mark (not
    for a '.' in a file separated by ',', where it is the decimal point). '100;...;900;1.000' from a German
    spreadsheet was read as 1 mK, silently (a break test, session 46). A column that uses the
    mark as a decimal mark elsewhere ('0.500', '1.25') is left alone, as is a column of such
    cells only in a file with no other decimal mark ('1.000', '1.250')."""
    ambiguous = [(i, cell, m.group("mark")) for i, cell in enumerate(cells)
                 if (m := _ONE_GROUP.fullmatch(_number_text(cell)[0]))]
    if not ambiguous:
        return
    column_marks = {_decimal_mark_example(cell, grid.decimal_comma) for cell in cells}
    # integers of three or more digits: '900' beside '1.000' is evidence of grouping, a '0' (the
    # reference of a shift table) beside '1.234' is not (a second break test, session 46)
    integers = sum(bool(re.fullmatch(r"[+-]?[1-9]\d{2,}", _number_text(cell)[0])) for cell in cells)
    for i, cell, mark in ambiguous:
        other = "," if mark == "." else "."
        reading = _parse_number(cell, grid.decimal_comma)[0]
        if reading is None or mark in column_marks:  # '"1,000"' in a file separated by ',' is
            continue  # named by _cell_value; '1.000' beside '0.250' is a decimal
        if other in grid.marks:
            line, example = grid.marks[other]
            why = f"the file writes its decimals with {other!r} ({example!r} at line {line})"
        elif (integers and mark not in column_marks and mark not in grid.marks
              and not (grid.sep == "," and mark == ".")):  # '150.125' beside '100' and '1.2e5'
            # is a decimal: the file writes its decimals with that mark (regression hunt, s46)
            # (in a file separated by ',' a '.' is the decimal point: grouping there is ',')
            why = (f"the column's other numbers are integers of three or more digits written "
                   f"without {mark!r}, and none of its numbers uses it as a decimal mark")
        else:
            continue
        grouped = _number_text(cell)[0].replace(mark, "")
        raise ValueError(
            f"{grid.src}: column {name!r}, line {grid.lines[i]}: {cell.strip()!r} is read as "
            f"{reading:g}, with {mark!r} as a decimal mark, but {why}: it is most likely "
            f"{grouped} written with a thousands separator. Write the numbers without digit "
            "grouping (or in scientific notation), or every decimal with the same mark")


def _refuse_thousands(src: str, rows: list[list[str]], line_numbers: list[int],
                      decimal_comma: bool) -> None:
    """Refuse a cell written with a thousands separator, naming it: '100;2.910.000' could not be
    read, so the last row ('1700;884.973', a number either way) was taken for the data and the
    row above it for the header: "cannot tell which column is the temperature; columns found:
    '1600', '1.316.992'" (a helper, session 36). Read as decimals such cells would be wrong
    ('884.973' is 884973), so the file must be rewritten; a cell that reads as a number
    ('1.234.567,5' with decimal commas) is left alone."""
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            text = cell.strip().strip('"').strip()
            match = _THOUSANDS.fullmatch(text)
            if match is None or _parse_number(cell, decimal_comma)[0] is not None:
                continue
            mark = {"\u00a0": "a no-break space", "\u202f": "a narrow no-break space"}.get(
                match.group("sep"), repr(match.group("sep")))
            line = line_numbers[i] if i < len(line_numbers) else i + 1
            plain = text.replace(match.group("sep"), "")
            raise ValueError(
                f"{src}: line {line}, column {j + 1}: cannot read {cell!r} as a number: {mark} "
                f"between groups of three digits looks like a thousands separator; write the "
                f"numbers without it ({plain!r}) or in scientific notation, e.g. by exporting "
                "without digit grouping")


def _refuse_value_with_error(src: str, rows: list[list[str]], line_numbers: list[int],
                             decimal_comma: bool, numbers) -> None:
    """Refuse the first 'value ± error' cell (:func:`value_with_error_cell`), naming its column
    (from the nearest row above without numbers) and line: such a table was "no numeric rows
    found" (bt197 F9)."""
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            if not value_with_error_cell(cell, decimal_comma):
                continue
            header = next((r for r in reversed(rows[:i]) if numbers(r) == 0), None)
            name = (header[j].replace("\ufeff", "").strip().strip('"')
                    if header is not None and j < len(header) else "")
            column = f"column {name!r}" if name else f"column {j + 1}"
            line = line_numbers[i] if i < len(line_numbers) else i + 1
            raise ValueError(value_with_error_message(src, f"{column}, line {line}", cell))


def _units_joined(cells: list[str]) -> list[str]:
    """Header cells split at spaces with each unit or scale in brackets joined to the name
    before it: 'T', '(mK)', 'Qi' -> 'T (mK)', 'Qi'."""
    out: list[str] = []
    for cell in cells:
        if out and cell[:1] in "([":
            out[-1] = f"{out[-1]} {cell}"
        else:
            out.append(cell)
    return out


def _header_by_spaces(src: str, cells: list[str], width: int, line: int) -> list[str]:
    """The header of a table separated by spaces, its bracketed units joined to their names
    (:func:`_units_joined`); ValueError naming the line when it still does not give one name
    per data column (a name with a space in it)."""
    if len(cells) == width:
        return cells
    joined = _units_joined(cells)
    if len(joined) == width:
        return joined
    raise ValueError(
        f"{src}: line {line}: the header splits at spaces into {len(joined)} names "
        f"({', '.join(map(repr, joined))}) over {width} data columns; in a table whose columns "
        "are separated by spaces a name cannot hold a space (a unit in brackets may): write "
        "e.g. 'Temperature_(mK) Qi', or separate the columns by tabs or commas")


def _commented_header(text: str, first_data_line: int, sep: str, width: int,
                      numbers) -> tuple[int, list[str]] | None:
    """(line number, cells) of the comment line nearest above the first data line (blank lines
    between allowed) when, with its '#' removed, it has ``width`` cells and no number: the
    header ``numpy.savetxt`` writes. None otherwise."""
    lines = text.splitlines()[:first_data_line - 1]
    for number in range(len(lines), 0, -1):
        line = lines[number - 1].strip()
        if not line:
            continue
        if not line.startswith(_COMMENT_MARKS):
            return None
        cells = _split(line.lstrip("".join(_COMMENT_MARKS)).strip(), sep)
        if sep == _WHITESPACE:
            cells = _units_joined(cells)
        if len(cells) == width and numbers(cells) == 0 and all(c.strip() for c in cells):
            return number, cells
        return None
    return None


def read_grid(p: Path, example: str = "'Temperature (mK);Qint'") -> CellGrid:
    """Decode, drop comments, sniff the separator, find the header and the data rows.

    A table whose only header is a comment line right above the data (``# T (mK),Qi``, as
    ``numpy.savetxt(..., header=...)`` writes it) takes that line as its header when it has as
    many cells as the data and no number: it was refused as 'no header line' (a tester,
    session 40). ``example`` is the header suggested when there is none."""
    src = str(p)
    text = decode_text(p.read_bytes(), src)
    # a line of empty cells only (',,' or ';;', as spreadsheets export below the data) is a
    # blank line: it stopped the whole table with "cannot read ''" (session 33)
    # a comment after the numbers of a data line ('20 1.1e5  # warm-up') is dropped, as
    # numpy.loadtxt does: it split into extra cells (a tester, session 41)
    numbered = [(i + 1, _TRAILING_COMMENT.sub("", ln) if _STARTS_WITH_NUMBER.match(ln) else ln)
                for i, ln in enumerate(text.splitlines())
                if not _EMPTY_CELLS.fullmatch(ln) and not ln.lstrip().startswith(_COMMENT_MARKS)]
    lines = [ln for _, ln in numbered]
    if not lines:
        raise ValueError(f"{src}: file is empty (no lines besides comments)")
    sep = _sniff_separator(lines, src, [n for n, _ in numbered])
    rows = ([_split(ln, sep) for ln in lines] if sep == _WHITESPACE
            else list(csv.reader(io.StringIO("\n".join(lines)), delimiter=sep)))
    decimal_comma = sep != ","
    _refuse_thousands(src, rows, [n for n, _ in numbered], decimal_comma)

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
        _refuse_value_with_error(src, rows, [n for n, _ in numbered], decimal_comma, numbers)
        raise ValueError(
            f"{src}: no numeric rows found ({len(rows)} line(s), separator "
            f"{_SEP_NAMES[sep]}); first line: {sep.join(rows[0])[:80]!r}")
    if first == 0:
        commented = _commented_header(text, numbered[0][0], sep, len(rows[0]), numbers)
        if commented is None:
            raise ValueError(
                f"{src}: no header line, so the columns cannot be identified "
                f"({len(rows[0])} unnamed columns); add a header such as {example}")
        rows.insert(0, commented[1])
        numbered.insert(0, (commented[0], ""))
        first = 1
    if sep == _WHITESPACE:
        rows[first - 1] = _header_by_spaces(src, rows[first - 1], len(rows[first]),
                                            numbered[first - 1][0])
    columns = [c.replace("\ufeff", "").strip().strip('"') for c in rows[first - 1]]
    conflicts: dict[str, str] = {}
    if (first >= 3 and not _is_units_row(columns) and numbers(rows[first - 3]) == 0
            and _is_units_row([c.strip().strip('"') for c in rows[first - 2]])):
        # Origin's three header rows: long names, units, comments ('sample A,run 1'); the
        # comments were taken for the names (a second break test, session 35)
        first -= 1
        columns = [c.replace("\ufeff", "").strip().strip('"') for c in rows[first - 1]]
        rows = rows[:first] + rows[first + 1:]
        numbered = numbered[:first] + numbered[first + 1:]
    if first >= 2 and _is_units_row(columns) and numbers(rows[first - 2]) == 0:
        # a units row under the names (Origin, LabVIEW: 'Temperature,Qi' then 'K,'): it was
        # taken for the header, and the error named columns 'K' and '' (a new user, session
        # 35); each unit joins its name as the header's own unit would: 'Temperature (K)'
        names = [c.replace("\ufeff", "").strip().strip('"') for c in rows[first - 2]]
        units = [unit.strip("[]() ") for unit in columns]
        columns = []
        for name, unit in itertools.zip_longest(names, units, fillvalue=""):
            joined = _with_unit_row(name, unit)
            if joined is None:  # a disagreement is refused when its column is used: a phase
                # column's 'deg' over '°' refused a whole loss table (a helper, session 36)
                conflicts[name] = (f"{src}: column {name!r} gives its unit in the header and "
                                   f"{unit!r} in the units row under it; keep one of them (or "
                                   "make them agree)")
            columns.append(name if joined is None else joined)
    if len(columns) < 2:
        raise ValueError(f"{src}: found only one column ({columns[0]!r}); need a temperature "
                         "and a loss column")
    lines_of_data = [n for n, _ in numbered[first:]]
    for row, line in zip(rows[first:], lines_of_data, strict=True):
        # more filled cells than column names: a comma-separated file with decimal commas
        # ('100,-80,1,58E+07') read Q = 1 for 1.58e7 (session 31); empty trailing cells are fine
        if any(cell.strip() for cell in row[len(columns):]):
            hint = (" (with ',' as separator a decimal comma splits a number in two: separate "
                    "the columns with ';' or tabs, or write decimal points)"
                    if sep == "," and any(re.fullmatch(r"\d+", c.strip()) for c in row[1:])
                    else "")
            if sep == "," and any(re.fullmatch(r"\d{3}", c.strip()) for c in row[2:]):
                # '100,2,910,000': a thousands separator, split like a decimal comma (a helper,
                # session 36)
                hint = hint[:-1] + (", or a thousands separator ('2,910,000') splits it: write "
                                    "the numbers without it)")
            raise ValueError(
                f"{src}: line {line} has {sum(bool(c.strip()) for c in row)} filled cells "
                f"({sep.join(row)[:60]!r}) but the header names {len(columns)} columns"
                f"{hint}; every data line needs one cell per column")
    _refuse_unit_cells_beyond_data(src, columns, rows[first:], sep)
    return CellGrid(src, sep, decimal_comma, columns, rows[first:], lines_of_data, conflicts,
                    decimal_marks(rows[first:], lines_of_data, decimal_comma))


def _balanced(text: str) -> bool:
    return all(text.count(a) == text.count(b) for a, b in ("()", "[]", "{}"))


def _refuse_unit_cells_beyond_data(src: str, columns: list[str], data: list[list[str]],
                                   sep: str) -> None:
    """Refuse a header cell holding a unit or scale only ('%', 'MHz', 'ppm', '1e-6') beyond the
    last column any data line fills: a unit written after a separator ('T (K),loss, %'), which
    became a column of its own with no numbers, and the loss column was read without it, 100
    times too large, without a word (a second round, helper-159, session 51)."""
    width = max((max((i + 1 for i, cell in enumerate(row) if cell.strip()), default=0)
                 for row in data), default=0)
    extra = [(i, name) for i, name in enumerate(columns) if i >= width and name
             and _is_units_row([name]) and _balanced(name)]  # a split bracket is told later
    if extra:
        i, name = extra[0]
        before = columns[i - 1] if i > 0 else ""
        raise ValueError(
            f"{src}: the header's cell {name!r} (column {i + 1}) holds only a unit or scale and "
            f"no data line has a number under it: a unit written after a separator "
            f"({sep.join([before, name])!r})? Write it in brackets after its name "
            f"('{before} ({name.strip('()[] ')})')")


def _data_columns(grid: CellGrid, temperature_column: str | None, loss_column: str | None,
                  power_column: str | None | bool) -> tuple[str, str, str, str | None]:
    """(temperature, loss, loss kind, power or None) columns, chosen by name or recognised
    (``power_column=False``: none)."""
    src, columns = grid.src, grid.columns
    t_name = pick_column("temperature", temperature_column,
                   [c for c in columns if is_temperature(c) and not is_error_column(c)], columns, src)
    if t_name is None:
        raise ValueError(f"{src}: cannot tell which column is the temperature; columns found: "
                         f"{', '.join(map(repr, columns))}; name it e.g. 'Temperature (mK)' or "
                         "pass temperature_column='NAME'")
    loss_candidates = [c for c in columns
                       if c != t_name and loss_kind(c) is not None and not is_error_column(c)]
    l_name = pick_column("loss (Q, Q^-1 or tan delta)", loss_column, loss_candidates, columns, src)
    if l_name is None:
        near = [c for c in columns if c != t_name and LOSS_START.match(strip_unit(c))]
        why = "".join(f"; column {c!r} starts like a loss column, but its header is not read: "
                      f"{'; '.join(parse_header(c).problems) or 'unknown name ' + repr(strip_unit(c))}"
                      for c in near)
        if any("unbalanced" in p for c in columns for p in parse_header(c).problems):
            why += (f" (a {_SEP_NAMES[grid.sep]} inside a header cell splits it when it also "
                    "separates the columns: quote the cell, e.g. \"Qi (-80 dBm, x1e6)\")")
        raise ValueError(f"{src}: cannot tell which column is the loss (Q, Qi, Qint, Q^-1, 1/Q, "
                         f"loss or tan delta); columns found: {', '.join(map(repr, columns))}"
                         f"{why}; name it e.g. 'Qi' or pass loss_column='NAME'. A header is read as "
                         f"{HEADER_SPELLINGS}")
    if l_name == t_name:
        raise ValueError(f"{src}: column {l_name!r} is chosen as both the temperature and the "
                         "loss column; each needs a column of its own")
    kind = loss_kind(l_name, explicit=True)
    if kind is None:
        raise ValueError(f"{src}: column {l_name!r} is not recognised as Q, Q^-1 or tan delta "
                         "(rename it, e.g. 'Qi' or '1/Q')")
    power_candidates = [c for c in columns if c not in (t_name, l_name) and not is_error_column(c)
                        and is_power_column(c)]
    try:
        pw_name = (None if power_column is False  # ignored: a row-by-row photon number (session 50)
                   else pick_column("power", power_column, power_candidates, columns, src))
    except ValueError:
        if power_column is not None:
            raise
        pw_name = None  # several power-like columns and none chosen: ignore power
    # one column in two roles: --power-column naming the loss split the data into one "curve"
    # per loss value and failed with 25 points for 50 parameters (session 33)
    roles = [("temperature", t_name), ("loss", l_name), ("power", pw_name)]
    for i, (role, name) in enumerate(roles):
        for other, other_name in roles[i + 1:]:
            if name is not None and name == other_name:
                raise ValueError(f"{src}: column {name!r} is chosen as both the {role} and the "
                                 f"{other} column; each needs a column of its own")
    return t_name, l_name, kind, pw_name


def check_column_options(error_column=None, temperature_unit=None, **names) -> str | None | bool:
    """Column options of the table readers: each of ``names`` None or a column name (a string);
    ``error_column`` None (find one), False (none; a numpy bool too) or a name; the checked
    ``error_column`` is returned. An int gave "'int' object has no attribute 'replace'" and
    np.False_ was not taken as False (a break test, session 45)."""
    for name, value in names.items():
        if name == "power_column" and value is False:  # no power column: one curve
            continue
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be a column name (a string) or None"
                            + (" or False (none)" if name == "power_column" else "")
                            + f", got {v._describe(value)}")
    if temperature_unit is not None and temperature_unit not in ("K", "mK"):  # before the file
        raise ValueError(f"temperature_unit must be 'K' or 'mK', got {v._describe(temperature_unit)}")
    if isinstance(error_column, bool | np.bool_):
        if error_column:
            raise TypeError("error_column must be a column name, None (find one by its name) or "
                            "False (no errors), got True")
        return False
    if error_column is not None and not isinstance(error_column, str):
        raise TypeError(f"error_column must be a column name, None or False, got "
                        f"{v._describe(error_column)}")
    return error_column


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
        # 'T_err', 'f0_err', 'Qc_err' were taken as the loss's error (a break test, session 50)
        named = {c: error_names_other(c, value_name, columns) for c in e_cands}
        left_out = [c for c in e_cands if named[c] is not None]
        e_cands = [c for c in e_cands if named[c] is None]
        expanded = [c for c in e_cands if headers_mod.is_expanded_uncertainty(c)]
        if expanded and len(expanded) < len(e_cands):  # a standard one beside it is the error
            warnings.warn(f"{src}: column(s) {', '.join(map(repr, expanded))} (an expanded "
                          f"uncertainty U = k u) not used as the {value_kind}'s error of "
                          f"{value_name!r}: the standard uncertainty beside it is",
                          UserWarning, stacklevel=3)
            e_cands = [c for c in e_cands if c not in expanded]
        if left_out and not e_cands:
            warnings.warn(f"{src}: column(s) " + ", ".join(f"{c!r} (the error of {named[c]}?)"
                                                         for c in left_out)
                          + f" not used as the {value_kind}'s error of {value_name!r}: no error "
                          "column; choose one by name (error_column=, --error-column) if it is",
                          UserWarning, stacklevel=3)
        bare = strip_unit(value_name)
        if len(e_cands) > 1:  # prefer the error of the value column: 'Qi error' beside 'Qc error'
            e_cands = [c for c in e_cands if bare and bare in normalised_header(c)] or e_cands
        if len(e_cands) > 1:
            raise ValueError(
                f"{src}: cannot tell which column is the error of {value_name!r}: "
                f"{', '.join(map(repr, e_cands))} all qualify; choose one by name (error_column=, "
                "--error-column) or ignore them (error_column=False, --error-column none)")
        e_name = e_cands[0] if e_cands else None
    if e_name in (t_name, value_name):
        raise ValueError(f"{src}: the error column {e_name!r} is also the temperature or "
                         f"{value_kind} column")
    if e_name is not None and headers_mod.is_expanded_uncertainty(e_name):
        # 'U(Qi)', 'U(df)': U = k u with k usually 2, taken as a standard uncertainty (helper-165)
        raise ValueError(f"{src}: error column {e_name!r} is an expanded uncertainty (a capital "
                         "U, 'expanded', k = 2, 2σ or a 95 % level: U = k u, the coverage factor k usually "
                         "2), not "
                         f"the standard uncertainty the fit of {value_name!r} needs: divide it by "
                         "its coverage factor into a column named e.g. 'u(...)' or 'sd(...)', or "
                         "ignore it (error_column=False, --error-column none)")
    return e_name


def _temperature_unit_of(grid: CellGrid, t_name: str, cell_units: set[str],
                         temperature_unit: str | None) -> str:
    """mK or K, from the header, the cells or ``temperature_unit`` (which must agree)."""
    src = grid.src
    t_unit = header_temperature_unit(t_name)
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
            raise ValueError(f"temperature_unit must be 'K' or 'mK', got {v._describe(temperature_unit)}")
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


def loss_scale(src: str, l_name: str, kind: str) -> float:
    """The factor turning the numbers of loss column ``l_name`` of kind ``kind`` ("Q", "Q^-1",
    "tan delta") into Q or the loss: the unit the values are in (:func:`.headers.dimensionless_scale`;
    ``Qi (x1e6)``, ``Qi/10^6`` and ``Qi, 1e6`` with 1.2 are Q = 1.2e6, ``1/Qi (x1e-6)`` with 3 is
    3e-6).

    Raises
    ------
    ValueError
        A header that cannot be read without guessing (:func:`check_header`), a unit that is not
        dimensionless, ppm or % of a Q, or a scale pointing the wrong way for the quantity: a Q in
        units of 10^-6 would be below 1 and a loss in units of 10^6 above 1, so ``Qi x 1e-6`` or
        ``tan d x 10^6`` more likely means the quantity times the number, the opposite of the
        unit the values are in (read as that unit they were refused as a Q/loss swap).
    """
    what = {"Q": "quality factor", "Q^-1": "loss", "tan delta": "loss tangent"}[kind]
    scale = dimensionless_scale(src, l_name, what, allow_fractions=kind != "Q")
    if scale < 1 if kind == "Q" else scale > 1:
        name, unit = _display_name(l_name), _power_of_ten(1 / scale)
        raise ValueError(
            f"{src}: the header of the {what} column, {l_name!r}, cannot be read without "
            f"guessing: a {what} in units of {_power_of_ten(scale)} would be "
            f"{'below' if kind == 'Q' else 'above'} 1; if the values are the {what} times "
            f"{_power_of_ten(scale)}, write the unit they are in: '{name} (x{unit})', "
            f"'{name} ({unit})' or '{name}/{unit}'")
    return scale


def _power_of_ten(x: float) -> str:
    """'1e6', '1e-6' for 10^6, 10^-6."""
    return f"1e{round(math.log10(x))}"


def _display_name(column: str) -> str:
    """The quantity's name as the header writes it ('Qi' of 'Qi x 1e-6'), else normalised."""
    text, name = column.replace("\ufeff", "").strip().strip('"').strip(), strip_unit(column)
    return text[:len(name)] if text.lower().startswith(name) else name


def _losses(src: str, l_name: str, l_values: np.ndarray, kind: str) -> np.ndarray:
    """Q^-1 (or tan delta) from the loss column, refusing values of the wrong kind."""
    what = {"Q": "quality factors", "Q^-1": "inverse quality factors (loss)",
            "tan delta": "loss tangents"}[kind]
    bad = np.flatnonzero(l_values <= 0)
    if bad.size:
        raise ValueError(f"{src}: column {l_name!r}: {what} must be > 0, found "
                         f"{l_values[bad[0]]:g} in data row {bad[0] + 1}")
    name = _display_name(l_name)
    lo, hi = float(np.min(l_values)), float(np.max(l_values))
    if kind == "Q":
        bad = np.flatnonzero(l_values < 1)
        if bad.size:
            found = (f"{src}: column {l_name!r}: quality factors must be >= 1, found "
                     f"{l_values[bad[0]]:g} in data row {bad[0] + 1}")
            if hi <= MAX_PLAUSIBLE_LOSS:
                raise ValueError(f"{found}; this looks like a loss (1/Q or tan delta): the column "
                                 "is probably Q/loss swapped (name it e.g. '1/Q')")
            # 0.88 ... 19 (a Qi in millions whose scale got lost) is no loss either: the swap
            # alone was suggested, and following it fed losses of ~1 to the fit (helper-175 F1)
            raise ValueError(f"{found}; the column holds {lo:.4g} to {hi:.4g}, neither a Q (>= 1) "
                             f"nor a loss (no resonator or glass has a loss above "
                             f"{MAX_PLAUSIBLE_LOSS:g}) as written: a Q in millions or thousands "
                             f"with its scale missing from the header? write e.g. '{name} (1e6)' "
                             f"or '{name} (1e3)'; or is the column Q/loss swapped, a loss in a "
                             "unit? name it so (e.g. '1/Q (1e-6)')")
    else:
        bad = np.flatnonzero(l_values > 1)
        if bad.size:
            found = (f"{src}: column {l_name!r}: {what} must be <= 1, found "
                     f"{l_values[bad[0]]:g} in data row {bad[0] + 1}")
            if lo >= 1 / MAX_PLAUSIBLE_LOSS:
                raise ValueError(f"{found}; this looks like a quality factor Q: the column is "
                                 "probably Q/loss swapped (name it e.g. 'Qi')")
            # 0.5 ... 3 under 'tan d' is a loss in ppm whose unit got lost more likely than a Q
            # of 0.5 (the swap alone fed Q ~ 1 to the fit; as helper-175 F1 for a Q column)
            raise ValueError(f"{found}; the column holds {lo:.4g} to {hi:.4g}, neither a loss "
                             f"(<= 1) nor a Q (no resonator or glass has Q below "
                             f"{1 / MAX_PLAUSIBLE_LOSS:g}) as written: a loss in a unit missing "
                             f"from the header? write e.g. '{name} (ppm)' or '{name} (1e-6)'; "
                             "or is the column Q/loss swapped, a quality factor in a unit? name "
                             "it so (e.g. 'Qi (1e6)')")
    return 1.0 / l_values if kind == "Q" else l_values


#: The largest loss (Q^-1 or tan delta) a resonator or glass plausibly has: Q = 100. Lossy
#: dielectrics reach tan delta ~ 1e-3, TLS-limited resonators Q^-1 ~ 1e-4 ... 1e-7.
MAX_PLAUSIBLE_LOSS = 1e-2


def _warn_implausible_loss(src: str, l_name: str, numbers: np.ndarray, loss: np.ndarray,
                           kind: str, scale: float) -> None:
    """UserWarning when a loss (Q^-1 or tan delta) is above MAX_PLAUSIBLE_LOSS: a Qi written in
    millions without a scale in the header ('Qi' then 2.91) was read as Q ~ 3 (loss 0.34), a tan
    delta in ppm without its unit as 0.34, both fitted without a word (a helper, session 36).
    ``numbers`` are the column's values as written."""
    if loss.size == 0 or not float(np.max(loss)) > MAX_PLAUSIBLE_LOSS:
        return
    name = _display_name(l_name)
    lo, hi = float(np.min(numbers)), float(np.max(numbers))
    read = (f"Q {lo * scale:.4g} to {hi * scale:.4g}, a loss up to {np.max(loss):.3g}"
            if kind == "Q" else f"a loss of {np.min(loss):.3g} to {np.max(loss):.3g}")
    if scale != 1.0:
        fix = "is the scale in the header right?"
    elif kind == "Q":
        fix = (f"is a scale missing from the header? write e.g. '{name} (1e6)' for values in "
               f"millions, '{name} (1e3)' for thousands")
    else:
        fix = (f"is a unit missing from the header? write e.g. '{name} (ppm)' or "
               f"'{name} (1e-6)' for values in millionths")
    warnings.warn(f"{src}: column {l_name!r} holds {lo:.4g} to {hi:.4g}, read as {read}: no "
                  f"resonator or glass has a loss above {MAX_PLAUSIBLE_LOSS:g} (Q below "
                  f"{1 / MAX_PLAUSIBLE_LOSS:g}); {fix}", UserWarning, stacklevel=3)


#: The smallest loss (Q^-1 or tan delta) a resonator plausibly has: Q = 1e11. The best bulk
#: niobium SRF cavities reach Q0 ~ 1e10 ... 1e11 at 1.5-2 K, sapphire's tan delta ~ 1e-9 at low
#: temperature, planar and TLS-limited resonators Q ~ 1e4 ... 1e8: a Qi of 1e12 or 1e30 (loss
#: 1e-12) is a typo, a scale missing from the header ('Qi (1e-6)') or a failed upstream fit, and
#: was taken silently (a tester, bt206 F1: the verdict then blamed the one row as "loss rising
#: with temperature"). Tighter than this would warn on real cavity data.
MIN_PLAUSIBLE_LOSS = 1e-11

#: A row whose loss lies this many decades from every other row's (at most
#: ``ISOLATED_MAX_ROWS`` such rows, in a table of at least ``ISOLATED_MIN_ROWS``) is named as an
#: outlier: temperature and power move a resonator's loss smoothly, a jump of 1000 between the
#: nearest values is a typo or a failed fit, not physics (a tester, bt206 F1).
ISOLATED_DECADES = 3.0
ISOLATED_MAX_ROWS = 2
ISOLATED_MIN_ROWS = 6


def _refuse_tiny_column(src: str, l_name: str, numbers: np.ndarray, loss: np.ndarray,
                        kind: str, scale: float) -> None:
    """Refuse a loss column that lies as a whole beyond any resonator's loss: every row below
    ``MIN_PLAUSIBLE_LOSS`` (Q above 1e11), or, with a scale in the header, every row below 10
    times it while the numbers as written are a plausible Q or loss. A header's scale that does
    not match the values (``1/Qi (ppm)`` over plain losses, ``Qi (1e6)`` over plain Q) gave a
    warning naming half the rows, "correct or remove it", and amplitudes 1e6 too small (bt219
    F6): one column, one refusal, as a Q column below 1 is refused. ``numbers`` are the
    column's values as written."""
    if loss.size == 0:
        return
    top = float(np.max(loss))
    plain = 1.0 / numbers if kind == "Q" else numbers  # the loss the numbers are without a scale
    plain_ok = bool(np.all((plain >= MIN_PLAUSIBLE_LOSS) & (plain <= MAX_PLAUSIBLE_LOSS)))
    wrong_scale = scale != 1.0 and top < 10 * MIN_PLAUSIBLE_LOSS and plain_ok
    if not (top < MIN_PLAUSIBLE_LOSS or wrong_scale):
        return
    name, unit = _display_name(l_name), scale_unit(l_name)
    lo, hi = float(np.min(numbers)), float(np.max(numbers))
    read = (f"Q {lo * scale:.4g} to {hi * scale:.4g}" if kind == "Q"
            else f"a loss of {float(np.min(loss)):.3g} to {top:.3g}")
    with_scale = f" with the header's scale {unit!r} ({scale:g})" if scale != 1.0 else ""
    if wrong_scale:
        fix = (f"the values look like a plain {'Q' if kind == 'Q' else 'loss'} ({lo:.4g} to "
               f"{hi:.4g}): drop {unit!r} from the header (write {name!r}), or correct the scale")
    elif scale != 1.0:
        fix = f"is the scale {unit!r} in the header right?"
    else:
        fix = ("a scale missing from the header (values in units of it), or another quantity "
               "than the loss?")
    raise ValueError(f"{src}: column {l_name!r} holds {lo:.4g} to {hi:.4g}, read{with_scale} as "
                     f"{read}: every row at or beyond the lowest loss of any resonator "
                     f"({MIN_PLAUSIBLE_LOSS:g}, Q {1 / MIN_PLAUSIBLE_LOSS:g}: the best niobium "
                     f"cavities); {fix}")


#: Below this loss (Q above 1e8) only superconducting cavities and the best crystals go; planar
#: resonators and glasses lie at 1e-7 ... 1e-2 (:data:`GLASS_LOSS_RANGE`).
CAVITY_LOSS = 1e-8
GLASS_LOSS_RANGE = (1e-7, 1e-2)


def _warn_doubtful_scale(src: str, l_name: str, numbers: np.ndarray, loss: np.ndarray,
                         kind: str, scale: float) -> None:
    """UserWarning when a header's scale puts the whole column below :data:`CAVITY_LOSS` while
    the numbers as written, without it, are a planar resonator's or a glass's loss or Q
    (:data:`GLASS_LOSS_RANGE`): 'tan d (ppm)' over plain tan delta 1e-4, 'Qi (1e3)' over plain
    Q 1e5 gave amplitudes 1e3-1e6 too small without a word (a tester, bt223 F9). Not refused:
    a superconducting cavity's 'Qi (1e9)' is read so."""
    if scale == 1.0 or loss.size == 0 or not float(np.max(loss)) < CAVITY_LOSS:
        return
    plain = 1.0 / numbers if kind == "Q" else numbers
    if not np.all((plain >= GLASS_LOSS_RANGE[0]) & (plain <= GLASS_LOSS_RANGE[1])):
        return
    unit = scale_unit(l_name)
    lo, hi = float(np.min(numbers)), float(np.max(numbers))
    read = (f"Q {lo * scale:.3g} to {hi * scale:.3g}" if kind == "Q"
            else f"a loss of {lo * scale:.3g} to {hi * scale:.3g}")
    warnings.warn(f"{src}: column {l_name!r} holds {lo:.4g} to {hi:.4g}, read with the header's "
                  f"scale {unit!r} as {read}, a loss below {CAVITY_LOSS:g} (superconducting "
                  f"cavities only), while the numbers as written are a planar resonator's or a "
                  f"glass's {'Q' if kind == 'Q' else 'loss'}: is the scale right? (drop "
                  f"{unit!r} from the header if the values are plain; the fitted amplitudes "
                  "scale with it, the verdict does not)", UserWarning, stacklevel=3)


def _data_rows(rows: np.ndarray, limit: int = 5) -> str:
    """'data row(s) 3, 7' for 0-based indices, at most ``limit`` of them listed."""
    shown = ", ".join(str(int(r) + 1) for r in rows[:limit])
    return f"data row(s) {shown}{', ...' if rows.size > limit else ''}"


def _warn_tiny_loss(src: str, l_name: str, numbers: np.ndarray, loss: np.ndarray,
                    kind: str) -> None:
    """UserWarning naming the rows whose loss is below ``MIN_PLAUSIBLE_LOSS`` (Q above 1e11):
    the high-Q counterpart of :func:`_warn_implausible_loss` (a tester, bt206 F1: Qi = 1e12 in
    one row was fitted silently). ``numbers`` are the column's values as written."""
    rows = np.flatnonzero(loss < MIN_PLAUSIBLE_LOSS)
    if rows.size == 0:
        return
    read = "Q" if kind == "Q" else "a loss of"
    values = ", ".join(f"{numbers[r]:g}" for r in rows[:5])
    warnings.warn(f"{src}: column {l_name!r}, {_data_rows(rows)}: {values}, read as {read} "
                  f"{'above' if kind == 'Q' else 'below'} "
                  f"{1 / MIN_PLAUSIBLE_LOSS if kind == 'Q' else MIN_PLAUSIBLE_LOSS:g}: no "
                  f"resonator has a loss below {MIN_PLAUSIBLE_LOSS:g} (Q above "
                  f"{1 / MIN_PLAUSIBLE_LOSS:g}; the best niobium cavities reach ~1e11): a typo, "
                  f"a scale missing from the header or a failed upstream fit? such a row "
                  f"dominates the fit; correct or remove it", UserWarning, stacklevel=3)


def _warn_isolated_loss(src: str, l_name: str, numbers: np.ndarray, loss: np.ndarray,
                        temperature: np.ndarray | None = None) -> list[int]:
    """UserWarning naming at most ``ISOLATED_MAX_ROWS`` rows whose loss is more than
    ``ISOLATED_DECADES`` decades from all the others (a tester, bt206 F1: one row at Qi = 1e12
    among Qi ~ 1e5 turned the fitted amplitude negative and the verdict read it as "loss rising
    with temperature"). ``numbers`` are the column's values as written. Rows at the highest
    ``temperature`` are not named: a loss that climbs there is the quasiparticles' onset, which
    --quasiparticle fits (it was called an outlier to remove; a tester, bt210). Returns the
    0-based rows named."""
    named: list[int] = []
    if loss.size < ISOLATED_MIN_ROWS or not np.all(np.isfinite(loss)) or np.any(loss <= 0):
        return named
    order = np.argsort(loss)
    gaps = np.diff(np.log10(loss[order]))
    for i in np.flatnonzero(gaps > ISOLATED_DECADES):
        side = order[:i + 1] if i + 1 <= ISOLATED_MAX_ROWS else (
            order[i + 1:] if loss.size - i - 1 <= ISOLATED_MAX_ROWS else None)
        if side is None or np.all(loss[side] < MIN_PLAUSIBLE_LOSS):
            continue  # named by _warn_tiny_loss already
        if temperature is not None and np.all(loss[side] > np.max(np.delete(loss, side))) \
                and np.all(temperature[side] >= np.max(np.delete(temperature, side))):
            continue  # a climb at the top of the temperatures: quasiparticles, not a typo
        rows = np.sort(side)
        named.extend(int(r) for r in rows)
        values = ", ".join(f"{numbers[r]:g}" for r in rows)
        others = np.delete(numbers, rows)
        warnings.warn(f"{src}: column {l_name!r}, {_data_rows(rows)}: {values} lies more than "
                      f"a factor {10 ** ISOLATED_DECADES:g} from every other row "
                      f"({np.min(others):.4g} to {np.max(others):.4g}): an outlier (a typo or a "
                      f"failed upstream fit?) that dominates the fit and its verdict; correct or "
                      f"remove it", UserWarning, stacklevel=3)
    return named


#: Units a power column's header may state (photon numbers become dB(photons), watts dBm).
READABLE_POWER_UNITS = ("dBm", "dBW", "W", "mW", "uW", "nW", "pW", "fW", "photons",
                        "dB(photons)")


def _powers(grid: CellGrid, pw_name: str, temperature: np.ndarray) -> tuple[np.ndarray, str]:
    """The drive powers and their unit (dBm checked against the physical range), row-by-row
    variations within a drive grouped (:func:`_grouped_drives`)."""
    power, _ = grid.column(pw_name)
    unit = header_power_unit(pw_name)
    if unit not in READABLE_POWER_UNITS:  # a bare "power" or "power (dB)" became a unit "?" or
        # "db" that every later step took as dB of something (session 45)
        shown = "no unit" if unit == "?" else f"the unit {unit!r}"
        raise ValueError(f"{grid.src}: power column {pw_name!r} has {shown}: name its unit in the "
                         f"header, one of {', '.join(READABLE_POWER_UNITS)} (e.g. 'power (dBm)', "
                         f"'power (W)', 'photons'), or pass --power-column with another column")
    if unit == "dBW":  # dB of a watt: 30 dB above dBm
        power, unit = power + 30.0, "dBm"
    if unit in ("dBm", "dB(photons)"):
        for i, pv in enumerate(power):
            try:
                check_power(f"{grid.src}: column {pw_name!r}, data row {i + 1}: power", pv, unit)
            except ValueError as exc:
                raise ValueError(str(exc)) from None
    return _grouped_drives(grid.src, pw_name, power, unit, temperature), unit


#: Powers of a table's rows within this many dB of their neighbours (sorted) are one drive: a
#: power column measured by the VNA, or a photon number computed per row, varies from row to
#: row, and each distinct value became its own curve (a break test, session 50: refused as
#: "30 points for 49 parameters", or 3 rows at -90.01 dBm beside 27 at -90.00 fitted with their
#: own amplitude and background, which absorbed them as outliers). A group that holds a
#: temperature twice is several drives (settings 0.5 dB apart, each over a whole sweep) and is
#: kept as it is; a group wider than ``DRIVE_SPAN_DB`` is refused: the power then varies
#: continuously, not by drive.
DRIVE_GROUP_DB = 0.5
DRIVE_SPAN_DB = 3.0


def _grouped_drives(src: str, pw_name: str, power: np.ndarray, unit: str,
                    temperature: np.ndarray) -> np.ndarray:
    """The drive power of each row: rows whose sorted powers chain in steps of at most
    ``DRIVE_GROUP_DB`` (in dB; linear units compared as 10 log10) and that hold no temperature
    (K, shape (n_rows,)) twice take their group's median, with a UserWarning naming the column
    and the spread; a group that holds a temperature twice is kept as it is (several drives).
    Shape (n_rows,), in ``unit``.

    Raises
    ------
    ValueError
        A group that spans more than ``DRIVE_SPAN_DB``.
    """
    linear = unit not in ("dBm", "dB(photons)")
    if linear and np.any(power <= 0):
        return power  # refused where linear powers are converted, naming the row
    decibels = 10.0 * np.log10(power) if linear else power
    values = np.unique(decibels)
    if values.size < 2:
        return power
    # each distinct value's group, then each row's; rows sorted by group (no pass over all rows
    # per group: a 1e6-row table of distinct powers would have been quadratic)
    value_group = np.concatenate([[0], np.cumsum(np.diff(values) > DRIVE_GROUP_DB)])
    starts = np.flatnonzero(np.diff(value_group, prepend=-1))
    row_group = value_group[np.searchsorted(values, decibels)]
    order = np.argsort(row_group, kind="stable")
    row_starts = np.searchsorted(row_group[order], np.arange(starts.size + 1))
    grouped = power.copy()
    spread = []
    for g, (lo, hi) in enumerate(zip(starts, [*starts[1:], values.size], strict=True)):
        rows = order[row_starts[g]:row_starts[g + 1]]
        if hi - lo < 2 or np.unique(temperature[rows]).size < rows.size:
            continue  # one value, or a temperature twice: drive settings, not a jitter
        width = float(values[hi - 1] - values[lo])
        if width > DRIVE_SPAN_DB:
            raise ValueError(f"{src}: power column {pw_name!r} varies continuously over "
                             f"{width:.3g} dB ({values[lo]:g} to {values[hi - 1]:g}, steps of at "
                             f"most {DRIVE_GROUP_DB:g} dB): the curves of one table are told "
                             f"apart by distinct drive powers; give one file per drive with "
                             f"--powers, or round the column to the drive settings")
        grouped[rows] = np.median(power[rows])
        spread.append(f"{np.median(power[rows]):g} {unit} ({hi - lo} values over {width:.2g} dB)")
    if spread:
        warnings.warn(f"{src}: power column {pw_name!r} varies from row to row within a drive; "
                      f"rows whose powers chain in steps of at most {DRIVE_GROUP_DB:g} dB, no "
                      f"temperature twice, are read as one drive at their median: "
                      f"{'; '.join(spread)}", UserWarning, stacklevel=4)
    return grouped


#: A loss's errors whose median relative size lies outside this range warn: measured quality
#: factors carry errors of ~1e-3 to ~1 of themselves (a break test, session 50: an error of Q
#: read as one of 1/Q was 1e7 times the loss, a relative one read as absolute 1e-7 of Q; a
#: percent read as an absolute error of Q ~ 1e5 is 5e-6 of it, so the floor is 1e-4).
ERROR_PLAUSIBLE = (1e-4, 10.0)


def _check_error_kind(src: str, e_name: str, l_name: str, kind: str) -> None:
    """Refuse an error column that names Q beside a loss column of 1/Q or tan delta, or the
    reverse: 'Qi_err' beside '1/Qi' was read as errors of 1/Q, 1e7 times the loss (a break
    test, session 50). A relative error ('dQi/Qi') is the same for Q and 1/Q and passes."""
    if error_is_fraction(e_name) or error_is_relative(e_name, l_name):  # percents too
        return
    subject = error_subject(e_name)
    named = loss_kind(subject) if subject else None
    if named is None or (named == "Q") == (kind == "Q"):
        return
    holds = {"Q": "Q", "Q^-1": "1/Q", "tan delta": "tan delta"}
    raise ValueError(f"{src}: error column {e_name!r} names the error of {holds[named]}, but the "
                     f"loss column {l_name!r} holds {holds[kind]}: give errors of the loss "
                     f"column (or relative ones, e.g. 'dQi/Qi' or '(%)'), or none "
                     f"(error_column=False, --error-column none)")


def _refuse_other_errors(src: str, e_name: str, l_name: str | None, kind: str, relative: float,
                         other: float) -> None:
    """Refuse an error column whose errors are implausible as errors of the loss column
    (``relative``, their median fraction of its values, outside ``ERROR_PLAUSIBLE``) but
    plausible as errors of the other quantity (``other``, the median of error x value: sigma_loss
    / loss for errors of 1/Q beside a Q column, sigma_Q / Q for errors of Q beside a 1/Q or tan
    delta column). An error of the loss beside Qi (1e-12 of Q) only warned, then fitted to
    chi2/dof 2e20 and "neither law: the data are not of this shape" (bt219 F4); the column that
    names the other quantity (:func:`_check_error_kind`) was refused already."""
    if ERROR_PLAUSIBLE[0] <= relative <= ERROR_PLAUSIBLE[1]:
        return
    if not ERROR_PLAUSIBLE[0] <= other <= ERROR_PLAUSIBLE[1]:
        return  # neither reading: another unit, warned about
    column = repr(l_name) if l_name else "the loss column"
    if kind == "Q":
        reading = (f"errors of the loss 1/Q beside the Q column {column}, a median {other:.3g} of "
                   "the loss")
        fix = "give errors of Q (sigma_Q = sigma_loss Q^2) or relative ones (e.g. 'dQi/Qi', '(%)')"
    else:
        reading = (f"errors of Q beside the {'1/Q' if kind == 'Q^-1' else 'tan delta'} column "
                   f"{column}, a median {other:.3g} of Q")
        fix = ("give errors of the loss (sigma_loss = sigma_Q / Q^2) or relative ones (e.g. "
               "'dQi/Qi', '(%)')")
    raise ValueError(f"{src}: error column {e_name!r}: its errors are a median {relative:.3g} of "
                     f"the values they belong to, no measurement's error (plausible: "
                     f"{ERROR_PLAUSIBLE[0]:g} to {ERROR_PLAUSIBLE[1]:g} of each value); they look "
                     f"like {reading}: {fix}; or none (error_column=False, --error-column none)")


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
    relative = float(np.median(e_values / np.abs(l_values)))  # sigma_Q / Q = sigma_loss / loss
    _refuse_other_errors(grid.src, e_name, l_name, kind, relative,
                         float(np.median(e_values * np.abs(l_values))))
    if not ERROR_PLAUSIBLE[0] <= relative <= ERROR_PLAUSIBLE[1]:  # 1e7 times the loss passed
        warnings.warn(f"{grid.src}: the errors of column {e_name!r} are a median {relative:.3g} "
                      f"of the loss they belong to: the error of another quantity, or in "
                      f"another unit? (a relative error needs '(%)' or a name such as 'dQi/Qi')",
                      UserWarning, stacklevel=3)
    else:
        _warn_error_exceeds_value(grid.src, e_name, e_values, l_values)
    return sigma, f"{kind} (converted to Q^-1)" if kind == "Q" else kind


def _warn_error_exceeds_value(src: str, e_name: str, e_values: np.ndarray,
                              l_values: np.ndarray) -> None:
    """UserWarning naming the rows whose error exceeds its value (the rule a sweep's fit is
    flagged by, "Qi error ... exceeds its value"): such a point carries no information, and a
    whole column of them gave chi2/dof = 3e-5, p = 1 without a word (a tester, bt206 F8:
    Qi_err = 3 Qi). A median beyond ``ERROR_PLAUSIBLE`` warns in :func:`_errors` instead."""
    rows = np.flatnonzero(e_values > np.abs(l_values))
    if rows.size == 0:
        return
    worst = int(rows[np.argmax(e_values[rows] / np.abs(l_values[rows]))])
    warnings.warn(f"{src}: error column {e_name!r}: the error exceeds its value in {rows.size} "
                  f"of {l_values.size} row(s) ({_data_rows(rows)}; at most "
                  f"{e_values[worst] / abs(l_values[worst]):.3g} times it, data row {worst + 1}): "
                  f"such points carry no information; the error of another quantity, in another "
                  f"unit" + ("" if "%" in e_name else ", or a relative error needing '(%)'")
                  + "?", UserWarning, stacklevel=4)  # ('(%)' to a '(%)' column; bt210)


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


#: Repeats at one temperature (and power) whose losses differ by more than this factor warn:
#: Qi repeated at one temperature moves by some 10-30 % (TLS fluctuations, drifts of the
#: cryostat), far below 1.5x; and the loss of a neighbouring-point zigzag (below) must jump by
#: more than JUMP_RATIO against its neighbours' mean, JUMP_RUN points in a row, to warn.
REPEAT_RATIO = 1.5
JUMP_RATIO = 2.0
JUMP_RUN = 4



#: A table's temperature this many times beyond all the others is looked at as one row typed in
#: the other unit (mK among K, or K among mK).
ISOLATED_TEMPERATURE_RATIO = 10.0


def unit_slip(temperature: np.ndarray, unit: str) -> tuple[float, float, str] | None:
    """(value, next value, other unit) of the one temperature (K) that looks typed in the other
    unit, or None. A value in mK in a K column reads 1000x too high, a value in K in an mK column
    1000x too low: only that side is looked at, and only when the value converted back (x 1e-3
    or x 1e3) lies within the span of the other rows (a factor 2 either way). A 10 mK base point
    below a sweep from 120 mK, or one point at 1.5 K above 0.02-0.1 K, is no slip (a first
    version warned about both; a break test, session 45). Fewer than 4 distinct values: None."""
    uniq = np.unique(temperature)
    if uniq.size < 4:
        return None
    if unit == "mK":
        value, rest, back, other = uniq[0], uniq[1:], uniq[0] * 1e3, "K"
        beyond = value * ISOLATED_TEMPERATURE_RATIO < rest[0]
        neighbour = rest[0]
    else:
        value, rest, back, other = uniq[-1], uniq[:-1], uniq[-1] * 1e-3, "mK"
        beyond = value > ISOLATED_TEMPERATURE_RATIO * rest[-1]
        neighbour = rest[-1]
    if beyond and rest[0] / 2 <= back <= 2 * rest[-1]:
        return float(value), float(neighbour), other
    return None


def slipped_rows(temperature: np.ndarray, unit: str) -> list[int]:
    """The 0-based rows of the temperature :func:`unit_slip` finds (none: [])."""
    slip = unit_slip(temperature, unit)
    return [] if slip is None else np.flatnonzero(temperature == slip[0]).tolist()


def warn_isolated_temperature(src: str, t_name: str, temperature: np.ndarray,
                              t_unit: str) -> None:
    """UserWarning for one temperature that looks typed in the other unit (:func:`unit_slip`):
    one row in mK among K (50.17 among 0.02-0.5 K) was fitted without a word and turned "TLS"
    into "undecided" (a break test, session 45)."""
    slip = unit_slip(temperature, t_unit)
    if slip is None:
        return
    value, neighbour, other = slip
    factor = 1e-3 if t_unit == "mK" else 1.0
    rows = np.flatnonzero(temperature == value) + 1
    side = "below the next lowest" if value < neighbour else "above the next highest"
    ratio = max(value, neighbour) / min(value, neighbour)
    warnings.warn(
        f"{src}: column {t_name!r}, data row {', '.join(map(str, rows[:3]))}: T = "
        f"{value / factor:g} {t_unit} is {ratio:.3g}x {side} temperature ({neighbour / factor:g} "
        f"{t_unit}): a value in {other}? It is fitted as given; correct or remove the row",
        UserWarning, stacklevel=3)


def _warn_conflicting(src: str, l_name: str, kind: str, temperature: np.ndarray, t_unit: str,
                      values: np.ndarray, loss: np.ndarray, power: np.ndarray | None,
                      named: set | frozenset = frozenset(), power_unit: str = "") -> None:
    """UserWarning for rows that cannot be one resonator's curve: one temperature (and power)
    repeated with losses more than REPEAT_RATIO apart, or a loss jumping back and forth between
    neighbouring temperatures (a second resonator's rows interleaved): both were fitted as one
    curve without a word, only identical repeats were warned about (a helper, session 36).
    ``values`` are the column's numbers (Q or loss) after its scale; tables with a power column
    are checked per power (a power sweep repeats every temperature). Then a lone point off the
    curve through its neighbours (:func:`lone_points`), unless its rows are among ``named``
    (0-based rows another warning named already)."""
    factor = 1e-3 if t_unit == "mK" else 1.0
    groups = [(np.ones(temperature.size, bool), "")] if power is None else [
        (power == pv, f" (at the power {pv:g} {power_unit})".replace(" )", ")"))
        for pv in np.unique(power)]  # the power named (a tester, bt223 F7)
    for rows, where in groups:
        t, lg, shown = temperature[rows], np.log(loss[rows]), values[rows]
        order = np.argsort(t, kind="stable")
        t, lg, shown = t[order], lg[order], shown[order]
        uniq, first, counts = np.unique(t, return_index=True, return_counts=True)
        conflicts, conflicted = [], set()
        for tv, i, n in zip(uniq, first, counts, strict=True):
            if n > 1 and np.ptp(lg[i:i + n]) > math.log(REPEAT_RATIO):
                conflicts.append(f"{', '.join(f'{x:.4g}' for x in shown[i:i + n])} at "
                                 f"{tv / factor:g} {t_unit}")
                conflicted.add(float(tv))
        if conflicts:
            warnings.warn(
                f"{src}: column {l_name!r} gives different values at one temperature{where}, "
                f"more than {REPEAT_RATIO:g}x apart: {'; '.join(conflicts[:5])}"
                f"{' ...' if len(conflicts) > 5 else ''}; repeats of one resonator differ by "
                "tens of percent at most: two resonators or runs in one table, or a mistyped "
                "row? Fit each on its own", UserWarning, stacklevel=3)
        if uniq.size < JUMP_RUN + 2:
            continue
        mean = np.array([lg[i:i + n].mean() for i, n in zip(first, counts, strict=True)])
        # a conflict named, the lone points elsewhere are still looked for (a 5x typo beside a
        # conflicting repeat went unnamed; a tester, bt223 F1), not the interleaving
        data_rows = np.flatnonzero(rows)[order]
        lone = [(i, ratio) for i, ratio in lone_points(uniq, mean)
                if float(uniq[i]) not in conflicted
                and not named.intersection(data_rows[t == uniq[i]].tolist())]
        if lone:  # the rest smooth without them: no second resonator (bt223 F3)
            _warn_lone_points(src, l_name, kind, uniq, mean, lone, data_rows, t, t_unit, where)
        if conflicts or lone:
            continue
        d = mean[1:-1] - 0.5 * (mean[:-2] + mean[2:])
        jump = np.abs(d) > math.log(JUMP_RATIO)
        run, best, end = 0, 0, 0
        for k in range(d.size):
            run = run + 1 if jump[k] and (run == 0 or d[k] * d[k - 1] < 0) else int(jump[k])
            if run > best:
                best, end = run, k
        if best >= JUMP_RUN:
            k0 = end - best + 1  # the run's interior points are k0 + 1 ... end + 1 in uniq
            shown_mean = np.exp([mean[k] for k in range(k0, k0 + 5)])
            if kind == "Q":
                shown_mean = 1 / shown_mean
            points = ", ".join(f"{x:.4g} at {uniq[k] / factor:g} {t_unit}"
                               for x, k in zip(shown_mean, range(k0, k0 + 5), strict=True))
            warnings.warn(
                f"{src}: column {l_name!r} jumps back and forth between neighbouring "
                f"temperatures{where} by more than {JUMP_RATIO:g}x ({points}, ...): two "
                "resonators' rows interleaved in one table? Fit each on its own",
                UserWarning, stacklevel=3)


def _warn_lone_points(src: str, l_name: str, kind: str, uniq: np.ndarray, mean: np.ndarray,
                      lone: list[tuple[int, float]], data_rows: np.ndarray, t: np.ndarray,
                      t_unit: str, where: str) -> None:
    """UserWarning naming the data rows of the :func:`lone_points` of one curve (``data_rows``
    the 0-based rows of the sorted temperatures ``t``)."""
    factor = 1e-3 if t_unit == "mK" else 1.0
    parts, top = [], False
    for i, ratio in lone[:3]:
        rows = np.sort(data_rows[t == uniq[i]])
        value = math.exp(mean[i])
        shown = 1.0 / value if kind == "Q" else value
        side = "above" if ratio > 1 else "below"
        if kind == "Q":  # a loss above the curve is a Q below it
            side = "below" if ratio > 1 else "above"
        top = top or (i == uniq.size - 1 and ratio > 1)
        parts.append(f"{_data_rows(rows)}: {shown:.4g} at {uniq[i] / factor:g} {t_unit} lies "
                     f"{max(ratio, 1 / ratio):.3g}x {side} the curve through its neighbouring "
                     "temperatures")
    warnings.warn(
        f"{src}: column {l_name!r}{where}, " + "; ".join(parts)
        + f" (more than {LONE_RATIO:g}x, where the other points follow theirs closely): a typo, "
        "a failed resonator fit or a line cut short?"
        + (" (or, at the highest temperature, the onset of quasiparticle loss: --quasiparticle)"
           if top else "")
        + " One such point can decide the verdict; it is fitted as given: correct or remove it",
        UserWarning, stacklevel=4)


def curves_from_table(table: LossTable) -> list[LossCurve]:
    """Split a :class:`LossTable` into one :class:`manybody.laws.inputs.LossCurve` per drive power.

    Powers in W/mW/uW/nW are converted to dBm, photon numbers to dB(photons) = 10 log10(n).

    Raises
    ------
    TypeError
        ``table`` not a LossTable (a DataFrame or a path gave "no attribute 'units'"; bt187).
    """
    v.instance("table", table, LossTable, "a LossTable (as read_loss_table returns it)",
               reader="read_loss_table(path)")
    unit = table.units.get("power")
    sigma = getattr(table, "sigma", None)
    if table.power is None:
        return [LossCurve(table.temperature, table.loss, sigma, label=table.label)]
    p = np.asarray(table.power, dtype=np.float64)
    scale = {"W": 1e3, "mW": 1.0, "uW": 1e-3, "nW": 1e-6, "pW": 1e-9, "fW": 1e-12}
    if unit in scale or unit == "photons":
        bad = np.flatnonzero(~(p > 0))
        if bad.size:  # the row was not named (a break test, session 50)
            k = int(bad[0])
            raise ValueError(f"{table.source}: power column {table.power_column!r} in {unit} must "
                             f"be > 0 to convert to a logarithmic scale; data row {k + 1} "
                             f"(T = {table.temperature[k]:.4g} K) has {p[k]:g}"
                             + (f", and {bad.size - 1} more row(s)" if bad.size > 1 else ""))
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
