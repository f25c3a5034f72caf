"""Disorder realisations of a model ensemble drawn from a Generator, and their normalisation.

A :class:`~manybody.config.model.ModelParams` describes an ensemble; :func:`draw_realisation`
turns it into one :class:`Realisation` (explicit arrays) using an explicit
:class:`numpy.random.Generator`. A user with their own numbers builds a :class:`Realisation`
directly with :meth:`Realisation.from_arrays`.

The Hamiltonian (all energies in K, Pauli matrices with eigenvalues +-1)::

    H = sum_i (eps_i s^z_i + Delta_i s^x_i) / 2            # independent TLS
      + sum_{i<j} (K^zz_ij s^z_i s^z_j + K^xx_ij s^x_i s^x_j)  # two-body couplings
      + sum_{i!=j} (K^xz_ij s^x_i s^z_j + K^zx_ij s^z_i s^x_j)    # (optional mixed components)
      + H_RM                                                # random-matrix block on all 2^N states

and the stress operator (one polarisation)::

    T = sum_i gamma_i s^z_i + sum_{i<j} K^T_ij s^z_i s^z_j + mu G_T.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from manybody.config.model import (
    COUPLING_COMPONENTS,
    MAX_TLS,
    CouplingParams,
    ModelParams,
    StressParams,
    TLSParams,
    check_growth_ratio,
    model_params,
)
from manybody.support import validate as v

#: Largest energy magnitude (K) of a realisation given by arrays: far above anything physical
#: (drawn ensembles stay below 1000 K, but a dipolar pair without a hard core may exceed it), low
#: enough that the solver's sums of squares cannot overflow (1e308 did: session 26).
_OVERFLOW_ENERGY = 1e100

_PER_TLS = " (one value per TLS; a single number only for N = 1)"


#: Kinds of a random-matrix term by its role: the Hamiltonian's block, or the stress.
HAMILTONIAN_RANDOM_KINDS = ("goe", "flat", "exponential")
STRESS_RANDOM_KINDS = ("goe", "eth")


@dataclass(frozen=True, kw_only=True)
class RandomMatrixTerm:
    """A random-matrix operator fixed by its parameters and a seed (drawn when H and T are built).

    As :class:`~manybody.config.model.RandomMatrixParams` (Hamiltonian) and
    :class:`~manybody.config.model.StressParams` (stress) describe them; docs/PHYSICS.md section 1.

    Attributes
    ----------
    kind : {"goe", "flat", "exponential", "eth"}
        Hamiltonian term: "goe" (weight * radius-1 GOE), "flat" or "exponential" (Haar
        eigenvectors, levels on [0, weight]). Stress term: "goe" (weight * radius-1 GOE) or "eth"
        (variance exp(-(Ebar - E_0)/growth_temperature) in the Hamiltonian block's eigenbasis).
        Which kinds fit which role is checked by :meth:`Realisation.from_arrays`.
    weight : float
        W (K) or mu (K per unit strain), finite and >= 0.
    seed : int
        Seed of the draw, >= 0.
    growth_temperature : float
        T_s (K) of the exponential density, or the ETH energy scale T_E (K); finite and > 0.
    level_statistics : {"goe", "poisson"}
        Local level correlations of a "flat" or "exponential" block.

    Raises
    ------
    TypeError, ValueError
        A field of the wrong type or out of range, named (a NaN weight gave T_mn all NaN, a
        negative one levels on [-1, 0], growth_temperature = 0 a ZeroDivisionError: a tester,
        session 34).
    """

    kind: str
    weight: float
    seed: int
    growth_temperature: float = 1.0
    level_statistics: str = "goe"

    def __post_init__(self) -> None:
        v.choice("RandomMatrixTerm.kind", self.kind, HAMILTONIAN_RANDOM_KINDS + ("eth",))
        object.__setattr__(self, "weight", v.non_negative("RandomMatrixTerm.weight", self.weight))
        if self.weight >= _OVERFLOW_ENERGY:  # as the asymmetry: 1e300 gave T_mn of 6e299
            raise ValueError(f"RandomMatrixTerm.weight must lie below {_OVERFLOW_ENERGY:g} (K, or K "
                             f"per unit strain), got {self.weight:g}")
        object.__setattr__(self, "seed", v.integer("RandomMatrixTerm.seed", self.seed, 0, v.MAX_SEED))
        object.__setattr__(self, "growth_temperature",
                           v.positive("RandomMatrixTerm.growth_temperature",
                                      self.growth_temperature))
        v.choice("RandomMatrixTerm.level_statistics", self.level_statistics, ("goe", "poisson"))
        if self.kind == "exponential":
            check_growth_ratio("RandomMatrixTerm.growth_temperature", self.growth_temperature,
                               "RandomMatrixTerm.weight", self.weight)


@dataclass(frozen=True, kw_only=True, eq=False)
class Realisation(v.ArrayFields):
    """One disorder realisation: every number needed to build H and T (docs/PHYSICS.md section 1).

    Build it with :meth:`from_arrays` or :func:`draw_realisation`; the constructor itself
    validates as :meth:`from_arrays` does (a NaN asymmetry given to it directly gave finite
    energies, a tester, session 34), with ``couplings`` any mapping and ``deformation_potential``
    required.

    Attributes
    ----------
    n_tls : int
        N.
    asymmetry, tunnelling : numpy.ndarray or None
        eps_i and Delta_i (K), shape (N,); None when the model has no TLS term.
    couplings : Mapping[str, numpy.ndarray]
        K^{ab}_ij (K), full (N, N) matrices keyed by component "zz", "xx", "xz", "zx"; the term is
        sum_{i<j} K^{aa}_ij s^a_i s^a_j for the symmetric "zz" and "xx", and
        sum_{i!=j} K^{ab}_ij s^a_i s^b_j for the mixed "xz" and "zx" (any matrix, zero diagonal).
    deformation_potential : numpy.ndarray
        gamma_i (K per unit strain), shape (N,).
    stress_coupling : numpy.ndarray or None
        K^T_ij (K per unit strain), symmetric (N, N), or None.
    random_matrix : RandomMatrixTerm or None
        Hamiltonian random-matrix term.
    stress_random_matrix : RandomMatrixTerm or None
        Random-matrix stress (kind "goe" or "eth").
    positions : numpy.ndarray or None
        TLS positions (units of r0), shape (N, 3), for dipolar couplings.
    """

    n_tls: int
    asymmetry: np.ndarray | None
    tunnelling: np.ndarray | None
    couplings: MappingProxyType
    deformation_potential: np.ndarray
    stress_coupling: np.ndarray | None = None
    random_matrix: RandomMatrixTerm | None = None
    stress_random_matrix: RandomMatrixTerm | None = None
    positions: np.ndarray | None = None

    READ_ONLY_ARRAYS = (
        "asymmetry", "tunnelling", "deformation_potential", "stress_coupling", "positions")

    def __setstate__(self, state: dict) -> None:
        """Unpickled or deep-copied: its arrays read-only again (:class:`v.ArrayFields`), the
        coupling matrices too."""
        super().__setstate__(state)
        for matrix in self.couplings.values():
            matrix.setflags(write=False)

    @property
    def dimension(self) -> int:
        """Hilbert-space dimension 2^N."""
        return 2**self.n_tls

    @property
    def energies(self) -> np.ndarray | None:
        """Single-TLS splittings E_i = sqrt(eps_i^2 + Delta_i^2) (K), or None."""
        if self.asymmetry is None:
            return None
        return np.hypot(self.asymmetry, self.tunnelling)

    @classmethod
    def from_arrays(
        cls,
        *,
        asymmetry: Any = None,
        tunnelling: Any = None,
        couplings: dict[str, Any] | None = None,
        deformation_potential: Any = None,
        stress_coupling: Any = None,
        random_matrix: RandomMatrixTerm | None = None,
        stress_random_matrix: RandomMatrixTerm | None = None,
        positions: Any = None,
        n_tls: int | None = None,
    ) -> Realisation:
        """Build a realisation from explicit arrays, with full validation.

        Parameters
        ----------
        asymmetry, tunnelling : array_like, shape (N,)
            eps_i and Delta_i (K), finite. Give both or neither (neither needs ``n_tls``). A
            single number is one TLS (N = 1).
        couplings : dict of str to array_like (N, N), optional
            K^{ab}_ij (K) keyed by "zz", "xx", "xz", "zx". The sums differ by component:
            "zz" and "xx" enter as sum_{i<j} K^{aa}_ij s^a_i s^a_j, each pair once, so the matrix
            must be symmetric and K_ij = K_ji is the whole coupling of the pair (a non-symmetric
            or one-triangle matrix is refused, not halved or mirrored); "xz" and "zx" enter as
            sum_{i!=j} K^{ab}_ij s^a_i s^b_j, every ordered pair, so any matrix is accepted and a
            symmetric K^xz gives each pair K_ij (s^x_i s^z_j + s^z_i s^x_j). Diagonals must be zero
            (s^a_i s^a_i = 1 is a constant, not a coupling).
        deformation_potential : array_like, shape (N,), optional
            gamma_i (K per unit strain); default 1 for every TLS. A single number only for N = 1
            (as for the asymmetry: one value per TLS, never broadcast).
        stress_coupling : array_like (N, N), optional
            Symmetric K^T_ij (K per unit strain) with zero diagonal.
        random_matrix, stress_random_matrix : RandomMatrixTerm, optional
            Random-matrix terms.
        positions : array_like (N, 3), optional
            Positions (units of r0), kept for reference.
        n_tls : int, optional
            N, required when no asymmetry is given (an ``int``: 2.0 is refused, as by
            ModelParams).

        Raises
        ------
        TypeError
            Arrays of non-numbers (complex, strings, booleans), ``n_tls`` not an integer,
            ``couplings`` not a mapping, random-matrix terms not RandomMatrixTerm.
        ValueError
            Mismatched lengths (the message gives the expected shape), empty or 2-d arrays,
            non-finite values, non-symmetric matrices, non-zero diagonals, unknown components.

        Notes
        -----
        The model is that of docs/PHYSICS.md section 1 (TLS, two-body couplings, stress operator).
        """
        v.check_aligned(asymmetry=asymmetry, tunnelling=tunnelling,
                          deformation_potential=deformation_potential,
                          stress_coupling=stress_coupling)
        if n_tls is not None:
            n_tls = v.integer("n_tls", n_tls, 1, MAX_TLS)
        if (asymmetry is None) != (tunnelling is None):
            raise ValueError("asymmetry and tunnelling must be given together (or both omitted)")
        if asymmetry is not None:
            n = v.real_vector("asymmetry", asymmetry, hint=_PER_TLS).size
            if n_tls is not None and n_tls != n:
                raise ValueError(f"n_tls={n_tls} does not match len(asymmetry)={n}")
        elif n_tls is None:
            raise ValueError("n_tls is required when no asymmetry/tunnelling arrays are given")
        else:
            n = n_tls
        n = v.integer("n_tls", n, 1, MAX_TLS)
        return cls(
            n_tls=n,
            asymmetry=asymmetry,
            tunnelling=tunnelling,
            couplings=couplings if couplings is not None else {},
            deformation_potential=(np.ones(n) if deformation_potential is None
                                   else deformation_potential),
            stress_coupling=stress_coupling,
            random_matrix=random_matrix,
            stress_random_matrix=stress_random_matrix,
            positions=positions,
        )

    def __post_init__(self) -> None:
        """Validate and freeze every field (the rules of :meth:`from_arrays`)."""
        n = v.integer("n_tls", self.n_tls, 1, MAX_TLS)
        asymmetry, tunnelling = self.asymmetry, self.tunnelling
        if (asymmetry is None) != (tunnelling is None):
            raise ValueError("asymmetry and tunnelling must be given together (or both omitted)")
        if asymmetry is not None:
            asymmetry, tunnelling = _tls_arrays(n, asymmetry, tunnelling)
        gamma = v.real_vector("deformation_potential", self.deformation_potential, n,
                              hint=_PER_TLS)
        if np.any(np.abs(gamma) >= _OVERFLOW_ENERGY):  # 1e160 gave Q = NaN (session 45)
            raise ValueError(f"deformation_potential must lie within +-{_OVERFLOW_ENERGY:g} (K per "
                             f"unit strain), got {float(np.max(np.abs(gamma))):g}")
        couplings = self.couplings
        if not isinstance(couplings, Mapping):
            raise TypeError("couplings must be a mapping of component to (N, N) matrix, e.g. "
                            f"{{'zz': K}}, got {type(couplings).__name__}")
        checked: dict[str, np.ndarray] = {}
        for key, matrix in couplings.items():
            v.choice("couplings key", key, COUPLING_COMPONENTS)
            checked[key] = _coupling_matrix(f"couplings[{key!r}]", matrix, n, key in ("zz", "xx"))
            if np.any(np.abs(checked[key]) >= _OVERFLOW_ENERGY):
                raise ValueError(f"couplings[{key!r}] must lie within +-{_OVERFLOW_ENERGY:g} K, "
                                 f"got {float(np.max(np.abs(checked[key]))):g}")
        stress_coupling = self.stress_coupling
        if stress_coupling is not None:
            stress_coupling = _coupling_matrix("stress_coupling", stress_coupling, n, True)
            if np.any(np.abs(stress_coupling) >= _OVERFLOW_ENERGY):
                raise ValueError(f"stress_coupling must lie within +-{_OVERFLOW_ENERGY:g} (K per "
                                 f"unit strain), got {float(np.max(np.abs(stress_coupling))):g}")
        positions = self.positions
        if positions is not None:
            positions = v.real_array("positions", positions, (n, 3))
        random_matrix = self.random_matrix
        _check_random_terms(random_matrix, self.stress_random_matrix)
        no_tls = asymmetry is None or not (np.any(asymmetry) or np.any(tunnelling))
        no_block = random_matrix is None or random_matrix.weight == 0
        if no_tls and no_block and not any(np.any(matrix != 0) for matrix in checked.values()):
            # zero arrays or a block of weight 0 gave H = 0 too (a tester, session 34)
            raise ValueError("the realisation has no Hamiltonian (H = 0): give asymmetry and "
                             "tunnelling, non-zero couplings, or a random_matrix term")
        # frozen copies: freezing the validated arrays froze the caller's own (``eps *= 2`` then
        # failed), and a view of the caller's table changed the realisation when the table was
        # edited (a tester, session 39)
        asymmetry, tunnelling, gamma, stress_coupling, positions = (
            v.frozen_copy(a) for a in (asymmetry, tunnelling, gamma, stress_coupling, positions))
        checked = {key: v.frozen_copy(matrix) for key, matrix in checked.items()}
        for name, value in (("n_tls", n), ("asymmetry", asymmetry), ("tunnelling", tunnelling),
                            ("couplings", v.frozen_mapping(checked)),
                            ("deformation_potential", gamma), ("stress_coupling", stress_coupling),
                            ("positions", positions)):
            object.__setattr__(self, name, value)


def _tls_arrays(n: int, asymmetry: Any, tunnelling: Any) -> tuple[np.ndarray, np.ndarray]:
    """eps_i and Delta_i (K): finite, N each, within +-_OVERFLOW_ENERGY."""
    asymmetry = v.real_vector("asymmetry", asymmetry, hint=_PER_TLS)
    if asymmetry.size != n:
        raise ValueError(f"n_tls={n} does not match len(asymmetry)={asymmetry.size}")
    tunnelling = v.real_vector("tunnelling", tunnelling, n, hint=_PER_TLS)
    for name, values in (("asymmetry", asymmetry), ("tunnelling", tunnelling)):
        if np.any(np.abs(values) >= _OVERFLOW_ENERGY):  # 1e308 overflowed in the solve
            raise ValueError(f"{name} must lie within +-{_OVERFLOW_ENERGY:g} K (the model's "
                             "energies are in kelvin; sums of squares of larger ones overflow), "
                             f"got {float(np.max(np.abs(values))):g}")
    return asymmetry, tunnelling


def _check_random_terms(random_matrix: Any, stress_random_matrix: Any) -> None:
    """Each term a RandomMatrixTerm of a kind its role takes; an 'eth' stress on a prescribed
    block."""
    for name, term, kinds in (("random_matrix", random_matrix, HAMILTONIAN_RANDOM_KINDS),
                              ("stress_random_matrix", stress_random_matrix, STRESS_RANDOM_KINDS)):
        if term is None:
            continue
        if not isinstance(term, RandomMatrixTerm):
            raise TypeError(f"{name} must be a RandomMatrixTerm, got {type(term).__name__}")
        if term.kind not in kinds:
            raise ValueError(f"{name}.kind must be one of {', '.join(map(repr, kinds))}, got "
                             f"{term.kind!r}")
    if stress_random_matrix is not None and stress_random_matrix.kind == "eth":
        if random_matrix is None or random_matrix.kind not in ("flat", "exponential"):
            raise ValueError("an 'eth' stress random matrix needs a 'flat' or 'exponential' "
                             "random_matrix term (its eigenbasis)")


def _coupling_matrix(name: str, matrix: Any, n: int, symmetric: bool) -> np.ndarray:
    arr = v.real_array(name, matrix, (n, n))
    if np.any(np.diag(arr) != 0):
        raise ValueError(f"{name} must have a zero diagonal, got diagonal {v._describe(np.diag(arr))}")
    if symmetric and not np.allclose(arr, arr.T, rtol=1e-12, atol=1e-14 * max(1.0, np.abs(arr).max())):
        worst = np.abs(arr - arr.T).max()
        raise ValueError(f"{name} must be symmetric (K_ij = K_ji: the term sums each pair once, "
                         f"i<j, with the whole coupling K_ij; a one-triangle matrix is not "
                         f"mirrored), got max |K - K^T| = {worst:.3g}")
    return arr.copy()


def draw_tls(params: TLSParams, n_tls: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw (eps_i, Delta_i) (K) from the canonical distribution P(eps, Delta) ~ 1/Delta.

    Parameters
    ----------
    params : TLSParams
        Bounds eps_max, Delta_min, Delta_max (K).
    n_tls : int
        Number of TLS N.
    rng : numpy.random.Generator
        Source of randomness.

    Raises
    ------
    TypeError
        ``params`` not a TLSParams, ``n_tls`` not an integer, ``rng`` not a Generator.
    ValueError
        ``n_tls`` < 1.
    """
    params, n_tls, rng = _draw_arguments(params, TLSParams, n_tls, rng)
    asymmetry = rng.uniform(-params.asymmetry_max, params.asymmetry_max, size=n_tls)
    log_tunnelling = rng.uniform(
        math.log(params.tunnelling_min), math.log(params.tunnelling_max), size=n_tls
    )
    return asymmetry, np.exp(log_tunnelling)


def random_positions(n_tls: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform random positions in a cube of side L = N^(1/3) (units of r0), shape (N, 3).

    Raises
    ------
    TypeError, ValueError
        ``n_tls`` not an integer >= 1, ``rng`` not a Generator.
    """
    _, n_tls, rng = _draw_arguments(None, None, n_tls, rng)
    return rng.uniform(0.0, n_tls ** (1.0 / 3.0), size=(n_tls, 3))


def periodic_distances(positions: np.ndarray, min_distance: float = 0.0) -> np.ndarray:
    """Minimum-image distances r_ij (units of r0) in the periodic cube of side N^(1/3).

    Raises
    ------
    TypeError
        ``positions`` not an array of real numbers, ``min_distance`` not a real number.
    ValueError
        ``positions`` not of shape (N, 3) with N >= 1 or not finite, ``min_distance`` negative
        or not finite.
    """
    positions = v.real_array("positions", positions)
    if positions.ndim != 2 or positions.shape[1] != 3 or positions.shape[0] == 0:
        raise ValueError(f"positions must have shape (N, 3) (one row of x, y, z per TLS), got "
                         f"shape {positions.shape}")
    min_distance = v.non_negative("min_distance", min_distance)
    n = positions.shape[0]
    side = n ** (1.0 / 3.0)
    delta = positions[:, None, :] - positions[None, :, :]
    delta -= side * np.round(delta / side)
    r = np.sqrt(np.sum(delta**2, axis=-1))
    return np.maximum(r, min_distance) if min_distance > 0 else r


def draw_couplings(
    params: CouplingParams, n_tls: int, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """Draw symmetric coupling matrices K^{ab}_ij (K) with zero diagonal, and positions if dipolar.

    Raises
    ------
    TypeError, ValueError
        ``params`` not a CouplingParams, ``n_tls`` not an integer >= 1, ``rng`` not a Generator.
    """
    params, n_tls, rng = _draw_arguments(params, CouplingParams, n_tls, rng)
    positions = None
    inverse_cube = None
    if params.kind == "dipolar":
        positions = random_positions(n_tls, rng)
        r = periodic_distances(positions, params.min_distance)
        np.fill_diagonal(r, np.inf)
        inverse_cube = r**-3.0
    couplings = {}
    iu = np.triu_indices(n_tls, 1)
    for comp in params.components:
        if params.kind == "gaussian":
            upper = rng.normal(0.0, params.strength, size=iu[0].size)
        else:
            if params.orientation == "uniform":
                c = rng.uniform(-math.sqrt(3.0), math.sqrt(3.0), size=iu[0].size)
            else:
                c = rng.standard_normal(iu[0].size)
            upper = params.strength * c * inverse_cube[iu]
        k = np.zeros((n_tls, n_tls))
        k[iu] = upper
        couplings[comp] = k + k.T
    return couplings, positions


def draw_deformation_potentials(
    params: StressParams, n_tls: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw gamma_i (K per unit strain).

    Raises
    ------
    TypeError, ValueError
        ``params`` not a StressParams, ``n_tls`` not an integer >= 1, ``rng`` not a Generator.
    """
    params, n_tls, rng = _draw_arguments(params, StressParams, n_tls, rng)
    gamma = params.deformation_potential
    if params.distribution == "fixed":
        return np.full(n_tls, gamma)
    if params.distribution == "none":
        return np.zeros(n_tls)
    if params.distribution == "random_sign":
        return gamma * rng.choice([-1.0, 1.0], size=n_tls)
    return rng.normal(0.0, gamma, size=n_tls)


def _draw_arguments(params: Any, kind: type | None, n_tls: Any, rng: Any
                    ) -> tuple[Any, int, np.random.Generator]:
    """The arguments of a draw, checked before it: ``params`` a ``kind`` (not checked for
    None), ``n_tls`` an integer >= 1 (not a bool, float or array), ``rng`` a
    numpy.random.Generator (None, an int seed or a RandomState refused: ``rng.uniform`` of None
    was an AttributeError, of an int one too)."""
    if kind is not None:
        params = v.instance("params", params, kind, f"a {kind.__name__}")
    return params, v.integer("n_tls", n_tls, 1), v.generator("rng", rng, optional=False)


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**63 - 1))


