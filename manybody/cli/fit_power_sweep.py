"""``manybody fit-data --power-sweep``: the saturation law Q^-1(P) fitted to measured power sweeps.

The loss tables (one per drive power, as for the temperature fit) are arranged on their common
temperatures (:func:`manybody.measured.power_sweep.power_sweep`; no interpolation), and at each
temperature the loss against power is fitted with Q^-1_0 (1 + P/Pc)^-beta + Q^-1_bg: beta shared
by all temperatures, free and fixed at 1/2 (independent TLS), with the nested test between them,
and beta free per temperature (:func:`manybody.measured.power_sweep.fit_power_sweep`). Writes into
``--out``:

* ``saturation_fit.png`` / ``.pdf``: loss against power per temperature with the best-beta and
  beta = 1/2 curves and their relative residuals; beta and Pc against temperature;
* ``saturation_results.json``: fits, errors, covariances, tests, the data, provenance;
* ``saturation_table.txt``: the printed table.

Powers come from the power columns or from ``--powers`` (dBm, one per FILE in the order given,
e.g. ``--powers -100,-120``: a leading minus is read as the value, :func:`manybody.cli.app.
attach_negative_values`).
"""

from __future__ import annotations

import argparse
import hashlib
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from manybody.cli.errors import named
from manybody.cli.fit_outputs import (
    check_window,
    cli_message,
    frequency_option,
    make_out,
    note_recorded_only,
    out_dir,
    remove_empty,
    report_written,
    with_split_hint,
)
from manybody.cli.parser import option_given
from manybody.cli.x_range import check_data_window
from manybody.measured.power_sweep import (
    TEMPERATURE_TOLERANCE,
    PowerSweepFit,
    beta_determined,
    beta_summary,
    fit_power_sweep,
    power_sweep,
)
from manybody.support import jsonio
from manybody.support.files import atomic_write, output_set
from manybody.support.provenance import command_line, environment

SCHEMA = "manybody.fit-data-power-sweep/1"
OUTPUTS = ("saturation_fit.png", "saturation_fit.pdf", "saturation_results.json",
           "saturation_table.txt")
#: (option, attribute, default) of the options that do not apply to --power-sweep.
_NOT_FOR_SWEEPS = (("--velocity", "velocity", False), ("--quasiparticle", "quasiparticle", None),
                   ("--tc", "tc", None), ("--gap", "gap", "free"),
                   ("--saturation", "saturation", False), ("--simulate", "simulate", 0),
                   ("--shift-column", "shift_column", None), ("--margin", "margin", 3.0),
                   ("--decades", "decades", 1.0), ("--top", "top", 1.5))


def _fmt(value: float, error: float, ok: bool = True) -> str:
    if not ok:
        return "n.d. (on bound)"
    if not math.isfinite(error) or error == 0:
        return f"{value:.4g}"
    return f"{value:.4g} +- {error:.2g}"


