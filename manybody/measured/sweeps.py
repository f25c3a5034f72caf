"""Read raw transmission sweeps S21(f) of a resonator: delimited text (CSV) or Touchstone.

A sweep is the complex transmission S21 at increasing frequencies, as a vector network analyser
writes it. Two file kinds are read:

* **delimited text** (``.csv``, ``.txt``, ``.dat``, ...): three numeric columns, frequency and two
  columns of S21 whose meaning is given explicitly by ``layout``:

  ==============  =====================================================
  ``"db-deg"``    |S21| in dB (20 log10 |S21|), phase in degrees
  ``"db-rad"``    |S21| in dB, phase in radians
  ``"linear-deg"`` |S21| (linear), phase in degrees
  ``"linear-rad"`` |S21| (linear), phase in radians
  ``"real-imag"`` Re S21, Im S21
  ==============  =====================================================

  Separators ``,`` ``;`` tab or blanks; in a file whose lines are separated by ``;`` a comma is
  a decimal comma (``6,0E+09;-25,9;21,5``), as spreadsheets in many locales write it. ``#`` /
  ``!`` comment lines and non-numeric header lines before the data are skipped. Further columns
  are refused (say which three to use by cutting the file) so that a four-column export is never
  read with the wrong columns.
* **Touchstone** ``.s2p`` through scikit-rf (BSD licence, maintained, reads every Touchstone 1
  variant: Hz-GHz, RI/MA/DB, comments): the file must be a 2-port file of S parameters; S21 (or
  S12 on request) is taken. A 1-port ``.s1p`` holds a reflection only and is refused, as are
  files of another rank (``.s3p``, ``.s4p``) or of Y/Z/H/G parameters, naming what was found.
  Before scikit-rf reads a ``.s1p``/``.s2p`` file (version 1), every data line must hold the
  1 + 2 N^2 numbers of one frequency (3 for 1 port, 9 for 2 ports): scikit-rf would otherwise pack
  the lines of a 1-port export saved as ``.s2p`` into 2-port points without a word.

Sanity checks, each naming the file and the parameter to change: at least ``MIN_POINTS`` points; no
NaN or infinite values; strictly increasing frequency; a phase column in ``"rad"`` beyond 2 pi
(degrees?), a phase in ``"deg"`` that stays within +-pi while wrapping by 2 pi or spanning more
than 1 (radians: a phase in degrees that moves by degrees leaves +-3.14), a linear magnitude that
is negative (dB?), a dB magnitude between 0 and 1 everywhere (a linear magnitude near unity?),
frequencies below 1 MHz (GHz numbers read as Hz?).

Not every layout mistake shows in the columns alone (a linear |S21| above 1 read as dB, a phase in
radians that never leaves +-pi read as degrees). Such a sweep fits badly and is flagged;
:func:`layout_hint` then says which mix-up the data suggest, and the flag's reason names it.
"""

from __future__ import annotations

import csv
import math
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from manybody.measured.tables import decode_text, fortran_exponent
from manybody.support import validate as v
from manybody.support.paths import check_input_file

#: Fewest points a sweep must have: a notch fit has 7 parameters (f0, Ql, |Qc|, phi, amplitude,
#: phase offset, cable delay), and the circle and the delay need points on and off resonance.
MIN_POINTS = 50
#: The column layouts of a delimited-text sweep.
LAYOUTS = ("db-deg", "db-rad", "linear-deg", "linear-rad", "real-imag")
#: Frequency units of a delimited-text sweep (factor to Hz).
FREQUENCY_UNITS = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9, "THz": 1e12}
#: S parameters that can be taken from a 2-port Touchstone file ((row, column) of the matrix).
TOUCHSTONE_PARAMETERS = {"S21": (1, 0), "S12": (0, 1)}
#: Suffixes read as Touchstone (the others as delimited text).
TOUCHSTONE_SUFFIX = re.compile(r"^\.s(\d+)p$", re.IGNORECASE)
#: Numbers on a line of the noise-parameter block of a 2-port Touchstone file.
NOISE_NUMBERS = 5
#: Lowest plausible frequency of a superconducting resonator sweep (Hz): below, numbers in GHz or
#: MHz were probably read as Hz.
MIN_FREQUENCY_HZ = 1e6
#: Highest plausible frequency (Hz): above, numbers were probably read in too large a unit (a
#: reviewer, session 26: 7.7 THz was accepted).
MAX_FREQUENCY_HZ = 1e12
#: Lowest frequency (Hz) read without a stated unit: below, the file or the caller must say the
#: unit (numbers in kHz of a GHz sweep read as Hz are 1-100 MHz).
UNSTATED_MIN_HZ = 1e8

#: A resonator's frequency (Hz) is taken to lie within this range when guessing a unit.
RESONATOR_RANGE_HZ = (1e8, 1e11)


def likely_frequency_unit(frequency_hz) -> str:
    """The unit of ``FREQUENCY_UNITS`` that puts the largest |value| of numbers read as Hz
    into ``RESONATOR_RANGE_HZ`` (100 MHz - 100 GHz), for messages: 7.7 read as Hz is 'GHz',
    7.7e6 is 'kHz', 7.7e18 is 'Hz' (the smallest factor when none fits)."""
    top = float(np.max(np.abs(frequency_hz))) if np.size(frequency_hz) else 0.0
    for unit, factor in FREQUENCY_UNITS.items():
        if RESONATOR_RANGE_HZ[0] <= top * factor <= RESONATOR_RANGE_HZ[1]:
            return unit
    return "GHz" if 0 < top < RESONATOR_RANGE_HZ[0] else "Hz"


_SPLIT = re.compile(r"[,;\t ]+")
#: The frequency units of a header, as written (any case; exact ``mHz`` is millihertz).
_UNIT = r"(?P<unit>[kmgt]?hz|kilohertz|megahertz|gigahertz|terahertz|hertz)"
_UNIT_NAMES = {**{name.lower(): name for name in ("Hz", "kHz", "MHz", "GHz", "THz")},
               "hertz": "Hz", "kilohertz": "kHz", "megahertz": "MHz", "gigahertz": "GHz",
               "terahertz": "THz"}
#: A frequency word: frequency, freq, frequenz, f (not f0, not a longer word).
_FREQUENCY_WORD = re.compile(r"(?i)(?:freq(?:uency|uenz)?|f)")
#: A frequency word followed by its unit: 'Frequency (kHz)', 'freq[GHz]', 'f / MHz', 'FreqkHz',
#: 'freq in kHz', 'frequency_Hz'.
_FREQUENCY_UNIT = re.compile(r"(?i)(?<![a-z0-9])(?:freq(?:uency|uenz)?|f)(?:[\s_\-/:]*(?:in\s+)?"
                             r"[\(\[\{]?\s*)" + _UNIT + r"(?![a-z])")
