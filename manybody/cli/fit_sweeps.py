"""``manybody fit-data --sweeps``: raw S21 sweeps -> Qi/f0 table -> the loss tables fit-data fits.

Fits every sweep (:mod:`manybody.measured.resonance`), prints one line per sweep, writes into
``--out``:

* ``resonator_fits.csv``: file, temperature, power, f0, Qi, Qc (diameter-corrected and |Qc|),
  phi, Ql with errors, cable delay, the baseline's slope with its error, misfit, the line-shape
  check (``Qi_window_shift``: the relative change of Qi refitted on half the span, with its
  statistical error; a significant change is warned about once for the run), conjugated
  (1 when conj(S21) was fitted, ``--conjugate``), flag and reason, one row per sweep;
* ``resonance_fits.png`` / ``.pdf``: a few representative circles and |S21| with the model;

and hands the unflagged rows to fit-data as one loss table (1/Qi with errors), so the law fits,
figure and JSON are those of a Qi table. Without ``--frequency`` the measurement frequency is the
median fitted f0. With ``--joint`` the same sweep step (:func:`fit_and_write`) feeds the joint
loss + shift fit instead (:mod:`manybody.cli.fit_loss_shift`).

The step checks every option, index entry and sweep, fits every sweep and draws the figure before
it writes anything (:func:`fit_step`), then writes its files together (:func:`write_step`:
temporary files first, then one rename each), so a refused or failed sweep step leaves no file.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from manybody.cli.errors import named
from manybody.cli.parser import option_given
from manybody.cli.x_range import check_x_range
from manybody.laws.inputs import parse_frequency
from manybody.measured.resonance import BACKGROUNDS, MAX_MISFIT
from manybody.measured.resonance_figures import render_resonance_fits, representative
from manybody.measured.resonator_table import (
    NAME_PATTERN,
    check_one_resonator,
    compile_name_pattern,
    fit_sweeps,
    leave_out_non_sweeps,
    loss_table,
    read_sweep_index,
    resonator_csv,
    sweep_files,
)
from manybody.measured.sweeps import FREQUENCY_UNITS, LAYOUTS, TOUCHSTONE_SUFFIX, read_sweep
from manybody.measured.tables import curves_from_table
from manybody.support import validate as v
from manybody.support.files import atomic_write_all
from manybody.units import KELVIN_PER_GHZ

#: Largest relative difference taken between --frequency and the sweeps' median fitted f0.
FREQUENCY_TOLERANCE = 0.01
#: Files the sweep step writes into --out.
SWEEP_OUTPUTS = ("resonator_fits.csv", "resonance_fits.png", "resonance_fits.pdf")
#: The text files fit-data writes (every mode's table), which a sweeps folder's listing would
#: take for sweeps (tests/test_input_faults_s41.py checks it against each mode's outputs).
TEXT_OUTPUTS = ("resonator_fits.csv", "fit_table.txt", "loss_shift_table.txt",
                "velocity_table.txt", "saturation_table.txt")


def made_by_sweeps(path: Path) -> bool:
    """Whether the results JSON ``path`` (``fit_results.json``, ``loss_shift_results.json``) was
    written by a ``--sweeps`` run: its options name the sweeps. False where there is none."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return False
    options = record.get("options") if isinstance(record, dict) else None
    return bool(isinstance(options, dict) and options.get("sweeps"))


