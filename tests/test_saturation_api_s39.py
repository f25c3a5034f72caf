"""The saturation API does what its docstrings say (session 39: analyse_saturation took a 1-d
curve its docstring refuses; compare_exponent((power, loss)) said "shapes () and ()", a string
crashed with IndexError, and a misspelt keyword named the internal fit_saturation_joint)."""

import numpy as np
import pytest

import manybody as mb
from manybody.laws.saturation import fit_saturation_joint

P = np.geomspace(0.01, 100, 12)
L = 2e-6 / np.sqrt(1 + P / 0.5) + 1e-7


def test_analyse_saturation_refuses_a_1d_curve_as_documented():
    with pytest.raises(ValueError, match=r"loss_realisations must have shape \(n_realisations, "
                                         r"12\).*got \(12,\); one curve is loss\[None, :\]"):
        mb.analyse_saturation(P, L)
    fit = mb.analyse_saturation(P, L[None, :])  # the documented way: errors from the covariance
    assert fit.beta == pytest.approx(0.5, abs=1e-6) and fit.error_source == "covariance"


@pytest.mark.parametrize("function", [mb.compare_exponent, fit_saturation_joint])
@pytest.mark.parametrize(("curves", "word"), [
    ((P, L), r"2 arrays of numbers, one curve's \(power, loss\) without the outer list: pass "
             r"\[\(power, loss\)\]"),
    ([P, L, L], r"one curve's \(power, loss, sigma\) without the outer list"),
    ("p,L", r"curves must be a list of .*got str"),
    ({"power": P, "loss": L}, r"got dict"),
    ([(P, L, L, L)], r"curves\[0\] must be a \(power, loss\) or \(power, loss, sigma\) tuple, "
                     r"got 4 item"),
])
def test_curves_of_the_wrong_form_are_named(function, curves, word):
    with pytest.raises(TypeError, match=word):
        function(curves)


def test_one_curve_in_a_list_still_fits():
    assert mb.compare_exponent([(P, L)]).free.parameters["beta"] == pytest.approx(0.5, abs=1e-6)
    assert mb.compare_exponent([(list(P), list(L))]).preferred == "fixed"


@pytest.mark.parametrize(("function", "args"), [(mb.compare_exponent, ([(P, L)],)),
                                                (mb.analyse_saturation, (P, L[None, :]))])
def test_a_misspelt_keyword_names_the_function_called(function, args):
    name = function.__name__
    with pytest.raises(TypeError, match=rf"^{name}\(\) got unexpected keyword argument\(s\) "
                                        r"'backgroud'; its options are background, scale"):
        function(*args, backgroud=True)