_UNIT_ALONE = re.compile(r"(?i)" + _UNIT)
#: A value after a unit and ':' or '=' ('(MHz): 5995.8', '[GHz] = 7.7'): the line is metadata, the unit
#: that of its value.
_VALUE_AFTER = re.compile(r"\s*[\)\]\}]?\s*[:=]\s*[-+]?(?:\d|\.\d)")
#: A frequency unit anywhere in the first cell of a column-header line: not inside a longer word,
#: except glued to a frequency word ('FreqkHz').
_UNIT_IN_CELL = re.compile(r"(?i)(?:(?<![a-z])|(?<=freq)|(?<=frequency))" + _UNIT + r"(?![a-z])")
#: A power-of-ten scale in a column's header: 'Hz x 1e3', 'x1e6 Hz', '1e9 Hz', '10^3 Hz'.
_SCALE_IN_CELL = re.compile(r"(?i)(?:[x×*]\s*(?:1(?:\.0*)?\s*e\s*(?P<e1>[+-]?\d+)|10\s*\^\s*"
                            r"(?P<p1>[+-]?\d+)|(?P<n1>\d+(?:\.\d*)?)(?![\d.e^]))|(?<![\d.])"
                            r"(?:1(?:\.0*)?e(?P<e2>[+-]?\d+)|10\^(?P<p2>[+-]?\d+))\s*(?=[kmgt]?hz))")
#: The closing line of a VNA export's data block (Keysight: 'BEGIN CH1_DATA' ... 'END').
_END_OF_DATA = re.compile(r"(?i)^end\b")
_NUMBER_START = tuple("0123456789+-.")
#: Separators of a file whose cells are separated by ";" (where "," is a decimal comma).
_SPLIT_SEMICOLON = re.compile(r"[;\t ]+")


@dataclass(frozen=True)
class S21Sweep:
    """One transmission sweep.

    Attributes
    ----------
    frequency : numpy.ndarray, shape (n,)
        Frequencies f (Hz), strictly increasing, n >= ``MIN_POINTS``.
    s21 : numpy.ndarray, shape (n,), complex
        Transmission S21 (linear, complex) as measured (cable delay, attenuation and phase offset
        included).
    source : str
        Path of the file.
    layout : str
        How the file gave S21 (one of ``LAYOUTS``, or "touchstone S21"/"touchstone S12").
    """

    frequency: np.ndarray
    s21: np.ndarray
    source: str
    layout: str

    def __len__(self) -> int:
        return int(self.frequency.size)


def read_sweep(path: str | Path, layout: str = "db-deg", *, frequency_unit: str | None = None,
               parameter: str = "S21") -> S21Sweep:
    """Read one S21 sweep from delimited text or a Touchstone ``.s2p`` file.

    Parameters
    ----------
    path : str or Path
        The file; ``.sNp`` suffixes are read as Touchstone, anything else as delimited text.
    layout : str
        Column layout of delimited text, one of ``LAYOUTS`` (default "db-deg": frequency, |S21|
        in dB, phase in degrees). Ignored for Touchstone files, which state their format.
    frequency_unit : {"Hz", "kHz", "MHz", "GHz"}, optional
        Unit of the frequency column of delimited text. None (default): the unit the header
        line names for the first column (``Frequency (GHz)``, :func:`header_frequency_unit`),
        else Hz. A unit given here that differs from the header's is refused.
    parameter : {"S21", "S12"}
        Which transmission of a 2-port Touchstone file to take (default S21).

    Returns
    -------
    S21Sweep
        Frequencies in Hz and complex S21.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        Unknown ``layout``/``frequency_unit``/``parameter``; a ``frequency_unit`` other than the
        header's (a sweep in kHz read as Hz gave f0 = 6 MHz, session 25); fewer than
        ``MIN_POINTS`` points;
        NaN or infinite values; frequencies not strictly monotonic (a strictly decreasing sweep is
        reversed) or below 1 MHz; data that
        look like another unit than ``layout`` says; a Touchstone file that is not a 2-port file
        of S parameters. Each message names the file.
    """
    p = check_input_file("sweep", path)
    if TOUCHSTONE_SUFFIX.match(p.suffix):
        if parameter not in TOUCHSTONE_PARAMETERS:
            raise ValueError(f"parameter must be one of {', '.join(TOUCHSTONE_PARAMETERS)}, got "
                             f"{parameter!r}")
        frequency, s21 = _read_touchstone(p, parameter)
        sweep = S21Sweep(frequency, s21, str(p), f"touchstone {parameter}")
    else:
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
        if frequency_unit is not None and frequency_unit not in FREQUENCY_UNITS:
            raise ValueError(f"frequency_unit must be one of {', '.join(FREQUENCY_UNITS)}, got "
                             f"{frequency_unit!r}")
        columns, header, semicolons = _read_columns(p)
        try:
            stated = header_frequency_unit(header, columns.shape[1], semicolons)
        except ValueError as exc:
            raise ValueError(f"{p}: {exc}") from None
        if frequency_unit is not None and stated is not None and stated != frequency_unit:
            # the header is wrong when the unit given fits the numbers and the header's does not
            # (the refusal asked for the header's unit, which an earlier refusal had ruled out)
            _check_unit_fits(str(p), columns[:, 0], stated, stated, header, warn=False)
            raise ValueError(f"{p}: the header gives the frequency in {stated} "
                             f"({' / '.join(header)!r}), "
                             f"but frequency_unit={frequency_unit!r}; give "
                             f"frequency_unit={stated!r} or correct the header")
        unit = frequency_unit or stated or "Hz"
        frequency = columns[:, 0] * FREQUENCY_UNITS[unit]
        if frequency_unit is None and stated is None and 0 < np.max(frequency) < UNSTATED_MIN_HZ:
            # nothing states the unit, and as Hz these are 1-100 MHz: a sweep in kHz of a GHz
            # resonator reads as 7.7 MHz and passed (a reviewer, session 27)
            likely = likely_frequency_unit(frequency)
            raise ValueError(
                f"{p}: nothing in the file states the frequency unit, and read as Hz the sweep "
                f"spans {np.min(frequency):.6g} to {np.max(frequency):.6g} Hz, not a microwave "
                f"resonance; give the unit (frequency_unit='{likely}' if the numbers are in "
                f"{likely}) or name it in the header ('Frequency ({likely})')")
        _check_unit_fits(str(p), columns[:, 0], unit, stated, header)
        phase_stated = _check_header_layout(str(p), header, columns.shape[1], semicolons, layout)
        s21 = _complex_s21(str(p), columns[:, 1], columns[:, 2], layout,
                           radians_stated=phase_stated == "rad")
        sweep = S21Sweep(frequency, s21, str(p), layout)
    sweep = _ascending(sweep)
    check_sweep(sweep)
    return sweep


