"""The numbers in a results file against independent code written here.

A tiny sweep is run through ``run_sweep`` and written to a netCDF results file; each realisation is
then redrawn from the documented recipe (``SeedSequence(seed, spawn_key=(r,))``, parameters drawn in
the documented order) and every observable is recomputed WITHOUT manybody's physics code: explicit
Kronecker-product H and T, ``numpy.linalg.eigh``, the golden-rule chi of PHYSICS.md section 2-3
written out with the complex line shape (Lorentzian: 1/(u - i eta); Gaussian: the Faddeeva function),
the Pauli master equation of section 4 solved as a linear system, C(T) from the partition function
and <r> over the central 80 % of the spectrum. Dense values must agree to round-off (the binned
deposit at the resolution used here is far below 1e-4 of the pi*C0 plateau); Chebyshev values
within their reported statistical error (stochastic trace) or the truncation tolerance (exact trace).

Plus the closed forms of independent TLS read from a results file: tanh lines, Schottky heat, the
single-TLS dispersion and Jackle's Debye relaxation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import logsumexp, wofz
from scipy.stats import t as student_t

from manybody.runs.results import load_results
from manybody.runs.spec import RunSpec
from manybody.runs.sweep import run_sweep

K_B = 1.380649e-23  # J/K (exact, SI 2019)
HBAR = 1.054571817e-34  # J s
OMEGA_PER_K = K_B / HBAR  # angular frequency per kelvin

SX = np.array([[0.0, 1.0], [1.0, 0.0]])
SZ = np.array([[1.0, 0.0], [0.0, -1.0]])

EPS_MAX, DELTA_MIN, DELTA_MAX = 1.0, 0.02, 1.0
GAMMA = 1.3  # deformation potential scale (K per unit strain), != 1 so that its power is tested
K_PH = 3e10  # s^-1 K^-3: relaxation rates comparable with omega at the probe frequencies
FREQUENCIES = [0.05, 0.3, 0.7]
TEMPERATURES = [0.04, 0.15, 0.6, 2.0]
ALL_OBSERVABLES = ["absorption", "velocity_shift", "specific_heat", "spacing_ratio",
                   "relaxation_absorption", "relaxation_velocity_shift"]


# ---------------------------------------------------------------------------------------------
# independent code


def site_operator(op: np.ndarray, site: int, n: int) -> np.ndarray:
    """op on ``site`` (site 0 = leftmost Kronecker factor) of n spins."""
    out = np.eye(1)
    for k in range(n):
        out = np.kron(out, op if k == site else np.eye(2))
    return out


def redraw(seed: int, r: int, n: int, strength: float | None, two_body: float) -> dict:
    """Realisation r from the documented recipe: TLS (eps, ln Delta), couplings (upper triangle,
    row-major), deformation potentials, two-body stress (upper triangle of an n x n draw)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(r,)))
    eps = rng.uniform(-EPS_MAX, EPS_MAX, n)
    delta = np.exp(rng.uniform(math.log(DELTA_MIN), math.log(DELTA_MAX), n))
    k = np.zeros((n, n))
    if strength is not None and n > 1:
        iu = np.triu_indices(n, 1)
        k[iu] = rng.normal(0.0, strength, iu[0].size)
    gamma = rng.normal(0.0, GAMMA, n)
    kt = np.zeros((n, n))
    if two_body > 0 and n > 1:
        kt = np.triu(rng.normal(0.0, two_body, (n, n)), 1)
    return {"eps": eps, "delta": delta, "k": k, "gamma": gamma, "kt": kt}


def hamiltonian_and_stress(d: dict) -> tuple[np.ndarray, np.ndarray]:
    n = d["eps"].size
    sz = [site_operator(SZ, i, n) for i in range(n)]
    sx = [site_operator(SX, i, n) for i in range(n)]
    h = sum(0.5 * (d["eps"][i] * sz[i] + d["delta"][i] * sx[i]) for i in range(n))
    t = sum(d["gamma"][i] * sz[i] for i in range(n))
    for i in range(n):
        for j in range(i + 1, n):
            h = h + d["k"][i, j] * sz[i] @ sz[j]
            t = t + d["kt"][i, j] * sz[i] @ sz[j]
    return h, t


