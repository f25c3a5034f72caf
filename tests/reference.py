"""Reference implementations used only by the tests: explicit Kronecker products for the
operators, and the closed-form relaxation susceptibility of independent TLS (Jackle)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from manybody.simulation.observables.relaxation import OMEGA_PER_KELVIN
from manybody.support import validate as v


def kron_operator(n_tls: int, factors: Sequence[tuple[str, int]], coefficient: float = 1.0):
    """Reference implementation by explicit Kronecker products (for tests; dense, small N only).

    Parameters
    ----------
    n_tls : int
        Number of sites N.
    factors : sequence of (str, int)
        Pauli letters ("x", "z", "y") on sites, e.g. [("z", 0), ("z", 2)].
    coefficient : float
        Overall factor.
    """
    pauli = {
        "x": np.array([[0.0, 1.0], [1.0, 0.0]]),
        "z": np.array([[1.0, 0.0], [0.0, -1.0]]),
        "i": np.eye(2),
    }
    ops = ["i"] * n_tls
    for letter, site in factors:
        ops[site] = letter
    out = np.array([[coefficient]])
    for letter in ops:
        out = np.kron(out, pauli[letter])
    return out


def independent_tls_susceptibility(asymmetry, tunnelling, deformation_potential, frequencies,
                                   temperatures, rate_prefactor: float, *,
                                   stress_scale: float = 1.0) -> np.ndarray:
    """Closed-form chi_rel of independent TLS (Jackle), per TLS: shape (N, n_T, n_w) complex.

    chi_i = (1/T) (2 gamma_i eps_i/E_i)^2 sech^2(E_i/2T)/4 / (1 - i omega tau_i), with tau_i from
    :func:`jackle_rate` scaled by (gamma_i / stress_scale)^2. Units and arguments as
    :func:`relaxation_susceptibility` (eps, Delta in K; gamma in K per unit strain).
    """
    eps = np.atleast_1d(v.real_array("asymmetry", asymmetry))
    delta = v.real_array("tunnelling", np.atleast_1d(tunnelling), eps.shape)
    gamma = v.real_array("deformation_potential",
                         np.broadcast_to(deformation_potential, eps.shape))
    w = v.positive_array("frequencies", frequencies)
    t = v.positive_array("temperatures", temperatures)
    v.positive("rate_prefactor", rate_prefactor)
    e = np.hypot(eps, delta)[:, None, None]
    tt = t[None, :, None]
    shift2 = (2.0 * gamma * eps)[:, None, None] ** 2 / e**2
    decay = np.exp(-e / tt)
    lag = decay / (1.0 + decay) ** 2 / tt  # sech^2(E/2T) / (4T), no overflow
    rate = (rate_prefactor * (gamma / v.positive("stress_scale", stress_scale))[:, None, None] ** 2
            * delta[:, None, None] ** 2 * e / np.tanh(e / (2.0 * tt)))
    return shift2 * lag * rate / (rate - 1j * w[None, None, :] * OMEGA_PER_KELVIN)
