"""Golden-rule (resonant) absorption Q^-1(w, T), the emission-stripped S+ and the resonant velocity shift.

Every temperature comes from one pass over the D^2 eigenstate pairs. Writing
(p_n - p_m) |T_mn|^2 as per-state terms (PHYSICS.md section 2),

    Q(w, T)      = sum_n p_n(T) F_n(w),   F_n(w) = sum_m |T_mn|^2 [K(w - w_mn) - K(w + w_mn)],
    Re chi(w, T) = sum_n p_n(T) H_n(w),   H_n(w) = sum_m |T_mn|^2 [R(w_mn - w) + R(w_mn + w)],

with w_mn = E_m - E_n, K the line kernel and R its Kramers-Kronig partner (the principal value 1/u,
broadened). Both brackets are odd in w_mn, so every unordered pair is visited once and adds +g to
F_n and -g to F_m.

``method="exact"`` (the default) evaluates the kernels on every pair at the requested frequencies
(compiled with numba when available): for the compact Gaussian and histogram kernels only pairs
with |w_mn| within 12 widths of a frequency are visited (the Gaussian beyond 12 widths is below
1e-31 of its peak); the dispersive kernel and the Lorentzian are summed over all pairs, the Gaussian's
Dawson function from a table of Taylor polynomials within 40 widths and from its asymptotic series
(six terms) beyond. Its error is rounding plus < 1e-13 relative per line (2e-14 measured; tested
against the scipy kernels, like the whole pair sum to 1e-11 of its largest value):
per realisation, |Q - Q_exact| <= 1e-4 of the plateau at every temperature is a tested guarantee.
Cost O(pairs in the window x n_w) for Q, O(D^2 n_w / 2) for Re chi.

``method="binned"`` deposits the signed weight sign(w_mn) |T_mn|^2 at |w_mn| on a frequency grid
(linear "tent" deposit, which keeps each line's weight and first moment), giving a (D, n_nodes)
matrix M; then Q = P(T) @ M @ G for all T at once, for any later frequency. The grid is uniform with
``resolution`` nodes per kernel width around the requested frequencies and geometric elsewhere, so
its error is up to ~(1/resolution)^2 / 8 of a single line's peak (0.3 % of the plateau in single
realisations at N = 6-8, width 0.02 K, resolution 10; ~1 % for the velocity shift) and much smaller
for disorder averages. Use it for many frequencies at large D, where its cost does not grow with n_w.

Units: with ``normalisation = absorption_normalisation(params)`` Q is in units of pi*C0 (the
canonical independent-TLS ensemble gives tanh(w/2T)) and the velocity shift in units of C0.
"""

from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from manybody.config.probe import OBSERVABLE_DIMS, Broadening
from manybody.simulation.observables.pair_sum import exact_per_state
from manybody.simulation.observables.responses import absorption_from, velocity_shift_from
from manybody.simulation.observables.thermo import (  # noqa: F401  (FarBelowSpectrumWarning re-exported)
    FarBelowSpectrumWarning,
    boltzmann_weights,
    warn_if_far_below,
)
from manybody.simulation.spectrum import Spectrum
from manybody.support import validate as v

#: Kernel half-range (in widths) beyond which a Gaussian or histogram line is dropped.
_REACH = 12.0


#: Kelvin per gigahertz of w = h f / k_B (for the hint of :func:`warn_if_far_above_spectrum`).
KELVIN_PER_GHZ = 0.0479924
#: A probe frequency this many times the model's transition scale
#: (:func:`model_transition_scale`) is a unit mistake (5 GHz typed as 5 K: 20x; mK typed as K:
#: 1000x), not an ensemble member whose lines miss w.
FAR_ABOVE = 2.0
#: The same for one spectrum (:func:`absorption`): a realisation's widest transition E_max - E_0
#: falls short of the model's scale in some realisations (one TLS of small E), so its margin is
#: wider; a unit mistake is still 20x (GHz) or 1000x (mK).
FAR_ABOVE_SPECTRUM = 10.0
#: Temperatures all above this many times the model's transition scale (or the widest line a
#: spectrum's stress drives) occupy every level alike (tanh(E/2T) < 0.025): mK typed as K (1000x; 30 mK
#: beside TLS of 0.42 K is 70x), not a high-temperature study, whose coldest point sits near
#: the scale (the study's x = w/T >= 0.2 at w = 0.1 K: T <= 0.5 K).
FAR_ABOVE_TEMPERATURE = 20.0


#: The relaxation functions' factor: relaxation at T far above a spectrum's lines is their
#: ordinary regime (T = 2 K beside one-TLS spectra of E < 0.1 K was warned about; a tester,
#: bt224 F2a), while 50 K typed for 50 mK beside lines of 0.2 K is 250 times them.
RELAXATION_FAR_ABOVE_TEMPERATURE = 200.0


class FarAboveSpectrumWarning(UserWarning):
    """A probe frequency far above every transition a model (or a spectrum) can drive, or
    temperatures all far above every level scale: most likely a unit mistake (GHz, kHz or mK
    typed as K). Raised once per sweep point by a run's preflight, by
    :func:`manybody.simulation.observe.observe` and by :func:`absorption`, the relaxation
    functions and :func:`~manybody.simulation.observables.saturation.saturated_absorption` of the
    API (which a sweep's realisations do not repeat): the frequency for the resonant absorption,
    the saturation and the relaxation terms, the temperatures for every observable that depends
    on them."""


class BoxEdgeWarning(UserWarning):
    """A transition lies on an edge of the box (histogram) kernel within round-off: the box's
    velocity shift diverges there (ln|u - eta/2|), so the value is returned as NaN."""


def model_transition_scale(model) -> float:
    """A generous scale (K) of the largest transition energy the stress can drive in a model's
    realisations: per TLS flipped, hypot(eps_max, Delta_max) plus what the couplings add to it
    (4 (N - 1) J0: the other TLS's fields, with room for their spread), plus the diameter of a
    random-matrix term (twice its weight). A one-body stress flips one TLS per line, a two-body
    one two; a random-matrix stress, a random-matrix term or couplings other than s^z s^z mix the
    levels, and a line may then span the whole spectrum (N flips). Not a bound: a dipolar pair
    without a hard core can exceed it.

    Parameters
    ----------
    model : manybody.config.model.ModelParams
    """
    # TLS one line flips: one with a one-body stress on the s^z product states, two with a
    # two-body one; any number where the stress or the Hamiltonian couples every pair of levels
    # (a random-matrix stress, a random-matrix term, couplings other than s^z s^z)
    mixing = (model.stress.random_matrix or model.random_matrix is not None
              or (model.coupling is not None and model.coupling.strength
                  and set(model.coupling.components) != {"zz"}))
    flips = model.n_tls if mixing else 2 if model.stress.two_body else 1
    scale = 0.0
    if model.tls is not None:
        scale += flips * math.hypot(model.tls.asymmetry_max, model.tls.tunnelling_max)
    if model.coupling is not None:
        scale += 4.0 * flips * max(model.n_tls - 1, 0) * abs(model.coupling.strength)
    if model.random_matrix is not None:
        scale += 2.0 * abs(model.random_matrix.weight)
    return scale


