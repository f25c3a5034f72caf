"""Argument faults of public functions found by a break test (bt193): each wrong call raises
one exception of the right type with a one-line message naming the parameter, before any work;
the right calls still work."""

from __future__ import annotations

import numpy as np
import pytest

from manybody.laws import analysis as AN
from manybody.laws.saturation import fit_saturation, fit_saturation_joint
from manybody.laws.saturation_comparison import compare_exponent, per_curve_exponents
from manybody.runs import checkpoint as CP
from manybody.runs import spec as RS
from manybody.simulation import random_matrices as R
from manybody.study import normalised_curves as NC
from manybody.study import saturation_table as ST

P = np.geomspace(1e-3, 1e3, 15)
LOSS = 1e-4 / np.sqrt(1 + P) + 1e-6
CURVES = [(P, LOSS), (P, 2 * LOSS)]


def rng():
    return np.random.default_rng(0)


CASES = [
    # 1. random matrices
    ("statistics GOE", lambda: R.prescribed_levels("flat", 6, 1.0, rng(), statistics="GOE"),
     ValueError, "statistics"),
    ("density Flat", lambda: R.prescribed_levels("Flat", 6, 1.0, rng(), growth_temperature=0.5),
     ValueError, "density"),
    ("density goe", lambda: R.prescribed_levels("goe", 8, 1.0, rng()), ValueError, "density"),
    ("negative bandwidth", lambda: R.prescribed_levels("flat", 6, -1.0, rng()), ValueError,
     "bandwidth"),
    ("exponential without T_s", lambda: R.prescribed_levels("exponential", 6, 1.0, rng()),
     ValueError, "growth_temperature"),
    ("dim string", lambda: R.prescribed_levels("flat", "8", 1.0, rng()), TypeError, "dim"),
    ("statistics number", lambda: R.prescribed_levels("flat", 6, 1.0, rng(), statistics=1),
     TypeError, "statistics"),
    ("goe rng None", lambda: R.goe(4, None), TypeError, "rng"),
    ("haar rng None", lambda: R.haar_orthogonal(4, None), TypeError, "rng"),
    ("goe_levels rng int", lambda: R.goe_levels(4, 0), TypeError, "rng"),
    ("goe dim 0", lambda: R.goe(0, rng()), ValueError, "dim"),
    ("goe dim None", lambda: R.goe(None, rng()), TypeError, "dim"),
    ("goe dim array", lambda: R.goe(np.ones(1000), rng()), TypeError, "dim"),
    ("goe_levels dim 0", lambda: R.goe_levels(0, rng()), ValueError, "dim"),
    ("eth energy_scale nan", lambda: R.eth_matrix(np.linspace(0, 1, 6), np.nan, rng()),
     ValueError, "energy_scale"),
    ("eth energy_scale str", lambda: R.eth_matrix(np.linspace(0, 1, 6), "0.1", rng()),
     TypeError, "energy_scale"),
    ("eth levels None", lambda: R.eth_matrix(None, 0.1, rng()), TypeError, "levels"),
    ("eth levels 2-d", lambda: R.eth_matrix(np.ones((2, 3)), 0.1, rng()), ValueError, "levels"),
    ("semicircle bool", lambda: R.semicircle_cdf(True), TypeError, "energy"),
    ("semicircle str", lambda: R.semicircle_cdf("1.0"), TypeError, "energy"),
    # 2. per_curve_exponents
    ("per-curve reference_beta", lambda: per_curve_exponents(CURVES, ["a", "b"], reference_beta=-1),
     ValueError, "reference_beta"),
    ("per-curve scale", lambda: per_curve_exponents(CURVES, ["a", "b"], scale="dbm"), ValueError,
     "scale"),
    ("per-curve error_model", lambda: per_curve_exponents(CURVES, ["a", "b"], error_model="abs"),
     ValueError, "error_model"),
    ("per-curve background", lambda: per_curve_exponents(CURVES, ["a", "b"], background="no"),
     TypeError, "background"),
    ("per-curve unknown keyword", lambda: per_curve_exponents(CURVES, ["a", "b"], scal="dB"),
     TypeError, "per_curve_exponents"),
    ("per-curve curves None", lambda: per_curve_exponents(None, ["a", "b"]), TypeError, "curves"),
    ("per-curve labels None", lambda: per_curve_exponents(CURVES, None), TypeError, "labels"),
    ("per-curve labels 0", lambda: per_curve_exponents(CURVES, 0), TypeError, "labels"),
    ("per-curve labels short", lambda: per_curve_exponents(CURVES, ["a"]), ValueError, "labels"),
    ("per-curve labels str", lambda: per_curve_exponents(CURVES, "ab"), TypeError, "labels"),
    ("per-curve labels ints", lambda: per_curve_exponents(CURVES, [1, 2]), TypeError, "labels"),
    # 3. labels of the joint fits
    ("joint labels str", lambda: fit_saturation_joint(CURVES, labels="ab"), TypeError, "labels"),
    ("joint labels ints", lambda: fit_saturation_joint(CURVES, labels=[1, 2]), TypeError, "labels"),
    ("joint labels None items", lambda: fit_saturation_joint(CURVES, labels=[None, None]),
     TypeError, "labels"),
    ("joint labels dict", lambda: fit_saturation_joint(CURVES, labels={"a": 1, "b": 2}),
     TypeError, "labels"),
    ("joint labels bool", lambda: fit_saturation_joint(CURVES, labels=True), TypeError, "labels"),
    ("joint labels 0", lambda: fit_saturation_joint(CURVES, labels=0), TypeError, "labels"),
    ("compare labels str", lambda: compare_exponent(CURVES, labels="ab"), TypeError, "labels"),
    # 4. sigma of fit_saturation: wrong shapes still refused
    ("sigma wrong shape", lambda: fit_saturation(P, LOSS, sigma=np.ones(3)), ValueError, "sigma"),
    # 5. normalised curves
    ("reference -1", lambda: NC.difference_of_means(np.ones((2, 3)), -1), ValueError, "reference"),
    ("reference 5", lambda: NC.difference_of_means(np.ones((2, 3)), 5), ValueError, "reference"),
    ("reference str", lambda: NC.difference_of_means(np.ones((2, 3)), "0"), TypeError,
     "reference"),
    ("reference float", lambda: NC.difference_of_means(np.ones((2, 3)), 0.0), TypeError,
     "reference"),
    ("reference bool", lambda: NC.difference_of_means(np.ones((2, 3)), True), TypeError,
     "reference"),
    ("samples None", lambda: NC.difference_of_means(None, 0), TypeError, "samples"),
    ("ratio shapes", lambda: NC.ratio_of_means(np.ones((3, 4)), 2 * np.ones((3, 5))), ValueError,
     "denominator"),
    ("ratio strings", lambda: NC.ratio_of_means("a", "b"), TypeError, "numerator"),
    # 6. saturation table
    ("rows of a path", lambda: ST.saturation_rows("out.nc", "x", str), TypeError, "ds"),
    ("rows of None", lambda: ST.saturation_rows(None, "x", None), TypeError, "ds"),
    ("model_name None", lambda: ST.model_name(None), TypeError, "model"),
    ("model_name str", lambda: ST.model_name("tls"), TypeError, "model"),
    ("table None", lambda: ST.format_saturation_table(None), TypeError, "rows"),
    ("table str", lambda: ST.format_saturation_table("rows"), TypeError, "rows"),
    # 7. run specification helpers
    ("grid nan", lambda: RS.temperature_grid(np.nan, 0.1, 10, 5), ValueError, "frequency"),
    ("grid None", lambda: RS.temperature_grid(None, 0.1, 10, 5), TypeError, "frequency"),
    ("grid str", lambda: RS.temperature_grid("5GHz", 0.1, 10, 5), TypeError, "frequency"),
    ("axis_name None", lambda: RS.axis_name(None), TypeError, "key"),
    ("axis_name 1", lambda: RS.axis_name(1), TypeError, "key"),
    ("axis_units None", lambda: RS.axis_units(None), TypeError, "key"),
    ("checkpoint None", lambda: CP.checkpoint_dir(None), TypeError, "output"),
    # 8. small-sample helpers
    ("factor str", lambda: AN.small_sample_factor("1.0"), TypeError, "n_realisations"),
    ("factor bool", lambda: AN.small_sample_factor(True), TypeError, "n_realisations"),
    ("factor inf", lambda: AN.small_sample_factor(np.inf), ValueError, "n_realisations"),
    ("factor None", lambda: AN.small_sample_factor(None), TypeError, "n_realisations"),
    ("factor array", lambda: AN.small_sample_factor(np.ones(1000)), TypeError, "n_realisations"),
    ("factor bootstrap str", lambda: AN.small_sample_factor(5, bootstrap="no"), TypeError,
     "bootstrap"),
    ("factor bootstrap None", lambda: AN.small_sample_factor(5, bootstrap=None), TypeError,
     "bootstrap"),
    ("n_eff None", lambda: AN.effective_realisations(None), TypeError, "q"),
    ("n_eff str", lambda: AN.effective_realisations("1.0"), TypeError, "q"),
    ("n_eff bool", lambda: AN.effective_realisations(True), TypeError, "q"),
    ("n_eff nan", lambda: AN.effective_realisations(np.nan), ValueError, "q"),
    ("n_eff dict", lambda: AN.effective_realisations({"a": 1}), TypeError, "q"),
]


