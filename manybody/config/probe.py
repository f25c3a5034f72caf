"""What is measured on each realisation: the line kernel, the observables and the probe.

:class:`Broadening` (the line kernel standing in for delta(w - w_mn)), :class:`MatrixElementBins`
(the (E_m - E_0, w_mn) bins of the |T_mn|^2 statistics), the observable registry (name ->
dimensions of one realisation's array and units; a sweep stacks them along its axes and
"realisation") and :class:`Probe` (frequencies, temperatures, kernel, observables, bins, phonon
bath).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from manybody.support import validate as v
from manybody.units import BOLTZMANN, HBAR

#: omega (s^-1) per kelvin, k_B / hbar: a rate in s^-1 over this is a line half width in K.
KELVIN_TO_ANGULAR_FREQUENCY = BOLTZMANN / HBAR
#: Names of the material presets of the phonon bath (their values: manybody.simulation.materials).
PHONON_PRESETS = ("a-SiO2",)


#: A relative kernel width eta / w must stay below this (a line as wide as half its frequency).
RELATIVE_WIDTH_LIMIT = 0.5
#: ... and at least this, and an absolute width at least this fraction of the highest frequency
#: probed (:meth:`Broadening.check_resolution`): the argument w - E_mn of the kernel carries a
#: round-off of ~1e-16 w, so a kernel of 1e-30 K made Q^-1 jump between 1.9e29 and 0 for changes
#: of w of 1e-15 (session 43), and the binned grid could not step below w at all (a hang).
MIN_RELATIVE_WIDTH = 1e-9
#: ... and for the velocity shift at least this (:meth:`Broadening.check_resolution` with
#: ``dispersive``): the dispersive kernel has the slope ~1/eta^2 at a line, so a round-off delta
#: of w - E_mn moves the shift of a line within a width of w by ~2 delta w / eta^2 of itself.
#: delta is at least one rounding step of w (1e-16 w): measured, single TLS on resonance, 280 %
#: at eta = 1e-9 w, 3 % at 1e-7 w, 3e-6 at 1e-5 w. At 1e-9 w the binned method gave -9.1 and
#: the exact one -1.22, each set by round-off (a tester, session 43). The eigenvalues carry a
#: round-off of ~1e-16 max|E_n| too, so for a spectrum whose energies are S times w the error at
#: this floor is ~3e-6 S (0.3 % at S = 1000: w = 1 mK beside levels of 1 K; a break test, session
#: 44): the floor only keeps out results set by round-off; eta ~ w/5 is far from it.
MIN_DISPERSIVE_RELATIVE_WIDTH = 1e-5


class WideKernelWarning(UserWarning):
    """An absolute line kernel at least :data:`RELATIVE_WIDTH_LIMIT` of the lowest probe
    frequency: it smears the response over a range as wide as the frequency
    (:meth:`Broadening.warn_if_wider_than_frequency`, :meth:`Probe.warn_if_kernel_wider_than_frequency`).
    A run says it once for its whole sweep and silences it in its tasks."""


#: Largest one-phonon prefactor K_ph (s^-1 K^-3) accepted: glasses lie near 1e7-1e9 (a-SiO2
#: 4.9e7); the same prefactor in SI units (s^-1 J^-3) is ~1e76 and was taken silently (session 26).
MAX_RATE_PREFACTOR = 1e15


def rate_prefactor(where: str, value) -> float:
    """A numeric one-phonon prefactor K_ph (s^-1 K^-3): finite, > 0 and at most
    :data:`MAX_RATE_PREFACTOR`; ValueError naming ``where`` otherwise."""
    value = v.positive(where, value)
    if value > MAX_RATE_PREFACTOR:
        raise ValueError(f"{where} must be at most {MAX_RATE_PREFACTOR:g} s^-1 K^-3, got "
                         f"{value:g}: that is the scale of a prefactor in SI units (s^-1 J^-3); "
                         "give K_ph in s^-1 K^-3 (a-SiO2: 4.9e7) or the preset 'a-SiO2'")
    return value


@dataclass(frozen=True, kw_only=True)
class Broadening:
    """Line kernel that stands in for delta(w - w_mn).

    Parameters
    ----------
    kind : {"gaussian", "lorentzian", "histogram"}
        Normalised Gaussian (standard deviation ``width``), Lorentzian (half width at half maximum
        ``width``) or box of full width ``width`` (a binned histogram).
    width : float
        eta (K), or eta / w (dimensionless) with ``scaling = "relative"``. Should be small
        compared with w and with T, and large compared with the level spacing so that the
        disorder-averaged spectrum is smooth. At least MIN_RELATIVE_WIDTH = 1e-9 of the
        frequency (relative: on construction; absolute: where the frequencies are known, by
        :meth:`check_resolution`), and MIN_DISPERSIVE_RELATIVE_WIDTH = 1e-5 of it where the
        velocity shift is computed.
    resolution : int
        Grid nodes per width for the binned method (>= 4).
    scaling : {"absolute", "relative"}
        "absolute": one kernel width eta = ``width`` at every frequency. "relative": the kernel at
        frequency w has the width eta = ``width`` * w (``width`` < 0.5), the same relative
        resolution at every frequency -- what the frequency-collapse test needs, since a kernel
        of fixed eta smears Q(w, T) / A(w) at w and 2w differently (docs/PHYSICS.md section 7).
        Both solvers (the Chebyshev solver contracts its moments with the kernel of each w; the
        narrowest width, at the lowest w, sets the number of moments).
    """

    kind: str = "gaussian"
    width: float = 0.01
    resolution: int = 10
    scaling: str = "absolute"

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind",
                           v.choice("broadening.kind", self.kind, ("gaussian", "lorentzian", "histogram")))
        object.__setattr__(self, "width", v.positive("broadening.width", self.width))
        object.__setattr__(self, "resolution", v.integer("broadening.resolution", self.resolution, 4, 1000))
        object.__setattr__(self, "scaling",
                           v.choice("broadening.scaling", self.scaling, ("absolute", "relative")))
        if self.relative and self.width >= RELATIVE_WIDTH_LIMIT:
            raise ValueError(f"broadening.width must be < {RELATIVE_WIDTH_LIMIT:g} (eta / w) with "
                             "scaling = 'relative', "
                             f"got {self.width!r}")
        if self.relative and self.width < MIN_RELATIVE_WIDTH:
            raise ValueError(f"broadening.width must be at least {MIN_RELATIVE_WIDTH:g} (eta / w) "
                             "with scaling = 'relative': a narrower kernel is below the round-off "
                             f"of w - E (1e-16 w); got {self.width!r}")
        if not self.relative and self.width >= v.MAX_KELVIN:  # 1e10 K only warned (session 31)
            raise ValueError(f"broadening.width must be below {v.MAX_KELVIN:g} K (a line width, "
                             "like the frequencies and temperatures), got "
                             f"{self.width!r}")

    @property
    def relative(self) -> bool:
        """Whether the width is eta / w (``scaling = "relative"``)."""
        return self.scaling == "relative"

    def at(self, frequency: float) -> Broadening:
        """The kernel used at ``frequency`` w (K): itself for an absolute width, else the
        absolute kernel of width eta = width * w."""
        if not self.relative:
            return self
        return Broadening(kind=self.kind, width=self.width * float(frequency),
                          resolution=self.resolution)

    def check_resolution(self, frequencies, dispersive: bool = False) -> None:
        """ValueError unless the width is at least :data:`MIN_RELATIVE_WIDTH` of the highest of
        ``frequencies`` (K, finite > 0, already checked), or :data:`MIN_DISPERSIVE_RELATIVE_WIDTH`
        when the velocity shift is wanted (``dispersive``). A relative width is checked against
        the first on construction."""
        floor = MIN_DISPERSIVE_RELATIVE_WIDTH if dispersive else MIN_RELATIVE_WIDTH
        why = ("its dispersive kernel has the slope ~1/eta^2 at a line, so one rounding step of w "
               "(1e-16 w) would move the velocity shift of a line near w by ~3e-2 (1e-7 w / eta)^2 "
               "of itself (more when the spectrum's energies are large against w)" if dispersive else
               "a narrower kernel is below the round-off of w - E (1e-16 w), so the result would "
               "be set by round-off")
        what = " for the velocity shift" if dispersive else ""
        if self.relative:
            if self.width < floor * (1.0 - 1e-12):  # the same round-off slack as absolute
                raise ValueError(f"broadening.width must be at least {floor:g} (eta / w) with "
                                 f"scaling = 'relative'{what}: {why}; got {self.width!r}")
            return
        highest = float(np.max(frequencies))
        if self.width < floor * highest * (1.0 - 1e-12):
            raise ValueError(
                f"broadening.width must be at least {floor:g} of the highest frequency"
                f"{what} ({floor * highest:.3g} K at w = {highest:.6g} K): {why}; got "
                f"{self.width!r} K (a line kernel should be wide against the level spacing; the "
                "study uses eta = w/5)")

    def wider_than_frequency(self, lowest: float) -> bool:
        """Whether this kernel is absolute and at least :data:`RELATIVE_WIDTH_LIMIT` of the
        lowest frequency ``lowest`` (K): it smears the response over a range as wide as the
        frequency (the relative scaling refuses the same)."""
        return not self.relative and self.width >= RELATIVE_WIDTH_LIMIT * lowest

    def warn_if_wider_than_frequency(self, frequencies, stacklevel: int = 2) -> None:
        """One UserWarning when :meth:`wider_than_frequency` at the lowest of ``frequencies``:
        the warning of the Python API's solvers, dense ED (``absorption``, ``velocity_shift``)
        and Chebyshev (``chebyshev_absorption``, which had none: w = 1e-5 K under a kernel of
        0.02 K gave Q^-1 6 % off at 6.7 error bars without a word; a break test, session 53).
        A run warns once for its whole sweep instead (``runs.spec.preflight``). ``stacklevel``
        as :func:`warnings.warn`'s, counted from the caller of this method."""
        lowest = float(np.min(frequencies))
        if self.wider_than_frequency(lowest):
            import warnings

            warnings.warn(
                f"broadening.width = {self.width:g} K is at least {RELATIVE_WIDTH_LIMIT:g} of "
                f"the lowest frequency {lowest:g} K: the line kernel smears the response over a "
                "range as wide as the frequency (use a narrower kernel or a relative one)",
                WideKernelWarning, stacklevel=stacklevel + 1)

    def _check_absolute(self) -> None:
        if self.relative:  # a programming error: the caller must take .at(w) first
            raise ValueError("a relative-width kernel has no width of its own: evaluate "
                             "broadening.at(frequency) first")

    def kernel(self, u: np.ndarray) -> np.ndarray:
        """K(u) (1/K), normalised to unit area (absolute width; see :meth:`at`)."""
        self._check_absolute()
        eta = self.width
        if self.kind == "gaussian":
            return np.exp(-0.5 * (u / eta) ** 2) / (eta * math.sqrt(2.0 * math.pi))
        if self.kind == "lorentzian":
            return (eta / math.pi) / (u * u + eta * eta)
        return np.where(np.abs(u) < 0.5 * eta, 1.0 / eta, 0.0)

    def dispersive(self, u: np.ndarray) -> np.ndarray:
        """R(u) (1/K): the broadened principal value of 1/u (Hilbert-transform partner of pi K)."""
        self._check_absolute()
        eta = self.width
        if self.kind == "gaussian":
            from scipy.special import dawsn  # scipy only when a kernel is evaluated: config stays light

            return (math.sqrt(2.0) / eta) * dawsn(u / (math.sqrt(2.0) * eta))
        if self.kind == "lorentzian":
            return u / (u * u + eta * eta)
        # principal value of 1/u averaged over the box: (1/eta) ln|(u + eta/2)/(u - eta/2)|
        with np.errstate(divide="ignore"):
            return np.log(np.abs((u + 0.5 * eta) / (u - 0.5 * eta))) / eta