#: Why a frequency far above the lines makes each guarded observable meaningless (one warning
#: class and one rule for all of them; the relaxation terms joined in session 39: 1000 typed for
#: 1 kHz gave Q_rel ~ 1e-10 without a word, a tester).
_FAR_ABOVE_WHY = {
    "absorption": "the absorption there comes only from the tails of lines far away",
    "velocity_shift": "the velocity shift there comes only from the tails of lines far away",
    "saturation": "the saturation there comes only from the tails of lines far away",
    "relaxation_absorption": "the relaxation absorption assumes hbar w << E (Jaeckle) and is ~0 "
                             "there",
    "relaxation_velocity_shift": "the relaxation velocity shift assumes hbar w << E (Jaeckle) and "
                                 "is ~0 there",
}
#: The observables a probe frequency far above the lines is warned about for. The resonant
#: velocity shift joined in session 62: off resonance is its regime, but below the lines (an
#: ultrasonic w, warned about by nothing); far above every line it is the ~1/w^2 tail of lines
#: far away, and 5 typed for 5 GHz gave 0.0021 without a word where the absorption warned (bt220
#: F5).
FAR_ABOVE_OBSERVABLES = tuple(_FAR_ABOVE_WHY)
_UNITS_HINT = (f"frequencies are w = h f / k_B in K: 1 kHz is {KELVIN_PER_GHZ * 1e-6:.2g} K, "
               f"1 GHz is {KELVIN_PER_GHZ:.3g} K")


def _far_above_reasons(names) -> str:
    """The reasons of :data:`_FAR_ABOVE_WHY` for ``names``, the resonant ones joined."""
    names = [n for n in FAR_ABOVE_OBSERVABLES if n in names]
    resonant = [n for n in names if not n.startswith("relaxation")]
    parts = []
    if resonant:
        verb = "come" if len(resonant) > 1 else "comes"
        parts.append(f"the {' and '.join(n.replace('_', ' ') for n in resonant)} there {verb} "
                     "only from the tails of lines "
                     "far away")
    parts += [_FAR_ABOVE_WHY[n] for n in names if n.startswith("relaxation")]
    return "; ".join(parts)


def warn_if_far_above_spectrum(model, probe, stacklevel: int = 2) -> None:
    """Warn once per sweep point (the preflight, :func:`manybody.runs.spec.check_point`) when a
    probe frequency lies more than :data:`FAR_ABOVE` times above the model's transition scale
    (:func:`model_transition_scale`): nothing can be resonant there, and the resonant absorption
    and the saturation are the tails of lines far away (w = 100 K, or 5 for 5 GHz, for TLS of
    <= 0.42 K ran without a word, Q^-1 ~ 1e-9 or exactly 0; a helper, session 36); the relaxation
    terms assume hbar w << E and are ~0 there (1000 typed for 1 kHz; session 39). A frequency
    just above some realisations' lines, as in an ensemble of one or two TLS, is normal and not
    warned about.

    Parameters
    ----------
    model : manybody.config.model.ModelParams
    probe : manybody.config.probe.Probe
        Only its :data:`FAR_ABOVE_OBSERVABLES` are guarded ("absorption", "velocity_shift",
        "saturation" and the relaxation terms).
    stacklevel : int
        Of the warning (:class:`FarAboveSpectrumWarning`), as :func:`warnings.warn`'s.
    """
    scale = model_transition_scale(model)
    thermal = [name for name in probe.observables if "temperature" in OBSERVABLE_DIMS[name][0]]
    resonant = [name for name in thermal if "frequency" in OBSERVABLE_DIMS[name][0]
                and not name.startswith("relaxation")]
    t = np.asarray(probe.temperatures, dtype=float)
    if thermal and not warn_if_far_above_temperatures(
            t, scale, "probe.temperatures", "every transition this model can drive (its lines "
            "reach about", stacklevel=stacklevel + 1) and resonant \
            and float(max(probe.frequencies)) < X_FLOOR * float(t.min()) \
            and float(t.min()) > X_SCALE * scale:
        shown = ", ".join(f"{x:g}" for x in t[:5]) + (", ..." if t.size > 5 else "")
        warnings.warn(f"probe.temperatures {shown} K all lie above {1 / X_FLOOR:g} times every "
                      f"probe frequency (up to {max(probe.frequencies):g} K; x = w/T < "
                      f"{X_FLOOR:g}): the resonant observables ({', '.join(resonant)}) are then "
                      "a small fraction of their plateau and their shape in x = w/T is not "
                      "probed (temperatures are in K: 30 mK is 0.03)", FarAboveSpectrumWarning,
                      stacklevel=stacklevel)
    asked = [name for name in FAR_ABOVE_OBSERVABLES if name in probe.observables]
    w = np.asarray(probe.frequencies, dtype=float)
    above = w[w > FAR_ABOVE * scale]
    if not asked or not above.size or scale <= 0:
        return
    shown = ", ".join(f"{x:g}" for x in above[:5]) + (", ..." if above.size > 5 else "")
    warnings.warn(f"probe.frequencies {shown} K lie far above every transition this model can "
                  f"drive (its lines reach about {scale:.3g} K): {_far_above_reasons(asked)} "
                  f"({_UNITS_HINT})", FarAboveSpectrumWarning, stacklevel=stacklevel)


def warn_if_far_above_temperatures(temperatures, scale: float, name: str, what: str,
                                   stacklevel: int = 2,
                                   factor: float = FAR_ABOVE_TEMPERATURE) -> bool:
    """Warn (:class:`FarAboveSpectrumWarning`) when every temperature lies more than
    :data:`FAR_ABOVE_TEMPERATURE` times above ``scale``: all levels are then equally occupied,
    Q^-1 ~ w/T is a small fraction of its plateau and the shape in x = w/T is not probed; most
    likely mK typed as K (30 and 300 for 30 and 300 mK beside lines of 0.1 K passed silently
    while a frequency typed so was warned about; bt211 F4). One hot temperature among cold
    ones is a deliberate high-temperature point, not warned about.

    Parameters
    ----------
    temperatures : array_like
        Checked T (K).
    scale : float
        The level scale (K) they are compared with; nothing is said when it is <= 0.
    name : str
        The parameter, for the message ("probe.temperatures", "temperatures", "temperature").
    what : str
        What the scale is, ending where the scale's value follows ("the widest line ... is").
    stacklevel : int
        Of the warning, as :func:`warnings.warn`'s.
    factor : float
        How many times above ``scale`` every temperature must lie (default
        :data:`FAR_ABOVE_TEMPERATURE`; the relaxation functions use
        :data:`RELAXATION_FAR_ABOVE_TEMPERATURE`).

    Returns
    -------
    bool
        Whether it warned (the caller's rule in x = w/T is then not tried as well).
    """
    t = np.atleast_1d(np.asarray(temperatures, dtype=float))
    if scale <= 0 or not t.size or float(t.min()) <= factor * scale:
        return False
    shown = ", ".join(f"{x:g}" for x in t[:5]) + (", ..." if t.size > 5 else "")
    # no word of Q^-1 or x: a specific heat or relaxation probe gets this too (bt216 F2)
    warnings.warn(f"{name} {shown} K all lie far above {what} {scale:.3g} K; expected T of the "
                  f"order of the level scale, at most {factor:g} times it): every "
                  "level is occupied alike and every observable is in its high-temperature tail "
                  "(temperatures are in K: 30 mK is 0.03)",
                  FarAboveSpectrumWarning, stacklevel=stacklevel)
    return True