def drop_earlier_step(out: Path) -> list[str]:
    """Remove the sweep step's files of an earlier ``--sweeps`` run from ``out``, once a run from
    loss tables (or a shift table) has replaced, with ``--overwrite``, the law fit they fed (the
    caller checks with :func:`made_by_sweeps` that the replaced results came from the sweeps and
    that no other results in ``out`` do): left beside the new results they read as part of them
    (session 25). Returns the names removed."""
    removed = []
    for name in SWEEP_OUTPUTS:
        path = out / name
        if path.is_file():
            path.unlink()
            removed.append(name)
    if removed:
        print(f"removed the earlier --sweeps run's {', '.join(removed)} (they fed the results "
              "this run replaced)")
    return removed


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``--sweeps`` options to the fit-data parser."""
    group = parser.add_argument_group("raw S21 sweeps (instead of loss tables)")
    group.add_argument("--sweeps", default=None, metavar="FOLDER_OR_GLOB", type=v.cli_path,
                       help="fit every S21 sweep of a folder or glob (quote it: "
                            "'data/*.csv'), then fit 1/Qi(T) as a loss table")
    group.add_argument("--sweep-layout", choices=LAYOUTS, default="db-deg",
                       help="columns of CSV sweeps after the frequency (default db-deg: |S21| in "
                            "dB, phase in degrees); Touchstone .s2p files state their own")
    group.add_argument("--sweep-frequency-unit", choices=tuple(FREQUENCY_UNITS), default=None,
                       help="unit of the frequency column of CSV sweeps (default: the unit its "
                            "header names, e.g. 'Frequency (GHz)', else Hz)")
    group.add_argument("--sweep-pattern", default=NAME_PATTERN,
                       help="regex for temperature and power in file names: groups (?P<mK>..) "
                            "or (?P<K>..), optional (?P<dBm>..) (default matches "
                            "s21_7.7182GHz_-20dB_030.0mK.csv)")
    group.add_argument("--sweep-index", default=None, metavar="CSV", type=v.cli_path,
                       help="index file with columns file, temperature_K (or temperature_mK), "
                            "power_dBm, instead of parsing file names")
    group.add_argument("--sweep-background", choices=BACKGROUNDS, default="slope",
                       help="baseline of the notch fit: its amplitude with a linear slope across "
                            "the window (default: a tilted baseline biased f0 and Qi otherwise) "
                            "or constant (Probst et al. 2015)")
    group.add_argument("--conjugate", action="store_true",
                       help="fit conj(S21): for sweeps whose phase runs the other way (an "
                            "e^{+i omega t} convention or an inverted Q channel; a flagged "
                            "sweep's reason says when S21 looks conjugated)")
    group.add_argument("--max-misfit", type=v.cli_real(low=1.0, low_open=True),
                       default=MAX_MISFIT,
                       help="flag sweeps whose mean squared residual exceeds this many times "
                            f"the noise power (default {MAX_MISFIT:g})")


#: (option, attribute, default) of the options that act on raw sweeps only.
SWEEP_ONLY = (("--sweep-layout", "sweep_layout", "db-deg"),
              ("--sweep-frequency-unit", "sweep_frequency_unit", None),
              ("--sweep-pattern", "sweep_pattern", NAME_PATTERN),
              ("--sweep-index", "sweep_index", None),
              ("--sweep-background", "sweep_background", "slope"),
              ("--conjugate", "conjugate", False),
              ("--max-misfit", "max_misfit", MAX_MISFIT))


def check_options(args: argparse.Namespace) -> None:
    """Refuse loss-table options together with --sweeps (and files beside --sweeps), and the
    sweep options without --sweeps."""
    if args.sweeps is None:
        # --conjugate, --sweep-index, ... beside loss tables were passed over with exit 0: a
        # user who gave --sweep-index believed the temperatures came from it (helper-175 F2)
        given = [name for name, attr, default in SWEEP_ONLY if option_given(args, attr, default)]
        if given:
            raise ValueError(f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to "
                             "raw S21 sweeps only: add --sweeps FOLDER_OR_GLOB, or leave "
                             f"{'it' if len(given) == 1 else 'them'} out")
        return
    if args.sweep_index is not None and option_given(args, "sweep_pattern", NAME_PATTERN):
        # every sweep must be in the index, so the pattern read nothing (helper-177)
        raise ValueError("--sweep-pattern and --sweep-index both give the sweeps' temperatures "
                         "and powers (the pattern from the file names, the index from its rows; "
                         "with an index the pattern is unused): give one")
    if args.files:
        if Path(args.sweeps).is_file():
            raise ValueError(
                f"--sweeps got the file {args.sweeps!r} and {len(args.files)} more file(s) as "
                "loss tables: the shell expanded an unquoted glob; quote it (--sweeps "
                f"'{Path(args.sweeps).parent / ('*' + Path(args.sweeps).suffix)}') or give the "
                "folder; give either loss tables (FILE ...) or --sweeps, not both")
        raise ValueError("give either loss tables (FILE ...) or --sweeps, not both")
    clash = [name for name, value in (("--velocity", args.velocity),
                                      ("--loss-column", args.loss_column),
                                      ("--temperature-column", args.temperature_column),
                                      ("--power-column", args.power_column),
                                      ("--powers", args.powers),
                                      ("--error-column", args.error_column),
                                      # every sweep fit gives Qi with its error (helper-185)
                                      ("--error-model", option_given(args, "error_model",
                                                                     "relative"))) if value]
    if clash:
        raise ValueError(f"{named(clash, 'applies', 'apply')} to loss tables, not to --sweeps")
    if getattr(args, "joint", False) and getattr(args, "shift_column", None) is not None:
        # the joint fit's shift is the sweeps' own f0(T): the column named nothing (helper-177)
        raise ValueError("--shift-column names the column of a --shift or --velocity table; "
                         "with --sweeps --joint the shift is the sweeps' own f0(T): leave it out")
    _refuse_out_among_sweeps(args.sweeps, args.out)


def _refuse_out_among_sweeps(sweeps: str, out: str) -> None:
    """Refuse an ``--out`` that is the folder of the sweeps (the folder given, or the folder of
    a file the glob matches): the results written there (``resonator_fits.csv``,
    ``fit_table.txt``) are read as sweeps by the next run, which then failed on them (a tester,
    session 40). A folder below the sweeps' is fine (the folder is not searched below)."""
    target = Path(out).resolve()
    given = Path(sweeps)
    folders = ({given.resolve()} if given.is_dir() else
               {Path(f).resolve().parent for f in glob.glob(str(sweeps)) if Path(f).is_file()})
    if target in folders:
        raise ValueError(f"--out {out!r} is the folder of the sweeps (--sweeps {sweeps!r}): the "
                         "results written there (resonator_fits.csv, fit_table.txt, ...) would "
                         "be read as sweeps by the next run; give another --out (e.g. "
                         f"'{Path(out) / 'fit_data'}' or the default ./fit_data), never the data "
                         "folder")