def reference_normalisation(n: int) -> float:
    """eps_max ln(Delta_max/Delta_min) / (N gamma^2): Q^-1 in units of pi*C0 (PHYSICS.md 2)."""
    return EPS_MAX * math.log(DELTA_MAX / DELTA_MIN) / (n * GAMMA**2)


def line_shape(u: np.ndarray, kind: str, width: float) -> np.ndarray:
    """The broadened 1/(u - i0): Im = pi K(u), Re = principal value (complex)."""
    if kind == "lorentzian":
        return 1.0 / (u - 1j * width)
    # Gaussian of standard deviation eta: i sqrt(pi/2)/eta conj(w(u / (sqrt(2) eta)))
    return 1j * math.sqrt(math.pi / 2) / width * np.conj(wofz(u / (math.sqrt(2) * width)))


def thermal(e: np.ndarray, temperature: float) -> np.ndarray:
    log_p = -e / temperature
    return np.exp(log_p - logsumexp(log_p))


def golden_rule_chi(e, t_mn, w, temperature, kind, width) -> np.ndarray:
    """chi(w) = sum_{m,n} (p_n - p_m) |T_mn|^2 / (E_m - E_n - w - i0), shape (n_w,)."""
    p = thermal(e, temperature)
    dp = p[None, :] - p[:, None]  # [m, n] = p_n - p_m
    u = e[:, None] - e[None, :]  # [m, n] = E_m - E_n
    weight = dp * t_mn**2
    return np.array([np.sum(weight * line_shape(u - wk, kind, width)) for wk in w])


def relaxation_chi(e, t_mn, w, temperature, stress_scale) -> np.ndarray:
    """Pauli master equation of PHYSICS.md section 4, solved as (-S - i omega) x = -S a."""
    p = thermal(e, temperature)
    released = e[None, :] - e[:, None]  # [m, n] = E_n - E_m, > 0 for emission n -> m
    a_energy = np.abs(released)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        n_b = 1.0 / np.expm1(a_energy / temperature)
    occupation = np.where(released > 0, n_b + 1.0, n_b)
    occupation[a_energy == 0] = 0.0  # no rate without energy exchange
    rates = K_PH * (t_mn / stress_scale) ** 2 * a_energy**3 * occupation  # Gamma(n -> m) at [m, n]
    np.fill_diagonal(rates, 0.0)
    generator = rates - np.diag(rates.sum(axis=0))
    sq = np.sqrt(p)
    sym = generator * sq[None, :] / sq[:, None]  # P^-1/2 W P^1/2
    sym = 0.5 * (sym + sym.T)
    diag = np.diag(t_mn)
    a = sq * (diag - p @ diag)
    out = []
    for wk in w:
        omega = wk * OMEGA_PER_K
        x = np.linalg.solve(-sym - 1j * omega * np.eye(e.size), -sym @ a)
        out.append(a @ x / temperature)
    return np.array(out)


def mean_r(e: np.ndarray) -> float:
    e = np.sort(e)
    cut = int(round(0.1 * e.size))
    s = np.diff(e[cut:e.size - cut])
    s = s[s > 1e-10 * (e[-1 - cut] - e[cut])]
    return float(np.mean(np.minimum(s[:-1], s[1:]) / np.maximum(s[:-1], s[1:])))


def independent_observables(d: dict, kind: str, width: float,
                            temperatures=tuple(TEMPERATURES)) -> dict[str, np.ndarray]:
    n = d["eps"].size
    h, t = hamiltonian_and_stress(d)
    e, v = np.linalg.eigh(h)
    t_mn = v.T @ t @ v
    norm = reference_normalisation(n)
    w = np.asarray(FREQUENCIES)
    chi = np.array([golden_rule_chi(e, t_mn, w, temp, kind, width) for temp in temperatures])
    rel = np.array([relaxation_chi(e, t_mn, w, temp, GAMMA) for temp in temperatures])
    heat = []
    for temp in temperatures:  # C = d<E>/dT from ln Z: (<E^2> - <E>^2)/T^2
        p = thermal(e - e[0], temp)
        heat.append((p @ (e - e[0]) ** 2 - (p @ (e - e[0])) ** 2) / temp**2)
    return {
        "absorption": norm * chi.imag / math.pi,
        "velocity_shift": -0.5 * norm * chi.real,
        "relaxation_absorption": norm * rel.imag / math.pi,
        "relaxation_velocity_shift": -0.5 * norm * rel.real,
        "specific_heat": np.array(heat),
        "spacing_ratio": np.asarray(mean_r(e)),
    }


