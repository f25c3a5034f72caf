"""``manybody fit-data --velocity``: the maximum and the two logarithmic slopes of one table of
the sound-velocity shift delta v / v (T), or of a resonator's df/f (T) at low frequency.

The table is read by :mod:`manybody.measured.velocity`; the maximum is located first, then the
slopes on each side over stated windows (:func:`manybody.laws.velocity.fit_velocity_slopes`),
compared with the canonical TTLS ratio over the same windows
(:func:`manybody.laws.velocity.canonical_ratio`). It prints T_max, the slopes and their ratio
with errors and the windows, and writes into ``--out`` ``velocity_fit.png`` / ``velocity_fit.pdf``
(data against ln T, the fitted lines, the 2 : -1 and 1 : -1 references),
``velocity_results.json`` (the fit, the data, provenance) and ``velocity_table.txt``.
"""

from __future__ import annotations

import argparse
import hashlib
import math
from pathlib import Path

import numpy as np

from manybody.cli.errors import named
from manybody.cli.fit_outputs import (
    check_window,
    cli_message,
    error_column,
    frequency_hertz,
    frequency_option,
    make_out,
    note,
    note_ignored_columns,
    note_recorded_only,
    out_dir,
    out_path,
    remove_empty,
    report_written,
    value_with_error,
)
from manybody.cli.parser import option_given, option_typed
from manybody.cli.x_range import note_window_unused
from manybody.laws.inputs import window_mask
from manybody.laws.velocity import METHOD, VelocityFit, canonical_ratio, fit_velocity_slopes
from manybody.measured.velocity import (
    VelocityTable,
    plot_velocity_fit,
    read_velocity_table,
    refuse_repeated_temperatures,
)
from manybody.support import jsonio
from manybody.support.files import atomic_write, output_set
from manybody.support.provenance import command_line, environment
from manybody.units import FREQUENCY_SYMBOLS

__all__ = ["LOSS_OPTIONS", "VELOCITY_OPTIONS", "VELOCITY_OUTPUTS", "VELOCITY_SCHEMA",
           "format_velocity", "run_velocity"]

VELOCITY_SCHEMA = "manybody.fit-data-velocity/1"
VELOCITY_OUTPUTS = ("velocity_fit.png", "velocity_fit.pdf", "velocity_results.json",
                    "velocity_table.txt")

#: (option, attribute, default) of the options that belong to --velocity only.
VELOCITY_OPTIONS = (("--shift-column", "shift_column", None), ("--margin", "margin", 3.0),
                     ("--decades", "decades", 1.0), ("--top", "top", 1.5))
#: (option, attribute, default) of the options that belong to loss tables only.
LOSS_OPTIONS = (("--quasiparticle", "quasiparticle", None), ("--tc", "tc", None),
                 ("--gap", "gap", "free"), ("--saturation", "saturation", False),
                 ("--powers", "powers", None), ("--simulate", "simulate", 0),
                 ("--power-column", "power_column", None), ("--loss-column", "loss_column", None),
                 ("--no-background", "background", True),
                 ("--error-model", "error_model", "relative"),
                 ("--power-sweep", "power_sweep", False))


def _velocity_data(args: argparse.Namespace) -> tuple[VelocityTable, np.ndarray, np.ndarray,
                                                       np.ndarray | None]:
    """The table, and its rows in --tmin/--tmax sorted by temperature (repeats refused)."""
    if len(args.files) != 1:
        raise ValueError(f"--velocity fits one table, got {len(args.files)} files; run it once "
                         "per file")
    table = read_velocity_table(args.files[0], args.temperature_column, args.shift_column,
                                error_column=error_column(args), frequency_hz=frequency_hertz(args),
                                window=(args.tmin, args.tmax))
    # tmax 800 meant as 800 mK cut nothing (session 50); an empty window is refused there
    keep = window_mask(table.temperature, args.tmin, args.tmax, table.source)
    note_window_unused(table.temperature, args.tmin, args.tmax)
    order = np.argsort(table.temperature[keep], kind="stable")
    t = table.temperature[keep][order]
    shift = table.shift[keep][order]
    sigma = None if table.sigma is None else table.sigma[keep][order]
    refuse_repeated_temperatures(table.source, t)
    note_ignored_columns(args, [table])
    if args.frequency is not None and table.kind != "df":
        # it changed nothing, without a word (a tester, bt189); with a column in a unit of
        # frequency it is no divisor either (the fit keeps that unit): it bounds the shift, and
        # the note said "nothing to divide by it" as if it were one (a tester, bt190)
        note_recorded_only("--frequency", "velocity_results.json", f"the shift column "
                           f"{table.shift_column!r} of {Path(table.source).name} is relative "
                           f"({table.kind}); --velocity uses the frequency only to bound a shift "
                           "given in a unit of frequency (below half of it)")
    return table, t, shift, sigma