@dataclass(frozen=True)
class SweepStep:
    """The sweep step's results before anything is written (see :func:`fit_step`).

    Attributes
    ----------
    results : list of SweepResult
        One per sweep, sorted by power and temperature.
    csv_text : str
        The content of ``resonator_fits.csv``.
    figure : dict
        Suffix -> bytes of ``resonance_fits.png`` / ``.pdf``.
    """

    results: list
    csv_text: str
    figure: dict


def _files(args: argparse.Namespace) -> list[str]:
    """The sweep files of --sweeps, without the --sweep-index file if it lies among them and
    without the text files fit-data writes (``TEXT_OUTPUTS``, named in a note). Listed once per
    run (kept on ``args``): the step, the data set's label and the checksums each asked, and
    the "left out ... .xlsx" warning was printed three times (helper-175 F4)."""
    key = (args.sweeps, args.sweep_index)
    cached = vars(args).get("_sweep_files")
    if cached is not None and cached[0] == key:
        return list(cached[1])
    files = _list_files(args)
    vars(args)["_sweep_files"] = (key, list(files))
    return files


def _list_files(args: argparse.Namespace) -> list[str]:
    """:func:`_files` without the cache."""
    files = sweep_files(args.sweeps)
    own = [f for f in files if Path(f).name in TEXT_OUTPUTS]
    if own:  # an earlier run's outputs in the data folder were read as sweeps ("file name
        # 'fit_table.txt' does not match the name pattern"; session 41)
        files = [f for f in files if f not in own]
        print(f"note: left out {', '.join(Path(f).name for f in own)} among --sweeps "
              f"{args.sweeps!r}: manybody fit-data writes them, they are no sweeps (move an "
              "earlier run's outputs out of the data folder)", file=sys.stderr)
    if args.sweep_index:
        own = Path(args.sweep_index).resolve()
        files = [f for f in files if Path(f).resolve() != own]
    if files:  # a lab note or a small table beside the sweeps, named as left out (bt219 F5)
        index = None
        if args.sweep_index:
            try:
                index = read_sweep_index(args.sweep_index)
            except (OSError, ValueError):
                index = None  # refused where the index is read
        if index is not None or not args.sweep_index:
            files = leave_out_non_sweeps(files, args.sweep_pattern, index)
    if not files:
        besides = [what for what, there in (("the --sweep-index file", args.sweep_index),
                                            ("fit-data's outputs", own)) if there]
        raise ValueError(f"--sweeps {args.sweeps!r}: no sweep files besides "
                         f"{' and '.join(besides)}")
    return files


