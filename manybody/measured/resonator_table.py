"""Many S21 sweeps -> a table of f0, Qi, Qc per temperature and power -> loss and shift curves.

:func:`sweep_files` expands a folder or a glob; :func:`fit_sweeps` reads each sweep
(:mod:`manybody.measured.sweeps`), fits it (:func:`manybody.measured.resonance.fit_notch`) and
takes its temperature and drive power from the file name (:data:`NAME_PATTERN`, overridable) or
from a small index CSV (:func:`read_sweep_index`). :func:`write_resonator_csv` writes the table
atomically; :func:`loss_table` gives the unflagged rows as the
:class:`manybody.measured.tables.LossTable` a Qi table gives (1/Qi with errors sigma_Qi/Qi^2), so
``curves_from_table`` and the law fits take it unchanged; :func:`shift_curves` gives the
fractional frequency shift (f0(T) - f0(T_ref)) / f0(T_ref) per power as the
:class:`manybody.laws.inputs.ShiftCurve` the joint loss + shift fit takes.
"""

from __future__ import annotations

import csv
import glob
import io
import math
import os
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from manybody.laws.inputs import (
    MAX_TEMPERATURE,
    MIN_POWER_SPAN,
    POWER_RANGE_DBM,
    ShiftCurve,
    check_tmax,
    window_text,
)
from manybody.laws.inputs import in_window as laws_in_window
from manybody.laws.shift import shift_tls
from manybody.laws.x_range import x_range_problem
from manybody.measured.headers import (
    header_power_unit,
    header_temperature_unit,
    is_power_column,
    is_temperature,
)
from manybody.measured.resonance import (
    BACKGROUNDS,
    MAX_MISFIT,
    MIN_SPAN_LINEWIDTHS,
    WINDOW_SHIFT_FLOOR,
    WINDOW_SHIFT_SIGMAS,
    ResonanceFit,
    fit_notch,
    window_shift_significant,
)
from manybody.measured.sweeps import MIN_POINTS, read_sweep
from manybody.measured.tables import (
    CellGrid,
    LossTable,
    decimal_marks,
    decode_text,
    parse_number,
    refuse_grouped_thousands,
    unit_slip,
)
from manybody.support import validate as v
from manybody.support.files import atomic_write_text
from manybody.support.paths import check_input_file, refuse_text_as_path
from manybody.units import KELVIN_PER_GHZ

#: Default file-name pattern: the drive power before "dB" or "dBm" and the temperature before
#: "mK", e.g. ``s21_7.7182GHz_-20dB_030.0mK.csv`` -> -20 dB(m), 0.030 K. A custom pattern names
#: its groups ``mK`` or ``K`` (temperature, one of them required) and ``dBm`` (power, optional).
#: A decimal comma or a 'p' between digits ('030,5mK', '0p030K': names without a '.') is read as
#: the decimal point, in the default pattern and in a group a custom pattern captures.
NAME_PATTERN = r"_(?P<dBm>[-+]?\d+(?:[.,p]\d+)?)dBm?_(?P<mK>\d+(?:[.,p]\d+)?)mK"
#: What a name pattern must be, for messages.
PATTERN_NEEDS = ("a regular expression with a group (?P<mK>...) or (?P<K>...) for the temperature "
                 "and optionally (?P<dBm>...) for the drive power")
#: Columns of the table :func:`write_resonator_csv` writes.
CSV_COLUMNS = ("file", "temperature_K", "power_dBm", "f0_Hz", "f0_err_Hz", "Qi", "Qi_err", "Qc",
               "Qc_err", "Qc_abs", "Qc_abs_err", "phi_rad", "phi_err_rad", "Ql", "Ql_err",
               "delay_s", "slope", "slope_err", "misfit", "Qi_window_shift",
               "Qi_window_shift_err", "conjugated", "flag", "reason")


@dataclass(frozen=True)
class SweepResult:
    """One fitted sweep: its file, temperature (K), drive power (dB of ``power_unit``, or None)
    and fit. ``power_unit`` is "dBm", or "dB" where the file name writes the power in dB
    ('-20dB': a setting of the instrument as named, not a calibrated power at the device)."""

    file: str
    temperature: float
    power: float | None
    fit: ResonanceFit
    power_unit: str = "dBm"


#: Suffixes of the sweep files taken from a folder.
SWEEP_SUFFIXES = (".csv", ".tsv", ".txt", ".dat", ".s2p")
#: Suffixes of files a folder of sweeps holds beside them (notes and figures) that are left out
#: without a word; any other file left out is named (a .log and a .json were left out unnamed,
#: though the README says only README and figures are; helper-175 F4).
NOT_SWEEPS = (".md", ".rst", ".pdf", ".png", ".jpg", ".jpeg", ".svg")


def sweep_files(spec: str | Path, *, name: str = "spec") -> list[str]:
    """The sweep files of a folder (its ``.csv``, ``.tsv``, ``.txt``, ``.dat``, ``.s2p`` files)
    or a glob, sorted.

    Warns
    -----
    UserWarning
        A folder holds other files (not hidden ones): they are named as left out.

    Raises
    ------
    TypeError
        ``spec`` (named ``name`` in the message) not a str or os.PathLike.
    ValueError
        Nothing matches; text given as the path.
    """
    v.path(name, spec)
    refuse_text_as_path("sweep folder or glob", spec, name=name)
    p = Path(spec)
    if p.is_dir():
        entries = sorted(q for q in p.iterdir() if not q.name.startswith("."))
        files = [str(q) for q in entries if q.suffix.lower() in SWEEP_SUFFIXES
                 and not q.is_dir()]  # a folder named 'sub.csv' was taken for a sweep
        left = [q.name for q in entries if q.suffix.lower() not in SWEEP_SUFFIXES + NOT_SWEEPS
                and not q.name.upper().startswith(("README", "LICENSE", "LICENCE"))
                and (q.is_file() or q.is_symlink())]
        if left:  # a sweep saved as .tsv was left out without a word (a break test, session 46)
            shown = ", ".join(map(repr, left[:5])) + (f" and {len(left) - 5} more"
                                                      if len(left) > 5 else "")
            warnings.warn(f"sweeps {str(spec)!r}: left out {len(left)} file(s) whose suffix is "
                          f"not {'/'.join(SWEEP_SUFFIXES)}: {shown}; give a glob to choose the "
                          "files yourself", UserWarning, stacklevel=2)
    else:
        # a dangling link matched by a glob was dropped without a word; in a folder it is
        # refused by name, and so it is now here (a break test, session 46)
        files = [f for f in glob.glob(str(spec)) if Path(f).is_file() or Path(f).is_symlink()]
    if not files:
        raise ValueError(f"sweeps {str(spec)!r}: no sweep files found (a folder of "
                         f"{'/'.join(SWEEP_SUFFIXES)} files or a glob such as 'data/*.csv')")
    return sorted(files)


#: Read this much of a file to tell whether it holds a sweep (:func:`leave_out_non_sweeps`).
_SNIFF_BYTES = 1 << 20


def _numeric_lines(path: str) -> int | None:
    """How many lines of a file's first MiB hold two or more numbers (None: not readable as
    text, left to the sweep reader's refusal)."""
    try:
        with open(path, "rb") as fh:
            text = decode_text(fh.read(_SNIFF_BYTES), path)
    except (OSError, ValueError):
        return None
    count = 0
    for line in text.splitlines():
        cells = [c for c in re.split(r"[,;\t ]+", line.strip()) if c]
        numbers = 0
        for cell in cells:
            try:
                float(cell.replace("D", "e").replace("d", "e"))
                numbers += 1
            except ValueError:
                pass
        count += numbers >= 2
    return count