def _shift_label(table: VelocityTable) -> str:
    unit = table.units.get("shift")
    if table.kind == "df":  # a frequency, not df/f: it was 'df/f (hz)' (session 35)
        return f"df ({FREQUENCY_SYMBOLS[unit]})"
    return f"{table.kind} ({unit})" if unit else table.kind


#: A side whose points span less than this fraction of the requested decades is noted.
NARROW_WINDOW = 0.5


def _window_points(t: np.ndarray, t_max: float, margin: float, decades: float) -> tuple:
    """The points (indices) of the windows below and above T_max, by the rule of
    :func:`manybody.laws.velocity.fit_velocity_slopes`."""
    width = 10.0**decades
    return tuple(tuple(np.flatnonzero((t >= lo * (1 - 1e-12)) & (t <= hi * (1 + 1e-12))))
                 for lo, hi in ((t_max / (margin * width), t_max / margin),
                                (t_max * margin, t_max * margin * width)))


def _note_windows(args: argparse.Namespace, t: np.ndarray, fit: VelocityFit) -> None:
    """Note --decades or --margin that select the same points as their default (the windows cut
    by the data's ends: --decades 3 gave --decades 1's fit without a word), and a side whose
    points span far less than the requested decades (1.3-1.7 K of 1.28-12.8 K; bt197 F10)."""
    chosen = _window_points(t, fit.temperature_max, args.margin, args.decades)
    for option, dest, default, margin, decades in (
            ("--decades", "decades", 1.0, args.margin, 1.0),
            ("--margin", "margin", 3.0, 3.0, args.decades)):
        value = getattr(args, dest)
        if (option_given(args, dest, default) and value != default
                and _window_points(t, fit.temperature_max, margin, decades) == chosen):
            note(f"{option} {value:g} changes nothing: the windows are cut by the data's ends "
                 f"({t[0]:.4g}-{t[-1]:.4g} K) and hold the same points as {option} {default:g}")
    width, t_max = 10.0**args.decades, fit.temperature_max
    for side, window, asked in (
            ("below", fit.window_below, (t_max / (args.margin * width), t_max / args.margin)),
            ("above", fit.window_above, (t_max * args.margin, t_max * args.margin * width))):
        span = math.log10(window[1] / window[0]) if window[0] > 0 else 0.0
        if span < NARROW_WINDOW * args.decades:
            why = (f"the data end at {t[0]:.4g} K" if asked[0] < t[0] else
                   f"the data end at {t[-1]:.4g} K" if asked[1] > t[-1] else
                   "its points are that sparse")
            note(f"the window {side} T_max holds points over {span:.2g} decade(s) of the "
                 f"{args.decades:g} requested ({window[0]:.4g}-{window[1]:.4g} K of "
                 f"{asked[0]:.4g}-{asked[1]:.4g} K): {why}, so its slope is of a narrower range "
                 "than --decades says")


def format_velocity(fit: VelocityFit, table: VelocityTable, t: np.ndarray,
                    reference: float = math.nan) -> str:
    """Human-readable result of ``fit-data --velocity`` (what it prints); ``reference`` is the
    canonical ratio over the same windows (:func:`manybody.laws.velocity.canonical_ratio`).
    Compared with a bare -2, noiseless canonical data were '3.6 sigma from -2' (session 26)."""
    errors = {"given sigmas": f"from column {table.error_column!r} (absolute); chi2/dof = "
                              f"{fit.chi2_per_dof:.3g}",
              "residuals": "one scatter estimated from the residuals of the three fits",
              "residuals per window": "each window's scatter estimated from its own residuals "
                                      "(the windows' scatters are unequal)"}
    lines = [
        f"{_shift_label(table)} from {table.source} (column {table.shift_column!r}): {t.size} "
        f"points, T from {t[0]:.4g} to {t[-1]:.4g} K",
        f"errors: {errors.get(fit.error_source, fit.error_source)}",
        "",
        f"T_max        = {value_with_error(fit.temperature_max, fit.temperature_max_error)} K "
        f"({table.kind} = {fit.value_max:.4g} there)",
        f"slope below  = {value_with_error(fit.below, fit.below_error)} per e-fold of T "
        f"({fit.n_below} points, {fit.window_below[0]:.4g}-{fit.window_below[1]:.4g} K)",
        f"slope above  = {value_with_error(fit.above, fit.above_error)} per e-fold of T "
        f"({fit.n_above} points, {fit.window_above[0]:.4g}-{fit.window_above[1]:.4g} K)",
        f"ratio        = {value_with_error(fit.ratio, fit.ratio_error)} (below/above; a-SiO2 and BK7 about "
        "-1)",
    ]
    if math.isfinite(reference):
        lines.append(f"               canonical TTLS over these windows and temperatures: "
                     f"{reference:.3g} (2 : -1, i.e. -2, only for infinitely wide windows; "
                     "eps_max, Delta_max -> inf, Delta_min -> 0)")
    if fit.ratio_error > 0:
        canonical = reference if math.isfinite(reference) else -2.0
        lines.append(f"               {abs(fit.ratio - canonical) / fit.ratio_error:.2g} sigma "
                     f"from the canonical {canonical:.3g}, "
                     f"{abs(fit.ratio + 1) / fit.ratio_error:.2g} sigma from -1")
    lines += ["", f"windows: {fit.windows()}",
              f"method: {METHOD}; slopes per e-fold of T (times ln 10 = 2.303 per decade), in "
              "the units of the column"]
    return "\n".join(lines)