def fit_step(args: argparse.Namespace, points_check=None) -> SweepStep:
    """Check the options, read the index and every sweep, fit them, print one line per sweep and
    draw the circle figure, without writing a file. ``points_check`` (see
    :func:`manybody.measured.resonator_table.fit_sweeps`) refuses the sweeps in the window before
    any is fitted.

    Raises
    ------
    ValueError
        A bad option, index or sweep (one line, naming it), before any fit.
    """
    compile_name_pattern(args.sweep_pattern)
    files = _files(args)
    text_only = [name for name, attr, default in SWEEP_ONLY[:2]
                 if option_given(args, attr, default)]
    if text_only and all(TOUCHSTONE_SUFFIX.match(Path(f).suffix) for f in files):
        # a Touchstone file states its own format and unit: the option changed nothing
        raise ValueError(f"{named(text_only, 'describes', 'describe')} delimited-text sweeps; "
                         f"the sweeps of --sweeps {args.sweeps!r} are all Touchstone files, which state "
                         "their own format and frequency unit: leave it out")
    index = read_sweep_index(args.sweep_index) if args.sweep_index else None
    results = fit_sweeps(files, layout=args.sweep_layout,
                         frequency_unit=args.sweep_frequency_unit, pattern=args.sweep_pattern,
                         index=index, max_misfit=args.max_misfit,
                         window=(getattr(args, "tmin", None), getattr(args, "tmax", None)),
                         repeats="refuse" if getattr(args, "joint", False) else "warn",
                         saturation=bool(getattr(args, "saturation", False)),
                         background=args.sweep_background,
                         conjugate=bool(getattr(args, "conjugate", False)),
                         points_check=points_check)
    print(f"{'file':<40} {'T (K)':>7} {'P':>6} {'f0 (GHz)':>13} {'Qi':>17} {'Qc':>15}  flag")
    for r in results:
        x = r.fit
        power = "" if r.power is None else f"{r.power:g}"
        print(f"{Path(r.file).name[:40]:<40} {r.temperature:>7.4g} {power:>6} "
              f"{x.f0 / 1e9:>13.9g} {x.qi:>9.5g}±{x.qi_err:<7.2g} {x.qc:>8.5g}±{x.qc_err:<6.2g}"
              f"  {x.reason if x.flag else 'ok'}")
    flagged = [r for r in results if r.fit.flag]
    if flagged:
        print(f"manybody fit-data: warning: {len(flagged)} of {len(results)} sweep(s) flagged "
              "and left out of the loss fit (reasons in the flag column above)", file=sys.stderr)
    items = []
    for i in representative(len(results)):
        r = results[i]
        sweep = read_sweep(r.file, args.sweep_layout, frequency_unit=args.sweep_frequency_unit)
        power = "" if r.power is None else f", {r.power:g} {r.power_unit}"
        items.append((sweep, r.fit, f"{Path(r.file).name}\nT = {1e3 * r.temperature:.4g} mK"
                                    f"{power}"))
    return SweepStep(results, resonator_csv(results), render_resonance_fits(items))


def write_step(step: SweepStep, out: Path) -> tuple[Path, list[Path]]:
    """Write ``resonator_fits.csv`` and ``resonance_fits.png``/``.pdf`` into ``out`` together
    (:func:`manybody.support.files.atomic_write_all`); returns the CSV's path and the files."""
    contents = {out / "resonator_fits.csv": step.csv_text.encode()}
    contents.update({(out / "resonance_fits").with_suffix(suffix): data
                     for suffix, data in step.figure.items()})
    written = atomic_write_all(contents)
    return written[0], written


def fit_and_write(args: argparse.Namespace, out: Path) -> tuple[list, Path, list[Path]]:
    """Fit the sweeps (:func:`fit_step`), then write the table and the circle figure
    (:func:`write_step`).

    Returns
    -------
    (results, csv_path, written)
        The :class:`manybody.measured.resonator_table.SweepResult` list, the path of
        ``resonator_fits.csv`` and the files written.
    """
    step = fit_step(args)
    csv_path, written = write_step(step, out)
    return step.results, csv_path, written