def _check_unit_fits(src: str, numbers: np.ndarray, unit: str, stated: str | None,
                     header: list[str], warn: bool = True) -> None:
    """Refuse numbers that the unit used (``stated`` by the header, or given) puts outside
    MIN_FREQUENCY_HZ ... MAX_FREQUENCY_HZ, naming the unit that fits them: the suggestion was
    computed from the numbers already scaled by the header's unit ('Frequency (MHz)' over Hz
    values suggested frequency_unit='Hz', then refused because the header says MHz; 'Frequency
    (GHz)' over MHz values suggested 'Hz' too), and when the header states the unit, the header
    is what must change (a helper, session 36). Warns (``warn``) where the numbers fit but lie
    below 100 MHz: a header in MHz over values in GHz read as a 7.7 MHz resonator."""
    finite = numbers[np.isfinite(numbers)]
    if finite.size == 0:
        return
    hz = finite * FREQUENCY_UNITS[unit]
    if MIN_FREQUENCY_HZ <= np.max(hz) <= MAX_FREQUENCY_HZ and np.min(hz) > 0:
        if warn and np.max(hz) < RESONATOR_RANGE_HZ[0]:  # plausible, but 'Frequency (MHz)' over GHz
            # values read as a 7.7 MHz resonator without a word (a helper, session 36)
            likely = likely_frequency_unit(finite)
            warnings.warn(f"{src}: the sweep reads as {np.min(hz) / 1e6:.6g} to "
                          f"{np.max(hz) / 1e6:.6g} MHz ({unit}"
                          + (f" as the header states, {' / '.join(header)!r}" if stated else
                             " as given") + "), below the 100 MHz - 100 GHz of microwave "
                          f"resonators; if the numbers are in {likely}, correct the "
                          + ("header" if stated else "unit"), UserWarning, stacklevel=4)
        return
    likely = likely_frequency_unit(finite)
    top = float(np.max(np.abs(finite))) * FREQUENCY_UNITS[likely]
    fits = RESONATOR_RANGE_HZ[0] <= top <= RESONATOR_RANGE_HZ[1]
    span = (f"frequencies {np.min(finite):.6g} to {np.max(finite):.6g} {unit} "
            f"({np.min(hz):.4g} to {np.max(hz):.4g} Hz): "
            + ("above 1 THz" if np.max(hz) > MAX_FREQUENCY_HZ else "below 1 MHz")
            + ", not a resonator sweep")
    if stated is not None:
        raise ValueError(
            f"{src}: the header gives the frequency in {stated} ({' / '.join(header)!r}), but "
            f"the {span}: the header's unit contradicts the values; "
            + (f"they fit {likely} (up to {top / 1e9:.6g} GHz): correct the header to "
               f"'Frequency ({likely})'" if fits else "correct the unit in the header"))
    raise ValueError(
        f"{src}: {span}; give the unit of the frequency column"
        + (f" (frequency_unit='{likely}' if the numbers are in {likely}: up to "
           f"{top / 1e9:.6g} GHz)" if fits else ""))


def _ascending(sweep: S21Sweep) -> S21Sweep:
    """A sweep recorded from high to low frequency (a downward VNA sweep, strictly decreasing)
    in increasing order, as the fits take it (it was refused, session 31); anything else as
    given, for :func:`check_sweep` to judge."""
    f = np.asarray(sweep.frequency)
    if f.ndim == 1 and f.size > 1 and np.all(np.diff(f) < 0):
        return S21Sweep(f[::-1].copy(), np.asarray(sweep.s21)[::-1].copy(), sweep.source,
                        sweep.layout)
    return sweep


def rounding_resolution(frequency: np.ndarray) -> float | None:
    """The resolution (Hz) to which an export rounded an evenly stepped sweep's frequencies, when
    their repeats come from that rounding, else None.

    Rounding shows as a non-decreasing axis with repeated values whose distinct values lie on a
    grid of one resolution q (every rise a whole multiple of q) coarser than the sweep's mean
    step (f_last - f_first) / (n - 1): GHz with 6 decimals (q = 1 kHz) for a step of 385 Hz.
    Such a sweep is refused with that diagnosis rather than averaged: its points were measured
    at distinct frequencies, and a repeated value holds points up to q apart, so averaging them
    would put a mean S21 at a frequency off by up to q/2 that no error accounts for; only the
    export with more digits recovers the frequencies (a tester, session 37, was told "sort the
    sweep and remove repeats"). The resolution must be a decimal one (1, 2 or 5 times a power of
    ten, as an export's digits give) or a power of two (float32 storage) and repeat at least two
    values: one line written twice in a sweep stepped by 1200 Hz was diagnosed as frequencies
    rounded to 1200 Hz (a tester, session 40).
    """
    f = np.asarray(frequency, dtype=np.float64)
    steps = np.diff(f)
    if f.size < 3 or np.any(steps < 0) or not np.any(steps == 0):
        return None
    rises = steps[steps > 0]
    if rises.size == 0:
        return None
    q = float(rises.min())
    multiples = rises / q
    if not np.all(np.abs(multiples - np.round(multiples)) < 0.01):
        return None
    if not q > (f[-1] - f[0]) / (f.size - 1) or np.sum(steps == 0) < 2:
        return None
    # a decimal resolution (1, 10, 100 Hz, ... or 1, 2, 5 times one) as an export's digits give
    exponent = 10.0 ** math.floor(math.log10(q))
    for m in (1.0, 2.0, 5.0, 10.0):
        if abs(q / (m * exponent) - 1.0) < 0.01:
            return m * exponent
    # or a power of two: frequencies stored as float32 (512 Hz apart at 7.7 GHz)
    power_of_two = 2.0 ** round(math.log2(q))
    if abs(q / power_of_two - 1.0) < 0.01:
        return power_of_two
    return None


def check_sweep(sweep: S21Sweep) -> None:
    """Refuse a sweep with too few points, NaN, or a frequency axis that is not increasing (one
    whose repeats come from frequencies rounded in the export is told so, naming the resolution:
    :func:`rounding_resolution`).

    Raises
    ------
    TypeError
        ``sweep`` not an S21Sweep (a path gave "'str' object has no attribute 'source'"; bt187).
    ValueError
        Naming ``sweep.source`` and what was found.
    """
    v.instance("sweep", sweep, S21Sweep, "an S21Sweep (as read_sweep returns it)",
               reader="read_sweep(path)")
    src = sweep.source
    f, z = np.asarray(sweep.frequency), np.asarray(sweep.s21)
    if f.shape != z.shape or f.ndim != 1:
        raise ValueError(f"{src}: frequency {f.shape} and S21 {z.shape} must be 1-d arrays of one "
                         "length")
    if f.size < MIN_POINTS:
        raise ValueError(f"{src}: too few points: {f.size}; a resonance fit needs at least "
                         f"{MIN_POINTS} (MIN_POINTS)")
    for name, values in (("frequency", f), ("S21", z)):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise ValueError(f"{src}: {bad.size} NaN or infinite {name} value(s), first in data "
                             f"row {bad[0] + 1}; remove or repair those rows")
    steps = np.diff(f)
    same = np.flatnonzero((steps == 0) & (z[1:] == z[:-1]))
    if same.size:  # one line written twice: the rounding diagnosis misread it (session 40)
        i = int(same[0])
        raise ValueError(f"{src}: data row {i + 2} repeats row {i + 1} (frequency {f[i]:.10g} Hz "
                         f"and S21 both the same; {same.size} such repeat(s)): a line written "
                         "twice? remove the repeated rows")
    falls = np.flatnonzero(steps < 0)
    if falls.size and np.any(steps > 0):
        i = int(falls[0])
        raise ValueError(f"{src}: frequency not strictly increasing: it falls from {f[i]:.10g} "
                         f"Hz (data row {i + 1}) to "
                         f"{f[i + 1]:.10g} Hz (data row {i + 2}) in a sweep that otherwise "
                         "rises: two sweeps in one file, or rows out of order? Save each sweep "
                         "in its own file, its frequencies in order")
    if np.any(steps <= 0):
        i = int(np.argmax(steps <= 0))
        rounded = rounding_resolution(f)
        if rounded is not None:
            raise ValueError(
                f"{src}: frequency not strictly increasing: {f[i]:.10g} Hz in data rows {i + 1} "
                f"and {i + 2} ({int(np.sum(steps == 0))} repeats): the export rounded the "
                f"frequencies to {rounded:.4g} Hz, coarser than the sweep's step of "
                f"{(f[-1] - f[0]) / (f.size - 1):.4g} Hz; export the frequencies with more digits "
                "(in Hz, or GHz with 9 decimals)")
        raise ValueError(f"{src}: frequency not strictly increasing: {f[i]:.10g} Hz in data row "
                         f"{i + 1} then {f[i + 1]:.10g} Hz; sort the sweep and remove repeats")
    if f[-1] > MAX_FREQUENCY_HZ:
        raise ValueError(f"{src}: frequencies {f[0]:.4g} to {f[-1]:.4g} Hz: above 1 THz, not a "
                         "resonator sweep; give the unit of the frequency column "
                         f"(frequency_unit='{likely_frequency_unit(f)}' if the numbers are in "
                         f"{likely_frequency_unit(f)})")
    if f[0] <= 0 or f[-1] < MIN_FREQUENCY_HZ:
        raise ValueError(f"{src}: frequencies {f[0]:.4g} to {f[-1]:.4g} Hz: not a microwave "
                         "sweep in Hz; give the unit of the frequency column "
                         f"(frequency_unit='{likely_frequency_unit(f)}' if the numbers are in "
                         f"{likely_frequency_unit(f)})")