@dataclass(frozen=True, kw_only=True)
class MatrixElementBins:
    """Bins of the |T_mn|^2 statistics: E_m - E_0 of the upper level and w_mn = E_m - E_n > 0.

    Parameters
    ----------
    energy : tuple of float
        Edges (K) of the E_m - E_0 bins: at least 2, >= 0, strictly increasing.
    frequency : tuple of float
        Edges (K) of the w_mn bins: at least 2, > 0, strictly increasing (usually log-spaced).
    """

    energy: tuple[float, ...]
    frequency: tuple[float, ...]

    def __post_init__(self) -> None:
        for name, low in (("energy", "non_negative"), ("frequency", "positive")):
            where = f"matrix_element_bins.{name}"
            value = getattr(self, name)
            if isinstance(value, str | bytes) or not isinstance(value, list | tuple | np.ndarray):
                raise TypeError(f"{where} must be a list of bin edges in K, got {v._describe(value)}")
            edges = np.atleast_1d(v.real_array(where, value))
            if edges.ndim != 1 or edges.size < 2:
                raise ValueError(f"{where} needs at least 2 bin edges (one bin), got {edges.size}")
            if low == "positive" and np.any(edges <= 0):
                raise ValueError(f"{where} must be > 0 (w_mn > 0), got minimum {float(edges.min())!r}")
            if low == "non_negative" and np.any(edges < 0):
                raise ValueError(f"{where} must be >= 0 (E_m - E_0 >= 0), got minimum "
                                 f"{float(edges.min())!r}")
            if np.any(np.diff(edges) <= 0):
                raise ValueError(f"{where} must be strictly increasing, got {edges.tolist()!r}")
            object.__setattr__(self, name, tuple(float(x) for x in edges))


