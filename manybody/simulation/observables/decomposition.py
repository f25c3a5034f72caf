"""Decomposition of the absorption: static-configuration-bath prediction and single-TLS fraction.

Two questions about the golden-rule absorption Q(w, T) of coupled TLS (PHYSICS.md section 7):

1. Is every absorbing transition still a two-level system whose own populations give tanh(E/2T),
   so that coupling only moves TLS on and off resonance? The static-configuration-bath (SCB)
   prediction answers it: each TLS i sees the s^z values c of the other TLS as a static field,
   H_i(c) = (eps_i(c) s^z_i + Delta_i s^x_i)/2 with eps_i(c) = eps_i + 2 sum_j K^zz_ij c_j
   (H carries sum_{i<j} K^zz_ij s^z_i s^z_j, PHYSICS.md section 1), and absorbs

       Q_SCB(w, T) = sum_i sum_c P(c) gamma_i(c)^2 (Delta_i / E_i(c))^2 tanh(E_i(c) / 2T)
                     [K(w - E_i(c)) - K(w + E_i(c))],

   E_i(c) = sqrt(eps_i(c)^2 + Delta_i^2), gamma_i(c) = gamma_i + sum_j K^T_ij c_j (the two-body
   stress K^T_ij s^z_i s^z_j, T = sum_i gamma_i s^z_i + ..., is linear in s^z_i at fixed c) and K
   the line kernel in the same odd form as :mod:`.absorption`. P(c) is the exact thermal
   distribution of the configuration of the other TLS (:func:`z_basis_populations`, marginal of the
   diagonal of the thermal density matrix in the s^z basis), or uniform, 2^-(N-1) (infinite
   temperature; then rho_eff = Q / tanh(w/2T) is independent of T up to the line shape).
   The sum over c is taken as a sum over all 2^N states s with weight P(s): eps_i(s) does not
   depend on s_i, so summing P(s) over s_i gives the marginal P(c).
2. Which fraction of the absorbed weight at w is carried by transitions of one TLS
   (:func:`single_tls_fraction`)? It splits the linear stress sum_i gamma_i s^z_i over sites; a
   two-body or random-matrix stress is left out of it (numerator and denominator alike).

Exactness: Q_SCB is exact (to round-off, same raw units as ``PairSpectrum.absorption``) when H is
block diagonal in the configurations of the other TLS, i.e. when at most one TLS has Delta_i != 0
and the couplings are zz only (any K^zz and K^T), and for K = 0 (independent TLS). Otherwise it is
an approximation: flip-flop processes of pairs, xx/xz/zx couplings and random-matrix terms of H
(present in the exact P(c) through the eigenvectors, but not in the lines) and a random-matrix
stress are left out.
"""

from __future__ import annotations

import functools

import numpy as np

from manybody.config.probe import Broadening
from manybody.simulation.observables.degeneracies import settle_degenerate_basis
from manybody.simulation.observables.thermo import boltzmann_weights
from manybody.simulation.spectrum import Spectrum
from manybody.support import validate as v

#: Kernel half-range (in widths) beyond which a Gaussian or histogram line is dropped (as in
#: :mod:`.absorption`).
_REACH = 12.0


@functools.lru_cache(maxsize=16)
def spin_table(n_tls: int) -> np.ndarray:
    """Eigenvalues z[s, i] = +-1 of s^z_i on product state s, read-only float64 (2^N, N).

    Site i is bit N-1-i of the state index and state 0 is all spins up (the convention of
    :mod:`manybody.simulation.operators`).
    """
    shifts = n_tls - 1 - np.arange(n_tls)
    table = 1.0 - 2.0 * ((np.arange(2**n_tls)[:, None] >> shifts[None, :]) & 1)
    table.flags.writeable = False
    return table


def odd_kernel(broadening: Broadening, frequencies: np.ndarray, splittings: np.ndarray) -> np.ndarray:
    """K(w - E) - K(w + E) (1/K) for every splitting E and frequency w, shape (*E.shape, n_w).

    The absorption line of one transition of energy E > 0, emission at -E included, as in
    :class:`manybody.simulation.observables.absorption.PairSpectrum`.
    """
    e = np.asarray(splittings, dtype=np.float64)[..., None]
    w = np.asarray(frequencies, dtype=np.float64)
    if not broadening.relative:
        return broadening.kernel(w - e) - broadening.kernel(w + e)
    # a relative-width kernel: each frequency's column with its own width eta = width * w
    return np.concatenate([broadening.at(wk).kernel(wk - e) - broadening.at(wk).kernel(wk + e)
                           for wk in w], axis=-1)