#: Temperatures all above 1/X_FLOOR times every probe frequency (x = w/T below it) put the
#: resonant absorption at x/2 of its plateau: mK typed as K where the model's level scale, N
#: times a TLS's for mixtures, is too wide for the rule above (a tester, bt216 F1)...
X_FLOOR = 0.01
#: ... and above this many times the model's level scale: an ultrasonic probe (w ~ 1e-5 K) at
#: T of the levels' order has x << 1 too, and is a study of its own (the ln T of delta v/v).
X_SCALE = 5.0


def warn_if_far_above_lines(spectrum: Spectrum | np.ndarray, stress_elements: np.ndarray,
                            frequencies: np.ndarray, name: str, stacklevel: int = 4,
                            widest: float | None = None) -> None:
    """The rule of :func:`warn_if_far_above_spectrum` for one spectrum (the functions of the
    API): warn when a frequency lies more than :data:`FAR_ABOVE_SPECTRUM` times above the widest
    line the stress drives in it (:func:`_widest_driven_line`).

    Parameters
    ----------
    spectrum : Spectrum or numpy.ndarray
        The spectrum, or its checked ascending energies E_n (K).
    stress_elements : numpy.ndarray, shape (D, D)
        Checked T_mn (K per unit strain).
    frequencies : numpy.ndarray
        Checked w (K).
    name : str
        One of :data:`FAR_ABOVE_OBSERVABLES`, for the message.
    stacklevel : int
        Of the warning (:class:`FarAboveSpectrumWarning`).
    widest : float, optional
        The widest driven line (K) where the caller has it (:func:`driven_line_scale`, also
        compared with the temperatures): one pass over T_mn, not two.
    """
    frequencies = np.asarray(frequencies, dtype=float)
    if widest is None:
        energies = spectrum.energies if isinstance(spectrum, Spectrum) else np.asarray(spectrum)
        widest = _widest_driven_line(energies, stress_elements)
    above = frequencies[frequencies > FAR_ABOVE_SPECTRUM * widest]
    if widest > 0 and above.size:  # Q = 0 without a word (a tester, session 38)
        shown = ", ".join(f"{x:g}" for x in above[:5]) + (", ..." if above.size > 5 else "")
        warnings.warn(f"frequencies {shown} K lie far above every line the stress drives in this "
                      f"spectrum (the widest is {widest:.3g} K): {_far_above_reasons([name])} "
                      f"(if w was meant in GHz, kHz or mK: {_UNITS_HINT})",
                      FarAboveSpectrumWarning, stacklevel=stacklevel)


def check_spectrum(spectrum) -> Spectrum:
    """The spectrum, refused by name when it is not a :class:`manybody.simulation.spectrum.Spectrum`
    (which checks its own energies and vectors)."""
    if not isinstance(spectrum, Spectrum):
        hint = (" (wrap eigenvalues as manybody.Spectrum(energies=np.sort(e)), or use "
                "manybody.solve(realisation))" if isinstance(spectrum, np.ndarray | list | tuple)
                else "")
        raise TypeError(f"spectrum must be a Spectrum (the eigenvalues of manybody.solve){hint}, "
                        f"got {type(spectrum).__name__}")
    return spectrum  # its energies are checked by Spectrum itself (finite, 1-d, ascending)


def _check_stress(spectrum: Spectrum, stress_elements) -> np.ndarray:
    """T_mn: a real finite (D, D) array matching the spectrum (float32 and float64 arrays are
    kept as they are; lists and integer arrays become float64)."""
    arr = v.real_array("stress_elements", stress_elements, keep_float=True)
    dim = spectrum.dimension
    if arr.shape != (dim, dim):
        raise ValueError(f"stress_elements must have shape {(dim, dim)} to match the spectrum, "
                         f"got {arr.shape}")
    check_symmetric(arr)
    return arr


#: Largest |T_mn - T_nm| accepted, relative to max |T_mn|, by the stress elements' dtype: the
#: round-off of V^T T V by hand in float64 (~1e-15 sqrt(D)) or float32 (~1e-7 sqrt(D)), with room.
_SYMMETRY_TOLERANCE = {np.dtype(np.float64): 1e-8, np.dtype(np.float32): 1e-4}


#: Largest |T_mn| (and |H_mn| given to ``diagonalise``) accepted: the sums of squares of the pair
#: weights and the eigensolver's norms stay far from overflow (T = 1e160 gave Q = NaN without a
#: word; a break test, session 45). A realisation's own magnitudes are bounded at 1e100 each, so
#: its H and T (sums of up to 30 TLS' terms) stay below this.
MAX_MATRIX_ELEMENT = 1e120
#: Smallest nonzero max |T_mn| accepted: below it |T_mn|^2 underflows (T = 1e-200 gave Q = 0).
MIN_STRESS_SCALE = 1e-100


def check_symmetric(stress: np.ndarray, block: int = 512, name: str = "stress_elements",
                    symbol: str = "T", source: str = "PHYSICS.md section 6.5",
                    smallest: float | None = MIN_STRESS_SCALE) -> None:
    """T_mn must be real symmetric (PHYSICS.md section 6.5): the pair sums read one triangle, so a
    half-filled or transposed-wrong matrix gave the full answer or exactly 0 without a word (a
    tester, session 28). Checked in blocks of rows (no D x D temporary). ``name``, ``symbol`` and
    ``source`` word the message for another matrix (a Hamiltonian given to ``diagonalise``).
    Its largest |element| must be below MAX_MATRIX_ELEMENT and, unless 0 or ``smallest`` is None,
    at least ``smallest`` (ValueError naming ``name``)."""
    scale = max(float(stress.max()), -float(stress.min())) if stress.size else 0.0
    if scale == 0.0:
        return
    if scale >= MAX_MATRIX_ELEMENT or (smallest is not None and scale < smallest):
        within = (f"between {smallest:g} and {MAX_MATRIX_ELEMENT:g}" if smallest is not None
                  else f"below {MAX_MATRIX_ELEMENT:g}")
        raise ValueError(f"{name} must have its largest |{symbol}_mn| {within}, got {scale:.6g} "
                         f"(the sums of their squares would over- or underflow)")
    tolerance = _SYMMETRY_TOLERANCE.get(stress.dtype, 1e-8) * scale
    for start in range(0, stress.shape[0], block):
        rows = stress[start:start + block]
        difference = np.abs(rows - stress[:, start:start + block].T)
        worst = float(difference.max())
        if worst > tolerance:
            m, n = np.unravel_index(int(np.argmax(difference)), difference.shape)
            m += start
            raise ValueError(
                f"{name} must be real symmetric ({symbol}_mn = {symbol}_nm, {source}), "
                f"got {symbol}[{m}, {n}] = {stress[m, n]:.6g} and {symbol}[{n}, {m}] = "
                f"{stress[n, m]:.6g} (|{symbol} - {symbol}^T| up to {worst / scale:.3g} of max "
                f"|{symbol}|, accepted {tolerance / scale:.0e}); pass both triangles, or "
                f"({symbol} + {symbol}.T) / 2 if the difference is round-off")