#: Homogeneous line shapes of the saturation drive (manybody.simulation.observables.saturation).
SATURATION_LINES = ("lorentzian", "gaussian")
#: Largest strain amplitude e0 taken: a strain of 1 (100 %) is far beyond any material and the
#: rotating-wave steady state; real drives are 1e-9 to 1e-4 (1e300 overflowed e0^2 into NaN
#: results, a tester, session 34).
MAX_STRAIN_AMPLITUDE = 1.0


def check_strain_amplitudes(where: str, values: np.ndarray) -> None:
    """Refuse strain amplitudes e0 below 0 or above MAX_STRAIN_AMPLITUDE, naming ``where``."""
    if np.any(values < 0):
        raise ValueError(f"{where} must be >= 0 (strain amplitude e0), got "
                         f"{float(values.min())!r}")
    if np.any(values > MAX_STRAIN_AMPLITUDE):
        raise ValueError(f"{where} must be <= {MAX_STRAIN_AMPLITUDE:g} (a strain amplitude e0: "
                         f"real drives are 1e-9 to 1e-4), got {float(values.max())!r}")


@dataclass(frozen=True, kw_only=True)
class SaturationDrive:
    """The drive of the ``saturation`` observable (PHYSICS.md section 8).

    Parameters
    ----------
    amplitudes : tuple of float
        Strain amplitudes e0 (dimensionless), finite, >= 0, at least one: the drive
        e0 cos(w t) T couples n and m with the Rabi frequency Omega_nm = e0 |T_mn| k_B / hbar
        (T_mn in K per unit strain, ``model.stress.deformation_potential`` sets its scale). The
        power is proportional to e0^2. One steady state per amplitude, temperature and frequency.
    dephasing_rate : float
        Pure-dephasing rate gamma_phi (s^-1), finite, >= 0, added to every pair's
        1/T2 = (sum of the two states' phonon out-rates)/2; the line half width in K is
        1/(T2 * 1.309e11 s^-1 K^-1). Must be > 0 with the Lorentzian line: phonon-limited widths
        are far below the level spacing of a finite system (PHYSICS.md section 8).
    line : {"lorentzian", "gaussian"}
        Line shape of the drive rates: Lorentzian of half width hbar / (k_B T2) (the Bloch line)
        or Gaussian of that standard deviation.
    """

    amplitudes: tuple[float, ...]
    dephasing_rate: float = 0.0
    line: str = "lorentzian"

    def __post_init__(self) -> None:
        where = "probe.saturation.amplitudes"
        if isinstance(self.amplitudes, str | bytes) or not isinstance(self.amplitudes,
                                                                       list | tuple | np.ndarray):
            raise TypeError(f"{where} must be a list of strain amplitudes e0 >= 0, got "
                            f"{v._describe(self.amplitudes)}")
        values = check_drive_amplitudes(where, self.amplitudes)
        object.__setattr__(self, "amplitudes", tuple(float(x) for x in values))
        rate, line = check_drive_line("probe.saturation.", self.dephasing_rate, self.line)
        object.__setattr__(self, "dephasing_rate", rate)
        object.__setattr__(self, "line", line)


