"""Coherent references for the saturation rate equations: Bloch and Lindblad steady states.

PHYSICS.md section 8 (Saturation). :mod:`.saturation` drops the coherences between eigenstates
(Pauli rate equations with drive rates W). These two functions keep them, for checking where that
is exact and where it is not:

* :func:`bloch_steady_state`: one TLS, the optical Bloch equations in the rotating frame, steady
  state from their 3 x 3 linear system;
* :func:`lindblad_steady_state`: a small system (D <= ~16) in the rotating-wave approximation,
  the null vector of the Lindblad Liouvillian (D^2 x D^2, built with numpy Kronecker products,
  solved with :func:`scipy.linalg.solve`), with the phonon jumps sqrt(Gamma(n -> m)) |m><n| and a
  pure dephasing sqrt(gamma_phi) |k><k| on every level, so that every coherence decays at the
  1/T2_nm of :func:`.saturation.dephasing_rates`.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve

from manybody.simulation.observables.relaxation import OMEGA_PER_KELVIN
from manybody.support import validate as v


def bloch_steady_state(detuning, rabi: float, t1: float, t2: float,
                       polarisation: float = 1.0) -> np.ndarray:
    """Steady Bloch vector (u, v, w) of one driven TLS, shape (..., 3).

    du/dt = -u/T2 - delta v;  dv/dt = delta u - v/T2 - Omega w;  dw/dt = Omega v - (w - w_eq)/T1,
    with w = p_lower - p_upper the population difference (w_eq = ``polarisation``, tanh(E/2T)).
    Steady state: w / w_eq = (1 + delta^2 T2^2) / (1 + delta^2 T2^2 + Omega^2 T1 T2); the absorbed
    power is -hbar omega Omega v / 2 per TLS (v < 0 when it absorbs).

    Parameters
    ----------
    detuning : array_like
        delta = omega_0 - omega (s^-1).
    rabi : float
        Omega (s^-1), >= 0.
    t1, t2 : float
        Relaxation and dephasing times (s), > 0, with T2 <= 2 T1 (1/T2 = 1/(2 T1) + gamma_phi,
        gamma_phi >= 0: a coherence cannot outlive twice the populations).
    polarisation : float
        Equilibrium population difference w_eq.

    Raises
    ------
    ValueError
        A time not finite and > 0, T2 > 2 T1 (accepted before session 26), a negative Rabi
        frequency.
    """
    d = np.atleast_1d(v.real_array("detuning", detuning))
    rabi = v.non_negative("rabi", rabi)
    g1, g2 = 1.0 / v.positive("t1", t1), 1.0 / v.positive("t2", t2)
    if t2 > 2.0 * t1 * (1.0 + 1e-12):
        raise ValueError(f"t2 must be <= 2 t1 (1/T2 = 1/(2 T1) + gamma_phi with gamma_phi >= 0), "
                         f"got t1 = {t1!r} s, t2 = {t2!r} s")
    out = np.empty((d.size, 3))
    for i, delta in enumerate(d):
        a = np.array([[-g2, -delta, 0.0], [delta, -g2, -rabi], [0.0, rabi, -g1]])
        out[i] = solve(a, np.array([0.0, 0.0, -g1 * polarisation]))
    return out.reshape(*np.shape(detuning), 3)


def lindblad_steady_state(
    energies,
    stress_elements,
    frequency: float,
    amplitude: float,
    rates,
    photon_number,
    dephasing_rate: float = 0.0,
) -> np.ndarray:
    """Steady-state density matrix (D, D) of the driven, damped system in the rotating frame.

    H_rot = sum_n (E_n - k_n w) |n><n| + sum_{|k_m - k_n| = 1} (e0 T_mn / 2) |m><n| (energies in
    K, converted to s^-1 with k_B / hbar): the rotating-wave approximation keeps the drive between
    levels whose photon numbers k differ by one (with their detunings) and drops the rest.

    Parameters
    ----------
    energies : array_like, shape (D,)
        E_n (K).
    stress_elements : array_like, shape (D, D)
        T_mn (K per unit strain).
    frequency : float
        w (K), > 0.
    amplitude : float
        e0 (strain), >= 0.
    rates : array_like, shape (D, D)
        Phonon rates Gamma[m, n] = Gamma(n -> m) (s^-1).
    photon_number : array_like of int, shape (D,)
        k_n: the frame rotates level n at k_n w.
    dephasing_rate : float
        gamma_phi (s^-1), >= 0.
    """
    e = v.real_array("energies", energies)
    dim = e.size
    t = np.asarray(stress_elements, dtype=np.float64)
    gamma = np.asarray(rates, dtype=np.float64)
    k = np.asarray(photon_number)
    if t.shape != (dim, dim) or gamma.shape != (dim, dim) or k.shape != (dim,):
        raise ValueError(f"stress_elements and rates must be ({dim}, {dim}) and photon_number "
                         f"({dim},), got {t.shape}, {gamma.shape}, {k.shape}")
    w = v.positive("frequency", v.single("frequency", frequency))
    e0 = v.non_negative("amplitude", amplitude)
    gamma_phi = v.non_negative("dephasing_rate", dephasing_rate)
    coupled = np.abs(k[:, None] - k[None, :]) == 1
    h = np.diag(e - k * w) + np.where(coupled, 0.5 * e0 * t, 0.0)
    h *= OMEGA_PER_KELVIN
    eye = np.eye(dim)
    # row-major vec: vec(A rho B) = kron(A, B^T) vec(rho)
    liouvillian = -1j * (np.kron(h, eye) - np.kron(eye, h.T))
    out_rates = gamma.sum(axis=0) - np.diag(gamma)
    for m in range(dim):
        for n in range(dim):
            if m != n and gamma[m, n] > 0:
                jump = np.zeros((dim, dim))
                jump[m, n] = 1.0
                liouvillian += gamma[m, n] * np.kron(jump, jump)
    decay = np.diag(out_rates)  # sum_L L^dagger L of the phonon jumps
    liouvillian -= 0.5 * (np.kron(decay, eye) + np.kron(eye, decay))
    for level in range(dim):  # pure dephasing sqrt(gamma_phi) |k><k|
        proj = np.zeros((dim, dim))
        proj[level, level] = 1.0
        liouvillian += gamma_phi * (np.kron(proj, proj) - 0.5 * np.kron(proj, eye)
                                    - 0.5 * np.kron(eye, proj))
    rhs = np.zeros(dim * dim, dtype=complex)
    liouvillian[0] = eye.reshape(-1)  # trace rho = 1 replaces the (redundant) rho_00 equation
    rhs[0] = 1.0
    return solve(liouvillian, rhs).reshape(dim, dim)