def format_sweep(fit: PowerSweepFit) -> str:
    """Human-readable result (what ``fit-data --power-sweep`` prints)."""
    s = fit.sweep
    free, fixed = fit.shared.free, fit.shared.fixed
    unit = s.power_unit
    lo, hi = float(s.power.min()), float(s.power.max())
    lines = [
        f"{len(s.power)} powers ({', '.join(f'{p:g}' for p in s.power)} {unit}) at "
        f"{len(fit.fitted)} temperature(s) from {s.temperature[fit.fitted].min():.4g} to "
        f"{s.temperature[fit.fitted].max():.4g} K (temperatures common to all "
        f"{len(s.power)} powers, matched within {TEMPERATURE_TOLERANCE:.1%}; no interpolation)",
        "model: Q^-1(P) = Q^-1_0 (1 + P/Pc)^-beta" + (" + Q^-1_bg" if fit.options["background"]
                                                      else "")
        + " per temperature; errors: " + (f"{free.error_model} scatter estimated from the "
                                          "residuals (covariance scaled by the residual variance)"
                                          if free.errors_scaled else "given sigmas"),
    ]
    if s.left_out:
        lines.append("left out (not in every file): " + "; ".join(s.left_out))
    if fit.not_decreasing:
        lines.append("left out (loss does not decrease with power): "
                     + "; ".join(fit.not_decreasing))
    # without given errors the sum is of unweighted (relative) residuals, not a chi2 (whose
    # estimated scatter makes it 1): 'chi2/dof = 0.00025' read as a wonderful fit (a tester,
    # session 38); the absolute scatter is of the loss over its largest value
    # (saturation.fit_saturation_joint)

    def misfit(one) -> str:
        if not one.errors_scaled:
            return f"chi2/dof = {one.reduced_chi2:.4g}"
        rms = math.sqrt(one.reduced_chi2)
        if one.error_model == "relative":
            return (f"relative residual sum of squares/dof = {one.reduced_chi2:.4g} (relative "
                    f"rms {rms:.3g})")
        return (f"residual sum of squares/dof = {one.reduced_chi2:.4g} (rms {rms:.3g} of the "
                "largest loss)")

    lines += [
        "",
        "beta shared, free:  beta = "
        + (_fmt(free.parameters["beta"], free.errors["beta"]) if beta_determined(free) else
           f"n.d. ({free.parameters['beta']:.3g} +- {free.errors['beta']:.2g})") + "; "
        + f"{misfit(free)}",
        f"beta fixed at 1/2:  {misfit(fixed)}",
        beta_summary(fit),
        "",
        f"Pc is in {unit}; 'on bound' = Pc ran to the edge of the searched range "
        f"[{lo - 40:g}, {hi + 40:g}] {unit}: the data do not fix it (all powers above or below Pc)",
        f"{'T (K)':>7} {'Pc, shared beta':>20} {'Pc, beta = 1/2':>20} {'beta at this T':>16} "
        f"{'p(1/2)':>8}",
    ]
    pc, pc_err, ok = fit.critical_power("free")
    ph, ph_err, ok_h = fit.critical_power("fixed")
    for j, i in enumerate(fit.fitted):
        r = fit.per_temperature[j]
        if isinstance(r, str):
            own, p = "not fitted", ""
        else:
            b = r.free
            own = ((_fmt(b.parameters["beta"], b.errors["beta"]) if beta_determined(b)
                    else "n.d.")
                   + (" (Pc n.d.)" if "critical_power" in b.at_bound else ""))
            p = f"{r.p_value:.3g}"
        lines.append(f"{s.temperature[i]:>7.4g} {_fmt(pc[j], pc_err[j], ok[j]):>20} "
                     f"{_fmt(ph[j], ph_err[j], ok_h[j]):>20} {own:>16} {p:>8}")
    dofs = sorted({r.free.dof for r in fit.per_temperature if not isinstance(r, str)})
    if dofs and free.errors_scaled:
        lines.append(f"each per-temperature fit has {', '.join(map(str, dofs))} degree(s) of "
                     "freedom; its errors and p(1/2) rest on the scatter estimated from them")
    c = fit.beta_consistency
    if c.get("chi2") is not None:
        pooled = (f", errors on the scatter pooled over the per-temperature fits: F test "
                  f"with ({c['dof']}, {c['scatter_dof']}) dof" if c.get("test") == "F" else "")
        lines.append(f"per-temperature betas about the shared one: chi2 = {c['chi2']:.4g} for "
                     f"{c['dof']} dof{pooled}, p = {c['p_value']:.3g} ({c['n_temperatures']} "
                     "temperatures with beta determined)")
    return "\n".join(lines)


