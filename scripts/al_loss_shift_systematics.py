"""Systematic spread of the joint loss + frequency-shift fit of the Al-on-InP sweeps (issue 19).

Fits the 20 S21 sweeps once (:func:`manybody.measured.resonator_table.fit_sweeps`), then, for
each analysis choice (temperature window, with or without the activated quasiparticle term, its
gap fixed by Tc = 1.2 K or free, the reference temperature of the shift), fits tanh(x/2),
1 - e^-x and the family to the loss 1/Qi alone, the shift alone and jointly
(:func:`manybody.laws.joint.compare_loss_shift`) and records the TLS index with its error,
AIC(generic) - AIC(tls), the preferred law, the TLS amplitudes F delta0 of the loss alone and of
the shift alone, and the reduced chi^2 of the joint TLS fit.

Output: ``<out>/systematics.json`` (with provenance) and ``<out>/systematics.md`` (the table,
also printed). About a minute.

Usage::

    python scripts/al_loss_shift_systematics.py [--out results/data_fit/al_inp/joint]
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from manybody.cli.parser import ManybodyParser
from manybody.cli.signals import script_main
from manybody.laws.inputs import gap_from_tc
from manybody.laws.joint import MODES, compare_loss_shift
from manybody.measured.resonator_table import fit_sweeps, loss_table, shift_curves, sweep_files
from manybody.measured.tables import curves_from_table
from manybody.runs.results import checked_output_option
from manybody.support import jsonio
from manybody.support.files import atomic_write_text
from manybody.support.provenance import command_line, environment

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "resonator_al_inp_s21"
TC = 1.2  # K, aluminium

#: (label, tmin, tmax, quasiparticle gap: None = no term, "free", or "tc"; reference T of the shift)
CHOICES = (
    ("no qp, T <= 180 mK", None, 0.18, None, 0.03),
    ("no qp, 60-180 mK", 0.06, 0.18, None, 0.03),
    ("no qp, T <= 240 mK", None, 0.24, None, 0.03),
    ("no qp, all", None, None, None, 0.03),
    ("qp Tc 1.2 K, all", None, None, "tc", 0.03),
    ("qp Tc 1.2 K, T >= 60 mK", 0.06, None, "tc", 0.03),
    ("qp Tc 1.2 K, T >= 100 mK", 0.10, None, "tc", 0.03),
    ("qp Tc 1.2 K, T <= 285 mK", None, 0.285, "tc", 0.03),
    ("qp gap free, all", None, None, "free", 0.03),
    ("qp Tc 1.2 K, all, T_ref 150 mK", None, None, "tc", 0.15),
    ("qp Tc 1.2 K, all, T_ref 315 mK", None, None, "tc", 0.315),
)


def _amplitude(fit) -> tuple[float, float]:
    return fit.parameters["amplitude"], fit.errors["amplitude"]


def main(argv: list[str] | None = None) -> int:
    parser = ManybodyParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "results" / "data_fit" / "al_inp" / "joint"),
                        help="output directory (default: results/data_fit/al_inp/joint)")
    args = parser.parse_args(argv)
    if getattr(args, "out", None) is not None:  # before any work (session 31)
        checked_output_option(parser, "--out", args.out, directory=True)
    results = fit_sweeps(sweep_files(DATA))
    curves = curves_from_table(loss_table(results, "resonator_fits.csv", label="Al on InP"))
    frequency = f"{float(np.median([r.fit.f0 for r in results])) / 1e9:.9g}GHz"
    rows = []
    for label, tmin, tmax, qp, t_ref in CHOICES:
        (shift,) = shift_curves(results, reference_temperature=t_ref, label="Al on InP f0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cmp = compare_loss_shift(curves, shift, frequency, tmin=tmin, tmax=tmax,
                                     quasiparticle=None if qp is None else "exp",
                                     gap=gap_from_tc(TC) if qp == "tc" else None)
        row = {"choice": label, "tmin": tmin, "tmax": tmax, "quasiparticle": qp,
               "reference_temperature": shift.reference_temperature,
               "tls_amplitude_loss": _amplitude(cmp.fits["loss"]["tls"].fit),
               "tls_amplitude_shift": _amplitude(cmp.fits["shift"]["tls"].fit),
               "joint_tls_reduced_chi2": cmp.fits["joint"]["tls"].fit.reduced_chi2}
        fields = cmp.verdict_fields()
        row.update({m: fields[m] for m in MODES})
        rows.append(row)
        print(label, flush=True)
    lines = ["| choice | loss: a, dAIC | shift: a, dAIC | joint: a, dAIC, preferred | "
             "F delta0 (TLS) loss alone | F delta0 (TLS) shift alone | joint TLS chi2/dof |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = [f"{r[m]['index']:.2f} +- {r[m]['index_error']:.2f}, {r[m]['delta_aic']:+.1f}"
                 for m in MODES]
        (al, el), (sa, se) = r["tls_amplitude_loss"], r["tls_amplitude_shift"]
        lines.append(f"| {r['choice']} | {cells[0]} | {cells[1]} | {cells[2]}, "
                     f"{r['joint']['preferred'] or 'none'} | {al:.2e} +- {el:.1e} | "
                     f"{sa:.2e} +- {se:.1e} | {r['joint_tls_reduced_chi2']:.3g} |")
    table = "\n".join(lines)
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record = {"provenance": {**environment(), "command": command_line("python")},
              "frequency": frequency, "sweeps": str(DATA), "tc_K": TC,
              "notes": "a: TLS index of the family fit (1 tanh, 0 1 - e^-x); dAIC = "
                       "AIC(generic) - AIC(tls); errors are the sweeps' fit errors (Qi, f0), "
                       "chi2 with given errors; F delta0 in units of 1/Q",
              "rows": rows}
    atomic_write_text(out / "systematics.json", jsonio.dumps(record, indent=1))
    atomic_write_text(out / "systematics.md", table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(script_main(main))
