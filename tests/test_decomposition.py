"""Decomposition of the absorption (PHYSICS.md section 7): the static-configuration-bath (SCB)
prediction against exact ED where H is block diagonal, the independent-TLS limits, the
single-TLS fraction against a brute-force evaluation, and the refusals."""

from __future__ import annotations

import numpy as np
import pytest

from manybody.config.model import CouplingParams, ModelParams
from manybody.config.probe import Broadening, Probe
from manybody.config.solver import SolverParams
from manybody.runs.spec import check_point
from manybody.simulation.ensembles import Realisation, absorption_normalisation, draw_couplings
from manybody.simulation.observables import decomposition as dc
from manybody.simulation.observe import observe
from manybody.simulation.solvers import dense

DECOMPOSITION = ("absorption", "configuration_bath_absorption",
                 "configuration_bath_absorption_infinite", "single_tls_fraction")
TEMPERATURES = tuple(np.geomspace(0.1 / 12.8, 0.1 / 0.2, 9))
TLS = {"asymmetry_max": 0.3, "tunnelling_max": 0.3, "tunnelling_min": 1e-3}


def probe(kind: str = "gaussian", width: float = 0.02, observables=DECOMPOSITION) -> Probe:
    return Probe(frequencies=(0.05, 0.1, 0.2), temperatures=TEMPERATURES,
                 broadening=Broadening(kind=kind, width=width), observables=observables)


def raw_responses(real: Realisation, p: Probe):
    solver = SolverParams(method="dense")
    return dense.respond(real, dense.build(real, solver), p, solver, model=None, seed=0,
                         realisation=0)


def couplings(kind: str, n: int, rng, strength: float = 0.05) -> np.ndarray:
    return draw_couplings(CouplingParams(kind=kind, strength=strength), n, rng)[0]["zz"]


@pytest.mark.parametrize("kind", ["gaussian", "dipolar"])
@pytest.mark.parametrize("line", ["gaussian", "lorentzian"])
def test_scb_is_exact_when_only_one_tls_tunnels(kind, line):
    """Delta_j = 0 for j != i: H is block diagonal in the configurations of the other TLS, so the
    SCB with the exact thermal P(c) is ED to round-off (two-body stress included)."""
    rng = np.random.default_rng(11)
    n = 6
    tunnelling = np.zeros(n)
    tunnelling[2] = 0.09
    stress = np.triu(rng.normal(0.0, 0.3, (n, n)), 1)
    real = Realisation.from_arrays(
        asymmetry=rng.uniform(-0.3, 0.3, n), tunnelling=tunnelling,
        couplings={"zz": couplings(kind, n, rng, 0.1 if kind == "gaussian" else 0.01)},
        deformation_potential=rng.normal(0.0, 1.0, n), stress_coupling=stress + stress.T)
    raw = raw_responses(real, probe(line))
    scale = raw.im_chi.max()
    assert np.sum(raw.im_chi > 1e-3 * scale) >= raw.im_chi.size // 3  # absorbs
    np.testing.assert_allclose(raw.configuration_bath, raw.im_chi, rtol=1e-10, atol=1e-12 * scale)
    # the coupling matters: with infinite-temperature configurations the answer differs
    assert np.max(np.abs(raw.configuration_bath_infinite / raw.im_chi - 1)) > 0.05


def test_independent_tls_scb_both_exact_and_single_tls_fraction_one():
    """K = 0: no field, so both SCB variants are the exact independent-TLS absorption for any
    Delta, and every absorbing transition flips one TLS (F = 1)."""
    rng = np.random.default_rng(3)
    n = 6
    real = Realisation.from_arrays(asymmetry=rng.uniform(-0.3, 0.3, n),
                                   tunnelling=rng.uniform(0.01, 0.3, n),
                                   deformation_potential=rng.choice([-1.0, 1.0], n))
    raw = raw_responses(real, probe())
    np.testing.assert_allclose(raw.configuration_bath, raw.im_chi, rtol=1e-10)
    np.testing.assert_allclose(raw.configuration_bath_infinite, raw.im_chi, rtol=1e-10)
    np.testing.assert_allclose(raw.single_tls_fraction, 1.0, atol=1e-10)


def test_pipeline_units_and_registration():
    """Through observe(): the SCB is in the units of "absorption" (pi*C0) and F = 1 at K = 0."""
    model = ModelParams.from_dict({"n_tls": 5, "tls": TLS})
    out = observe(model, 7, 0, probe())
    assert set(out) == set(DECOMPOSITION)
    for name in DECOMPOSITION[1:]:
        assert out[name].shape == (len(TEMPERATURES), 3)
    np.testing.assert_allclose(out["configuration_bath_absorption"], out["absorption"], rtol=1e-10)
    np.testing.assert_allclose(out["configuration_bath_absorption_infinite"], out["absorption"],
                               rtol=1e-10)
    np.testing.assert_allclose(out["single_tls_fraction"], 1.0, atol=1e-10)
    assert absorption_normalisation(model) != 1.0  # the comparison above tests the units