@pytest.mark.parametrize(("call", "kind", "name"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_wrong_argument_is_refused_in_one_line_naming_it(call, kind, name):
    with pytest.raises(kind) as info:
        call()
    message = str(info.value)
    assert type(info.value) is kind
    assert name in message
    assert "\n" not in message


def test_prescribed_levels_with_the_names_the_package_uses():
    for statistics in R.STATISTICS:
        flat = R.prescribed_levels("flat", 16, 0.5, rng(), growth_temperature=1.0,
                                   statistics=statistics)
        assert flat.shape == (16,) and np.all((flat >= 0) & (flat <= 0.5))
        exp = R.prescribed_levels("exponential", 16, 0.1, rng(), growth_temperature=0.02,
                                  statistics=statistics)
        assert np.all(np.diff(exp) >= 0) and exp.max() <= 0.1 + 1e-12
    assert R.goe(4, rng(), dtype=np.float32).dtype == np.float32
    assert R.goe_levels(5, rng()).shape == (5,)
    assert R.eth_matrix(np.linspace(0, 1, 5), 0.2, rng()).shape == (5, 5)
    assert R.semicircle_cdf(np.array([-2.0, 0.0, 2.0])).tolist() == pytest.approx([0, 0.5, 1])


def test_the_random_block_of_a_model_still_draws():
    from manybody.simulation.ensembles import RandomMatrixTerm
    from manybody.simulation.operators import random_block

    for kind in ("flat", "exponential"):
        for statistics in ("goe", "poisson"):
            term = RandomMatrixTerm(kind=kind, weight=0.2, seed=3, growth_temperature=0.05,
                                    level_statistics=statistics)
            levels, vectors = random_block(term, 8)
            assert levels.shape == (8,) and vectors.shape == (8, 8)


def test_right_calls_still_work():
    per = per_curve_exponents(CURVES, ("a", "b"))
    assert len(per) == 2 and all(hasattr(p, "free") for p in per)
    assert fit_saturation_joint(CURVES, labels=["a", "b"]).labels == ("a", "b")
    assert fit_saturation_joint(CURVES).labels == ("0", "1")
    assert compare_exponent(CURVES, labels=("a", "b")).free.labels == ("a", "b")
    diff, err = NC.difference_of_means(np.arange(6.0).reshape(2, 3), np.int64(1))
    assert diff.tolist() == [-1.0, 0.0, 1.0]
    ratio, _ = NC.ratio_of_means(np.ones((3, 4)), np.full(3, 2.0))
    assert ratio.tolist() == [0.5] * 4
    assert RS.axis_name("model.coupling.strength") == "coupling_strength"
    assert isinstance(RS.axis_units("model.n_tls"), str)
    assert len(RS.temperature_grid(np.float32(0.25), 0.1, 10, 5)) == 5
    assert CP.checkpoint_dir("out.nc").name == "out.nc.checkpoint"
    assert AN.small_sample_factor(np.int64(5), bootstrap=np.bool_(False)) > 1
    assert AN.small_sample_factor(2.5) > 1 and AN.small_sample_factor(1) == np.inf
    assert AN.effective_realisations(np.ones((4, 3))) == pytest.approx(4.0)
    assert ST.format_saturation_table([]).count("\n") == 1


def test_fit_saturation_takes_one_number_as_every_sigma():
    one = fit_saturation(P, LOSS, sigma=1e-6)
    full = fit_saturation(P, LOSS, sigma=np.full(P.shape, 1e-6))
    assert one.parameters == pytest.approx(full.parameters)


def test_a_zero_mean_denominator_gives_inf_not_an_error():
    """The study's figures normalise by a temperature's mean absorption: a model without
    absorption there gets a gap (inf/NaN), not an error that stops every figure."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ratio, error = NC.ratio_of_means(np.ones((3, 4)), np.zeros((3, 4)))
    assert np.all(np.isinf(ratio)) and np.all(np.isnan(error))