def _check_method(method, broadening) -> None:
    """"exact" or "binned"; the binned grid only with a smooth kernel."""
    v.choice("method", method, ("exact", "binned"))
    if method == "binned" and isinstance(broadening, Broadening) and broadening.kind == "histogram":
        # a tester, session 34: up to 73 % of a line's peak in Q, and grid nodes exactly on the
        # box edges gave a NaN or infinite velocity shift
        raise ValueError(
            "method='binned' cannot be used with broadening.kind='histogram': the box kernel is "
            "discontinuous, so the grid's error near its edges is up to a whole line (not the "
            "(1/resolution)^2/8 of a smooth kernel) and grid nodes on the edges make the "
            "velocity shift diverge; use method='exact' (the default) or a gaussian kernel")


def _check_inputs(spectrum: Spectrum, stress_elements: np.ndarray, frequencies, broadening,
                  dispersive: bool = False):
    check_spectrum(spectrum)
    frequencies = v.positive_array("frequencies", frequencies)
    dim = spectrum.dimension
    if np.shape(stress_elements) != (dim, dim):
        raise ValueError(
            f"stress_elements must have shape {(dim, dim)} to match the spectrum, "
            f"got {np.shape(stress_elements)}"
        )
    if not isinstance(broadening, Broadening):
        raise TypeError(f"broadening must be a Broadening, got {type(broadening).__name__}")
    broadening.check_resolution(frequencies, dispersive)
    # frequencies above the largest transition are physical: nothing is resonant there (the
    # absorption is the kernel's far tail, 0 for a Gaussian), but every pair still shifts the
    # velocity off resonance (PHYSICS.md section 3). They were refused until session 28, which
    # stopped sweeps at a random realisation whose band happened to lie below the probe.
    bandwidth = float(spectrum.energies[-1] - spectrum.energies[0])
    return frequencies, bandwidth


def frequency_grid(bandwidth: float, frequencies: np.ndarray, broadening: Broadening) -> np.ndarray:
    """Nodes on [0, bandwidth] (K): uniform, ``resolution`` per width, within 12 widths of the
    requested frequencies; geometric (10 % steps) elsewhere.

    Raises
    ------
    TypeError
        bandwidth not a real number, frequencies not real numbers, broadening not a Broadening.
    ValueError
        bandwidth negative or not finite, frequencies not finite and > 0.
    """
    bandwidth = v.non_negative("bandwidth", bandwidth)
    frequencies = v.positive_array("frequencies", frequencies)
    v.instance("broadening", broadening, Broadening, "a Broadening")
    eta = broadening.width
    step = eta / broadening.resolution
    lo = max(0.0, frequencies.min() - _REACH * eta)
    hi = max(frequencies.max() + _REACH * eta, lo + step)
    fine = np.arange(lo, hi + 0.5 * step, step)
    below_nodes = _geometric_towards(lo, 0.0, step)
    above_nodes = _geometric_towards(fine[-1], max(bandwidth, fine[-1]), step)
    nodes = np.unique(np.concatenate([below_nodes, fine, above_nodes]))
    return nodes


def _geometric_towards(start: float, stop: float, step: float) -> np.ndarray:
    """Nodes from ``start`` to ``stop`` (inclusive) whose spacing grows by 10 % of the distance."""
    out = []
    x = start
    sign = 1.0 if stop > start else -1.0
    while sign * (stop - x) > 0:
        x = x + sign * max(step, 0.1 * abs(x - start))
        if sign * (x - stop) > 0:
            x = stop
        out.append(x)
    return np.asarray(out)


