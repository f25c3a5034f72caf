"""Parameters of a model ensemble (frozen dataclasses): the TLS term, two-body couplings, the
random-matrix block, the stress operator and (optionally) equilibration on a measurement time.

A :class:`ModelParams` describes an ensemble; :func:`manybody.simulation.ensembles.draw_realisation`
turns it into one realisation. The Hamiltonian and stress operator they parametrise are written out
in :mod:`manybody.simulation.ensembles` and docs/PHYSICS.md.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from manybody.config.probe import PHONON_PRESETS, rate_prefactor
from manybody.support import validate as v

#: Largest number of TLS any model accepts (the solvers have their own, smaller limits).
MAX_TLS = 30
#: Energies of a model (K) must lie below this: far above any glass below 1 K; a value in the
#: wrong unit, or 1e308 (an overflow in the draw, session 26), is refused.
MAX_ENERGY = v.MAX_KELVIN
#: A model energy other than 0 must be at least this (K): far below any physics, and such that
#: ratios of energies (ln(Delta_max / Delta_min) normalises P(Delta)) and their squares stay
#: finite and normal. Delta_min = 1e-320 K, a subnormal number, made that ratio inf and every
#: absorption inf without a word (a tester, bt196).
MIN_ENERGY = 1e-100


def _energy(where: str, value, allow_zero: bool = False) -> float:
    """A model energy (K): finite, > 0 (>= 0 with ``allow_zero``), at least :data:`MIN_ENERGY`
    when not 0 and below :data:`MAX_ENERGY`."""
    value = v.non_negative(where, value) if allow_zero else v.positive(where, value)
    if value >= MAX_ENERGY:
        raise ValueError(f"{where} must be below {MAX_ENERGY:g} K (the model's energies are in "
                         f"kelvin), got {value!r}")
    if 0 < value < MIN_ENERGY:
        zero = "0 or " if allow_zero else ""
        raise ValueError(f"{where} must be {zero}at least {MIN_ENERGY:g} K (ratios and squares of "
                         f"the model's energies must stay finite), got {value!r}")
    return value


#: Smallest growth_temperature / weight of an exponential block: below it the D levels, which
#: lie within ~T_s ln D of the band's top W, are spaced by ~T_s / D, near the round-off of W
#: (T_s = 1e-12 K under W = 1 K put the 8 levels within 2e-12 K, and 1e-300 K made 7 distinct
#: levels of 8; a break test, session 45).
MIN_GROWTH_RATIO = 1e-9


def check_growth_ratio(where: str, growth_temperature: float, weight_name: str,
                       weight: float) -> None:
    """Refuse an exponential block's T_s below MIN_GROWTH_RATIO of its bandwidth W (ValueError
    naming both)."""
    if weight > 0 and growth_temperature < MIN_GROWTH_RATIO * weight:
        raise ValueError(f"{where} must be at least {MIN_GROWTH_RATIO:g} of {weight_name} "
                         f"(= {weight:g} K) for an exponential block, got {growth_temperature:g} "
                         f"K: its levels would crowd within ~T_s ln D of the band's top, at the "
                         f"round-off of W")


#: A stress magnitude (K per unit strain) must lie in [MIN_STRESS, MAX_STRESS): far beyond any
#: deformation potential (~1 eV = 1.2e4 K), and such that |T_mn|^2 and the normalisation 1/gamma^2
#: neither over- nor underflow (gamma = 1e160 gave Q = NaN, 1e200 and 1e-200 an OverflowError and
#: a ZeroDivisionError in absorption_normalisation; a break test, session 45).
MAX_STRESS = 1e100
MIN_STRESS = 1e-100


#: Largest ratio of a two-body or random-matrix stress to the deformation potential gamma, which
#: normalises every observable (1/gamma^2): far above any model (rms of 0.3-1 gamma), and such
#: that |T/gamma|^2 cannot overflow (session 45).
MAX_STRESS_RATIO = 1e6


def _stress_scale(where: str, value, allow_zero: bool = False) -> float:
    """A stress magnitude (K per unit strain): finite, in [MIN_STRESS, MAX_STRESS) (or 0)."""
    value = v.non_negative(where, value) if allow_zero else v.positive(where, value)
    if value >= MAX_STRESS or 0 < value < MIN_STRESS:
        zero = "0 or " if allow_zero else ""
        raise ValueError(f"{where} must be {zero}between {MIN_STRESS:g} and {MAX_STRESS:g} (K per "
                         f"unit strain; its square enters every observable), got {value!r}")
    return value


#: Coupling components a user may supply, in the order (first site, second site).
COUPLING_COMPONENTS = ("zz", "xx", "xz", "zx")


@dataclass(frozen=True, kw_only=True)
class TLSParams:
    """Canonical TTLS ensemble P(eps, Delta) ~ 1/Delta, per TLS.

    Parameters
    ----------
    asymmetry_max : float
        eps_max (K): asymmetries are uniform on [-eps_max, eps_max].
    tunnelling_min, tunnelling_max : float
        Delta_min, Delta_max (K): ln(Delta) is uniform on [ln Delta_min, ln Delta_max].
    """

    asymmetry_max: float = 1.0
    tunnelling_min: float = 1e-3
    tunnelling_max: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "asymmetry_max", _energy("tls.asymmetry_max", self.asymmetry_max))
        object.__setattr__(self, "tunnelling_min", _energy("tls.tunnelling_min", self.tunnelling_min))
        object.__setattr__(self, "tunnelling_max", _energy("tls.tunnelling_max", self.tunnelling_max))
        if self.tunnelling_min >= self.tunnelling_max:
            raise ValueError(
                "tls.tunnelling_min must be < tls.tunnelling_max, got "
                f"{self.tunnelling_min!r} >= {self.tunnelling_max!r}"
            )

    @property
    def log_range(self) -> float:
        """ln(Delta_max / Delta_min)."""
        return math.log(self.tunnelling_max / self.tunnelling_min)


@dataclass(frozen=True, kw_only=True)
class CouplingParams:
    """Random two-body couplings K_ij s^a_i s^b_j.

    Parameters
    ----------
    kind : {"gaussian", "dipolar"}
        "gaussian": all-to-all K_ij ~ N(0, J0^2). "dipolar": elastic dipolar
        K_ij = J0 c_ij (r0 / r_ij)^3 with TLS at uniform random positions in a periodic cube of side
        L = N^(1/3) r0 (minimum-image distances) and c_ij a random orientation factor of unit rms.
    strength : float
        J0 (K).
    orientation : {"uniform", "gaussian"}
        Distribution of c_ij for "dipolar": uniform on [-sqrt(3), sqrt(3)] or standard normal.
    min_distance : float
        Pairs closer than this (units of r0) are placed at this distance (a hard core); 0 disables.
    components : tuple of str
        Which s^a s^b components to draw, each independently (default ("zz",)). Each is a
        symmetric matrix; "zz" and "xx" are summed over i<j, the mixed "xz" and "zx" over all
        i != j (each pair gets K_ij (s^x_i s^z_j + s^z_i s^x_j) from "xz").
    """

    kind: str = "gaussian"
    strength: float = 0.0
    orientation: str = "uniform"
    min_distance: float = 0.0
    components: tuple[str, ...] = ("zz",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", v.choice("coupling.kind", self.kind, ("gaussian", "dipolar")))
        object.__setattr__(self, "strength", _energy("coupling.strength", self.strength, True))
        object.__setattr__(self, "orientation",
                           v.choice("coupling.orientation", self.orientation, ("uniform", "gaussian")))
        object.__setattr__(self, "min_distance", v.non_negative("coupling.min_distance", self.min_distance))
        if isinstance(self.components, str) or not isinstance(self.components, list | tuple):
            raise TypeError("coupling.components must be a list of names from zz, xx, xz, zx, "
                            f"got {v._describe(self.components)}")
        object.__setattr__(self, "components", tuple(self.components))
        if not self.components:
            raise ValueError("coupling.components must name at least one of zz, xx, xz, zx")
        for c in self.components:
            v.choice("coupling.components entry", c, COUPLING_COMPONENTS)
        if len(set(self.components)) != len(self.components):
            raise ValueError(f"coupling.components has repeated entries: {list(self.components)!r}")


@dataclass(frozen=True, kw_only=True)
class RandomMatrixParams:
    """A random-matrix ("generic block") term on the full 2^N space.

    Parameters
    ----------
    kind : {"goe", "flat", "exponential"}
        "goe": weight * G with G a radius-1 GOE matrix (semicircle density). "flat" and
        "exponential": O diag(E) O^T with Haar-random orthogonal O and levels E on [0, weight]
        with a flat density or one growing like exp(E / growth_temperature).
    weight : float
        W or lambda (K): the GOE radius, or the bandwidth of a prescribed-density block.
    growth_temperature : float
        T_s (K) of the exponential density; ignored otherwise.
    level_statistics : {"goe", "poisson"}
        Local correlations of prescribed-density levels (unfolded GOE or independent).
    """

    kind: str = "goe"
    weight: float = 1.0
    growth_temperature: float = 1.0
    level_statistics: str = "goe"

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind",
                           v.choice("random_matrix.kind", self.kind, ("goe", "flat", "exponential")))
        object.__setattr__(self, "weight", _energy("random_matrix.weight", self.weight, True))
        object.__setattr__(self, "growth_temperature",
                           _energy("random_matrix.growth_temperature", self.growth_temperature))
        if self.kind == "exponential":
            check_growth_ratio("random_matrix.growth_temperature", self.growth_temperature,
                               "random_matrix.weight", self.weight)
        object.__setattr__(self, "level_statistics",
                           v.choice("random_matrix.level_statistics", self.level_statistics,
                                    ("goe", "poisson")))


@dataclass(frozen=True, kw_only=True)
class StressParams:
    """The stress operator T (one polarisation).

    Parameters
    ----------
    deformation_potential : float
        gamma (K per unit strain): magnitude, or rms for "gaussian". Also gamma_rms of the
        absorption normalisation pi*C0.
    distribution : {"fixed", "random_sign", "gaussian", "none"}
        gamma_i = gamma, gamma_i = +-gamma, gamma_i ~ N(0, gamma^2), or no linear stress at all
        (gamma_i = 0, e.g. a pure random-matrix stress; gamma then only sets the normalisation).
    two_body : float
        rms of the Gaussian two-body stress K^T_ij s^z_i s^z_j (K per unit strain); 0 disables.
    random_matrix : float
        mu (K per unit strain), weight of a random-matrix stress; 0 disables.
    random_matrix_kind : {"goe", "eth"}
        "goe": independent radius-1 GOE matrix. "eth": GOE-like in the random block's eigenbasis
        with variance exp(-(Ebar - E_0)/eth_energy_scale) (needs a "flat" or "exponential" block).
    eth_energy_scale : float
        Energy scale (K) of the ETH variance.
    """

    deformation_potential: float = 1.0
    distribution: str = "fixed"
    two_body: float = 0.0
    random_matrix: float = 0.0
    random_matrix_kind: str = "goe"
    eth_energy_scale: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "deformation_potential",
                           _stress_scale("stress.deformation_potential",
                                         self.deformation_potential))
        v.choice("stress.distribution", self.distribution,
                 ("fixed", "random_sign", "gaussian", "none"))
        object.__setattr__(self, "two_body", _stress_scale("stress.two_body", self.two_body, True))
        object.__setattr__(self, "random_matrix",
                           _stress_scale("stress.random_matrix", self.random_matrix, True))
        for name in ("two_body", "random_matrix"):  # each in range, but 1e99 beside gamma = 1e-99
            value = getattr(self, name)  # gave Q = inf: the normalisation is ~ 1/gamma^2
            if value > MAX_STRESS_RATIO * self.deformation_potential:
                raise ValueError(
                    f"stress.{name} must be at most {MAX_STRESS_RATIO:g} times "
                    f"stress.deformation_potential (= {self.deformation_potential:g}), which sets "
                    f"the observables' normalisation, got {value:g}: give both in one unit")
        object.__setattr__(self, "random_matrix_kind",
                           v.choice("stress.random_matrix_kind", self.random_matrix_kind, ("goe", "eth")))
        object.__setattr__(self, "eth_energy_scale",
                           _energy("stress.eth_energy_scale", self.eth_energy_scale))


@dataclass(frozen=True, kw_only=True)
class EquilibrationParams:
    """Equilibration on a measurement time scale (docs/PHYSICS.md section 7.5).

    TLS whose one-phonon relaxation time tau_i(T) = 1 / (K_ph (gamma_i/gamma)^2 Delta_i^2 E_i
    coth(E_i/2T)) exceeds ``measurement_time`` are frozen: they keep a classical z-configuration
    drawn at their freezing temperature and act as static fields on the others
    (:mod:`manybody.simulation.equilibration`).

    Parameters
    ----------
    measurement_time : float
        t_m (s), > 0: the time scale of the measurement (default 1 s).
    bath : str or float
        The phonon bath: a material preset name (``PHONON_PRESETS``, default "a-SiO2") or the
        one-phonon rate prefactor K_ph (s^-1 K^-3), > 0.

    Raises
    ------
    TypeError, ValueError
        A measurement time that is not a finite number > 0, or a bath that is neither a preset
        name nor a number > 0 (the message names the parameter and the value).
    """

    measurement_time: float = 1.0
    bath: str | float = "a-SiO2"

    def __post_init__(self) -> None:
        object.__setattr__(self, "measurement_time",
                           v.positive("equilibration.measurement_time (s)", self.measurement_time))
        if isinstance(self.bath, str):
            v.choice("equilibration.bath (a material preset name or K_ph in s^-1 K^-3)",
                     self.bath, PHONON_PRESETS)
        else:
            object.__setattr__(self, "bath", rate_prefactor(
                "equilibration.bath (a material preset name or K_ph in s^-1 K^-3)", self.bath))


#: Fraction of the pairs a hard core may hold at min_distance before it is warned about.
HELD_PAIRS = 0.05


#: The TLS term of a :class:`ModelParams` whose ``tls`` was not given: one shared instance, so
#: that the model can tell "not given" (this object) from an explicit ``TLSParams()`` (equal to
#: it, so hashes, cache keys and results do not change).
UNSTATED_TLS = TLSParams()


@dataclass(frozen=True, kw_only=True)
class ModelParams:
    """A whole model ensemble: which terms are present and their parameters.

    Parameters
    ----------
    n_tls : int
        Number of TLS N (Hilbert-space dimension 2^N).
    tls : TLSParams or None
        The independent-TLS term; default ``TLSParams()``, i.e. eps_max = Delta_max = 1 K,
        Delta_min = 1e-3 K, also when a ``random_matrix`` is given (a TLS + random-matrix mixture;
        a UserWarning says so when ``tls`` is not given beside a random matrix of weight > 0). None
        for a pure random-matrix block (the defaults then still serve as the reference ensemble of
        the pi*C0 normalisation). In a spec: a ``[model.tls]`` table, or ``tls = false``.
    coupling : CouplingParams or None
        Two-body couplings; None for independent TLS.
    random_matrix : RandomMatrixParams or None
        Random-matrix term; None for none.
    stress : StressParams
        The stress operator.
    equilibration : EquilibrationParams or None
        Equilibration on a measurement time (frozen slow TLS); None (default): every TLS is in
        thermal equilibrium at every temperature. Needs a TLS term with linear stress coupling and
        no random-matrix terms (they act on the whole 2^N space, which freezing does not split).
    """

    n_tls: int
    tls: TLSParams | None = field(default_factory=lambda: UNSTATED_TLS)
    coupling: CouplingParams | None = None
    random_matrix: RandomMatrixParams | None = None
    stress: StressParams = field(default_factory=StressParams)
    equilibration: EquilibrationParams | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_tls", v.integer("n_tls", self.n_tls, 1, MAX_TLS))
        for name, cls, optional in (("tls", TLSParams, True), ("coupling", CouplingParams, True),
                                    ("random_matrix", RandomMatrixParams, True),
                                    ("stress", StressParams, False),
                                    ("equilibration", EquilibrationParams, True)):
            value = getattr(self, name)
            if not isinstance(value, cls) and not (optional and value is None):
                raise TypeError(f"{name} must be a {cls.__name__}{' or None' if optional else ''}"
                                f", got {v._describe(value)}")
        if self.tls is None and self.random_matrix is None:
            raise ValueError("model has no Hamiltonian: give tls, random_matrix, or both")
        if (self.tls is None and self.random_matrix.weight == 0
                and (self.coupling is None or self.coupling.strength == 0)):
            # every realisation would have H = 0 (refused when drawn; session 34)
            raise ValueError("model has no Hamiltonian: random_matrix.weight = 0 without tls or "
                             "couplings gives H = 0; give tls or a weight > 0")
        if (self.random_matrix is not None and self.random_matrix.weight > 0
                and self.tls is UNSTATED_TLS):
            # a "random-matrix block" built as ModelParams(n_tls=N, random_matrix=...) was a
            # mixture with TLS of 1 K, 10x a GOE weight of 0.1 K, without a word (bt211 F2); at
            # weight 0 (a sweep's baseline) the model is the TLS term alone, nothing to warn of
            tls = self.tls
            warnings.warn(
                f"tls is not given beside random_matrix (weight {self.random_matrix.weight:g} K), "
                f"so the model keeps the default TLS term TLSParams(asymmetry_max="
                f"{tls.asymmetry_max:g}, tunnelling_min={tls.tunnelling_min:g}, tunnelling_max="
                f"{tls.tunnelling_max:g}) K: a TLS + random-matrix mixture; give tls=None for a "
                "pure random-matrix block or tls=TLSParams(...) for the mixture you mean (in a "
                "spec: tls = false or a [model.tls] table)", UserWarning, stacklevel=3)
        if self.stress.random_matrix_kind == "eth" and self.stress.random_matrix > 0:
            if self.random_matrix is None or self.random_matrix.kind == "goe":
                raise ValueError(
                    "stress.random_matrix_kind 'eth' needs random_matrix.kind 'flat' or "
                    f"'exponential' (its eigenbasis), got random_matrix={self.random_matrix!r}"
                )
        if self.equilibration is not None:
            self._check_equilibration()
        if self.coupling is not None and self.coupling.kind == "dipolar":
            self._check_min_distance()

    def _check_min_distance(self) -> None:
        """A hard core reaching the largest minimum-image distance (sqrt(3)/2 L, L = N^(1/3) r0)
        holds every pair at it: the dipolar model became uniform all-to-all couplings
        J0 c_ij / d^3 without a word (min_distance = 5 at N = 8; a new user, session 35).
        Refused there; a warning when more than :data:`HELD_PAIRS` of the pairs would be held
        (the fraction (4 pi / 3) d^3 / N of uniformly placed pairs, for d below L / 2)."""
        d = self.coupling.min_distance
        if d == 0 or self.n_tls < 2:  # one TLS has no pair to hold (the preflight says the
            # hard core has no effect; it warned of 52 % of its pairs held, or refused, bt207 F6)
            return
        side = self.n_tls ** (1.0 / 3.0)
        farthest = 0.5 * math.sqrt(3.0) * side
        if d >= farthest:
            raise ValueError(
                f"coupling.min_distance = {d:g} r0 reaches the largest distance two of {self.n_tls} "
                f"TLS can have in their periodic cube (side N^(1/3) = {side:.3g} r0, farthest "
                f"{farthest:.3g} r0): every pair would be held at it and the couplings lose their "
                "1/r^3 structure; a hard core is a fraction of r0 (e.g. 0.2)")
        held = min(1.0, 4.0 * math.pi / 3.0 * d**3 / self.n_tls)
        if held > HELD_PAIRS:
            warnings.warn(
                f"coupling.min_distance = {d:g} r0 holds about {held:.0%} of the pairs of "
                f"{self.n_tls} TLS at that distance (uniform positions): the model is no longer "
                "dipolar at short range; a hard core is a fraction of r0 (e.g. 0.2)",
                UserWarning, stacklevel=3)

    def _check_equilibration(self) -> None:
        """Equilibration needs TLS that relax by one phonon and no random-matrix terms."""
        if self.random_matrix is not None or self.stress.random_matrix > 0:
            raise ValueError(
                "equilibration (measurement_time) cannot be combined with random-matrix terms: they "
                "act on the whole 2^N space, which freezing single TLS does not split; drop "
                "[model.equilibration] or the random_matrix / stress.random_matrix terms")
        if self.tls is None:
            raise ValueError("equilibration (measurement_time) needs the TLS term [model.tls]")
        if self.stress.distribution == "none":
            raise ValueError(
                "equilibration (measurement_time) needs a linear stress coupling gamma_i (the "
                "one-phonon relaxation rate is proportional to gamma_i^2), got "
                "stress.distribution = 'none'")

    @property
    def reference_tls(self) -> TLSParams:
        """The TLS ensemble that defines the pi*C0 normalisation."""
        return self.tls if self.tls is not None else TLSParams()

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "model") -> ModelParams:
        """Build from a nested mapping (e.g. a TOML table); unknown keys are rejected, and a
        ``random_matrix`` table must give its ``weight``: the dataclass's default of 1 K is the
        order of the largest TLS energies of the default ensemble (hypot(1, 1) = 1.41 K) but
        far above those of a model of smaller TLS (the study's reach hypot(0.3, 0.3) = 0.42 K),
        so the block's scale is the user's choice, not a default."""
        if not isinstance(data, dict | MappingProxyType) and not hasattr(data, "keys"):
            raise TypeError(f"{where} must be a table of keys, got {v._describe(data)}")
        v.string_keys(where, data)
        sections = {
            "tls": TLSParams,
            "coupling": CouplingParams,
            "random_matrix": RandomMatrixParams,
            "stress": StressParams,
            "equilibration": EquilibrationParams,
        }
        data = dict(data)
        kwargs: dict[str, Any] = {}
        for name, sub in sections.items():
            if name in data:
                value = data.pop(name)
                if (value is None or value is False) and name != "stress":
                    kwargs[name] = None
                elif (name == "random_matrix" and hasattr(value, "keys") and "weight" not in value
                      and not set(map(str, value)) - _init_fields(RandomMatrixParams)):
                    # (a misspelt 'wieght' is named by from_mapping, with the key it resembles)
                    # an empty [model.random_matrix] table added a 1 K GOE block, above every
                    # TLS energy, without a word (a new user, session 35): the scale is given
                    raise ValueError(
                        f"{where}.random_matrix.weight is required: the block's energy scale in K "
                        f"(e.g. weight = 0.1; {_tls_reach(kwargs.get('tls', TLSParams()))}); "
                        "0 switches the block off")
                else:
                    kwargs[name] = v.from_mapping(sub, value, f"{where}.{name}")
        if "n_tls" in data:
            kwargs["n_tls"] = data.pop("n_tls")
        if data:
            raise ValueError(v.unknown_keys(sorted(data), ["n_tls", *sections], where))
        if "n_tls" not in kwargs:
            raise ValueError(f"{where}.n_tls is required (number of TLS, an integer >= 1)")
        return cls(**kwargs)


def model_params(name: str, value: object) -> ModelParams:
    """``value`` if it is a :class:`ModelParams`, else a TypeError naming ``name`` (a dict or None
    gave an AttributeError deep inside the function it was passed to; sessions 39 and 48)."""
    if not isinstance(value, ModelParams):
        raise TypeError(f"{name} must be a ModelParams (ModelParams.from_dict turns a table into "
                        f"one), got {type(value).__name__}")
    return value


def _tls_reach(tls: TLSParams | None) -> str:
    """Where this model's TLS energies reach, computed from its TLS parameters (the defaults
    when none are given), for messages: a number written into a message went stale (it said
    "0.3 K by default" of defaults of 1 K; a tester, session 39)."""
    if tls is None:
        return "the model has no TLS term"
    given = "" if tls != TLSParams() else ", the defaults"
    return (f"the TLS energies reach hypot(tls.asymmetry_max, tls.tunnelling_max) = "
            f"hypot({tls.asymmetry_max:g}, {tls.tunnelling_max:g}) = "
            f"{math.hypot(tls.asymmetry_max, tls.tunnelling_max):.3g} K{given}")


def _init_fields(cls: type) -> set[str]:
    """The names a dataclass takes in its constructor."""
    return {f.name for f in dataclasses.fields(cls) if f.init}