def plot_sweep(fit: PowerSweepFit, out: Path, loss_label: str = "1/Q") -> list[Path]:
    """Figure: loss vs power per temperature with both fits, residuals, beta(T) and Pc(T)."""
    import matplotlib  # heavy: only when a figure is drawn

    from manybody.support.style import new_figure, save_figure, style_context

    s = fit.sweep
    free, fixed = fit.shared.free, fit.shared.fixed
    with style_context():
        fig = new_figure(figsize=(10.0, 7.5), layout="constrained")
        grid = fig.add_gridspec(3, 2, height_ratios=(3, 1, 1), width_ratios=(1.35, 1))
        ax = fig.add_subplot(grid[0, 0])
        r1 = fig.add_subplot(grid[1, 0], sharex=ax)
        r2 = fig.add_subplot(grid[2, 0], sharex=ax)
        bx = fig.add_subplot(grid[0:1, 1])
        px = fig.add_subplot(grid[1:3, 1], sharex=bx)
        cmap = matplotlib.colormaps["viridis"]
        temps = s.temperature[fit.fitted]
        norm = matplotlib.colors.Normalize(temps.min(), temps.max())
        fine = np.linspace(s.power.min() - 5, s.power.max() + 5, 200)
        for j, i in enumerate(fit.fitted):
            col = cmap(norm(s.temperature[i]))
            q = s.loss[i]
            ax.plot(s.power, q, "o", color=col, ms=4)
            ax.plot(fine, free.predict(fine, j), "-", color=col, lw=1.0)
            ax.plot(fine, fixed.predict(fine, j), "--", color=col, lw=0.8)
            for f, rax in ((free, r1), (fixed, r2)):
                m = f.predict(s.power, j)
                rax.plot(s.power, 100 * (q - m) / m, "o-", color=col, ms=3, lw=0.6)
        ax.plot([], [], "k-", label=f"shared β = {free.parameters['beta']:.3f} "
                                    f"± {free.errors['beta']:.3f}")
        ax.plot([], [], "k--", label="β = 1/2 (independent TLS)")
        ax.set_yscale("log")
        ax.set_ylabel(f"loss {loss_label}")
        ax.legend(loc="upper right")
        ax.set_title(f"(a) loss against power; {beta_summary(fit).split(';')[1].strip()}",
                     fontsize=8)
        fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax,
                     label="temperature (K)")
        for rax, name in ((r1, "(b) best β"), (r2, "(c) β = 1/2")):
            rax.axhline(0, color="k", lw=0.8)
            rax.set_ylabel(f"{name}\nresid. (%)")
        r2.set_xlabel(f"drive power P ({s.power_unit})")
        _panel_beta(bx, fit)
        _panel_pc(px, fit)
        return save_figure(fig, out, "saturation_fit", bbox_inches=None)


def _panel_beta(ax, fit: PowerSweepFit) -> None:
    """(d) beta per temperature, the shared beta and 1/2."""
    s = fit.sweep
    t, b, e = [], [], []
    for j, i in enumerate(fit.fitted):
        r = fit.per_temperature[j]
        if not isinstance(r, str) and "beta" not in r.free.at_bound:
            t.append(s.temperature[i])
            b.append(r.free.parameters["beta"])
            e.append(r.free.errors["beta"])
    ax.errorbar(t, b, e, fmt="o", color="C0", label="β fitted at each T")
    beta, err = fit.shared.free.parameters["beta"], fit.shared.free.errors["beta"]
    ax.axhspan(beta - err, beta + err, color="C1", alpha=0.3, lw=0, label="shared β ± 1σ")
    ax.axhline(0.5, color="k", ls="--", lw=0.8, label="1/2")
    ax.set_ylabel("β")
    ax.set_title("(d) exponent β", fontsize=8)
    ax.legend(fontsize=7)


def _panel_pc(ax, fit: PowerSweepFit) -> None:
    """(e) Pc per temperature from the shared-beta and the beta = 1/2 fits."""
    temps = fit.sweep.temperature[fit.fitted]
    for which, fmt, label in (("free", "o", "shared β"), ("fixed", "s", "β = 1/2")):
        pc, err, ok = fit.critical_power(which)
        ax.errorbar(temps[ok], pc[ok], err[ok], fmt=fmt, ms=4, label=f"Pc, {label}")
        if (~ok).any():
            ax.plot(temps[~ok], pc[~ok], "v", mfc="none", ms=5,
                    label=f"Pc, {label}: on bound (not determined)")
    ax.set_xlabel("temperature (K)")
    ax.set_ylabel(f"critical power Pc ({fit.sweep.power_unit})")
    ax.set_title("(e) critical power", fontsize=8)
    ax.legend(fontsize=7)