def draw_realisation(params: ModelParams, rng: np.random.Generator) -> Realisation:
    """Draw one disorder realisation of ``params``.

    Every random number comes from ``rng`` in a fixed order (TLS, couplings, deformation
    potentials, stress couplings, random-matrix seeds), so the same Generator state gives the same
    realisation bit for bit; random matrices are stored as seeds and drawn when built.

    Parameters
    ----------
    params : ModelParams
        The ensemble.
    rng : numpy.random.Generator
        Source of randomness, e.g. ``default_rng(SeedSequence(seed, spawn_key=(r,)))``.

    Returns
    -------
    Realisation
        eps_i, Delta_i (K), couplings K_ij (K), gamma_i (K per unit strain), shapes (N,) and
        (N, N).

    Raises
    ------
    TypeError
        ``params`` not a ModelParams, ``rng`` not a numpy.random.Generator (parameters out of
        range are refused by ModelParams itself).

    Notes
    -----
    The distributions are those of docs/PHYSICS.md section 1 (canonical ensemble
    P(eps, Delta) ~ 1/Delta, Gaussian or dipolar couplings, deformation potentials).
    """
    model_params("params", params)
    rng = v.generator("rng", rng, optional=False)
    n = params.n_tls
    asymmetry = tunnelling = None
    if params.tls is not None:
        asymmetry, tunnelling = draw_tls(params.tls, n, rng)
    couplings: dict[str, np.ndarray] = {}
    positions = None
    if params.coupling is not None and n > 1:
        couplings, positions = draw_couplings(params.coupling, n, rng)
    gamma = draw_deformation_potentials(params.stress, n, rng)
    stress_coupling = None
    if params.stress.two_body > 0 and n > 1:
        k = np.triu(rng.normal(0.0, params.stress.two_body, size=(n, n)), 1)
        stress_coupling = k + k.T
    rm = None
    if params.random_matrix is not None:
        p = params.random_matrix
        rm = RandomMatrixTerm(kind=p.kind, weight=p.weight, seed=_seed(rng),
                              growth_temperature=p.growth_temperature,
                              level_statistics=p.level_statistics)
    stress_rm = None
    if params.stress.random_matrix > 0:
        s = params.stress
        stress_rm = RandomMatrixTerm(kind=s.random_matrix_kind, weight=s.random_matrix,
                                     seed=_seed(rng), growth_temperature=s.eth_energy_scale)
    return Realisation.from_arrays(
        asymmetry=asymmetry,
        tunnelling=tunnelling,
        couplings=couplings,
        deformation_potential=gamma,
        stress_coupling=stress_coupling,
        random_matrix=rm,
        stress_random_matrix=stress_rm,
        positions=positions,
        n_tls=n,
    )