# ---------------------------------------------------------------------------------------------
# the runs


def spec_dict(kind: str, solver: dict | None = None, observables=None, **model) -> dict:
    d = {
        "name": "truth",
        "seed": 20261130,
        "realisations": 2,
        "model": {"n_tls": 4,
                  "tls": {"asymmetry_max": EPS_MAX, "tunnelling_min": DELTA_MIN,
                          "tunnelling_max": DELTA_MAX},
                  "coupling": {"kind": "gaussian", "strength": 0.1},
                  "stress": {"deformation_potential": GAMMA, "distribution": "gaussian",
                             "two_body": 0.15},
                  **model},
        "sweep": {"model.coupling.strength": [0.0, 0.12], "model.n_tls": [3, 4]},
        "probe": {"frequencies": FREQUENCIES, "temperatures": TEMPERATURES,
                  "observables": observables or ALL_OBSERVABLES,
                  "broadening": {"kind": kind, "width": 0.03, "resolution": 400},
                  "phonon_rate_prefactor": K_PH},
    }
    if solver:
        d["solver"] = solver
    return d


def run_to_file(tmp_path, d: dict):
    path = tmp_path / "run.nc"
    run_sweep(RunSpec.from_dict(d), output=path, n_jobs=1)
    return load_results(path)


def points(ds):
    for i, strength in enumerate(ds["coupling_strength"].values):
        for j, n in enumerate(ds["n_tls"].values):
            for r in range(ds.sizes["realisation"]):
                yield {"coupling_strength": i, "n_tls": j, "realisation": r}, \
                    float(strength), int(n), r


@pytest.fixture(scope="module", params=["lorentzian", "gaussian"])
def dense_run(request, tmp_path_factory):
    d = spec_dict(request.param)
    return request.param, d, run_to_file(tmp_path_factory.mktemp("truth"), d)


def test_results_file_has_units_and_every_observable(dense_run):
    _, _, ds = dense_run
    units = {"absorption": "pi*C0", "velocity_shift": "C0", "relaxation_absorption": "pi*C0",
             "relaxation_velocity_shift": "C0", "specific_heat": "k_B", "spacing_ratio": "1"}
    for name, unit in units.items():
        assert ds[name].attrs["units"] == unit, name
    np.testing.assert_array_equal(ds["frequency"].values, FREQUENCIES)
    np.testing.assert_array_equal(ds["temperature"].values, TEMPERATURES)


def test_dense_results_file_equals_independent_computation(dense_run):
    """Every observable of every (point, realisation), in its stated units, to round-off."""
    kind, d, ds = dense_run
    scale = {}
    for sel, strength, n, r in points(ds):
        draw = redraw(d["seed"], r, n, strength, d["model"]["stress"]["two_body"])
        truth = independent_observables(draw, kind, d["probe"]["broadening"]["width"])
        for name, expected in truth.items():
            got = ds[name].isel(sel).values
            assert got.shape == expected.shape, name
            # resonant: binned deposit, far below 1e-4 of the plateau (1 in pi*C0) at this
            # resolution; the rest is round-off (master equation: Lanczos rtol 1e-10)
            atol = 1e-4 if name in ("absorption", "velocity_shift") else 1e-9 * max(
                1.0, np.abs(expected).max())
            np.testing.assert_allclose(got, expected, rtol=1e-7, atol=atol,
                                       err_msg=f"{name} at {sel}")
            scale[name] = max(scale.get(name, 0.0), float(np.abs(expected).max()))
    # the comparison is not vacuous: every observable is well above its tolerance somewhere
    assert min(scale.values()) > 0.05, scale