def sweep_frequency(args: argparse.Namespace, results: list) -> str:
    """The ``--frequency`` given, or the median fitted f0 of the unflagged sweeps (printed).

    Raises ValueError when the unflagged sweeps in the temperature window look like two
    resonators (:func:`manybody.measured.resonator_table.check_one_resonator`).
    """
    check_one_resonator(results, (getattr(args, "tmin", None), getattr(args, "tmax", None)))
    good = [r.fit.f0 for r in results if not r.fit.flag]
    if args.frequency is not None:
        # the sweeps' own resonance against the frequency given: a sweep file in kHz read as Hz
        # fitted f0 = 7.7 MHz beside --frequency 7.7GHz, and the law fits ran on (a reviewer,
        # session 27)
        # a --frequency 8 % off moved the TLS index from 1 to 1.46 ("beyond TLS") and 2x off
        # to "neither law", unnoticed (session 33): f0 is fitted to ppm, x = h f / k_B T moves
        # with the frequency, so more than FREQUENCY_TOLERANCE apart is refused
        given = parse_frequency(args.frequency) / KELVIN_PER_GHZ * 1e9  # Hz
        fitted = float(np.median(good)) if good else math.nan
        if good and not abs(given / fitted - 1.0) <= FREQUENCY_TOLERANCE:
            unit = (" check the sweeps' frequency unit (their header, or --sweep-frequency-unit) "
                    "and --frequency;" if not 0.5 < fitted / given < 2.0 else "")
            raise ValueError(
                f"the sweeps resonate at {fitted / 1e9:.9g} GHz (median fitted f0), but "
                f"--frequency is {args.frequency}, {100 * abs(given / fitted - 1.0):.3g} % away "
                f"(at most {100 * FREQUENCY_TOLERANCE:g} % is taken: x = h f / k_B T and the law "
                f"fits move with it):{unit} leave out --frequency to use the fitted f0")
        return args.frequency
    if not good:
        raise ValueError(f"every sweep's fit is flagged ({len(results)} sweeps): no frequency; "
                         "reasons in the flag column above")
    frequency = f"{float(np.median(good)) / 1e9:.9g}GHz"
    print(f"frequency for the law fits: {frequency} (median fitted f0)")
    return frequency


def sweep_label(args: argparse.Namespace) -> str:
    """Name of the data set: the folder of the first sweep."""
    return Path(_files(args)[0]).parent.name or "sweeps"


def sweep_options(args: argparse.Namespace) -> dict:
    """The sweep options, for the results JSON."""
    return {"sweeps": args.sweeps, "layout": args.sweep_layout,
            "frequency_unit": args.sweep_frequency_unit or "each file's header, else Hz",
            "pattern": args.sweep_pattern,
            "index": args.sweep_index, "max_misfit": args.max_misfit,
            "background": args.sweep_background,
            "conjugate": bool(getattr(args, "conjugate", False)),
            "method": ("resonator_tools circle fit refined by a "
                       f"{8 if args.sweep_background == 'slope' else 7}-parameter least-squares "
                       "fit (manybody.measured.resonance)")}


def sweep_inputs(args: argparse.Namespace) -> list[dict]:
    """Every sweep file with its sha256, for the results JSON."""
    return [{"source": f, "sha256": hashlib.sha256(Path(f).read_bytes()).hexdigest()}
            for f in _files(args)]


def prepare_sweeps(args: argparse.Namespace, out: Path,
                   points_check=None) -> tuple[SweepStep, list, list, str]:
    """Everything of :func:`load_sweeps` but the writing: fit the sweeps, make the loss table
    (its source ``out/resonator_fits.csv``, written by :func:`write_step`) and its curves, and
    check them against the frequency.

    Returns
    -------
    (step, tables, curves, frequency)
        The sweep step for :func:`write_step`, one LossTable (unflagged sweeps), its curves and
        the frequency for the law fits (the ``--frequency`` given, or the median fitted f0).
    """
    step = fit_step(args, points_check)
    table = loss_table(step.results, out / "resonator_fits.csv", label=sweep_label(args))
    curves = curves_from_table(table)
    given = args.frequency is not None
    frequency = sweep_frequency(args, step.results)
    _check_x_range(args, curves, frequency, given)
    return step, [table], curves, frequency


def load_sweeps(args: argparse.Namespace, out: Path) -> tuple[list, list, str, list[Path]]:
    """Fit the sweeps, make the loss table and its curves, check them against the frequency
    (:func:`prepare_sweeps`), then write the table and the circle figure into ``out``.

    Everything that can refuse the sweeps (options, index, sweeps, every fit flagged, a
    temperature range far from the frequency) does so before the first file is written.

    Returns
    -------
    (tables, curves, frequency, written)
        One LossTable (unflagged sweeps), its curves, the frequency for the law fits (the
        ``--frequency`` given, or the median fitted f0 in GHz) and the files written.
    """
    step, tables, curves, frequency = prepare_sweeps(args, out)
    _, written = write_step(step, out)
    return tables, curves, frequency, written


def _check_x_range(args: argparse.Namespace, curves: list, frequency: str, given: bool) -> None:
    """fit-data's refusal of temperatures far from the frequency (x = w/T outside [0.05, 50]),
    before the sweep step writes, naming where the frequency came from (fit-data repeats the
    check, and prints its warning, after this step)."""

    source = None if given else (f"the median fitted f0 {frequency}, as no --frequency was "
                                 "given")
    check_x_range(curves, parse_frequency(frequency), frequency, args.tmin, args.tmax,
                  source=source, quiet=True)
