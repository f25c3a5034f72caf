"""Bad input to the public functions gets a clear error naming the parameter (session 26's API
break test, /tmp/break26_api): one test per kind of input, parametrised over every function that
takes it. Valid input keeps its numbers (spot checks against the formulas)."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import manybody as mb
from manybody.laws.analysis import paired_index_difference
from manybody.laws.gof import law_design, law_goodness_of_fit
from manybody.laws.shapes import law_tls, smeared
from manybody.simulation import materials
from manybody.simulation.observables import statistics, thermo


@pytest.fixture(scope="module")
def solved():
    real = mb.Realisation.from_arrays(asymmetry=[0.06, 0.03, -0.1], tunnelling=[0.08, 0.05, 0.02])
    return mb.solve(real)


# -- 1. energies of the thermodynamic functions ------------------------------------------------

THERMO = [("boltzmann_weights", "energies"), ("specific_heat", "energies"),
          ("entropy", "energies"), ("schottky", "splittings")]
BAD_LEVELS = [
    (np.eye(2), ValueError, "1-d"),
    (np.array([np.nan, 0.1]), ValueError, "finite"),
    (np.array([0.0, 0.1 + 1j]), TypeError, "complex"),
    (np.array([]), ValueError, "non-empty"),
    ("0.1", TypeError, "string"),
]


@pytest.mark.parametrize("name, parameter", THERMO)
@pytest.mark.parametrize("energies, error, what", BAD_LEVELS)
def test_thermo_refuses_bad_energies(name, parameter, energies, error, what):
    with pytest.raises(error, match=f"{parameter} must.*{what}"):
        getattr(thermo, name)(energies, [0.1])


@pytest.mark.parametrize("name", ["boltzmann_weights", "specific_heat", "entropy", "schottky"])
def test_thermo_refuses_bad_temperatures(name):
    for t in ([0.0], [np.nan], [[0.1, 0.2]], []):
        with pytest.raises(ValueError, match="temperatures must"):
            getattr(thermo, name)(np.array([0.0, 0.1]), t)


def test_schottky_refuses_negative_splittings():
    with pytest.raises(ValueError, match="splittings must be >= 0"):
        mb.schottky([-0.1], [0.1])


def test_specific_heat_low_temperature_limit_and_values_unchanged():
    e = np.array([0.0, 0.1, 0.3])
    # T^2 underflows below ~1e-154 K: the limit 0, not 0/0
    assert mb.specific_heat(e, [1e-300, 1e-200])[0] == 0.0
    assert np.all(mb.specific_heat(e, [1e-300, 1e-200]) == 0.0)
    assert mb.specific_heat([0.0, 1e308], [0.1])[0] == 0.0  # weight 0, not 0 * inf
    t = np.array([0.02, 0.05, 0.3])
    p = np.exp(-e[None, :] / t[:, None])
    p /= p.sum(axis=1, keepdims=True)
    c = ((p @ e**2) - (p @ e) ** 2) / t**2
    assert np.allclose(mb.specific_heat(e, t), c, rtol=1e-13, atol=0)
    # independent TLS: the many-body C is the Schottky sum (PHYSICS.md section 5)
    levels = np.array([0.0, 0.1, 0.2, 0.3])  # splittings 0.1 and 0.2 around their midpoints
    assert np.allclose(mb.specific_heat(levels, t), mb.schottky([0.1, 0.2], t), rtol=1e-12)


# -- 2. energies and vectors of the spectral statistics ---------------------------------------


def _stats_call(name, energies):
    if name in ("matrix_element_statistics", "matrix_element_sums"):
        d = np.size(energies) if np.ndim(energies) == 1 else 4
        return getattr(statistics, name)(energies, np.zeros((d, d)), [0.0, 1.0], [0.0, 1.0])
    return getattr(statistics, name)(energies)


@pytest.mark.parametrize("name", ["spacing_ratios", "mean_spacing_ratio",
                                  "matrix_element_statistics", "matrix_element_sums"])
@pytest.mark.parametrize("energies, error, what", [
    (np.r_[np.linspace(0, 1, 50), np.nan], ValueError, "finite"),
    (np.random.default_rng(0).random((20, 10)), ValueError, "1-d"),
    (np.linspace(0, 1, 20) + 0j, TypeError, "complex"),
])
def test_statistics_refuse_bad_energies(name, energies, error, what):
    with pytest.raises(error, match=f"energies must.*{what}"):
        _stats_call(name, energies)


def test_participation_ratio_inputs(solved):
    spectrum, _ = solved
    with pytest.raises(TypeError, match=r"vectors must .*pass spectrum\.vectors"):
        mb.participation_ratio(spectrum)
    with pytest.raises(ValueError, match="vectors must contain only finite"):
        mb.participation_ratio(np.full((2, 2), np.nan))
    expected = 1.0 / np.sum(spectrum.vectors**4, axis=0)
    assert np.array_equal(mb.participation_ratio(spectrum.vectors), expected)


# -- 3. absorption.py: normalisation, stress elements, spectrum -----------------------------

RESPONSES = ["absorption", "velocity_shift"]


@pytest.mark.parametrize("name", RESPONSES)
@pytest.mark.parametrize("normalisation, error", [
    (np.array([1.0, 2.0]), TypeError), (np.nan, ValueError), (-1.0, ValueError),
    (0.0, ValueError), ("1", TypeError)])
def test_normalisation_must_be_a_positive_number(solved, name, normalisation, error):
    s, t = solved
    with pytest.raises(error, match="normalisation must"):
        getattr(mb, name)(s, t, [0.1], [0.05], mb.Broadening(width=0.01),
                          normalisation=normalisation)


def _response_call(name, spectrum, elements):
    k = mb.Broadening(width=0.01)
    if name == "pair_spectrum":
        return mb.pair_spectrum(spectrum, elements, [0.1], k).absorption([0.1], [0.05])
    if name == "transition_lines":
        return mb.transition_lines(spectrum, elements, 0.05)
    return getattr(mb, name)(spectrum, elements, [0.1], [0.05], k)


ELEMENT_USERS = [*RESPONSES, "pair_spectrum", "transition_lines"]


@pytest.mark.parametrize("name", ELEMENT_USERS)
def test_stress_elements_real_finite_matching(solved, name):
    s, t = solved
    for bad, error, what in ((t.astype(complex), TypeError, "complex"),
                             (np.full_like(t, np.nan), ValueError, "finite"),
                             (t[:4, :4], ValueError, r"shape \(8, 8\)"),
                             ([["a"] * 8] * 8, TypeError, "real numbers")):
        with pytest.raises(error, match=f"stress_elements must.*{what}"):
            _response_call(name, s, bad)
    # a list is the array it spells
    ref, got = _response_call(name, s, t), _response_call(name, s, t.tolist())
    for a, b in zip(np.atleast_1d(ref) if name != "transition_lines" else ref,
                    np.atleast_1d(got) if name != "transition_lines" else got, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("name", ELEMENT_USERS)
def test_spectrum_must_be_a_spectrum(solved, name):
    s, t = solved
    with pytest.raises(TypeError, match=r"spectrum must be a Spectrum.*Spectrum\(energies="):
        _response_call(name, s.energies, t)


def test_absorption_non_negative_far_above_bandwidth(solved):
    s, t = solved
    k = mb.Broadening(kind="gaussian", width=0.01)
    for method in ("exact", "binned"):
        q = mb.absorption(s, t, [0.1], [1e300, 1e6, 0.05], k, method=method)
        assert np.all(q >= 0.0)
        assert q[2, 0] > 0.0


# -- 4. laws: smearing, rng, x and q -------------------------------------------------------------

X = np.geomspace(0.2, 12.8, 25)
Q = np.tanh(X / 2)
Q_REAL = Q[None, :] * (1 + 0.01 * np.random.default_rng(1).standard_normal((6, X.size)))


def _smearing_call(name, smearing=None, rng=None):
    if name == "fit_law":
        return mb.fit_law(X, Q, smearing=smearing)
    if name == "analyse_shape":
        return mb.analyse_shape(X, Q_REAL, n_bootstrap=20, smearing=smearing, rng=rng)
    if name == "paired_index_difference":
        return paired_index_difference(X, Q_REAL, Q_REAL, n_bootstrap=20, smearing=smearing,
                                       rng=rng)
    if name == "law_goodness_of_fit":
        fit = mb.fit_law(X, Q_REAL.mean(axis=0))
        return law_goodness_of_fit(X, Q_REAL, fit, smearing=smearing, rng=rng)
    return law_design("family", X, 0.5, smearing)


@pytest.mark.parametrize("name", ["fit_law", "analyse_shape", "paired_index_difference",
                                  "law_goodness_of_fit", "law_design"])
@pytest.mark.parametrize("smearing, error, what", [
    (-0.1, ValueError, ">= 0"), (np.nan, ValueError, "finite"),
    (0.6, ValueError, "eta / w < 0.5"), ("0.1", TypeError, "real number")])
def test_smearing_same_rule_everywhere(name, smearing, error, what):
    with pytest.raises(error, match=f"smearing must.*{what}"):
        _smearing_call(name, smearing)


def test_smeared_refuses_negative_smearing():
    for bad, error in ((-0.1, ValueError), (np.nan, ValueError), (np.array([0.1]), TypeError)):
        with pytest.raises(error, match="smearing must"):
            smeared(law_tls, X, bad)
    assert np.array_equal(smeared(law_tls, X, 0.0), law_tls(X))


@pytest.mark.parametrize("name", ["analyse_shape", "paired_index_difference",
                                  "law_goodness_of_fit"])
def test_rng_must_be_a_generator(name):
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator.*default_rng\(3\)"):
        _smearing_call(name, rng=3)


@pytest.mark.parametrize("name", ["shape_ratio", "analyse_shape"])
def test_shape_x_and_q(name):
    call = (mb.shape_ratio if name == "shape_ratio"
            else lambda x, q: mb.analyse_shape(x, q, n_bootstrap=0))
    with pytest.raises(ValueError, match="x must not repeat a value"):
        call(np.r_[X, X[:1]], np.r_[Q, Q[:1]])
    with pytest.raises(ValueError, match="must contain only finite"):
        call(X, np.where(X > 1, np.nan, Q))
    with pytest.raises(ValueError, match=r"(q|q_realisations) must have shape"):
        call(X, Q[:5])


def test_shape_values_unchanged_and_one_curve():
    assert math.isclose(mb.shape_ratio(X, Q), 3.109571693061108, rel_tol=1e-13)
    one, row = mb.analyse_shape(X, Q, n_bootstrap=0), mb.analyse_shape(X, Q[None, :], n_bootstrap=0)
    assert one.index == row.index and one.ratio == row.ratio  # (n_x,) is one curve (documented)
    with pytest.raises(ValueError, match="q_realisations must have shape"):
        mb.analyse_shape(X, np.ones((2, 3, X.size)))


# -- 5. Realisation.from_arrays ---------------------------------------------------------------


def test_from_arrays_types_and_shapes():
    kw = dict(asymmetry=[0.1, 0.2], tunnelling=[0.1, 0.1])
    with pytest.raises(TypeError, match="n_tls must be an integer, got 2.0"):
        mb.Realisation.from_arrays(**kw, n_tls=2.0)
    with pytest.raises(TypeError, match="couplings must be a mapping"):
        mb.Realisation.from_arrays(**kw, couplings=[np.zeros((2, 2))])
    for name in ("deformation_potential", "tunnelling"):
        args = {**kw, name: 2.0}
        with pytest.raises(ValueError, match=rf"{name} must have shape \(2,\), got 2.0 .*single "
                                             r"number only for N = 1"):
            mb.Realisation.from_arrays(**args)
    one = mb.Realisation.from_arrays(asymmetry=0.1, tunnelling=0.05, deformation_potential=2.0)
    assert one.n_tls == 1 and one.deformation_potential.tolist() == [2.0]


# -- 6. solve -----------------------------------------------------------------------------------


def test_solve_arguments():
    real = mb.Realisation.from_arrays(asymmetry=[0.1], tunnelling=[0.1])
    with pytest.raises(TypeError, match="real must be a Realisation"):
        mb.solve({"n_tls": 2})
    with pytest.raises(TypeError, match="solver must be a SolverParams.*got 'dense'"):
        mb.solve(real, "dense")
    with pytest.raises(ValueError, match="solver.method = 'chebyshev'.*chebyshev_absorption"):
        mb.solve(real, mb.SolverParams(method="chebyshev"))
    for solver in (None, mb.SolverParams(), mb.SolverParams(method="auto")):
        s, _ = mb.solve(real, solver)
        assert np.allclose(s.energies, [-math.sqrt(0.02) / 2, math.sqrt(0.02) / 2], rtol=1e-14)


# -- 7. run_sweep ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec():
    return mb.RunSpec(name="x", seed=1, model=mb.ModelParams(n_tls=2),
                      probe=mb.Probe(frequencies=(0.1,), temperatures=(0.05,)))


@pytest.mark.parametrize("keyword, value, error, what", [
    ("output", 123, TypeError, "output must be a file path"),
    ("progress", "yes", TypeError, "progress must be True, False or a callable"),
    ("resume", "no", TypeError, "resume must be True or False"),
    ("overwrite", 1, TypeError, "overwrite must be True or False"),
    ("n_jobs", -2, ValueError, r"n_jobs must be -1 \(every core.*or an integer between 1 and"),
])
def test_run_sweep_argument_types(spec, keyword, value, error, what):
    with pytest.raises(error, match=what):
        mb.run_sweep(spec, **{keyword: value})


# -- 8. observe -----------------------------------------------------------------------------------


def test_observe_refuses_a_mapping_probe():
    with pytest.raises(TypeError, match=r"probe must be a Probe.*probe_from_dict"):
        mb.observe(mb.ModelParams(n_tls=2), 1, 0, {"frequencies": (0.1,)})
    with pytest.raises(TypeError, match="params must be a ModelParams"):
        mb.observe({"n_tls": 2}, 1, 0, mb.Probe(frequencies=(0.1,), temperatures=(0.05,)))


# -- 9. documentation -----------------------------------------------------------------------------


def test_phonon_bath_example_runs():
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    for test in finder.find(materials.PhononBath, "PhononBath", globs=vars(materials).copy()):
        runner.run(test)
    assert runner.failures == 0 and runner.tries >= 1


@pytest.mark.parametrize("function", [
    mb.entropy, mb.schottky, mb.boltzmann_weights, mb.specific_heat, mb.shape_ratio,
    mb.participation_ratio, mb.mean_spacing_ratio, mb.draw_realisation, mb.absorption,
    mb.velocity_shift, mb.transition_lines, mb.emission_stripped, mb.solve,
    mb.observe, mb.fit_law, mb.analyse_shape])
def test_docstrings_give_errors_and_source(function):
    doc = function.__doc__
    assert "Raises" in doc and "Parameters" in doc
    module_doc = __import__(function.__module__, fromlist=["_"]).__doc__ or ""
    assert "PHYSICS.md section" in doc or "PHYSICS.md section" in module_doc


def test_realisation_rng_docstring():
    assert "Raises" in mb.realisation_rng.__doc__ and "Parameters" in mb.realisation_rng.__doc__


def test_masked_entries_of_a_masked_array_are_refused_by_name():
    """numpy hands over the numbers under a mask: a masked array with masked entries is refused
    naming the parameter (a reviewer found canonical_ratio using them, session 27); one without
    masked entries is its data."""
    x = np.linspace(0.2, 10.0, 12)
    q = np.tanh(x / 2)
    masked = np.ma.masked_array(x, mask=[False] * 11 + [True])
    with pytest.raises(ValueError, match=r"x has 1 masked entry"):
        mb.fit_law(masked, q)
    with pytest.raises(ValueError, match=r"energies has 2 masked entries"):
        thermo.specific_heat(np.ma.masked_array([0.0, 1.0, 2.0], mask=[0, 1, 1]), [0.1])
    assert mb.fit_law(np.ma.masked_array(x), q).parameters == mb.fit_law(x, q).parameters


# -- session 34: the physics core's entry points (a tester's report) ---------------------------

@pytest.mark.parametrize("matrix, error, words", [
    (np.array([[np.nan, 1.0], [1.0, 0.0]]), ValueError, r"h must contain only finite.*nan"),
    (np.array([[0.0, 5.0], [1.0, 0.0]]), ValueError, r"h must be real symmetric.*H\[0, 1\] = 5"),
    ([[0, 1], [1, 0]], TypeError, r"h must be a numpy array.*list"),
    (np.eye(2, dtype=int), TypeError, r"h must be a numpy array of float64 or float32.*int64"),
    (np.zeros((0, 0)), ValueError, r"non-empty square.*\(0, 0\)"),
    (np.zeros((2, 3)), ValueError, r"non-empty square.*\(2, 3\)"),
])
def test_diagonalise_refuses_what_lapack_would_misread(matrix, error, words):
    """LAPACK reads one triangle without checking: a NaN gave finite eigenvalues and
    [[0, 5], [1, 0]] gave +-1 (true: +-2.236)."""
    with pytest.raises(error, match=words):
        mb.diagonalise(matrix)


def test_diagonalise_refuses_a_sparse_matrix_and_keeps_valid_numbers():
    import scipy.sparse as sp
    with pytest.raises(TypeError, match=r"scipy sparse.*toarray"):
        mb.diagonalise(sp.eye(2, format="csr"))
    np.testing.assert_allclose(mb.diagonalise(np.array([[0.0, 1.0], [1.0, 0.0]])).energies,
                               [-1.0, 1.0])


def test_stress_matrix_elements_refuses_nan_complex_and_lists():
    import scipy.sparse as sp
    vectors = np.linalg.eigh(np.array([[1.0, 2.0], [2.0, 3.0]]))[1]
    with pytest.raises(ValueError, match=r"stress must contain only finite.*nan"):
        mb.stress_matrix_elements(vectors, np.array([[np.nan, 0.0], [0.0, 1.0]]))
    with pytest.raises(TypeError, match=r"stress.*complex"):
        mb.stress_matrix_elements(vectors, np.array([[0, 1j], [-1j, 0]]))
    with pytest.raises(TypeError, match=r"stress must hold real numbers"):
        mb.stress_matrix_elements(vectors, sp.csr_matrix(np.array([[0, 1j], [-1j, 0]])))
    with pytest.raises(TypeError, match=r"stress must be a numpy array or a scipy sparse.*list"):
        mb.stress_matrix_elements(vectors, [[1, 0], [0, 1]])
    with pytest.raises(ValueError, match=r"vectors must be a non-empty square"):
        mb.stress_matrix_elements(np.ones(2), np.eye(2))
    np.testing.assert_allclose(mb.stress_matrix_elements(vectors, sp.diags([1.0, 2.0])),
                               vectors.T @ np.diag([1.0, 2.0]) @ vectors, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.int32, int, np.float16, np.complex128, "bogus"])
def test_operators_take_float64_or_float32_only(dtype):
    """An integer dtype truncated eps/2 = 0.015 to an H of zeros, silently."""
    real = mb.Realisation.from_arrays(asymmetry=[0.03, 0.05], tunnelling=[0.04, 0.02])
    for build in (mb.build_operators, mb.build_hamiltonian, mb.build_stress):
        with pytest.raises(TypeError, match=r"dtype must be float64 or float32"):
            build(real, dtype)


def test_operators_need_a_realisation():
    for build in (mb.build_operators, mb.build_hamiltonian, mb.build_stress):
        with pytest.raises(TypeError, match=r"real must be a Realisation.*dict"):
            build({"n_tls": 2})


@pytest.mark.parametrize("fields, error, words", [
    (dict(kind="gue", weight=1.0, seed=1), ValueError, r"RandomMatrixTerm.kind.*'gue'"),
    (dict(kind="goe", weight=float("nan"), seed=1), ValueError, r"RandomMatrixTerm.weight.*nan"),
    (dict(kind="flat", weight=-1.0, seed=1), ValueError, r"RandomMatrixTerm.weight must be >= 0"),
    (dict(kind="exponential", weight=1.0, seed=1, growth_temperature=0.0), ValueError,
     r"growth_temperature must be > 0"),
    (dict(kind="goe", weight=1.0, seed="a"), TypeError, r"RandomMatrixTerm.seed"),
    (dict(kind="goe", weight=1.0, seed=-1), ValueError,
     r"RandomMatrixTerm.seed must be an integer between 0 and 9223372036854775807"),
    (dict(kind="flat", weight=1.0, seed=1, level_statistics="gue"), ValueError,
     r"level_statistics.*'gue'"),
])
def test_random_matrix_term_checks_its_fields(fields, error, words):
    with pytest.raises(error, match=words):
        mb.RandomMatrixTerm(**fields)


def test_random_matrix_terms_must_fit_their_role():
    """A flat block as the stress was accepted (neither 'goe' nor 'eth'); 'eth' as the
    Hamiltonian's block failed at solve time with a message naming only flat/exponential."""
    term = mb.RandomMatrixTerm
    with pytest.raises(ValueError, match=r"stress_random_matrix.kind must be one of 'goe', 'eth'"):
        mb.Realisation.from_arrays(asymmetry=[0.1, 0.1], tunnelling=[0.2, 0.2],
                                   stress_random_matrix=term(kind="flat", weight=1.0, seed=1))
    with pytest.raises(ValueError, match=r"random_matrix.kind must be one of 'goe', 'flat', "):
        mb.Realisation.from_arrays(n_tls=2, random_matrix=term(kind="eth", weight=1.0, seed=1))