def _glob_hint(names: list[str], folder: Path) -> str:
    """A glob choosing ``names`` (file names of one folder): their common start and suffix."""
    start = os.path.commonprefix(names)
    suffixes = {Path(n).suffix for n in names}
    suffix = suffixes.pop() if len(suffixes) == 1 else ""
    return str(folder / f"{start}*{suffix}") if start or suffix else str(folder / "*")


def leave_out_non_sweeps(files: list[str], pattern: str = NAME_PATTERN,
                         index: Mapping | None = None) -> list[str]:
    """``files`` without those that are no sweep: a file whose name the pattern does not match
    (or the index does not list) and that holds fewer than ``MIN_POINTS`` lines of two or more
    numbers (a lab note 'notes.txt', a small 'fit_params.csv'), while other files match. They are named in
    one warning, as files of other suffixes are by :func:`sweep_files` (a note in the sweep
    folder stopped the run with "does not match the name pattern ... give the pattern", bt219
    F5). A non-matching file that holds numbers enough for a sweep is kept, for the name's
    refusal, which then suggests a glob (:func:`parse_sweep_name`'s caller). With no file
    matching, all are kept (the pattern is what is wrong).

    Warns
    -----
    UserWarning
        Naming the files left out and their numeric lines.
    """
    try:
        regex = compile_name_pattern(pattern) if index is None else None
    except ValueError:
        return list(files)  # refused where the pattern is checked
    def named(f: str) -> bool:
        return Path(f).name in index if regex is None else regex.search(Path(f).name) is not None
    if not any(named(f) for f in files):
        return list(files)
    left = []
    for f in files:
        if not named(f):
            lines = _numeric_lines(f)
            if lines is not None and lines < MIN_POINTS:
                left.append((f, lines))
    if not left:
        return list(files)
    what = "the sweep index does not list them" if index is not None else \
        f"their names do not match the name pattern '{pattern}'"
    shown = ", ".join(f"{Path(f).name!r} ({n or 'no'} line{'' if n == 1 else 's'} of two or more "
                      "numbers)"
                      for f, n in left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
    kept = [f for f in files if f not in {g for g, _ in left}]
    warnings.warn(f"sweeps: left out {len(left)} file(s) that hold no sweep (fewer than "
                  f"{MIN_POINTS} lines of two or more numbers, as a sweep's frequency and "
                  f"S21) and {what}: {shown}; give a glob to choose the "
                  f"files yourself, e.g. '{_glob_hint([Path(f).name for f in kept], Path(kept[0]).parent)}'",
                  UserWarning, stacklevel=2)
    return kept


def compile_name_pattern(pattern: str) -> re.Pattern:
    """The compiled file-name pattern, refused unless it is a regular expression with a
    temperature group.

    Raises
    ------
    ValueError
        Naming the pattern (``pattern=``, ``--sweep-pattern``), the value and what is expected.
    """
    if not isinstance(pattern, str):
        raise ValueError(f"name pattern (pattern=, --sweep-pattern) must be a string, got "
                         f"{pattern!r}; expected {PATTERN_NEEDS}")
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"name pattern (pattern=, --sweep-pattern) {pattern!r} is not a valid "
                         f"regular expression ({exc}); expected {PATTERN_NEEDS}") from None
    if "mK" not in regex.groupindex and "K" not in regex.groupindex:
        raise ValueError(f"name pattern (pattern=, --sweep-pattern) {pattern!r} needs a group "
                         f"(?P<mK>...) or (?P<K>...) for the temperature; expected "
                         f"{PATTERN_NEEDS}")
    return regex


def check_point(where: str, temperature: float, power: float | None, *,
                temperature_column: str = "", power_column: str = "") -> None:
    """Refuse a sweep's temperature that is not a positive finite number of kelvin below
    ``MAX_TEMPERATURE``, or a drive power outside ``POWER_RANGE_DBM`` (dBm: negative powers are
    normal), as the loss fit would (a power of 100000 dBm was refused only after every sweep had
    been fitted, without the file or row; session 31).

    Raises
    ------
    ValueError
        ``where`` (the file or the index row; with the column when given) followed by the value
        and what was expected.
    """
    if not (math.isfinite(temperature) and 0 < temperature < MAX_TEMPERATURE):
        raise ValueError(f"{where}{temperature_column}: temperature {temperature:g} K; expected "
                         f"a finite temperature with 0 < T < {MAX_TEMPERATURE:g} K")
    lo, hi = POWER_RANGE_DBM
    if power is not None and not (math.isfinite(power) and lo <= power <= hi):
        raise ValueError(f"{where}{power_column}: drive power {power:g} dBm; expected a power "
                         f"between {lo:g} and {hi:g} dBm (or no power)")


#: Above this a power read from a file name without a sign is taken for a dropped minus sign.
MAX_UNSIGNED_NAME_POWER = 30.0


def parse_sweep_name(name: str, pattern: str = NAME_PATTERN) -> tuple[float, float | None]:
    """Temperature (K) and drive power (dBm, None without a ``dBm`` group) from a file name.

    Raises
    ------
    ValueError
        The pattern is not a regular expression with a ``mK`` or ``K`` group, it does not match
        the name, or the temperature it finds is not positive (see :func:`check_point`).
    """
    v.path("name", name)
    regex = compile_name_pattern(pattern)
    m = regex.search(Path(name).name)
    if m is None:
        # the pattern as typed, not its repr: '\\d' could not be pasted back (a tester, bt206 F7)
        raise ValueError(f"file name {Path(name).name!r} does not match the name pattern "
                         f"'{pattern}'; give the pattern (temperature group mK or K, power group "
                         "dBm) or an index file (file, temperature_K, power_dBm)")
    found = {key: value for key, value in m.groupdict().items() if value}
    if "mK" not in found and "K" not in found:
        # a pattern whose temperature group is optional or in another alternative matched
        # without it: IndexError 'no such group' (a tester, session 34)
        raise ValueError(f"file name {Path(name).name!r}: the name pattern {pattern!r} matches "
                         f"{m.group(0)!r} without a temperature (its groups: {m.groupdict()}); "
                         f"expected {PATTERN_NEEDS}, the temperature group not optional")
    try:
        temperature = (_name_number(found["mK"]) / 1e3 if "mK" in found
                       else _name_number(found["K"]))
        power = _name_number(found["dBm"]) if "dBm" in found else None
    except (TypeError, ValueError):
        raise ValueError(f"file name {Path(name).name!r}: the name pattern {pattern!r} matches "
                         f"{m.group(0)!r}, whose groups are not numbers ({m.groupdict()}); "
                         f"expected {PATTERN_NEEDS} around the numbers") from None
    check_point(f"file name {Path(name).name!r}", temperature, power)
    if power is not None and power > MAX_UNSIGNED_NAME_POWER and not found["dBm"].startswith("+"):
        # 'res_100dBm' for -100 dBm was fitted at +100 dBm (a tester, session 34)
        raise ValueError(f"file name {Path(name).name!r}: drive power {found['dBm']} dBm without "
                         f"a sign reads as +{power:g} dBm, far above any drive of a cryogenic "
                         f"resonator (> +{MAX_UNSIGNED_NAME_POWER:g} dBm); write the sign in the "
                         "names (res_-100dBm), '+' for a positive power, or give an index file "
                         "(file, temperature_K, power_dBm)")
    return temperature, power


def _name_number(text: str) -> float:
    """A number as a file name writes it: '030.5', '030,5' or '030p5' (a decimal comma or a 'p'
    between digits, names that avoid a '.'; neither was read by any pattern, a tester, bt206)."""
    return float(re.sub(r"(?<=\d)[,p](?=\d)", ".", text))


#: The columns of a sweep index.
INDEX_COLUMNS = ("file", "temperature_K", "temperature_mK", "power_dBm")