def z_basis_populations(energies: np.ndarray, vectors: np.ndarray, temperatures) -> np.ndarray:
    """Diagonal of the thermal density matrix in the s^z product basis, P_T(s) = sum_n p_n V_sn^2.

    Parameters
    ----------
    energies : numpy.ndarray
        E_n (K), shape (D,).
    vectors : numpy.ndarray
        Eigenvectors V (D, D) as columns, in the product basis of :func:`spin_table`.
    temperatures : array_like
        T (K) > 0, shape (n_T,).

    Returns
    -------
    numpy.ndarray
        P_T(s), shape (n_T, D); each row sums to 1.
    """
    dim = np.asarray(energies).size
    if vectors.shape != (dim, dim):
        raise ValueError(f"vectors must have shape {(dim, dim)} to match energies, got {vectors.shape}")
    weights = boltzmann_weights(energies, temperatures)
    return weights @ np.square(vectors, dtype=np.float64).T


def configuration_bath_absorption(
    asymmetry: np.ndarray,
    tunnelling: np.ndarray,
    deformation_potential: np.ndarray,
    populations: np.ndarray,
    frequencies,
    temperatures,
    broadening: Broadening,
    zz_coupling: np.ndarray | None = None,
    stress_coupling: np.ndarray | None = None,
) -> np.ndarray:
    """Static-configuration-bath absorption Q_SCB(w, T) (module docstring), raw units.

    Parameters
    ----------
    asymmetry, tunnelling : numpy.ndarray
        eps_i and Delta_i (K), shape (N,).
    deformation_potential : numpy.ndarray
        gamma_i (K per unit strain), shape (N,).
    populations : numpy.ndarray
        P(s) of the product states s (:func:`spin_table` order): shape (n_T, D) (one distribution
        per temperature, e.g. :func:`z_basis_populations`) or (D,) (the same at every temperature,
        e.g. 2^-N for infinite temperature).
    frequencies : array_like
        w (K) > 0, shape (n_w,).
    temperatures : array_like
        T (K) > 0, shape (n_T,).
    broadening : Broadening
        Line kernel (the one of the exact absorption).
    zz_coupling : numpy.ndarray, optional
        Symmetric K^zz_ij (K) with zero diagonal, (N, N); None for independent TLS.
    stress_coupling : numpy.ndarray, optional
        Symmetric two-body stress K^T_ij (K per unit strain), (N, N); None for none.

    Returns
    -------
    numpy.ndarray
        sum_i sum_s P(s) gamma_i(s)^2 (Delta_i/E_i(s))^2 tanh(E_i(s)/2T) [K(w - E_i) - K(w + E_i)]
        (K^2 per unit strain^2 / K), shape (n_T, n_w): multiply by ``absorption_normalisation``
        for units of pi*C0. A TLS with E_i(s) = 0 (Delta_i = 0 and zero field) contributes 0.

    Raises
    ------
    ValueError
        Arrays of mismatched shapes, frequencies or temperatures not > 0.

    Notes
    -----
    Cost O(D N (n_T + n_w)) operations, memory O(D N max(n_T, n_w)): at N = 12 with 25
    temperatures and 3 frequencies a few 10 ms, much less than the diagonalisation.
    Source: PHYSICS.md section 7 (issue 16).
    """
    eps = np.atleast_1d(np.asarray(asymmetry, dtype=np.float64))
    n = eps.size
    delta = v.real_array("tunnelling", np.atleast_1d(tunnelling), (n,))
    gamma = v.real_array("deformation_potential", np.atleast_1d(deformation_potential), (n,))
    w = v.positive_array("frequencies", frequencies)
    _check_kernel(broadening, w)
    t = v.positive_array("temperatures", temperatures)
    dim = 2**n
    pop = np.asarray(populations, dtype=np.float64)
    if pop.shape not in ((dim,), (t.size, dim)):
        raise ValueError(f"populations must have shape ({dim},) or ({t.size}, {dim}) for N={n} and "
                         f"{t.size} temperatures, got {pop.shape}")
    z = spin_table(n)
    eps_c = np.broadcast_to(eps, (dim, n)).copy()
    if zz_coupling is not None:
        eps_c += 2.0 * (z @ v.real_array("zz_coupling", zz_coupling, (n, n)))
    gamma_c = np.broadcast_to(gamma, (dim, n)).copy()
    if stress_coupling is not None:
        gamma_c += z @ v.real_array("stress_coupling", stress_coupling, (n, n))
    split = np.hypot(eps_c, delta)  # E_i(s), (D, N)
    ratio = np.divide(delta, split, out=np.zeros_like(split), where=split > 0)
    line = (gamma_c * ratio) ** 2  # |<e|T|g>|^2 of TLS i in configuration s
    lines = (line[..., None] * odd_kernel(broadening, w, split)).reshape(dim * n, w.size)
    thermal = np.tanh(split[None, :, :] / (2.0 * t[:, None, None]))  # (n_T, D, N)
    weight = (pop[..., None] if pop.ndim == 2 else pop[None, :, None]) * thermal
    return weight.reshape(t.size, dim * n) @ lines