@pytest.mark.slow
@pytest.mark.parametrize("trace", ["exact", "stochastic"])
def test_chebyshev_results_file_within_reported_error(trace, tmp_path):
    chebyshev = {"trace": trace, "dtype": "float64", "truncation_tol": 1e-6}
    if trace == "stochastic":
        chebyshev["n_vectors"] = 8
    d = spec_dict("gaussian", solver={"method": "chebyshev", "chebyshev": chebyshev},
                  observables=["absorption", "velocity_shift", "specific_heat", "spacing_ratio"])
    d["probe"]["temperatures"] = [0.15, 0.6, 2.0]
    d["sweep"] = {"model.coupling.strength": [0.12], "model.n_tls": [4]}
    ds = run_to_file(tmp_path, d)
    worst, count = -np.inf, 0
    for sel, strength, n, r in points(ds):
        draw = redraw(d["seed"], r, n, strength, d["model"]["stress"]["two_body"])
        truth = independent_observables(draw, "gaussian", d["probe"]["broadening"]["width"],
                                        d["probe"]["temperatures"])
        assert np.isnan(ds["spacing_ratio"].isel(sel).values)
        for name in ("absorption", "velocity_shift", "specific_heat"):
            got = ds[name].isel(sel).values
            err = ds[f"{name}_error"].isel(sel).values
            expected = truth[name]
            # truncation allowance: 1e-4 of the plateau (1 in pi*C0 and C0) and of the value
            tol = 1e-4 * np.abs(expected) + (1e-4 if name != "specific_heat" else 1e-10)
            if trace == "exact":
                # no sampling error; the reported error is the truncation estimate, which must
                # cover the deviation (3 sigma), and the deviation stays within the allowance
                assert np.all(np.isfinite(err) & (err >= 0)), name
                deviation = np.abs(got - expected)
                assert np.all(deviation <= 3 * err + 1e-12), (name, sel, deviation, err)
                assert np.all(deviation <= tol), (name, sel, got, expected)
            else:
                assert np.all(err > 0), name
                worst = max(worst, float(np.max((np.abs(got - expected) - tol) / err)))
                count += got.size
    if trace == "stochastic":
        # jackknife errors from n_vectors vectors: Student t with n_vectors - 1 degrees of
        # freedom; a bound exceeded with probability 1e-3 over all numbers (Bonferroni), any seed
        bound = student_t.ppf(1 - 0.5e-3 / count, chebyshev["n_vectors"] - 1)
        assert worst < bound, (worst, bound)


# ---------------------------------------------------------------------------------------------
# closed forms of independent TLS, read from a results file


@pytest.fixture(scope="module")
def independent_run(tmp_path_factory):
    d = spec_dict("lorentzian")
    d["model"].pop("coupling")
    d["model"]["stress"] = {"deformation_potential": GAMMA, "distribution": "fixed"}
    d["sweep"] = {"model.n_tls": [1, 3]}
    d["probe"]["observables"] = [o for o in ALL_OBSERVABLES if o != "spacing_ratio"]
    d["realisations"] = 3
    return d, run_to_file(tmp_path_factory.mktemp("indep"), d)