def test_infinite_temperature_configurations_are_independent_tls():
    """With uniform P(c), Q_inf is the exact absorption of independent TLS, one per (i, c) with
    eps_i(c) = eps_i + 2 sum_j K_ij c_j and weight 2^-(N-1): every line keeps tanh(E/2T) and a
    T-independent weight (checked against ED of each such TLS alone)."""
    rng = np.random.default_rng(5)
    n = 4
    eps = rng.uniform(-0.3, 0.3, n)
    delta = np.exp(rng.uniform(np.log(1e-2), np.log(0.3), n))
    gamma = rng.normal(0.0, 1.0, n)
    k = couplings("gaussian", n, rng, 0.1)
    p = probe(observables=("absorption",))
    want = np.zeros((len(TEMPERATURES), 3))
    z = dc.spin_table(n)
    for i in range(n):
        for state in range(2**n):
            if z[state, i] < 0:
                continue  # one state per configuration c of the others
            alone = Realisation.from_arrays(asymmetry=[eps[i] + 2 * k[i] @ z[state]],
                                            tunnelling=[delta[i]], deformation_potential=[gamma[i]])
            want += raw_responses(alone, p).im_chi / 2 ** (n - 1)
    real = Realisation.from_arrays(asymmetry=eps, tunnelling=delta, couplings={"zz": k},
                                   deformation_potential=gamma)
    raw = raw_responses(real, probe())
    np.testing.assert_allclose(raw.configuration_bath_infinite, want, rtol=1e-10,
                               atol=1e-12 * want.max())
    assert np.max(np.abs(raw.configuration_bath / want - 1)) > 0.05  # thermal P(c) differs


def brute_force_fraction(real: Realisation, p: Probe) -> np.ndarray:
    """F from the full site matrices V^T Z_i V (every pair, no window)."""
    spectrum, _ = dense.solve(real)
    e, vecs = spectrum.energies, spectrum.vectors
    z = dc.spin_table(real.n_tls)
    sites = np.stack([real.deformation_potential[i] * vecs.T @ (z[:, i:i + 1] * vecs)
                      for i in range(real.n_tls)])
    strength = sites.sum(axis=0) ** 2
    share = (sites**2).max(axis=0) / (sites**2).sum(axis=0)
    omega = e[:, None] - e[None, :]
    pairs = omega > 0
    weights = p.broadening.kernel(np.asarray(p.frequencies)[None, :] - omega[pairs][:, None]) \
        - p.broadening.kernel(np.asarray(p.frequencies)[None, :] + omega[pairs][:, None])
    boltz = np.exp(-(e - e[0])[None, :] / np.asarray(p.temperatures)[:, None])
    boltz /= boltz.sum(axis=1, keepdims=True)
    m_index, n_index = np.nonzero(pairs)
    occupation = boltz[:, n_index] - boltz[:, m_index]
    numerator = occupation @ ((strength[pairs] * share[pairs])[:, None] * weights)
    denominator = occupation @ (strength[pairs][:, None] * weights)
    return numerator / denominator


@pytest.mark.parametrize("line", ["gaussian", "lorentzian"])
def test_single_tls_fraction_matches_brute_force(line):
    """The windowed, blocked evaluation equals the sum over all pairs of the full site matrices."""
    rng = np.random.default_rng(8)
    n = 6
    real = Realisation.from_arrays(asymmetry=rng.uniform(-0.3, 0.3, n),
                                   tunnelling=rng.uniform(0.01, 0.3, n),
                                   couplings={"zz": couplings("dipolar", n, rng, 0.05)},
                                   deformation_potential=rng.normal(0.0, 1.0, n))
    p = probe(line)
    spectrum, _ = dense.solve(real)
    got = dc.single_tls_fraction(spectrum.energies, spectrum.vectors, real.deformation_potential,
                                 p.frequencies, p.temperatures, p.broadening, block=5)
    want = brute_force_fraction(real, p)
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert np.all(got < 1.0) and np.all(got > 0.5)


def test_strong_random_block_lowers_single_tls_fraction():
    """A GOE block comparable to the TLS energies spreads every transition over many sites."""
    tls = ModelParams.from_dict({"n_tls": 6, "tls": TLS})
    goe = ModelParams.from_dict({"n_tls": 6, "tls": TLS,
                                 "random_matrix": {"kind": "goe", "weight": 1.0}})
    p = probe(observables=("single_tls_fraction",))
    assert np.allclose(observe(tls, 2, 0, p)["single_tls_fraction"], 1.0)
    mixed = observe(goe, 2, 0, p)["single_tls_fraction"]
    assert np.all(mixed < 0.7) and mixed.mean() < 0.6


def test_scb_arrays_refused_with_their_names():
    with pytest.raises(ValueError, match="populations must have shape"):
        dc.configuration_bath_absorption(np.zeros(3), np.ones(3), np.ones(3), np.ones(4),
                                         [0.1], [0.1], Broadening())
    with pytest.raises(ValueError, match="tunnelling"):
        dc.configuration_bath_absorption(np.zeros(3), np.ones(2), np.ones(3), np.ones(8),
                                         [0.1], [0.1], Broadening())
    with pytest.raises(ValueError, match="energies must have 2\\^N"):
        dc.single_tls_fraction(np.zeros(3), np.eye(3), np.ones(1), [0.1], [0.1], Broadening())


@pytest.mark.parametrize("name", DECOMPOSITION[1:])
def test_refused_without_tls_and_by_chebyshev(name):
    """A pure random-matrix block has no TLS to decompose into; the Chebyshev solver has no
    eigenstates: both refused at spec-check time, naming the observable."""
    block = ModelParams.from_dict({"n_tls": 4, "tls": None,
                                   "random_matrix": {"kind": "goe", "weight": 1.0}})
    p = probe(observables=("absorption", name))
    with pytest.raises(ValueError, match=f"{name}.*model.tls"):
        check_point(block, p, SolverParams(method="dense"))
    with pytest.raises(ValueError, match=f"{name}.*model.tls"):
        observe(block, 1, 0, p)
    tls = ModelParams.from_dict({"n_tls": 4, "tls": TLS})
    with pytest.raises(ValueError, match=f"{name}.*eigenstates"):
        check_point(tls, p, SolverParams(method="chebyshev"))