def _check_kernel(broadening, frequencies: np.ndarray) -> None:
    """TypeError unless a Broadening; ValueError when narrower than the round-off of w - E."""
    if not isinstance(broadening, Broadening):
        raise TypeError(f"broadening must be a Broadening, got {type(broadening).__name__}")
    broadening.check_resolution(frequencies)


def _window(broadening: Broadening, frequencies: np.ndarray) -> float:
    """Largest |w_mn| (K) whose line reaches a frequency (inf for the Lorentzian)."""
    if broadening.kind == "lorentzian":
        return np.inf
    top = float(frequencies.max())
    return top + _REACH * broadening.at(top).width


def single_tls_fraction(
    energies: np.ndarray,
    vectors: np.ndarray,
    deformation_potential: np.ndarray,
    frequencies,
    temperatures,
    broadening: Broadening,
    block: int = 64,
) -> np.ndarray:
    """Fraction F(w, T) of the absorbed weight carried by single-TLS transitions.

    For a transition n -> m the linear stress matrix element splits over sites,
    T_mn = sum_i t_i with t_i = gamma_i <m|s^z_i|n>; its single-site share is
    s_mn = max_i |t_i|^2 / sum_i |t_i|^2 (1 for a transition that flips one TLS of a product state,
    about 1/N when it is spread over N sites), and

        F(w, T) = sum (p_n - p_m) |T_mn|^2 s_mn L(w, w_mn) / sum (p_n - p_m) |T_mn|^2 L(w, w_mn),

    both sums over the pairs with w_mn = E_m - E_n > 0 and L(w, w_mn) = K(w - w_mn) - K(w + w_mn),
    the line of the exact absorption (whose pair sum is the denominator for a linear stress).

    Parameters
    ----------
    energies : numpy.ndarray
        E_n (K), ascending, shape (D,), D = 2^N.
    vectors : numpy.ndarray
        Eigenvectors (D, D) as columns in the product basis of :func:`spin_table`.
    deformation_potential : numpy.ndarray
        gamma_i (K per unit strain), shape (N,).
    frequencies : array_like
        w (K) > 0, shape (n_w,).
    temperatures : array_like
        T (K) > 0, shape (n_T,).
    broadening : Broadening
        Line kernel.
    block : int
        Columns n per block (memory ~ 8 N D block bytes).

    Returns
    -------
    numpy.ndarray
        F in [0, 1], shape (n_T, n_w); NaN where nothing absorbs (e.g. all gamma_i = 0).

    Raises
    ------
    ValueError
        Shapes that do not match, energies not ascending, frequencies or temperatures not > 0.

    Notes
    -----
    Only the pairs whose line reaches a requested frequency (|w_mn| <= max w + 12 widths for the
    Gaussian and histogram kernels) are visited: energies are sorted, so the partners m of a block
    of columns n form one contiguous range, and the N site elements of the block are one batched
    matrix product. Cost ~2 N D P flops for P pairs in the window (a fraction of the N D^3 of all
    pairs; all pairs for the Lorentzian, whose lines have no end).
    """
    e = np.asarray(energies, dtype=np.float64)
    dim = e.size
    n = int(round(np.log2(dim))) if dim else 0
    if dim < 2 or 2**n != dim:
        raise ValueError(f"energies must have 2^N >= 2 entries, got {dim}")
    if np.any(np.diff(e) < 0):
        raise ValueError("energies must be ascending (as from the dense solver)")
    if vectors.shape != (dim, dim):
        raise ValueError(f"vectors must have shape {(dim, dim)} to match energies, got {vectors.shape}")
    gamma = v.real_array("deformation_potential", np.atleast_1d(deformation_potential), (n,))
    w = v.positive_array("frequencies", frequencies)
    _check_kernel(broadening, w)
    p = boltzmann_weights(e, temperatures)
    reach = _window(broadening, w)
    zs = spin_table(n) * gamma[None, :]  # gamma_i z_i(s), (D, N)
    vecs = np.asarray(vectors, dtype=np.float64)
    # inside exactly degenerate eigenspaces: the basis of split levels (linear T diagonal there,
    # ties broken by a generic one-body perturbation), not whichever basis came in (two identical
    # TLS gave F from 0.5 to 1 by the basis; session 26)
    vecs = settle_degenerate_basis(Spectrum(energies=e, vectors=vecs), copy=vecs is vectors,
                                   stress_diagonal=zs.sum(axis=1))[0].vectors
    shared = np.zeros((dim, w.size))  # per-state sums of the numerator, as in PairSpectrum
    total = np.zeros((dim, w.size))
    for n0 in range(0, dim, block):
        n1 = min(dim, n0 + block)
        hi = int(np.searchsorted(e, e[n1 - 1] + reach, side="right")) if np.isfinite(reach) else dim
        omega = e[n0:hi, None] - e[None, n0:n1]  # w_mn, rows m, columns n
        keep = (omega > 0) & (omega <= reach)
        if not keep.any():
            continue
        # t[i, m, n] = gamma_i <m|s^z_i|n>: one GEMM (r, D) @ (D, N b) for all sites
        right = (zs[:, :, None] * vecs[:, None, n0:n1]).reshape(dim, -1)
        sites = (vecs[:, n0:hi].T @ right).reshape(hi - n0, n, n1 - n0).transpose(1, 0, 2)
        squares = np.square(sites)
        strength = np.where(keep, np.square(sites.sum(axis=0)), 0.0)  # |T_mn|^2
        spread = squares.sum(axis=0)
        share = np.divide(squares.max(axis=0), spread, out=np.zeros_like(spread), where=spread > 0)
        line = strength[..., None] * odd_kernel(broadening, w, np.where(keep, omega, 0.0))
        for acc, g in ((total, line), (shared, line * share[..., None])):
            acc[n0:n1] += g.sum(axis=0)  # +g to F_n
            acc[n0:hi] -= g.sum(axis=1)  # -g to F_m
    numerator = p @ shared
    denominator = p @ total
    # below round-off of the largest line weight nothing absorbs: no fraction (NaN)
    floor = 1e-12 * max(float(np.abs(total).max(initial=0.0)), 1e-300)
    return np.divide(numerator, denominator, out=np.full_like(numerator, np.nan),
                     where=denominator > floor)


