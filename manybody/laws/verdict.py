"""The verdict on the shape of Q^-1(x): which law the fits say, and how strongly.

One vocabulary and one function for the study (:func:`manybody.laws.analysis.analyse_shape`) and
``manybody fit-data`` (:func:`manybody.measured.comparison.compare_laws`): :func:`judge` takes
the three fits of :func:`manybody.laws.fit.fit_joint` or :func:`manybody.laws.fit.fit_law`
("tls", "generic", "family") and returns a :class:`Verdict`:

* the verdict from the TLS index a of the family fit (:func:`classify_index`, rules tabled there);
* the preferred named law from Delta = AIC(generic) - AIC(tls) (Burnham & Anderson's rule of
  thumb, :func:`evidence_label`, :func:`prefer_law`):

=============  ===============  ====================================================
evidence       |Delta|            preferred law
=============  ===============  ====================================================
"none"         < 2              none
"positive"     2 ... < 6        the law with the lower AIC
"strong"       6 ... < 10       the law with the lower AIC
"very strong"  >= 10            the law with the lower AIC
=============  ===============  ====================================================

No law is preferred either (and the evidence is "none") when any of the three fits cannot decide
or is unphysical (``LawFit.indeterminate``, ``LawFit.unphysical``): a negative or vanishing
amplitude, a parameter on its bound, too few distinct temperatures. The reason then names every
fit's problem; and when the family cannot decide but the tanh and the 1 - e^-x fits are both
unphysical (e.g. both amplitudes decisively negative: the loss rises with temperature), the
verdict is "neither law" rather than "undecided".
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from manybody.support import validate as v
from manybody.support.validate import _describe

#: The start of the reason of a fit whose amplitudes are all within Z_BAND errors of 0
#: (:func:`manybody.laws.fit.parameter_problems`).
NOT_DETECTABLE = "no temperature dependence detectable"

#: Verdict labels: one vocabulary for the study (:func:`analyse_shape`) and ``fit-data``
#: (:func:`manybody.measured.comparison.compare_laws`); their meaning is the table in
#: :func:`classify_index`.
TLS = "TLS (tanh)"
GENERIC = "generic block (1 - e^-x)"
IN_BETWEEN = "in between"
BEYOND_GENERIC = "beyond generic (a < 0)"
BEYOND_TLS = "beyond TLS (a > 1)"
NEITHER = "neither law"
UNDECIDED = "undecided"
VERDICTS = (TLS, GENERIC, IN_BETWEEN, BEYOND_GENERIC, BEYOND_TLS, NEITHER, UNDECIDED)

#: Numerical resolution of the TLS index a: the floor of its error in the verdict, so optimiser
#: round-off (a = 1.00004 +- 1e-5 on noise-free tanh data) is not read as physics.
INDEX_RESOLUTION = 1e-3
#: Coverage factor: a is "consistent with" a value when within Z_BAND (floored) errors of it.
Z_BAND = 2.0
#: Above this error of a the two laws (1 apart in a) cannot be told apart.
MAX_INDEX_ERROR = 0.5
#: Goodness of fit (with honest errors): a family p-value below this means "neither law".
P_NEITHER = 1e-3
#: Below this fraction of the largest loss, a temperature-dependent part is round-off.
AMPLITUDE_RESOLUTION = 1e-9


def classify_index(
    index: float,
    error: float,
    *,
    p_value: float = math.nan,
    indeterminate: tuple[str, ...] | list[str] = (),
    unphysical: tuple[str, ...] | list[str] = (),
    dof: float = math.inf,
) -> tuple[str, str]:
    """The verdict on the shape of Q^-1(x) from the TLS index a of the family fit.

    One vocabulary, used by the study and by ``manybody fit-data``. With the error floored at the
    numerical resolution, s = max(error, INDEX_RESOLUTION) (1e-3), and the rules tried in order:

    ============================  ==============================================================
    verdict                       condition
    ============================  ==============================================================
    "undecided"                   the data cannot tell: a reason in ``indeterminate`` (too few
                                  distinct temperatures, no temperature dependence detectable
                                  against the errors, no convergence)
    "neither law"                 the family does not describe the data: a reason in
                                  ``unphysical`` (negative amplitude, a parameter at its bound,
                                  an amplitude near 0 while the data vary), whatever s is
    "undecided"                   s NaN, or s >= 0.5 with a within 2 s of 0 or of 1 (a
                                  that excludes both by more than 2 s goes on: the data tell
                                  it is neither, however large s)
    "neither law"                 with honest errors, the family's p-value < 1e-3
    "undecided"                   a within 2 s of both 0 and 1
    "TLS (tanh)"                  |a - 1| <= 2 s (and |a| > 2 s)
    "generic block (1 - e^-x)"    |a| <= 2 s (and |a - 1| > 2 s)
    "in between"                  2 s < a < 1 - 2 s: 0 < a < 1 excluding both ends
    "beyond generic (a < 0)"      a < -2 s
    "beyond TLS (a > 1)"          a > 1 + 2 s
    ============================  ==============================================================

    Parameters
    ----------
    index, error : float
        TLS index a (1: tanh(x/2), 0: 1 - e^-x) and its one-standard-deviation error.
    p_value : float
        chi2 tail probability of the family fit; NaN when the errors were estimated from the
        residuals (then no goodness-of-fit test is possible).
    indeterminate, unphysical : sequence of str
        Reasons found by the fit (see :class:`manybody.laws.fit.LawFit`).
    dof : float
        Degrees of freedom of ``error`` when it comes from a scatter estimated from the
        residuals (infinite, the default: a known error). The band "2 s" is then the Student-t
        quantile of the same coverage, t_dof(Phi(2)) s (:func:`band_factor`): 3.3 s at 3
        degrees of freedom, 2.3 s at 10; with the Gaussian 2 s, fits of 6-8 temperatures without
        measured errors covered the true index in 84-89 % of simulated data sets instead of 95 %
        (a break test, session 49).

    Returns
    -------
    (str, str)
        The verdict (one of ``VERDICTS``) and the reason in words; "undecided" for a NaN index.

    Raises
    ------
    TypeError
        index, error or p_value not a real number.
    ValueError
        error negative; p_value outside [0, 1] (NaN: no test).
    """
    index = _real("index", index)
    error = _real("error", error)
    p_value = _probability("p_value", p_value)
    indeterminate = _reasons("indeterminate", indeterminate)
    unphysical = _reasons("unphysical", unphysical)
    if error < 0:
        raise ValueError(f"error must be >= 0 (a standard deviation) or NaN, got {error!r}")
    if indeterminate:  # with what else is wrong (a parameter on its bound; bt200 F7)
        return UNDECIDED, "; ".join(indeterminate + unphysical)
    if math.isnan(index):  # a failed fit: 'a = nan ... excludes both 0 and 1' (session 33)
        return UNDECIDED, "the TLS index is not a number: the family fit did not determine it"
    if unphysical:  # the family does not describe the data, whatever the error of its a
        return NEITHER, "; ".join(unphysical)
    s = max(float(error), INDEX_RESOLUTION) if not math.isnan(error) else math.nan
    z = band_factor(dof)
    near_tls = abs(index - 1.0) <= z * s
    near_generic = abs(index) <= z * s
    # a large error leaves the laws apart only where a excludes both (bt200 F6: a = 6.4 +- 0.85,
    # 6 errors above 1, was "the data cannot tell the laws apart")
    if math.isnan(s):
        return UNDECIDED, "the error of a is not a number: the fit did not determine it"
    if s >= MAX_INDEX_ERROR and (near_tls or near_generic):
        # near one law only, said so: "cannot tell the laws apart" read as false beside a = 2.06
        # +- 0.54 and a very strong AIC preference (a tester, bt205)
        only = (f" (a = {index:.4g} is within {z:.3g} errors of {1 if near_tls else 0} only, "
                f"but the laws themselves are only {1 / s:.2g} errors apart)"
                if near_tls != near_generic else "")
        return UNDECIDED, (f"the error of a ({error:.2g}) is >= {MAX_INDEX_ERROR}: the data "
                           f"cannot tell the laws apart{only}")
    if p_value < P_NEITHER:
        return NEITHER, (f"the family fits badly (p = {p_value:.2g} < {P_NEITHER:g}): the data "
                         "are not of this shape")
    band = f"a = {index:.4g} +- {s:.2g}"
    errors = (f"{Z_BAND:g} errors" if z == Z_BAND
              else f"{z:.3g} errors (Student's t for the {Z_BAND:g}-sigma band, {dof:g} degrees "
                   "of freedom of the estimated scatter)")
    if near_tls and near_generic:
        return UNDECIDED, f"{band} is within {errors} of both 0 and 1"
    if near_tls:
        return TLS, f"{band} is within {errors} of 1 and not of 0"
    if near_generic:
        return GENERIC, f"{band} is within {errors} of 0 and not of 1"
    if index < 0:
        return BEYOND_GENERIC, f"{band} is below 0 by more than {errors}"
    if index > 1:
        return BEYOND_TLS, f"{band} is above 1 by more than {errors}"
    return IN_BETWEEN, f"{band} excludes both 0 and 1 by more than {errors}"


def band_factor(dof: float = math.inf) -> float:
    """How many errors the verdict's band is: Z_BAND (2) for a known error, else the Student-t
    quantile of the same two-sided coverage (95.4 %) for ``dof`` degrees of freedom of an
    estimated scatter; infinite below one degree of freedom.

    Raises
    ------
    TypeError
        dof not a real number.
    ValueError
        dof NaN or negative.
    """
    dof = _real("dof", dof)
    if math.isnan(dof) or dof < 0:
        raise ValueError(f"dof must be a number of degrees of freedom >= 0 (inf: a known "
                         f"error), got {dof!r}")
    if math.isinf(dof):
        return Z_BAND
    if dof < 1:
        return math.inf
    from scipy import stats  # not at import: `import manybody` stays light

    return float(stats.t.ppf(stats.norm.cdf(Z_BAND), dof))


def _real(name: str, value) -> float:
    """A real number (NaN and inf allowed; a 0-d array or DataArray as its number), else
    TypeError naming it."""
    value = v.unwrap_scalar(name, value)
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    return float(value)


def _reasons(name: str, value) -> tuple[str, ...]:
    """A sequence of reasons in words (tuple or list of str): a single string was joined letter
    by letter ("a; b; c", bt192), None or a number got Python's own errors."""
    if isinstance(value, str) or not isinstance(value, tuple | list):
        raise TypeError(f"{name} must be a tuple or list of reasons (strings), e.g. "
                        f"('too few temperatures',), got {_describe(value)}")
    for reason in value:
        if not isinstance(reason, str):
            raise TypeError(f"{name} must hold reasons as strings, got {_describe(reason)} in "
                            f"{_describe(value)}")
    return tuple(value)