def test_independent_tls_closed_forms_in_results_file(independent_run):
    """tanh-weighted lines, Schottky sum, single-TLS dispersion and Debye relaxation per TLS."""
    d, ds = independent_run
    width = d["probe"]["broadening"]["width"]
    w = np.asarray(FREQUENCIES)[None, :]
    temp = np.asarray(TEMPERATURES)[:, None]
    for j, n in enumerate(ds["n_tls"].values):
        norm = reference_normalisation(int(n))
        for r in range(d["realisations"]):
            rng = np.random.default_rng(np.random.SeedSequence(d["seed"], spawn_key=(r,)))
            eps = rng.uniform(-EPS_MAX, EPS_MAX, n)
            delta = np.exp(rng.uniform(math.log(DELTA_MIN), math.log(DELTA_MAX), n))
            q = dv = qr = dvr = 0.0
            heat = 0.0
            for e_i, d_i in zip(eps, delta, strict=True):
                energy = math.hypot(e_i, d_i)
                # resonant: one line of weight gamma^2 (Delta/E)^2 tanh(E/2T) at w = E
                weight = GAMMA**2 * (d_i / energy) ** 2 * np.tanh(energy / (2 * temp))
                lor = width / math.pi
                q = q + weight * (lor / ((w - energy) ** 2 + width**2)
                                  - lor / ((w + energy) ** 2 + width**2))
                dv = dv - 0.5 * weight * ((energy - w) / ((energy - w) ** 2 + width**2)
                                          + (energy + w) / ((energy + w) ** 2 + width**2))
                # relaxation: Debye with Jackle's tau, strength (gamma eps/E)^2 sech^2(E/2T)/T
                rate = K_PH * d_i**2 * energy / np.tanh(energy / (2 * temp))
                strength = (GAMMA * e_i / energy) ** 2 / np.cosh(energy / (2 * temp)) ** 2 / temp
                debye = strength / (1 - 1j * w * OMEGA_PER_K / rate)
                qr = qr + debye.imag / math.pi
                dvr = dvr - 0.5 * debye.real
                x = energy / temp[:, 0]
                heat = heat + x**2 * np.exp(x) / (1 + np.exp(x)) ** 2
            sel = {"n_tls": j, "realisation": r}
            np.testing.assert_allclose(ds["absorption"].isel(sel).values, norm * q,
                                       rtol=1e-7, atol=1e-4)
            np.testing.assert_allclose(ds["velocity_shift"].isel(sel).values, norm * dv,
                                       rtol=1e-7, atol=1e-4)
            np.testing.assert_allclose(ds["relaxation_absorption"].isel(sel).values, norm * qr,
                                       rtol=1e-8, atol=1e-12)
            np.testing.assert_allclose(ds["relaxation_velocity_shift"].isel(sel).values,
                                       norm * dvr, rtol=1e-8, atol=1e-12)
            np.testing.assert_allclose(ds["specific_heat"].isel(sel).values, heat,
                                       rtol=1e-10, atol=1e-14)


@pytest.mark.slow
def test_independent_tls_closed_forms_from_the_chebyshev_solver(tmp_path):
    """The same closed forms (tanh lines, single-TLS dispersion, Schottky) from a Chebyshev run
    with an exact trace, within the truncation tolerance (1e-4 of the plateau)."""
    d = spec_dict("lorentzian", solver={"method": "chebyshev", "chebyshev": {
        "trace": "exact", "dtype": "float64", "truncation_tol": 1e-6}},
        observables=["absorption", "velocity_shift", "specific_heat"])
    d["model"].pop("coupling")
    d["model"]["stress"] = {"deformation_potential": GAMMA, "distribution": "fixed"}
    d["model"]["n_tls"] = 3
    d["sweep"] = {}
    d["probe"]["temperatures"] = [0.15, 0.6, 2.0]
    ds = run_to_file(tmp_path, d)
    width = d["probe"]["broadening"]["width"]
    w = np.asarray(FREQUENCIES)[None, :]
    temp = np.asarray(d["probe"]["temperatures"])[:, None]
    norm = reference_normalisation(3)
    for r in range(d["realisations"]):
        rng = np.random.default_rng(np.random.SeedSequence(d["seed"], spawn_key=(r,)))
        eps = rng.uniform(-EPS_MAX, EPS_MAX, 3)
        delta = np.exp(rng.uniform(math.log(DELTA_MIN), math.log(DELTA_MAX), 3))
        energy = np.hypot(eps, delta)[None, None, :]
        weight = GAMMA**2 * (delta / energy) ** 2 * np.tanh(energy / (2 * temp[..., None]))
        wk = w[..., None]
        lor = width / math.pi
        q = np.sum(weight * (lor / ((wk - energy) ** 2 + width**2)
                             - lor / ((wk + energy) ** 2 + width**2)), axis=-1)
        dv = -0.5 * np.sum(weight * ((energy - wk) / ((energy - wk) ** 2 + width**2)
                                     + (energy + wk) / ((energy + wk) ** 2 + width**2)), axis=-1)
        x = energy[0] / temp
        heat = np.sum(x**2 * np.exp(x) / (1 + np.exp(x)) ** 2, axis=-1)
        sel = {"realisation": r}
        np.testing.assert_allclose(ds["absorption"].isel(sel).values, norm * q, rtol=1e-4,
                                   atol=1e-4)
        np.testing.assert_allclose(ds["velocity_shift"].isel(sel).values, norm * dv, rtol=1e-4,
                                   atol=1e-4)
        np.testing.assert_allclose(ds["specific_heat"].isel(sel).values, heat, rtol=1e-4,
                                   atol=1e-10)
