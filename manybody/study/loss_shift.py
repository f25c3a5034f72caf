"""Simulated loss and velocity shift of one sweep point as the curves of the joint fit.

A results file (``manybody run`` / ``manybody study``, read with :func:`manybody.load_results`)
holds ``absorption`` (units pi*C0) and ``velocity_shift`` (units C0, the resonant Re chi part)
per realisation, temperature and frequency. :func:`curves_from_results` averages them over the
realisations at one sweep point and frequency and returns a
:class:`manybody.laws.inputs.LossCurve` and a :class:`manybody.laws.inputs.ShiftCurve` in the
units of the resonator formulas with F delta0 -> pi C0: the loss in units of C0 (absorption times
pi, so independent TLS give pi tanh(x/2) and the shift's amplitude/pi = 1) and the shift in
units of C0; errors are the standard errors of the means over realisations. They go through the
same joint fit as measured data (:func:`manybody.laws.joint.compare_loss_shift`,
``manybody fit-data RESULTS.nc --simulated --point ...``).

Note: the realisations are shared by all temperatures (common random numbers), so the errors of
neighbouring points are correlated; chi2/dof well below 1 is the sign of it. The fit's errors take
the points as independent: :func:`index_spread` gives the index's spread over resamples of the
realisations, which ``fit-data --simulated`` reports beside them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from manybody.config.model import TLSParams
from manybody.laws.inputs import MAX_ERROR_RANGE, LossCurve, ShiftCurve
from manybody.laws.joint import compare_loss_shift
from manybody.laws.shift import ResonantDensity
from manybody.laws.x_range import XRangeWarning
from manybody.runs.results import check_results_dataset, dataset_spec
from manybody.runs.spec import axis_name
from manybody.support import validate as v

#: Variables a results file needs for the joint fit.
NEEDED = ("absorption", "velocity_shift")
#: Axes of a results file whose values are always numbers (K), never names.
NUMERIC_AXES = ("frequency", "temperature")


def _realisations(name: str, value: Any, n_t: int | None = None) -> np.ndarray:
    """Per-realisation values, shape (n_realisations, n_T) with n_realisations >= 2, as a finite
    float array: None, a 1-d array or one realisation got numpy's errors or a "sigma ... NaN"
    refusal of the curve built from it; a DataArray is refused (its dimensions' order cannot be
    told from its values; bt190)."""
    if type(value).__module__.split(".")[0] == "xarray":
        raise TypeError(f"{name} must be a numpy array of shape (n_realisations, n_T), got "
                        f"{v._describe(value)}; pass .transpose('realisation', "
                        "'temperature').values")
    arr = v.real_array(name, value)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-d array of shape (n_realisations, n_T), got shape "
                         f"{arr.shape}")
    if arr.shape[0] < 2:
        raise ValueError(f"{name} must hold at least 2 realisations (rows) for a mean with a "
                         f"standard error, got shape {arr.shape}")
    if n_t is not None and arr.shape[1] != n_t:
        raise ValueError(f"{name} must have one column per temperature, shape (n_realisations, "
                         f"{n_t}), got shape {arr.shape}")
    return arr


def _checked_curves_input(temperature: Any, loss: Any, shift: Any) -> tuple[np.ndarray, ...]:
    """temperature (n_T,) > 0, loss and shift (n_realisations, n_T) alike."""
    t = v.positive_array("temperature", temperature)
    loss = _realisations("loss", loss, t.size)
    shift = _realisations("shift", shift, t.size)
    if shift.shape != loss.shape:
        raise ValueError(f"shift must have the shape of loss {loss.shape}, got shape "
                         f"{shift.shape}")
    return t, loss, shift


def _tls(value: Any) -> TLSParams:
    """A TLSParams, else a TypeError naming ``tls``."""
    hint = (" (a results file: results_band(ds, chosen, frequency) takes its model's TLS)"
            if type(value).__name__ == "Dataset" else "")
    return v.instance("tls", value, TLSParams, f"a TLSParams{hint}")


def parse_point(text: str | None) -> dict[str, float | str]:
    """``"coupling_strength=0.02,frequency=0.1"`` -> {"coupling_strength": 0.02, "frequency": 0.1};
    a value that is not a number stays text, for axes of names (``coupling_kind=gaussian``).

    Raises
    ------
    ValueError
        An item without ``=``, an empty or non-finite value, or a name given twice.
    """
    if text is not None and not isinstance(text, str):  # a dict got "'dict' object has no
        # attribute 'strip'" (bt190); a mapping is curves_from_results' point itself
        hint = " (a mapping is a point already: pass it to curves_from_results)" if isinstance(
            text, Mapping) else ""
        raise TypeError(f"text must be 'NAME=VALUE[,NAME=VALUE...]' text or None, got "
                        f"{v._describe(text)}{hint}")
    if text is None or not text.strip():
        return {}
    out: dict[str, float] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--point must be NAME=VALUE[,NAME=VALUE...], got {item!r}")
        if name in out:  # 'n_tls=3,n_tls=4' took the last (session 31)
            raise ValueError(f"--point gives {name} twice ({text!r}); give each axis once")
        if not value.strip():
            raise ValueError(f"--point {name} needs a value, got {item!r}")
        if "=" in value:  # 'coupling_strength=0;frequency=0.1': the value was '0;frequency=0.1',
            # and the refusal named only the axis left open (a break test, session 55)
            raise ValueError(f"--point {name}={value.strip()!r} holds another '=': separate the "
                             f"NAME=VALUE pairs with ',' (e.g. --point a=1,b=2), got {text!r}")
        try:
            number = float(value)
        except ValueError:  # a name on an axis of names (the results file says which)
            if name in NUMERIC_AXES:  # never names: 'frequency=abc' was taken as text (bt190)
                raise ValueError(f"--point {name} must be a number (K), got {value.strip()!r}"
                                 ) from None
            out[name] = value.strip()
            continue
        if not math.isfinite(number):
            raise ValueError(f"--point {name} must be a finite number, got {value!r}")
        out[name] = number
    return out


def _on_axis(name: str, axis: np.ndarray, value: float | str) -> float | str:
    """The value of sweep axis ``name`` matching ``value``: a number within 1e-9 relative on a
    numeric axis, the same text on an axis of names (a name gave "must be a number", a number
    numpy's UFuncTypeError; session 33)."""
    if axis.dtype.kind in "UOS":
        names = [str(a) for a in axis]
        if str(value) not in names:
            raise ValueError(f"--point {name}={value} is not on the axis; its values: {names}")
        return str(value)
    if isinstance(value, str):
        raise ValueError(f"--point {name} must be a number on this axis, got {value!r}; its "
                         f"values: {axis.tolist()}")
    i = int(np.argmin(np.abs(axis - value)))
    if not math.isclose(axis[i], value, rel_tol=1e-9, abs_tol=1e-12):
        raise ValueError(f"--point {name}={value!r} is not on the axis; its values: "
                         f"{axis.tolist()}")
    return float(axis[i])


def _checked_point(point: Any) -> dict[str, float | str]:
    """``point`` of :func:`curves_from_results` as a dict: None (no axis fixed) or a mapping of
    axis name (str) to a real number or a name on an axis of names."""
    if point is None:
        return {}
    if not isinstance(point, Mapping):
        hint = " (use parse_point for 'name=value' text)" if isinstance(point, str) else ""
        raise TypeError(f"point must be a mapping of axis name to value{hint}, got "
                        f"{v._describe(point)}")
    out: dict[str, float | str] = {}
    for name, value in point.items():
        if not isinstance(name, str):
            raise TypeError(f"point's axis names must be strings, got {v._describe(name)}")
        if isinstance(value, str):
            out[name] = value
        else:
            out[name] = v.real(f"point[{name!r}]", value)
    return out


def curves_from_results(ds, point: dict[str, float] | None = None
                        ) -> tuple[LossCurve, ShiftCurve, float, dict]:
    """The mean loss and shift over realisations at one sweep point and frequency.

    Parameters
    ----------
    ds : xarray.Dataset
        A results file with ``absorption`` and ``velocity_shift``.
    point : dict of str to float or str, optional
        Coordinate values of every sweep axis of size > 1 and of ``frequency`` when there are
        several; matched to the nearest value within 1e-9 relative (a name on an axis of
        names, e.g. coupling_kind).

    Returns
    -------
    (LossCurve, ShiftCurve, float, dict)
        Loss (units of C0), shift (units of C0), the frequency w (K) and the point chosen.

    Raises
    ------
    TypeError
        ``ds`` not an xarray Dataset; ``point`` not a mapping (text: :func:`parse_point` reads
        it) or one whose value is neither a real number nor a name.
    ValueError
        Missing variables, a sweep axis not fixed by ``point``, an unknown axis or a value not on
        the axis, fewer than 2 realisations.
    """
    # a DataArray or a path was told "the results file has no absorption", None "argument of
    # type 'NoneType' is not iterable", text as the point "'str' object has no attribute
    # 'items'" (bt187)
    check_results_dataset("curves_from_results", "ds", ds, data_array=(
        "pass the Dataset it came from (the fit needs absorption and velocity_shift)"))
    point = _checked_point(point)
    missing = [n for n in NEEDED if n not in ds]
    if missing:
        raise ValueError(f"the results file has no {', '.join(missing)}: run it with "
                         f"observables including {list(NEEDED)}")
    dims = [d for d in ds["absorption"].dims if d not in ("realisation", "temperature")]
    # the spec's dotted key names the same axis ('model.coupling.strength' was "not an axis";
    # a new user, session 37)
    point = {(axis_name(k) if k not in dims and axis_name(k) in dims else k): value
             for k, value in point.items()}
    unknown = [k for k in point if k not in dims]
    if unknown:
        raise ValueError(f"--point names {unknown}, not axes of the results file; its axes: "
                         f"{dims}")
    open_axes = [d for d in dims if d not in point and ds[d].size > 1]
    if open_axes:  # all at once: one per try made a user choose them one run at a time
        listed = "; ".join(f"{d!r} has {ds[d].size} values {ds[d].values.tolist()}"
                           for d in open_axes)
        example = ",".join(f"{d}=VALUE" for d in open_axes)
        raise ValueError(f"choose a point on every sweep axis: {listed}; e.g. --point {example}")
    chosen = {}
    for d in dims:
        axis = ds[d].values
        chosen[d] = _on_axis(d, axis, point[d]) if d in point else axis[0].item()
    sel = ds.sel(chosen)
    loss_r = sel["absorption"].transpose("realisation", "temperature").values * math.pi
    shift_r = sel["velocity_shift"].transpose("realisation", "temperature").values
    keep = np.all(np.isfinite(loss_r), axis=1) & np.all(np.isfinite(shift_r), axis=1)
    n = int(keep.sum())
    if n < 2:  # NaN marks an unfinished realisation; inf is a finished one that overflowed
        # ("0 finished" for 3 finished with Q = inf; a break test, session 45)
        infinite = int(np.sum(np.any(np.isinf(loss_r), axis=1) | np.any(np.isinf(shift_r), axis=1)))
        also = (f" ({infinite} finished with infinite values: the model's magnitudes overflow)"
                if infinite else "")
        raise ValueError(f"need at least 2 finished realisations with finite values at {chosen}, "
                         f"got {n}{also}")
    loss_r, shift_r = loss_r[keep], shift_r[keep]
    t = ds["temperature"].values
    w = chosen.get("frequency", float(ds["frequency"].values[0]))
    label = ", ".join(f"{k}={val:g}" if isinstance(val, float | int) else f"{k}={val}"
                      for k, val in chosen.items() if k != "frequency")
    loss, shift = curves_from_realisations(t, loss_r, shift_r,
                                           f"absorption{' ' + label if label else ''}")
    return loss, shift, w, {**chosen, "frequency": w, "realisations": n,
                            "per_realisation": (t, loss_r, shift_r)}


def curves_from_realisations(temperature: np.ndarray, loss: np.ndarray, shift: np.ndarray,
                             label: str) -> tuple[LossCurve, ShiftCurve]:
    """The mean loss and shift over realisations with their standard errors.

    Parameters
    ----------
    temperature : numpy.ndarray
        T (K), shape (n_T,).
    loss, shift : numpy.ndarray
        Per realisation (units of C0), shape (n_realisations, n_T), n_realisations >= 2.
    label : str
        The loss curve's label.

    Notes
    -----
    Each standard error is floored at 1 / ``MAX_ERROR_RANGE`` of the curve's largest, as the
    study's own weights are (:func:`manybody.laws.analysis.analyse_shape`): where (nearly) no
    realisation absorbs, at the lowest temperatures of a few realisations, the error is ~1e-10
    of the others, and the curve was refused with advice about the units of measured errors
    (a new user, session 37).

    Raises
    ------
    TypeError, ValueError
        Arrays that are not real numbers of those shapes (a DataArray: pass its values), fewer
        than 2 realisations, a label that is not text.
    """
    temperature, loss, shift = _checked_curves_input(temperature, loss, shift)
    v.string("label", label)
    n = loss.shape[0]
    return (LossCurve(temperature, loss.mean(0), _floored(loss.std(0, ddof=1) / math.sqrt(n)),
                      label=label),
            ShiftCurve(temperature, shift.mean(0), _floored(shift.std(0, ddof=1) / math.sqrt(n)),
                       label="velocity_shift"))


def _floored(error: np.ndarray) -> np.ndarray:
    """``error`` floored at 1 / MAX_ERROR_RANGE of its largest value."""
    return np.maximum(error, float(error.max()) / MAX_ERROR_RANGE)


#: The key of the Kramers-Kronig ratio (TLS law: F delta0 from the shift over that from the
#: loss) among :func:`index_spread`'s spreads.
KRAMERS_KRONIG = "kramers_kronig_ratio_tls"
#: Resamples of the realisations for :func:`index_spread` (about 0.05 s each at 25 temperatures).
RESAMPLES = 100
#: Fewest distinct resamples (realisations drawn, in any order) fitted for a spread: with 2
#: realisations only {0, 1} can be fitted ({0, 0} and {1, 1} cannot), every fitted resample is
#: the same, and a spread of 0.000 "(7e-17x)" the fit's error was printed (a tester, bt189).
MIN_DISTINCT_RESAMPLES = 5


def index_spread(temperature: np.ndarray, loss: np.ndarray, shift: np.ndarray, frequency: float,
                 options: dict, n_resamples: int = RESAMPLES, seed: int = 0,
                 distinct: dict[str, int] | None = None,
                 progress: Callable[[int], object] | None = None) -> tuple[dict[str, float], int]:
    """The spread of the TLS index a of each mode ("loss", "shift", "joint"), and of the
    Kramers-Kronig ratio of the TLS law (key :data:`KRAMERS_KRONIG`), over bootstrap resamples
    of the realisations (seeded), the fit's other options as given.

    The points of one sweep point share their realisations (common random numbers), so their
    errors are correlated (median correlation ~0.95 between temperatures at N = 12): a fit that
    takes them as independent understated the index's error about 2.4x (0.058 against a spread
    of 0.137 over resamples; a new user, session 35).

    Returns
    -------
    (dict of str to float, int)
        The spread per mode (NaN for a mode whose index no resample determined; inf for the
        Kramers-Kronig ratio where the loss amplitude changes sign among the resamples, so that
        the ratio is unbounded) and the number
        of resamples that could not be made into curves or fitted (skipped): with few
        realisations a resample can leave out the only one that absorbs at the lowest
        temperature, and its curve's errors span beyond what a fit takes (such a resample
        stopped the whole ``fit-data --simulated`` with advice about measured errors' units;
        a new user, session 37). A spread is NaN too where fewer than
        :data:`MIN_DISTINCT_RESAMPLES` distinct resamples (sets of realisations) gave a value:
        it would be that of a few repeated fits, 0 by construction for one.

    Other parameters
    ----------------
    distinct : dict, optional
        Filled with the number of distinct resamples that gave a value, per key of the spread.
    progress : callable, optional
        Called with 1 after each resample, fitted or skipped (a progress bar's ``update``: with a
        free gap each resample is a joint fit of about a second, and ``fit-data --simulated
        --quasiparticle`` said nothing for minutes; a tester, bt190).
    """
    # before any resample: None arrays, text as the frequency ("frequency=0.1" skipped every
    # resample in silence), None options, True or 1.5 as counts (bt190)
    temperature, loss, shift = _checked_curves_input(temperature, loss, shift)
    frequency = v.positive("frequency (w, K)", frequency)
    v.instance("options", options, Mapping, "a mapping of compare_loss_shift's keywords ({} for "
               "none)")
    n_resamples = v.integer("n_resamples", n_resamples, 1, v.MAX_BOOTSTRAP)
    seed = v.integer("seed", seed, 0, v.MAX_SEED)
    if distinct is not None:
        v.instance("distinct", distinct, dict, "a dict to fill, or None")
    v.callable_or_none("progress", progress, "a function of the number of resamples done")
    rng = np.random.default_rng(seed)
    n = loss.shape[0]
    values: dict[str, list[float]] = {}
    drawn: dict[str, set[tuple[int, ...]]] = {}  # the distinct resamples behind each value
    loss_signs: set[float] = set()
    skipped = 0
    for _ in range(n_resamples):
        pick = rng.integers(0, n, n)
        key = tuple(sorted(pick.tolist()))
        try:
            curve, sh = curves_from_realisations(temperature, loss[pick], shift[pick],
                                                 "resample")
            with warnings.catch_warnings():  # the unit check warned for the full set already
                warnings.simplefilter("ignore", XRangeWarning)
                cmp = compare_loss_shift([curve], sh, frequency, **options)
        except (ValueError, RuntimeError):
            skipped += 1
            continue
        finally:
            if progress is not None:
                progress(1)
        for mode, verdict in cmp.verdicts.items():
            if verdict.index is not None and np.isfinite(verdict.index):
                values.setdefault(mode, []).append(float(verdict.index))
                drawn.setdefault(mode, set()).add(key)
        loss_amplitude = cmp.fits["loss"]["tls"].fit.parameters["amplitude"]
        loss_signs.add(float(np.sign(loss_amplitude)))
        if loss_amplitude:  # the Kramers-Kronig ratio of the TLS law, whose fit error is too
            # small in the same way (0.027 against a spread of 0.059; a break test, session 47)
            values.setdefault(KRAMERS_KRONIG, []).append(
                float(cmp.fits["shift"]["tls"].fit.parameters["amplitude"] / loss_amplitude))
            drawn.setdefault(KRAMERS_KRONIG, set()).add(key)
    spread = {mode: float(np.std(found, ddof=1))
              if len(drawn[mode]) >= MIN_DISTINCT_RESAMPLES and len(found) > 1 else math.nan
              for mode, found in values.items()}
    if distinct is not None:
        distinct.update({mode: len(keys) for mode, keys in drawn.items()})
    if KRAMERS_KRONIG in spread and len(loss_signs - {0.0}) > 1:
        # the loss amplitude crosses 0 among the resamples: the ratio's spread is unbounded
        # (9.58e+06 was printed; helper-178), not a spread of a defined quantity
        spread[KRAMERS_KRONIG] = math.inf
    return spread, skipped


def realisation_correlation(loss: np.ndarray) -> float:
    """Median correlation over realisations between the losses at two temperatures (shape
    (n_realisations, n_T)); NaN with fewer than 3 realisations or 2 temperatures."""
    loss = v.real_array("loss", loss)
    if loss.ndim != 2:  # None or a 1-d array got numpy's errors (bt190)
        raise ValueError(f"loss must be a 2-d array of shape (n_realisations, n_T), got shape "
                         f"{loss.shape}")
    if loss.shape[0] < 3 or loss.shape[1] < 2:
        return math.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.corrcoef(loss, rowvar=False)
    upper = c[np.triu_indices_from(c, 1)]
    upper = upper[np.isfinite(upper)]
    return float(np.median(upper)) if upper.size else math.nan


def resonant_density(energy, tls: TLSParams) -> np.ndarray:
    """Resonant weight of the canonical TLS ensemble at energy E, relative to its value for
    Delta_min << E << eps_max, Delta_max (where it is flat).

    rho(E) = int d(eps) d(Delta) (1/Delta) (Delta/E)^2 delta(E - sqrt(eps^2 + Delta^2)) over
    |eps| <= eps_max, Delta_min <= Delta <= Delta_max (the density of TLS times the squared
    tunnelling factor of their resonant coupling, docs/PHYSICS.md sections 1 and 9), which is
    [sqrt(E^2 - a^2) - sqrt(E^2 - b^2)] / E with a = max(Delta_min, sqrt(E^2 - eps_max^2)) and
    b = min(Delta_max, E), and 0 where a >= b.

    Parameters
    ----------
    energy : array_like
        E (K), any shape, >= 0.
    tls : TLSParams
        The ensemble (eps_max, Delta_min, Delta_max in K).

    Returns
    -------
    numpy.ndarray
        rho(E) / rho_flat, the shape of ``energy``: 1 in the flat region, sqrt(1 - Delta_min^2/E^2)
        near its lower edge, falling to 0 at sqrt(eps_max^2 + Delta_max^2).
    """
    tls = _tls(tls)
    e = v.real_array("energy", energy)  # "1" was taken as 1.0 (bt190)
    if np.any(e < 0):
        raise ValueError(f"energy must be >= 0 (K), got minimum {float(e.min())!r}")
    a = np.maximum(tls.tunnelling_min, np.sqrt(np.maximum(e * e - tls.asymmetry_max**2, 0.0)))
    b = np.minimum(tls.tunnelling_max, e)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (np.sqrt(np.maximum(e * e - a * a, 0.0)) - np.sqrt(np.maximum(e * e - b * b, 0.0))) / e
    return np.where((a < b) & (e > 0), rho, 0.0)


#: Points of the tabulated density (:func:`model_density`), spaced evenly in ln(nu).
DENSITY_POINTS = 600


def model_density(tls: TLSParams, frequency: float) -> ResonantDensity:
    """The canonical ensemble's resonant density over nu = E/w, relative to its value at w, as
    the shift partners take it (:class:`manybody.laws.shift.ResonantDensity`): from
    nu_lo = Delta_min/w to sqrt(eps_max^2 + Delta_max^2)/w, :data:`DENSITY_POINTS` points even in
    ln(nu) with the corners eps_max/w, Delta_max/w and 1 among them.

    The flat band (Delta_min/w, inf) missed the shift of simulated independent TLS whose
    energies end a few w above w ("neither law", a = 0.18, Kramers-Kronig ratio 0.57 at
    eps_max = Delta_max = 3 w); a flat band of the same logarithmic weight (3.38 w there) was
    right only where the density is flat around w: with w at Delta_max or eps_max, or Delta_min
    near w, the shift's index came out -0.6 to 2.5 for exact TLS curves (two break tests,
    session 47). With the density itself the partner is the ensemble's (docs/PHYSICS.md section 9
    with rho(nu) under the integral).

    Parameters
    ----------
    tls : TLSParams
        The ensemble.
    frequency : float
        w (K), > 0.

    Raises
    ------
    ValueError
        w outside the ensemble's energies (no TLS resonates at w: the simulated loss there is
        the line kernel's tail), naming w and the energies.
    """
    tls = _tls(tls)
    w = v.positive("frequency (w, K)", frequency)
    top = math.hypot(tls.asymmetry_max, tls.tunnelling_max)
    if not tls.tunnelling_min < w < top or float(resonant_density(w, tls)) <= 0.0:
        raise ValueError(f"the probe frequency w = {w:g} K lies outside the energies of the "
                         f"model's TLS ({tls.tunnelling_min:g} K to {top:.4g} K): no TLS "
                         "resonates at w, so the simulated loss there is the line kernel's "
                         "tail, not a law to fit; choose another frequency (--point "
                         "frequency=...), or give --band LO,HI to fit it anyway")
    lo, hi = tls.tunnelling_min / w, top / w
    # the density's slope jumps, or grows as 1/sqrt, at eps_max, Delta_max and Delta_min:
    # points crowd geometrically towards each (a sparse table there moved the shift's index at
    # w = Delta_max from 1 to 0.81 for exact curves)
    steps = np.geomspace(1e-7, 0.05, 60)
    corners = [c / w for c in (tls.asymmetry_max, tls.tunnelling_max, tls.tunnelling_min, w)]
    near = np.concatenate([c * (1.0 + sign * steps) for c in corners for sign in (-1.0, 1.0)])
    nu = np.unique(np.concatenate([np.geomspace(lo, hi, DENSITY_POINTS), corners, near]))
    nu = nu[(nu >= lo) & (nu <= hi)]
    return ResonantDensity(nu=tuple(nu), weight=tuple(resonant_density(nu * w, tls)))


def results_band(ds, chosen: dict, frequency: float) -> tuple[ResonantDensity | None, str]:
    """The resonant density (:func:`model_density`) of the model at one sweep point of a results
    file (``chosen``: the axis value on every sweep axis, as :func:`curves_from_results` picks
    them),
    and a note for the output: what it is, and what of the model it leaves out (couplings,
    random-matrix terms). (None, note) for a model without TLS (a random-matrix block).

    Raises
    ------
    ValueError
        w outside the energies of the point's TLS (:func:`model_density`).
    """
    check_results_dataset("results_band", "ds", ds, data_array="pass the Dataset it came from")
    v.instance("chosen", chosen, Mapping, "a mapping of sweep axis to its value (as "
               "curves_from_results picks them)")
    frequency = v.positive("frequency (w, K)", frequency)
    spec = dataset_spec(ds)  # its sweep axes are the file's coordinates, in the same order
    missing = [dim for dim in spec.dims if dim not in chosen]
    if missing:  # a KeyError naming the axis alone (bt190)
        raise ValueError(f"chosen must give a value on every sweep axis of the results file, "
                         f"lacks {', '.join(map(repr, missing))}")
    off = [dim for dim in spec.dims if not np.any(ds[dim].values == chosen[dim])]
    if off:
        raise ValueError(f"chosen[{off[0]!r}] = {v._describe(chosen[off[0]])} is not on the axis; "
                         f"its values: {v.one_line(repr(ds[off[0]].values.tolist()))}")
    index = tuple(int(np.flatnonzero(ds[dim].values == chosen[dim])[0]) for dim in spec.dims)
    model = spec.point(index)[0]
    if model.tls is None:
        return None, ("the infinite band: the model has no TLS (a random-matrix block, whose "
                      "density this fit does not know; --band LO,HI sets a flat band)")
    density = model_density(model.tls, frequency)
    left_out = [name for name, present in (("couplings", model.coupling is not None),
                                           ("random-matrix terms", model.random_matrix is not None))
                if present]
    lo, hi = density.edges
    note = (f"the resonant density of the model's independent TLS, {lo:.4g} w to {hi:.4g} w "
            "(eps_max, Delta_min, Delta_max; --band overrides)")
    if left_out:
        note += f"; the model's {' and '.join(left_out)} are not in it"
    return density, note
