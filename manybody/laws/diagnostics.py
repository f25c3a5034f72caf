"""What the fit of measured data says about the data themselves, said once for the data (not
for :func:`manybody.measured.comparison.discrimination_power`'s simulated sets): a fitted
background below zero (a loss is never negative; bt219 F3) and given errors far larger than the
points' scatter about the law (bt226 F2). Called by
:func:`manybody.measured.comparison.compare_laws` and :func:`manybody.laws.joint.compare_loss_shift`
(the loss of --shift and --joint ran neither; a tester, bt229 F5). Neither changes a fit or a
verdict.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats


def warn_fit_diagnostics(fit) -> None:
    """Both warnings of this module for one family fit (a :class:`manybody.laws.fit.LawFit`)."""
    _warn_negative_background(fit)
    _warn_overstated_errors(fit)


class FitDiagnosticWarning(UserWarning):
    """What the fit of the data says about them: a background below zero, errors far larger
    than the scatter. Said of the data only: the simulated data sets of
    :func:`manybody.measured.comparison.discrimination_power` do not repeat it (it was printed
    once per simulated set; a tester, bt229 F4)."""


#: A fitted background below zero by more than BACKGROUND_Z errors and by more than
#: BACKGROUND_SHARE of its curve's lowest loss is named (a loss is never negative; a tester,
#: bt219 F3: one outlier pulled the family's background to -3 errors without a word).
BACKGROUND_Z = 3.0
BACKGROUND_SHARE = 0.1


def _warn_negative_background(fit) -> None:
    """FitDiagnosticWarning naming each curve whose fitted background (the temperature-independent
    loss) lies decisively below zero: the law's shape is then stretched to data it does not
    follow (an outlier, a loss climbing at the top, a window past the law). The verdict is
    left as the fits give it."""
    lowest = {curve.label: float(np.min(curve.loss)) for curve in fit.curves}
    parts = []
    for name, value in fit.parameters.items():
        if not name.startswith("background"):
            continue
        error = float(fit.errors.get(name, math.nan))
        label = name[len("background["):-1] if name.endswith("]") else None
        low = lowest.get(label, min(lowest.values(), default=math.nan))
        if value + BACKGROUND_Z * error < 0 and -value > BACKGROUND_SHARE * low:
            parts.append(f"{name} = {value:.3g} +- {error:.2g} ({-value / error:.2g} errors below "
                         f"0; the curve's lowest loss is {low:.3g})")
    if parts:
        warnings.warn(f"the {fit.law} fit's background is negative: {'; '.join(parts[:3])}"
                      f"{' ...' if len(parts) > 3 else ''}. A loss is never below zero: the law is "
                      "stretched to data it does not follow (a point off the curve, a loss falling "
                      "faster than the law allows, or a window past it: --tmin/--tmax); read its "
                      "index with that in mind",
                      FitDiagnosticWarning, stacklevel=3)


#: Given errors whose chi^2 is this improbably small (its lower tail) are named as overstated:
#: the mirror of the fit rejected at P_NEITHER.
P_OVERSTATED = 1e-3


def _warn_overstated_errors(fit) -> None:
    """FitDiagnosticWarning when the errors were given (a column of the data) and the fit's
    chi^2 lies in its lower tail below :data:`P_OVERSTATED`: the errors are larger than the
    scatter of the points about the law, and every error of the fit (the index's included) with
    them, so that a clear curve is told "undecided" (errors 20x too large, chi^2/dof = 0.0014; a
    tester, bt226 F2). The fit is left as given."""
    if fit.error_model != "sigma" or not fit.dof > 0 or not math.isfinite(fit.chi2):
        return
    low = float(stats.chi2.cdf(fit.chi2, fit.dof))
    if low < P_OVERSTATED:
        warnings.warn(f"the given errors look overstated: the {fit.law} fit's chi^2/dof = "
                      f"{fit.chi2 / fit.dof:.3g} ({fit.dof} degrees of freedom; a chi^2 this small "
                      f"has probability {low:.2g} with these errors): the points scatter about the "
                      "law far less than their errors say, and the fit's errors (the index's too) "
                      "are as large. A percent or 2-sigma column, or sigma_Q/Q^2 converted twice? "
                      "Without the error column the scatter is estimated from the data",
                      FitDiagnosticWarning, stacklevel=3)