def realisation_rng(seed: int, realisation: int) -> np.random.Generator:
    """The Generator of realisation r of a run: ``default_rng(SeedSequence(seed, spawn_key=(r,)))``.

    It depends only on (seed, r): not on workers, backend or order of execution.

    Parameters
    ----------
    seed : int
        The run's seed, >= 0.
    realisation : int
        The realisation index r, >= 0.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    TypeError
        seed or realisation not an int (floats and booleans are refused).
    ValueError
        seed or realisation negative.
    """
    seed = v.integer("seed", seed, 0, v.MAX_SEED)
    realisation = v.integer("realisation", realisation, 0)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(realisation,)))


def absorption_normalisation(params: ModelParams) -> float:
    """Factor that converts sum (p_n - p_m)|T_mn|^2 delta(w - w_mn) (1/K) into units of pi*C0.

    Q^-1 / (pi C0) = eps_max ln(Delta_max/Delta_min) / (N gamma_rms^2) * sum ..., so that the
    canonical independent-TLS ensemble gives tanh(w / 2T) (PHYSICS.md section 2). Models without a
    TLS term use their (default) ``tls`` parameters as the reference ensemble.

    Parameters
    ----------
    params : ModelParams
        The model (a dict is refused: ``ModelParams.from_dict`` turns a table into one).

    Returns
    -------
    float
        The factor (K).

    Raises
    ------
    TypeError
        ``params`` not a ModelParams (a dict or None gave an AttributeError, session 39).
    """
    model_params("params", params)
    ref = params.reference_tls
    gamma = params.stress.deformation_potential
    return ref.asymmetry_max * ref.log_range / (params.n_tls * gamma**2)