def decomposition_responses(real, spectrum, probe, wanted) -> dict[str, np.ndarray]:
    """The decomposition observables of one realisation from its exact eigenbasis (raw units).

    Parameters
    ----------
    real : Realisation
        The realisation; it needs the TLS term (``asymmetry`` not None).
    spectrum : Spectrum
        Energies and eigenvectors of its H.
    probe : Probe
        Frequencies, temperatures and line kernel.
    wanted : set of str
        Names from ``DECOMPOSITION_OBSERVABLES`` (others are ignored).

    Returns
    -------
    dict
        Raw responses keyed by the :class:`~.responses.Responses` field: "configuration_bath",
        "configuration_bath_infinite" (raw absorption units, (n_T, n_w)) and
        "single_tls_fraction" ((n_T, n_w), dimensionless).

    Raises
    ------
    ValueError
        The realisation has no TLS term.
    """
    if real.asymmetry is None:
        raise ValueError("the decomposition observables need TLS (model.tls); this realisation "
                         "has none")
    w = np.asarray(probe.frequencies)
    t = np.asarray(probe.temperatures)
    common = dict(asymmetry=real.asymmetry, tunnelling=real.tunnelling,
                  deformation_potential=real.deformation_potential, frequencies=w,
                  temperatures=t, broadening=probe.broadening,
                  zz_coupling=real.couplings.get("zz"), stress_coupling=real.stress_coupling)
    out: dict[str, np.ndarray] = {}
    if "configuration_bath_absorption" in wanted:
        pop = z_basis_populations(spectrum.energies, spectrum.vectors, t)
        out["configuration_bath"] = configuration_bath_absorption(populations=pop, **common)
    if "configuration_bath_absorption_infinite" in wanted:
        uniform = np.full(real.dimension, 1.0 / real.dimension)
        out["configuration_bath_infinite"] = configuration_bath_absorption(populations=uniform,
                                                                           **common)
    if "single_tls_fraction" in wanted:
        out["single_tls_fraction"] = single_tls_fraction(
            spectrum.energies, spectrum.vectors, real.deformation_potential, w, t, probe.broadening)
    return out