class SweepIndex(dict):
    """:func:`read_sweep_index`'s result: file name -> (temperature in K, power in dBm or None),
    with the index's path (``source``) and each file's data row (``rows``) for messages."""

    def __init__(self, entries: dict, source: str, rows: dict[str, int]) -> None:
        super().__init__(entries)
        self.source = source
        self.rows = rows


#: File-name headers of a sweep index besides 'file'.
_FILE_HEADERS = ("filename", "file name", "file_name", "files", "sweep", "sweep file", "path")


def _index_column(name: str) -> str:
    """The :data:`INDEX_COLUMNS` name a sweep index's header stands for ('T (mK)':
    temperature_mK, 'Temperature [K]': temperature_K, 'P (dBm)': power_dBm, 'filename': file),
    or the header itself."""
    by_case = {column.lower(): column for column in INDEX_COLUMNS}
    if name.lower() in by_case:  # 'File' was refused while 'Filename' was taken (bt229 F9)
        return by_case[name.lower()]
    if name.lower() in _FILE_HEADERS:
        return "file"
    if is_temperature(name) and header_temperature_unit(name) in ("K", "mK"):
        return f"temperature_{header_temperature_unit(name)}"
    if is_power_column(name) and header_power_unit(name) == "dBm":
        return "power_dBm"
    return name


def read_sweep_index(path: str | Path) -> dict[str, tuple[float, float | None]]:
    """A small CSV index: header ``file,temperature_K[,power_dBm]`` (or ``temperature_mK``);
    ``;`` may separate the cells, and then a ``,`` in a number is a decimal comma.

    Returns
    -------
    dict
        File name (without folder) -> (temperature in K, power in dBm or None).

    Every temperature must be positive and finite and every power finite (:func:`check_point`);
    a file listed twice is refused.

    Raises
    ------
    ValueError
        No such file; missing columns, unparsable or implausible numbers or repeated files,
        naming the index (``--sweep-index``), the row and the value.
    """
    try:
        p = check_input_file("sweep index (--sweep-index)", path)
    except (OSError, ValueError) as exc:  # a directory, nothing there, a device (/dev/null)
        raise ValueError(f"{exc}; expected a CSV file with columns file, temperature_K (or "
                         "temperature_mK) and optionally power_dBm") from None
    # UTF-16 was a bare UnicodeDecodeError naming no file (a second break test, session 46)
    text = decode_text(p.read_bytes(), f"sweep index {str(path)!r}")
    first = text.lstrip().split("\n", 1)[0]
    semicolons = ";" in first and "," not in first  # then "," is a decimal comma
    reader = csv.DictReader(io.StringIO(text), delimiter=";" if semicolons else ",")
    written = [n.strip() for n in (reader.fieldnames or [])]
    # the loss tables' header forms too: 'T (mK)', 'P (dBm)', 'filename' (a tester, bt226 N2)
    canonical = {n: _index_column(n) for n in written}
    names = [canonical[n] for n in written]
    shown = {c: w for w, c in canonical.items()}  # the headers as written, for the messages
    t_name = next((n for n in ("temperature_K", "temperature_mK") if n in names), None)
    if "file" not in names or t_name is None:
        tabs = " (its cells are separated by tabs: separate them by ',' or ';')" if (
            "\t" in first) else ""
        raise ValueError(f"sweep index {str(path)!r}: needs columns file and temperature_K (or "
                         f"temperature_mK, or a temperature header with its unit: 'T (mK)'), "
                         f"optional power_dBm ('P (dBm)'); found {written}{tabs}")
    unknown = [n for n in names if n not in INDEX_COLUMNS]
    if unknown:  # power_W was ignored and the sweeps fitted without powers (session 31)
        raise ValueError(f"sweep index {str(path)!r}: unknown column(s) {unknown}; the columns "
                         f"are file, temperature_K or temperature_mK ('T (mK)'), and optionally "
                         f"power_dBm ('P (dBm)'; a power in W or photons is not taken)")
    if len(set(names)) != len(names) or {"temperature_K", "temperature_mK"} <= set(names):
        raise ValueError(f"sweep index {str(path)!r}: columns {names} give a quantity twice; "
                         "give one temperature column (temperature_K or temperature_mK)")
    index: dict[str, tuple[float, float | None]] = {}
    rows: dict[str, int] = {}
    records, lines = [], []
    for row_number, row in enumerate(reader, start=1):
        extra = [c for c in row.get(None) or [] if c.strip()]
        if extra:  # '30,5' with a ',' separator: a decimal comma read as two cells
            raise ValueError(f"sweep index {str(path)!r}, data row {row_number}: more cells than "
                             f"the header's {len(names)} columns (extra {extra}); a decimal "
                             "comma needs ';' between the cells")
        records.append({canonical.get(k.strip(), k.strip()): (v or "").strip()
                        for k, v in row.items() if k})
        lines.append(reader.line_num)
    # the loss tables' number rules: '1.000' among 100 ... 900 mK of a German spreadsheet was
    # read as 1 mK, and '1.000,5' shown as '1.000.5' (a second break test, session 46)
    cells = [[record.get(name, "") for name in names] for record in records]
    grid = CellGrid(f"sweep index {str(path)!r}", ";" if semicolons else ",", semicolons, names,
                    cells, lines, {}, decimal_marks(cells, lines, semicolons))
    for name in (t_name, "power_dBm"):
        if name in names:
            refuse_grouped_thousands(grid, name, [record.get(name, "") for record in records])
    for row_number, row in enumerate(records, start=1):
        where = f"sweep index {str(path)!r}, data row {row_number} ({row.get('file', '')!r})"
        t = parse_number(row.get(t_name, ""), semicolons)
        pw = parse_number(row["power_dBm"], semicolons) if row.get("power_dBm") else None
        if t is None or (row.get("power_dBm") and pw is None):
            raise ValueError(f"{where}: not a number ({row})")
        t /= 1e3 if t_name == "temperature_mK" else 1.0
        check_point(where, t, pw, temperature_column=f", column {shown[t_name]}",
                    power_column=f", column {shown.get('power_dBm', 'power_dBm')}")
        if not row.get("file"):
            raise ValueError(f"{where}: no file name")
        name = Path(row["file"]).name
        if name in index:
            raise ValueError(f"sweep index {str(path)!r}: file {name!r} listed twice (data rows "
                             f"{rows[name]} and {row_number})")
        index[name] = (t, pw)
        rows[name] = row_number
    _warn_unit_slip(path, t_name, index, rows)
    return SweepIndex(index, str(path), rows)


def _warn_unit_slip(path, t_name: str, index: dict, rows: dict[str, int]) -> None:
    """The loss tables' warning for one temperature typed in the other unit
    (:func:`manybody.measured.tables.unit_slip`), naming the index, its row and the file: one
    105 among 0.03-0.315 under temperature_K was fitted without a word (a break test, 45)."""
    temperatures = np.array([t for t, _ in index.values()])
    unit = "mK" if t_name == "temperature_mK" else "K"
    slip = unit_slip(temperatures, unit)
    if slip is None:
        return
    value, neighbour, other = slip
    factor = 1e-3 if unit == "mK" else 1.0
    names = [name for name, (t, _) in index.items() if t == value]
    warnings.warn(f"sweep index {str(path)!r}, column {t_name}, data row {rows[names[0]]} "
                  f"({names[0]}): {value / factor:g} {unit} is "
                  f"{max(value, neighbour) / min(value, neighbour):.3g}x beyond the other "
                  f"temperatures (next {neighbour / factor:g} {unit}): a value in {other}? It is "
                  "fitted as given; correct or remove the row", UserWarning, stacklevel=3)