def _read_columns(p: Path) -> tuple[np.ndarray, list[str], bool]:
    """The numeric rows of a delimited text file, shape (n, 3), the lines before them (header
    and comment lines with their comment marks removed; empty if the data come first), and whether
    the cells are separated by ``;``. Quoted cells are read; a line ``END`` after the data closes
    them (a Keysight export's block).

    A file with ``;`` between its cells, or with tabs or blanks between numbers written with
    decimal commas (:func:`_blank_separated_decimal_commas`), takes ``,`` as the decimal comma
    (and ``;``, tab or blanks as separators; the third value returned is then True); a file
    separated by ``,`` with quoted cells takes a comma inside a quoted number as its decimal
    comma; otherwise ``,`` ``;`` tab and blanks all separate cells. The text is decoded by
    :func:`manybody.measured.tables.decode_text` (UTF-16 by its byte-order mark; compressed and
    binary files refused by name).
    """
    # UTF-16 (Excel's "Unicode text") was read as UTF-8 and gave "no numeric rows", a gzipped
    # file "1 column(s)" (a break test, session 46)
    lines = _mend_minus(decode_text(p.read_bytes(), str(p))).splitlines()
    numeric_lines = [line.strip() for line in lines
                     if line.strip().lstrip("\"'")[:1] in _NUMBER_START]
    semicolons = any(";" in line for line in numeric_lines) or _blank_separated_decimal_commas(
        numeric_lines)
    # quoted cells in a file separated by ',' ('"7710700000","-19,482059"'): the quotes say
    # where a cell ends, and a comma inside one is its decimal comma (6 columns before)
    # (only where a comma touches a quote: quoted cells between tabs or blanks split as before)
    quoted = not semicolons and any(_COMMA_AT_QUOTE.search(line) for line in numeric_lines)
    split = _SPLIT_SEMICOLON if semicolons else _SPLIT
    rows: list[list[float]] = []
    first_data = ended = unread = None
    header: list[str] = []  # the lines before the data, comment marks removed
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text[0] in "#!%":
            if text and first_data is None:
                header.append(text.lstrip("#!%").strip())
            continue
        if first_data is not None and _END_OF_DATA.match(text):
            ended = number  # a VNA export's closing line ("END" of Keysight's BEGIN/END block)
            break
        if quoted:
            cells = [c.strip() for c in next(csv.reader([text]), []) if c.strip()]
            cells = [c.replace(",", ".") if _DECIMAL_COMMA_NUMBER.fullmatch(c) else c
                     for c in cells]
        else:
            cells = [c.strip("\"'") for c in split.split(text) if c.strip("\"'")]
        if semicolons:
            cells = [c.replace(",", ".") for c in cells]
        try:
            values = [float(fortran_exponent(c)) for c in cells]
        except ValueError:
            if first_data is None:
                header.append(text)
                if unread is None and text.lstrip("\"'")[:1] in _NUMBER_START:
                    unread = (number, text)
                continue  # a header line before the data
            raise ValueError(f"{p}: line {number} is not numeric: {text[:80]!r}") from None
        if first_data is None:
            first_data = (number, len(values))
            if len(values) != 3:
                raise ValueError(
                    f"{p}: {len(values)} column(s) in line {number}; a sweep needs exactly 3: "
                    "frequency and two columns of S21 (their meaning given by layout=)")
        elif len(values) != first_data[1]:
            raise ValueError(f"{p}: line {number} has {len(values)} columns, line "
                             f"{first_data[0]} has {first_data[1]}")
        rows.append(values)
    if ended is not None:
        later = [n for n, line in enumerate(lines[ended:], start=ended + 1)
                 if line.strip()[:1] in _NUMBER_START and line.strip()]
        if later:
            raise ValueError(f"{p}: numbers follow the end of the data block in line {ended} "
                             f"(line {later[0]}): several blocks in one file; keep one sweep "
                             "per file")
    if not rows:
        why = ""
        if unread is not None:  # '7,710,700,000;-19.48;11.50' was every line a header line
            grouped = re.search(r"\d{1,3}(?:[.,'\u00a0]\d{3}){2,}", unread[1])
            why = (f"; line {unread[0]} starts like a number but cannot be read: "
                   f"{unread[1][:60]!r}" + (f" ({grouped.group(0)!r} looks like a number with a "
                                            "thousands separator: write the numbers without "
                                            "digit grouping)" if grouped else ""))
        raise ValueError(f"{p}: no numeric rows (too few points: 0; need at least "
                         f"{MIN_POINTS}){why}")
    return np.asarray(rows, dtype=np.float64), header, semicolons


#: A comma next to a quote: cells of a line separated by ',' and quoted ('"7,7E9","-19,5"').
_COMMA_AT_QUOTE = re.compile(r'"\s*,|,\s*"')
#: A number written with a decimal comma ('-19,482059', '7,7107E+09').
_DECIMAL_COMMA_NUMBER = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")


def _blank_separated_decimal_commas(numeric_lines: list[str]) -> bool:
    """Whether the data lines are separated by blanks or tabs and write decimal commas: every
    cell split at blanks reads as a number with ',' as its decimal mark, and some use it.
    '7710700000 -19,482059' was split at the comma too, into three columns (frequency, -19 dB,
    482059 degrees), and a tab-separated German export was refused as 6 columns (a break test,
    session 46). A line of cells separated by ', ' is not taken ('100,' is no decimal)."""
    seen = False
    for line in numeric_lines[:20]:
        cells = [c.strip("\"'") for c in re.split(r"[\t ]+", line) if c.strip("\"'")]
        for cell in cells:
            if _DECIMAL_COMMA_NUMBER.fullmatch(cell):
                seen = True
            elif "," in cell:
                return False
            else:
                try:
                    float(cell)
                except ValueError:
                    return False
    return seen