def _probability(name: str, value) -> float:
    """A p-value in [0, 1] or NaN (no test), else ValueError naming it."""
    value = _real(name, value)
    if not (math.isnan(value) or 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be a probability in [0, 1] or NaN (no test), got "
                         f"{value!r}")
    return value


#: Lower edges of |AIC(generic) - AIC(tls)| for the evidence levels.
EVIDENCE_LEVELS = ((10.0, "very strong"), (6.0, "strong"), (2.0, "positive"))


def evidence_label(delta_aic: float) -> str:
    """"none" (|delta| < 2), "positive" (2-6), "strong" (6-10) or "very strong" (>= 10).

    NaN gives "none".

    Raises
    ------
    TypeError
        delta_aic not a real number.
    """
    size = abs(_real("delta_aic", delta_aic))
    for edge, label in EVIDENCE_LEVELS:
        if size >= edge:
            return label
    return "none"


def prefer_law(delta_aic: float, blocked: bool = False) -> tuple[str | None, str]:
    """(preferred law, evidence) from delta_aic = AIC(generic) - AIC(tls).

    "tls" when delta_aic >= 2, "generic" when <= -2, else None; None with evidence "none" when
    ``blocked`` (a fit cannot decide or is unphysical).

    Raises
    ------
    TypeError
        delta_aic not a real number, blocked not a bool.
    """
    delta_aic = _real("delta_aic", delta_aic)
    blocked = v.boolean("blocked", blocked)
    evidence = evidence_label(delta_aic)
    if blocked or evidence == "none":
        return None, "none"
    return ("tls" if delta_aic > 0 else "generic"), evidence