def in_window(temperature: float, window: tuple[float | None, float | None]) -> bool:
    """Whether ``temperature`` (K) lies in ``window`` = (--tmin, --tmax) (K, either edge None:
    open), edges included: the one rule of the sweeps' fits (it was written out in three
    places)."""
    return bool(laws_in_window(temperature, *v.temperature_window("window", window)))


def _check_temperatures(sweeps: list, temperatures: list[float],
                        window: tuple[float | None, float | None], index: dict | None) -> None:
    """Before any fit: refuse temperatures whose x = w/T all lie outside the range where the laws
    differ, w from the sweeps' own centre frequency (f0 lies inside the window). An index of mK
    under temperature_K was refused only after every sweep was fitted, with a hint about a
    table's column and --frequency (a break test, session 45)."""
    kept = np.array([t for t in temperatures if in_window(t, window)])
    centre = float(np.median([np.median(s.frequency) for s in sweeps]))
    source = getattr(index, "source", None)
    origin = (f"the sweep index {source!r}" if source else "the sweep index" if index is not None
              else "the sweep file names")
    x_range_problem(kept, centre * 1e-9 * KELVIN_PER_GHZ,
                    where=f"the sweeps' centre frequency {centre * 1e-9:.6g} GHz",
                    temperatures_from=origin, frequency_given=False)


def fit_sweeps(files: list[str] | str | os.PathLike, *, layout: str = "db-deg",
               frequency_unit: str | None = None, pattern: str = NAME_PATTERN,
               index: dict | None = None, max_misfit: float = MAX_MISFIT,
               window: tuple[float | None, float | None] = (None, None),
               repeats: str = "warn", saturation: bool = False,
               background: str = "slope", conjugate: bool = False,
               points_check: Callable[[list[tuple[float, float | None]]], None] | None = None,
               ) -> list[SweepResult]:
    """Read and fit every sweep; temperatures and powers from the names or ``index``.

    Everything is checked before the first fit: the pattern, every name or index entry, every
    sweep file. Two sweeps at one temperature and power are fitted both (repeats are legitimate
    points of the loss fit) with a warning naming them; the shift fit refuses them.

    Parameters
    ----------
    files : list of str, or str or Path
        Sweep files, or a folder or glob (expanded by :func:`sweep_files`). An index file among
        them (``index.source``) is skipped.
    layout, frequency_unit : str (frequency_unit None: from each file's header, else Hz)
        Column layout and frequency unit of delimited text (see
        :func:`manybody.measured.sweeps.read_sweep`).
    pattern : str
        File-name pattern (see :data:`NAME_PATTERN`); unused for files in ``index``.
    index : dict, optional
        From :func:`read_sweep_index` (or a dict name -> (K, dBm or None)); every file must be
        listed, and every listed file must exist (among ``files`` or beside them).
    max_misfit, background, conjugate : float, str, bool
        Passed to :func:`manybody.measured.resonance.fit_notch` (background "slope", the
        default, or "constant"; conjugate True fits conj(S21) of every sweep, for data whose
        phase runs the other way: a flagged sweep's reason says when that looks so).
    window : (float or None, float or None)
        The temperature window (K) the loss fit will take (``--tmin``, ``--tmax``): refused
        before any fit when no sweep lies in it (it was refused after every sweep was fitted).
    repeats : {"warn", "refuse"}
        Two sweeps at one temperature and power: warned about (the loss fit takes both), or
        refused before any fit (the shift fit, :func:`shift_curves`, cannot take them; it refused
        them only after every sweep had been fitted, a tester, session 34).
    saturation : bool
        The loss fit will share its amplitude over drive powers: refused before any fit unless
        the sweeps span two powers at least ``MIN_POWER_SPAN`` dB apart.
    points_check : callable, optional
        Called with the (temperature K, power dBm or None) of every sweep in ``window`` once
        every sweep is read and checked, before any is fitted; raises ValueError to refuse them
        (``fit-data --sweeps``: fewer sweeps than the loss fit has parameters, which was refused
        after fitting every sweep).

    Returns
    -------
    list of SweepResult
        Sorted by power, then temperature; flagged fits included (with their reason).

    Raises
    ------
    ValueError
        A bad pattern; a file whose name does not parse or that the index lacks; an index
        entry without a file or with an implausible value; a malformed sweep (file named); no
        sweep in ``window``, or its upper edge far above every sweep (a temperature in mK,
        :func:`manybody.laws.inputs.check_tmax`); all before any fitting.
    """
    # the window, the index and the check before the files are looked for: '0.01,0.1', (0.05,)
    # or ('30mK', None) as the window, 'index.csv' as the index, 3 as the check failed inside
    # (or after reading every sweep; bt190)
    window = v.temperature_window("window", window)
    if index is not None:
        v.instance("index", index, Mapping, "a mapping of file name to (temperature K, power "
                   "dBm or None), or None", reader="read_sweep_index(path)")
    v.callable_or_none("points_check", points_check)
    if not v.finite("max_misfit", max_misfit) > 1:  # fit_notch's rule, before any sweep is read
        raise ValueError(f"max_misfit must be > 1, got {max_misfit!r}")
    if isinstance(files, (str, os.PathLike)):
        files = sweep_files(files, name="files")
    # None got "'NoneType' object is not iterable", a DataArray its repr of many lines in a
    # "file name does not match the pattern" error (bt187)
    if (files is None or isinstance(files, bytes | Mapping) or not hasattr(files, "__iter__")
            or (hasattr(files, "shape") and getattr(getattr(files, "dtype", None), "kind", "")
                not in "UO")):
        raise TypeError(f"files must be a list of sweep file paths, a folder or a glob, got "
                        f"{v._describe(files)}")
    files = [str(v.path(f"files[{i}]", f)) for i, f in enumerate(files)]
    if not files:
        raise ValueError("no sweep files given (files=[]); give a folder, a glob or a list of "
                         "files")
    regex = compile_name_pattern(pattern)
    if index is not None:
        files = _check_index(files, index)
    files = leave_out_non_sweeps(files, pattern, index)
    meta = []
    for f in files:
        if index is not None:
            if Path(f).name not in index:
                raise ValueError(f"{f}: not listed in the sweep index "
                                 f"{getattr(index, 'source', '')!r}".replace(" ''", ""))
            meta.append(index[Path(f).name])
        else:
            try:
                meta.append(parse_sweep_name(f, pattern))
            except ValueError as exc:
                matching = [Path(g).name for g in files if regex.search(Path(g).name)]
                if not matching or "does not match the name pattern" not in str(exc):
                    raise
                # a file holding numbers among sweeps whose names match: a mis-named sweep, or
                # another table; the glob that leaves it out (bt219 F5)
                raise ValueError(f"{exc}; or, if it is no sweep ({len(matching)} other file(s) "
                                 f"match the pattern), choose the sweeps with a glob such as "
                                 f"'{_glob_hint(matching, Path(f).parent)}'") from None
    if index is None:
        _warn_unsigned_powers(files, meta, pattern)
    unit = _power_units(files, meta, pattern, index is not None)
    v.choice("repeats", repeats, ("warn", "refuse"))
    v.choice("background", background, BACKGROUNDS)
    conjugate = v.boolean("conjugate", conjugate)
    saturation = v.boolean("saturation", saturation)
    if repeats == "refuse":
        _check_repeats(files, meta, unit, refuse=True)
    refuse_partial_powers([(f, pw) for f, (_, pw) in zip(files, meta, strict=True)])
    powers = sorted({pw for _, pw in meta if pw is not None})
    missing = [Path(f).name for f, (_, pw) in zip(files, meta, strict=True) if pw is None]
    if saturation and (missing or not powers or powers[-1] - powers[0] < MIN_POWER_SPAN):
        got = (f"no power for {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''} "
               "(a name without dBm, or an index without power_dBm)" if missing
               else f"power(s) {', '.join(f'{p:g}' for p in powers)} {unit}")
        raise ValueError(f"saturation=True needs sweeps at two or more drive powers at least "
                         f"{MIN_POWER_SPAN:g} dB apart, each sweep with its power, to separate "
                         f"the amplitude from the critical power; got {got}")
    tmin, tmax = window
    temperatures = [t for t, _ in meta]
    check_tmax(tmax, max(temperatures), min(temperatures))  # before any sweep is read
    inside = [(t, pw) for t, pw in meta if in_window(t, window)]
    if not inside:
        raise ValueError(f"no sweep in the window --tmin/--tmax {window_text(tmin, tmax)} (the sweeps "
                         f"span {min(temperatures):g}-{max(temperatures):g} K)")
    sweeps = [read_sweep(f, layout, frequency_unit=frequency_unit) for f in files]
    refuse_same_sweeps(files, meta, sweeps, unit)
    if repeats == "warn":  # after the same-data refusal: the warning said the two sweeps "enter
        # the loss fit" just before the run was refused for holding one sweep twice (helper-184)
        _check_repeats(files, meta, unit)
    _check_temperatures(sweeps, temperatures, window, index)
    if points_check is not None:  # the loss fit's own refusal, before any sweep is fitted
        points_check(inside)
    results = [SweepResult(f, t, pw, fit_notch(s, max_misfit=max_misfit, background=background,
                                                  conjugate=conjugate), unit)
               for f, (t, pw), s in zip(files, meta, sweeps, strict=True)]
    message = window_shift_warning(results)
    if message:
        warnings.warn(message, stacklevel=2)
    return sorted(results, key=lambda r: (-math.inf if r.power is None else r.power,
                                          r.temperature))