def header_frequency_unit(header: str | list[str] | None, columns: int = 3,
                          semicolons: bool = False) -> str | None:
    """The frequency unit the header lines before a sweep's data state, or None.

    Two kinds of line are read, and the first decides where it states a unit:

    - **Column-header lines**: lines with as many cells as the data have columns (cells split as
      the data are; quotes removed). The unit of the frequency column is any frequency unit in
      the line's first cell, whatever word stands beside it (``Freq. (kHz)``, ``Stimulus
      (kHz)``, ``Fréquence (kHz)``, ``Frequency, kHz`` in a ``;`` file, ``Frequency|kHz``,
      ``FreqkHz``), or alone (a units line ``kHz,dB,deg`` under ``Frequency,S21,Phase``), with a
      power-of-ten scale where one is written (``Hz x 1e3`` is kHz, ``1e9 Hz`` GHz).
    - **Other lines** (metadata, comments): a unit that follows a frequency word (``Freq in
      GHz``, ``# Frequency (kHz)  S21 (dB)``); ``IFBW 1 kHz`` or ``f0 = 7.7 GHz`` is a value, not
      a unit, and so is ``Start Frequency (MHz): 5995.8`` (the unit of the value after it).
      Read only when no column-header line states a unit (``# Start frequency (GHz):
      7.71`` above ``Freq(Hz),...`` is the start's unit; the column says Hz).

    Parameters
    ----------
    header : str or list of str or None
        The lines before the data, comment marks removed.
    columns : int
        The number of data columns.
    semicolons : bool
        The file separates its cells by ``;`` (where ``,`` is a decimal comma).

    Returns
    -------
    str or None
        A key of ``FREQUENCY_UNITS``, or None where nothing states the unit.

    Raises
    ------
    ValueError
        Lines of one kind that state two different units, a first cell with two units
        (``Frequency [Hz] (MHz shown)``), a scale that makes no unit of ``FREQUENCY_UNITS``, or
        ``mHz`` (millihertz: a resonator sweep in mHz is a typo for MHz; say which with
        ``frequency_unit``).
    """
    lines = [header] if isinstance(header, str) else list(header or [])
    in_columns: list[tuple[str, str]] = []
    elsewhere: list[tuple[str, str]] = []
    last = _header_cells(lines[-1], semicolons) if lines else []
    units_line = len(last) == columns and all(_UNITS_CELL.fullmatch(c) for c in last)
    first_header = len(lines) - (2 if units_line else 1)
    for i, line in enumerate(lines):
        cells = _header_cells(line, semicolons)
        # the columns' header is the line above the data or, above a units line ('kHz,dB,deg'),
        # the one above that: a metadata line of three cells ('IFBW (Hz): 1000, Power (dBm):
        # -20, Averages: 10', '# Span (Hz), Points, Power (dBm)') is not, nor is a cell that
        # holds a value (a reviewer, session 27)
        if len(cells) == columns and i >= first_header and not _holds_value(cells):
            unit = _cell_unit(cells[0], line)
            if unit is not None:
                in_columns.append((unit, line))
                continue
        match = _FREQUENCY_UNIT.search(line)
        if match is None and i > 0:  # a units line under a frequency word
            first = re.split(r"[,;\t]|\s{2,}", line.strip())[0].strip(" ()[]\"'")
            above = re.split(r"[,;\t]|\s{2,}", lines[i - 1].strip())[0].strip(" \"'")
            if _FREQUENCY_WORD.fullmatch(above):
                match = _UNIT_ALONE.fullmatch(first)
        if match is not None and _VALUE_AFTER.match(line, match.end()):
            # 'Start Frequency (MHz): 5995.8' states the unit of its value, not of the column
            # (a GHz column was read as MHz, f0 = 6 MHz, a tester, session 34)
            match = None
        if match is not None:
            elsewhere.append((_unit_name(match.group("unit"), line), line))
    for found in (in_columns, elsewhere):
        units: dict[str, str] = {}
        for unit, line in found:
            units.setdefault(unit, line)
        if len(units) > 1:
            raise ValueError("the header lines give the frequency in "
                             + " and ".join(f"{u} ({line!r})" for u, line in units.items())
                             + "; give frequency_unit")
        if units:
            return next(iter(units))
    return None


def _header_cells(line: str, semicolons: bool) -> list[str]:
    """The cells of a header line, split as its file's data are (quotes and blanks removed)."""
    text = line.strip()
    if semicolons or "," in text or "\t" in text:  # quoted cells may hold the separator
        separator = ";" if semicolons else ("," if "," in text else "\t")
        parts = next(csv.reader([text], delimiter=separator, skipinitialspace=True))
        if separator != "\t":
            parts = [piece for part in parts for piece in part.split("\t")]
    else:  # blank-separated: columns apart by two or more blanks, else by one
        parts = re.split(r"\s{2,}", text)
        if len(parts) == 1:
            parts = text.split()
    return [cell for cell in (part.strip().strip("\"'").strip() for part in parts) if cell]


def _holds_value(cells: list[str]) -> bool:
    """A header cell with a number that is not a scale of its unit ('IFBW (Hz): 1000'),
    or 'name: value' / 'name = value': a line of metadata, not of column names."""
    for cell in cells:
        bare = _SCALE_IN_CELL.sub("", _normalised_cell(cell)).replace("_", " ")
        # names such as S21, Trc1 (also glued: Trc2_S21, S21_Phase_rad, a tester, session 34)
        bare = re.sub(r"(?i)\b[a-z]+\d+\b", "", bare)
        if re.search(r"[:=]\s*[-+]?\.?\d", bare) or re.search(r"(?<![a-z_])[-+]?\d", bare):
            return True
    return False


#: A cell of a units line: one short token, possibly in brackets ('kHz', '(dB)', '[deg]', 'U').
_UNITS_CELL = re.compile(r"[\(\[\{]?\s*[^\s,;\(\)\[\]\{\}]{1,8}\s*[\)\]\}]?")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")


def _normalised_cell(cell: str) -> str:
    """A header cell with superscript exponents written out ('×10³' -> '×10^3') and a prefix
    apart from its unit joined to it ('k Hz', 'kilo Hz' -> 'kHz')."""
    text = re.sub(r"10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+)", lambda m: "10^" + m.group(1).translate(_SUPERSCRIPTS),
                  cell)
    text = re.sub(r"(?i)(?<![a-z])(kilo|mega|giga|tera)\s*-?\s*(hz|hertz)(?![a-z])",
                  lambda m: m.group(1) + "hertz", text)
    return re.sub(r"(?<![A-Za-z])([kKmMgGtT])\s+(hz|Hz|HZ)(?![a-zA-Z])", r"\1\2", text)


def _unit_name(text: str, line: str) -> str:
    if text == "mHz":
        raise ValueError(f"the header gives the frequency in mHz (millihertz: {line!r}); "
                         "give frequency_unit='MHz' (or the unit meant)")
    return _UNIT_NAMES[text.lower()]