def check_drive_amplitudes(where: str, amplitudes) -> np.ndarray:
    """Strain amplitudes e0 of a drive, shape (A,): a non-empty 1-d list (one number is one
    amplitude), each finite, in [0, MAX_STRAIN_AMPLITUDE] and given once (the rules of
    :class:`SaturationDrive`, shared with
    :func:`manybody.simulation.observables.saturation.saturated_absorption`; bt211 F5).

    Raises
    ------
    ValueError
        Empty or 2-d, non-finite, negative, too large or repeated values, naming ``where``.
    """
    values = np.atleast_1d(v.real_array(where, amplitudes))
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{where} must be a non-empty list of strain amplitudes e0 >= 0, "
                         f"got {v._describe(amplitudes)}")
    check_strain_amplitudes(where, values)
    repeats = v.near_repeats(values)  # a repeated coordinate (sessions 25, 30)
    if repeats:
        raise ValueError(f"{where} has repeated values: {values.tolist()!r} "
                         f"({v.describe_repeats(repeats)}); give each amplitude once")
    return values


def check_drive_line(prefix: str, dephasing_rate, line,
                     require_dephasing: bool = True) -> tuple[float, str]:
    """(gamma_phi, line) of a drive: gamma_phi >= 0 (s^-1), the line one of
    :data:`SATURATION_LINES`, and gamma_phi > 0 with the Lorentzian line (the rules of
    :class:`SaturationDrive`, shared with
    :func:`manybody.simulation.observables.saturation.saturated_absorption`).

    Parameters
    ----------
    prefix : str
        Put before the parameter names in messages ("probe.saturation." or "").
    require_dephasing : bool
        Refuse gamma_phi = 0 with the Lorentzian line (a probe's ensemble of many levels); False
        for one given spectrum, where phonon-limited widths (T2 = 2 T1 of one TLS, the Bloch
        limit) are a case of their own.
    """
    rate = v.non_negative(f"{prefix}dephasing_rate", dephasing_rate)
    line = v.choice(f"{prefix}line", line, SATURATION_LINES)
    if require_dephasing and line == "lorentzian" and rate == 0:
        raise ValueError(f"{prefix}dephasing_rate must be > 0 (s^-1) with the Lorentzian line, "
                         "got 0 (its default when not given): phonon-limited line widths are far "
                         "below the level spacing of a finite system (give the pure dephasing, "
                         "e.g. 1e9 s^-1 = 7.6 mK)")
    return rate, line