def evidence_shown(evidence: str, delta_aic: float) -> str:
    """The evidence as a report prints it: ``evidence``, or "not weighed" where no law is
    preferred because a fit cannot decide or is unphysical although |delta_aic| >= 2
    (:func:`prefer_law` gives "none" there; "evidence: none" beside AIC(generic) - AIC(tls) = +25
    read as a contradiction, note_s59).

    Raises
    ------
    TypeError
        delta_aic not a real number.
    """
    if evidence == "none" and evidence_label(delta_aic) != "none":
        return "not weighed"
    return evidence


def _named_reasons(pairs: list[tuple[str, str]]) -> str:
    """"family fit: r1; tls fit: r2", a reason shared by several fits named once ("family, tls
    and generic fits: r")."""
    laws: dict[str, list[str]] = {}
    for law, reason in pairs:
        laws.setdefault(reason, []).append(law)
    groups: dict[tuple, list[str]] = {}  # the same fits named once for all their reasons
    for reason, names in laws.items():
        groups.setdefault(tuple(names), []).append(reason)
    parts = []
    for names, reasons in groups.items():
        who = (names[0] + " fit" if len(names) == 1
               else ", ".join(names[:-1]) + f" and {names[-1]} fits")
        parts.append(f"{who}: {'; '.join(reasons)}")
    return "; ".join(parts)