def _cell_unit(cell: str, line: str) -> str | None:
    """The unit of a column from its header cell (with a power-of-ten scale), or None."""
    cell = _normalised_cell(cell)
    scales = list(_SCALE_IN_CELL.finditer(cell))
    found = list(_UNIT_IN_CELL.finditer(cell))
    if any(re.search(r"\d\s*$", cell[:m.start()]) and not any(
            sc.start() < m.start() <= sc.end() + 1 for sc in scales) for m in found):
        return None  # '1 kHz' is a value ('IFBW: 1 kHz, Power: -20 dBm, Avg: 10'), not a unit
    units = {_unit_name(m.group("unit"), line) for m in found}
    if not units:
        return None
    if len(units) > 1:
        raise ValueError(f"the frequency column's header {cell!r} names {' and '.join(sorted(units))}"
                         "; give frequency_unit")
    unit = units.pop()
    if not scales:
        return unit
    if len(scales) > 1:
        raise ValueError(f"the frequency column's header {cell!r} gives two scales; give "
                         "frequency_unit")
    groups = scales[0].groupdict()
    if groups.get("n1") is not None:  # 'Hz x 1000': a power of ten written out
        number = float(groups["n1"])
        exponent = round(math.log10(number)) if number > 0 else 0
        if not math.isclose(number, 10.0 ** exponent, rel_tol=1e-12):
            raise ValueError(f"the frequency column's header {cell!r} gives a scale of "
                             f"{number:g}, not a power of ten; give frequency_unit")
    else:
        exponent = int(next(g for k, g in groups.items() if g is not None and k != "n1"))
    factor = FREQUENCY_UNITS[unit] * 10.0 ** exponent
    for name, value in FREQUENCY_UNITS.items():
        if math.isclose(value, factor, rel_tol=1e-9):
            return name
    raise ValueError(f"the frequency column's header {cell!r} gives a scale of {factor:g} Hz, "
                     f"not one of {', '.join(FREQUENCY_UNITS)}; give frequency_unit")


#: What the cells of a sweep's column header say a data column is (words, in order of checks).
_CELL_KINDS = (
    # I/Q words first: 'In-phase' is Re, not a phase (a tester, session 34)
    ("real", re.compile(r"(?i)(?<![a-z])(?:re|real|i)(?![a-z])|real\s*part|in[-\s]?phase")),
    ("imag", re.compile(r"(?i)(?<![a-z])(?:im|imag|imaginary|q)(?![a-z])|quadrature")),
    ("phase", re.compile(r"(?i)phase|(?<![a-z])(?:arg|angle|phi)(?![a-z])|°")),
    ("decibel", re.compile(r"(?i)(?<![a-z])(?:db|log\s*mag)(?![a-z])")),
    ("magnitude", re.compile(r"(?i)(?<![a-z])(?:mag|magnitude|amplitude|amp)(?![a-z])|\|s21\|")),
)
#: Kinds of a magnitude column ('amplitude' alone also names the I and Q of an IQ mixer).
_MAGNITUDE_KINDS = ("decibel", "magnitude")
_PHASE_UNITS = (("rad", re.compile(r"(?i)(?<![a-z])rad(?:ians?)?(?![a-z])")),
                ("deg", re.compile(r"(?i)(?<![a-z])deg(?:rees?)?(?![a-z])|°")))


def _cell_kind(cell: str) -> str | None:
    for kind, pattern in _CELL_KINDS:
        if pattern.search(cell):
            return kind
    return None


def _check_header_layout(src: str, header: list[str], columns: int, semicolons: bool,
                         layout: str) -> str | None:
    """What the column header (the line above the data, when it has a cell per column) says of
    the S21 columns, checked against ``layout``; returns the phase unit it states ("rad",
    "deg") or None.

    Refuses a header that names the phase before the magnitude ('Frequency, Phase (deg),
    S21 (dB)': the layouts take the magnitude or Re second), Re and Im under a magnitude and
    phase layout (or the reverse), and a phase unit other than the layout's (a tester, session
    34: the header was not read, and the hints sent the user from one layout to the other).
    """
    if not header or columns != 3:
        return None
    cells = _header_cells(header[-1], semicolons)
    if len(cells) != 3 or _holds_value(cells):
        return None
    kinds = (_cell_kind(cells[1]), _cell_kind(cells[2]))
    named = f"the header names the columns {', '.join(map(repr, cells))}"
    if kinds[0] == "phase" and kinds[1] in _MAGNITUDE_KINDS:
        raise ValueError(f"{src}: {named}: the phase before the magnitude, but every layout takes "
                         "|S21| (or Re S21) in the second column and the phase (or Im) in the "
                         "third; write the columns in that order")
    if layout == "real-imag":
        if "phase" in kinds or "decibel" in kinds:  # 'I amplitude (V)' is not a magnitude
            raise ValueError(f"{src}: {named}, a magnitude and a phase, but layout='real-imag' "
                             "says Re and Im; layout='db-deg' (or the layout the units say)?")
        if kinds == ("imag", "real"):  # swapped columns were read, then flagged without a hint
            raise ValueError(f"{src}: {named}: Im before Re, but layout='real-imag' takes Re S21 "
                             "in the second column and Im S21 in the third; swap the columns")
        return None
    magnitude_kind, phase_unit = layout.split("-")
    if kinds == ("real", "imag"):
        raise ValueError(f"{src}: {named}, Re and Im S21, but layout={layout!r} says |S21| and a "
                         "phase; layout='real-imag'?")
    stated = next((unit for unit, pattern in _PHASE_UNITS if pattern.search(cells[2])), None)
    if stated is not None and stated != phase_unit:
        words = {"rad": "radians", "deg": "degrees"}
        raise ValueError(f"{src}: {named}: the phase in {words[stated]}, but layout={layout!r} "
                         f"says {words[phase_unit]}; layout='{magnitude_kind}-{stated}'?")
    return stated