#: Observables a run can ask for: name -> (dimensions of one realisation's array, units).
#: A sweep stacks them along its sweep axes and "realisation"; new observables register here.
OBSERVABLE_DIMS: dict[str, tuple[tuple[str, ...], str]] = {
    "absorption": (("temperature", "frequency"), "pi*C0"),
    "velocity_shift": (("temperature", "frequency"), "C0"),
    "specific_heat": (("temperature",), "k_B"),
    "spacing_ratio": ((), "1"),
    "relaxation_absorption": (("temperature", "frequency"), "pi*C0"),
    "relaxation_velocity_shift": (("temperature", "frequency"), "C0"),
    # |T_mn|^2 statistics (Probe.matrix_element_bins): per realisation the sum of |T_mn|^2 over
    # the pairs m, n with E_m > E_n in each bin, and the number of those pairs; sums pool over
    # realisations (the study's ratio estimator), means would not
    "stress_squared_sum": (("energy_bin", "frequency_bin"), "K^2"),
    "pair_count": (("energy_bin", "frequency_bin"), "1"),
    # decomposition of the absorption (PHYSICS.md section 7; dense solver, TLS models only):
    # static-configuration-bath prediction with thermal and with infinite-temperature
    # configuration probabilities, and the fraction of the absorbed weight in single-TLS transitions
    "configuration_bath_absorption": (("temperature", "frequency"), "pi*C0"),
    "configuration_bath_absorption_infinite": (("temperature", "frequency"), "pi*C0"),
    "single_tls_fraction": (("temperature", "frequency"), "1"),
    # driven steady state (Probe.saturation; dense solver, needs the phonon bath): Q^-1 at each
    # strain amplitude e0 of probe.saturation.amplitudes (PHYSICS.md section 8)
    "saturation": (("temperature", "frequency", "amplitude"), "pi*C0"),
}
#: Statistical errors reported by the Chebyshev solver (and as zeros by dense ED in runs whose
#: solver method is "chebyshev" or "auto", so every task of a run has the same variables).
for _name in ("absorption", "velocity_shift", "specific_heat"):
    OBSERVABLE_DIMS[f"{_name}_error"] = OBSERVABLE_DIMS[_name]