def test_the_realisation_constructor_validates_as_from_arrays_does():
    """Realisation(...) directly took a NaN asymmetry and solve gave finite energies."""
    from types import MappingProxyType
    with pytest.raises(ValueError, match=r"asymmetry must contain only finite.*nan"):
        mb.Realisation(n_tls=1, asymmetry=np.array([np.nan]), tunnelling=np.array([0.1]),
                       couplings=MappingProxyType({}), deformation_potential=np.array([1.0]))
    with pytest.raises(ValueError, match=r"n_tls=2 does not match len\(asymmetry\)=1"):
        mb.Realisation(n_tls=2, asymmetry=np.array([0.1]), tunnelling=np.array([0.1]),
                       couplings={}, deformation_potential=np.ones(2))
    real = mb.Realisation(n_tls=1, asymmetry=[0.1], tunnelling=[0.2], couplings={},
                          deformation_potential=[1.0])
    assert isinstance(real.asymmetry, np.ndarray) and not real.asymmetry.flags.writeable
    assert isinstance(real.couplings, MappingProxyType)
    np.testing.assert_array_equal(mb.solve(real)[0].energies, mb.solve(
        mb.Realisation.from_arrays(asymmetry=[0.1], tunnelling=[0.2]))[0].energies)


def test_a_realisation_without_hamiltonian_is_refused():
    """n_tls alone (or zero couplings only) gave H = 0, every level degenerate."""
    with pytest.raises(ValueError, match=r"no Hamiltonian \(H = 0\)"):
        mb.Realisation.from_arrays(n_tls=2)
    with pytest.raises(ValueError, match=r"no Hamiltonian"):
        mb.Realisation.from_arrays(n_tls=2, couplings={"zz": np.zeros((2, 2))})
    coupled = mb.Realisation.from_arrays(n_tls=2, couplings={"zz": np.array([[0, 1.0], [1.0, 0]])})
    np.testing.assert_allclose(mb.solve(coupled)[0].energies, [-1, -1, 1, 1])


