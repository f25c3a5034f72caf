"""The output folder of ``manybody fit-data`` (``--out``, ``--overwrite``) and the words of its
messages, shared by every kind of fit it makes (law fits, ``--velocity``, ``--shift``/``--joint``/
``--simulated``, ``--power-sweep``): each checks ``--out`` before reading its inputs
(:func:`out_path`), refuses earlier outputs of its own kind after them (:func:`out_dir`), creates
the folder (:func:`make_out`) and removes what it created when the fit fails
(:func:`remove_empty`)."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from manybody.cli.signals import last_line
from manybody.support import paths
from manybody.support.files import remove_stale_temporaries

__all__ = ["CLI_NAMES", "RESULT_FILES", "check_out_path", "check_window", "cli_message",
           "error_column", "frequency_option", "power_column",
           "make_out", "note", "note_ignored_columns", "note_recorded_only", "out_dir", "out_path",
           "remove_empty", "rising_hint", "value_with_error"]


#: API keywords in messages of the library, as the fit-data options a CLI user can type.
CLI_NAMES = (
    ("temperature_column='NAME'", "--temperature-column NAME"),
    ("loss_column='NAME'", "--loss-column NAME"),
    ("frequency_unit='", "--sweep-frequency-unit '"),
    (", or pass temperature_unit=", " (or write the unit in the cells, e.g. '50mK')"),
    ("(error_column=, --error-column)", "(--error-column)"),
    ("(error_column=False, --error-column none)", "(--error-column none)"),
    ("saturation=True needs a drive power for every curve (power column or LossCurve.power)",
     "--saturation needs a drive power for every curve (a power column, --power-column or "
     "--powers)"),
    ("saturation=True", "--saturation"),
    ("Give errors, scatter='common', or leave the curve out", "Give errors (an error column), or "
     "leave the curve out"),  # fit-data has no --scatter (helper-159, session 51)
    ("give errors or use scatter='common' if the curves' noise is alike", "give errors (an error "
     "column)"),
    ("frequency_unit=", "--sweep-frequency-unit "),
    ("temperature_column=", "--temperature-column "),
    ("loss_column=", "--loss-column "),
    ("power_column=", "--power-column "),
    ("error_column=False", "--error-column none"),
    ("error_column=", "--error-column "),
    ("error_model=", "--error-model "),
    ("(background=False, --no-background)", "(--no-background)"),
    ("background=False", "--no-background"),
    ("quasiparticle=", "--quasiparticle "),
    ("tmin must be below tmax, got tmin=", "--tmin must be below --tmax, got --tmin "),
    (", tmax=", ", --tmax "),
    ("in the window [", "in the window --tmin/--tmax ["),
    # the velocity reader names its keyword (bt190: a Python caller was told of --frequency)
    ("given as frequency_hz (", "given by --frequency ("),
    ("either frequency_hz is wrong", "either --frequency is wrong"),
    ("the column's unit and frequency_hz", "the column's unit and --frequency"),
    ("(frequency_hz, --frequency: ", "(--frequency: "),
)


def cli_message(message: str) -> str:
    """A library message with API keywords replaced by the fit-data option names."""
    for api, cli in CLI_NAMES:
        message = message.replace(api, cli)
    return message


def with_split_hint(message: str, tables, sweeping_power: bool = False) -> str:
    """``message`` with :data:`manybody.laws.inputs.POWER_SPLIT_HINT` when it names a curve of
    one of ``tables`` (LossTables) that its power column split into several (a curve emptied by
    the window was refused without it, a tester, bt200) and does not carry the hint yet. With
    ``sweeping_power`` (--power-sweep, where curves per power are the point) only a table whose
    powers lie within 1 dB of each other (a measured power that jitters) or that has a stray
    row (a curve of one point beside curves of several) gets it: drives 10 dB apart were told
    '--power-column none', which --power-sweep refuses (a tester, bt216 F7)."""
    from manybody.laws.inputs import POWER_SPLIT_HINT  # numpy only; at the call, as the fits
    from manybody.measured.tables import curves_from_table

    def jitters(curves) -> bool:
        powers = sorted(c.power for c in curves if c.power is not None)
        sizes = {c.temperature.size == 1 for c in curves}
        return sizes == {True, False} or any(b - a < 1.0 for a, b in
                                             zip(powers, powers[1:], strict=False))

    per_table = [curves_from_table(t) for t in tables]
    split = [c.label for curves in per_table if len(curves) > 1
             and (not sweeping_power or jitters(curves)) for c in curves]
    if POWER_SPLIT_HINT in message or not any(repr(label) in message for label in split):
        return message
    return f"{message}; {POWER_SPLIT_HINT}"


#: Beyond this magnitude an information criterion (AIC, BIC, their differences) is printed in
#: %g form: a chi2 of 1e21 (errors 1e-12 of the loss) printed '3752981457059351887872.00' and
#: pushed the table's columns apart (bt219 F4).
FIXED_LIMIT = 1e6


def criterion(value: float, sign: bool = False, decimals: int = 2) -> str:
    """An AIC, a BIC or a difference of them: ``decimals`` decimals up to ``FIXED_LIMIT``,
    beyond it 4 significant digits in %g (scientific) form; ``sign``: always with its sign."""
    plus = "+" if sign else ""
    if math.isfinite(value) and abs(value) >= FIXED_LIMIT:
        return f"{value:{plus}.4g}"
    return f"{value:{plus}.{decimals}f}"


def value_with_error(value: float, error: float) -> str:
    """``1.234 +- 0.056`` (4 and 2 significant digits); the value alone when the error is 0 or
    not finite."""
    if not math.isfinite(error) or error == 0:
        return f"{value:.4g}"
    return f"{value:.4g} +- {error:.2g}"


def frequency_option(args: argparse.Namespace) -> float | None:
    """--frequency as w = h f / k_B in K (None when not given); an error names the option."""
    if args.frequency is None:
        return None
    from manybody.laws.inputs import parse_frequency  # numpy only; at the call, as the fits

    try:
        return parse_frequency(args.frequency)
    except ValueError as exc:
        raise ValueError(str(exc).replace("frequency must", "--frequency must", 1)) from None


def frequency_hertz(args: argparse.Namespace) -> float | None:
    """--frequency in Hz (None when not given): what the shift reader checks a shift in Hz
    against (a column of about -5 GHz under a shift's name is a resonance negated)."""
    kelvin = frequency_option(args)
    if kelvin is None:
        return None
    from manybody.units import KELVIN_PER_GHZ

    return kelvin / KELVIN_PER_GHZ * 1e9


def check_window(args: argparse.Namespace) -> None:
    """Refuse --tmin at or above --tmax (both K)."""
    if args.tmin is not None and args.tmax is not None and args.tmin >= args.tmax:
        raise ValueError(f"--tmin must be below --tmax, got --tmin {args.tmin} K, "
                         f"--tmax {args.tmax} K")


def power_column(args: argparse.Namespace) -> str | None | bool:
    """--power-column as the loss-table reader takes it: None (find one), False (``none``: no
    power, one curve per file) or the name."""
    if args.power_column is None:
        return None
    return False if args.power_column.strip().lower() == "none" else args.power_column


def error_column(args: argparse.Namespace) -> str | None | bool:
    """--error-column as the readers take it: None (find one), False (``none``: no errors) or
    the name."""
    if args.error_column is None:
        return None
    return False if args.error_column.strip().lower() == "none" else args.error_column


def rising_hint(reasons: str, quasiparticle: bool) -> str | None:
    """The hint after a verdict whose ``reasons`` say the loss rises with temperature (neither
    law can): most often quasiparticles, above ~T_c/10 (bt197 F1: the full-range Nb table got
    no hint); None otherwise."""
    if "loss rising with temperature" not in reasons and "loss rises with temperature" not in reasons:
        return None
    return ("hint: a loss rising with temperature is most often quasiparticles, above about "
            "T_c/10 (~0.9 K for Nb, ~0.12 K for Al): fit below it with --tmax"
            + ("" if quasiparticle else ", or add their loss with --quasiparticle"))


def note(text: str) -> None:
    """Print ``manybody fit-data: note: <text>`` on stderr: an option that changed nothing, said
    so rather than taken in silence."""
    print(f"manybody fit-data: note: {text}", file=sys.stderr)


def note_recorded_only(option: str, record: str, why: str) -> None:
    """The note of an option that is only recorded (in ``record``), ``why`` it is not used."""
    note(f"{option} is recorded in {record} only: {why}")


def note_ignored_columns(args: argparse.Namespace, tables: list) -> None:
    """Note ``--error-column none`` / ``--power-column none`` where no table (loss tables, a
    velocity or shift table) has such a column to ignore: the option changed nothing (a
    tester, bt189). A column counts as one the reader would have taken when its name reads as
    an error (the value's, not another column's: 'T_err' is never taken) or as a power."""
    from manybody.measured.headers import error_names_other, is_error_column, is_power_column

    def own(table) -> tuple[str, ...]:
        return tuple(name for name in (table.temperature_column, getattr(table, "loss_column", None),
                                       getattr(table, "shift_column", None),
                                       getattr(table, "power_column", None)) if name)

    def value_column(table) -> str:
        return getattr(table, "loss_column", None) or getattr(table, "shift_column", "")

    def columns(table, like) -> list[str]:
        return [c for c in table.columns if c not in own(table) and like(table, c)]

    def error_like(table, name: str) -> bool:
        return (is_error_column(name)
                and error_names_other(name, value_column(table), table.columns) is None)

    def power_like(table, name: str) -> bool:
        return is_power_column(name) and not is_error_column(name)

    # with --powers the power columns are not read: fit-data's own note says so
    powers_given = getattr(args, "powers", None) is not None
    for option, given, like, what in (
            ("--error-column", error_column(args), error_like, "error (uncertainty) column"),
            ("--power-column", power_column(args) if hasattr(args, "power_column")
             and not powers_given else None, power_like, "power column")):
        read = [t for t in tables if like is error_like or hasattr(t, "loss_column")]
        if given is not False or not read or any(columns(t, like) for t in read):
            continue
        where = "; ".join(f"{Path(t.source).name}: {', '.join(map(repr, t.columns))}"
                          for t in read[:3]) + ("; ..." if len(read) > 3 else "")
        note(f"{option} none changed nothing: no {what} was found to ignore (columns of "
             f"{where})")


def out_path(args: argparse.Namespace) -> Path:
    """--out, refused when it cannot be a directory (a file, a link to nothing, no permission):
    checked before the inputs are read."""
    paths.refuse_standard_output("--out", args.out)
    out = paths.without_missing_detours(args.out)  # 'new/../fd' left an empty 'new' (session 36)
    check_out_path(out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {str(out)!r} exists and is not a directory")
    ancestor, _ = paths.nearest_existing(out / "x")  # out itself, or where it would be made
    reason = paths.unwritable_reason(ancestor)
    if reason is not None:
        raise ValueError(f"--out {str(out)!r}: cannot create or write the output directory: "
                         f"{reason}")
    return out


def out_dir(args: argparse.Namespace, outputs: tuple[str, ...]) -> Path:
    """--out (:func:`out_path`), refused when it holds outputs (without --overwrite): checked
    after the inputs are read, so that their errors come first (session 35)."""
    out = out_path(args)
    existing = [n for n in outputs if os.path.lexists(out / n)]  # a dangling link too
    if existing and not args.overwrite:
        raise FileExistsError(f"{', '.join(existing)} already in {str(out)!r}; pass --overwrite "
                              "to replace them")
    if out.is_dir():  # what a killed earlier fit left (only names of this command's outputs)
        for name in outputs:
            remove_stale_temporaries(out / name)
    others = [n for n in RESULT_FILES if n not in outputs and (out / n).is_file()]
    if others:  # a --power-sweep's results beside a --shift fit's, with no word (session 35)
        print(f"note: {str(out)!r} also holds {', '.join(others)} of an earlier fit of another "
              "kind; they are kept beside this fit's results", file=sys.stderr)
    return out


#: The results record of each kind of fit (law fit, --velocity, --shift/--joint/--simulated,
#: --power-sweep).
RESULT_FILES = ("fit_results.json", "velocity_results.json", "loss_shift_results.json",
                "saturation_results.json")


def make_out(out: Path) -> list[Path]:
    """Create the output directory up front (one-line error naming --out); the directories
    created, deepest first, so that a failed run can remove them again."""
    check_out_path(out)
    created = [d for d in (out, *out.parents) if not d.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        reason = paths.unwritable_reason(out)
        if reason is not None:
            remove_empty(created)
            raise ValueError(f"--out {str(out)!r}: {reason}")
    except OSError as exc:
        remove_empty(created)
        raise ValueError(f"--out {str(out)!r}: cannot create or write the output directory: "
                         f"{exc.strerror or exc}") from None
    return created


def check_out_path(out: Path) -> None:
    """Refuse an --out that a link to a missing directory, a file or an unsearchable directory
    stands in the way of (named as ``manybody run`` names them; support/paths.py)."""
    link = paths.dangling_link(out)
    if link is not None:
        raise ValueError(f"--out {str(out)!r}: {paths.link_description(link)}; create the "
                         "target or choose another --out")
    _, reason = paths.nearest_existing(out)
    if reason is not None:
        raise ValueError(f"--out {str(out)!r}: cannot create the output directory: {reason}")


def remove_empty(dirs: list[Path]) -> None:
    """Remove the directories ``dirs`` (deepest first) where they are still empty."""
    for d in dirs:
        try:
            d.rmdir()
        except OSError:
            pass


def report_written(out: Path, written: list[Path]) -> None:
    """The last line of a fit-data mode: the folder and the files written into it
    (:func:`manybody.cli.signals.last_line`: a stop from here on is not the command's failure)."""
    last_line(f"\nwrote into {str(out.resolve())!r}: " + ", ".join(p.name for p in written))