#: How many of the worst sweeps the line-shape warning names (:func:`window_shift_warning`).
WINDOW_SHIFT_SHOWN = 3


def window_shift_warning(results: list[SweepResult]) -> str:
    """The run's one warning of the line-shape check (""  when no unflagged sweep shows a
    significant change, :func:`manybody.measured.resonance.window_shift_significant`): how many
    sweeps' Qi moves when refitted on a narrower window, the worst few with their change, that
    the quoted Qi errors are statistical only, and what to do.

    Each sweep's Qi error comes from the noise; a line shape the model lacks (a standing wave
    of 10 % in the cabling, a kinetic-inductance line at 0.4 of bifurcation) biased Qi by 4-10 %
    with the same sign in every sweep, misfit and shape residual under their flags, and nothing
    said so (a tester, bt226 F1). In synthetic tests the narrower window moved Qi towards the
    truth by about two thirds of the bias, so the change is a lower estimate of the error.
    """
    results = checked_results(results)
    hit = [r for r in results if window_shift_significant(r.fit)]
    if not hit:
        return ""
    hit.sort(key=lambda r: -abs(r.fit.qi_window_shift))
    ok = sum(1 for r in results if not r.fit.flag)
    worst = 100 * abs(hit[0].fit.qi_window_shift)
    shown = ", ".join(f"{Path(r.file).name} ({100 * r.fit.qi_window_shift:+.2g} % "
                      f"+- {100 * r.fit.qi_window_shift_err:.1g} %)"
                      for r in hit[:WINDOW_SHIFT_SHOWN])
    rises = sum(1 for r in hit if r.fit.qi_window_shift > 0)
    sign = ("rises" if rises == len(hit) else "falls" if rises == 0
            else f"rises in {rises} and falls in {len(hit) - rises}")
    return (f"line-shape check: {len(hit)} of {ok} unflagged sweep(s) give a different Qi when "
            f"refitted on a narrower window around f0 (half the span, at least "
            f"{MIN_SPAN_LINEWIDTHS:g} linewidths): Qi {sign} there, by more than "
            f"{WINDOW_SHIFT_SIGMAS:g} statistical errors and {100 * WINDOW_SHIFT_FLOOR:g} %; worst "
            f"{shown}{' ...' if len(hit) > WINDOW_SHIFT_SHOWN else ''} (resonator_fits.csv, "
            f"column Qi_window_shift). The quoted Qi errors are statistical only: the line shape "
            f"carries a systematic error of Qi of up to ~{worst:.2g} % (the change; the full-window "
            f"Qi's own bias can be larger), from what the model does not describe: a baseline ripple or "
            f"standing wave, a nonlinear (kinetic-inductance) line near bifurcation, a "
            f"neighbouring mode. Lower the drive power for a nonlinear line; calibrate the "
            f"baseline (a through or off-resonance reference), compare --sweep-background "
            f"constant/slope, or sweep a narrower window around the line; otherwise quote the "
            f"systematic beside the statistical error")


#: Two sweeps whose S21 agree at every frequency within this fraction of their largest |S21|
#: (and within a tenth of their point-to-point scatter) are one sweep saved twice: a copy
#: written with 6 significant digits, or in another layout or unit, differs by ~1e-5; two
#: measurements by their noise (~1e-3 of |S21| in the shipped Al sweeps) at nearly every point.
SAME_SWEEP_TOLERANCE = 1e-5


def _noisy(s21: np.ndarray) -> bool:
    """Whether a sweep carries measurement noise: white noise makes fourth differences
    sqrt(70/6) ~ 3.4 times the second ones, a smooth (noise-free, simulated) curve far smaller
    ones ((step / linewidth)^2)."""
    if s21.size < 8:
        return True
    second = float(np.median(np.abs(np.diff(s21, 2))))
    fourth = float(np.median(np.abs(np.diff(s21, 4))))
    return second > 0 and fourth > 0.5 * second