def test_absorption_of_a_model_without_stress_warns():
    """stress.distribution = 'none' and nothing else: T = 0, Q = 0 without a word in the API."""
    params = mb.ModelParams(n_tls=3, stress=mb.StressParams(distribution="none"))
    spectrum, stress = mb.solve(mb.draw_realisation(params, mb.realisation_rng(0, 0)))
    for function, words in ((mb.absorption, "absorption"), (mb.velocity_shift, "velocity shift")):
        with pytest.warns(UserWarning, match=rf"stress_elements are all 0.*the {words} is exactly"):
            assert not np.any(function(spectrum, stress, [0.05], [0.05]))


@pytest.mark.parametrize("args, error, words", [
    ((-3,), ValueError, r"n_tls must be an integer between 1 and 30"),
    ((10, "float16"), ValueError, r"dtype must be one of 'float64', 'float32'.*float16"),
    ((10.5,), TypeError, r"n_tls must be an integer"),
    ((10, "float64", False, -1), ValueError, r"n_temperatures"),
])
def test_estimate_memory_checks_its_arguments(args, error, words):
    with pytest.raises(error, match=words):
        mb.estimate_memory(*args)
    assert abs(mb.estimate_memory(10, "float32") * 2 - mb.estimate_memory(10, "float64")) <= 2