def _velocity_record(args: argparse.Namespace, table: VelocityTable, fit: VelocityFit,
                     t: np.ndarray, shift: np.ndarray, sigma: np.ndarray | None,
                     reference: float = math.nan) -> dict:
    """The content of velocity_results.json (schema ``VELOCITY_SCHEMA``)."""
    meta = table.metadata()
    meta["sha256"] = hashlib.sha256(Path(table.source).read_bytes()).hexdigest()
    return {
        "schema": VELOCITY_SCHEMA, "provenance": {**environment(), "command": command_line()},
        "inputs": [meta],
        "options": {"margin": args.margin, "decades": args.decades, "top": args.top,
                    "tmin": args.tmin, "tmax": args.tmax, "frequency": args.frequency,
                    "error_column": args.error_column},
        "fit": fit.to_dict(),
        "canonical_ratio": {"value": reference, "method": "laws.velocity.canonical_ratio: the "
                            "same fit on the noiseless canonical TTLS curve (eps_max, Delta_max "
                            "-> inf, Delta_min -> 0) sampled at these temperatures, its maximum "
                            "at the fitted T_max"},
        "data": {"temperature_K": t.tolist(), "shift": shift.tolist(),
                 "sigma": None if sigma is None else sigma.tolist()},
        "units": {"temperature": "K", "shift": table.units.get("shift") or "as given",
                  "slopes": "shift units per e-fold of T (d shift / d ln T)"},
    }


def run_velocity(args: argparse.Namespace) -> int:
    """``fit-data --velocity``: the maximum and the two logarithmic slopes of one table."""
    loss_only = [option_typed(args, value, name) for name, value, default in LOSS_OPTIONS
                 if option_given(args, value, default)]
    if loss_only:
        raise ValueError(f"{named(loss_only, 'applies', 'apply')} to loss tables only, not to "
                         "--velocity")
    frequency_option(args)
    check_window(args)
    out_path(args)
    try:
        table, t, shift, sigma = _velocity_data(args)
    except ValueError as exc:
        raise ValueError(cli_message(str(exc))) from None
    out = out_dir(args, VELOCITY_OUTPUTS)  # after the table: its errors first (session 35)
    if t.size < 7:  # the library's "1-d array of at least 7 values, got shape (3,)"
        window = " within --tmin/--tmax" if args.tmin is not None or args.tmax is not None else ""
        raise ValueError(f"{table.source}: {t.size} temperature(s){window}; the slope fit needs "
                         "at least 7 (the maximum and 3 on each side of it)")
    try:
        # the curve is named as read: the table may hold df or df/f (a df column's maximum was
        # said to be one of 'delta v/v'; a tester, session 52)
        fit = fit_velocity_slopes(t, shift, sigma, margin=args.margin, decades=args.decades,
                                  top=args.top, quantity=table.kind)
    except ValueError as exc:
        message = str(exc).replace("widen `top`", "raise --top").replace(
            "a smaller margin / more decades", "a smaller --margin / more --decades")
        raise ValueError(f"{table.source}: {message}") from None
    reference = canonical_ratio(t, fit.temperature_max, margin=args.margin,
                                decades=args.decades, top=args.top)
    _note_windows(args, t, fit)
    table_text = format_velocity(fit, table, t, reference)
    print(table_text, flush=True)
    created = make_out(out)
    try:
        text = jsonio.dumps(_velocity_record(args, table, fit, t, shift, sigma, reference),
                            indent=1)
        with output_set():  # the four files replace an earlier fit's together, or none does
            written = plot_velocity_fit(fit, t, shift, sigma, out, "velocity_fit",
                                        _shift_label(table))
            atomic_write(out / "velocity_results.json", lambda f: f.write(text.encode()))
            atomic_write(out / "velocity_table.txt",
                         lambda f: f.write((table_text + "\n").encode()))
    except BaseException:
        remove_empty(created)
        raise
    written += [out / "velocity_results.json", out / "velocity_table.txt"]
    report_written(out, written)
    return 0