def _complex_s21(src: str, a: np.ndarray, b: np.ndarray, layout: str, *,
                 radians_stated: bool = False) -> np.ndarray:
    """Complex S21 from the two data columns, checking that they look like ``layout``. A phase
    whose header states radians may run beyond 2 pi (an unwrapped phase with the cable delay)."""
    if layout == "real-imag":
        return a + 1j * b
    magnitude_kind, phase_unit = layout.split("-")
    finite_b = b[np.isfinite(b)]
    if phase_unit == "rad":
        if (not radians_stated and finite_b.size
                and np.max(np.abs(finite_b)) > 2 * math.pi + 1e-6):
            raise ValueError(f"{src}: phase column reaches {np.max(np.abs(finite_b)):.4g}, beyond "
                             f"2 pi, but layout={layout!r} says radians; degrees? (layout="
                             f"'{magnitude_kind}-deg'; an unwrapped phase in radians is taken "
                             "when the header says so, e.g. 'Phase (rad)')")
        phase = b
    else:
        jumps = np.abs(np.diff(finite_b))
        wraps = np.any((jumps > 5.0) & (jumps < 2 * math.pi + 0.5))
        if (finite_b.size and np.max(np.abs(finite_b)) <= math.pi + 1e-6
                and (wraps or np.ptp(finite_b) > 1.0)):
            raise ValueError(f"{src}: phase column stays within +-pi (and wraps by 2 pi or spans "
                             "more than 1), but "
                             f"layout={layout!r} says degrees; radians? (layout="
                             f"'{magnitude_kind}-rad')" + _re_im_with_gain(_outer(a), _outer(b)))
        phase = np.deg2rad(b)
    finite_a = a[np.isfinite(a)]
    if magnitude_kind == "linear":
        if finite_a.size and np.any(finite_a < 0):
            raise ValueError(f"{src}: magnitude column has negative values (down to "
                             f"{finite_a.min():.4g}), but layout={layout!r} says linear |S21|; "
                             f"dB? (layout='db-{phase_unit}')")
        magnitude = a
    else:
        if finite_a.size and np.all((finite_a > 0) & (finite_a <= 1)):
            raise ValueError(f"{src}: magnitude column lies between 0 and 1 everywhere, as a "
                             f"linear |S21| does, but layout={layout!r} says dB; linear? "
                             f"(layout='linear-{phase_unit}')" + _re_im_too(a, b))
        magnitude = 10.0 ** (a / 20.0)
    return magnitude * np.exp(1j * phase)


def _mend_minus(text: str) -> str:
    """``text`` with the Unicode minus sign (U+2212, written by some spreadsheet locales) made a
    hyphen, as the loss-table reader does (:func:`manybody.measured.tables._number_text`): sweep
    files written with it were refused as "cannot be read" without the reason (a tester, bt206
    F5)."""
    return text.replace("\u2212", "-")


def _read_touchstone(p: Path, parameter: str) -> tuple[np.ndarray, np.ndarray]:
    """(f in Hz, S21) of a 2-port Touchstone file of S parameters, via scikit-rf."""
    from skrf.io.touchstone import Touchstone  # heavy (pandas): only when a Touchstone is read

    # decoded as the tables are: a UTF-8 byte-order mark hid the option line ("data line 1
    # holds 6 numbers"), and UTF-16 or gzip gave the same (a second break test, session 46)
    raw = p.read_bytes()
    text = decode_text(raw, str(p))
    lines = _mend_minus(text).splitlines()
    _check_touchstone_lines(p, lines)
    with tempfile.TemporaryDirectory() as folder:
        source = p
        if (raw.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or not _utf8(raw)
                or "\u2212" in text):
            source = Path(folder) / p.name  # scikit-rf reads UTF-8 text: give it the decoded lines
            source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            ts = Touchstone(str(source))
        except Exception as exc:  # noqa: BLE001 - scikit-rf raises many kinds; report them by file
            raise ValueError(f"{p}: not a readable Touchstone file: {exc}") from None
    if ts.rank != 2:
        what = {1: "a 1-port file (reflection S11 only, no transmission)"}.get(
            ts.rank, f"a {ts.rank}-port file")
        raise ValueError(f"{p}: Touchstone file is {what}; a notch-resonator sweep needs a 2-port "
                         f".s2p file, from which {parameter} is taken")
    if str(ts.parameter).lower() != "s":
        raise ValueError(f"{p}: Touchstone file holds {str(ts.parameter).upper()} parameters; "
                         f"expected S parameters (option line '# <unit> S <format> R <z0>')")
    f, s = ts.get_sparameter_arrays()
    if np.max(f, initial=0.0) > 1e12 and not _has_option_line(lines):
        # the checks of a sweep's unit then advised frequency_unit, which a Touchstone file
        # ignores (a break test, session 46)
        raise ValueError(f"{p}: the Touchstone file has no option line, so its frequencies are "
                         f"read in GHz (the Touchstone default) and reach {np.max(f):.4g} Hz, "
                         "not a resonator sweep; add the option line with the file's frequency "
                         "unit and format before the data, e.g. '# Hz S DB R 50' (DB, MA or RI)")
    row, col = TOUCHSTONE_PARAMETERS[parameter]
    return np.asarray(f, dtype=np.float64), np.asarray(s[:, row, col], dtype=np.complex128)


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _has_option_line(lines: list[str]) -> bool:
    """Whether a Touchstone file's lines hold its option line ('# GHz S MA R 50')."""
    return any(line.split("!", 1)[0].strip().startswith("#") for line in lines)


def _check_touchstone_lines(p: Path, lines: list[str]) -> None:
    """Refuse a version-1 ``.s1p``/``.s2p`` file whose data lines do not each hold the numbers of
    one frequency (1 + 2 N^2: 3 for 1 port, 9 for 2 ports), naming the count found, or whose
    frequency falls from one line of S parameters to the next, naming both lines.

    scikit-rf reads the numbers of a Touchstone file as one stream, so 1-port lines (f, S11) in a
    ``.s2p`` file become 2-port points of three lines each without an error. In a 2-port file a
    frequency below the previous line's starts the noise-parameter block (5 numbers a line:
    frequency, minimum noise figure, source reflection magnitude and angle, normalised
    resistance; Touchstone 1.1 specification), which is accepted and left to scikit-rf; S
    parameter lines after such a fall (two sweeps appended in one file, a sweep recorded
    downward) were read as noise data and dropped, keeping the first sweep or one point (a
    tester, session 40). Files of 3 or more ports (whose points span several lines) and
    version-2 files (``[Version] 2.0``) are left to scikit-rf.
    """
    ports = int(TOUCHSTONE_SUFFIX.match(p.suffix).group(1))
    if ports > 2:
        return
    expected = 1 + 2 * ports**2
    previous: tuple[int, float] | None = None  # (line number, frequency) of the last data line
    for number, line in enumerate(lines, start=1):
        text = line.split("!", 1)[0].strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith("["):
            return  # Touchstone 2: keywords define the layout; scikit-rf checks it
        cells = text.split()
        try:
            frequency = float(cells[0])
        except ValueError:
            frequency = math.nan  # not a number: scikit-rf names it
        falls = previous is not None and frequency < previous[1]
        if falls and ports == 2 and len(cells) == NOISE_NUMBERS:
            return  # the noise-parameter block of a 2-port file
        if len(cells) != expected:
            count = len(cells)
            one = " (a frequency and one complex parameter: 1-port data?)" if count == 3 else ""
            raise ValueError(
                f"{p}: data line {number} holds {count} numbers{one}; a {ports}-port "
                f"Touchstone file (.s{ports}p) has {expected} per line (the frequency and "
                f"{ports * ports} complex S parameters)"
                + (f", or {NOISE_NUMBERS} in a noise-parameter block that starts with a "
                   "frequency below the last S-parameter line's" if ports == 2 else "")
                + f": not {ports}-port data; export the "
                "2-port data, or save a single S21 as delimited text (layout='real-imag')")
        if falls and ports == 2:
            raise ValueError(
                f"{p}: frequency falls from {previous[1]:.10g} (data line {previous[0]}) to "
                f"{frequency:.10g} (data line {number}); a Touchstone file lists its "
                "frequencies in increasing order, and a fall starts the noise-parameter "
                f"block ({NOISE_NUMBERS} numbers a line), but line {number} holds S "
                "parameters: two sweeps appended in one file, or a sweep recorded downward? "
                "Save each sweep in its own file, in increasing frequency")
        if math.isfinite(frequency):
            previous = (number, frequency)