def _record(args: argparse.Namespace, tables: list, fit: PowerSweepFit) -> dict:
    sources = []
    for t in tables:
        meta = t.metadata()
        meta["sha256"] = hashlib.sha256(Path(t.source).read_bytes()).hexdigest()
        sources.append(meta)
    s = fit.sweep
    return {
        "schema": SCHEMA, "provenance": {**environment(), "command": command_line()},
        "inputs": sources,
        "options": {"frequency": args.frequency, "tmin": args.tmin, "tmax": args.tmax,
                    "background": args.background, "powers": args.powers,
                    "error_model": args.error_model, "error_column": args.error_column,
                    "temperatures": f"common to all powers (relative tolerance "
                                    f"{TEMPERATURE_TOLERANCE:g}), no interpolation"},
        "fit": fit.to_dict(),
        "data": {"temperature_K": s.temperature.tolist(), "power": s.power.tolist(),
                 "power_unit": s.power_unit, "labels": list(s.labels),
                 "loss": s.loss.tolist(),
                 "sigma": None if s.sigma is None else s.sigma.tolist(),
                 "left_out": list(s.left_out)},
        "units": {"temperature": "K", "loss": "tan delta" if tables[0].is_loss_tangent
                  else "Q^-1", "critical_power": s.power_unit, "beta": "dimensionless"},
    }


def run_power_sweep(args: argparse.Namespace, load: Callable) -> int:
    """Run ``fit-data --power-sweep``; returns the exit status. ``load`` is fit-data's
    loss-table loader (args -> (tables, curves))."""
    wrong = [name for name, attr, default in _NOT_FOR_SWEEPS
             if option_given(args, attr, default)]
    if wrong:
        raise ValueError(f"{named(wrong, 'does', 'do')} not apply to --power-sweep")
    frequency_option(args)
    if args.frequency is not None:  # it changed nothing and nothing said so (helper-185)
        note_recorded_only("--frequency", "saturation_results.json", "the power sweep's "
                           "saturation law per temperature has no x = hf/k_BT")
    check_window(args)
    tables: list = []
    try:
        tables, curves = load(args)
        check_data_window(np.concatenate([c.temperature for c in curves]), args.tmax, args.tmin)
        # the tables first: their errors are not hidden behind "pass --overwrite" (session 35)
        out = out_dir(args, OUTPUTS)
        sweep = power_sweep(curves, args.tmin, args.tmax)
        fit = fit_power_sweep(sweep, background=args.background, error_model=args.error_model)
    except ValueError as exc:
        message = cli_message(with_split_hint(str(exc), tables, sweeping_power=True)).replace(
            "give the powers explicitly", "give them with --powers=P1,P2,...")
        raise ValueError(message) from None
    except RuntimeError as exc:  # scipy's curve_fit gave up
        raise ValueError(f"the saturation fit did not converge: {exc}") from None
    text = format_sweep(fit)
    print(text, flush=True)
    created = make_out(out)
    try:
        record = jsonio.dumps(_record(args, tables, fit), indent=1)
        with output_set():  # the four files replace an earlier fit's together, or none does
            written = plot_sweep(fit, out, "tan δ" if tables[0].is_loss_tangent else "1/Q")
            atomic_write(out / "saturation_results.json", lambda f: f.write(record.encode()))
            atomic_write(out / "saturation_table.txt", lambda f: f.write((text + "\n").encode()))
    except BaseException:
        remove_empty(created)
        raise
    written += [out / "saturation_results.json", out / "saturation_table.txt"]
    report_written(out, written)
    return 0
