"""Systematic spread of the joint loss + frequency-shift fit of the Nb CPW resonator (issue 19).

For each loss file (drive power; the shift shares its amplitude), and for all five files with the
saturation model (one unsaturated amplitude, shared by the shift), each upper temperature limit
and with and without the activated (quasiparticle) term, fits tanh(x/2), 1 - e^-x and the family to
the loss alone, the shift alone and jointly (:func:`manybody.laws.joint.compare_loss_shift`) and
records the TLS index with its error, AIC(generic) - AIC(tls), the preferred law and the ratio of
the amplitudes F delta0 from the shift alone and from the loss alone (TLS law; 1 if both come from
the same resonant spectrum).

Output: ``<out>/systematics.json`` (with provenance) and ``<out>/systematics.md`` (the table,
also printed).

Usage::

    python scripts/nb_loss_shift_systematics.py [--out results/data_fit/nb_joint]
        [--powers 160,140,120,100,80] [--tmax 0.6,0.8,1.0,1.2]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import warnings
from pathlib import Path

from manybody.cli.fit_data import temperature_argument
from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.laws.inputs import ShiftCurve, window_mask
from manybody.laws.joint import MODES, compare_loss_shift
from manybody.measured.tables import curves_from_table, read_loss_table
from manybody.measured.velocity import read_velocity_table
from manybody.runs.results import checked_output_option
from manybody.support import jsonio
from manybody.support.files import atomic_write_text
from manybody.support.provenance import command_line, environment

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "resonator_nb_cpw"
FREQUENCY = "5.61989GHz"


def _tmaxes(text: str) -> list[float]:
    """An argparse ``type`` for --tmax: comma-separated upper temperature limits, each as
    fit-data's --tmax takes it (K, or with its unit: 800mK). ``-1`` and ``abc`` ended in
    tracebacks (bt203 F5); a bare 100 was told to write 100mK, which this option refused
    (note_s59): the two options now share one parser."""
    try:
        limits = [temperature_argument(t) for t in text.split(",")]
    except argparse.ArgumentTypeError as exc:
        where = f" in {text!r}" if "," in text else ""
        raise argparse.ArgumentTypeError(f"{exc}{where} (comma-separated upper temperature "
                                         "limits)") from None
    repeated = sorted({t for t in limits if limits.count(t) > 1})
    if repeated:  # each limit is one row of the table (note_s60: not caught)
        raise argparse.ArgumentTypeError(
            f"{', '.join(f'{t:g} K' for t in repeated)} given twice in {text!r}: give each upper "
            "temperature limit once")
    return limits


def _check_windows(parser: argparse.ArgumentParser, tmaxes: list[float], loaded: dict,
                   shift: ShiftCurve) -> None:
    """Every --tmax leaves points of every loss table and of the shift (the window rule of the
    fits, :func:`manybody.laws.inputs.window_mask`), before any fit: a limit below the data
    ended the run after the fits of the limits before it (note_s60)."""
    for tmax in tmaxes:
        for curve in [c for curves in loaded.values() for c in curves] + [shift]:
            try:
                window_mask(curve.temperature, None, tmax, curve.label)
            except ValueError as exc:
                parser.error(f"argument --tmax: {tmax:g} K: {exc}")


def _available_powers() -> list[str]:
    """The powers that have a loss table, qint_<P>dBm.csv in DATA, in increasing order."""
    found = [f.name[len("qint_"):-len("dBm.csv")] for f in DATA.glob("qint_*dBm.csv")]
    return sorted(found, key=lambda p: (float(p) if p.replace(".", "", 1).isdigit() else math.inf, p))


def _powers(text: str) -> list[str]:
    """An argparse ``type`` for --powers: comma-separated powers that each have a loss table
    (``--powers 99`` ended in a FileNotFoundError traceback; bt203 F5)."""
    powers = [p.strip() for p in text.split(",")]
    missing = [p for p in powers if not p or not (DATA / f"qint_{p}dBm.csv").is_file()]
    if missing:
        have = ", ".join(_available_powers()) or "none"
        raise argparse.ArgumentTypeError(
            f"no loss table qint_<P>dBm.csv in {DATA.relative_to(ROOT)}/ for "
            f"{', '.join(repr(p) for p in missing)} (have {have}), got {text!r}")
    return powers


def _ratio(cmp) -> tuple[float, float]:
    """F delta0 from the shift alone over that from the loss alone (TLS law); NaN when either fit
    cannot decide or is unphysical."""
    loss, shift = cmp.fits["loss"]["tls"].fit, cmp.fits["shift"]["tls"].fit
    if any((*f.indeterminate, *f.unphysical) for f in (loss, shift)):
        return math.nan, math.nan
    return cmp.kramers_kronig.ratios["tls"]  # the ratio the joint verdict is checked with


def main(argv: list[str] | None = None) -> int:
    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "results" / "data_fit" / "nb_joint"),
                        help="output directory (default: results/data_fit/nb_joint)")
    parser.add_argument("--powers", type=_powers, default="160,140,120,100,80",
                        help="file powers (dBm, the numbers in qint_<P>dBm.csv)")
    parser.add_argument("--no-saturation", dest="saturation", action="store_false",
                        help="leave out the joint fit of all files with the saturation model")
    parser.add_argument("--tmax", type=_tmaxes, default="0.6,0.8,1.0,1.2",
                        help="upper temperature limits (K, or with the unit: 800mK) without the "
                             "activated term; the activated term is fitted over 0.1-1.7 K and at "
                             "the largest tmax")
    args = parser.parse_args(argv)
    if args.saturation and len(args.powers) < 2:  # the all-powers row after every other fit
        parser.error(f"argument --powers: the all-powers saturation row needs two or more "
                     f"powers, got {','.join(args.powers)}; give more or --no-saturation")
    if getattr(args, "out", None) is not None:  # before any work (session 31)
        checked_output_option(parser, "--out", args.out, directory=True)
    st = read_velocity_table(DATA / "freq_shift.csv")
    shift = ShiftCurve(st.temperature, st.shift, None, st.label)
    tmaxes = args.tmax
    choices = [(t, None) for t in tmaxes] + [(max(tmaxes), "exp"), (None, "exp")]
    rows = []
    powers = args.powers
    # the power of a file is the one its name gives (see data/README.md)
    loaded = {p: [dataclasses.replace(c, power=-float(p), power_unit="dBm", label=f"-{p} dBm")
                  for c in curves_from_table(read_loss_table(DATA / f"qint_{p}dBm.csv"))]
              for p in powers}
    _check_windows(parser, tmaxes, loaded, shift)
    sets = [([p], False) for p in powers] + ([(powers, True)] if args.saturation else [])
    for files, saturation in sets:
        curves = [c for p in files for c in loaded[p]]
        for tmax, qp in choices:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cmp = compare_loss_shift(curves, shift, FREQUENCY, tmax=tmax, quasiparticle=qp,
                                         saturation=saturation)
            ratio, ratio_err = _ratio(cmp)
            name = "all, saturation" if saturation else f"qint_{files[0]}dBm"
            row = {"file": name, "tmax": tmax, "quasiparticle": qp,
                   "amplitude_ratio_shift_over_loss": ratio, "amplitude_ratio_error": ratio_err}
            fields = cmp.verdict_fields()
            row.update({m: fields[m] for m in MODES})
            rows.append(row)
    lines = ["| file | tmax (K) | qp | loss: a, dAIC | shift: a, dAIC | joint: a, dAIC, preferred "
             "| F delta0 shift/loss (TLS) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = [f"{r[m]['index']:.2f} +- {r[m]['index_error']:.2f}, {r[m]['delta_aic']:+.1f}"
                 for m in MODES]
        lines.append(f"| {r['file']} | {r['tmax'] or 1.7:g} | {r['quasiparticle'] or '-'} | "
                     f"{cells[0]} | {cells[1]} | {cells[2]}, {r['joint']['preferred'] or 'none'} "
                     f"| {r['amplitude_ratio_shift_over_loss']:.2f} +- "
                     f"{r['amplitude_ratio_error']:.2f} |")
    table = "\n".join(lines)
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record = {"provenance": {**environment(), "command": command_line("python")},
              "frequency": FREQUENCY, "shift_file": str(DATA / "freq_shift.csv"),
              "notes": "a: TLS index of the family fit (1 tanh, 0 1 - e^-x); dAIC = "
                       "AIC(generic) - AIC(tls); errors of the loss and shift estimated from "
                       "the residuals (relative for the loss, absolute for the shift)",
              "rows": rows}
    atomic_write_text(out / "systematics.json", jsonio.dumps(record, indent=1))
    atomic_write_text(out / "systematics.md", table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
