"""``manybody fit-data``: fit measured loss tables to tanh(x/2) and 1 - e^-x, with a figure.

Reads one or more loss tables (see :mod:`manybody.measured.tables`; files in natural order, so
``qint_80dBm`` comes before ``qint_100dBm``), fits the TLS law, the generic-block law and the
interpolating family jointly to all curves (shared temperature law; per-curve amplitudes and
backgrounds; see :mod:`manybody.laws.fit`), prints a table and writes into ``--out`` (a directory
relative to the current directory, default ``./fit_data``):

* ``fit_data.png`` / ``fit_data.pdf``: data, both fits, relative residuals;
* ``fit_results.json``: parameters, errors, covariances, criteria, the data fitted, provenance;
* ``fit_table.txt``: the printed table.

With ``--shift FILE`` (a df/f0 table) it fits loss and frequency shift together, with
``--sweeps GLOB --joint`` the 1/Qi(T) and f0(T) of raw S21 sweeps, and with ``--simulated`` the
absorption and velocity shift of a results file (:mod:`manybody.cli.fit_loss_shift`).

With ``--velocity`` it fits one table of the sound-velocity shift delta v / v (T), or of a
resonator's df/f (T) at low frequency, instead (:mod:`manybody.measured.velocity`): the maximum is
located first, then the two logarithmic slopes on each side over stated windows
(:func:`manybody.laws.velocity.fit_velocity_slopes`); it prints T_max, the slopes and their
ratio with errors and the windows, and writes ``velocity_fit.png`` / ``velocity_fit.pdf`` (data
against ln T, the fitted lines, the 2 : -1 and 1 : -1 references), ``velocity_results.json``
(the fit, the data, provenance) and ``velocity_table.txt`` (:mod:`manybody.cli.fit_velocity`).

With ``--power-sweep`` the tables (one per drive power) are fitted against power instead, at each
temperature common to them, with the saturation law Q^-1_0 (1 + P/Pc)^-beta + background, beta
shared (free and 1/2, with a test) and per temperature; see :mod:`manybody.cli.fit_power_sweep`.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import math
import re
import shlex
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from manybody.cli import fit_loss_shift, fit_sweeps
from manybody.cli.errors import named
from manybody.cli.fit_outputs import (
    check_window,
    cli_message,
    criterion,
    error_column,
    frequency_option,
    make_out,
    note,
    note_ignored_columns,
    out_dir,
    out_path,
    power_column,
    remove_empty,
    report_written,
    rising_hint,
    value_with_error,
    with_split_hint,
)
from manybody.cli.fit_velocity import VELOCITY_OPTIONS, run_velocity
from manybody.cli.parser import checked_after_parsing, option_given
from manybody.cli.x_range import X_HIGH, X_LOW, Kelvin, check_x_range  # noqa: F401 (public here too)
from manybody.laws.inputs import (
    BCS_RATIO,
    CRITICAL_POWER_LAWS,
    ERROR_MODELS,
    MAX_TEMPERATURE,
    QP_SHAPES,
    check_power_dbm,
    in_window,
    parse_frequency,
)
from manybody.laws.verdict import EVIDENCE_LEVELS, evidence_shown
from manybody.laws.x_range import XRangeWarning
from manybody.measured.headers import error_is_fraction, error_is_relative
from manybody.measured.tables import (
    DRIVE_GROUP_DB,
    curves_from_table,
    read_loss_table,
    refuse_other_formats,
)
from manybody.support import jsonio
from manybody.support import validate as v
from manybody.support.files import atomic_write, output_set
from manybody.support.provenance import command_line, environment
from manybody.support.style import PALETTE

if TYPE_CHECKING:  # pragma: no cover
    from manybody.measured.comparison import DiscriminationPower, LawComparison

SCHEMA = "manybody.fit-data/2"  # 2: preferred may be null; verdict reason, errors
OUTPUTS = ("fit_data.png", "fit_data.pdf", "fit_results.json", "fit_table.txt")
#: Beyond this many points the figure draws the data as a raster image inside the PDF.
RASTER_POINTS = 5000


#: Most repeats --simulate takes: each is one fit of all three laws (~0.1 s), so 10^5 is hours.
MAX_SIMULATIONS = 100_000


def _simulations(text: str) -> int:
    value = v.cli_integer(0, MAX_SIMULATIONS)(text)
    if value == 1:
        raise argparse.ArgumentTypeError("expected 0 (no simulation) or at least 2, got 1")
    return value


#: The largest --tmin/--tmax taken as a bare number (K): the loss and velocity fits run from mK
#: to a few K, so a bare 100-999 is millikelvin typed by habit (--tmax 800 for 0.8 K cut nothing
#: and changed the verdict, a helper, session 36); 100K or more with the unit written is taken.
MAX_BARE_TEMPERATURE = 100.0

_TEMPERATURE = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([^\d\s.+-]\S*)?\s*$")
#: Units of --tmin/--tmax, as written (case matters: '500MK' was read as 500 mK; bt205).
_TEMPERATURE_UNITS = {"K": 1.0, "mK": 1e-3, "uK": 1e-6, "µK": 1e-6, "\u03bcK": 1e-6}
#: (micro as the micro sign U+00B5 and as the Greek mu U+03BC, which look alike: '500μK' was
#: refused naming the look-alike 'µK'; a tester, bt210)


def temperature_argument(text: str) -> float:
    """--tmin/--tmax: a temperature in K, or with its unit ('800mK', '0.8K'), as --frequency
    takes units; a bare number of MAX_BARE_TEMPERATURE or more is refused (mK by habit)."""
    match = _TEMPERATURE.match(text)
    expected = (f"expected a temperature in K with 0 < T < {MAX_TEMPERATURE:g} (or with its "
                f"unit: 800mK, 0.8K)")
    if match is None:
        raise argparse.ArgumentTypeError(f"{expected}, got {text!r}")
    number, unit = float(match.group(1)), match.group(2) or ""
    if unit and re.fullmatch(r",\d+\s*\S*", unit):  # '0,5' was "the unit ',5'" (bt210)
        raise argparse.ArgumentTypeError(
            f"{expected}, got {text!r}: a decimal comma; write the number with a decimal point "
            f"({text.replace(',', '.', 1)!r})")
    if unit and unit not in _TEMPERATURE_UNITS:
        raise argparse.ArgumentTypeError(
            f"{expected}, got {text!r}: the unit {unit!r} is not one of "
            f"{', '.join(_TEMPERATURE_UNITS)} (case matters: mK is millikelvin)")
    value = number * _TEMPERATURE_UNITS.get(unit, 1.0)
    mk = match.group(1)
    if not 0 < value < MAX_TEMPERATURE:
        hint = f" (in K; write {mk}mK for millikelvin)" if not unit and number > 0 else ""
        raise argparse.ArgumentTypeError(f"{expected}, got {text!r}{hint}")
    if not unit and number >= MAX_BARE_TEMPERATURE:
        raise argparse.ArgumentTypeError(
            f"got {text!r}: a bare number is in K, and {number:g} K is far above the mK-to-K "
            f"range these fits take; write {mk}mK for millikelvin (or {mk}K if kelvin is "
            "meant)")
    return Kelvin(value, unit_given=bool(unit))


def natural_key(path: str) -> list:
    """Sort key that orders digit runs by value: qint_80dBm before qint_100dBm."""
    return [(0, int(part), part) if part.isdigit() else (1, 0, part.lower())
            for part in re.split(r"(\d+)", str(path)) if part]


#: Indeterminate reasons meaning the design cannot determine the parameters at all.
_DESIGN_REASONS = ("too few distinct temperatures", "curve ",
                   "no temperature dependence: every curve is constant",
                   "no temperature dependence: the temperature-dependent part is below")


def undetermined(fit) -> str | None:
    """Why the data cannot determine ``fit``'s parameters (None when they can)."""
    reasons = [r for r in fit.indeterminate if r.startswith(_DESIGN_REASONS)]
    if not reasons:
        return None
    if any(r.startswith("too few distinct temperatures: one temperature") for r in reasons):
        return "all rows at one temperature"
    return "; ".join(reasons)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``fit-data`` arguments."""
    parser.add_argument("files", nargs="*", metavar="FILE", type=v.cli_path,
                        help="loss tables (CSV/TSV: temperature and Q, Q^-1 or tan delta); with "
                             "--velocity one table of temperature and delta v/v or df/f; with "
                             "--simulated one results file (.nc) of manybody run or study")
    checked_after_parsing(parser.add_argument("--frequency", default=None,
                        help="measurement frequency with unit: 5.61989GHz, 5619.89MHz, 0.2697K "
                             "(required for loss tables; with --velocity or --shift recorded, "
                             "and an absolute shift of half of it or more refused: a resonance "
                             "frequency, or its negative, is no shift)"), parse_frequency)
    parser.add_argument("--velocity", action="store_true",
                        help="fit delta v/v (T) or a resonator's df/f (T) at low frequency: the "
                             "maximum and the two logarithmic slopes, with errors")
    parser.add_argument("--power-sweep", action="store_true",
                        help="fit the saturation law Q^-1_0 (1 + P/Pc)^-beta + background to "
                             "the loss against power at each temperature common to the files "
                             "(one file per power): beta shared (free and 1/2, with a test) and "
                             "per temperature; see manybody.cli.fit_power_sweep")
    parser.add_argument("--shift-column", default=None,
                        help="with --velocity: the delta v/v or df/f column name")
    parser.add_argument("--margin", type=v.cli_real(low=1.0, low_open=True), default=3.0,
                        help="with --velocity: each slope window starts a factor MARGIN off "
                             "T_max (default 3)")
    parser.add_argument("--decades", type=v.cli_real(low=0.0, low_open=True), default=1.0,
                        help="with --velocity: width of each slope window in decades "
                             "(default 1)")
    parser.add_argument("--top", type=v.cli_real(low=1.0, low_open=True), default=1.5,
                        help="with --velocity: the maximum is located from the points within a "
                             "factor TOP of the largest value (default 1.5)")
    parser.add_argument("--tmin", type=temperature_argument, default=None,
                        help="lowest temperature fitted: K, or with its unit (50mK, 0.05K)")
    parser.add_argument("--tmax", type=temperature_argument, default=None,
                        help="highest temperature fitted: K, or with its unit (800mK, 0.8K)")
    parser.add_argument("--background", action=argparse.BooleanOptionalAction, default=True,
                        help="constant background loss per curve (default: on)")
    parser.add_argument("--quasiparticle", nargs="?", const="exp", default=None,
                        choices=QP_SHAPES,
                        help="add a quasiparticle loss term (default shape: exp(-gap/T))")
    gap = parser.add_mutually_exclusive_group()
    checked_after_parsing(gap.add_argument(
        "--gap", default="free", help="quasiparticle gap Delta0 in K, or 'free' (default: free)"),
        gap_value)
    gap.add_argument("--tc", type=v.cli_real(0, MAX_TEMPERATURE, low_open=True), default=None,
                     help=f"fix the gap to {BCS_RATIO} Tc from the critical temperature Tc (K)")
    parser.add_argument("--saturation", action="store_true",
                        help="share one amplitude with the factor 1/sqrt(1 + P/Pc(T)) over "
                             "powers (Pc(T): --critical-power-law; --power-sweep fits Pc per "
                             "temperature)")
    parser.add_argument("--critical-power-law", choices=CRITICAL_POWER_LAWS, default="constant",
                        help="with --saturation, how Pc depends on temperature: 'constant' (one "
                             "Pc; the default), 'power' (Pc (T/T_ref)^mu, mu fitted), "
                             "'standard' (Pc ~ 1/(T1 T2) ~ T coth(hf/2kT): phonon T1, "
                             "spectral-diffusion T2); Pc is reported at T_ref, the highest "
                             "temperature fitted. A Pc that changes with T fitted as one biases "
                             "the TLS index")
    parser.add_argument("--powers", default=None,
                        help="comma-separated drive powers in dBm (-100,-120 or -100dBm,-120dBm), "
                             "one per FILE, overriding the "
                             "power columns")
    parser.add_argument("--error-model", choices=ERROR_MODELS, default="relative",
                        help="scatter model when no errors are given (default: relative)")
    parser.add_argument("--temperature-column", default=None, help="temperature column name")
    parser.add_argument("--loss-column", default=None, help="loss column name (Q, 1/Q, tan d)")
    parser.add_argument("--power-column", default=None,
                        help="power column name, or 'none' to read no power (one curve per file)")
    parser.add_argument("--error-column", default=None, metavar="NAME",
                        help="uncertainty column of the loss, in its units (errors of Q are "
                             "converted to sigma_Q/Q^2); default: found by name ('Qi error', "
                             "'Qi_err', 'dQi', 'sigma', ...) when present; 'none' ignores it")
    parser.add_argument("--simulate", type=_simulations, default=0, metavar="N",
                        help="repeat the experiment N times on paper (data drawn from each fit "
                             "with the fitted scatter) to report how well it separates the laws")
    parser.add_argument("--seed", type=v.cli_seed, default=0,
                        help="seed for --simulate, an integer in [0, 2**63 - 1] (default 0)")
    parser.add_argument("--out", default="fit_data", type=v.cli_path,
                        help="output directory, relative to the current directory "
                             "(default: ./fit_data)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    fit_sweeps.configure(parser)
    fit_loss_shift.add_arguments(parser)


def _gap(args) -> float | None:
    if args.quasiparticle is None:
        # 'free' typed counts (helper-185: --gap free alone ran without a word)
        given = [name for name, dest, default in (("--gap", "gap", "free"), ("--tc", "tc", None))
                 if option_given(args, dest, default)]
        if given:
            raise ValueError(f"{named(given, 'needs', 'need')} --quasiparticle (the gap of the "
                             "quasiparticle loss): add --quasiparticle exp, or leave "
                             f"{'it' if len(given) == 1 else 'them'} out")
        return None
    if args.tc is not None:
        if not (args.tc > 0 and math.isfinite(args.tc)):
            raise ValueError(f"--tc must be > 0 K, got {args.tc}")
        return BCS_RATIO * args.tc
    return gap_value(args.gap)


def gap_value(text: str) -> float | None:
    """--gap as typed: a gap in K, or None for 'free'.

    Raises
    ------
    ValueError
        Not a number or 'free'; not > 0 K and <= BCS_RATIO x MAX_TEMPERATURE.
    """
    if text == "free":
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"--gap must be a number (K) or 'free', got {text!r}") from None
    if not (0 < value <= BCS_RATIO * MAX_TEMPERATURE):  # as --tc <= MAX_TEMPERATURE
        raise ValueError(f"--gap must be > 0 K and <= {BCS_RATIO * MAX_TEMPERATURE:g} K "
                         f"({BCS_RATIO} x {MAX_TEMPERATURE:g} K), got {text!r}")
    return value


def _powers(args) -> list[float] | None:
    """--powers as dBm, one per FILE (in the order given), checked."""
    if args.powers is None:
        return None
    try:  # a unit of dBm on an entry is the unit assumed (session 42: '-100dBm' was refused)
        powers = [float(re.sub(r"(?i)\s*dbm\s*$", "", p)) for p in args.powers.split(",")]
    except ValueError:
        raise ValueError(f"--powers must be comma-separated numbers in dBm (-100,-120 or "
                         f"-100dBm,-120dBm), got {args.powers!r}") from None
    if len(powers) != len(args.files):
        raise ValueError(f"--powers gives {len(powers)} value(s) for {len(args.files)} file(s)")
    for pw in powers:
        if not math.isfinite(pw):
            raise ValueError(f"--powers must be finite numbers (dBm), got {args.powers!r}")
        check_power_dbm("--powers", pw)
    offset = _attenuation(list(zip(powers, args.files, strict=True)))
    if offset is not None:
        print(f"manybody fit-data: note: --powers are the powers in the file names "
              f"{offset:+g} dB in every file (an attenuation?): --powers are taken", file=sys.stderr)
        return powers
    for k, (f, pw) in enumerate(zip(args.files, powers, strict=True)):
        named = _name_power(f)
        if named is None or _power_matches_name(pw, f):
            continue
        if any(_power_matches_name(other, f) and not _power_matches_name(other, args.files[j])
               for j, other in enumerate(powers) if j != k):
            # with a glob the shell gives qint_100dBm before qint_80dBm: --powers=-80,-100,...
            # written in natural order put -80 dBm on the 100 dBm file (session 33)
            raise ValueError(
                f"--powers gives {pw:g} dBm to {f!r}, whose name says {_name_power_text(f)} "
                f"dBm, and that power to another file: the values of --powers follow the files "
                f"in the order given on the command line{_text_order_example(args.files)}; give "
                f"the powers in that order (powers that differ from every name's by one "
                f"attenuation are taken)")
        # another power, not one swapped (--powers=-85,-100 for qint_80dBm, qint_100dBm was
        # refused with the order blamed; a tester, bt200): noted, as against a power column
        print(f"manybody fit-data: note: --powers gives {pw:g} dBm to {f!r}, whose name says "
              f"{_name_power_text(f)} dBm: --powers is taken", file=sys.stderr)
    return powers


def _text_order_example(files: list[str]) -> str:
    """' (a shell glob sorts them as text: B before A)' with two of ``files`` that are in text
    order but not in the order of their names' powers, or '' when the files are not in that order
    (the example named qint_100dBm and qint_80dBm whatever files were given, a tester, bt200)."""
    if list(files) != sorted(files):
        return ""
    for first, second in itertools.pairwise(files):
        a, b = _name_power(first), _name_power(second)
        if a is not None and b is not None and abs(a) > abs(b):
            return (f" (a shell glob sorts them as text: {Path(first).name} before "
                    f"{Path(second).name})")
    return ""


def _attenuation(pairs: list[tuple[float, str]]) -> float | None:
    """The one offset (dB) by which every given power differs from the power its file's name
    states, when there is one and it is not 0 (a source power in the names, the power at the
    device in a column or --powers: both were refused, --powers too, a tester, session 34); None
    when a name states no power, the files are fewer than two, or the offsets differ (a
    permutation, as a glob's order makes)."""
    texts = [_name_power_text(path) for _, path in pairs]
    if len(pairs) < 2 or any(text is None for text in texts):
        return None
    # an unsigned name is read as a negative power for every file ('qint_80dBm' is -80 dBm): per
    # file by the sign of its power, source powers reaching 0 dBm or above were refused while
    # the same files 50 dB lower were taken (a new user, session 35); reading unsigned names as
    # +dBm made every reversed --powers of two files (or of evenly spaced names) one "offset"
    offsets = [power - (float(text) if text[0] in "+-" else -abs(float(text)))
               for (power, _), text in zip(pairs, texts, strict=True)]
    if 1e-9 <= abs(offsets[0]) <= MAX_ATTENUATION and all(
            math.isclose(o, offsets[0], abs_tol=1e-9) for o in offsets):
        return offsets[0]
    return None


#: The largest offset (dB) between the names' and the given powers taken as an attenuation (a
#: cryostat's lines attenuate by 40-100 dB; 180 dB is a permutation read with the wrong sign).
MAX_ATTENUATION = 120.0


#: A power in a file name: a number not glued to a letter or digit before it ('qi_-80p5dBm' and
#: 'qi_m80dBm' state none: their '5 dBm' and '80 dBm' were taken, a tester, session 34).
_NAME_POWER = re.compile(r"(?:(?<![\d.])([-+]\d+(?:\.\d+)?)|(?<![a-z\d.+-])(\d+(?:\.\d+)?))"
                         r"\s*dbm(?![a-z])", re.IGNORECASE)


def _name_power_text(path: str) -> str | None:
    """The power a file's name states, as written ('80', '-92.5', '+10'), or None when the name
    states none or several."""
    found = [signed or unsigned for signed, unsigned in _NAME_POWER.findall(Path(path).name)]
    return found[0] if len(found) == 1 else None


def _name_power(path: str) -> float | None:
    """The power in dBm a file's name states ('qint_80dBm.csv': 80, sign as written), or None
    when the name states none or several."""
    text = _name_power_text(path)
    return None if text is None else float(text)


def _power_matches_name(power: float, path: str) -> bool:
    """Whether ``power`` (dBm) is the one the name states: with the sign when the name writes
    one ('res_+10dBm' against a column of -10 passed, a tester, session 34), by magnitude when it
    does not ('qint_160dBm' is -160 dBm)."""
    text = _name_power_text(path)
    if text is None:
        return True
    named = float(text)
    if text[0] in "+-":
        return math.isclose(power, named, abs_tol=1e-9)
    return math.isclose(abs(power), abs(named), abs_tol=1e-9)


def _files(args) -> tuple[list[str], list[float] | None]:
    """The input files in natural order (with their --powers), a path given twice refused (a
    copy under another name is refused by its values, :func:`_refuse_same_measurement`)."""
    powers = _powers(args)
    seen: dict[Path, str] = {}
    for f in args.files:
        key = Path(f).resolve()
        if key in seen:
            raise ValueError(f"input file {f!r} is given twice (also as {seen[key]!r})")
        seen[key] = f
    order = sorted(range(len(args.files)), key=lambda i: natural_key(args.files[i]))
    return ([args.files[i] for i in order],
            None if powers is None else [powers[i] for i in order])


#: Two tables are one measurement where at least this share of the smaller one's points (and
#: at least ``SAME_POINTS_MIN`` of them) recur in the other with T within ``SAME_T_TOLERANCE``
#: and the loss within ``SAME_LOSS_TOLERANCE`` (relative): repeats of one resonator scatter by
#: percents, a copy rounded to 4 significant digits by less than 1e-3. T is compared loosely
#: (a copy with T rounded to 1 mK, bt200): set points of two measurements coincide anyway.
SAME_POINTS_SHARE = 0.5
SAME_POINTS_MIN = 3
SAME_T_TOLERANCE = 5e-3
SAME_LOSS_TOLERANCE = 1e-3


def _rounding_steps(table, loss: np.ndarray) -> np.ndarray:
    """The relative rounding step of each loss (shape of ``loss``) as its table's column wrote
    it: the fewest significant digits d that give the value back, ``10^(e - d + 1) / |v|``;
    1e-2 to 1e-1 for 2 digits, 1e-15 for full precision."""
    scale = table.units.get("loss_scale", 1.0)
    with np.errstate(all="ignore"):
        written = np.abs((1.0 / np.asarray(loss, float) if table.units.get("loss") == "Q"
                          else np.asarray(loss, float)) / scale)
        usable = np.isfinite(written) & (written > 0)
        exponent = np.floor(np.log10(np.where(usable, written, 1.0)))
        mantissa = np.where(usable, written, 1.0) / 10.0**exponent  # in [1, 10)
    digits = np.full(written.size, 16)
    for d in range(15, 0, -1):  # the fewest digits that give the value back (to 1e-9)
        exact = np.abs(np.round(mantissa, d - 1) - mantissa) <= 1e-9 * mantissa
        digits[exact] = d
    return np.where(usable, 10.0 ** (1 - digits) / mantissa, 0.0)


def _shared_points(a, b, steps_a=None, steps_b=None) -> tuple[int, int, int]:
    """Points of curve ``a`` (T in K, loss) that recur in curve ``b`` (each point of ``b`` used
    once), T within ``SAME_T_TOLERANCE``: (those whose loss agrees within
    ``SAME_LOSS_TOLERANCE`` where both values are written finer than it, those that agree only
    within the two values' rounding steps (``steps_a``, ``steps_b``: relative, per point; None
    none), those among both that are the same number to 1e-9)."""
    order = np.argsort(b.temperature, kind="stable")
    tb, lb = np.asarray(b.temperature, float)[order], np.asarray(b.loss, float)[order]
    sb = np.zeros(tb.size) if steps_b is None else np.asarray(steps_b)[order]
    sa = np.zeros(a.temperature.size) if steps_a is None else np.asarray(steps_a)
    used = np.zeros(tb.size, bool)
    counts = [0, 0, 0]
    for t, loss, step in zip(np.asarray(a.temperature, float), np.asarray(a.loss, float), sa,
                             strict=True):
        lo = np.searchsorted(tb, t * (1.0 - SAME_T_TOLERANCE), side="left")
        hi = np.searchsorted(tb, t * (1.0 + SAME_T_TOLERANCE), side="right")
        off = np.abs(lb[lo:hi] / loss - 1.0)
        rounding = step + sb[lo:hi]
        where = np.flatnonzero(~used[lo:hi] & (off <= np.maximum(SAME_LOSS_TOLERANCE, rounding)))
        if where.size:
            k = where[np.argmin(off[where])]
            used[lo + k] = True
            counts[0 if rounding[k] <= SAME_LOSS_TOLERANCE else 1] += 1
            counts[2] += bool(off[k] <= 1e-9)  # the same number (in other units)
    return counts[0], counts[1], counts[2]


def _refuse_same_measurement(tables: list) -> None:
    """Two tables holding one measurement are refused: the same data would count twice and
    understate every error by sqrt(2). Compared curve by curve (a table's drive powers; a
    curve without a power matches any), after the readers' units (T in K, Q^-1), whatever the
    bytes (session 25: another line ending, byte-order mark or separator), row order or units
    (session 33: the rows reversed, T in K instead of mK). A copy rounded to fewer digits, one
    row more or less, or without the power column was fitted twice (a tester, bt197): points
    that agree within the tolerances above, for half of the smaller curve, are the same.
    Values written with so few digits that they agree only within their rounding may agree by
    chance (two measurements at 2 digits shared 15 of 17 values and were refused, a tester,
    bt200; a copy rounded to 3 digits was missed): such tables are warned about."""
    curves, split = [], set()
    for t in tables:
        own = curves_from_table(t)
        if len(own) > 1:
            split.add(t.source)
        for c in own:
            curves.append((t.source, _rounding_steps(t, c.loss), c))
    for i, (source_a, steps_a, a) in enumerate(curves):
        for source_b, steps_b, b in curves[i + 1:]:
            files = (f"{_curve_of(source_a, a, split)} and {_curve_of(source_b, b, split)}")
            if source_a == source_b or (a.power is not None and b.power is not None
                                        and abs(a.power - b.power) > DRIVE_GROUP_DB):
                continue
            smaller = min(a.temperature.size, b.temperature.size)
            needed = max(SAME_POINTS_MIN, SAME_POINTS_SHARE * smaller)
            if smaller < SAME_POINTS_MIN:
                continue
            strict, rounded, equal = _shared_points(a, b, steps_a, steps_b)
            counted = f"of their {a.temperature.size} and {b.temperature.size} points"
            every = equal == smaller == max(a.temperature.size, b.temperature.size)
            if strict >= needed or every:
                same = "" if every else (f" ({strict} {counted} agree to "
                                         f"{SAME_LOSS_TOLERANCE:.1%} in loss)")
                raise ValueError(f"input files {files} hold the same "
                                 f"temperatures and losses{same}: the same measurement would "
                                 "count twice; give it once")
            if strict + rounded >= needed:
                print(f"manybody fit-data: warning: input files {files} "
                      f"agree at {strict + rounded} {counted} within the rounding of their "
                      "losses as written: if they are one measurement, give it once (it would "
                      "count twice)", file=sys.stderr)


def _curve_of(source: str, curve, split: set) -> str:
    """A file as the same-measurement check names it: with the power of ``curve`` when the file
    holds several (two multi-power files refused as one measurement did not say which curve
    they share, a tester, bt200)."""
    return f"{source!r} (its {curve.power:g} {curve.power_unit} curve)" if source in split else repr(source)


def _check_column_against_name(tables: list, powers_used: bool) -> None:
    """A table's power column (dBm) against the power its file's name states (sign as the name
    writes it or not: 'qint_160dBm' is -160 dBm): the shipped Nb qint_160dBm.csv reads -140, and
    its two curves at -140 dBm were fitted with --saturation as one power without a word (a
    tester, session 34). Refused where the powers enter the fit (--saturation, --power-sweep);
    a warning where they only label the curves."""
    in_dbm = [t for t in tables if t.power is not None and t.units.get("power", "").lower() == "dbm"
              and np.unique(np.asarray(t.power, dtype=float)).size == 1]
    offset = (_attenuation([(float(t.power[0]), t.source) for t in in_dbm])
              if len(in_dbm) == len(tables) else None)
    if offset is not None:
        print(f"manybody fit-data: note: the power columns are the powers in the file names "
              f"{offset:+g} dB in every file (an attenuation?): the columns are taken",
              file=sys.stderr)
        return
    for t in tables:
        named = _name_power(t.source)
        if named is None or t.power is None or t.units.get("power", "").lower() != "dbm":
            continue
        column = np.unique(np.asarray(t.power, dtype=float))
        off = [p for p in column if not _power_matches_name(float(p), t.source)]
        if not off:
            continue
        same = [Path(u.source).name for u in tables if u is not t and u.power is not None
                and np.any(np.asarray(u.power, dtype=float) == off[0])]
        said = (f"the power column of {t.source!r} reads {off[0]:g} dBm"
                f"{' (as ' + ', '.join(same) + ' does)' if same else ''} but its name says "
                f"{_name_power_text(t.source)} dBm")
        if powers_used:
            raise ValueError(f"{said}: which is right? Give the powers with --powers=P1,P2,... "
                             "(one per file, in the order given; it overrides the column), or "
                             "correct the file or its name")
        print(f"manybody fit-data: warning: {said}; the curve is labelled with the column's "
              "power (the powers only label the curves here; --powers overrides the column)",
              file=sys.stderr)


def _refuse_other_formats(files: list[str]) -> None:
    """A results file, workbook, spec or script among the tables, named before any option is
    asked for (a results file given without --simulated was first told '--frequency is
    required'; a new user, session 37). Files that cannot be opened are left to the readers."""
    for path in files:
        try:
            with open(path, "rb") as handle:
                raw = handle.read(8)
        except OSError:
            continue
        refuse_other_formats(raw, path)


def _replaced_power_columns(args, files: list, powers: list[float] | None) -> None:
    """Refuse a file whose power column holds several drive powers where the column is
    replaced: ``--powers`` (one power per file) and ``--power-column none`` (one curve per
    file) would merge its curves into one (--power-column none did so with only a warning that
    blamed "two resonators", a tester, bt193). The column is the one the reader finds, and
    several drive powers are those at which one temperature was measured twice; a column it
    cannot read as powers (no unit, powers spread continuously), or whose values change from
    row to row without a temperature measured twice (a photon number computed per row), is
    what --power-column none is for, and is passed over. With --powers, a file whose one power
    differs from the given one by more than ``DRIVE_GROUP_DB`` is noted (it was overridden
    without a word), and --power-column is noted as changing nothing (a tester, bt190)."""
    option = "--power-column none" if powers is None else "--powers"
    column_powers: list[tuple[int, str, str, float]] = []  # (file, source, column, dBm)
    for k, path in enumerate(files):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                table = read_loss_table(path, args.temperature_column, args.loss_column, None,
                                        error_column=error_column(args))
            except ValueError:
                continue
        if table.power is None:
            continue
        levels = curves_from_table(table)
        unit = levels[0].power_unit
        measured = np.concatenate([np.unique(c.temperature) for c in levels])
        if np.unique(measured).size < measured.size:  # a temperature at two powers
            shown = ", ".join(f"{c.power:g}" for c in levels[:4]) + (", ..." if len(levels) > 4
                                                                    else "")
            given = ("gives one power per file" if powers is not None
                     else "fits each file as one curve")
            leave = "--powers" if powers is not None else "--power-column"
            raise ValueError(
                f"{option} {given}, and the power column {table.power_column!r} of "
                f"{table.source!r} holds {len(levels)} drive powers ({shown} {unit}): its curves "
                f"would be merged into one; leave {leave} out to fit one curve per power, or "
                "split the file")
        if powers is not None and len(levels) == 1 and unit == "dBm":
            column_powers.append((k, table.source, table.power_column, levels[0].power))
    if powers is not None:
        _powers_against_columns(powers, column_powers)
    if powers is not None and option_given(args, "power_column"):
        note(f"--power-column {shlex.quote(args.power_column)} changed nothing: --powers gives each file's "
             "power (the power columns are not read)")


def _powers_against_columns(powers: list[float],
                            column_powers: list[tuple[int, str, str, float]]) -> None:
    """--powers against the files' own power columns (``column_powers``: file index, source,
    column name, its one power in dBm), as :func:`_powers` holds them against the file names:
    the given powers in another order than the columns' is refused (the columns' powers
    swapped between two files fitted Pc = -0.012 +- 2.4e11 dBm and turned the verdict, without a
    word; a tester, bt197); one offset in every file is noted as an attenuation; other
    differences are noted file by file. --powers is taken in both."""
    given = [powers[k] for k, *_ in column_powers]
    read = [power for *_, power in column_powers]
    differs = [abs(g - r) > DRIVE_GROUP_DB for g, r in zip(given, read, strict=True)]
    if not any(differs):
        return
    offsets = [g - r for g, r in zip(given, read, strict=True)]
    if len(offsets) > 1 and np.ptp(offsets) <= DRIVE_GROUP_DB:
        note(f"--powers are the powers in the files' power columns {np.median(offsets):+g} dB in "
             "every file (an attenuation?): --powers are taken")
        return
    agrees = {k: not off for (k, *_), off in zip(column_powers, differs, strict=True)}
    for (k, source, column, power), off in zip(column_powers, differs, strict=True):
        # its column's power given to another file whose own column does not say it (or that
        # has none): the values swapped between files (a tester, bt200). A column contradicted
        # alone (qint_160dBm.csv holding -140 dBm) is what --powers is for.
        other = [j for j in range(len(powers)) if j != k and not agrees.get(j, False)
                 and abs(powers[j] - power) <= DRIVE_GROUP_DB]
        if off and other:
            raise ValueError(
                f"--powers gives {powers[k]:g} dBm to {source!r}, whose power column {column!r} "
                f"says {power:g} dBm, and {power:g} dBm to another file: the values of --powers "
                "follow the files in the order given on the command line; give them in that "
                "order, or leave --powers out to take the columns' powers")
    for (_, source, column, power), g, off in zip(column_powers, given, differs, strict=True):
        if off:
            note(f"--powers gives {g:g} dBm to {source!r}, whose power column {column!r} says "
                 f"{power:g} dBm: --powers is taken")


def _load(args) -> tuple[list, list]:
    files, powers = _files(args)
    # with --powers the power columns are not read (their row-to-row spread was warned about,
    # a tester, bt193)
    column = False if powers is not None else power_column(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        tables = [read_loss_table(f, args.temperature_column, args.loss_column,
                                  column, error_column=error_column(args))
                  for f in files]
    if column is False:  # before the readers' warnings: merged curves conflict at one temperature
        _replaced_power_columns(args, files, powers)
    for w in caught:
        print(f"manybody fit-data: warning: {w.message}", file=sys.stderr)
    if powers is not None:  # each table at the power it is fitted at
        tables = [dataclasses.replace(t, power=np.full(t.temperature.size, pw),
                                      units={**t.units, "power": "dBm"})
                  for t, pw in zip(tables, powers, strict=True)]
    if args.shift is None:  # the joint fit notes them with its shift table
        note_ignored_columns(args, tables)
    _refuse_same_measurement(tables)
    with_errors = [t.source for t in tables if t.sigma is not None]
    if with_errors and len(with_errors) < len(tables):
        without = [t.source for t in tables if t.sigma is None]
        raise ValueError(f"{named(with_errors, 'gives', 'give')} an error column but "
                         f"{named(without, 'does', 'do')} not; give errors for all files, or "
                         "--error-column none to ignore them")
    if with_errors and option_given(args, "error_model", "relative"):
        # the scatter model of tables without errors: with an error column it changed nothing,
        # without a word (helper-185)
        columns = sorted({repr(t.error_column) for t in tables})
        raise ValueError(f"--error-model {args.error_model} is the scatter model of tables "
                         f"without errors, and {named(with_errors, 'gives', 'give')} an error "
                         f"column ({', '.join(columns)}), whose errors are used: leave "
                         "--error-model out, or pass --error-column none to fit the scatter")
    if powers is None:
        _check_column_against_name(tables, args.saturation or args.power_sweep)
    curves = [c for table in tables for c in curves_from_table(table)]
    kinds = {t.is_loss_tangent for t in tables}
    if len(kinds) > 1:
        raise ValueError("some files give a loss tangent and others a quality factor; fit them "
                         "separately")
    return tables, curves


def format_table(cmp: LawComparison, error_source: str = "the given sigmas") -> str:
    """Human-readable comparison table (what ``fit-data`` prints).

    ``error_source`` names where given errors came from (e.g. the error column).
    """
    tls = cmp.fits["tls"]
    opts = tls.options
    fam = cmp.fits["family"]
    lines = [
        f"frequency {opts['frequency_ghz']:.6g} GHz (w = hf/k_B = "
        f"{opts['frequency_kelvin']:.4g} K); {tls.n_points} points in "
        f"{len(opts['labels'])} curve(s); x = w/T from "
        f"{opts['x_range'][0]:.3g} to {opts['x_range'][1]:.3g}; {opts['n_points_x_above_1']} "
        f"point(s) with x > 1 (T < {opts['frequency_kelvin']:.3g} K)",
        "errors: " + (f"from {error_source} (absolute); family chi2/dof = "
                      f"{fam.reduced_chi2:.3g}, p = {fam.p_value:.3g}"
                      if not tls.errors_scaled else
                      f"{tls.error_model} scatter estimated from the residuals "
                      + ("per curve (iterated reweighting)" if tls.scatter == "per-curve" else
                         "(one for all curves; the covariance scaled by it)")
                      # chi2/dof was printed: the scatter squared (0.48 beside 69 %), which read
                      # as a good fit (helper-178)
                      + "; no chi2/dof: without given errors it is no test of the fit"),
        "",
        f"{'law':<9} {'chi2/dof':>10} {'scatter':>9} {'AIC':>9} {'BIC':>9} {'dAIC':>7}  parameters",
    ]
    best = min(f.aic for f in cmp.fits.values())
    for law, fit in cmp.fits.items():
        shared = [n for n in fit.parameter_names if "[" not in n]
        per = [n for n in fit.parameter_names if "[" in n]
        scat = (f"{100 * fit.rms_scatter:.2f}%" if fit.error_model == "relative"
                else f"{fit.rms_scatter:.3g}")
        nd = undetermined(fit)
        params = (f"{', '.join(shared)}: not determined ({nd})" if nd else
                  ", ".join(f"{n} = {value_with_error(fit.parameters[n], fit.errors[n])}"
                            for n in shared))
        chi2 = "-" if fit.errors_scaled else f"{fit.reduced_chi2:.4g}"
        lines.append(f"{law:<9} {chi2:>10} {scat:>9} {criterion(fit.aic):>9} "
                     f"{criterion(fit.bic):>9} {criterion(fit.aic - best):>7}  {params}"
                     + (f"  [on bound: {', '.join(fit.at_bound)}]" if fit.at_bound else ""))
        pad = f"{'':<9} {'':>10} {'':>9} {'':>9} {'':>9} {'':>7}  "
        if nd and per:
            lines.append(f"{pad}{', '.join(per)}: not determined")
        for n in per if not nd else ():
            lines.append(f"{pad}{n} = {value_with_error(fit.parameters[n], fit.errors[n])}")
        if fit.scatter == "per-curve":
            unit = "%" if fit.error_model == "relative" else ""
            mult = 100 if unit else 1
            lines.append(pad + "scatter per curve: " + ", ".join(
                f"{lb} {mult * sc:.3g}{unit}"
                for lb, sc in zip(opts["labels"], fit.curve_scatter, strict=True)))
    name = {"tls": "TLS tanh(x/2)", "generic": "generic 1 - e^-x", None: "none"}
    why = ""
    problems = False
    if cmp.preferred is None:
        problems = any(f.indeterminate or f.unphysical for f in cmp.fits.values())
        why = "; no law preferred: " + (cmp.reason if problems else "|dAIC| < 2")
    if not (cmp.preferred is None and problems):  # also beside "|dAIC| < 2" (bt205)
        why += family_better(cmp.fits)
    lines += [
        "",
        f"preferred law: {name[cmp.preferred]} (AIC(generic) - AIC(tls) = {criterion(cmp.delta_aic, True)}, "
        f"BIC difference {criterion(cmp.delta_bic, True)}; evidence: "
        f"{evidence_shown(cmp.evidence, cmp.delta_aic)}{why})",
        (f"TLS index a: not determined ({undetermined(fam)}); " if undetermined(fam) else
         f"TLS index a = {value_with_error(cmp.index, cmp.index_error)} (1: tanh, 0: 1 - e^-x); ")
        + (f"the laws are {cmp.separation:.2g} sigma apart in a; "
           if not fam.indeterminate and math.isfinite(cmp.separation) else "")
        + f"verdict: {cmp.verdict} ({cmp.reason})",
    ]
    lines += filter(None, [rising_hint(cmp.reason, bool(cmp.fits["tls"].options["quasiparticle"]))])
    if cmp.fits["tls"].options["quasiparticle"]:
        t_ref = cmp.fits["tls"].options["qp_reference_temperature"]
        lines.append(f"qp_loss is the quasiparticle loss at T_ref = {t_ref:g} K; gap in K")
    lines += critical_power_notes(cmp.fits["tls"].options)
    return "\n".join(lines)


def family_better(fits) -> str:
    """'; the family fits better than either law (AIC lower by 25)' where its AIC is lower than
    both laws' by 10 or more (very strong evidence), else ''; a preferred law then is only the
    better of two that both miss (bt200 F6: "TLS ... very strong" beside a = 6.4 +- 0.85)."""
    gain = min(fits["tls"].aic, fits["generic"].aic) - fits["family"].aic
    return (f"; the family fits better than either law (AIC lower by {gain:.3g})"
            if gain >= EVIDENCE_LEVELS[0][0] else "")


def critical_power_notes(options: dict) -> list[str]:
    """The line saying what a saturation fit's critical_power is (none without saturation)."""
    if not options.get("saturation"):
        return []
    unit = options.get("power_unit") or "dB of the power unit"
    if unit == "dB":  # the sweeps' names' '-20dB' (helper-175 F5)
        unit = "dB as the file names state the power: an instrument setting, not at the device"
    law = options.get("critical_power_law") or "constant"
    if law == "constant":
        return [f"critical_power: Pc ({unit}), the same at every temperature"]
    t_ref = options["critical_power_reference_temperature"]
    how = ("Pc(T) = Pc (T/T_ref)^mu, mu = critical_power_exponent" if law == "power" else
           "Pc(T) = Pc T coth(hf/2kT) / (T_ref coth(hf/2kT_ref)), the standard model's "
           "1/(T1 T2)")
    return [f"critical_power: Pc ({unit}) at T_ref = {t_ref:g} K; {how}"]


def format_power(power: DiscriminationPower) -> str:
    """Lines describing the simulated discrimination power."""
    lines = [f"simulated repeats ({power.n_simulations} per law, same temperatures and scatter):"]
    for truth, name in (("tls", "tanh(x/2)"), ("generic", "1 - e^-x")):
        fitted = power.n_simulations - power.unphysical[truth] - power.failed[truth]
        line = (f"  data drawn from the {name} fit: AIC picks it in {100 * power.correct[truth]:.0f}%"
                f" ({100 * power.decisive[truth]:.0f}% with |dAIC| > 6)")
        if fitted:
            spread = (f", spread {power.index_std[truth]:.2f}" if fitted > 1
                      else " (one repeat fitted)")
            bound = power.on_bound.get(truth, 0)
            line += (f"; fitted a = {power.index_mean[truth]:.2f}{spread} (median quoted error "
                     f"{power.index_error_median[truth]:.2f}"
                     + (f"; {bound} on the index's bound, without an error" if bound else "")
                     + ")")
        lines.append(line)
        skipped = []
        if power.unphysical[truth]:
            skipped.append(f"{power.unphysical[truth]} drew a loss <= 0 somewhere (the fitted "
                           "scatter is comparable to the loss) and were not fitted")
        if power.failed[truth]:
            skipped.append(f"{power.failed[truth]} could not be refitted")
        if skipped:
            lines.append(f"    of {power.n_simulations} repeats, " + "; ".join(skipped)
                         + ": they count as not picking the law")
    if any(power.unphysical.values()):
        lines.append("  Gaussian draws of this scatter go below zero and the percentages count "
                     "those repeats as misses; narrow the range (--tmin/--tmax) or give measured "
                     "errors")
    return "\n".join(lines)


def plot_comparison(cmp: LawComparison, stem: str | Path, loss_label: str = "1/Q") -> list[Path]:
    """Figure of the data, the TLS and generic fits and their relative residuals.

    Parameters
    ----------
    cmp : LawComparison
        From :func:`manybody.measured.comparison.compare_laws`.
    stem : str or Path
        Output path without suffix; ``.png`` and ``.pdf`` are written.
    loss_label : str
        What the loss axis shows ("1/Q" or "tan δ").

    Returns
    -------
    list of Path
        The files written.
    """
    from matplotlib.figure import Figure  # heavy: only when a figure is drawn

    tls, gen = cmp.fits["tls"], cmp.fits["generic"]
    w = tls.frequency
    fig = Figure(figsize=(7.0, 8.0), layout="constrained")
    ax, r1, r2 = fig.subplots(3, 1, sharex=True, height_ratios=(3, 1, 1))
    tmin = min(c.temperature.min() for c in tls.curves)
    tmax = max(c.temperature.max() for c in tls.curves)
    grid = np.geomspace(tmin * 0.9, tmax * 1.05, 300)
    # many points drawn as vectors made a 35 MB PDF for a 1e6-row table, and the legend's "best"
    # place is searched over every point (a break test, session 50)
    many = sum(c.temperature.size for c in tls.curves) > RASTER_POINTS
    for j, c in enumerate(tls.curves):
        col = PALETTE[j % len(PALETTE)]
        label = c.label + (f" ({c.power:g} {c.power_unit})" if c.power is not None
                           and f"{abs(c.power):g}" not in c.label else "")
        ax.plot(c.temperature, c.loss, "o", color=col, ms=1.5 if many else 4.5, label=label,
                rasterized=many)
        ax.plot(grid, tls.predict(grid, j), "-", color=col, lw=1.3)
        ax.plot(grid, gen.predict(grid, j), "--", color=col, lw=1.3)
        for fit, rax in ((tls, r1), (gen, r2)):
            model = fit.predict(c.temperature, j)
            rax.plot(c.temperature, 100 * (c.loss - model) / model, "." if many else "o-",
                     color=col, ms=1.0 if many else 3.5, lw=0.8, rasterized=many)
    ax.plot([], [], "k-", label=f"tanh(x/2) fit (AIC {tls.aic:.1f})")
    ax.plot([], [], "k--", label=f"1 - e^-x fit (AIC {gen.aic:.1f})")
    for a in (ax, r1, r2):
        a.axvspan(tmin * 0.9, min(w, tmax * 1.05), color="0.9", zorder=0, lw=0)
        a.set_xscale("log")
        a.grid(True, which="both", alpha=0.3, lw=0.5)
    r1.axhline(0, color="k", lw=0.8)
    r2.axhline(0, color="k", lw=0.8)
    lo = min(float(np.min(c.loss)) for c in tls.curves)
    hi = max(float(np.max(c.loss)) for c in tls.curves)
    if hi <= lo * (1 + 1e-9):  # constant data: give the log axis a finite span
        ax.set_ylim(lo / 1.5, hi * 1.5)
        for rax in (r1, r2):
            rax.set_ylim(-1.0, 1.0)
    ax.set_yscale("log")
    ax.set_ylabel(f"loss {loss_label} (dimensionless)")
    r1.set_ylabel("tanh resid. (%)")
    r2.set_ylabel("1−e⁻ˣ resid. (%)")
    r2.set_xlabel("temperature T (K)")
    ax.set_xlim(tmin * 0.9, tmax * 1.05)
    def invert(u):
        with np.errstate(divide="ignore"):
            return w / np.asarray(u, dtype=np.float64)

    top = ax.secondary_xaxis("top", functions=(invert, invert))
    top.set_xlabel("x = hf / k_B T")
    _nice_log_ticks(r2.xaxis, tmin * 0.9, tmax * 1.05)
    _nice_log_ticks(top.xaxis, w / (tmax * 1.05), w / (tmin * 0.9))
    ax.legend(fontsize=7.5, ncol=2, loc="lower left" if many else "best")
    ax.set_title(f"f = {tls.options['frequency_ghz']:.6g} GHz; shaded: x > 1.  "
                 + (f"index a: not determined ({undetermined(cmp.fits['family'])})"
                    if undetermined(cmp.fits["family"]) else
                    f"Index a = {value_with_error(cmp.index, cmp.index_error)}")
                 + "\npreferred: "
                 f"{cmp.preferred or 'none'} (ΔAIC {criterion(cmp.delta_aic, True, 1)}); "
                 f"verdict: {cmp.verdict}",
                 fontsize=9)
    stem = Path(stem)
    out = []
    for suffix in (".png", ".pdf"):
        path = stem.with_suffix(suffix)
        atomic_write(path, lambda f, s=suffix: fig.savefig(f, format=s[1:], dpi=150))
        out.append(path)
    return out


def _nice_log_ticks(axis, lo: float, hi: float) -> None:
    """Plain-number ticks 1, 2, 3, 5 x 10^n on a log axis between lo and hi."""
    from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter  # heavy

    decades = range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
    ticks = [m * 10.0**e for e in decades for m in (1, 2, 3, 5) if lo <= m * 10.0**e <= hi]
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_formatter(NullFormatter())


def _comparison_dict(cmp: LawComparison) -> dict:
    """cmp.to_dict() with parameters the data cannot determine as null (and the reason)."""
    d = cmp.to_dict()
    for law, fit in cmp.fits.items():
        nd = undetermined(fit)
        if nd:
            fd = d["fits"][law]
            fd["parameters"] = dict.fromkeys(fd["parameters"])
            fd["errors"] = dict.fromkeys(fd["errors"])
            fd["covariance"] = fd["correlation"] = None  # as the parameters: not numbers
            fd["not_determined"] = nd
    if undetermined(cmp.fits["family"]):
        d["index"] = d["index_error"] = d["separation_sigma"] = None
    return d


def _error_source(tables: list) -> str:
    """Where given errors came from, for the table ("the given sigmas" or the error column)."""
    if tables[0].sigma is None:
        return "the given sigmas"
    names = sorted({repr(t.error_column) for t in tables})
    percent = any(error_is_relative(t.error_column, t.loss_column) for t in tables)
    fraction = any(error_is_fraction(t.error_column) for t in tables)
    return (f"column {', '.join(names)}" + (" (percent of the value)" if percent else "")
            + (" (fraction of the value)" if fraction else "")
            + (" (errors of Q converted to sigma_Q/Q^2)"
               if tables[0].units.get("loss") == "Q" else ""))


def _simulate(cmp: LawComparison, args: argparse.Namespace) -> DiscriminationPower:
    """--simulate: the discrimination power, with a progress bar on stderr."""
    from tqdm.auto import tqdm  # ~70 ms: only with --simulate, so --help stays fast

    from manybody.measured.comparison import discrimination_power  # scipy: see run

    print(f"\nsimulating {args.simulate} data sets drawn from each of the tanh(x/2) and "
          f"1 - e^-x fits (seed {args.seed}) and refitting all three laws to each...",
          file=sys.stderr, flush=True)
    with tqdm(total=2 * args.simulate, unit="data set", desc="simulate",
              dynamic_ncols=True, file=sys.stderr) as bar:
        return discrimination_power(cmp, args.simulate, np.random.default_rng(args.seed),
                                    progress=bar.update)


def _record(args: argparse.Namespace, w: float, gap: float | None, tables: list,
            cmp: LawComparison, power: DiscriminationPower | None,
            unwritten: dict[str, bytes] | None = None) -> dict:
    """The content of fit_results.json (schema ``SCHEMA``); ``unwritten``: the content of
    sources not yet on disk (--sweeps' resonator_fits.csv, written with the fit's files)."""
    sources = []
    for t in tables:
        meta = t.metadata()
        data = (unwritten or {}).get(str(t.source))
        meta["sha256"] = hashlib.sha256(Path(t.source).read_bytes() if data is None
                                        else data).hexdigest()
        sources.append(meta)
    return {
        "schema": SCHEMA, "provenance": {**environment(), "command": command_line()},
        "inputs": sources,
        "options": {"frequency": args.frequency, "frequency_kelvin": w, "tmin": args.tmin,
                    "tmax": args.tmax, "background": args.background,
                    "quasiparticle": args.quasiparticle, "gap_fixed": gap,
                    "saturation": args.saturation,
                    "critical_power_law": args.critical_power_law if args.saturation else None,
                    "powers": args.powers,
                    "error_model": args.error_model, "error_column": args.error_column,
                    "seed": args.seed if args.simulate else None,
                    "files_in_order": [t.source for t in tables]},
        "comparison": _comparison_dict(cmp),
        "discrimination_power": None if power is None else power.to_dict(),
        "data": [{"label": c.label, "power": c.power, "power_unit": c.power_unit,
                  "temperature_K": c.temperature.tolist(), "loss": c.loss.tolist(),
                  "sigma": None if c.sigma is None else c.sigma.tolist()}
                 for c in cmp.fits["tls"].curves],
        "units": {"temperature": "K", "loss": "tan delta" if tables[0].is_loss_tangent
                  else "Q^-1", "gap": "K", "critical_power": "dB of the power unit",
                  "frequency_kelvin": "K (h f / k_B)"},
    }


def _with_tables(message: str, args: argparse.Namespace, tables=()) -> str:
    """A fit's "need more points" names the tables and the window it counted in (a one-row table
    was refused without its file's name; session 40); a message naming a curve split from a
    table by its power column says so (:func:`_with_split_hint`)."""
    message = with_split_hint(message, tables)
    if not message.startswith(("need more points than parameters",
                               "need more distinct temperatures than parameters")):
        return message
    window = ", ".join(f"--{name} {value:g} K" for name, value in
                       (("tmin", args.tmin), ("tmax", args.tmax)) if value is not None)
    return (f"{message} (from {', '.join(map(str, args.files))}"
            f"{'; window ' + window if window else ''})")


def run(args: argparse.Namespace) -> int:
    """Run ``fit-data``; returns the exit status."""
    fit_sweeps.check_options(args)
    if option_given(args, "seed", 0) and not args.simulate:  # --seed 5 alone changed nothing (helper-177)
        raise ValueError(f"--seed {args.seed} seeds the repeats of --simulate N: add --simulate "
                         "N (with loss tables or --sweeps), or leave --seed out")
    if option_given(args, "critical_power_law", "constant") and not args.saturation:
        raise ValueError(f"--critical-power-law {args.critical_power_law} describes the critical "
                         "power of --saturation: add --saturation (or leave it out)")
    if args.sweeps is None and not args.files:
        raise ValueError("give loss tables (FILE ...) or --sweeps FOLDER_OR_GLOB")
    if fit_loss_shift.wanted(args):
        loaded: list = []  # the tables, for the messages
        try:
            gap = _gap(args)
            return fit_loss_shift.run_loss_shift(args, gap, lambda a: _load_enough(a, gap, loaded))
        except ValueError as exc:
            raise ValueError(cli_message(with_split_hint(str(exc), loaded))) from None
    _refuse_other_formats(args.files)
    if args.power_sweep:
        if args.sweeps is not None:
            raise ValueError("--power-sweep fits loss tables at several powers (FILE ...), not --sweeps")
        from manybody.cli.fit_power_sweep import run_power_sweep  # when it runs

        return run_power_sweep(args, _load)
    if args.velocity:
        return run_velocity(args)
    # the fits need scipy: imported when the command runs, so that ``manybody --help`` stays fast
    from manybody.measured.comparison import compare_laws

    velocity_only = [name for name, value, default in VELOCITY_OPTIONS
                     if option_given(args, value, default)]
    if velocity_only:
        raise ValueError(f"{named(velocity_only, 'applies', 'apply')} to --velocity only; add "
                         "--velocity to fit delta v/v or df/f, or leave them out for loss tables")
    if args.sweeps is not None:
        return _run_sweeps(args, compare_laws)
    if args.frequency is None:
        raise ValueError("--frequency is required for loss tables (e.g. --frequency 5.62GHz); "
                         "or pass --velocity to fit delta v/v or df/f")
    w = frequency_option(args)
    gap = _gap(args)
    check_window(args)
    out_path(args)
    tables: list = []
    try:  # the tables first: an error in them was hidden behind "pass --overwrite" when --out
        # held an earlier fit (a new user, session 35)
        tables, curves = _load(args)
        check_x_range(curves, w, args.frequency, args.tmin, args.tmax)
        _enough_temperatures(args, gap, curves)
    except ValueError as exc:
        raise ValueError(cli_message(_with_tables(str(exc), args, tables))) from None
    out = out_dir(args, OUTPUTS)
    created = make_out(out)
    try:
        cmp = _compare(compare_laws, args, curves, w, gap)
    except ValueError as exc:
        remove_empty(created)
        raise ValueError(cli_message(_with_tables(str(exc), args, tables))) from None
    except BaseException:
        remove_empty(created)
        raise
    table = format_table(cmp, _error_source(tables))
    print(table, flush=True)
    power = None
    if args.simulate:
        try:
            power = _simulate(cmp, args)
        except BaseException:  # Ctrl-C or an error: no empty --out left behind
            remove_empty(created)
            raise
        text = format_power(power)
        print(text)
        table += "\n" + text
    try:  # a full disk or Ctrl-C while writing: no empty --out left behind
        out.mkdir(parents=True, exist_ok=True)
        # an earlier --sweeps run's law fit, replaced with --overwrite: its sweep step goes
        # too, unless a joint fit beside it was made from the same sweeps
        replaced = (fit_sweeps.made_by_sweeps(out / "fit_results.json")
                    and not fit_sweeps.made_by_sweeps(out / "loss_shift_results.json"))
        with output_set():  # the four files replace an earlier fit's together, or none does
            written = plot_comparison(cmp, out / "fit_data",
                                      "tan δ" if tables[0].is_loss_tangent else "1/Q")
            text = jsonio.dumps(_record(args, w, gap, tables, cmp, power), indent=1)
            atomic_write(out / "fit_results.json", lambda f: f.write(text.encode()))
            atomic_write(out / "fit_table.txt", lambda f: f.write((table + "\n").encode()))
    except BaseException:
        remove_empty(created)
        raise
    written += [out / "fit_results.json", out / "fit_table.txt"]
    report_written(out, written)
    if replaced:
        fit_sweeps.drop_earlier_step(out)
    return 0


def _compare(compare_laws, args: argparse.Namespace, curves, w: float, gap):
    """The law comparison of the command's options (check_x_range has printed its warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XRangeWarning)
        return compare_laws(curves, w, background=args.background,
                            quasiparticle=args.quasiparticle, gap=gap,
                            saturation=args.saturation, tmin=args.tmin, tmax=args.tmax,
                            error_model=args.error_model,
                            critical_power_law=args.critical_power_law)


def _load_enough(args: argparse.Namespace, gap, loaded: list | None = None) -> tuple[list, list]:
    """:func:`_load`, then :func:`_enough_temperatures` (the joint loss + shift fit's loader:
    it fitted repeated rows without the check; helper-187); the tables also into ``loaded``."""
    tables, curves = _load(args)
    if loaded is not None:
        loaded[:] = tables
    _enough_temperatures(args, gap, curves)
    return tables, curves


def _enough_temperatures(args: argparse.Namespace, gap, curves: list) -> None:
    """Refuse loss tables with no more distinct (curve, temperature) points in the window than
    the family law fit has parameters, before any fit: rows repeated at one or two temperatures
    passed the fit's count of rows, and the command wrote a scatter, AIC values and "not
    determined" for every parameter, while the same number of distinct rows was refused
    (helper-184). Repeats are legitimate points where the temperatures alone leave enough."""
    from manybody.laws.fit import parameter_names

    names = parameter_names("family", len(curves), background=args.background,
                            quasiparticle=args.quasiparticle, gap=gap,
                            saturation=args.saturation,
                            critical_power_law=args.critical_power_law)
    distinct, rows = 0, 0
    own = int(not args.saturation) + int(args.background)  # a curve's amplitude, background
    for curve in curves:
        keep = in_window(curve.temperature, args.tmin, args.tmax)
        here = np.unique(curve.temperature[keep]).size
        if len(curves) > 1 and int(keep.sum()) > here and 0 < here < own:  # one curve's repeats
            # beside good curves left every parameter "not determined" (helper-187); a single
            # curve is refused below with the count of its distinct temperatures
            raise ValueError(f"curve {curve.label!r} has {int(keep.sum())} rows at {here} "
                             f"distinct temperature(s) in the window for its {own} own "
                             "parameters (amplitude, background): rows repeated at one "
                             "temperature add no temperature dependence; leave the curve out "
                             "or give it more temperatures")
        distinct += here
        rows += int(keep.sum())
    if rows > distinct and distinct <= len(names):
        temperatures = np.unique(np.concatenate([c.temperature for c in curves]))
        shown = ", ".join(f"{t:g}" for t in temperatures[:4]) + (" ..." if temperatures.size > 4
                                                                 else "")
        what = "temperature(s)" if len(curves) == 1 else "(curve, temperature) point(s)"
        raise ValueError(f"need more distinct temperatures than parameters: {rows} rows at "
                         f"{distinct} distinct {what} ({shown} K) in the "
                         f"window for the {len(names)} parameters of the family law fit "
                         f"({', '.join(names)}); rows repeated at one temperature add no "
                         "temperature dependence: add temperatures, or widen --tmin/--tmax")


def _enough_sweeps(args: argparse.Namespace, gap, sweeps: list) -> None:
    """Refuse, before any sweep is fitted, fewer sweeps in the window than the family law fit
    has parameters; three sweeps of 1e6 points were fitted for 139 s before the law fit said so
    (a break test, session 49). Counted with the fewest curves the fit can end with (one, two
    with saturation), since a power whose every sweep is flagged drops out with its parameters
    (counting one curve per power refused sweeps the fit accepts; a second break test)."""
    from manybody.laws.fit import parameter_names

    names = parameter_names("family", 2 if args.saturation else 1,
                            background=args.background, quasiparticle=args.quasiparticle,
                            gap=gap, saturation=args.saturation,
                            critical_power_law=args.critical_power_law)
    if len(sweeps) <= len(names):
        raise ValueError(f"need more points than parameters: {len(sweeps)} sweep(s) in the "
                         f"window for the {len(names)} parameters of the family law fit "
                         f"({', '.join(names)}); refused before fitting the sweeps: add sweeps "
                         "(temperatures), or widen --tmin/--tmax")
    distinct = len({(round(t, 12), power) for t, power in sweeps})
    if distinct <= len(names):  # repeats at one temperature (helper-184, as loss tables)
        raise ValueError(f"need more distinct temperatures than parameters: {len(sweeps)} "
                         f"sweeps at {distinct} distinct (temperature, power) point(s) in the "
                         f"window for the {len(names)} parameters of the family law fit "
                         f"({', '.join(names)}); refused before fitting the sweeps: add sweeps at "
                         "other temperatures, or widen --tmin/--tmax")


def _run_sweeps(args: argparse.Namespace, compare_laws) -> int:
    """``fit-data --sweeps``: fit the sweeps (:mod:`manybody.cli.fit_sweeps`), then 1/Qi(T)."""
    frequency_option(args)
    gap = _gap(args)
    out = out_dir(args, OUTPUTS + fit_sweeps.SWEEP_OUTPUTS)
    check_window(args)
    created = make_out(out)
    try:
        # nothing is written before the law fit has succeeded (a one-sweep run refused by the
        # law fit left the sweep step's three files: session 25)
        step, tables, curves, frequency = fit_sweeps.prepare_sweeps(
            args, out, points_check=lambda sweeps: _enough_sweeps(args, gap, sweeps))
        args.frequency = frequency
        w = parse_frequency(frequency)
        check_x_range(curves, w, frequency, args.tmin, args.tmax)
        cmp = _compare(compare_laws, args, curves, w, gap)
    except ValueError as exc:
        remove_empty(created)
        raise ValueError(cli_message(str(exc))) from None
    table = format_table(cmp, _error_source(tables))
    print("\n" + table, flush=True)
    power = None
    if args.simulate:
        power = _simulate(cmp, args)
        table += "\n" + format_power(power)
        print(format_power(power))
    record = _record(args, w, gap, tables, cmp, power,
                     unwritten={str(out / "resonator_fits.csv"): step.csv_text.encode()})
    record["options"]["sweeps"] = fit_sweeps.sweep_options(args)
    record["sweep_inputs"] = fit_sweeps.sweep_inputs(args)
    text = jsonio.dumps(record, indent=1)
    with output_set():  # the sweep step's files and the fit's replace an earlier run's together
        # (written 1.5 s apart, a stop between them left the new resonator table beside the old
        # fit; a break test, session 47)
        sweep_written = fit_sweeps.write_step(step, out)[1]
        written = sweep_written + plot_comparison(cmp, out / "fit_data", "1/Q")
        atomic_write(out / "fit_results.json", lambda f: f.write(text.encode()))
        atomic_write(out / "fit_table.txt", lambda f: f.write((table + "\n").encode()))
    written += [out / "fit_results.json", out / "fit_table.txt"]
    report_written(out, written)
    return 0
