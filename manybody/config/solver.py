"""Which solver runs each realisation, and its options: :class:`SolverParams` and the typed options
of the Chebyshev solver, :class:`ChebyshevParams`.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from manybody.support import validate as v

#: Solver methods a run may name ("auto" picks dense or chebyshev per sweep point).
SOLVER_METHODS = ("dense", "chebyshev", "auto")


@dataclass(frozen=True, kw_only=True)
class SolverParams:
    """Which solver runs each realisation, and its options.

    Parameters
    ----------
    dtype : {"float64", "float32"}
        Dense ED precision of H, the eigenvectors and T_mn (energies and weights are accumulated in
        float64).
    memory_fraction : float
        Largest fraction of the currently available memory a dense solve may plan to use.
    method : {"dense", "chebyshev", "auto"}
        Dense exact diagonalisation; the Chebyshev/typicality solver (sparse matrix-vector products
        only, with statistical errors reported as "<observable>_error"); or "auto" (dense where it
        fits and is faster, see :func:`manybody.simulation.solvers.choose_solver`).
    chebyshev : ChebyshevParams or mapping, optional
        Options of the Chebyshev solver; a mapping (TOML table ``[solver.chebyshev]``) is converted
        to :class:`~manybody.config.solver.ChebyshevParams` and validated here. After construction it is
        always a
        ``ChebyshevParams`` (the defaults when not given).
    """

    dtype: str = "float64"
    memory_fraction: float = 0.9
    method: str = "dense"
    chebyshev: ChebyshevParams | Mapping[str, Any] | None = None
    #: The options as given (the table of the run specification), for :meth:`to_dict`.
    _given: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)
    #: The keys of the table this was read from (:meth:`from_table`): a key given at its default
    #: value is still a key the user set (``manybody.config.unused``).
    _keys: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)

    @classmethod
    def from_table(cls, table: Mapping[str, Any], where: str = "solver") -> SolverParams:
        """The options of a TOML ``[solver]`` table (unknown keys refused, naming ``where``),
        remembering which keys it gave: ``dtype = "float64"`` under ``method = "chebyshev"``
        is dense ED's precision, and only a value other than the default was warned about (a
        break test, session 54)."""
        params = v.from_mapping(cls, table, where)
        object.__setattr__(params, "_keys", frozenset(map(str, table)))
        return params

    def as_recorded(self) -> SolverParams:
        """These options read back from a results file's spec, where :meth:`to_dict` wrote every
        key: only a value away from its default counts as one the user set (a chebyshev run
        rebuilt from its file warned that ``solver.dtype`` was unused; session 54's note). The
        options themselves, and so the spec's digest, are unchanged."""
        recorded = copy.copy(self)
        default = type(self)()
        object.__setattr__(recorded, "_keys", frozenset(
            name for name in ("dtype", "memory_fraction", "method")
            if getattr(self, name) != getattr(default, name)) | (
            {"chebyshev"} if self._given is not None else set()))
        return recorded

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", v.choice("solver.dtype", self.dtype, ("float64", "float32")))
        object.__setattr__(self, "memory_fraction",
                           v.positive("solver.memory_fraction", self.memory_fraction))
        if self.memory_fraction > 1:
            raise ValueError(f"solver.memory_fraction must be <= 1, got {self.memory_fraction!r}")
        object.__setattr__(self, "method", v.choice("solver.method", self.method, SOLVER_METHODS))
        given = self.chebyshev
        if given is None:
            params, table = ChebyshevParams(), None
        elif isinstance(given, ChebyshevParams):
            params, table = given, given.changed()
        elif isinstance(given, Mapping):
            params = v.from_mapping(ChebyshevParams, dict(given), "solver.chebyshev")
            # as given (the digest of a run's spec resumes runs written before), but numpy
            # values as plain ones: np.int64(8) or an array ladder passed here and failed the
            # run's JSON record with "Object of type int64 is not JSON serializable" (a break
            # test, session 54)
            table = {name: _table_value(value) for name, value in given.items()}
        else:
            raise TypeError("solver.chebyshev must be a table of chebyshev solver options "
                            "(TOML [solver.chebyshev], e.g. n_vectors = 8), got "
                            f"{v._describe(given)}")
        object.__setattr__(self, "chebyshev", params)
        object.__setattr__(self, "_given", table)

    @property
    def numpy_dtype(self) -> type:
        return np.float64 if self.dtype == "float64" else np.float32

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for the run specification: dtype, memory_fraction, method and the Chebyshev
        options as they were given (a table, or null when none was)."""
        return {"dtype": self.dtype, "memory_fraction": float(self.memory_fraction),
                "method": self.method, "chebyshev": self._given}


#: Largest ``chebyshev.truncation_tol``. The tolerance bounds the tail of the kernel's series
#: relative to its maximum, so it is the error allowed in Q relative to the largest Q: at 0.1 a
#: result keeps about one digit. Above it the default window (window_sigmas = sqrt(2 ln(1/tol))
#: + 1, window_temperatures = ln(1/tol) + 2) narrows to ~2 sigma and ~3 T0, the plan drops the
#: window nodes weighted below tol, and the truncation probe (0.9 M, 0.95 M) is no longer in the
#: series' converged tail; the moments saved are few (M grows as sqrt(ln(1/tol)): 0.1 needs half
#: of the default 1e-4's, 0.5 another 45 % less). 0.5-0.999 gave Q = 12 +- 18 where dense ED
#: gives 1.18 (a break test, session 53); the docs' scans stop at 1e-2.
MAX_TRUNCATION_TOL = 0.1


#: Dimensions D up to which a stochastic trace is replaced by the exact one (every basis vector;
#: also wherever D <= n_vectors, where the exact trace costs no more). Measured (session 24,
#: 40 solves of 14 values each, 8 vectors, against the exact trace): |z| > 4 in 1.8 % of the
#: values at D = 16 (max 6.7; Student's t with 7 degrees of freedom: 0.5 %), 0.2-0.5 % at
#: D = 32-64; 0 spread at D = 2. With 4 vectors the tails are heavy at every D (max |z| 15-90 at
#: D = 8-128), the few-vector noise the README describes. A second measurement (session 63, a
#: tester's model: dipolar J0 = 0.03 K, 0.3 r0 hard core, 8 vectors, 200-400 realisations) gave
#: |z| > 4 in 1-2 % at D = 32, 64 and 128 alike: the tails are the few vectors', not a small D's,
#: so raising this bound would not remove them.
EXACT_TRACE_MAX_DIMENSION = 16


@dataclass(frozen=True, kw_only=True)
class ChebyshevParams:
    """Options of the Chebyshev (KPM + typicality) solver.

    Parameters
    ----------
    n_vectors : int
        Random vectors per rung (the minimum when ``target_error`` is set); >= 2 for error bars.
        A realisation's error bars are jackknife errors over these vectors: with 8 they
        understate the typicality noise 1.2-1.8x (rms) and its tail (2 % of values beyond 5
        errors where few levels carry the thermal weight), with 32 by 1.0-1.1x (README,
        "Chebyshev solver: limits"). Disorder averages take their errors from the scatter over
        realisations, which contains this noise.
    max_vectors : int or None
        Upper limit when ``target_error`` asks for more; None: max(64, 4 ``n_vectors``) (so that
        ``n_vectors`` alone may be above 64 and ``target_error`` can still add vectors; a value
        below ``n_vectors`` is an error).
    target_error : float or None
        Keep adding vectors (in blocks) until, at every temperature of a rung,
        max_w sigma(w, T) / max_w |Q(w, T)| <= target_error, or ``max_vectors`` is reached (warning).
    n_moments : int or None
        Fixed number of moments M per axis for every rung; None chooses the smallest M that resolves
        the kernel to ``truncation_tol`` at each rung. A fixed M that is too small is an error.
    max_moments : int
        Refuse (with the narrowest achievable kernel width) when a rung needs more. Not used
        when ``n_moments`` fixes M (then M itself is the limit, and memory the only bound).
    truncation_tol : float
        Bound on the Chebyshev tail of F relative to its maximum, in (0, 0.1]
        (:data:`MAX_TRUNCATION_TOL`).
    ladder_ratio : float
        Largest T0 / T served by one rung (> 1).
    ladder : tuple of float or None
        Explicit reference temperatures T0 (K); None builds the ladder from the temperatures.
    max_rungs : int
        Refuse temperatures that would need more rungs (the error gives the lowest reachable T).
    window_sigmas, window_temperatures : float or None
        The window keeps full weight up to max(<E> + window_sigmas sigma_E,
        E_0 + window_temperatures T0), <E> and sigma_E from a pilot filtered vector at each T0.
        None: sqrt(2 ln(1/tol)) + 1 and ln(1/tol) + 2 with tol = truncation_tol, so that the
        weight lost above the window is of the order of the truncation error.
    trace : {"stochastic", "exact"}
        Random vectors, or every basis vector (exact trace, small N, zero statistical error).
    dtype : {"float32", "float64"} or None
        Precision of the stored Chebyshev vectors and of the moment GEMM (recursions are float64).
        None: "float32" for a stochastic trace, "float64" for an exact one, a reference whose
        error bar is the truncation estimate alone (float32 round-off reached 2.5e-3 of max|Q^-1|
        at N = 6-10, 360 times an exact trace's truncation error; session 53).
    block : int or None
        Vectors processed together (None: chosen from memory and dimension).
    memory_fraction : float
        Largest fraction of the available memory a solve may plan to use.
    max_seconds : float or None
        Refuse a solve whose time estimate exceeds this (s).
    operator : {"auto", "matrix_free", "sparse"}
        How H, T and C = [H, T] are applied: "matrix_free" by bit operations on blocks of vectors
        (no stored matrices; :mod:`manybody.simulation.solvers.chebyshev.matrix_free`), "sparse"
        as CSR matrices, "auto" matrix-free where the model allows it and D > 4096 (N >= 13;
        smaller D keeps the sparse path and its recorded results bit for bit). Models with random-matrix
        terms (dense) always use the sparse/dense path; the solver logs the fallback and reports
        it in its result.
    """

    n_vectors: int = 8
    max_vectors: int | None = None
    target_error: float | None = None
    n_moments: int | None = None
    max_moments: int = 4096
    truncation_tol: float = 1e-4
    ladder_ratio: float = 2.0
    ladder: tuple[float, ...] | None = None
    max_rungs: int = 12
    window_sigmas: float | None = None
    window_temperatures: float | None = None
    trace: str = "stochastic"
    dtype: str | None = None
    block: int | None = None
    memory_fraction: float = 0.8
    max_seconds: float | None = None
    operator: str = "auto"
    #: Whether ``dtype`` was given (not None): "float32" given with a stochastic trace equals its
    #: default, and was not warned where the solver's exact trace at a small D replaces it with
    #: float64 (bt217 F7; ``manybody.config.unused``).
    _dtype_given: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_dtype_given", self.dtype is not None)
        # the stochastic trace's own lower bound first: "between 1 and ..." for n_vectors = 0 was
        # not what that trace accepts (a tester, session 26)
        if (self.trace != "exact" and isinstance(self.n_vectors, int | np.integer)
                and not isinstance(self.n_vectors, bool) and self.n_vectors < 2):
            raise ValueError("chebyshev.n_vectors must be >= 2 for a stochastic trace (the error "
                             f"bar is the spread over vectors), got {self.n_vectors}")
        object.__setattr__(self, "n_vectors", v.integer("chebyshev.n_vectors", self.n_vectors, 1, 1_000_000))
        if self.max_vectors is None:  # room to add vectors for target_error above n_vectors too
            object.__setattr__(self, "max_vectors", max(64, 4 * self.n_vectors))
        object.__setattr__(self, "max_vectors",
                           v.integer("chebyshev.max_vectors", self.max_vectors, self.n_vectors, 1_000_000))
        if self.target_error is not None:
            object.__setattr__(self, "target_error", v.positive("chebyshev.target_error", self.target_error))
        if self.n_moments is not None:
            object.__setattr__(self, "n_moments",
                               v.integer("chebyshev.n_moments", self.n_moments, 8, 1 << 16))
        object.__setattr__(self, "max_moments",
                           v.integer("chebyshev.max_moments", self.max_moments, 8, 1 << 16))
        object.__setattr__(self, "truncation_tol",
                           v.positive("chebyshev.truncation_tol", self.truncation_tol))
        if self.truncation_tol > MAX_TRUNCATION_TOL:
            raise ValueError(
                f"chebyshev.truncation_tol must be in (0, {MAX_TRUNCATION_TOL:g}] (the Chebyshev "
                "tail of the kernel relative to its maximum, i.e. the error allowed in Q relative "
                f"to its largest value; default 1e-4), got {self.truncation_tol!r}")
        object.__setattr__(self, "ladder_ratio", v.finite("chebyshev.ladder_ratio", self.ladder_ratio))
        if self.ladder_ratio <= 1.0:
            raise ValueError(f"chebyshev.ladder_ratio must be > 1, got {self.ladder_ratio!r}")
        if self.ladder is not None:
            object.__setattr__(self, "ladder", tuple(
                sorted((float(t) for t in v.positive_array("chebyshev.ladder", self.ladder)),
                       reverse=True)))
        object.__setattr__(self, "max_rungs", v.integer("chebyshev.max_rungs", self.max_rungs, 1, 64))
        # 1/tol of a subnormal tol overflows to inf (5e-324 was refused naming window_sigmas,
        # a tester, session 53): -log(tol) there (log(1/tol) elsewhere, the recorded numbers)
        inverse = 1.0 / min(self.truncation_tol, 0.5)
        log_tol = math.log(inverse) if math.isfinite(inverse) else -math.log(self.truncation_tol)
        if self.window_sigmas is None:
            object.__setattr__(self, "window_sigmas", math.sqrt(2.0 * log_tol) + 1.0)
        if self.window_temperatures is None:
            object.__setattr__(self, "window_temperatures", log_tol + 2.0)
        object.__setattr__(self, "window_sigmas", v.positive("chebyshev.window_sigmas", self.window_sigmas))
        object.__setattr__(self, "window_temperatures",
                           v.positive("chebyshev.window_temperatures", self.window_temperatures))
        object.__setattr__(self, "trace", v.choice("chebyshev.trace", self.trace, ("stochastic", "exact")))
        if self.dtype is None:
            object.__setattr__(self, "dtype", "float64" if self.trace == "exact" else "float32")
        object.__setattr__(self, "dtype", v.choice("chebyshev.dtype", self.dtype, ("float32", "float64")))
        if self.block is not None:
            object.__setattr__(self, "block", v.integer("chebyshev.block", self.block, 1, 4096))
        object.__setattr__(self, "memory_fraction",
                           v.positive("chebyshev.memory_fraction", self.memory_fraction))
        if self.memory_fraction > 1:
            raise ValueError(f"chebyshev.memory_fraction must be <= 1, got {self.memory_fraction!r}")
        if self.max_seconds is not None:
            object.__setattr__(self, "max_seconds", v.positive("chebyshev.max_seconds", self.max_seconds))
        object.__setattr__(self, "operator", v.choice("chebyshev.operator", self.operator,
                                                      ("auto", "matrix_free", "sparse")))
        if self.trace == "stochastic" and self.n_vectors < 2:
            raise ValueError("chebyshev.n_vectors must be >= 2 for a stochastic trace (the error "
                             f"bar is the spread over vectors), got {self.n_vectors}")

    @property
    def numpy_dtype(self) -> type:
        return np.float32 if self.dtype == "float32" else np.float64

    def exact_at(self, dimension: int) -> bool:
        """Whether the trace is exact at Hilbert-space dimension ``dimension``: asked for
        (``trace = "exact"``), or a stochastic trace that the solver replaces by the exact one
        where D <= max(EXACT_TRACE_MAX_DIMENSION, n_vectors), or max_vectors with a target_error
        (:func:`manybody.simulation.solvers.chebyshev.plan.check_params` says why)."""
        if self.trace == "exact":
            return True
        # with target_error the solve may draw up to max_vectors (a reviewer's check, session 24:
        # 64 random vectors at D = 32 spent twice the exact trace's and missed the target)
        most = self.max_vectors if self.target_error is not None else self.n_vectors
        return int(dimension) <= max(EXACT_TRACE_MAX_DIMENSION, most)

    def changed(self) -> dict[str, Any]:
        """The options that differ from the defaults (as a table that rebuilds these options)."""
        default = ChebyshevParams()
        return {f.name: _table_value(value) for f in dataclasses.fields(self)
                if f.init and (value := getattr(self, f.name)) != getattr(default, f.name)}


def _table_value(value: Any) -> Any:
    """An option's value as a TOML/JSON table holds it: tuples and arrays as lists, numpy
    scalars as Python numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [_table_value(item) for item in value]
    return value