def test_the_second_round_of_core_api_holes():
    """Zero TLS arrays or a block of weight 0 gave H = 0; a weight of 1e300 gave T_mn ~ 6e299;
    estimate_memory sized random_matrix='no' as True and refused np.float32; zero stress in the
    relaxation functions was silent (a tester, session 34)."""
    with pytest.raises(ValueError, match=r"no Hamiltonian \(H = 0\)"):
        mb.Realisation.from_arrays(asymmetry=[0, 0, 0], tunnelling=[0, 0, 0])
    with pytest.raises(ValueError, match=r"no Hamiltonian \(H = 0\)"):
        mb.Realisation.from_arrays(n_tls=2, random_matrix=mb.RandomMatrixTerm(
            kind="goe", weight=0.0, seed=1))
    with pytest.raises(ValueError, match=r"model has no Hamiltonian: random_matrix.weight = 0"):
        mb.ModelParams(n_tls=3, tls=None, random_matrix=mb.RandomMatrixParams(weight=0.0))
    with pytest.raises(ValueError, match=r"RandomMatrixTerm.weight must lie below 1e\+100"):
        mb.RandomMatrixTerm(kind="goe", weight=1e300, seed=1)
    with pytest.raises(TypeError, match=r"random_matrix must be True or False, got 'no'"):
        mb.estimate_memory(10, random_matrix="no")
    assert mb.estimate_memory(10, np.float32) == mb.estimate_memory(10, "float32")
    spectrum, stress = mb.solve(mb.Realisation.from_arrays(asymmetry=[0.03], tunnelling=[0.04]))
    for function in (mb.relaxation_absorption, mb.relaxation_velocity_shift):
        with pytest.warns(UserWarning, match=r"stress_elements are all 0.*relaxation"):
            function(spectrum, 0 * stress, [1e-6], [0.05], 4.9e7)