def _shared_points(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into ``a``, into ``b``) of the frequencies both sweeps hold (equal within 1e-9
    relative; both ascending, as read)."""
    k = np.clip(np.searchsorted(b.frequency, a.frequency), 1, max(1, len(b) - 1))
    nearest = np.where(np.abs(b.frequency[k - 1] - a.frequency)
                       <= np.abs(b.frequency[np.minimum(k, len(b) - 1)] - a.frequency),
                       k - 1, np.minimum(k, len(b) - 1))
    same = np.abs(b.frequency[nearest] - a.frequency) <= 1e-9 * np.abs(a.frequency)
    return np.flatnonzero(same), nearest[same]


def refuse_same_sweeps(files: list[str], meta: list[tuple[float, float | None]],
                       sweeps: list, power_unit: str = "dBm") -> None:
    """Refuse two sweeps holding the same data (the same S21 at the same frequencies over at
    least half of the shorter one, whatever their bytes, header, layout, frequency unit or
    length): one measured sweep saved twice, under two temperatures or not, would count twice in
    the loss fit, and --joint would read a zero shift between its two temperatures. A byte copy
    of the 240 mK sweep named 270 mK was fitted as a sixth point without a word, though the
    loss-table reader refuses two tables holding the same rows (helper-175 F3); a copy one row
    short passed (helper-181 F7). Two noise-free sweeps (simulated: a measurement never repeats
    to its noise) with the same data are warned about, not refused (helper-181 F1).

    Raises
    ------
    ValueError
        Naming both files, their temperatures (and powers) and why.
    """
    def shown(n: int) -> str:
        t, pw = meta[n]
        return (f"{Path(files[n]).name!r} ({t * 1e3:.4g} mK"
                f"{'' if pw is None else f', {pw:g} {power_unit}'})")

    twins: list[str] = []
    for i, a in enumerate(sweeps):
        scale = float(np.max(np.abs(a.s21)))
        scatter = float(np.median(np.abs(np.diff(a.s21, 2)))) / math.sqrt(6.0) if len(a) > 2 \
            else scale
        tolerance = min(SAME_SWEEP_TOLERANCE * scale, 0.1 * scatter) if scatter > 0 else 0.0
        for j in range(i):
            b = sweeps[j]
            mid = len(a) // 2  # cheap first, at a's middle frequency: n^2 pairs
            k = int(np.searchsorted(b.frequency, a.frequency[mid]))
            k = min(range(max(0, k - 1), min(len(b), k + 1)),
                    key=lambda n: abs(b.frequency[n] - a.frequency[mid]))
            if abs(b.frequency[k] - a.frequency[mid]) > 1e-9 * abs(a.frequency[mid]) \
                    or abs(a.s21[mid] - b.s21[k]) > tolerance:
                continue
            ia, ib = _shared_points(a, b)
            if ia.size < 0.5 * min(len(a), len(b)) \
                    or float(np.max(np.abs(a.s21[ia] - b.s21[ib]))) > tolerance:
                continue
            if not (_noisy(a.s21) and _noisy(b.s21)):
                twins.append(f"{shown(j)} and {shown(i)}")
                continue
            same_bytes = _same_bytes(files[i], files[j])
            how = ("are the same file byte for byte" if same_bytes else
                   "hold the same sweep (every shared frequency with the same S21, in other "
                   "formats or lengths)" if len(a) != len(b) else
                   "hold the same sweep (every frequency and S21 equal, in other formats)")
            raise ValueError(f"sweeps {shown(j)} and {shown(i)} {how}: the same sweep saved "
                             "twice would count twice in the fits (and --joint would read "
                             "no shift between its temperatures); remove the copy, or "
                             "correct the export if they are separate sweeps")
    if twins:  # one line for the run (every pair of 5 identical simulations made 10)
        more = f" (and {len(twins) - 1} more pair(s))" if len(twins) > 1 else ""
        warnings.warn(f"sweeps {twins[0]}{more} hold the same noise-free data (simulated "
                      "sweeps?): each counts as a point of the fits", UserWarning, stacklevel=3)


def _same_bytes(first: str, second: str) -> bool:
    """Whether two sweep files hold the same bytes (False where either cannot be read)."""
    try:
        return Path(first).read_bytes() == Path(second).read_bytes()
    except OSError:
        return False


def name_power_unit(name: str, pattern: str = NAME_PATTERN) -> str | None:
    """The unit of the power a file name states, as written after the pattern's ``dBm`` group:
    "dB" for '..._-20dB_...', "dBm" for '-20dBm' or a unit the pattern leaves unread (its group
    is documented as dBm); None when the name states no power."""
    m = compile_name_pattern(pattern).search(Path(name).name)
    if m is None or "dBm" not in m.groupdict() or not m.group("dBm"):
        return None
    after = Path(name).name[m.end("dBm"):].lstrip()
    return "dB" if re.match(r"(?i)db(?!m)", after) else "dBm"


def _power_units(files: list[str], meta: list, pattern: str, indexed: bool) -> str:
    """The one unit of the sweeps' powers: "dBm" (an index's power_dBm, names in dBm) or "dB"
    (names such as 's21_..._-20dB_030.0mK.csv', whose -20 dB the Al data's README calls an
    instrument setting: it was written as power_dBm = -20 without a note; helper-175 F5),
    with a note saying so; names mixing the two are refused (two scales in one fit)."""
    if indexed:
        return "dBm"
    units = {Path(f).name: name_power_unit(f, pattern)
             for f, (_, pw) in zip(files, meta, strict=True) if pw is not None}
    found = set(units.values()) - {None}
    if len(found) > 1:
        shown = [next(n for n, u in units.items() if u == unit) for unit in sorted(found)]
        raise ValueError(f"the sweep names state powers in dB and in dBm ({', '.join(shown)}): "
                         "a setting in dB and a power in dBm are not one scale; give the powers "
                         "in one unit (an index file with power_dBm, or rename the files)")
    if found == {"dB"}:
        warnings.warn("the sweep names state the drive power in dB, not dBm ("
                      f"{next(iter(units))}): taken as the names' power label in dB, as written "
                      "(an instrument setting, not a calibrated power at the device); the "
                      "outputs give it as power (dB) and --saturation's Pc in the same dB; give "
                      "an index file (power_dBm) for powers at the device", UserWarning,
                      stacklevel=4)
        return "dB"
    return "dBm"


def _check_index(files: list[str], index: dict) -> list[str]:
    """The sweep files without the index file itself; refuses an index entry with a bad value
    (a plain dict is checked here) or naming a file that exists neither among ``files`` nor in
    their folders."""
    source = getattr(index, "source", None)
    rows = getattr(index, "rows", {})
    where_index = f"sweep index {source!r}" if source else "sweep index"
    if source is not None:
        own = Path(source).resolve()
        files = [f for f in files if Path(f).resolve() != own]
    for name, value in index.items():
        where = f"{where_index}, data row {rows[name]} ({name!r})" if name in rows else \
            f"{where_index}, entry {name!r}"
        try:
            t, pw = value
            check_point(where, float(t), None if pw is None else float(pw))
        except (TypeError, ValueError) as exc:
            if str(exc).startswith(where):
                raise
            raise ValueError(f"{where}: {value!r}; expected (temperature in K, power in dBm or "
                             "None)") from None
    names = {Path(f).name for f in files}
    folders = {Path(f).parent for f in files}
    for name in index:
        if name not in names and not any((d / name).is_file() for d in folders):
            where = f"data row {rows[name]} " if name in rows else ""
            raise ValueError(f"{where_index}: {where}lists {name!r}, which does not exist beside "
                             f"the sweep files ({', '.join(sorted(map(str, folders)))}); remove "
                             "the row or correct the name")
    return files


#: Smallest relative rise of f0 between neighbouring temperatures of one power (or difference
#: between sweeps at one temperature) that one resonator cannot make, beside its TLS shift
#: (TLS_RISE_MARGIN below) and its f0 errors (RISE_SIGMAS): kinetic inductance only lowers f0 (a
#: fall of several % near Tc is taken). 1e-4 before the TLS shift was computed let two resonators
#: 0.1-0.5 MHz apart at 6 GHz with one coupler design through (a tester, bt230 F5).
MAX_RISE = 1e-5
#: A lossy dielectric's own TLS shift exceeds MAX_RISE: (F delta0/pi) [g(T2) - g(T1)], g(T) =
#: Re psi(1/2 + hf/(2 pi i kT)) - ln(hf/(2 pi kT)), ~ln(T2/T1) above T ~ hf/k and flat below,
#: with F delta0 <= 1/Qi of the coldest sweep (TLS-dominated; a capacitor of Qi ~ 1000,
#: F delta0 = 1e-3, rises by 1.3e-4 from 0.4 to 0.6 K, and was refused as two resonators; a
#: tester, bt226 F3). The rise allowed is this many times that where it exceeds MAX_RISE (the
#: shift does not saturate with power while the loss does). A ln(T2/T1) at every temperature, and
#: the hottest sweep's quasiparticle loss as the bound, let two resonators through (bt229 F8).
TLS_RISE_MARGIN = 3.0
#: ... and it must also exceed this many of the two f0's combined errors (a resonator of Ql ~ 300
#: has f0 errors of ~5e-5 of f0: fit noise alone tripped a bare 1e-4, a tester, session 34).
RISE_SIGMAS = 5.0
#: Largest relative change of the coupling Qc between neighbouring temperatures of one power
#: taken for one resonator (the Al sweeps' Qc moves by 0.4 % over 30-315 mK; two resonators'
#: coupling differs by tens of %); it must also exceed RISE_SIGMAS combined errors.
MAX_QC_CHANGE = 0.2


def check_one_resonator(results: list[SweepResult],
                        window: tuple[float | None, float | None] = (None, None)) -> None:
    """Refuse sweeps that look like two resonators: f0 rising between neighbouring temperatures
    of one power, or differing between sweeps at one temperature and power, by more than
    ``MAX_RISE`` of f0 and ``RISE_SIGMAS`` combined errors. Only unflagged sweeps inside
    ``window`` (K) count.

    One resonator's f0 rises with T only by its TLS shift (~1e-5); it falls by kinetic inductance
    near Tc (by several %, taken). Two resonators in one folder (6.00 and 6.02 GHz, alternating in
    temperature or in pairs or blocks of temperatures, as on a multiplexed chip) were fitted as
    one, at a frequency neither has, and --joint read their difference as a shift (a tester,
    session 34); any such mix of two f0 has a rise, except a block of the lower one above a block
    of the higher, which f0 alone cannot tell from a kinetic-inductance fall: there the coupling
    Qc, a property of the geometry, changing between neighbours by more than ``MAX_QC_CHANGE``
    (and ``RISE_SIGMAS`` errors) is refused too.

    Raises
    ------
    ValueError
        Naming the sweeps and their f0.
    """
    window = v.temperature_window("window", window)
    good = [r for r in usable(results) if in_window(r.temperature, window)]
    # F delta0 of the TLS shift is bounded by 1/Qi at the coldest temperature of the least
    # saturated power: the shift does not saturate, the loss does (one lossy resonator driven
    # 4x into saturation was refused beside its own unsaturated sweeps; a tester, bt230 F4)
    loss = 0.0
    for pw in {r.power for r in good}:
        fitted = sorted((r for r in good if r.power == pw and math.isfinite(r.fit.qi)
                         and r.fit.qi > 0), key=lambda r: r.temperature)
        if fitted:
            loss = max(loss, 1.0 / fitted[0].fit.qi)
    for pw in sorted({r.power for r in good}, key=lambda p: -math.inf if p is None else p):
        rows = sorted((r for r in good if r.power == pw), key=lambda r: (r.temperature, r.fit.f0))
        for low, high in zip(rows, rows[1:], strict=False):
            rise = high.fit.f0 - low.fit.f0
            x = low.fit.f0 * 1e-9 * KELVIN_PER_GHZ / np.array([high.temperature,
                                                               low.temperature])
            shape = shift_tls(x)  # the TLS shift's digamma law (docs/PHYSICS.md section 9)
            allowed = max(MAX_RISE, TLS_RISE_MARGIN * loss / math.pi * float(shape[0] - shape[1]))
            error = math.hypot(low.fit.f0_err, high.fit.f0_err)
            qc_change = abs(high.fit.qc - low.fit.qc)
            qc_error = math.hypot(low.fit.qc_err, high.fit.qc_err)
            if (qc_change > MAX_QC_CHANGE * 0.5 * (low.fit.qc + high.fit.qc)
                    and qc_change > RISE_SIGMAS * qc_error):
                shown = ", ".join(f"{Path(r.file).name} ({r.temperature * 1e3:.4g} mK, Qc "
                                  f"{r.fit.qc:.5g} +- {r.fit.qc_err:.2g})" for r in (low, high))
                raise ValueError(
                    f"the sweeps look like two resonators: {shown}: the coupling Qc changes by "
                    f"more than {100 * MAX_QC_CHANGE:g} % between neighbouring temperatures (a "
                    "property of the geometry: one resonator's moves by a fraction of a %): one "
                    "resonator per run; give its sweeps alone (a folder or glob of its own, "
                    "--sweep-pattern or --sweep-index)")
            if rise > max(allowed * low.fit.f0, RISE_SIGMAS * error):
                what = ("one temperature, two resonance frequencies"
                        if high.temperature == low.temperature else
                        "f0 rises between neighbouring temperatures")
                shown = ", ".join(f"{Path(r.file).name} ({r.temperature * 1e3:.4g} mK, "
                                  f"{r.fit.f0 / 1e9:.9g} +- {r.fit.f0_err / 1e3:.2g} kHz)"
                                  for r in (low, high))
                raise ValueError(
                    f"the sweeps look like two resonators: {shown}: {what} by "
                    f"{rise / low.fit.f0:.2g} of f0 (one resonator's f0 rises by at most "
                    f"{allowed:.2g} here: {TLS_RISE_MARGIN:g}x its TLS shift from "
                    f"{low.temperature * 1e3:.4g} to {high.temperature * 1e3:.4g} mK (the digamma "
                    f"law, flat below hf/k, with F delta0 <= 1/Qi = {loss:.2g} of the coldest "
                    f"sweep), or {MAX_RISE:g}; and falls with kinetic inductance): one resonator "
                    "per run; give its sweeps alone (a folder or glob of its own, --sweep-pattern "
                    "or --sweep-index)")


def _warn_unsigned_powers(files: list[str], meta: list, pattern: str) -> None:
    """Warn once when names state positive powers without a sign ('res_20dBm'): read as +20 dBm,
    though a sign dropped from -20 dBm is as likely, and --saturation orders the powers by them
    (a tester, session 34; above MAX_UNSIGNED_NAME_POWER they are refused)."""
    regex = compile_name_pattern(pattern)
    unsigned = []
    for f, (_, pw) in zip(files, meta, strict=True):
        m = regex.search(Path(f).name)
        text = (m.groupdict().get("dBm") or "") if m else ""
        if pw is not None and pw > 0 and not text.lstrip().startswith("+"):
            unsigned.append(Path(f).name)
    if unsigned:
        warnings.warn(f"{len(unsigned)} sweep name(s) state a positive drive power without a sign "
                      f"({', '.join(unsigned[:3])}{' ...' if len(unsigned) > 3 else ''}): read as "
                      "+P dBm; if the sign was dropped, write it (res_-20dBm) or give an index",
                      stacklevel=3)


def _check_repeats(files: list[str], meta: list[tuple[float, float | None]], unit: str = "dBm",
                   *, refuse: bool = False) -> None:
    """Warn once per temperature and power given to more than one sweep (or refuse them); the
    power in its ``unit`` ("dBm", or "dB" for the names' label: it said dBm; helper-184)."""
    seen: dict[tuple[float, float | None], list[str]] = {}
    for f, (t, pw) in zip(files, meta, strict=True):
        seen.setdefault((round(t, 12), pw), []).append(Path(f).name)
    for (t, pw), names in seen.items():
        if len(names) > 1:
            power = "" if pw is None else f", {pw:g} {unit}"
            if refuse:
                raise ValueError(f"{len(names)} sweeps at T = {t:g} K{power}: "
                                 f"{', '.join(names)}; the frequency shift takes one f0 per "
                                 "temperature and power: average them first, or correct the "
                                 "names or the index if they are not repeats")
            warnings.warn(f"{len(names)} sweeps at T = {t:g} K{power}: {', '.join(names)}; all "
                          "enter the loss fit as repeated points (the shift fit, --joint, refuses "
                          "them): check the names or the index if they are not repeats",
                          stacklevel=3)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def resonator_csv(results: list[SweepResult]) -> str:
    """The table as CSV text (columns :data:`CSV_COLUMNS`; flag 1 = do not use; conjugated 1 =
    the parameters are those of conj(S21), from ``--conjugate``; Qi_window_shift and its error:
    the relative change of Qi refitted on a narrower window, the line-shape check of
    :attr:`manybody.measured.resonance.ResonanceFit.qi_window_shift`, empty (nan) when
    flagged)."""
    results = checked_results(results)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_columns(results))
    for r in results:
        x = r.fit
        writer.writerow([_cell(v) for v in (
            r.file, r.temperature, r.power, x.f0, x.f0_err, x.qi, x.qi_err, x.qc, x.qc_err,
            x.qc_abs, x.qc_abs_err, x.phi, x.phi_err, x.ql, x.ql_err, x.delay, x.slope,
            x.slope_err, x.misfit, x.qi_window_shift, x.qi_window_shift_err, x.conjugated,
            x.flag, x.reason)])
    return out.getvalue()