OBSERVABLES = tuple(k for k in OBSERVABLE_DIMS if not k.endswith("_error"))
ERROR_OBSERVABLES = tuple(k for k in OBSERVABLE_DIMS if k.endswith("_error"))
#: Observables computed when a probe names none.
DEFAULT_OBSERVABLES = ("absorption", "velocity_shift", "specific_heat", "spacing_ratio")
#: Observables that need a phonon bath (``Probe.phonon_rate_prefactor``).
RELAXATION_OBSERVABLES = ("relaxation_absorption", "relaxation_velocity_shift")
#: Observables of the driven steady state (``Probe.saturation``; also need the phonon bath).
SATURATION_OBSERVABLES = ("saturation",)
#: Observables binned by ``Probe.matrix_element_bins``.
MATRIX_ELEMENT_OBSERVABLES = ("stress_squared_sum", "pair_count")
#: Observables built on the TLS structure (s^z basis of N TLS, eps_i, Delta_i, gamma_i): refused
#: for models without a TLS term (``model.tls`` None) and by solvers without eigenstates.
DECOMPOSITION_OBSERVABLES = ("configuration_bath_absorption", "configuration_bath_absorption_infinite",
                             "single_tls_fraction")
#: What observables need from the probe: (attribute, the observables, what to give).
_REQUIREMENTS = (
    ("phonon_rate_prefactor", RELAXATION_OBSERVABLES + SATURATION_OBSERVABLES,
     "phonon_rate_prefactor (K_ph in s^-1 K^-3, or a material preset such as 'a-SiO2'; "
     "without relaxation rates a drive has no steady state)"),
    ("matrix_element_bins", MATRIX_ELEMENT_OBSERVABLES,
     "matrix_element_bins (edges of E_m - E_0 and of w_mn in K)"),
    ("saturation", SATURATION_OBSERVABLES,
     "probe.saturation (amplitudes: strain amplitudes e0 >= 0; dephasing_rate in s^-1; line)"),
)
#: Observables whose values depend on the line kernel (probe.broadening).
KERNEL_OBSERVABLES = ("absorption", "velocity_shift", "configuration_bath_absorption",
                      "configuration_bath_absorption_infinite", "single_tls_fraction")