@dataclass(frozen=True)
class Verdict:
    """What the three law fits say about the shape of Q^-1(x).

    Attributes
    ----------
    verdict : str
        One of ``VERDICTS``, from the TLS index (:func:`classify_index`).
    reason : str
        Why that verdict (and why no law is preferred, when a fit other than the family's
        cannot decide or is unphysical).
    preferred : str or None
        "tls" or "generic": the named law with the lower AIC; None when the evidence is "none"
        or a fit cannot decide or is unphysical.
    evidence : str
        :func:`evidence_label` of ``delta_aic``; "none" when no law is preferred.
    delta_aic, delta_bic : float
        AIC(generic) - AIC(tls) (and BIC): positive favours tanh(x/2), negative 1 - e^-x.
    index, index_error : float
        TLS index a of the family fit and the error the verdict used.
    """

    verdict: str
    reason: str
    preferred: str | None
    evidence: str
    delta_aic: float
    delta_bic: float
    index: float
    index_error: float


def scatter_dof(fit) -> float:
    """Degrees of freedom of a fit's errors: infinite with known errors; with a scatter
    estimated from the residuals, the residual degrees of freedom n - k less one for each
    further scatter estimated (one per curve with ``scatter="per-curve"``), at least 0."""
    if not fit.errors_scaled:
        return math.inf
    scatters = len(fit.curve_scatter) if getattr(fit, "scatter", "common") == "per-curve" else 1
    return float(max(fit.dof - max(scatters, 1) + 1, 0))


def _detects(fit) -> bool:
    """Whether a law fit finds a temperature dependence: an amplitude above Z_BAND times its
    (finite) error."""
    return any(name.startswith("amplitude") and math.isfinite(fit.errors[name])
               and value > Z_BAND * fit.errors[name] for name, value in fit.parameters.items())