def _columns(results: list[SweepResult]) -> tuple[str, ...]:
    """CSV_COLUMNS, the power's named power_dB where the names give it in dB (not dBm)."""
    if any(r.power is not None and r.power_unit == "dB" for r in results):
        return tuple("power_dB" if c == "power_dBm" else c for c in CSV_COLUMNS)
    return CSV_COLUMNS


def write_resonator_csv(results: list[SweepResult], path: str | Path) -> Path:
    """Write :func:`resonator_csv` to ``path`` atomically; returns the path."""
    results = checked_results(results)
    v.path("path", path)
    atomic_write_text(path, resonator_csv(results))
    return Path(path)


def usable(results: list[SweepResult]) -> list[SweepResult]:
    """The results whose fit is not flagged."""
    return [r for r in checked_results(results) if not r.fit.flag]


def checked_results(results: Any, name: str = "results") -> list[SweepResult]:
    """``results`` as a list of SweepResult (a list or tuple of them), else a TypeError naming
    ``name``: None got "'NoneType' object is not iterable", [1] "'int' object has no attribute
    'file'" (bt190)."""
    if not isinstance(results, list | tuple):
        hint = ("; fit the sweeps first with fit_sweeps(files)"
                if isinstance(results, str | os.PathLike) else "")
        raise TypeError(f"{name} must be a list of SweepResult (from fit_sweeps), got "
                        f"{v._describe(results)}{hint}")
    for i, r in enumerate(results):
        if not isinstance(r, SweepResult):
            raise TypeError(f"{name}[{i}] must be a SweepResult (from fit_sweeps), got "
                            f"{v._describe(r)}")
    return list(results)