class PairSpectrum:
    """The pair sums of one spectrum, reusable for any set of temperatures.

    ``method="exact"``: the per-state sums F_n(w), H_n(w) are evaluated on every pair when first
    asked for (see :mod:`.pair_sum`), at any frequencies, and cached per frequency set.
    ``method="binned"``: one pass deposits the signed pair weights on a frequency grid (``nodes``,
    ``deposits``) from which every frequency and temperature follows; its error is up to
    ~(1/resolution)^2 / 8 of a single line's peak. The grid deposit is also available (computed on
    first access) for an exact PairSpectrum.

    Attributes
    ----------
    energies : numpy.ndarray
        E_n (K), shape (D,).
    nodes : numpy.ndarray
        Grid of |w_mn| (K), shape (n_nodes,).
    deposits : numpy.ndarray
        M[n, k] = sum_m sign(w_mn) |T_mn|^2 tent_k(|w_mn|), shape (D, n_nodes).
    broadening : Broadening
        The line kernel.
    method : {"exact", "binned"}
        Which of the two evaluates :meth:`absorption` and :meth:`dispersion`.
    """

    def __init__(self, spectrum: Spectrum, stress_elements: np.ndarray, frequencies: np.ndarray,
                 broadening: Broadening, method: str = "exact", chunk_pairs: int = 4_000_000):
        self.energies = np.asarray(spectrum.energies, dtype=np.float64)
        self.broadening = broadening
        self.method = method
        self._spectrum = spectrum
        self._stress = stress_elements
        self._frequencies = frequencies
        self._chunk_pairs = chunk_pairs
        self._per_state: dict = {}
        if method == "binned":
            _ = self.deposits

    @functools.cached_property
    def _grid(self) -> tuple[np.ndarray, np.ndarray]:
        return _deposit(self._spectrum, self._stress, self._frequencies, self.broadening,
                        self._chunk_pairs)

    @property
    def nodes(self) -> np.ndarray:
        return self._grid[0]

    @property
    def deposits(self) -> np.ndarray:
        return self._grid[1]

    def thermal(self, temperatures: np.ndarray) -> np.ndarray:
        """P(T) @ M: thermally weighted grid weights, shape (n_T, n_nodes)."""
        return boltzmann_weights(self.energies, temperatures) @ self.deposits

    def per_state(self, frequencies, dispersive: bool = False) -> np.ndarray:
        """Exact F_n(w) (or H_n(w) if ``dispersive``), shape (D, n_w), cached."""
        w = v.positive_array("frequencies", frequencies)
        key = (bool(dispersive), w.tobytes())
        if key not in self._per_state:
            self._per_state[key] = exact_per_state(self.energies, self._stress, w,
                                                   self.broadening, dispersive)
        return self._per_state[key]

    def absorption(self, frequencies, temperatures) -> np.ndarray:
        """Q(w, T) = sum_n p_n F_n(w) (raw units), shape (n_T, n_w).

        Q >= 0 holds pair by pair ((p_n - p_m) >= 0 and K(w - w_mn) >= K(w + w_mn) for w, w_mn > 0
        and every kernel of :class:`Broadening`: PHYSICS.md section 2, detailed balance); the
        per-state form cancels F_n against F_m, so where every p_n is equal (T far above the
        bandwidth) round-off leaves ~1e-16 of either sign. Negative values, only that round-off,
        are set to 0; every other value is untouched.
        """
        w = v.positive_array("frequencies", frequencies)
        self.broadening.check_resolution(w)  # frequencies other than those built for
        if self.method == "exact":
            q = boltzmann_weights(self.energies, temperatures) @ self.per_state(w)
        else:
            b = self.broadening
            g = (b.kernel(w[None, :] - self.nodes[:, None])
                 - b.kernel(w[None, :] + self.nodes[:, None]))
            q = self.thermal(temperatures) @ g
        return np.maximum(q, 0.0, out=q)

    def dispersion(self, frequencies, temperatures) -> np.ndarray:
        """Re chi(w, T) = sum_n p_n H_n(w) (raw units), shape (n_T, n_w).

        With the histogram (box) kernel a transition exactly on an edge, w_mn = w +- eta/2, makes
        its column infinite or NaN (the box's dispersive partner ln|(u + eta/2)/(u - eta/2)| / eta
        is infinite there): :func:`resonant_responses` marks such columns NaN and names them in a
        :class:`BoxEdgeWarning`, together with those within round-off of an edge.
        """
        w = v.positive_array("frequencies", frequencies)
        # the velocity shift's own floor (MIN_DISPERSIVE_RELATIVE_WIDTH): mb.pair_spectrum is
        # public, and its dispersion gave the round-off numbers velocity_shift refuses
        self.broadening.check_resolution(w, dispersive=True)
        box = self.broadening.kind == "histogram"  # its infinite edges are named by the caller
        with np.errstate(invalid="ignore" if box else "warn", over="ignore" if box else "warn",
                         divide="ignore" if box else "warn"):
            if self.method == "exact":
                return boltzmann_weights(self.energies, temperatures) @ self.per_state(w, True)
            b = self.broadening
            h = b.dispersive(self.nodes[:, None] - w[None, :]) + b.dispersive(
                self.nodes[:, None] + w[None, :])
            return self.thermal(temperatures) @ h


def pair_spectrum(
    spectrum: Spectrum,
    stress_elements: np.ndarray,
    frequencies,
    broadening: Broadening,
    chunk_pairs: int = 4_000_000,
    method: str = "exact",
) -> PairSpectrum:
    """Pair sums of one spectrum, for all temperatures at once (see
    :class:`~manybody.simulation.observables.absorption.PairSpectrum`).

    Parameters
    ----------
    spectrum : Spectrum
        Energies E_n (K).
    stress_elements : numpy.ndarray
        T_mn (K per unit strain), (D, D), real symmetric, float64 or float32 (squared in float64).
    frequencies : array_like
        The frequencies w (K) that will be evaluated (they fix the fine part of the binned grid).
    broadening : Broadening
        Line kernel.
    chunk_pairs : int
        Binned method: largest number of pairs handled per block (memory ~ 60 bytes per pair);
        blocks are kept cache-sized (``_BLOCK_PAIRS``) when that is smaller.
    method : {"exact", "binned"}
        Exact pair sums (default; error <= 1e-4 of the plateau per realisation, in practice
        ~1e-8 relative) or the grid deposit (error up to ~(1/resolution)^2 / 8 of a line's peak).

    Raises
    ------
    TypeError
        ``spectrum`` not a Spectrum; stress_elements not real numbers (complex, a list of
        strings...); broadening not a Broadening.
    ValueError
        Frequencies not > 0, stress_elements not of shape (D, D), not symmetric (beyond 1e-8 of
        max |T| in float64, 1e-4 in float32) or with NaN/inf, unknown method, chunk_pairs not an
        integer >= 1. (Frequencies above the spectrum's largest transition are accepted: nothing is
        resonant there, but the pairs' off-resonant dispersion is not 0.)

    Notes
    -----
    Source: docs/PHYSICS.md section 2 (the per-state form of the pair sum).
    """
    _check_method(method, broadening)
    chunk_pairs = v.integer("chunk_pairs", chunk_pairs, low=1)  # 0 and -5 were taken (session 36)
    stress_elements = _check_stress(check_spectrum(spectrum), stress_elements)
    frequencies, _ = _check_inputs(spectrum, stress_elements, frequencies, broadening)
    if broadening.relative:
        raise ValueError("pair_spectrum needs an absolute kernel: pass broadening.at(w) for one "
                         "frequency, or use resonant_responses for a relative-width kernel")
    return PairSpectrum(spectrum, stress_elements, frequencies, broadening, method, chunk_pairs)