def layout_hint(sweep: S21Sweep) -> str:
    """A layout or unit mix-up that the data of a badly fitting sweep suggest ("" when none).

    Meant for flagged fits (the hints are questions, not proofs):

    * a phase in degrees (``*-deg``) whose swing across the resonance is under a tenth of the
      swing the |S21| dip implies for a resonance circle: radians read as degrees (they move 57
      times too little);
    * a magnitude in dB (``db-*``) that is 0 dB or more everywhere: a linear |S21| with gain read
      as dB?
    * ``db-deg`` columns that both stay within +-1 (|S21| within 1 dB of 1 and a phase within a
      degree everywhere): Re and Im S21 read as dB and degrees?
    * ``real-imag`` columns whose first is negative everywhere, whose second stays within +-180,
      and whose off-resonance |S21| changes by more than 1.5 times across the window (Re and Im
      of a resonator keep |S21| nearly constant off resonance): |S21| in dB and a phase in
      degrees?

    Parameters
    ----------
    sweep : S21Sweep
        A sweep read from delimited text (Touchstone files state their format: no hint).

    Returns
    -------
    str
        The hint, naming the layout to try, or "".
    """
    if sweep.layout not in LAYOUTS:
        return ""
    z = np.asarray(sweep.s21)
    f = np.asarray(sweep.frequency, dtype=np.float64)
    k = max(z.size // 10, 2)
    outer = np.r_[0:k, z.size - k:z.size]
    if sweep.layout == "real-imag":
        magnitude = np.abs(z[outer])
        if (np.all(z.real < 0) and np.all(np.abs(z.imag) <= 180.0)
                and magnitude.min() > 0 and magnitude.max() > 1.5 * magnitude.min()):
            return ("the columns look like |S21| in dB (negative everywhere) and a phase in "
                    "degrees, not Re and Im S21; layout='db-deg'?")
        return ""
    magnitude_kind, phase_unit = sweep.layout.split("-")
    if (sweep.layout == "db-deg" and np.all(np.abs(np.angle(z)) <= math.radians(1.0))
            and np.all(np.abs(20 * np.log10(np.abs(z))) <= 1.0)):
        # Re and Im (both within +-1) read as dB and degrees: |S21| ~ 1, phase ~ 0 everywhere
        # (a tester, session 34: no layout was suggested)
        return ("both columns stay within +-1, as Re and Im S21 do, read here as dB and "
                "degrees: Re and Im? (layout='real-imag')")
    if magnitude_kind == "db" and np.all(np.abs(z) >= 1.0):
        phase = np.unwrap(np.angle(z))
        return (f"the magnitude column is 0 dB or more everywhere, as a linear |S21| with gain "
                f"is: a linear |S21| read as dB? (layout='linear-{phase_unit}')"
                + _re_im_with_gain(20 * np.log10(np.abs(z[outer])),
                                   np.degrees(phase[outer]) if phase_unit == "deg"
                                   else phase[outer]))
    if phase_unit == "deg":
        phase = np.unwrap(np.angle(z))
        slope, offset = np.polyfit(f[outer] - f[0], phase[outer], 1)  # cable delay, phase offset
        swing = float(np.ptp(phase - (offset + slope * (f - f[0]))))
        mag = np.abs(z)
        baseline = float(np.median(mag[outer]))
        dip = 1.0 - float(mag.min()) / baseline if baseline > 0 else 0.0
        # a circle of diameter dip (relative to the baseline) through 1 spans this phase
        expected = (2.0 * math.asin(min(1.0, (dip / 2) / max(1.0 - dip / 2, 1e-12)))
                    if dip > 0 else 0.0)
        if expected > 0.05 and swing < 0.1 * expected:
            magnitude = mag if magnitude_kind == "linear" else 20 * np.log10(mag)
            return (f"the phase swings by {math.degrees(swing):.3g} degrees across the "
                    f"resonance, but a dip to {1 - dip:.3g} of the baseline makes a circle that "
                    f"swings ~{math.degrees(expected):.3g} degrees: a phase in radians read as "
                    f"degrees? (layout='{magnitude_kind}-rad')"
                    + _re_im_too(magnitude, np.degrees(np.angle(z))))
    # Re and Im with gain read as a magnitude and a phase where no hint above applies: Re < 0
    # somewhere (a cable delay turns it) kept the magnitude column below 0 dB (a tester, bt210)
    first = 20 * np.log10(np.abs(z[outer])) if magnitude_kind == "db" else np.abs(z[outer])
    second = np.angle(z[outer])
    hint = _re_im_with_gain(first, np.degrees(second) if phase_unit == "deg" else second)
    return ("the two columns taken as Re and Im S21 keep |S21| more nearly constant off "
            "resonance than the first alone, as a resonator's Re and Im do (with gain or a cable "
            "delay): Re and Im? (layout='real-imag')") if hint else ""


def _outer(column: np.ndarray) -> np.ndarray:
    """The outer tenths of a sweep's column (at least 2 points at each end): off resonance."""
    k = max(column.size // 10, 2)
    return np.r_[column[:k], column[-k:]]


def _re_im_with_gain(first: np.ndarray, second: np.ndarray) -> str:
    """'; or Re and Im S21 with gain ...?' when the two columns as written (``first``, ``second``:
    the outer tenths of the window, off resonance) taken as Re and Im keep their modulus more
    nearly constant than the first column alone, by at least half (relative peak-to-peak): Re
    and Im of a resonator rotate with the cable delay at a constant modulus, a magnitude stays
    constant beside its phase. Re/Im sweeps with gain (values above 1) read as dB and degrees
    were told only 'linear-deg', whose fit then failed as "line shape off" (a tester, bt206 F2:
    modulus spread 0.07, first column 1.7; a linear |S21| with gain beside its phase: 1.5 and
    0.07). Without a cable delay the two cannot be told apart, and nothing is added."""
    modulus = np.hypot(first, second)
    if not (modulus.size and np.all(np.isfinite(modulus)) and modulus.min() > 0
            and np.any(second != 0)):
        return ""
    if np.ptp(modulus) / np.mean(modulus) < 0.5 * np.ptp(first) / np.mean(np.abs(first)):
        return ("; or Re and Im S21 with gain, as the two columns taken as Re and Im keep |S21| "
                "more nearly constant off resonance than the first alone (layout='real-imag')?")
    return ""


def _re_im_too(first: np.ndarray, second: np.ndarray) -> str:
    """'... or Re and Im S21?' when both columns, as read from the file, stay within +-1, as Re
    and Im do: the hints for a headerless Re/Im sweep went from dB to linear |S21| and from
    degrees to radians, and never named layout='real-imag' (a break test, session 50)."""
    values = np.concatenate([np.ravel(first), np.ravel(second)])
    values = values[np.isfinite(values)]
    if values.size and np.max(np.abs(values)) <= 1.0 and np.any(np.ravel(second) != 0):
        return "; or Re and Im S21, as both columns stay within +-1 (layout='real-imag')?"
    return ""