def refuse_partial_powers(files_and_powers: list[tuple[str, float | None]]) -> None:
    """Refuse sweeps of which some have a drive power and some not.

    The loss table kept powers only when every sweep had one, so one empty ``power_dBm`` cell
    (or a name the pattern read without its power) merged sweeps at -20 and -60 dBm into one
    loss curve without a word, while the shift made the powerless ones a curve of their own (a
    tester, session 37). A sweep without a power among sweeps with one is almost surely a gap in
    the index or a name.

    Raises
    ------
    ValueError
        Naming the sweeps without a power and the powers of the others.
    """
    missing = [Path(f).name for f, pw in files_and_powers if pw is None]
    powers = sorted({pw for _, pw in files_and_powers if pw is not None})
    if missing and powers:
        raise ValueError(
            f"{len(missing)} sweep(s) have no drive power ({', '.join(missing[:3])}"
            f"{' ...' if len(missing) > 3 else ''}) while the others have "
            f"{', '.join(f'{p:g}' for p in powers)} dBm: give every sweep its power (the index's "
            "power_dBm column, or the power in every file name) or none, so that sweeps at "
            "different drives are not fitted as one curve")


def loss_table(results: list[SweepResult], source: str | Path, label: str = "sweeps"
               ) -> LossTable:
    """The unflagged fits as a loss table 1/Qi(T) with errors sigma_Qi / Qi^2.

    ``source`` is the CSV written by :func:`write_resonator_csv` (recorded as the table's
    source). Every row has a power or none does (:func:`refuse_partial_powers`).

    Raises
    ------
    ValueError
        No unflagged fit; some sweeps with a power and some without.
    """
    results = checked_results(results)
    v.path("source", source)
    v.string("label", label)
    refuse_partial_powers([(r.file, r.power) for r in results])
    good = usable(results)
    if not good:
        raise ValueError(f"every sweep's fit is flagged ({len(results)} sweeps); first reason: "
                         f"{results[0].fit.reason if results else 'no sweeps'}")
    qi = np.array([r.fit.qi for r in good])
    power = (np.array([r.power for r in good], dtype=np.float64)
             if all(r.power is not None for r in good) else None)
    columns = _columns(results)
    unit = "dB" if "power_dB" in columns else "dBm"
    return LossTable(
        temperature=np.array([r.temperature for r in good]), loss=1.0 / qi, power=power,
        is_loss_tangent=False, source=str(source), label=label, columns=columns,
        temperature_column="temperature_K", loss_column="Qi",
        power_column=None if power is None else f"power_{unit}",
        units={"temperature": "K", "loss": "Q", **({"power": unit} if power is not None
                                                     else {})},
        sigma=np.array([r.fit.qi_err for r in good]) / qi**2, error_column="Qi_err")


def shift_curves(results: list[SweepResult], reference_temperature: float | None = None,
                 label: str = "sweeps") -> list[ShiftCurve]:
    """(f0(T) - f0(T_ref)) / f0(T_ref) of the unflagged fits, one curve per drive power.

    Parameters
    ----------
    results : list of SweepResult
        From :func:`fit_sweeps`.
    reference_temperature : float, optional
        T_ref (K), > 0: the sweep at the temperature nearest to it is the reference, which must
        lie within 5 % of it at every power; default the lowest temperature of each power.
    label : str
        Stem of the curves' labels (the power is appended when known).

    Returns
    -------
    list of manybody.laws.inputs.ShiftCurve
        Sorted by power; each with its ``power`` (dBm or None) and ``reference_temperature``
        (K). ``sigma`` is each point's own f0 error over f0(T_ref): the reference's error is
        common to every point, an offset that the fits leave free (docs/PHYSICS.md section 9).

    Raises
    ------
    ValueError
        No unflagged fit; two sweeps at one temperature and power; a reference temperature
        that is not a positive number, or with no sweep within 5 % of it (session 25: 5 K took
        the warmest sweep, far below it, and -1 K the coldest, silently).
    """
    results = checked_results(results)
    v.string("label", label)
    if reference_temperature is not None:
        reference_temperature = v.positive("reference_temperature", reference_temperature)
    refuse_partial_powers([(r.file, r.power) for r in results])
    good = usable(results)
    if not good:
        raise ValueError("every sweep's fit is flagged: no frequency shift")
    curves = []
    for pw in sorted({r.power for r in good}, key=lambda p: -math.inf if p is None else p):
        rows = sorted((r for r in good if r.power == pw), key=lambda r: r.temperature)
        t = np.array([r.temperature for r in rows])
        if np.any(np.diff(t) == 0):
            k = int(np.flatnonzero(np.diff(t) == 0)[0])
            power = "" if pw is None else f", {pw:g} {rows[k].power_unit}"
            raise ValueError(f"two sweeps at T = {t[k]:g} K{power}: {Path(rows[k].file).name}, "
                             f"{Path(rows[k + 1].file).name}; the frequency shift takes one f0 "
                             "per temperature and power: average them first")
        f0 = np.array([r.fit.f0 for r in rows])
        err = np.array([r.fit.f0_err for r in rows])
        k = 0 if reference_temperature is None else int(np.argmin(np.abs(t - reference_temperature)))
        if (reference_temperature is not None
                and abs(t[k] - reference_temperature) > 0.05 * reference_temperature):
            at = "" if pw is None else f" at power {pw:g} {rows[0].power_unit}"
            raise ValueError(f"reference_temperature={reference_temperature:g} K: no sweep{at} "
                             f"within 5 % of it (the nearest is at {t[k]:g} K; the sweeps span "
                             f"{t[0]:g}-{t[-1]:g} K)")
        curves.append(ShiftCurve(t, (f0 - f0[k]) / f0[k], err / f0[k],
                                 label if pw is None else f"{label} {pw:g} {rows[0].power_unit}", pw,
                                 float(t[k])))
    return curves