@dataclass(frozen=True, kw_only=True)
class Probe:
    """What is measured on each realisation.

    Parameters
    ----------
    frequencies : tuple of float
        w (K) at which Q^-1 and delta v / v are computed.
    temperatures : tuple of float
        T (K).
    broadening : Broadening
        Line kernel.
    observables : tuple of str
        Subset of ``OBSERVABLES`` (default ``DEFAULT_OBSERVABLES``).
    phonon_rate_prefactor : float or str, optional
        K_ph (s^-1 K^-3) of the one-phonon bath, or a material preset name such as "a-SiO2";
        required by the relaxation observables (PHYSICS.md section 4).
    matrix_element_bins : MatrixElementBins, optional
        Bins of "stress_squared_sum" and "pair_count"; required by them, refused without them.
    saturation : SaturationDrive, optional
        Drive amplitudes and line of the "saturation" observable; required by it (with
        ``phonon_rate_prefactor``: a drive without a phonon bath has no steady state), refused
        without it.
    """

    frequencies: tuple[float, ...]
    temperatures: tuple[float, ...]
    broadening: Broadening = field(default_factory=Broadening)
    observables: tuple[str, ...] = DEFAULT_OBSERVABLES
    phonon_rate_prefactor: float | str | None = None
    matrix_element_bins: MatrixElementBins | None = None
    saturation: SaturationDrive | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "frequencies",
                           tuple(float(x) for x in v.probe_axis("frequencies", self.frequencies)))
        object.__setattr__(self, "temperatures",
                           tuple(float(x) for x in v.probe_axis("temperatures", self.temperatures)))
        if isinstance(self.observables, str) or not isinstance(self.observables,
                                                               list | tuple):
            raise TypeError(f"observables must be a list of names from {', '.join(OBSERVABLES)}, "
                            f"got {v._describe(self.observables)}")
        object.__setattr__(self, "observables", tuple(self.observables))
        if not self.observables:
            raise ValueError(f"observables must name at least one of {', '.join(OBSERVABLES)}")
        for name in self.observables:
            v.choice("observables entry", name, OBSERVABLES)
        if len(set(self.observables)) != len(self.observables):
            raise ValueError(f"observables has repeated entries: {list(self.observables)!r}")
        self._refuse_missing_requirements()
        if isinstance(self.phonon_rate_prefactor, str):
            v.choice("phonon_rate_prefactor (a material preset name or K_ph in s^-1 K^-3)",
                     self.phonon_rate_prefactor, PHONON_PRESETS)
        elif self.phonon_rate_prefactor is not None:
            object.__setattr__(self, "phonon_rate_prefactor",
                               rate_prefactor("phonon_rate_prefactor", self.phonon_rate_prefactor))
        if not isinstance(self.broadening, Broadening):
            raise TypeError(f"broadening must be a Broadening, got {type(self.broadening).__name__}")
        self.broadening.check_resolution(self.frequencies,
                                         dispersive="velocity_shift" in self.observables)
        self._check_matrix_element_bins()
        self._check_saturation()

    def kernel_wider_than_frequency(self) -> tuple[float, float] | None:
        """(width, lowest frequency) (K) when the kernel is absolute, at least
        :data:`RELATIVE_WIDTH_LIMIT` of the lowest frequency, and an observable asked for uses
        it (:data:`KERNEL_OBSERVABLES`); else None. Such a kernel smears Q^-1 over a range as
        wide as the frequency (a Lorentzian of 0.5 K at w = 0.1 K passed silently; a reviewer,
        session 26); the relative scaling refuses the same."""
        lowest = min(self.frequencies)
        if (set(KERNEL_OBSERVABLES) & set(self.observables)
                and self.broadening.wider_than_frequency(lowest)):
            return self.broadening.width, lowest
        return None

    def warn_if_kernel_wider_than_frequency(self, stacklevel: int = 2) -> None:
        """One :class:`WideKernelWarning` when :meth:`kernel_wider_than_frequency`: the warning
        of :func:`manybody.simulation.observe.observe`, which had none (a run warned, and the
        solvers' own APIs; session 53's note). ``stacklevel`` as :func:`warnings.warn`'s,
        counted from the caller of this method."""
        if self.kernel_wider_than_frequency() is not None:
            self.broadening.warn_if_wider_than_frequency(self.frequencies,
                                                         stacklevel=stacklevel + 1)

    def _check_saturation(self) -> None:
        """The drive is given only when "saturation" is asked for (that it is given then, with a
        phonon bath: :meth:`_refuse_missing_requirements`), and its line is not wider than the
        frequencies."""
        wanted = "saturation" in self.observables
        if self.saturation is not None and not isinstance(self.saturation, SaturationDrive):
            raise TypeError(f"saturation must be a SaturationDrive, got "
                            f"{type(self.saturation).__name__}")
        if self.saturation is not None and not wanted:
            raise ValueError("probe.saturation is only used by the observable 'saturation'; ask "
                             "for it or drop the table")
        if wanted:  # a line wider than the frequency is resonant with nothing (session 26)
            half_width = self.saturation.dephasing_rate / KELVIN_TO_ANGULAR_FREQUENCY
            if half_width > max(self.frequencies):
                raise ValueError(
                    f"probe.saturation.dephasing_rate = {self.saturation.dephasing_rate:g} s^-1 "
                    f"makes every line {half_width:.3g} K wide, wider than the highest probe "
                    f"frequency {max(self.frequencies):g} K: the drive is resonant with nothing; "
                    "give the pure-dephasing rate in s^-1 (1e9 s^-1 = 7.6 mK)")

    def _refuse_missing_requirements(self) -> None:
        """Refuse observables whose inputs the probe lacks, all of them in one message (they came
        one at a time: the relaxation observables' phonon_rate_prefactor, then after the fix the
        matrix-element observables' bins; a tester, bt196)."""
        missing = []
        for key, needed_by, what in _REQUIREMENTS:
            wanted = [name for name in self.observables if name in needed_by]
            if wanted and getattr(self, key) is None:
                many = len(wanted) > 1
                missing.append(f"observable{'s' if many else ''} {', '.join(map(repr, wanted))} "
                               f"need{'' if many else 's'} {what}")
        if missing:
            raise ValueError("; ".join(missing))

    def _check_matrix_element_bins(self) -> None:
        """The bins are given only when a matrix-element observable is asked for (that they
        are given then: :meth:`_refuse_missing_requirements`)."""
        wanted = [name for name in MATRIX_ELEMENT_OBSERVABLES if name in self.observables]
        bins = self.matrix_element_bins
        if bins is not None and not isinstance(bins, MatrixElementBins):
            raise TypeError(f"matrix_element_bins must be a MatrixElementBins, got "
                            f"{type(bins).__name__}")
        if bins is not None and not wanted:
            raise ValueError("matrix_element_bins is only used by the observables "
                             f"{list(MATRIX_ELEMENT_OBSERVABLES)!r}; ask for them or drop the bins")
#: Smallest N for observables that need several levels: the spacing ratio needs >= 3 distinct
#: levels in the central 80 % of the 2^N levels (statistics.spacing_ratios), i.e. 2^N >= 4.
OBSERVABLE_MIN_TLS: dict[str, tuple[int, str]] = {
    "spacing_ratio": (2, "needs at least 3 levels in the central 80 % of the 2^N spectrum"),
}