def _deposit(spectrum, stress_elements, frequencies, broadening, chunk_pairs):
    """The grid deposit: (nodes, M) with M[n, k] = sum_m sign(w_mn) |T_mn|^2 tent_k(|w_mn|).

    The grid index of |w_mn| comes from a lookup table on a uniform lattice of the fine grid step
    (arithmetic, no binary search), corrected by comparisons for the few lattice cells holding more
    than one node; each block is deposited with two ``bincount`` calls. The result equals the
    plain per-pair tent deposit to rounding (tested against it).
    """
    frequencies, bandwidth = _check_inputs(spectrum, stress_elements, frequencies, broadening)
    nodes = frequency_grid(bandwidth, frequencies, broadening)
    energies = np.asarray(spectrum.energies, dtype=np.float64)
    dim = energies.size
    n_nodes = nodes.size
    deposits = np.zeros((dim, n_nodes))
    locate = _NodeLocator(nodes, broadening.width / broadening.resolution)
    kernel = _compiled_deposit() if _USE_COMPILED else None
    if kernel is not None:
        kernel(energies, stress_elements, locate.nodes, locate.inv_gap, locate.table,
               locate.scale, locate.origin, deposits)
        return nodes, deposits
    # numpy path (no numba): cache-sized column blocks, two bincounts each
    # exact degeneracies give w_mn = 0 off the diagonal, whose sign (0) must drop the weight
    degenerate = bool(np.any(np.diff(energies) == 0.0))
    cols = max(1, min(chunk_pairs, _BLOCK_PAIRS) // dim)
    for start in range(0, dim, cols):
        stop = min(dim, start + cols)
        width = stop - start
        omega = np.subtract.outer(energies, energies[start:stop])  # w_mn, rows m, columns n
        weight = np.square(stress_elements[:, start:stop], dtype=np.float64)
        if degenerate:
            weight *= np.sign(omega)
        else:
            np.copysign(weight, omega, out=weight)
            weight[np.arange(start, stop), np.arange(width)] = 0.0
        omega = np.abs(omega, out=omega)
        idx, upper = locate(omega)
        upper *= weight  # weight of node idx + 1
        weight -= upper  # weight of node idx
        idx += (np.arange(width) * n_nodes)[None, :]
        size = width * n_nodes
        block = np.bincount(idx.ravel(), weight.ravel(), minlength=size)
        idx += 1
        block += np.bincount(idx.ravel(), upper.ravel(), minlength=size)
        deposits[start:stop] = block.reshape(width, n_nodes)
    return nodes, deposits


#: Pairs per block of the numpy deposit: its ~8 temporaries stay within a few MB of cache.
_BLOCK_PAIRS = 1 << 16
#: Use the compiled (numba) deposit when numba is importable (QuSpin depends on it); the numpy
#: path gives the same result to rounding and is used otherwise (and tested against it).
_USE_COMPILED = True


@functools.lru_cache(maxsize=1)
def _compiled_deposit():
    """The pair deposit as a numba kernel (:func:`.pair_kernels.deposit`, about 3 ns per pair),
    or None without numba."""
    try:
        from manybody.simulation.observables import pair_kernels
    except ImportError:  # pragma: no cover - numba comes with QuSpin
        return None
    return pair_kernels.deposit


class _NodeLocator:
    """Tent coordinates on a sorted grid: x -> (k, f), x = (1 - f) nodes[k] + f nodes[k + 1].

    Values below the first node or above the last give f = 0 at node 0 or f = 1 at the last
    interval (all weight on the end node), as a clipped ``searchsorted`` would.
    """

    def __init__(self, nodes: np.ndarray, step: float):
        self.nodes = nodes
        n = nodes.size
        self.last = n - 2
        self.origin = float(nodes[0])
        span = float(nodes[-1] - nodes[0])
        # lattice cells of width ``step`` (the finest regular spacing); cap the table size
        cells = int(span / step) + 2
        if cells > 4 * n + 1_000_000:
            cells = 4 * n + 1_000_000
        self.scale = (cells - 1) / span if span > 0 else 0.0
        # table[c] = last node index <= the start of cell c (clipped to [0, n - 2])
        starts = self.origin + np.arange(cells) / self.scale if span > 0 else np.zeros(1)
        table = np.searchsorted(nodes, starts, side="right") - 1
        self.table = np.clip(table, 0, self.last).astype(np.intp)
        # how many further nodes can share a cell: that many comparison rounds
        ends = self.origin + (np.arange(cells) + 1) / self.scale if span > 0 else np.zeros(1)
        within = np.searchsorted(nodes, ends, side="right") - 1 - table
        self.rounds = int(max(0, within.max())) if within.size else 0
        self.padded = np.append(nodes, np.inf)
        self.inv_gap = 1.0 / np.diff(nodes)
        self.cells = cells

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cell = np.multiply(np.subtract(x, self.origin), self.scale)
        np.clip(cell, 0, self.cells - 1, out=cell)
        idx = self.table[cell.astype(np.intp)]
        for _ in range(self.rounds):
            idx += (x >= self.padded[idx + 1]) & (idx < self.last)
        frac = np.subtract(x, self.nodes[idx], out=cell)
        frac *= self.inv_gap[idx]
        np.clip(frac, 0.0, 1.0, out=frac)
        return idx, frac


def absorption(
    spectrum: Spectrum,
    stress_elements: np.ndarray,
    frequencies,
    temperatures,
    broadening: Broadening | None = None,
    normalisation: float = 1.0,
    method: str = "exact",
) -> np.ndarray:
    """Golden-rule absorption Q^-1(w, T) for all frequencies and temperatures.

    Q(w, T) = normalisation * sum_{m,n} (p_n - p_m) |T_mn|^2 K(w - (E_m - E_n)).

    Parameters
    ----------
    spectrum : Spectrum
        Eigenvalues E_n (K).
    stress_elements : numpy.ndarray
        T_mn (K per unit strain), (D, D).
    frequencies : array_like
        w = hbar omega (K), all > 0.
    temperatures : array_like
        T (K), all > 0.
    broadening : Broadening, optional
        Line kernel (default Gaussian of width 0.01 K).
    normalisation : float
        Multiplies the result, a finite number > 0; ``absorption_normalisation(params)`` gives
        units of pi*C0.
    method : {"exact", "binned"}
        Exact pair sum (default): |Q - Q_exact| <= 1e-4 of the plateau (in practice ~1e-8
        relative) per realisation at every temperature, cost O(D^2 n_w) at most. Or the grid
        deposit, whose cost does not grow with n_w but whose error reaches ~(1/resolution)^2 / 8
        of a single line's peak (~0.3 % of the plateau in single small-N realisations).

    Returns
    -------
    numpy.ndarray
        Q, shape (n_T, n_w), >= 0 (PHYSICS.md section 2: negative round-off of the cancelling
        per-state sums at T far above the bandwidth is returned as 0).

    Warns
    -----
    FarAboveSpectrumWarning
        A frequency above ten times (``FAR_ABOVE_SPECTRUM``) the widest line the stress drives
        in this spectrum (Q there is the tails of far lines, or exactly 0): most likely a unit
        mistake (w is in K; 1 GHz is 0.048 K), or a realisation whose lines all lie far below w
        (one TLS of small E: then true, and harmless).
    UserWarning
        All stress elements 0; an absolute kernel at least half the lowest frequency.

    Raises
    ------
    TypeError
        ``spectrum`` not a Spectrum (an array of energies is refused: wrap it as
        ``Spectrum(energies=...)``); stress_elements, frequencies or temperatures not real
        numbers (complex, strings, booleans); ``normalisation`` not a real number; broadening not
        a Broadening.
    ValueError
        stress_elements not of shape (D, D), not symmetric (beyond 1e-8 of max |T| in float64,
        1e-4 in float32) or with NaN/inf; spectrum.energies not ascending; frequencies or
        temperatures not finite and > 0, empty or not 1-d; ``normalisation`` not finite and > 0;
        unknown method.

    Notes
    -----
    Source: docs/PHYSICS.md section 2 (golden rule, normalisation, line kernel).
    """
    normalisation = v.positive("normalisation", normalisation)
    q = _thermal_response(spectrum, stress_elements, frequencies, temperatures, broadening,
                          method, dispersive=False)
    return absorption_from(q, normalisation)


def _thermal_response(spectrum, stress_elements, frequencies, temperatures, broadening, method,
                      dispersive: bool) -> np.ndarray:
    """sum_n p_n(T) F_n(w) (absorptive) or sum_n p_n(T) H_n(w) (dispersive), shape (n_T, n_w)."""
    broadening = Broadening() if broadening is None else broadening
    stress_elements = _check_stress(check_spectrum(spectrum), stress_elements)
    frequencies, _ = _check_inputs(spectrum, stress_elements, frequencies, broadening, dispersive)
    temperatures = v.positive_array("temperatures", temperatures)
    _check_method(method, broadening)
    if not np.any(stress_elements):  # a run warns at its preflight (runs.spec); the API here
        warnings.warn("stress_elements are all 0 (no stress operator: a model with "
                      "stress.distribution = 'none' and no two-body or random-matrix stress): "
                      f"the {'velocity shift' if dispersive else 'absorption'} is exactly 0",
                      UserWarning, stacklevel=3)
    # a run warns at its preflight (runs.spec); the functions of the API warn here (a tester)
    broadening.warn_if_wider_than_frequency(frequencies, stacklevel=3)
    # the narrowest and the widest driven line in one pass over T_mn (bt227 F3 needs both)
    narrowest, widest = _driven_line_range(spectrum.energies, stress_elements)
    # the velocity shift too: the same arguments, the same unit slip (bt220 F5)
    warn_if_far_above_lines(spectrum, stress_elements, frequencies,
                            "velocity_shift" if dispersive else "absorption", widest=widest)
    warn_if_far_above_temperatures(temperatures, widest, "temperatures", "every line the stress "
                                   "drives in this spectrum (the widest is", stacklevel=4)
    warn_if_far_below(narrowest, temperatures,
                      "line the stress drives", "velocity shift's temperature dependence"
                      if dispersive else "absorption", frequencies, stacklevel=4)
    im, re = resonant_responses(spectrum, stress_elements, frequencies, temperatures, broadening,
                                absorptive=not dispersive, dispersive=dispersive, method=method)
    return re if dispersive else im


def driven_line_scale(energies, stress_elements) -> float:
    """The widest line the stress drives (K; :func:`_widest_driven_line`): the scale a
    spectrum's temperatures are compared with. E_max - E_0 grew with N, so 30 and 300 typed for
    mK passed at N = 10 (a tester, bt217 F1), as frequencies did before session 38."""
    energies = np.asarray(energies)
    return _widest_driven_line(energies, np.asarray(stress_elements)) if energies.size else 0.0


def _widest_driven_line(energies: np.ndarray, stress_elements: np.ndarray,
                        rows: int = 1024) -> float:
    """The largest E_m - E_n (K) over pairs with T_mn != 0 (beyond 1e-12 of max |T|): the
    widest line the stress drives. E_max - E_0 grows with N while a one-body stress drives
    single flips only, so 5 typed for 5 GHz went unwarned at N >= 6 (a tester, session 38).
    Row chunks keep the mask at ``rows`` x D (no D x D temporary)."""
    if not stress_elements.size:
        return 0.0
    # max |T| without a D x D copy (absorption() may be called at N = 14: 2 GB per copy)
    threshold = 1e-12 * max(float(stress_elements.max()), -float(stress_elements.min()))
    widest, d = 0.0, energies.size
    for start in range(0, d, rows):
        mask = np.abs(stress_elements[start:start + rows]) > threshold
        driven = mask.any(axis=1)
        if not driven.any():
            continue
        last = d - 1 - np.argmax(mask[:, ::-1], axis=1)  # the highest state each row drives
        gaps = energies[last] - energies[start:start + rows]
        widest = max(widest, float(np.max(np.where(driven, gaps, 0.0))))
    return widest


def _driven_line_range(energies: np.ndarray, stress_elements: np.ndarray) -> tuple[float, float]:
    """(narrowest, widest) E_m - E_n > 0 (K) over pairs with T_mn != 0 (beyond 1e-12 of max |T|)
    in one pass over T_mn, (inf, 0) when none: the narrowest is compared with the temperatures
    and frequencies (bt227 F3), the widest as :func:`_widest_driven_line` gives it. Row chunks
    of at most 2^21 elements (no D x D temporary)."""
    energies = np.asarray(energies)
    if not stress_elements.size or not energies.size:
        return math.inf, 0.0
    threshold = 1e-12 * max(float(stress_elements.max()), -float(stress_elements.min()))
    tolerance = 1e-12 * max(1.0, float(np.max(np.abs(energies))))
    d = energies.size
    rows = max(1, 2**21 // d)
    narrowest, widest = math.inf, 0.0
    for start in range(0, d, rows):
        gaps = energies[None, :] - energies[start:start + rows, None]
        driven = (np.abs(stress_elements[start:start + rows]) > threshold) & (gaps > tolerance)
        if driven.any():
            lines = gaps[driven]
            narrowest = min(narrowest, float(lines.min()))
            widest = max(widest, float(lines.max()))
    return narrowest, widest


def resonant_responses(
    spectrum: Spectrum,
    stress_elements: np.ndarray,
    frequencies: np.ndarray,
    temperatures: np.ndarray,
    broadening: Broadening,
    *,
    absorptive: bool = True,
    dispersive: bool = False,
    method: str = "exact",
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Raw absorptive and dispersive pair sums, one pair spectrum shared by both.

    A kernel of absolute width is evaluated for all frequencies at once; a relative-width kernel
    (``broadening.scaling = "relative"``) one frequency at a time, each with the width
    ``broadening.at(w)``.

    Parameters
    ----------
    spectrum, stress_elements
        As :func:`pair_spectrum`.
    frequencies, temperatures : numpy.ndarray
        w and T (K), already validated, shapes (n_w,) and (n_T,).
    broadening : Broadening
        Line kernel.
    absorptive, dispersive : bool
        Which of the two sums to compute.
    method : {"exact", "binned"}
        See :func:`pair_spectrum`.

    Returns
    -------
    (im_chi, re_chi)
        sum_n p_n F_n(w) and sum_n p_n H_n(w), each (n_T, n_w) or None when not asked for.
    """
    w = np.asarray(frequencies, dtype=np.float64)
    t = np.asarray(temperatures, dtype=np.float64)
    groups = ([(slice(None), broadening)] if not broadening.relative
              else [(slice(k, k + 1), broadening.at(wk)) for k, wk in enumerate(w)])
    im = np.empty((t.size, w.size)) if absorptive else None
    re = np.empty((t.size, w.size)) if dispersive else None
    for columns, kernel in groups:
        pairs = pair_spectrum(spectrum, stress_elements, w[columns], kernel, method=method)
        if im is not None:
            im[:, columns] = pairs.absorption(w[columns], t)
        if re is not None:
            re[:, columns] = pairs.dispersion(w[columns], t)
            if kernel.kind == "histogram":
                _mark_box_edges(re, spectrum.energies, stress_elements, w, columns, kernel.width)
    return im, re


def _mark_box_edges(re: np.ndarray, energies: np.ndarray, stress_elements: np.ndarray,
                    frequencies: np.ndarray, columns: slice, width: float) -> None:
    """NaN (and a :class:`BoxEdgeWarning`) in the columns of ``re`` whose frequency w has a
    driven transition |E_m - E_n| on an edge w +- eta/2 of the box kernel, exactly or within
    round-off (1000 eps of the energy scale): there the box's dispersive kernel
    ln|(u + eta/2)/(u - eta/2)| / eta diverges. An exact hit was refused for the whole call
    (session 34) and one within round-off returned a number set by the round-off of u (a tester,
    session 43: -863 and +842 at the two edges of a line where a Gaussian gives -37 and +34);
    both are now this one NaN per column, so a sweep keeps its other frequencies."""
    e = np.asarray(energies, dtype=np.float64)
    # max |T| without a D x D copy, as in _widest_driven_line
    threshold = (1e-12 * max(float(stress_elements.max()), -float(stress_elements.min()))
                 if stress_elements.size else 0.0)
    scale = float(np.max(np.abs(e)))
    for k in range(*columns.indices(frequencies.size)):
        wk = float(frequencies[k])
        tol = 1e3 * np.finfo(np.float64).eps * (scale + wk + width)
        for edge in (abs(wk - 0.5 * width), wk + 0.5 * width):
            if edge <= tol:  # w = eta/2: the pair's two terms cancel (degenerate pairs)
                continue
            lo = np.searchsorted(e, e + edge - tol, side="left")
            hi = np.searchsorted(e, e + edge + tol, side="right")
            hit = next(((n, m) for n in np.flatnonzero(hi > lo) for m in range(lo[n], hi[n])
                        if abs(float(stress_elements[n, m])) > threshold), None)
            if hit is not None:
                n, m = hit
                re[:, k] = np.nan
                warnings.warn(
                    f"the velocity shift at w = {wk:.6g} K is NaN: the transition E_m - E_n = "
                    f"{e[m] - e[n]:.6g} K (states {n}, {m}) lies on an edge w +- eta/2 of the box "
                    f"kernel (eta = {width:.6g} K) within round-off, where the box's velocity "
                    "shift diverges; use a gaussian or lorentzian kernel, or move w off the edge",
                    BoxEdgeWarning, stacklevel=5)
                break


def velocity_shift(
    spectrum: Spectrum,
    stress_elements: np.ndarray,
    frequencies,
    temperatures,
    broadening: Broadening | None = None,
    normalisation: float = 1.0,
    method: str = "exact",
) -> np.ndarray:
    """Resonant velocity shift delta v / v (w, T) = -(normalisation / 2) Re chi(w, T).

    With ``normalisation = absorption_normalisation(params)`` the result is in units of C0 (the
    canonical ensemble gives a slope +1 in ln T for T >> w). Arguments as :func:`absorption`; the
    default exact pair sum is accurate to ~1e-8 relative (the binned grid to ~1 %).

    Parameters
    ----------
    spectrum, stress_elements, frequencies, temperatures, broadening, method
        As :func:`absorption`: a Spectrum (E_n in K, shape (D,)), T_mn real (D, D) (K per unit
        strain), w and T (K) 1-d finite > 0.
    normalisation : float
        Finite and > 0; ``absorption_normalisation(params)`` gives units of C0.

    Returns
    -------
    numpy.ndarray
        delta v / v, shape (n_T, n_w), defined up to a temperature-independent constant only
        through the model's own spectrum (no constant is subtracted).

    Warns
    -----
    FarAboveSpectrumWarning
        As :func:`absorption`: a frequency above ten times the widest line the stress drives
        (the shift there is the ~1/w^2 tail of lines far away; most likely GHz typed as K), or
        temperatures all far above it.

    Raises
    ------
    TypeError, ValueError
        As :func:`absorption`.

    Notes
    -----
    Source: docs/PHYSICS.md section 3 (the dispersion sum, broadened principal value).
    """
    normalisation = v.positive("normalisation", normalisation)
    chi = _thermal_response(spectrum, stress_elements, frequencies, temperatures, broadening,
                            method, dispersive=True)
    return velocity_shift_from(chi, normalisation)


def emission_stripped(q: np.ndarray, frequencies, temperatures) -> np.ndarray:
    """S+(w, T) = Q^-1 / (1 - exp(-w/T)): absorption out of occupied states, shape of ``q``.

    For one TLS S+ = 1 / (1 + e^{-x}) (in units of its line weight); for a generic block with a
    flat density of states over ~T it is constant. Source: docs/PHYSICS.md section 2
    (emission-stripped absorption).

    Parameters
    ----------
    q : array_like
        Q^-1(w, T), shape (..., n_T, n_w), real and finite (e.g. from :func:`absorption`).
    frequencies : array_like
        w (K), shape (n_w,), finite and > 0.
    temperatures : array_like
        T (K), shape (n_T,), finite and > 0.

    Returns
    -------
    numpy.ndarray
        S+, the shape of ``q``.

    Raises
    ------
    TypeError
        Arguments that are not real numbers.
    ValueError
        q not ending in shape (n_T, n_w) or with NaN/inf; frequencies or temperatures not
        finite and > 0.
    """
    w = v.positive_array("frequencies", frequencies)
    t = v.positive_array("temperatures", temperatures)
    q = v.real_array("q", q)
    if q.shape[-2:] != (t.size, w.size):
        raise ValueError(f"q must end in shape (n_T, n_w) = {(t.size, w.size)}, got {q.shape}")
    return q / -np.expm1(-w[None, :] / t[:, None])


def transition_lines(
    spectrum: Spectrum, stress_elements: np.ndarray, temperature: float, min_weight: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """All upward lines w_mn > 0 with their weights (p_n - p_m)|T_mn|^2 at one temperature.

    The lines of the golden-rule sum of docs/PHYSICS.md section 2, before the line kernel.

    Parameters
    ----------
    spectrum : Spectrum
        Energies (K), shape (D,).
    stress_elements : array_like
        T_mn (K per unit strain), real, shape (D, D).
    temperature : float
        T (K), finite and > 0 (an array of one element is taken as its number; a longer one is
        refused: call once per temperature).
    min_weight : float
        Drop lines with |T_mn|^2 <= min_weight (K^2), finite and >= 0.

    Returns
    -------
    frequencies, weights : numpy.ndarray
        Line positions (K) and weights, sorted by frequency.

    Raises
    ------
    TypeError
        ``spectrum`` not a Spectrum; arguments that are not real numbers.
    ValueError
        stress_elements not (D, D) or with NaN/inf; temperature not finite and > 0; min_weight
        negative or not finite.
    """
    stress_elements = _check_stress(check_spectrum(spectrum), stress_elements)
    temperature = v.positive("temperature", v.single("temperature", temperature))
    min_weight = v.non_negative("min_weight", min_weight)
    p = boltzmann_weights(spectrum.energies, [temperature])[0]
    e = spectrum.energies
    m, n = np.nonzero(e[:, None] > e[None, :])
    t2 = np.asarray(stress_elements, dtype=np.float64)[m, n] ** 2
    keep = t2 > min_weight
    m, n, t2 = m[keep], n[keep], t2[keep]
    omega = e[m] - e[n]
    weight = (p[n] - p[m]) * t2
    order = np.argsort(omega, kind="stable")
    return omega[order], weight[order]