def judge(fits: Mapping, *, index_error: float | None = None,
          honest_errors: bool | None = None, p_value: float | None = None) -> Verdict:
    """The verdict of the three law fits "tls", "generic" and "family" (see the module notes).

    Parameters
    ----------
    fits : mapping of str to LawFit
        The three fits of the same points; each carries its ``indeterminate`` and ``unphysical``
        reasons and the family its ``at_bound`` parameters.
    index_error : float, optional
        Error of the TLS index to judge by (e.g. a bootstrap over realisations), read with the
        Gaussian band; default: the family fit's error (infinite when the index ended on its
        bound with zero error), read with the Student-t band of its :func:`scatter_dof` when
        the scatter was estimated from the residuals.
    honest_errors : bool, optional
        Whether the errors of the points are honest, so that the family's p-value tests its
        goodness of fit; default: when the fit did not estimate its scatter from the residuals.
    p_value : float, optional
        Goodness-of-fit p-value of the family to judge by instead of the fit's own chi^2 tail,
        e.g. the covariance-aware test of :func:`manybody.laws.gof.law_goodness_of_fit` (NaN:
        no test); used only with honest errors.

    Returns
    -------
    Verdict
        With the reason of :func:`classify_index`; when the family and another fit both have a
        problem, every fit's problem named ("family fit: ...; tls fit: ..."), and "neither law"
        instead of "undecided" when the tls and generic fits are both unphysical.

    Raises
    ------
    TypeError
        index_error or p_value not a real number.
    ValueError
        fits without one of "tls", "generic", "family"; index_error negative; p_value outside
        [0, 1].
    """
    if not isinstance(fits, Mapping):
        raise TypeError(f"fits must be a mapping of 'tls', 'generic' and 'family' to their "
                        f"LawFit, got {_describe(fits)}")
    if honest_errors is not None:
        honest_errors = v.boolean("honest_errors", honest_errors)
    missing = [law for law in ("tls", "generic", "family") if law not in fits]
    if missing:
        raise ValueError(f"fits must hold the 'tls', 'generic' and 'family' fits of the same "
                         f"points, missing {', '.join(map(repr, missing))}")
    if index_error is not None:
        index_error = _real("index_error", index_error)
        if index_error < 0:
            raise ValueError(f"index_error must be >= 0 (a standard deviation) or NaN, got "
                             f"{index_error!r}")
    if p_value is not None:
        p_value = _probability("p_value", p_value)
    fam = fits["family"]
    index = fam.parameters["index"]
    err = fam.errors["index"] if index_error is None else index_error
    if "index" in fam.at_bound:  # only bounded: no error (the fits report NaN, session 44)
        err = math.nan
    honest = (not fam.errors_scaled) if honest_errors is None else honest_errors
    family_indeterminate = fam.indeterminate
    detected = [law for law in ("tls", "generic")
                if not fits[law].indeterminate and not fits[law].unphysical
                and _detects(fits[law])]
    if detected:
        # the family's amplitude, traded against its background as the shape flattens (a near
        # -1), is within 2 errors of 0 while the tls and generic amplitudes are 8-10 errors
        # above it: the temperature dependence is detected, and the index decides unless
        # another reason stands (a tester, bt205: "no temperature dependence detectable"
        # beside those amplitudes; bt206: beside an index not determined)
        family_indeterminate = tuple(r for r in family_indeterminate
                                     if not r.startswith(NOT_DETECTABLE))
    # the family has the most parameters: what it cannot determine, the data cannot tell
    verdict, reason = classify_index(
        index, err,
        p_value=(fam.p_value if p_value is None else p_value) if (honest and fam.dof > 0)
        else math.nan,
        indeterminate=family_indeterminate, unphysical=fam.unphysical,
        dof=scatter_dof(fam) if index_error is None else math.inf)
    d_aic = fits["generic"].aic - fits["tls"].aic
    d_bic = fits["generic"].bic - fits["tls"].bic
    problems = [f"{law} fit: {r}" for law, f in fits.items() if law != "family"
                for r in (*f.indeterminate, *f.unphysical)]
    family_problem = bool(family_indeterminate or fam.unphysical)
    preferred, evidence = prefer_law(d_aic, blocked=family_problem or bool(problems))
    if problems and not family_problem:
        reason = "; ".join(problems)
    elif problems:  # every fit's problem, each named (session 31: Al-on-InP's summary said
        # "every amplitude is within 2 errors of 0", the family's reason alone, while the tanh
        # and 1 - e^-x amplitudes were 85 errors below 0)
        own = (*family_indeterminate, *fam.unphysical)  # one by one, so a reason the other fits
        # share is said once for all of them
        family = [("family", r) for r in own] if reason == "; ".join(own) else [("family", reason)]
        if verdict == UNDECIDED and all(fits[law].unphysical and not fits[law].indeterminate
                                        for law in ("tls", "generic")):
            verdict = NEITHER  # a temperature dependence neither law can have
            # before the family's "no temperature dependence detectable": the two laws' fits
            # say the loss depends on T, the wrong way (bt197 F1: that reason was printed for a
            # loss rising 10x)
            family = [("family", r) for r in (*fam.indeterminate, *fam.unphysical)
                      if not r.startswith(NOT_DETECTABLE)]
        reason = _named_reasons(family + [
            (law, r) for law, f in fits.items() if law != "family"
            for r in (*f.indeterminate, *f.unphysical)])
    return Verdict(verdict, reason, preferred, evidence, float(d_aic), float(d_bic), index, err)
